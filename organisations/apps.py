from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganisationsConfig(AppConfig):
    name = "organisations"
    verbose_name = _("Programmes and organisations")

    def ready(self) -> None:
        from organisations import hooks  # registers navigation, panels and demo data

        hooks.guard_archived_programmes()
