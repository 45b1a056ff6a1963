"""What this app contributes to the shared navigation, start page and demo data."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from coordinator import registry
from coordinator.models import OutboundEmail
from organisations.models import Organisation
from organisations.permissions import actor_for
from organisations.selectors import members_of


def _programme_panel(request: Any) -> dict[str, Any] | None:
    programme = request.programme
    organisations = (
        Organisation.objects.filter(participations__programme=programme)
        .order_by("name")
        .values("pk", "name", "short_name")
    )
    counts = dict(members_of(programme).values_list("organisation").annotate(n=Count("pk")).order_by())
    return {
        "programme": programme,
        "organisations": [dict(o, members=counts.get(o["pk"], 0)) for o in organisations],
        "funders": list(programme.funders.all()),
    }


def _outbox_panel(request: Any) -> dict[str, Any] | None:
    actor = actor_for(request.user)
    if not actor.is_coordinator(request.programme):
        return None
    failed = OutboundEmail.objects.filter(programme=request.programme, status=OutboundEmail.Status.FAILED)
    pending = OutboundEmail.objects.filter(programme=request.programme, status=OutboundEmail.Status.PENDING)
    counts = {"failed": failed.count(), "pending": pending.filter(attempts__gt=0).count()}
    if not any(counts.values()):
        return None
    return {**counts, "recent_failures": list(failed.order_by("-created_at")[:5])}


registry.nav_items.register(
    "organisations", registry.NavItem(_("Organisations"), "organisations:list"), order=90
)
registry.dashboard_panels.register(
    "organisations.outbox",
    registry.DashboardPanel("organisations/panels/outbox.html", _outbox_panel),
    order=5,
)
registry.dashboard_panels.register(
    "organisations.programme",
    registry.DashboardPanel("organisations/panels/programme.html", _programme_panel),
    order=900,
)


def _seed() -> list[tuple[str, str]]:
    from organisations.seed import seed_organisations

    return seed_organisations()


registry.demo_seeders.register("organisations", registry.DemoSeeder("organisations", _seed), order=10)
