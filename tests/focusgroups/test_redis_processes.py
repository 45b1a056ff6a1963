"""Two ASGI processes sharing the Redis channel layer: an edit saved through a socket on one process reaches a
socket on the other.

The test starts its own redis-server (Debian's package; ``.ci/ensure-system-packages`` installs it) on a free
loopback port, migrates and seeds a throwaway SQLite database, signs two members in, and runs two uvicorn
processes on the project's own settings with ``REDIS_URL`` pointing at that server. Skipped, with the
reason, where redis-server is missing or will not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]

SEED = """
import json
from django.test import Client
from focusgroups.models import GroupMembership
from organisations.models import PlatformRole
from tests.factories import OrganisationFactory, ProgrammeFactory, make_member
from tests.factories.focusgroups import FocusGroupFactory, make_group_member, make_note

programme = ProgrammeFactory(name="Malmö", slug="malmo")
org_a = OrganisationFactory(name="Migrationsverket", short_name="MV", programmes=[programme])
org_b = OrganisationFactory(name="Malmö stad", short_name="MS", programmes=[programme])
anna = make_member(programme, org_a, PlatformRole.STAFF, user__first_name="Anna", user__last_name="Berg")
omar = make_member(programme, org_b, PlatformRole.STAFF, user__first_name="Omar", user__last_name="Said")
group = FocusGroupFactory(programme=programme, code="info", name="Informationsflödet")
make_group_member(group, anna, GroupMembership.Role.MEMBER)
make_group_member(group, omar, GroupMembership.Role.MEMBER)
note = make_note(group, title="Rutin", body="Rad ett.")
cookies = []
for person in (anna, omar):
    client = Client()
    client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")
    cookies.append(client.cookies["sessionid"].value)
print(json.dumps({"group": group.pk, "note": note.pk, "cookies": cookies}))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[Any], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on port {port} within {seconds} s")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip(
            "redis-server is not installed (apt-get install redis-server; .ci/ensure-system-packages)"
        )
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 (a fixed local binary and arguments)
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        try:
            _wait_for_port(port, process, "redis-server", seconds=15)
        except RuntimeError as exc:
            pytest.skip(f"redis-server could not be started: {exc}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def environment(tmp_path: Path, redis_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PYTEST_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="coordinator.settings",
        DEBUG="1",
        SECRET_KEY="two-process-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"sqlite:///{tmp_path / 'two-processes.sqlite3'}",
        VAR_DIR=str(tmp_path),
        REDIS_URL=redis_url,
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603 (our own interpreter and scripts)
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@contextlib.contextmanager
def uvicorn_sites(environment: dict[str, str], count: int = 2) -> Iterator[list[int]]:
    """``count`` uvicorn processes of the platform on free loopback ports, each the site at its own
    address (a socket opens only from the site's own origins); stopped on leaving."""
    ports = [_free_port() for _ in range(count)]
    environment["CSRF_TRUSTED_ORIGINS"] = ",".join(f"http://127.0.0.1:{port}" for port in ports)
    command = [sys.executable, "-m", "uvicorn", "coordinator.asgi:application", "--host", "127.0.0.1"]
    processes = [
        subprocess.Popen(  # noqa: S603 (our own interpreter and application)
            [*command, "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=environment
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            _wait_for_port(port, process, f"uvicorn on {port}")
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture
def servers(environment: dict[str, str]) -> Iterator[tuple[list[int], dict[str, Any]]]:
    _run(["manage.py", "migrate", "--noinput", "-v", "0"], environment)
    seeded = json.loads(
        _run(["-c", f"import django; django.setup()\n{SEED}"], environment).strip().splitlines()[-1]
    )
    with uvicorn_sites(environment) as ports:
        yield ports, seeded


async def _receive(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        if message["type"] == kind:
            return message  # type: ignore[no-any-return]


async def _exchange(ports: list[int], seeded: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    import websockets

    def connect(port: int, cookie: str) -> Any:
        return websockets.connect(
            f"ws://127.0.0.1:{port}/ws/focusgroups/{seeded['group']}/notes/",
            additional_headers={"Cookie": f"sessionid={cookie}", "Origin": f"http://127.0.0.1:{port}"},
        )

    async with (
        connect(ports[0], seeded["cookies"][0]) as anna,
        connect(ports[1], seeded["cookies"][1]) as omar,
    ):
        await _receive(anna, "hello")
        await _receive(omar, "hello")
        # Anna (process 1) sees Omar (process 2) arrive: presence crosses processes too.
        while True:
            presence = await _receive(anna, "presence")
            names = [p["name"] for p in presence["presence"]]
            if names == ["Anna Berg", "Omar Said"]:
                break
        await anna.send(
            json.dumps(
                {"type": "save", "note": seeded["note"], "base_version": 1, "body": "Från process ett"}
            )
        )
        return await _receive(omar, "saved"), names


def test_edit_on_one_process_reaches_a_socket_on_the_other(servers):
    ports, seeded = servers
    saved, names = asyncio.run(_exchange(ports, seeded))
    assert names == ["Anna Berg", "Omar Said"]
    assert (saved["note"], saved["version"], saved["body"], saved["author"]) == (
        seeded["note"],
        2,
        "Från process ett",
        "Anna Berg",
    )
