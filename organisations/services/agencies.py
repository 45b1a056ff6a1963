"""Organisations (agencies) and their units."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from coordinator.core.services import apply_changes, validate
from organisations import permissions
from organisations.models import (
    Organisation,
    Participation,
    Programme,
    Unit,
)
from organisations.permissions import Actor
from organisations.services.saving import ORGANISATION_NAME_TAKEN, UNIT_NAME_TAKEN, save_unique

ORGANISATION_FIELDS = {"name", "short_name", "kind", "website"}
UNIT_FIELDS = {"name", "description", "street_address", "postal_code", "city", "parent"}


@transaction.atomic
def organisation_create(
    *, actor: Actor, programme: Programme, name: str, short_name: str, kind: str, website: str = ""
) -> Organisation:
    """Add a new organisation to a programme. Programme admins only."""
    if not permissions.can_manage_programme(actor, programme):
        raise PermissionDenied(_("Only the programme's admins may add organisations."))
    organisation = Organisation(name=name.strip(), short_name=short_name.strip(), kind=kind, website=website)
    validate(organisation)
    save_unique(organisation, field="name", taken=ORGANISATION_NAME_TAKEN)
    Participation.objects.create(programme=programme, organisation=organisation)
    return organisation


@transaction.atomic
def organisation_update(*, actor: Actor, organisation: Organisation, values: dict[str, Any]) -> Organisation:
    """Change an organisation's details: its own admins and the programme admins."""
    if not permissions.can_edit_organisation(actor, organisation):
        raise PermissionDenied(_("You may not change this organisation."))
    changed = apply_changes(organisation, values, ORGANISATION_FIELDS)
    if changed:
        validate(organisation)
        save_unique(organisation, field="name", taken=ORGANISATION_NAME_TAKEN, update_fields=changed)
    return organisation


def check_parent(unit: Unit, organisation: Organisation, parent: Unit | None) -> None:
    if parent is None:
        return
    if parent.organisation_id != organisation.pk:
        raise ValidationError({"parent": _("A unit can only be part of a unit of the same organisation.")})
    seen = set()
    node: Unit | None = parent
    while node is not None:
        if unit.pk is not None and node.pk == unit.pk:
            raise ValidationError({"parent": _("A unit cannot be part of itself.")})
        if node.pk in seen:
            break
        seen.add(node.pk)
        node = node.parent


@transaction.atomic
def unit_create(*, actor: Actor, organisation: Organisation, values: dict[str, Any]) -> Unit:
    """Add a unit (department, office) to an organisation: its admins and the programme admins."""
    if not permissions.can_add_unit_to(actor, organisation):
        raise PermissionDenied(_("You may not add units to this organisation."))
    unit = Unit(organisation=organisation)
    apply_changes(unit, values, UNIT_FIELDS)
    check_parent(unit, organisation, unit.parent)
    validate(unit)
    save_unique(unit, field="name", taken=UNIT_NAME_TAKEN)
    return unit


@transaction.atomic
def unit_update(*, actor: Actor, unit: Unit, values: dict[str, Any]) -> Unit:
    if not permissions.can_edit_unit(actor, unit):
        raise PermissionDenied(_("You may not change this unit."))
    changed = apply_changes(unit, values, UNIT_FIELDS)
    check_parent(unit, unit.organisation, unit.parent)
    if changed:
        validate(unit)
        save_unique(unit, field="name", taken=UNIT_NAME_TAKEN, update_fields=changed)
    return unit


@transaction.atomic
def unit_delete(*, actor: Actor, unit: Unit) -> None:
    if not permissions.can_edit_unit(actor, unit):
        raise PermissionDenied(_("You may not remove this unit."))
    if unit.children.exists():
        raise ValidationError(_("This unit has sub-units; move or remove them first."))
    unit.delete()
