from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoordinatorConfig(AppConfig):
    name = "coordinator"
    verbose_name = _("Shared services")

    def ready(self) -> None:
        from coordinator import notifications  # noqa: F401  (registers its notification kinds and jobs)
