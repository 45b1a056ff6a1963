"""What a visit cost besides the staff time, as its coordinators record it."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView

from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text
from organisations.access.views import ProgrammeMixin
from shadowing import forms, permissions
from shadowing.models import Placement, PlacementCost
from shadowing.services import costs
from shadowing.views._common import COORDINATORS, placement_joins


class PlacementCostsView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """A visit's recorded costs with their total, the programme's standard cost of its days, and a form to
    add a cost. Coordinators."""

    template_name = "shadowing/placement_costs.html"
    required_roles = COORDINATORS
    model = Placement
    form_class = forms.PlacementCostForm
    page_title = gettext_lazy("Costs of the visit")
    submit_label = gettext_lazy("Add cost")

    def narrow_queryset(self, queryset: QuerySet[Placement]) -> QuerySet[Placement]:
        return placement_joins(queryset.filter(permissions.costed_placements_filter(self.actor)))

    def load(self, **kwargs: int) -> None:
        self.placement: Placement = self.get_object_or_404(pk=kwargs["pk"])

    def perform(self, form: forms.PlacementCostForm) -> str:
        costs.placement_cost_add(actor=self.actor, placement=self.placement, **form.cleaned_data)
        messages.success(self.request, _("The cost is recorded."))
        return reverse("shadowing:placement-costs", kwargs={"pk": self.placement.pk})

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        recorded = list(PlacementCost.objects.filter(placement=self.placement).order_by("kind", "pk"))
        days = len(self.placement.days.all())
        rate = self.programme.visit_day_cost
        return {
            **super().get_context_data(**kwargs),
            "placement": self.placement,
            "costs": recorded,
            "total": sum((c.amount for c in recorded), Decimal(0)),
            "day_count": days,
            "rate": rate,
            "standard": None if rate is None else rate * days,
            "can_add": self.placement.status in Placement.SEAT_HOLDING,
        }


class PlacementCostDeleteView(ProgrammeMixin, View):
    required_roles = COORDINATORS
    model = PlacementCost

    def narrow_queryset(self, queryset: QuerySet[PlacementCost]) -> QuerySet[PlacementCost]:
        return queryset.filter(permissions.costed_placements_filter(self.actor)).select_related("placement")

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        cost: PlacementCost = self.get_object_or_404(pk=pk)
        try:
            costs.placement_cost_delete(actor=self.actor, cost=cost)
        except SERVICE_ERRORS as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The cost is removed."))
        return redirect("shadowing:placement-costs", pk=cost.placement_id)
