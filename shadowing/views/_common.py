"""What the shadowing pages share: the flags templates read (the services decide again on every
write), the joins of a placement list, and the scoped bases of request and placement pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from organisations.access.views import ProgrammeMixin
from organisations.models import PlatformRole
from organisations.permissions import COORDINATING_ROLES, Actor
from shadowing import permissions
from shadowing.models import (
    Placement,
    PlacementDay,
    ShadowingRequest,
)

COORDINATORS = frozenset(COORDINATING_ROLES)
HOSTS = frozenset({PlatformRole.HOST_CONTACT, PlatformRole.ORGANISATION_ADMIN})
LIVE = (Placement.Status.AWAITING_HOST, Placement.Status.HOST_ACCEPTED, Placement.Status.CONFIRMED)
VISITS = (Placement.Status.CONFIRMED, Placement.Status.VISITED, Placement.Status.REFLECTED)


def posted_int(raw: Any) -> int:
    text = str(raw or "")
    return int(text) if text.isdigit() and len(text) < 12 else -1


# --- Flags for templates (the services decide again on every write) ------------------------------------


def is_coordinator(actor: Actor, programme_id: int) -> bool:
    return permissions.can_manage(actor, programme_id)


def hosts_for(actor: Actor, programme_id: int, organisation_id: int) -> bool:
    """A host contact or organisation admin of the workplace's organisation (no query)."""
    return actor.organisation_id == organisation_id and actor.has_role(programme_id, *HOSTS)


def is_shadower(actor: Actor, placement: Placement) -> bool:
    return permissions.is_requester(actor, placement.request)


def placement_joins(queryset: QuerySet[Any]) -> QuerySet[Any]:
    return queryset.select_related(
        "request__requester__user",
        "request__organisation",
        "workplace__organisation",
        "workplace__contact__user",
    ).prefetch_related(Prefetch("days", queryset=PlacementDay.objects.order_by("date", "starts_at")))


class RequestScoped(ProgrammeMixin):
    model = ShadowingRequest

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(permissions.visible_requests_filter(self.actor)).select_related(
            "requester__user", "requester__line_manager__user", "organisation", "approved_by__user"
        )


class PlacementScoped(ProgrammeMixin):
    model = Placement

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return placement_joins(queryset.filter(permissions.visible_placements_filter(self.actor)))

    def get_placement(self, pk: int) -> Placement:
        return self.get_object_or_404(pk=pk)  # type: ignore[no-any-return]
