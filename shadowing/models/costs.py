"""What a visit cost besides the staff time: travel, substitute cover, an interpreter, other costs."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel
from shadowing.models.placements import Placement


class PlacementCost(TenantModel):
    """A cost of one visit, recorded by a coordinator. The staff time of a visit day is not recorded here:
    it is the programme's standard cost of a visit day (``Programme.visit_day_cost``) times the days."""

    class Kind(models.TextChoices):
        TRAVEL = "travel", _("Travel")
        SUBSTITUTE_COVER = "substitute_cover", _("Substitute cover")
        INTERPRETER = "interpreter", _("Interpreter")
        OTHER = "other", _("Other")

    programme = models.ForeignKey(
        "organisations.Programme",
        on_delete=models.CASCADE,
        related_name="placement_costs",
        verbose_name=_("programme"),
    )
    placement = models.ForeignKey(
        Placement, on_delete=models.CASCADE, related_name="costs", verbose_name=_("visit")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(
        _("amount"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["placement", "kind", "pk"]
        verbose_name = _("visit cost")
        verbose_name_plural = _("visit costs")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="placementcost_amount_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.placement_id}: {self.get_kind_display()} {self.amount}"


# The kinds at module level, for the API schema's enum naming (settings.SPECTACULAR_SETTINGS).
VISIT_COST_KINDS = PlacementCost.Kind
