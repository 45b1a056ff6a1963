"""Slow work on the task queue, run by hand (not part of `make test`)::

    .venv/bin/python bench/tasks.py confirm                      # confirm 5,000 placements: response and mail
    .venv/bin/python bench/tasks.py confirm --request-only       # only the confirmation's own time
    .venv/bin/python bench/tasks.py match --requests 50000       # a 50,000-request match as a task
    .ci/with-postgres .venv/bin/python bench/tasks.py confirm    # the same on a throwaway PostgreSQL

Both store the synthetic programme of `bench/matching.py` (as `bench/matching_db.py` does) in a throwaway
test database and use the database task backend with a worker run in this process.

- ``confirm``: a proposed run of about 5,000 placements is confirmed twice on the same data. Before (the
  baseline, in a transaction rolled back afterwards): the confirmation as it was, telling the 10,000
  hosts and requesters and mailing each over its own SMTP connection inside the request. After: the
  confirmation as it is (the seats booked, the telling queued), then the worker telling them and sending
  the mail in batches over one connection each. The mail goes to a local SMTP server (aiosmtpd).
- ``match``: the match worked out in this process (``matching_run_create``: loading, solving, saving; the
  baseline) and then as the coordinator starts it (the API's POST, timed) with the worker working it out.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("TASKS_BACKEND", "database")

import django  # noqa: E402

django.setup()
# One log line per task would drown the figures.
logging.getLogger("django_tasks").setLevel(logging.WARNING)
logging.getLogger("django_tasks_db").setLevel(logging.WARNING)

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.mail import get_connection  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Value  # noqa: E402
from django.db.models.functions import Concat  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    override_settings,
    setup_databases,
    setup_test_environment,
    teardown_databases,
)
from rest_framework.test import APIClient  # noqa: E402

from bench.matching_db import _store  # noqa: E402
from coordinator.core import notifications  # noqa: E402
from coordinator.core.models import OutboundEmail  # noqa: E402
from coordinator.core.tenancy import programme_scope, unscoped  # noqa: E402
from organisations.permissions import actor_for  # noqa: E402
from shadowing.models import MatchingRun  # noqa: E402
from shadowing.services import matching_runs  # noqa: E402
from tests.support import queue  # noqa: E402

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


class _RolledBack(Exception):
    pass


def _smtp(sink: queue.SmtpSink) -> override_settings:
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=sink.host,
        EMAIL_PORT=sink.port,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
    )


def confirm(requests: int, *, request_only: bool = False) -> None:
    programme, coordinator, _counts = _store(requests, 1, False)
    # Everyone gets mail: the stored people have no address.
    get_user_model().objects.filter(email="").update(email=Concat("username", Value("@example.org")))
    actor = actor_for(coordinator.user)
    with programme_scope([programme.pk]):
        run = matching_runs.matching_run_create(actor=actor, programme=programme)
    print(f"{connection.vendor}: a proposed run of {run.placed:,} placements ({requests:,} requests)")
    for sink in queue.smtp_sink():
        with _smtp(sink):
            if os.environ.get("QUERIES"):
                before, ids = 0.0, []
            # Before: everything inside the request, each message over its own connection.
            t0 = time.perf_counter()
            try:
                if os.environ.get("QUERIES") or request_only:
                    before, ids = 0.0, []
                    raise _RolledBack
                with (
                    transaction.atomic(),
                    override_settings(TASKS=IMMEDIATE),
                    programme_scope([programme.pk]),
                ):
                    matching_runs.matching_run_confirm(actor=actor, run=MatchingRun.objects.get(pk=run.pk))
                    with unscoped():
                        ids = list(OutboundEmail.unscoped_objects.values_list("pk", flat=True))
                    for pk in ids:
                        message = notifications.build_message(
                            OutboundEmail.unscoped_objects.select_related("programme").get(pk=pk)
                        )
                        get_connection(fail_silently=False).send_messages([message])
                    before = time.perf_counter() - t0
                    raise _RolledBack
            except _RolledBack:
                pass
            if not request_only:
                print(
                    f"  before: confirm + tell + mail in the request: {before:.2f} s "
                    f"({len(ids):,} messages, {sink.connections:,} SMTP connections)"
                )
            sink.received.clear()
            sink.connections = 0
            # After: the request books the seats and queues the telling; the worker does the rest.
            with programme_scope([programme.pk]):
                t0 = time.perf_counter()
                if os.environ.get("QUERIES"):
                    import cProfile
                    import pstats

                    from django.test.utils import CaptureQueriesContext

                    profiler = cProfile.Profile()
                    with CaptureQueriesContext(connection) as queries:
                        profiler.runcall(
                            matching_runs.matching_run_confirm,
                            actor=actor,
                            run=MatchingRun.objects.get(pk=run.pk),
                        )
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(18)
                    for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:8]:
                        print(f"  {float(q['time']):7.2f} s  {q['sql'][:300]}")
                else:
                    cpu = time.process_time()
                    matching_runs.matching_run_confirm(actor=actor, run=MatchingRun.objects.get(pk=run.pk))
                    cpu = time.process_time() - cpu
                after = time.perf_counter() - t0
            if os.environ.get("QUERIES"):
                print(f"  confirm: {after:.3f} s, {len(queries.captured_queries)} queries")
                return
            if request_only:
                print(
                    f"  confirm answers in {after:.3f} s (CPU {cpu:.3f} s); "
                    "the telling and the mail are queued"
                )
                return
            t0 = time.perf_counter()
            queue.run_worker()
            drained = time.perf_counter() - t0
            with unscoped():
                sent = OutboundEmail.unscoped_objects.filter(status=OutboundEmail.Status.SENT).count()
            print(
                f"  after: confirm answers in {after:.3f} s (CPU {cpu:.3f} s; {before / after:.0f}x faster); "
                "the worker then "
                f"told everyone and sent {sent:,} messages in {drained:.2f} s over "
                f"{sink.connections:,} SMTP connections (batches of {settings.OUTBOX_BATCH_SIZE})"
            )


def match(requests: int) -> None:
    programme, coordinator, counts = _store(requests, 1, False)
    actor = actor_for(coordinator.user)
    print(f"{connection.vendor}: {counts['requests']:,} approved requests, {counts['slots']:,} slots")
    with programme_scope([programme.pk]):
        t0 = time.perf_counter()
        baseline = matching_runs.matching_run_create(actor=actor, programme=programme)
        in_process = time.perf_counter() - t0
        matching_runs.matching_run_discard(actor=actor, run=baseline)
    print(
        f"  in this process (baseline: loading, solving {baseline.seconds:.2f} s, saving): "
        f"{in_process:.2f} s; "
        f"placed {baseline.placed:,}"
    )
    client = APIClient()
    client.force_authenticate(coordinator.user)
    Client()  # warms the URL resolver and middleware before the timed request
    client.get("/api/v1/shadowing/matching-runs/")
    t0 = time.perf_counter()
    response = client.post("/api/v1/shadowing/matching-runs/", {"programme": programme.pk}, format="json")
    answered = time.perf_counter() - t0
    assert response.status_code == 202, response.content
    t1 = time.perf_counter()
    queue.run_worker()
    worked = time.perf_counter() - t1
    with unscoped():
        run = MatchingRun.unscoped_objects.get(pk=response.json()["id"])
    print(
        f"  as a task: the POST answered {response.json()['status']} in {answered * 1000:.0f} ms; the worker "
        f"made it {run.status} in {worked:.2f} s (solver {run.seconds:.2f} s) = {worked / in_process:.3f}x "
        f"the baseline; placed {run.placed:,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["confirm", "match"])
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument(
        "--request-only",
        action="store_true",
        help="confirm: time only the confirmation (no baseline in the request, no worker afterwards)",
    )
    args = parser.parse_args()
    print("load average (1, 5, 15 min) at the start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        if args.what == "confirm":
            confirm(args.requests or 5000, request_only=args.request_only)
        else:
            match(args.requests or 50000)
    finally:
        teardown_databases(old_config, verbosity=0)
    print("load average (1, 5, 15 min) at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
