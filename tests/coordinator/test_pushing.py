"""Live pushes from synchronous code run on one event loop per process (``coordinator.core.pushing``)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from coordinator.core import pushing


async def _where() -> tuple[int, str]:
    return id(asyncio.get_running_loop()), threading.current_thread().name


def test_pushes_run_on_one_loop_of_the_process_in_its_own_thread():
    first = pushing.run(_where())
    second = pushing.run(_where())

    assert first == second
    assert first[1] == "live-pushes"


def test_a_forked_process_starts_a_loop_of_its_own(monkeypatch):
    before = pushing.run(_where())
    monkeypatch.setattr(pushing, "_loop_pid", -1)  # as a child sees its parent's loop after a fork

    after = pushing.run(_where())

    assert after[0] != before[0]
    assert pushing.run(_where()) == after


def test_a_failing_push_raises_to_its_caller():
    async def fail() -> None:
        raise RuntimeError("the channel layer is gone")

    with pytest.raises(RuntimeError, match="the channel layer is gone"):
        pushing.run(fail())
