"""What the shadowing services contribute to the shared registries: notification kinds, periodic jobs and
the calendar-feed provider. Imported by ``shadowing.hooks`` (from ``AppConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from coordinator.core import registry
from shadowing import invites, kinds
from shadowing.services import shadowing_requests

for key, label, email in (
    (kinds.KIND_APPROVAL, _("Shadowing requests waiting for your approval"), True),
    (kinds.KIND_REQUEST, _("Your shadowing requests: decisions, matches, expiry"), True),
    (kinds.KIND_HOSTING, _("Visitors to your workplace: to accept, confirmed, cancelled"), True),
    (kinds.KIND_PLACEMENT, _("Your shadowing visits: to confirm, changes, cancellations"), True),
    (kinds.KIND_COORDINATION, _("Shadowing placements to match again (coordinators)"), True),
):
    registry.notification_kinds.register(key, registry.NotificationKind(key, label, default_email=email))


registry.periodic_jobs.register(
    "shadowing.expire_requests",
    registry.PeriodicJob("shadowing.expire_requests", shadowing_requests.requests_expire, every_seconds=3600),
)
registry.calendar_providers.register("shadowing", invites.feed_events)
registry.calendar_decline_handlers.register("shadowing.placement", invites.declined_in_calendar)
