"""People, their programme memberships and roles, and their calendar feed tokens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from coordinator.core import itip
from coordinator.core.services import apply_changes
from organisations import permissions
from organisations.models import (
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
from organisations.services.programmes import require_not_archived
from organisations.services.saving import save_changed

OWN_PROFILE_FIELDS = {"phone", "languages", "preferred_language", "job_title"}
EMPLOYMENT_FIELDS = {"unit", "line_manager", "job_title", "phone", "languages", "preferred_language"}


def check_line_manager(person: Person, manager: Person | None) -> None:
    if manager is None:
        return
    if manager.pk == person.pk:
        raise ValidationError({"line_manager": _("A person cannot be their own line manager.")})
    if manager.organisation_id != person.organisation_id:
        raise ValidationError({"line_manager": _("The line manager must work in the same organisation.")})
    if person.pk is None:
        # A person being created has no reports yet, so no circle can close through them (and comparing
        # with their unsaved id, None, would match every manager who has no line manager).
        return
    node: Person | None = manager
    seen: set[int] = set()
    while node is not None and node.pk not in seen:
        if node.line_manager_id == person.pk:
            raise ValidationError({"line_manager": _("This would make a circle of line managers.")})
        seen.add(node.pk)
        node = node.line_manager


def check_unit(person: Person, unit: Unit | None) -> None:
    if unit is not None and unit.organisation_id != person.organisation_id:
        raise ValidationError({"unit": _("The unit must belong to the person's organisation.")})


@transaction.atomic
def person_update(*, actor: Actor, person: Person, values: dict[str, Any]) -> Person:
    """Change a person's profile.

    The person may change their own contact details and preferences; their organisation's admins and the
    programme admins may also change unit and line manager. A new phone number reaches the calendars of the
    visits that show it (a host contact's), as an update, after the commit.
    """
    if permissions.can_edit_person(actor, person):
        allowed = EMPLOYMENT_FIELDS
    elif permissions.can_edit_own_profile(actor, person):
        allowed = OWN_PROFILE_FIELDS
    else:
        raise PermissionDenied(_("You may not change this person's profile."))
    changed = apply_changes(person, values, allowed)
    check_unit(person, person.unit)
    check_line_manager(person, person.line_manager)
    save_changed(person, changed)
    if "phone" in changed:
        itip.people_changed([person.pk], ["phone"])
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
    if not permissions.can_manage_people_of(actor, programme, organisation):
        raise PermissionDenied(_("You may not add people to this organisation."))
    require_not_archived(programme)
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
    check_unit(person, person.unit)
    check_line_manager(person, person.line_manager)
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
    require_not_archived(programme)
    if work_role is not None and work_role.programme_id != programme.pk:
        raise ValidationError({"work_role": _("Choose a role at work from this programme's list.")})
    membership, _created = Membership.objects.get_or_create(programme=programme, person=person)
    if not membership.is_active:  # someone coming back; their account returns with a new invitation
        membership.is_active = True
        membership.save(update_fields=["is_active"])
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
