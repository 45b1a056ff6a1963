from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from coordinator.core.metrics import QueueState


class CoordinatorConfig(AppConfig):
    """The shared services: tenancy, notifications and the email outbox, calendar, registries, jobs.

    The label stays ``coordinator`` so the tables, content types and migrations keep their names.
    """

    name = "coordinator.core"
    label = "coordinator"
    verbose_name = _("Shared services")

    def ready(self) -> None:
        from coordinator.core import (
            metrics,
            notifications,  # noqa: F401  (registers its notification kinds and jobs)
            replies,  # noqa: F401  (registers the calendar reply reader)
            sessions,
            statements,
        )

        sessions.install()
        metrics.set_task_queue_probe(_task_queue_state)
        connection_created.connect(statements.install, dispatch_uid="coordinator.core.statements")


def _task_queue_state() -> QueueState:
    """The database task queue as ``/readyz`` and the metrics report it."""
    from coordinator.core import metrics, tasks

    depth = tasks.queue_depth()
    waiting = int(str(depth["ready"]))
    oldest = float(str(depth["oldest_seconds"]))
    return metrics.QueueState(depth=waiting, oldest_age_seconds=oldest if waiting else None)
