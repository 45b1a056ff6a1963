"""What a visit cost besides the staff time (travel, substitute cover, interpreter, other)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from coordinator.core.services import validate
from organisations.permissions import Actor
from shadowing import permissions
from shadowing.models import Placement, PlacementCost

# Below what ``amount`` (12 digits, 2 decimals) holds.
AMOUNT_LIMIT = Decimal("10000000000")


def _check(actor: Actor, placement: Placement) -> None:
    if not permissions.can_record_costs(actor, placement):
        raise PermissionDenied(_("Only the programme's coordinators may do this."))


def _validated(cost: PlacementCost) -> PlacementCost:
    errors: dict[str, list[str]] = {}
    if cost.placement.status not in Placement.SEAT_HOLDING:
        errors["placement"] = [_("Costs are recorded on visits that are arranged or made.")]
    if (
        not isinstance(cost.amount, Decimal)
        or not cost.amount.is_finite()
        or not 0 <= cost.amount < AMOUNT_LIMIT
    ):
        errors["amount"] = [_("Give an amount of zero or more.")]
    if errors:
        raise ValidationError(errors)
    validate(cost, exclude=["placement", "programme", "created_by"])
    return cost


@transaction.atomic
def placement_cost_add(
    *, actor: Actor, placement: Placement, kind: str, amount: Decimal, note: str = ""
) -> PlacementCost:
    """Record a cost of a visit (travel, substitute cover, interpreter, other). Coordinators only; the
    visit must be arranged or made (awaiting the host up to reflected). Sends nothing."""
    _check(actor, placement)
    cost = PlacementCost(
        programme_id=placement.programme_id,
        placement=placement,
        kind=kind,
        amount=amount,
        note=note,
        created_by=actor.person,
    )
    _validated(cost).save()
    return cost


@transaction.atomic
def placement_cost_update(
    *, actor: Actor, cost: PlacementCost, kind: str, amount: Decimal, note: str
) -> PlacementCost:
    """Correct a recorded cost of a visit. Coordinators only."""
    _check(actor, cost.placement)
    cost.kind, cost.amount, cost.note = kind, amount, note
    _validated(cost).save(update_fields=["kind", "amount", "note"])
    return cost


@transaction.atomic
def placement_cost_delete(*, actor: Actor, cost: PlacementCost) -> None:
    """Remove a recorded cost of a visit. Coordinators only."""
    _check(actor, cost.placement)
    cost.delete()
