from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SeminarsConfig(AppConfig):
    name = "seminars"
    verbose_name = _("Seminars and courses")

    def ready(self) -> None:
        from seminars import hooks  # noqa: F401  (registers navigation, panels, feed, history, jobs, demo data)
