from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoordinatorConfig(AppConfig):
    """The shared services: tenancy, notifications and the email outbox, calendar, registries, jobs.

    The label stays ``coordinator`` so the tables, content types and migrations keep their names.
    """

    name = "coordinator.core"
    label = "coordinator"
    verbose_name = _("Shared services")

    def ready(self) -> None:
        from coordinator.core import (
            notifications,  # noqa: F401  (registers its notification kinds and jobs)
            replies,  # noqa: F401  (registers the calendar reply reader)
        )
