"""Organisations (agencies) and their units, and invitations for an agency already on the platform to take
part in another programme.

An agency is one organisation, whichever programmes it takes part in. Its own admins change it and its
units; a programme's admins change the units created for that programme's work, and the agency itself only
while it takes part in their programme alone (``organisations.permissions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from coordinator.core import registry
from coordinator.core.exceptions import Conflict
from coordinator.core.notifications import notify
from coordinator.core.services import apply_changes, validate
from organisations import permissions
from organisations.models import (
    Organisation,
    Participation,
    ParticipationInvitation,
    Person,
    PlatformRole,
    Programme,
    Unit,
)
from organisations.permissions import Actor
from organisations.services.programmes import require_not_archived
from organisations.services.saving import ORGANISATION_NAME_TAKEN, UNIT_NAME_TAKEN, save_unique

ORGANISATION_FIELDS = {"name", "short_name", "kind", "website"}
UNIT_FIELDS = {"name", "description", "street_address", "postal_code", "city", "parent"}


@transaction.atomic
def organisation_create(
    *, actor: Actor, programme: Programme, name: str, short_name: str, kind: str, website: str = ""
) -> Organisation:
    """Add a new organisation to a programme. Programme admins only.

    A name already registered is refused with the same answer whichever programmes the other organisation
    takes part in (the agency directory lists every agency's name, never its programmes): invite it instead.
    """
    if not permissions.can_manage_programme(actor, programme):
        raise PermissionDenied(_("Only the programme's admins may add organisations."))
    require_not_archived(programme)
    organisation = Organisation(name=name.strip(), short_name=short_name.strip(), kind=kind, website=website)
    validate(organisation)
    save_unique(organisation, field="name", taken=ORGANISATION_NAME_TAKEN)
    Participation.objects.create(programme=programme, organisation=organisation)
    return organisation


@transaction.atomic
def organisation_update(*, actor: Actor, organisation: Organisation, values: dict[str, Any]) -> Organisation:
    """Change an organisation's details: its own admins, and a programme's admins while it takes part in
    their programme only."""
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
def unit_create(
    *,
    actor: Actor,
    organisation: Organisation,
    values: Mapping[str, object],
    programme: Programme | None = None,
) -> Unit:
    """Add a unit (department, office) to an organisation: its own admins, or the admins of ``programme``
    (for that programme's work: the unit is theirs to change, no other programme's)."""
    if not permissions.can_add_unit_to(actor, organisation, programme):
        raise PermissionDenied(_("You may not add units to this organisation."))
    if programme is not None:
        require_not_archived(programme)
    # The agency's own admins keep the unit for the agency; a programme's admins create it for their work.
    created_in = None if permissions.is_agency_admin(actor, organisation) else programme
    unit = Unit(organisation=organisation, created_in=created_in)
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


KIND_PARTICIPATION = "organisations.participation"
registry.notification_kinds.register(
    KIND_PARTICIPATION,
    registry.NotificationKind(
        KIND_PARTICIPATION, gettext_lazy("Invitations for your agency to join programmes")
    ),
)


def agency_admins(organisation: Organisation) -> list[Person]:
    """The people who speak for an agency: its people holding the organisation-admin role anywhere.

    Read past the scope: the invitation comes from a programme they do not belong to yet.
    """
    return list(
        Person.unscoped_objects.filter(
            organisation=organisation,
            memberships__is_active=True,
            memberships__role_assignments__role=PlatformRole.ORGANISATION_ADMIN,
        )
        .select_related("user")
        .distinct()
    )


@transaction.atomic
def participation_invite(
    *, actor: Actor, programme: Programme, organisation: Organisation, message: str = ""
) -> ParticipationInvitation:
    """Invite an agency already on the platform to take part in the programme. Programme admins only; the
    agency's own admins are told and accept or decline."""
    if not permissions.can_manage_programme(actor, programme):
        raise PermissionDenied(_("Only the programme's admins may invite agencies."))
    require_not_archived(programme)
    if Participation.objects.filter(programme=programme, organisation=organisation).exists():
        raise ValidationError({"organisation": _("This agency already takes part in the programme.")})
    invitation = ParticipationInvitation(
        programme=programme, organisation=organisation, message=message, invited_by=actor.person
    )
    validate(invitation)
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError as exc:
        raise ValidationError({"organisation": _("This agency has already been invited.")}) from exc
    admins = agency_admins(organisation)
    if admins:
        notify(
            programme=programme,
            recipients=admins,
            kind=KIND_PARTICIPATION,
            title=gettext_noop("%(programme)s invites %(organisation)s to take part"),
            body=gettext_noop("Accept or decline the invitation on your organisation's page."),
            params={"programme": programme.name, "organisation": organisation.name},
            detail=message,
            url=reverse("organisations:invitations"),
        )
    return invitation


def _answer(
    actor: Actor, invitation: ParticipationInvitation, status: str, *, by_agency: bool
) -> ParticipationInvitation:
    if by_agency and not permissions.is_agency_admin(actor, invitation.organisation_id):
        raise PermissionDenied(_("Only the agency's own admins may answer this invitation."))
    if not by_agency and not permissions.can_manage_programme(actor, invitation.programme):
        raise PermissionDenied(_("Only the programme's admins may withdraw this invitation."))
    require_not_archived(invitation.programme)
    # Compare-and-set by primary key: the agency's admin reads the invitation outside the programme's scope.
    updated = ParticipationInvitation.unscoped_objects.filter(
        pk=invitation.pk, status=ParticipationInvitation.Status.PENDING
    ).update(status=status, answered_at=timezone.now(), answered_by=actor.person)
    if not updated:
        raise Conflict(_("This invitation has already been answered or withdrawn."))
    invitation.refresh_from_db()
    return invitation


@transaction.atomic
def invitation_accept(*, actor: Actor, invitation: ParticipationInvitation) -> ParticipationInvitation:
    """The agency's admin accepts: the agency takes part in the programme from now on."""
    invitation = _answer(actor, invitation, ParticipationInvitation.Status.ACCEPTED, by_agency=True)
    Participation.objects.get_or_create(
        programme_id=invitation.programme_id,
        organisation_id=invitation.organisation_id,
        defaults={"joined_on": timezone.localdate()},
    )
    return invitation


@transaction.atomic
def invitation_decline(*, actor: Actor, invitation: ParticipationInvitation) -> ParticipationInvitation:
    """The agency's admin declines; the programme may invite again later."""
    return _answer(actor, invitation, ParticipationInvitation.Status.DECLINED, by_agency=True)


@transaction.atomic
def invitation_withdraw(*, actor: Actor, invitation: ParticipationInvitation) -> ParticipationInvitation:
    """The programme's admins withdraw an invitation not yet answered."""
    return _answer(actor, invitation, ParticipationInvitation.Status.WITHDRAWN, by_agency=False)
