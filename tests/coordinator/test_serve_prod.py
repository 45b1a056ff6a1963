"""``make serve-prod``'s pieces, started for real: PostgreSQL and Redis (started here), then
``python -m coordinator.servers prod`` (gunicorn, uvicorn and nginx in front on one port).

HTTP and a websocket answer through the one port; the request id is echoed; the metrics need their token;
and PostgreSQL restarted under load gives clean 503s with a message (never a 500) and recovers by itself.
Skipped, with the reason, where PostgreSQL's server, redis-server or nginx is missing or will not start.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coordinator.production import ROOT, Postgres, free_port, start_redis, wait_for_port

pytestmark = pytest.mark.redis

SECRET_KEY = "serve-prod-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF"
METRICS_TOKEN = "metrics-token-for-the-test"
UNAVAILABLE = "The service is briefly unavailable. Please try again in a moment."

SEED = """
import json
from django.test import Client
from rest_framework.authtoken.models import Token
from organisations.models import PlatformRole
from tests.factories import OrganisationFactory, ProgrammeFactory, WorkRoleFactory, make_member

programme = ProgrammeFactory(name="Malmö", slug="malmo")
org = OrganisationFactory(name="Migrationsverket", short_name="MV", programmes=[programme])
anna = make_member(programme, org, PlatformRole.STAFF, user__first_name="Anna", user__last_name="Berg")
for code in ("handlaggare", "chef", "jurist"):
    WorkRoleFactory(programme=programme, code=code)
client = Client()
client.force_login(anna.user, backend="django.contrib.auth.backends.ModelBackend")
token = Token.objects.create(user=anna.user)
print(json.dumps({"cookie": client.cookies["sessionid"].value, "token": token.key}))
"""


def _get(
    url: str, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (a local server)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    # Not under pytest's own temporary folder: that one is private to root, and the server runs as nobody.
    folder = Path(tempfile.mkdtemp(prefix="samverkan-test-pg-"))
    folder.chmod(0o755)
    try:
        server = Postgres(folder / "postgres")
        server.init()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"PostgreSQL could not be started: {exc}")
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        url, process = start_redis(tmp_path_factory.mktemp("redis"))
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"redis-server could not be started: {exc}")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def stack(
    postgres: Postgres, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/ensure-system-packages)")
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PYTEST_"))
    }
    env.update(
        DATABASE_URL=postgres.url,
        REDIS_URL=redis_url,
        SECRET_KEY=SECRET_KEY,
        METRICS_TOKEN=METRICS_TOKEN,
        VAR_DIR=str(tmp_path_factory.mktemp("var")),
        LANGUAGE_CODE="en",
        LOG_LEVEL="WARNING",
        DB_POOL_TIMEOUT="2",
    )
    process = subprocess.Popen(  # noqa: S603 (this project's own command)
        [sys.executable, "-m", "coordinator.servers", "prod", "--port", str(port)]
        + ["--web-workers", "2", "--socket-workers", "1", "--task-workers", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, "serve-prod", seconds=600)
        seed_env = {**env, "DJANGO_SETTINGS_MODULE": "coordinator.settings", "DEBUG": "0"}
        seeded = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", SEED],
            cwd=ROOT,
            env={**seed_env, "ALLOWED_HOSTS": "testserver", "SECURE_SSL_REDIRECT": "0"},
            check=True,
            capture_output=True,
            text=True,
        )
        yield {"port": port, **json.loads(seeded.stdout.strip().splitlines()[-1])}
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_http_answers_through_the_one_port_with_a_request_id(stack):
    base = f"http://127.0.0.1:{stack['port']}"
    given = "0f5e7cbb3b8c4d0e9f1a2b3c4d5e6f70"

    live = _get(f"{base}/healthz", {"X-Request-ID": given})
    ready = _get(f"{base}/readyz")
    roles = _get(f"{base}/api/v1/work-roles/", {"Authorization": f"Token {stack['token']}"})

    assert (live[0], live[2], live[1]["X-Request-ID"]) == (200, b"ok", given)
    assert live[1]["Server"] == "nginx"  # no version (server_tokens off); the app servers send none
    body = json.loads(ready[2])
    assert (ready[0], body["ready"], body["checks"]["database"], body["checks"]["redis"]) == (
        200,
        True,
        "ok",
        "ok",
    )
    assert roles[0] == 200
    assert sorted(role["code"] for role in json.loads(roles[2])["results"]) == [
        "chef",
        "handlaggare",
        "jurist",
    ]
    assert len(roles[1]["X-Request-ID"]) == 32


def test_a_websocket_opens_through_the_one_port_and_is_counted_in_the_metrics(stack):
    from websockets.sync.client import connect

    base = f"127.0.0.1:{stack['port']}"
    headers = {"Cookie": f"sessionid={stack['cookie']}", "Origin": f"http://{base}"}

    refused = _get(f"http://{base}/metrics", {"Authorization": "Bearer wrong"})
    with connect(f"ws://{base}/ws/notifications/", additional_headers=headers, open_timeout=30) as socket:
        socket.ping().wait(10)
        scraped = _get(f"http://{base}/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert refused[0] == 401
    assert scraped[0] == 200
    lines = scraped[2].decode().splitlines()
    assert "samverkan_websocket_connections 1.0" in lines
    assert any(
        line.startswith("django_http_requests_latency_seconds_by_view_method_bucket") for line in lines
    )


def test_a_database_restart_under_load_answers_503_with_a_message_and_recovers(stack, postgres):
    url = f"http://127.0.0.1:{stack['port']}/api/v1/work-roles/"
    headers = {"Authorization": f"Token {stack['token']}"}
    answers: list[tuple[float, int, bytes]] = []
    stop = threading.Event()

    def load() -> None:
        deadline = time.monotonic() + 120  # bounded whatever happens
        while not stop.is_set() and time.monotonic() < deadline:
            status, _, body = _get(url, headers)
            answers.append((time.monotonic(), status, body))

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(2)
    postgres.stop("fast")
    time.sleep(4)
    postgres.start()
    restarted = time.monotonic()
    # Recovery needs no manual step: the pools reconnect on their own. Recovered means the last 20
    # answers were all 200 (on a busy machine some workers reconnect later than others).
    deadline = restarted + 60

    def recovered() -> bool:
        since = [status for at, status, _ in list(answers) if at > restarted + 1]
        return len(since) >= 20 and set(since[-20:]) == {200}

    while time.monotonic() < deadline and not recovered():
        time.sleep(0.5)
    stop.set()
    for worker in workers:
        worker.join()

    statuses = {status for _, status, _ in answers}
    refusals = [json.loads(body) for _, status, body in answers if status == 503]
    assert statuses == {200, 503}
    assert all(refusal == {"detail": UNAVAILABLE} for refusal in refusals)
    assert answers[-1][1] == 200
