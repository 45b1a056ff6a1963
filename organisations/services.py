"""Every write of the organisations app: programmes, funders, organisations, units, people and roles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core.exceptions import Conflict
from coordinator.core.services import apply_changes, validate
from organisations import permissions
from organisations.models import (
    Funder,
    Membership,
    Organisation,
    Participation,
    Person,
    PlatformRole,
    Programme,
    RoleAssignment,
    Unit,
    WorkRole,
)
from organisations.permissions import Actor, forget_actor

PROGRAMME_FIELDS = {"name", "description", "time_zone", "language", "coordinator_email"}
ORGANISATION_FIELDS = {"name", "short_name", "kind", "website"}
UNIT_FIELDS = {"name", "description", "street_address", "postal_code", "city", "parent"}
OWN_PROFILE_FIELDS = {"phone", "languages", "preferred_language", "job_title"}
EMPLOYMENT_FIELDS = {"unit", "line_manager", "job_title", "phone", "languages", "preferred_language"}


@dataclass(frozen=True)
class FunderShare:
    name: str
    share_percent: Decimal


ORGANISATION_NAME_TAKEN = gettext_noop("An organisation with this name is already registered.")
UNIT_NAME_TAKEN = gettext_noop("This organisation already has a unit with this name.")


def _save_unique(instance: Model, *, field: str, taken: str, update_fields: list[str] | None = None) -> None:
    """Save ``instance``, where ``field`` must be unique: a clash is an input error on that field, with the
    message ``taken`` (a ``gettext_noop`` source text).

    Uniqueness is left to the database, because a check through the scoped manager could not see other
    programmes' rows; the savepoint keeps the surrounding transaction usable when someone else took the
    name meanwhile.
    """
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise ValidationError({field: _(taken)}) from exc


def _save_changed(instance: Model, changed: list[str]) -> None:
    """Validate and save the changed fields of a row that has no unique field the caller can change. A
    database refusal then means a row it refers to changed under the caller (a unit removed meanwhile)."""
    if not changed:
        return
    validate(instance)
    try:
        with transaction.atomic():
            instance.save(update_fields=changed)
    except IntegrityError as exc:
        raise Conflict(_("This conflicts with an existing record.")) from exc


# --- Programmes -----------------------------------------------------------------------------------------


@transaction.atomic
def programme_update(
    *,
    actor: Actor,
    programme: Programme,
    values: dict[str, Any],
    funders: Sequence[FunderShare] | None = None,
) -> Programme:
    """Change a programme's settings and, optionally, replace its funders. Programme admins only."""
    if not permissions.can_manage_programme(actor, programme):
        raise PermissionDenied(_("Only the programme's admins may change it."))
    _save_changed(programme, apply_changes(programme, values, PROGRAMME_FIELDS))
    if funders is not None:
        funders_replace(actor=actor, programme=programme, funders=funders)
    return programme


@transaction.atomic
def funders_replace(*, actor: Actor, programme: Programme, funders: Sequence[FunderShare]) -> list[Funder]:
    """Replace the programme's funders; their shares may not exceed 100 % together."""
    if not permissions.can_manage_programme(actor, programme):
        raise PermissionDenied(_("Only the programme's admins may change its funders."))
    names = [f.name.strip() for f in funders]
    if len(set(n.casefold() for n in names)) != len(names):
        raise ValidationError({"funders": _("Each funder may appear only once.")})
    total = sum((f.share_percent for f in funders), Decimal("0"))
    if total > Decimal("100"):
        raise ValidationError(
            {
                "funders": _("The funders' shares add up to %(total)s %%; at most 100 %% is possible.")
                % {"total": format(total.normalize(), "f")}
            }
        )
    # Locks the programme row so that two admins replacing funders at once cannot interleave.
    Programme.objects.select_for_update().get(pk=programme.pk)
    Funder.objects.filter(programme=programme).delete()
    created = []
    for share in funders:
        funder = Funder(programme=programme, name=share.name.strip(), share_percent=share.share_percent)
        funder.full_clean(validate_constraints=False)
        funder.save()
        created.append(funder)
    return created


# --- Organisations and units ----------------------------------------------------------------------------


@transaction.atomic
def organisation_create(
    *, actor: Actor, programme: Programme, name: str, short_name: str, kind: str, website: str = ""
) -> Organisation:
    """Add a new organisation to a programme. Programme admins only."""
    if not permissions.can_manage_programme(actor, programme):
        raise PermissionDenied(_("Only the programme's admins may add organisations."))
    organisation = Organisation(name=name.strip(), short_name=short_name.strip(), kind=kind, website=website)
    validate(organisation)
    _save_unique(organisation, field="name", taken=ORGANISATION_NAME_TAKEN)
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
        _save_unique(organisation, field="name", taken=ORGANISATION_NAME_TAKEN, update_fields=changed)
    return organisation


def _check_parent(unit: Unit, organisation: Organisation, parent: Unit | None) -> None:
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
    _check_parent(unit, organisation, unit.parent)
    validate(unit)
    _save_unique(unit, field="name", taken=UNIT_NAME_TAKEN)
    return unit


@transaction.atomic
def unit_update(*, actor: Actor, unit: Unit, values: dict[str, Any]) -> Unit:
    if not permissions.can_edit_unit(actor, unit):
        raise PermissionDenied(_("You may not change this unit."))
    changed = apply_changes(unit, values, UNIT_FIELDS)
    _check_parent(unit, unit.organisation, unit.parent)
    if changed:
        validate(unit)
        _save_unique(unit, field="name", taken=UNIT_NAME_TAKEN, update_fields=changed)
    return unit


@transaction.atomic
def unit_delete(*, actor: Actor, unit: Unit) -> None:
    if not permissions.can_edit_unit(actor, unit):
        raise PermissionDenied(_("You may not remove this unit."))
    if unit.children.exists():
        raise ValidationError(_("This unit has sub-units; move or remove them first."))
    unit.delete()


# --- People ---------------------------------------------------------------------------------------------


def _check_line_manager(person: Person, manager: Person | None) -> None:
    if manager is None:
        return
    if manager.pk == person.pk:
        raise ValidationError({"line_manager": _("A person cannot be their own line manager.")})
    if manager.organisation_id != person.organisation_id:
        raise ValidationError({"line_manager": _("The line manager must work in the same organisation.")})
    node: Person | None = manager
    seen: set[int] = set()
    while node is not None and node.pk not in seen:
        if node.line_manager_id == person.pk:
            raise ValidationError({"line_manager": _("This would make a circle of line managers.")})
        seen.add(node.pk)
        node = node.line_manager


def _check_unit(person: Person, unit: Unit | None) -> None:
    if unit is not None and unit.organisation_id != person.organisation_id:
        raise ValidationError({"unit": _("The unit must belong to the person's organisation.")})


@transaction.atomic
def person_update(*, actor: Actor, person: Person, values: dict[str, Any]) -> Person:
    """Change a person's profile.

    The person may change their own contact details and preferences; their organisation's admins and the
    programme admins may also change unit and line manager.
    """
    if permissions.can_edit_person(actor, person):
        allowed = EMPLOYMENT_FIELDS
    elif permissions.can_edit_own_profile(actor, person):
        allowed = OWN_PROFILE_FIELDS
    else:
        raise PermissionDenied(_("You may not change this person's profile."))
    changed = apply_changes(person, values, allowed)
    _check_unit(person, person.unit)
    _check_line_manager(person, person.line_manager)
    _save_changed(person, changed)
    return person


@transaction.atomic
def person_create(
    *,
    actor: Actor,
    programme: Programme,
    organisation: Organisation,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    values: dict[str, Any] | None = None,
    work_role: WorkRole | None = None,
    roles: Iterable[str] = (PlatformRole.STAFF,),
) -> Person:
    """Register a member of staff in a programme: their organisation's admins and the programme admins."""
    if not permissions.can_edit_organisation(actor, organisation):
        raise PermissionDenied(_("You may not add people to this organisation."))
    if not Participation.objects.filter(programme=programme, organisation=organisation).exists():
        raise ValidationError({"organisation": _("This organisation does not take part in the programme.")})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    person = Person(user=user, organisation=organisation)
    for name, value in (values or {}).items():
        if name not in EMPLOYMENT_FIELDS:
            raise ValidationError({name: _("This field cannot be set here.")})
        setattr(person, name, value)
    _check_unit(person, person.unit)
    _check_line_manager(person, person.line_manager)
    person.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
    person.save()
    membership_grant(actor=actor, programme=programme, person=person, roles=roles, work_role=work_role)
    return person


@transaction.atomic
def membership_grant(
    *,
    actor: Actor,
    programme: Programme,
    person: Person,
    roles: Iterable[str],
    work_role: WorkRole | None = None,
) -> Membership:
    """Make a person a member of a programme with the given roles (replacing earlier roles there).

    Programme admins may grant every role; an organisation's admins may grant staff, line manager and host
    contact to people of their own organisation.
    """
    roles = set(roles)
    unknown = roles - set(PlatformRole.values)
    if unknown:
        raise ValidationError({"roles": _("Unknown role: %(roles)s") % {"roles": ", ".join(sorted(unknown))}})
    delegable = {PlatformRole.STAFF, PlatformRole.LINE_MANAGER, PlatformRole.HOST_CONTACT}
    is_admin = actor.is_programme_admin(programme)
    org_admin = (
        actor.has_role(programme, PlatformRole.ORGANISATION_ADMIN)
        and actor.organisation_id == person.organisation_id
    )
    if not (is_admin or (org_admin and roles <= delegable)):
        raise PermissionDenied(_("You may not grant these roles."))
    if work_role is not None and work_role.programme_id != programme.pk:
        raise ValidationError({"work_role": _("Choose a role at work from this programme's list.")})
    membership, _created = Membership.objects.get_or_create(programme=programme, person=person)
    if work_role is not None and membership.work_role_id != work_role.pk:
        membership.work_role = work_role
        membership.save(update_fields=["work_role"])
    RoleAssignment.objects.filter(membership=membership).exclude(role__in=roles).delete()
    existing = set(RoleAssignment.objects.filter(membership=membership).values_list("role", flat=True))
    for role in sorted(roles - existing):
        # One by one (a handful at most) so that each grant is on the audit trail; bulk_create sends no
        # signals.
        RoleAssignment.objects.create(membership=membership, role=role)
    forget_actor(person.user)
    return membership


@transaction.atomic
def calendar_token_rotate(*, actor: Actor, person: Person) -> str:
    """Give the person a new secret calendar feed address; the old one stops working at once."""
    if not permissions.can_edit_own_profile(actor, person):
        raise PermissionDenied(_("Only the person themselves may renew their calendar address."))
    person.renew_calendar_address()
    person.save(update_fields=["calendar_nonce", "calendar_token_hash", "legacy_calendar_token_hash"])
    return person.calendar_token
