"""What the shadowing pages share: the joins of a placement list and the scoped bases of request and
placement pages. The flags templates read come from ``shadowing.permissions`` and the models' state facts;
the services decide again on every write."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from coordinator.core.validators import parse_int
from organisations.access.views import ProgrammeMixin
from organisations.permissions import COORDINATING_ROLES
from shadowing import permissions
from shadowing.models import (
    Placement,
    PlacementDay,
    ShadowingRequest,
)

COORDINATORS = frozenset(COORDINATING_ROLES)


def posted_int(raw: Any) -> int:
    """A posted id as a number, or -1 (which matches no row) when it is missing or not an id."""
    number = parse_int(raw)
    return number if number is not None and number > 0 else -1


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
