"""Live pushes from synchronous code (a task, a service after its commit) on one event loop per process.

``async_to_sync`` starts an event loop for each call, and a Redis channel layer opens a connection for each
loop it is used from: a task worker paid a loop and a Redis connection for every task that told someone.
Here the process has one loop for its pushes, running in a thread of its own from the first push on, and
the layer keeps its connection on it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import TypeVar

T = TypeVar("T")

# How long a push may take before the sender gives up waiting for it.
TIMEOUT_SECONDS = 10.0

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_lock = threading.Lock()


def _running_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _lock:
        # A forked child inherits the loop but not its thread: it starts its own.
        if _loop is None or _loop.is_closed() or _loop_pid != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-pushes", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def run(coroutine: Coroutine[object, object, T]) -> T:
    """Run ``coroutine`` on the pushes' loop and wait for its result (at most ``TIMEOUT_SECONDS``; raises
    ``TimeoutError`` then, and whatever the coroutine raised)."""
    return asyncio.run_coroutine_threadsafe(coroutine, _running_loop()).result(timeout=TIMEOUT_SECONDS)
