from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShadowingConfig(AppConfig):
    name = "shadowing"
    verbose_name = _("Job shadowing")

    def ready(self) -> None:
        from shadowing import (
            hooks,  # noqa: F401  (registers navigation, panels, feed, history, jobs, demo data)
            reports,  # noqa: F401  (registers the barometer section)
        )
