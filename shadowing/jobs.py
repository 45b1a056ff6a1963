"""What the shadowing services contribute to the shared registries: notification kinds, periodic jobs and
the calendar-feed provider. Imported by ``shadowing.hooks`` (from ``AppConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from coordinator.core import registry
from shadowing import invites, services

for key, label, email in (
    (services.KIND_APPROVAL, _("Shadowing requests waiting for your approval"), True),
    (services.KIND_REQUEST, _("Your shadowing requests: decisions, matches, expiry"), True),
    (services.KIND_HOSTING, _("Visitors to your workplace: to accept, confirmed, cancelled"), True),
    (services.KIND_PLACEMENT, _("Your shadowing visits: to confirm, changes, cancellations"), True),
    (services.KIND_COORDINATION, _("Shadowing placements to match again (coordinators)"), True),
):
    registry.notification_kinds.register(key, registry.NotificationKind(key, label, default_email=email))


def _expire() -> int:
    return services.requests_expire()


def _sync() -> int:
    return services.sync_host_permissions_job()


registry.periodic_jobs.register(
    "shadowing.expire_requests",
    registry.PeriodicJob("shadowing.expire_requests", _expire, every_seconds=3600),
)
registry.periodic_jobs.register(
    "shadowing.sync_host_permissions",
    registry.PeriodicJob("shadowing.sync_host_permissions", _sync, every_seconds=600),
)
registry.calendar_providers.register("shadowing", invites.feed_provider)
