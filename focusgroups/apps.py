from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FocusgroupsConfig(AppConfig):
    name = "focusgroups"
    verbose_name = _("Focus groups")

    def ready(self) -> None:
        from focusgroups import (
            hooks,  # noqa: F401  (registers navigation, panels, feed, history, demo data)
            reports,  # noqa: F401  (registers the barometer section)
        )
