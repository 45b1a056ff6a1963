"""The task worker's loop (``coordinator.core.worker.ClaimingWorker``): several ready tasks claimed in one
transaction and their successes recorded together, a failing task failing alone, a worker killed in a batch
leaving every claimed task to run again (once in effect), and the tasks not started given back to the queue
after the hold time or on a stop."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from coordinator.core import notifications, tasks
from coordinator.core import worker as claiming
from coordinator.core.models import Notification, OutboundEmail, TaskWorker
from coordinator.core.tenancy import unscoped
from coordinator.core.worker import ClaimingWorker
from tests.factories import make_member
from tests.support import queue

pytestmark = pytest.mark.django_db

HERE = "tests.coordinator.test_worker"
STOPPING: list[ClaimingWorker] = []


@task()
def count(n: int) -> int:
    return n


@task()
def unstorable(storable: bool) -> object:
    return 2 if storable else object()


@task()
def tell(programme_id: int, person_id: int, name: str) -> int:
    """Tells one person something once (``notify(once=...)``), as a visit request's notices do."""
    from organisations.models import Person, Programme

    with unscoped(), transaction.atomic():
        programme = Programme.objects.get(pk=programme_id)
        person = Person.unscoped_objects.select_related("user").get(pk=person_id)
        told = notifications.notify(
            programme=programme, recipients=[person], kind="test.kind", title=name, once=f"test.{name}"
        )
        return len(told)


@task()
def tell_and_fail(programme_id: int, person_id: int) -> int:
    """Writes a notice, then fails: its own transaction is rolled back."""
    with transaction.atomic():
        tell.call(programme_id, person_id, "failed")
        raise RuntimeError("the directory did not answer")


@task()
def stop_worker() -> int:
    """A stop signal arriving while a task runs (``Worker.shutdown`` with a task running)."""
    STOPPING[0].running = False
    return 0


def _worker(**options: object) -> ClaimingWorker:
    defaults: dict[str, object] = {
        "queue_names": ["*"],
        "interval": 0,
        "batch": True,
        "backend_name": "default",
        "startup_delay": False,
        "max_tasks": None,
        "worker_id": "test-worker",
        "excluded_queue_names": [],
    }
    return ClaimingWorker(**{**defaults, **options})  # type: ignore[arg-type]


def _run(worker: ClaimingWorker) -> None:
    """Run the worker's loop, keeping the test's connection open (as ``queue.run_worker`` does)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(claiming, "close_old_connections", lambda: None)
        worker.run()


def _rows(ids: list[str]) -> list[tuple[str, object, list[str]]]:
    by_id = {str(row.pk): row for row in DBTaskResult.objects.filter(pk__in=ids)}
    return [(by_id[i].status, by_id[i].return_value, by_id[i].worker_ids) for i in ids]


def test_ready_tasks_are_claimed_together_and_their_results_recorded_together(
    database_queue, django_assert_num_queries
):
    values = [0, 0, 1, 0, 0]
    ids = [str(count.enqueue(n).id) for n in values]

    # One transaction claims all five (the locking SELECT and one UPDATE, in a savepoint here), one UPDATE
    # per distinct result records them, and one SELECT finds the queue empty: 9 statements where the
    # library's worker takes three statements and two transactions per task (17 here).
    with django_assert_num_queries(9):
        queue.run_worker()

    assert _rows(ids) == [(TaskResultStatus.SUCCESSFUL, n, ["test-worker"]) for n in values]
    rows = DBTaskResult.objects.filter(pk__in=ids)
    assert all(row.started_at is not None and row.finished_at >= row.started_at for row in rows)
    assert set(rows.values_list("exception_class_path", "traceback")) == {("", "")}


def test_a_batch_is_no_larger_than_the_setting(database_queue, settings, django_assert_num_queries):
    settings.TASKS_CLAIM_BATCH = 2
    ids = [str(count.enqueue(7).id) for _ in range(5)]

    # Three claims (2 + 2 + 1 tasks) of four statements, three result UPDATEs, one empty claim of three.
    with django_assert_num_queries(18):
        queue.run_worker()

    assert _rows(ids) == [(TaskResultStatus.SUCCESSFUL, 7, ["test-worker"])] * 5


def test_a_failing_task_neither_fails_nor_rolls_back_its_neighbours(
    programme, staff_a, database_queue, smtp_sink, django_capture_on_commit_callbacks
):
    ids = [
        str(tell.enqueue(programme.pk, staff_a.pk, "first").id),
        str(tell_and_fail.enqueue(programme.pk, staff_a.pk).id),
        str(tell.enqueue(programme.pk, staff_a.pk, "third").id),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        queue.run_worker()

    assert _rows(ids) == [
        (TaskResultStatus.SUCCESSFUL, 1, ["test-worker"]),
        (TaskResultStatus.FAILED, None, ["test-worker"]),
        (TaskResultStatus.SUCCESSFUL, 1, ["test-worker"]),
    ]
    failed = DBTaskResult.objects.get(pk=ids[1])
    assert failed.exception_class_path == "builtins.RuntimeError"
    assert "RuntimeError: the directory did not answer" in failed.traceback
    assert sorted(Notification.unscoped_objects.values_list("once_key", flat=True)) == [
        "test.first",
        "test.third",
    ]
    assert smtp_sink.count_by_address() == Counter({staff_a.user.email: 2})


def test_a_result_that_cannot_be_stored_fails_its_task_alone(database_queue):
    # The first task returns what JSON cannot hold (the library's set_successful fails such a task).
    ids = [str(unstorable.enqueue(False).id), str(unstorable.enqueue(True).id)]

    queue.run_worker()

    assert _rows(ids) == [
        (TaskResultStatus.FAILED, None, ["test-worker"]),
        (TaskResultStatus.SUCCESSFUL, 2, ["test-worker"]),
    ]


def test_a_worker_killed_in_a_batch_leaves_each_claimed_task_to_run_again_once_in_effect(
    programme, org_a, database_queue, smtp_sink, django_capture_on_commit_callbacks, settings
):
    settings.TASKS_WORKER_TIMEOUT_SECONDS = 30
    people = [make_member(programme, org_a) for _ in range(3)]
    ids = [str(tell.enqueue(programme.pk, person.pk, f"visit.{person.pk}").id) for person in people]
    dying = _worker()
    with django_capture_on_commit_callbacks(execute=True):
        batch = dying._claim()
        dying._run_one(batch.waiting.pop(0), batch)  # ran, mailed, its result not yet recorded: killed
    TaskWorker.objects.create(worker_id="test-worker", seen_at=timezone.now() - timedelta(seconds=31))
    assert [status for status, _value, _workers in _rows(ids)] == [TaskResultStatus.RUNNING] * 3

    assert tasks.requeue_abandoned() == 3

    with django_capture_on_commit_callbacks(execute=True):
        queue.run_worker()
    # Every claimed task ran again; the one that had run finds its notice written and tells nobody twice.
    assert _rows(ids) == [
        (TaskResultStatus.SUCCESSFUL, 0, ["test-worker", "test-worker"]),
        (TaskResultStatus.SUCCESSFUL, 1, ["test-worker", "test-worker"]),
        (TaskResultStatus.SUCCESSFUL, 1, ["test-worker", "test-worker"]),
    ]
    assert Notification.unscoped_objects.count() == 3
    assert smtp_sink.count_by_address() == Counter({person.user.email: 1 for person in people})
    assert set(OutboundEmail.unscoped_objects.values_list("status", flat=True)) == {OutboundEmail.Status.SENT}


def test_after_the_hold_time_the_tasks_not_started_go_back_to_the_queue(database_queue):
    TaskWorker.objects.create(worker_id="before", seen_at=timezone.now())
    ids = [str(count.enqueue(n).id) for n in range(3)]
    # The second task was run by a worker that died: it keeps that worker in its list.
    DBTaskResult.objects.filter(pk=ids[1]).update(worker_ids=["before"])
    worker = _worker(hold_seconds=0.0)
    batch = worker._claim()
    assert _rows(ids) == [
        (TaskResultStatus.RUNNING, None, ["test-worker"]),
        (TaskResultStatus.RUNNING, None, ["before", "test-worker"]),
        (TaskResultStatus.RUNNING, None, ["test-worker"]),
    ]

    worker._run_batch(batch)

    # One task ran; the others are as they were before the claim, for any worker.
    assert _rows(ids) == [
        (TaskResultStatus.SUCCESSFUL, 0, ["test-worker"]),
        (TaskResultStatus.READY, None, ["before"]),
        (TaskResultStatus.READY, None, []),
    ]
    assert DBTaskResult.objects.filter(pk__in=ids[1:], started_at__isnull=True).count() == 2


def test_a_stop_ends_the_batch_after_the_running_task_and_gives_back_the_rest(database_queue):
    ids = [str(count.enqueue(1).id), str(stop_worker.enqueue().id), str(count.enqueue(3).id)]
    worker = _worker()
    STOPPING[:] = [worker]

    _run(worker)

    assert _rows(ids) == [
        (TaskResultStatus.SUCCESSFUL, 1, ["test-worker"]),
        (TaskResultStatus.SUCCESSFUL, 0, ["test-worker"]),
        (TaskResultStatus.READY, None, []),
    ]


def test_max_tasks_claims_no_more_than_it_runs(database_queue):
    ids = [str(count.enqueue(n).id) for n in range(3)]

    _run(_worker(batch=False, max_tasks=2))

    assert _rows(ids) == [
        (TaskResultStatus.SUCCESSFUL, 0, ["test-worker"]),
        (TaskResultStatus.SUCCESSFUL, 1, ["test-worker"]),
        (TaskResultStatus.READY, None, []),
    ]


def test_the_worker_compiles_no_statement_once_it_has_run_a_batch(database_queue, monkeypatch):
    from django.db.models.sql.compiler import SQLCompiler, SQLUpdateCompiler

    first = [str(count.enqueue(n).id) for n in (0, 1)]
    _run(_worker(worker_id="first"))  # this connection's first claim, results and empty claim: compiled
    compiled: list[str] = []
    for compiler in (SQLCompiler, SQLUpdateCompiler):

        def counted(self, *args, _as_sql=compiler.as_sql, **kwargs):
            compiled.append(type(self).__name__)
            return _as_sql(self, *args, **kwargs)

        monkeypatch.setattr(compiler, "as_sql", counted)
    second = [str(count.enqueue(n).id) for n in (1, 0)]

    _run(_worker(worker_id="second"))

    assert compiled == []
    assert _rows(first) == [(TaskResultStatus.SUCCESSFUL, n, ["first"]) for n in (0, 1)]
    assert _rows(second) == [(TaskResultStatus.SUCCESSFUL, n, ["second"]) for n in (1, 0)]
