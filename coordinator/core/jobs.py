"""Runs the registered periodic jobs. Each job is an idempotent sweep over database state, so a crash or a
second runner never loses or doubles work: what is due stays due until a job has handled it."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from coordinator.core import registry
from coordinator.core.models import JobRun
from coordinator.core.tenancy import unscoped

logger = logging.getLogger(__name__)


def run_due_jobs(*, force: bool = False) -> dict[str, int]:
    """Run every job whose interval has passed (all of them with ``force``); returns what each handled."""
    results: dict[str, int] = {}
    for job in registry.periodic_jobs:
        now = timezone.now()
        with transaction.atomic():
            run, _created = JobRun.objects.select_for_update().get_or_create(name=job.name)
            due = (
                force
                or run.last_started_at is None
                or run.last_started_at <= now - timedelta(seconds=job.every_seconds)
            )
            if not due:
                continue
            run.last_started_at = now
            run.save(update_fields=["last_started_at"])
        try:
            with unscoped():  # periodic sweeps cover every programme
                handled = job.run()
            error = ""
        except Exception as exc:  # one failing job must not stop the others
            logger.exception("Periodic job %s failed", job.name)
            handled, error = 0, f"{type(exc).__name__}: {exc}"[:2000]
        JobRun.objects.filter(pk=run.pk).update(
            last_finished_at=timezone.now(), last_handled=handled, last_error=error
        )
        results[job.name] = handled
    return results
