"""Runs the registered periodic jobs (``registry.periodic_jobs``) on the task queue.

Each job is an idempotent sweep over database state, so a crash or a second run never loses or doubles
work: what is due stays due until a job has handled it. Each job has exactly one pending run: a queued
``run_periodic_job`` task whose id its ``JobRun`` row holds (``pending_task_id``, unique). When the run
finishes, it queues the next one ``every_seconds`` later and stores that id, under the row's lock; a task
whose id is not the row's (a stray copy) does nothing. ``schedule_periodic_jobs`` (called by each task
worker when it starts) gives a job without a pending run one, e.g. a job registered since the last start.
``manage.py run_jobs`` runs the due jobs once, at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import TaskContext, task

from coordinator.core import registry
from coordinator.core.models import JobRun
from coordinator.core.tasks import enqueue_at
from coordinator.core.tenancy import unscoped

logger = logging.getLogger(__name__)


def _run(job: registry.PeriodicJob, state: JobRun) -> int:
    """Run one job now and record the outcome on its row; a failure is recorded, never raised."""
    try:
        with unscoped():  # periodic sweeps cover every programme
            handled = job.run()
    except Exception as exc:  # one failing job must not stop the others
        logger.exception("Periodic job %s failed", job.name)
        now = timezone.now()
        JobRun.objects.filter(pk=state.pk).update(
            last_finished_at=now,
            last_handled=0,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            failures=state.failures + 1,
            total_failures=state.total_failures + 1,
            last_failed_at=now,
        )
        return 0
    JobRun.objects.filter(pk=state.pk).update(
        last_finished_at=timezone.now(), last_handled=handled, last_error="", failures=0
    )
    return handled


def run_due_jobs(*, force: bool = False) -> dict[str, int]:
    """Run every job whose interval has passed (all of them with ``force``) in this process, now; returns
    what each handled."""
    results: dict[str, int] = {}
    for job in registry.periodic_jobs:
        now = timezone.now()
        with transaction.atomic():
            state, _created = JobRun.objects.select_for_update().get_or_create(name=job.name)
            due = (
                force
                or state.last_started_at is None
                or state.last_started_at <= now - timedelta(seconds=job.every_seconds)
            )
            if not due:
                continue
            state.last_started_at = now
            state.save(update_fields=["last_started_at"])
        results[job.name] = _run(job, state)
    return results


@task(takes_context=True)
def run_periodic_job(context: TaskContext, name: str) -> int:
    """Run one periodic job as its pending run, then queue its next run."""
    own_id = str(context.task_result.id)
    job = registry.periodic_jobs.get(name)
    if job is None:
        logger.warning("Periodic job %s is no longer registered", name)
        return 0
    with transaction.atomic():
        state = JobRun.objects.select_for_update().filter(name=name).first()
        if state is None or state.pending_task_id != own_id:
            return 0  # a stray copy: the job's own pending run does the work
        state.last_started_at = timezone.now()
        state.save(update_fields=["last_started_at"])
    handled = _run(job, state)
    schedule(job, timezone.now() + timedelta(seconds=job.every_seconds), replacing=own_id)
    return handled


def schedule(job: registry.PeriodicJob, run_after: datetime, *, replacing: str | None = None) -> bool:
    """Give ``job`` its pending run at ``run_after``, unless it has one already (other than ``replacing``,
    the run now finishing). Returns whether a run was queued."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        state, _created = JobRun.objects.select_for_update().get_or_create(name=job.name)
        pending = state.pending_task_id
        if (
            pending
            and pending != replacing
            and DBTaskResult.objects.filter(
                pk=pending, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
            ).exists()
        ):
            return False
        queued = enqueue_at(run_periodic_job, run_after, job.name)
        if queued is None:
            return False
        state.pending_task_id, state.next_run_at = queued, run_after
        state.save(update_fields=["pending_task_id", "next_run_at"])
    return True


def schedule_periodic_jobs() -> int:
    """Give every registered job that has no pending run one, due now; returns how many were queued."""
    now = timezone.now()
    return sum(schedule(job, now) for job in registry.periodic_jobs)
