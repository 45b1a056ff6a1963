"""The real server processes, started as production starts them (``python -m coordinator.servers``): no
``Server`` header, and a websocket frame over the limit refused by the server (1009) before the consumer
sees it, by uvicorn and daphne alike.

A throwaway SQLite database is migrated and one member signed in; each test starts its server on a free
loopback port and stops it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from coordinator.core.validators import WEBSOCKET_FRAME_MAX_BYTES, WEBSOCKET_FRAME_MAX_CHARS

ROOT = Path(__file__).resolve().parents[2]

SEED = """
import json
from django.test import Client
from organisations.models import PlatformRole
from tests.factories import OrganisationFactory, ProgrammeFactory, make_member

programme = ProgrammeFactory(name="Malmö", slug="malmo")
organisation = OrganisationFactory(name="Migrationsverket", short_name="MV", programmes=[programme])
anna = make_member(programme, organisation, PlatformRole.STAFF)
client = Client()
client.force_login(anna.user, backend="django.contrib.auth.backends.ModelBackend")
print(json.dumps({"cookie": client.cookies["sessionid"].value}))
"""

START = {
    "gunicorn": ["--bind", "127.0.0.1:{port}", "--workers", "1", "--log-level", "warning"],
    "uvicorn": ["--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning"],
    "daphne": ["-b", "127.0.0.1", "-p", "{port}"],
}


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


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], str]:
    """The environment of a production-like site on a fresh database, and a signed-in member's cookie."""
    folder = tmp_path_factory.mktemp("servers")
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PYTEST_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="coordinator.settings",
        DEBUG="0",
        SECRET_KEY="server-process-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{folder / 'servers.sqlite3'}",
        VAR_DIR=str(folder),
        REDIS_URL="",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
    )
    for script in (
        ["manage.py", "migrate", "--noinput", "-v", "0"],
        ["-c", f"import django; django.setup()\n{SEED}"],
    ):
        result = subprocess.run(  # noqa: S603 (our own interpreter and scripts)
            [sys.executable, *script], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr[-3000:]
    cookie = json.loads(result.stdout.strip().splitlines()[-1])["cookie"]
    return environment, cookie


@pytest.fixture
def serve(site: tuple[dict[str, str], str]) -> Iterator[Callable[[str], int]]:
    """``serve(name)``: starts that server as ``python -m coordinator.servers name`` and returns its port."""
    environment, _cookie = site
    processes: list[subprocess.Popen[Any]] = []

    def start(name: str) -> int:
        port = _free_port()
        options = [option.format(port=port) for option in START[name]]
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "coordinator.servers", name, *options],
            cwd=ROOT,
            env={**environment, "SITE_URL": f"http://127.0.0.1:{port}"},
        )
        processes.append(process)
        _wait_for_port(port, process, name)
        return port

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=15)


@pytest.mark.parametrize("name", ["gunicorn", "uvicorn", "daphne"])
def test_server_sends_no_server_header(serve, name):
    port = serve(name)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:  # noqa: S310
        status, headers = response.status, response.headers
    assert status == 200
    assert headers.get_all("Server") is None


async def _frame_answer(port: int, cookie: str, *frames: str) -> tuple[str, Any]:
    """What the socket does with ``frames``: ("message", the consumer's first answer) or ("closed", the
    code). The notification socket answers only frames it cannot read."""
    import websockets

    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ws/notifications/",
        additional_headers={"Cookie": f"sessionid={cookie}", "Origin": f"http://127.0.0.1:{port}"},
        max_size=None,
    ) as socket_:
        for frame in frames:
            await socket_.send(frame)
        try:
            return "message", json.loads(await asyncio.wait_for(socket_.recv(), timeout=20))
        except websockets.ConnectionClosed as closed:
            return "closed", closed.rcvd.code if closed.rcvd else None


@pytest.mark.parametrize("name", ["uvicorn", "daphne"])
def test_server_refuses_a_frame_over_the_limit_before_the_consumer(serve, site, name):
    port = serve(name)
    _environment, cookie = site
    oversized = asyncio.run(_frame_answer(port, cookie, "x" * (WEBSOCKET_FRAME_MAX_BYTES + 1)))
    # A frame the server lets through but the consumer's own limit refuses: the consumer answers.
    over_consumer_limit = asyncio.run(_frame_answer(port, cookie, "x" * (WEBSOCKET_FRAME_MAX_CHARS + 1)))
    assert oversized == ("closed", 1009)
    assert over_consumer_limit == (
        "message",
        {"type": "error", "code": "invalid", "message": "Message too large."},
    )


@pytest.mark.parametrize("name", ["uvicorn", "daphne"])
def test_server_passes_the_largest_frame_the_consumer_accepts(serve, site, name):
    port = serve(name)
    _environment, cookie = site
    # The consumer's largest frame, in four-byte characters, is within the server's limit: the consumer
    # reads it (and ignores it), then answers the next, unreadable, frame on the same socket.
    largest = '"' + "𝄞" * (WEBSOCKET_FRAME_MAX_CHARS - 2) + '"'
    answer = asyncio.run(_frame_answer(port, cookie, largest, "not json"))
    assert answer == ("message", {"type": "error", "code": "invalid", "message": "Malformed JSON."})
