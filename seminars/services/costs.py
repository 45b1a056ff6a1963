"""Costs of a round (venue, fees, preparation, other)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from organisations.permissions import Actor
from seminars.models import (
    Round,
    RoundCost,
)
from seminars.services._seats import (
    require_manage,
)


def _check_cost(kind: str, amount: Decimal, note: str) -> None:
    errors = {}
    if kind not in RoundCost.Kind.values:
        errors["kind"] = _("Choose a kind of cost.")
    if amount < 0 or amount >= Decimal("10000000000"):
        errors["amount"] = _("Give an amount of zero or more.")
    if len(note) > 300:
        errors["note"] = _("Keep the note under 300 characters.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def cost_add(*, actor: Actor, round: Round, kind: str, amount: Decimal, note: str = "") -> RoundCost:
    """Record a cost of a round (venue, lecture fees, preparation, other). Coordinators only."""
    require_manage(actor, round.course.programme_id)
    _check_cost(kind, amount, note)
    return RoundCost.objects.create(round=round, kind=kind, amount=amount, note=note, created_by=actor.person)


@transaction.atomic
def cost_update(*, actor: Actor, cost: RoundCost, kind: str, amount: Decimal, note: str) -> RoundCost:
    """Correct a recorded cost. Coordinators only."""
    require_manage(actor, cost.round.course.programme_id)
    _check_cost(kind, amount, note)
    cost.kind, cost.amount, cost.note = kind, amount, note
    cost.save(update_fields=["kind", "amount", "note"])
    return cost


@transaction.atomic
def cost_delete(*, actor: Actor, cost: RoundCost) -> None:
    """Remove a recorded cost. Coordinators only."""
    require_manage(actor, cost.round.course.programme_id)
    cost.delete()
