"""The task queue: Django's task API (the ``django-tasks`` backport of Django 6's) on its database backend
(``django-tasks-db``). Why this library and not Celery: docs/deployment.md, "Task queue".

Work that must not hold up a request (matching, sending mail, the periodic sweeps) is a task. Each task is
idempotent: it reads what is due from the database and records its progress there, so running it twice
changes nothing. What the library leaves to us, kept here:

- **Retries with back-off.** ``retry_later`` queues the next attempt of a failed task after 10 s, 20 s,
  40 s, ... (at most an hour), up to ``TASKS_MAX_ATTEMPTS`` attempts in all.
- **A worker that dies loses nothing.** ``manage.py task_worker`` (the library's ``db_worker`` with a
  heartbeat) records each worker in ``TaskWorker`` every ``TASKS_HEARTBEAT_SECONDS``; a task left running
  by a worker not heard of for ``TASKS_WORKER_TIMEOUT_SECONDS`` (killed, out of memory, its machine gone)
  goes back to the queue (``requeue_abandoned``) and runs again, and the mail left unsent is queued.
- **A task's own follow-up in the same task.** ``in_task`` tells whether this thread is running a task:
  the notifications a task writes are then pushed and mailed by that task after its commit
  (``notifications``), not by a second task queued for each write. Where the worker runs a batch of
  tasks (``worker.ClaimingWorker``), that follow-up is gathered (``after_batch``) and done once for the
  batch's tasks together, before their results are recorded: one push and one mail connection for them
  all, not one per task.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, router, transaction
from django.utils import timezone
from django_tasks import default_task_backend
from django_tasks.base import Task
from django_tasks.signals import task_finished, task_started

from coordinator.core import registry
from coordinator.core.models import TaskWorker
from coordinator.core.prepared_writes import PreparedInsert

if TYPE_CHECKING:
    from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def backoff(attempt: int) -> timedelta:
    """How long to wait before attempt ``attempt + 1`` (``attempt`` counts from 0)."""
    return timedelta(seconds=min(10 * 2**attempt, 3600))


def can_defer() -> bool:
    """Whether the configured backend can run a task later (the database backend can, immediate cannot)."""
    return bool(default_task_backend.supports_defer)


def enqueue_at(task: Task[P, T], run_after: datetime, *args: P.args, **kwargs: P.kwargs) -> str | None:
    """Queue ``task`` to run at ``run_after``; returns the result id, or None where the backend runs tasks
    at once and cannot wait (the caller's periodic sweep picks the work up instead)."""
    if not can_defer():
        return None
    return enqueue(task.using(run_after=run_after), *args, **kwargs)


def retry_later(task: Task[P, T], attempt: int, *args: P.args, **kwargs: P.kwargs) -> bool:
    """Queue the next attempt of a failed task after the back-off; False when the attempts are used up (or
    the backend cannot wait), and the caller records the failure for good.

    The task must take ``attempt`` as a keyword argument; ``kwargs`` must not hold it.
    """
    if attempt + 1 >= settings.TASKS_MAX_ATTEMPTS:
        return False
    queued = enqueue_at(
        task,
        timezone.now() + backoff(attempt),
        *args,
        **kwargs,
        attempt=attempt + 1,  # type: ignore[arg-type]
    )
    return queued is not None


def enqueue(task: Task[P, T], *args: P.args, **kwargs: P.kwargs) -> str:
    """``task.enqueue(*args, **kwargs)``, on the database backend by SQL written once
    (``insert_task_row``); returns the result id. In a transaction, the task is queued with it."""
    queued = insert_task_row(task, args, kwargs)
    return queued if queued is not None else str(task.enqueue(*args, **kwargs).id)


def on_commit_enqueue(task: Task[P, T], *args: P.args, **kwargs: P.kwargs) -> None:
    """Queue ``task`` with the current transaction: it is queued when the transaction commits, never for a
    change that was rolled back (nor for a savepoint rolled back).

    On the database backend the task's row is written in the transaction itself (``insert_task_row``:
    the row the backend's ``enqueue`` writes, by SQL written once), which the queue's workers see from the
    commit on. The row written after the commit, as before, cost each write an ORM insert and a transaction
    of its own. Any other backend (the immediate one runs the task inside ``enqueue``) is called after the
    commit."""
    if insert_task_row(task, args, kwargs) is None:
        transaction.on_commit(lambda: task.enqueue(*args, **kwargs))


# The task rows' INSERT (``DBTaskResult``), its SQL written once per connection; made on first use (the
# model's app is loaded after this module may be imported).
_TASK_ROW_INSERT: list[PreparedInsert[DBTaskResult[..., object]]] = []
# The tasks each database backend has validated (``validate_task`` inspects the function's signature); a
# backend made anew (changed settings) validates again.
_VALIDATED: set[tuple[Task[..., object], object]] = set()


def insert_task_row(task: Task[P, T], args: Sequence[object], kwargs: Mapping[str, object]) -> str | None:
    """Write ``task``'s row on the default database (in the current transaction, if any) as the database
    backend's ``enqueue`` writes it (``DBTaskResult.objects.create``: the same columns, values and statement,
    the ``pre_save`` that sets ``run_after``, the ``task_enqueued`` signal), the INSERT compiled once per
    connection; returns the result id, or None (nothing written) where the task's backend is not the
    database one on that database."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.compat import normalize_json, task_enqueued
    from django_tasks_db.models import DBTaskResult

    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend) or router.db_for_write(DBTaskResult) != DEFAULT_DB_ALIAS:
        return None
    if (task, backend) not in _VALIDATED:
        backend.validate_task(task)
        if task.run_after is None:  # one per task, not one per moment a task is put off to
            _VALIDATED.add((task, backend))
    if not _TASK_ROW_INSERT:
        _TASK_ROW_INSERT.append(PreparedInsert(DBTaskResult))
    row: DBTaskResult[..., object] = DBTaskResult(
        id=backend._get_id(),
        args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after,
        backend_name=backend.alias,
    )
    _TASK_ROW_INSERT[0].insert(row, using=DEFAULT_DB_ALIAS)
    result = row.task_result
    task_enqueued.send(type(backend), task_result=result)
    return str(result.id)


# Tasks running in this thread now: a task's own follow-up work (the mail of the notifications it wrote) may
# then be done at once after the task's commit instead of being queued as a task of its own.
_running = threading.local()


def _task_started(**kwargs: object) -> None:
    _running.depth = getattr(_running, "depth", 0) + 1


def _task_finished(**kwargs: object) -> None:
    _running.depth = max(getattr(_running, "depth", 0) - 1, 0)


task_started.connect(_task_started, dispatch_uid="samverkan.task_started")
task_finished.connect(_task_finished, dispatch_uid="samverkan.task_finished")


def in_task() -> bool:
    """Whether this thread is running a task now (in a worker, or the immediate backend's caller)."""
    return getattr(_running, "depth", 0) > 0


@contextmanager
def batch() -> Iterator[None]:
    """The worker runs a batch of tasks in this block: the work they hand to ``after_batch`` is done when
    the block ends (or earlier, ``run_after_batch``), whatever the tasks raised."""
    _running.after_batch = []
    _running.after_batch_since = None
    try:
        yield
    finally:
        try:
            run_after_batch()
        finally:
            _running.after_batch = None


def after_batch(callback: Callable[[], None]) -> bool:
    """Have ``callback`` run once (however often it is handed over) when the worker's current batch of tasks
    is done, before their results are recorded; False where this thread runs no batch (the caller does the
    work itself). Whatever the callback leaves undone must be safe to lose with the worker: it runs while
    the batch's tasks are still recorded as running, so a worker killed before it runs them again."""
    waiting: list[Callable[[], None]] | None = getattr(_running, "after_batch", None)
    if waiting is None:
        return False
    if callback not in waiting:
        waiting.append(callback)
    if _running.after_batch_since is None:
        _running.after_batch_since = time.monotonic()
    return True


def run_after_batch(waited: float = 0.0) -> None:
    """Run the work handed to ``after_batch`` now, if the first of it has waited ``waited`` seconds or
    more. A callback that raises is logged; the others still run."""
    waiting: list[Callable[[], None]] | None = getattr(_running, "after_batch", None)
    since: float | None = getattr(_running, "after_batch_since", None)
    if not waiting or since is None or time.monotonic() - since < waited:
        return
    _running.after_batch_since = None
    while waiting:
        callback = waiting.pop(0)
        try:
            callback()
        except Exception:  # noqa: BLE001 (one follow-up's fault must not keep the others or the batch)
            logger.exception("The follow-up %s of a batch of tasks failed", callback)


# --- Workers --------------------------------------------------------------------------------------------


def heartbeat(worker_id: str) -> None:
    """Record that this worker is alive."""
    TaskWorker.objects.update_or_create(
        worker_id=worker_id,
        defaults={"seen_at": timezone.now(), "hostname": socket.gethostname()[:255], "pid": os.getpid()},
    )


def worker_stopped(worker_id: str) -> None:
    TaskWorker.objects.filter(worker_id=worker_id).delete()


def requeue_abandoned() -> int:
    """Put the tasks that dead workers were running back in the queue; returns how many.

    A worker that was killed in the middle of a task leaves its row RUNNING for ever (the library never
    looks at it again). The task's work is idempotent, so running it again from the start is safe.
    """
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.TASKS_WORKER_TIMEOUT_SECONDS)
    alive = set(TaskWorker.objects.filter(seen_at__gte=cutoff).values_list("worker_id", flat=True))
    requeued = 0
    with transaction.atomic():
        for result in DBTaskResult.objects.running().select_for_update(skip_locked=True).order_by("pk"):
            worker = result.worker_ids[-1] if result.worker_ids else None
            if worker in alive:
                continue
            logger.warning(
                "Task %s (%s) was left running by worker %s: queued again",
                result.pk,
                result.task_path,
                worker,
            )
            DBTaskResult.objects.filter(pk=result.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY, run_after=now, started_at=None
            )
            requeued += 1
    if requeued:
        # A task sends the mail of the notifications it wrote itself, after its commit and before it is
        # marked done; run again, it finds them written and sends nothing. The mail a dead worker left
        # unsent is therefore queued now, by the outbox's sweep, rather than at the sweep's next run.
        sweep = registry.periodic_jobs.get("outbox.deliver_due")
        if sweep is not None:
            sweep.run()
    # Workers gone long ago are forgotten.
    TaskWorker.objects.filter(
        seen_at__lt=now - timedelta(seconds=settings.TASKS_WORKER_TIMEOUT_SECONDS * 10)
    ).delete()
    return requeued


def queue_depth() -> dict[str, object]:
    """Tasks waiting to run now, and how long the oldest has waited (seconds): for health and metrics."""
    from django.db.models import Min
    from django_tasks_db.models import DBTaskResult

    ready = DBTaskResult.objects.ready()
    oldest = ready.aggregate(oldest=Min("enqueued_at"))["oldest"]
    return {
        "ready": ready.count(),
        "running": DBTaskResult.objects.running().count(),
        "oldest_seconds": (timezone.now() - oldest).total_seconds() if oldest else 0.0,
    }
