"""The production shape on PostgreSQL and Redis: two server processes and task workers, started by the test.

- A booking made on one process is seen on the other; the booking's notification, pushed by the task
  worker, reaches the person's socket on the other process (over Redis); its mail reaches the SMTP server.
- A worker killed (SIGKILL) in the middle of a burst of enrolments loses nothing: every accepted enrolment
  exists exactly once, and every mail is sent exactly once or is still queued (a second worker takes over
  the dead one's task).
- A worker killed in the middle of a mail batch: the same for the batch.

Runs in ``make test-postgres`` (the test database is the throwaway server's); skipped, with the reason, on
SQLite or where redis-server cannot start.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from django.db import connection
from django.test import Client
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from rest_framework.authtoken.models import Token

from coordinator.core.models import OutboundEmail
from coordinator.core.tenancy import unscoped
from organisations.models import PlatformRole
from seminars.models import Enrolment
from tests.factories import make_member
from tests.factories.seminars import CourseFactory, RoundFactory, SessionFactory
from tests.focusgroups.test_redis_processes import redis_url, uvicorn_sites  # noqa: F401
from tests.support import queue

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 40


def _database_url() -> str:
    """The test database (the one this test writes to) as the server processes reach it."""
    params = connection.settings_dict
    host = quote(params["HOST"] or "localhost", safe="")
    port = f":{params['PORT']}" if params.get("PORT") else ""
    password = f":{quote(params['PASSWORD'], safe='')}" if params.get("PASSWORD") else ""
    return (
        f"postgres://{quote(params['USER'] or 'postgres', safe='')}{password}@{host}{port}/{params['NAME']}"
    )


@pytest.fixture
def sink() -> Iterator[queue.SmtpSink]:
    yield from queue.smtp_sink()


@pytest.fixture
def environment(
    postgres_only: None,
    tmp_path: Path,
    redis_url: str,  # noqa: F811 (the fixture imported above)
    sink: queue.SmtpSink,
    settings: Any,
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PYTEST_", "TASKS_", "EMAIL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="coordinator.settings",
        DEBUG="1",
        # The same key as this process, so that the sessions it signs in are valid there.
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=_database_url(),
        VAR_DIR=str(tmp_path),
        REDIS_URL=redis_url,
        TASKS_BACKEND="database",
        TASKS_HEARTBEAT_SECONDS="0.3",
        TASKS_WORKER_TIMEOUT_SECONDS="1.5",
        OUTBOX_BATCH_SIZE="10",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=sink.host,
        EMAIL_PORT=str(sink.port),
        LOG_LEVEL="ERROR",
    )
    settings.TASKS = queue.DATABASE_QUEUE  # what this process queues, the workers run
    return env


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
        [
            sys.executable,
            "manage.py",
            "task_worker",
            "--queue-name",
            "*",
            "--interval",
            "0.1",
            "--no-startup-delay",
            "-v",
            "0",
        ],
        cwd=ROOT,
        env=env,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def start_worker(environment: dict[str, str]) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = _start_worker(environment)
        started.append(process)
        return process

    yield start
    for process in started:
        _stop(process)


@pytest.fixture
def servers(environment: dict[str, str]) -> Iterator[list[int]]:
    with uvicorn_sites(environment) as ports:
        yield ports


def _wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def _queue_empty() -> bool:
    # Periodic jobs always have their next run waiting; the work under test does not wait for later.
    waiting = DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
    return not waiting.exclude(task_path="coordinator.core.jobs.run_periodic_job").exists()


def _session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return str(client.cookies["sessionid"].value)


@pytest.fixture
def round_and_people(programme, org_a, org_b) -> tuple[Any, list[Any]]:
    course = CourseFactory(programme=programme, title="Trauma och bemötande")
    round_ = RoundFactory(course=course, capacity=25)
    SessionFactory(round=round_)
    people = [
        make_member(
            programme, org_a if i % 2 else org_b, PlatformRole.STAFF, user__email=f"person{i}@example.org"
        )
        for i in range(PEOPLE)
    ]
    return round_, people


def _enrol(port: int, token: str, round_id: int) -> int:
    response = requests.post(
        f"http://127.0.0.1:{port}/api/v1/seminars/enrolments/",
        json={"round": round_id},
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )
    return response.status_code


async def _notification_on(port: int, cookie: str, act: Callable[[], int]) -> tuple[int, dict[str, Any]]:
    import websockets

    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ws/notifications/",
        additional_headers={"Cookie": f"sessionid={cookie}", "Origin": f"http://127.0.0.1:{port}"},
    ) as socket:
        status = await asyncio.to_thread(act)
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=20))
    return status, message


def _assert_mail_sent_once_or_queued(sink: queue.SmtpSink) -> None:
    received = sink.count_by_message_id()
    assert [message_id for message_id, count in received.items() if count > 1] == []
    with unscoped():
        rows = list(OutboundEmail.unscoped_objects.values_list("pk", "status", "last_error"))
    from coordinator.core.notifications import IN_DOUBT

    for pk, status, last_error in rows:
        count = received.get(f"<outbox-{pk}@samverkan.example>", 0)
        if status == OutboundEmail.Status.SENT:
            assert count == 1, (pk, status)
        elif status == OutboundEmail.Status.PENDING:
            assert count == 0, (pk, status)  # still queued, never handed over
        else:  # the one message a killed sender was handing over: delivered at most once, and reported
            assert status in (OutboundEmail.Status.SENDING, OutboundEmail.Status.FAILED), (pk, status)
            assert last_error in ("", IN_DOUBT)
            assert count <= 1


def test_two_processes_and_a_worker_share_bookings_sockets_and_tasks(
    servers, start_worker, round_and_people, sink
):
    round_, people = round_and_people
    first, second = people[0], people[1]
    worker = start_worker()
    token = Token.objects.create(user=first.user).key

    # Booked on process 1; the socket of the same person on process 2 hears of it from the task worker.
    status, message = asyncio.run(
        _notification_on(
            servers[1], _session_cookie(first.user), lambda: _enrol(servers[0], token, round_.pk)
        )
    )
    assert status == 201
    assert (message["type"], message["kind"]) == ("notification", "calendar.invite")

    # Process 2 sees the booking made on process 1.
    seen = requests.get(
        f"http://127.0.0.1:{servers[1]}/api/v1/seminars/enrolments/",
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    ).json()
    assert [(row["round"], row["status"]) for row in seen["results"]] == [(round_.pk, "confirmed")]

    # The mail was queued by process 1 and sent by the worker.
    _wait_until(lambda: sink.count_by_address()[first.user.email] == 1, 20, "the invite mail")
    assert worker.poll() is None
    assert second.user.email not in sink.count_by_address()


def test_a_worker_killed_in_a_burst_of_enrolments_loses_and_doubles_nothing(
    servers, start_worker, round_and_people, sink
):
    round_, people = round_and_people
    sink.delay = 0.02  # a mail server that takes a moment: the worker is busy when it is killed
    tokens = [Token.objects.create(user=person.user).key for person in people]
    worker = start_worker()

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(_enrol, servers[i % 2], token, round_.pk) for i, token in enumerate(tokens)]
        _wait_until(lambda: len(sink.received) >= 5, 60, "the first mails")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        statuses = [future.result() for future in futures]
    start_worker()  # takes over the dead worker's task once it is taken for dead
    _wait_until(_queue_empty, 90, "the queue to drain")

    assert statuses == [201] * PEOPLE
    with unscoped():
        enrolled = list(Enrolment.unscoped_objects.filter(round=round_).values_list("person_id", flat=True))
        states = sorted(set(Enrolment.unscoped_objects.filter(round=round_).values_list("status", flat=True)))
    assert sorted(enrolled) == sorted(person.pk for person in people)  # each exactly once
    assert states == ["confirmed", "waiting"]
    _assert_mail_sent_once_or_queued(sink)
    with unscoped():
        sent = OutboundEmail.unscoped_objects.filter(status=OutboundEmail.Status.SENT).count()
    assert sent >= PEOPLE - 1  # everything but at most the message in flight at the kill


def test_a_worker_killed_in_a_mail_batch_sends_nothing_twice(
    start_worker, programme, org_a, sink, environment
):
    from coordinator.core.notifications import notify

    people = [make_member(programme, org_a, user__email=f"batch{i}@example.org") for i in range(60)]
    sink.delay = 0.03
    with unscoped():
        notify(programme=programme, recipients=people, kind="test.kind", title="Välkommen")
        ids = list(OutboundEmail.unscoped_objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) == 60  # queued after the commit as one batch of sixty, sent over one connection
    worker = start_worker()

    _wait_until(lambda: len(sink.received) >= 15, 60, "the first mails of the batch")
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    received_at_kill = len(sink.received)
    start_worker()
    _wait_until(_queue_empty, 90, "the queue to drain")

    assert 15 <= received_at_kill < 60
    _assert_mail_sent_once_or_queued(sink)
    with unscoped():
        sent = OutboundEmail.unscoped_objects.filter(status=OutboundEmail.Status.SENT).count()
        pending = OutboundEmail.unscoped_objects.filter(status=OutboundEmail.Status.PENDING).count()
    assert sent >= 59
    assert pending == 0
