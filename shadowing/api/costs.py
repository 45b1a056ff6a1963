"""API of what visits cost besides the staff time (travel, substitute cover, interpreter, other)."""

from __future__ import annotations

from typing import cast

from django.db.models import QuerySet
from rest_framework import mixins
from rest_framework.permissions import IsAuthenticated
from rest_framework.serializers import BaseSerializer

from coordinator.core import plans
from organisations.access.api import ProgrammeScopedViewSet
from shadowing import filters, permissions, serializers
from shadowing.api import IsCoordinator
from shadowing.models import PlacementCost
from shadowing.services import costs


class PlacementCostViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProgrammeScopedViewSet,
):
    """Costs of visits besides the staff time: travel, substitute cover, interpreter, other. Coordinators
    and programme admins of the visit's programme; the reports add the programme's standard cost of a
    visit day (``visit_day_cost`` of the programme) for the staff time."""

    model = PlacementCost
    serializer_class = serializers.PlacementCostSerializer
    filterset_class = filters.PlacementCostFilter
    permission_classes = [IsAuthenticated, IsCoordinator]

    def narrow_queryset(self, queryset: QuerySet[PlacementCost]) -> QuerySet[PlacementCost]:
        return (
            # A cost carries its visit's programme: the rule on the visit reads the same on the cost.
            queryset.filter(permissions.costed_placements_filter(self.actor))
            .select_related("placement")
            .order_by("placement_id", "kind", "pk")
        )

    def perform_create(self, serializer: BaseSerializer[PlacementCost]) -> None:
        data = serializer.validated_data
        serializer.instance = costs.placement_cost_add(
            actor=self.actor,
            placement=data["placement"],
            kind=data["kind"],
            amount=data["amount"],
            note=data.get("note", ""),
        )

    def perform_update(self, serializer: BaseSerializer[PlacementCost]) -> None:
        cost = cast(PlacementCost, serializer.instance)
        data = serializer.validated_data
        serializer.instance = costs.placement_cost_update(
            actor=self.actor,
            cost=cost,
            kind=data.get("kind", cost.kind),
            amount=data.get("amount", cost.amount),
            note=data.get("note", cost.note),
        )

    def perform_destroy(self, instance: PlacementCost) -> None:
        costs.placement_cost_delete(actor=self.actor, cost=instance)
