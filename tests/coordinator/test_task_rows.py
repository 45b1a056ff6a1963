"""A task queued with a write (``tasks.on_commit_enqueue``): its row written in the write's transaction by
SQL written once (``tasks.queue_in_transaction``) is the row the database backend's ``enqueue`` writes,
column for column and statement for statement; nothing is queued for a write rolled back; the worker runs
it as before."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks_db.models import DBTaskResult

from coordinator.core import tasks
from tests.coordinator.test_prepared_writes import count_compilations

pytestmark = pytest.mark.django_db

RAN: list[tuple[object, ...]] = []


@task()
def record(number: int, names: list[str], flag: bool = False) -> int:
    RAN.append((number, names, flag))
    return number + len(names)


@task(priority=7)
def urgent(text: str) -> str:
    return text.upper()


def _row(pk: object) -> dict[str, object]:
    return DBTaskResult.objects.filter(pk=pk).values().get()


def _shapes() -> list[tuple[object, tuple[object, ...], dict[str, object]]]:
    later = timezone.now() + timedelta(hours=2)
    return [
        (record, (3, ("a", "b")), {}),  # a tuple becomes a list, as the backend writes it
        (record, (4, ["å", "ø"]), {"flag": True}),
        (urgent, ("ja",), {}),
        (record.using(priority=-5), (1, []), {}),
        (record.using(run_after=later), (2, ["x"]), {"flag": False}),
    ]


@pytest.mark.parametrize("shape", range(5))
def test_a_task_row_written_with_the_write_is_the_row_enqueue_writes(database_queue, shape):
    queued, args, kwargs = _shapes()[shape]
    sent: list[object] = []

    def receiver(sender: object, task_result: object, **rest: object) -> None:
        sent.append((sender, task_result))

    task_enqueued.connect(receiver)
    try:
        with CaptureQueriesContext(connection) as library_sql:
            library = queued.enqueue(*args, **kwargs)
        before = timezone.now()
        with transaction.atomic(), CaptureQueriesContext(connection) as ours_sql:
            tasks.on_commit_enqueue(queued, *args, **kwargs)
        after = timezone.now()
    finally:
        task_enqueued.disconnect(receiver)

    ours = DBTaskResult.objects.exclude(pk=library.id).get()
    expected, written = _row(library.id), _row(ours.pk)
    assert uuid.UUID(str(written.pop("id"))).version == 4
    assert before <= written.pop("enqueued_at") <= after
    expected.pop("id"), expected.pop("enqueued_at")
    assert written == expected
    # The same statement (one prepared statement for both on PostgreSQL), in the write's transaction.
    assert [q["sql"].split(" VALUES ")[0] for q in ours_sql.captured_queries if "INSERT" in q["sql"]] == [
        q["sql"].split(" VALUES ")[0] for q in library_sql.captured_queries
    ]
    assert [type(result).__name__ for _sender, result in sent] == ["TaskResult", "TaskResult"]
    assert sent[0][0] is sent[1][0]
    assert str(sent[1][1].id) == str(ours.pk)
    assert (sent[1][1].args, sent[1][1].kwargs) == (library.args, library.kwargs)


def test_a_task_row_compiles_nothing_the_second_time(database_queue, monkeypatch):
    with transaction.atomic():
        tasks.on_commit_enqueue(record, 1, ["a"])
    compilations = count_compilations(monkeypatch)

    with transaction.atomic():
        tasks.on_commit_enqueue(record, 2, ["b"])

    compiled = list(compilations)
    assert (compiled, DBTaskResult.objects.count()) == ([], 2)


def test_a_task_row_is_written_inside_the_transaction_not_after_it(database_queue, django_assert_num_queries):
    with transaction.atomic():
        with django_assert_num_queries(1):
            tasks.on_commit_enqueue(record, 5, ["c"])
        assert list(DBTaskResult.objects.values_list("args_kwargs", flat=True)) == [
            {"args": [5, ["c"]], "kwargs": {}}
        ]
        assert connection.run_on_commit == []


def test_nothing_is_queued_for_a_rolled_back_write_or_savepoint(database_queue):
    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.on_commit_enqueue(record, 6, ["rolled back"])
        raise RuntimeError("the write failed after queuing its task")
    with transaction.atomic():
        tasks.on_commit_enqueue(record, 7, ["kept"])
        with pytest.raises(RuntimeError), transaction.atomic():
            tasks.on_commit_enqueue(record, 8, ["savepoint rolled back"])
            raise RuntimeError("the inner step failed")

    assert list(DBTaskResult.objects.values_list("args_kwargs", flat=True)) == [
        {"args": [7, ["kept"]], "kwargs": {}}
    ]


def test_the_worker_runs_a_task_queued_with_the_write(database_queue):
    RAN.clear()
    with transaction.atomic():
        tasks.on_commit_enqueue(record, 9, ("p", "q"), flag=True)

    database_queue()

    assert RAN == [(9, ["p", "q"], True)]
    assert list(DBTaskResult.objects.values_list("status", "return_value", "worker_ids")) == [
        (TaskResultStatus.SUCCESSFUL, 11, ["test-worker"])
    ]


def test_the_immediate_backend_runs_the_task_after_the_commit(django_capture_on_commit_callbacks):
    RAN.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        tasks.on_commit_enqueue(record, 10, ["now"])
        assert RAN == []

    assert (len(callbacks), RAN, DBTaskResult.objects.count()) == (1, [(10, ["now"], False)], 0)
