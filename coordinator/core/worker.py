"""The task worker's loop: the task library's database worker (``django_tasks_db``'s ``db_worker``), claiming
several ready tasks at a time.

The library claims one task per transaction (a ``SELECT … FOR UPDATE SKIP LOCKED`` of one row, an
``UPDATE`` and a commit) and records each result with an ``UPDATE`` of its own: three statements and two
transactions around every task, more than the queries of a small task such as a visit request's notices.
``ClaimingWorker`` claims up to ``TASKS_CLAIM_BATCH`` ready tasks in one transaction (one locking
``SELECT`` of the rows in the library's order, one ``UPDATE``), runs them one after the other, and records
their successes together in one ``UPDATE`` when the batch is done. Nothing changes for the tasks:

- **A worker that dies loses nothing.** Every claimed task is ``RUNNING`` under this worker's id until its
  result is recorded, so a worker killed anywhere in a batch leaves each claimed task, run or not, to be
  queued again (``coordinator.core.tasks.requeue_abandoned``); tasks are idempotent, so one that had run
  already changes nothing the second time.
- **A task that fails fails alone.** Each task runs in its own transactions as before; its failure is
  recorded at once (the library's ``set_failed``, with the traceback) and the batch goes on.
- **No task waits long behind another.** Once a batch has been running for ``TASKS_CLAIM_HOLD_SECONDS``
  (a long matching run in it), the results so far are recorded and the tasks not started yet go back to
  the queue for any worker; the same on a graceful stop (SIGTERM, SIGINT), after the task running then.
- **The tasks' follow-up once per batch.** What the tasks hand to ``tasks.after_batch`` (the pushes and
  the mail of the notifications they wrote) is done once for the batch, before the results are recorded,
  or before the next task once it has waited ``AFTER_BATCH_WAIT_SECONDS``; a worker killed before that
  leaves the tasks to run again and the mail, committed in the outbox, to the outbox's sweep.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import OperationalError, close_old_connections, connections, router
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tasks import TaskContext
from django_tasks.base import TaskResultStatus
from django_tasks.signals import task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception, retry

from coordinator.core import tasks
from coordinator.core.prepared import PreparedRows

logger = logging.getLogger(__name__)

# How long the follow-up of a finished task (its pushes and mail) may wait for the rest of its batch.
AFTER_BATCH_WAIT_SECONDS = 0.1

# A claimed task's row (the model is generic over the task's parameters and result).
Claimed = DBTaskResult[..., object]

_ENCODER = DBTaskResult._meta.get_field("return_value").encoder  # the result column's JSON encoder


# --- The worker's statements, their SQL written once ---------------------------------------------------
# Compiling the claim's locking SELECT and the batch's UPDATEs cost the worker more processor time than
# the database's work for them, on every batch and on every look at an empty queue.

# A moment no real claim uses, in the place of the claim's "now".
_NOW_STAND_IN = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
_COLUMNS = tuple(f.attname for f in DBTaskResult._meta.concrete_fields)
_FIELDS = {f.name: f for f in DBTaskResult._meta.concrete_fields}
_Queues = tuple[str, bool, tuple[str, ...], tuple[str, ...]]  # backend, all queues, queues, excluded


def _ready(queues: _Queues, now: datetime) -> QuerySet[Claimed]:
    """The ready tasks at ``now`` of the worker's queues, as ``DBTaskResult.objects.ready()`` reads them
    at the present moment, in the table's order (the library's)."""
    backend_name, all_queues, queue_names, excluded = queues
    ready = DBTaskResult.objects.filter(status=TaskResultStatus.READY).filter(
        Q(run_after=get_date_max()) | Q(run_after__lte=now)
    )
    ready = ready.filter(backend_name=backend_name)
    if not all_queues:
        ready = ready.filter(queue_name__in=queue_names)
    if excluded:
        ready = ready.exclude(queue_name__in=excluded)
    return ready


# Kept for the process: one per worker configuration and batch size (a few), never dropped, as the SQL each
# compiled is kept on the connection under its identity.
@functools.cache
def _claim_query(queues: _Queues, size: int) -> PreparedRows[Claimed, tuple[object, ...]]:
    """Up to ``size`` ready tasks, their rows locked (``SKIP LOCKED``), every column read."""
    return PreparedRows(
        lambda now: _ready(queues, now).select_for_update(skip_locked=True).values_list(*_COLUMNS)[:size],
        (_NOW_STAND_IN,),
    )


@functools.lru_cache(maxsize=128)  # per columns set, number of tasks and condition
def _update_sql(columns: tuple[str, ...], keys: int, if_running: bool) -> str:
    meta = DBTaskResult._meta
    names = [_FIELDS[name].column for name in columns]
    sets = ", ".join(f'"{column}" = %s' for column in names)
    where = f'"{meta.pk.column}" IN ({", ".join(["%s"] * keys)})'  # type: ignore[union-attr]
    if if_running:
        where += f' AND "{_FIELDS["status"].column}" = %s'
    # Table and column names from the model's own metadata; every value is a parameter.
    return f'UPDATE "{meta.db_table}" SET {sets} WHERE {where}'  # noqa: S608


def _update(ids: Sequence[object], changes: dict[str, object], *, if_running: bool) -> None:
    """``DBTaskResult.objects.filter(pk__in=ids[, status=RUNNING]).update(**changes)``: the same statement
    with the same values (each prepared by its field as the update prepares it), its SQL written once per
    set of columns and number of tasks."""
    meta = DBTaskResult._meta
    using = router.db_for_write(DBTaskResult)
    connection = connections[using]
    params = [_FIELDS[name].get_db_prep_save(value, connection=connection) for name, value in changes.items()]
    params += [meta.pk.get_db_prep_value(pk, connection) for pk in ids]  # type: ignore[union-attr]
    if if_running:
        params.append(_FIELDS["status"].get_db_prep_value(TaskResultStatus.RUNNING, connection))
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(tuple(changes), len(ids), if_running), params)


@dataclass
class _Batch:
    """Tasks claimed together: those not started yet (in the queue's order), and the finished ones whose
    success is still to be recorded."""

    waiting: list[Claimed]
    previous_workers: dict[str, list[str]]
    claimed_at: float
    succeeded: list[Claimed] = field(default_factory=list)
    ran: bool = False


class ClaimingWorker(Worker):
    """``db_worker``'s ``Worker`` (same options, signals and logging) that claims ``claim_batch`` tasks per
    transaction; see the module's docstring."""

    def __init__(
        self, *, claim_batch: int | None = None, hold_seconds: float | None = None, **options: object
    ) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.claim_batch = claim_batch if claim_batch is not None else settings.TASKS_CLAIM_BATCH
        self.hold_seconds = hold_seconds if hold_seconds is not None else settings.TASKS_CLAIM_HOLD_SECONDS

    def run(self) -> None:
        logger.info("Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names))
        while self.running:
            close_old_connections()  # dropped or expired connections, right after waking up
            # From the claim on the worker counts as busy: a stop signal ends the batch after the task
            # running then (``Worker.shutdown`` would otherwise exit at once, leaving the claimed tasks to
            # the dead workers' timeout).
            self.running_task = True
            try:
                batch = self._claimed()
                if batch is not None and batch.waiting:
                    self._run_batch(batch)
            finally:
                self.running_task = False
            ran = batch is not None and batch.ran
            if batch is not None and not ran and self.batch:
                logger.info("No more tasks to run for worker_id=%s - exiting gracefully.", self.worker_id)
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                logger.info(
                    "Ran the maximum of %d tasks on worker=%s: exiting.", self._run_tasks, self.worker_id
                )
                return
            close_old_connections()
            if self.running and not ran:
                time.sleep(self.interval)  # nothing to do: wait before asking the queue again

    def _queues(self) -> _Queues:
        return (
            self.backend_name,
            bool(self.process_all_queues),
            tuple(self.queue_names),
            tuple(self.excluded_queue_names or ()),
        )

    def _claimed(self) -> _Batch | None:
        try:
            return self._claim()
        except OperationalError as exc:
            if not is_locked_database_exception(exc):
                raise
            return None  # a locked SQLite database: it unlocks eventually, try again

    def _claim(self) -> _Batch:
        """Lock and claim up to ``claim_batch`` ready tasks (fewer near ``max_tasks``) in one transaction."""
        size = self.claim_batch
        if self.max_tasks is not None:
            size = max(min(size, self.max_tasks - self._run_tasks), 1)
        using = router.db_for_write(DBTaskResult)
        with exclusive_transaction(using):
            rows = _claim_query(self._queues(), size).fetch(timezone.now(), using=using)
            claimed: list[Claimed] = [DBTaskResult.from_db(using, _COLUMNS, row) for row in rows]
            now = timezone.now()
            previous: dict[str, list[str]] = {}
            # One UPDATE for the tasks that no worker ran before (nearly all); a task queued again after
            # its worker died keeps that worker's id in its list, so it gets an UPDATE of its own.
            by_workers: dict[tuple[str, ...], list[Claimed]] = {}
            for result in claimed:
                previous[str(result.pk)] = list(result.worker_ids)
                by_workers.setdefault(tuple(result.worker_ids), []).append(result)
                result.status = TaskResultStatus.RUNNING
                result.started_at = now
                result.worker_ids = [*result.worker_ids, self.worker_id]
            for workers, results in by_workers.items():
                _update(
                    [result.pk for result in results],
                    {
                        "status": TaskResultStatus.RUNNING,
                        "started_at": now,
                        "worker_ids": [*workers, self.worker_id],
                    },
                    if_running=False,
                )
        return _Batch(waiting=claimed, previous_workers=previous, claimed_at=time.monotonic())

    def _run_batch(self, batch: _Batch) -> None:
        try:
            with tasks.batch():
                while batch.waiting and self.running:
                    batch.ran = True
                    self._run_one(batch.waiting.pop(0), batch)
                    if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                        break
                    if batch.waiting and time.monotonic() - batch.claimed_at > self.hold_seconds:
                        break
                    tasks.run_after_batch(waited=AFTER_BATCH_WAIT_SECONDS)
        finally:
            self._record_successes(batch)
            self._release(batch)

    def _run_one(self, db_task_result: Claimed, batch: _Batch) -> None:
        """Run one task, as ``Worker.run_task`` does, except that a success is recorded with the batch."""
        try:
            task = db_task_result.task
            task_result = db_task_result.task_result
            backend_type = type(task.get_backend())
            task_started.send(sender=backend_type, task_result=task_result)
            if task.takes_context:
                context = TaskContext(task_result=task_result)  # type: ignore[arg-type]
                return_value = task.call(context, *task_result.args, **task_result.kwargs)
            else:
                return_value = task.call(*task_result.args, **task_result.kwargs)
            # The result as ``set_successful`` writes it, stored with the batch's other successes.
            # A value that cannot be stored fails the task, as with ``set_successful``, not the batch.
            json.dumps(return_value, cls=_ENCODER)
            db_task_result.status = TaskResultStatus.SUCCESSFUL
            db_task_result.finished_at = timezone.now()
            db_task_result.return_value = return_value
            db_task_result.exception_class_path = ""
            db_task_result.traceback = ""
            batch.succeeded.append(db_task_result)
            task_finished.send(sender=backend_type, task_result=db_task_result.task_result)
        except BaseException as exc:  # noqa: BLE001 (as the library's worker: any failure is the task's)
            if db_task_result in batch.succeeded:
                batch.succeeded.remove(db_task_result)
            db_task_result.set_failed(exc)
            try:
                sender = type(db_task_result.task.get_backend())
                failed = db_task_result.task_result
            except (ImportError, SuspiciousOperation):
                logger.exception("Task id=%s failed unexpectedly", db_task_result.id)
            else:
                task_finished.send(sender=sender, task_result=failed)
        finally:
            self._run_tasks += 1

    @staticmethod
    @retry()
    def _record_successes(batch: _Batch) -> None:
        """The batch's successes, one ``UPDATE`` per distinct return value (the tasks here return a count or
        nothing, so one or two a batch; the library's ``set_successful`` writes one per task, and a
        ``bulk_update`` compiles a ``CASE`` per row and column, which costs more than the statements it
        saves). ``finished_at`` is when the batch records them: the task's end, or at most the hold time
        later."""
        by_value: dict[str, tuple[object, list[str]]] = {}
        for result in batch.succeeded:
            key = json.dumps(result.return_value, cls=_ENCODER, sort_keys=True)
            by_value.setdefault(key, (result.return_value, []))[1].append(str(result.pk))
        now = timezone.now()
        for value, ids in by_value.values():
            _update(
                ids,
                {
                    "status": TaskResultStatus.SUCCESSFUL,
                    "finished_at": now,
                    "return_value": value,
                    "exception_class_path": "",
                    "traceback": "",
                },
                if_running=True,
            )
        batch.succeeded = []

    @staticmethod
    @retry()
    def _release(batch: _Batch) -> None:
        """Give the claimed tasks not started back to the queue, as they were before the claim."""
        by_workers: dict[tuple[str, ...], list[str]] = {}
        for result in batch.waiting:
            by_workers.setdefault(tuple(batch.previous_workers[str(result.pk)]), []).append(str(result.pk))
        for workers, ids in by_workers.items():
            _update(
                ids,
                {"status": TaskResultStatus.READY, "started_at": None, "worker_ids": list(workers)},
                if_running=True,
            )
        batch.waiting = []
