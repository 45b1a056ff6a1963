"""The costs of running a round (venue, lecture fees, preparation...), for the financing report."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .rounds import DeepTenantModel, Round


class RoundCost(DeepTenantModel):
    """A cost of running a round (venue, lecturers' fees, preparation...), for the financing report."""

    programme_parent: ClassVar[str] = "round"

    class Kind(models.TextChoices):
        VENUE = "venue", _("Venue")
        LECTURE_FEES = "lecture_fees", _("Lecture fees")
        PREPARATION = "preparation", _("Preparation")
        OTHER = "other", _("Other")

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="costs", verbose_name=_("round"))
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
        ordering = ["round", "kind", "pk"]
        verbose_name = _("cost")
        verbose_name_plural = _("costs")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="roundcost_amount_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.round}: {self.get_kind_display()} {self.amount}"


# The kinds of cost at module level, for the API schema's enum naming (settings.SPECTACULAR_SETTINGS).
COST_KINDS = RoundCost.Kind
