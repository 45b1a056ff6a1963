"""Programmes: creating one with what it starts with, its settings and funders, archiving it, and its
controlled list of roles at work."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core import registry
from coordinator.core.calendar import mail_address
from coordinator.core.exceptions import Conflict
from coordinator.core.services import apply_changes, validate
from coordinator.core.tenancy import programme_scope
from organisations import permissions
from organisations.access.revocation import close_sockets_of_programme
from organisations.models import (
    Funder,
    Membership,
    Organisation,
    Participation,
    Person,
    PlatformRole,
    Programme,
    RoleAssignment,
    WorkRole,
)
from organisations.permissions import Actor, forget_actor
from organisations.services import invitations
from organisations.services.saving import ORGANISATION_NAME_TAKEN, save_changed, save_unique

PROGRAMME_FIELDS = {
    "name",
    "description",
    "time_zone",
    "country",
    "language",
    "coordinator_email",
    "own_rule",
    "matching_closes_gaps",
}
CREATE_FIELDS = (PROGRAMME_FIELDS - {"matching_closes_gaps"}) | {"slug"}
# Settings a programme is given after it starts (a new programme takes the defaults).
SETTINGS_FIELDS = PROGRAMME_FIELDS | {"follow_up_months", "visit_day_cost"}
WORK_ROLE_FIELDS = {"code", "name"}
ARCHIVED = gettext_noop("This programme is archived: it can be read and exported, but not changed.")


def require_not_archived(programme: Programme) -> None:
    """Refuse a write in an archived programme, with a message saying why (409 in the API)."""
    if programme.archived_at is not None:
        raise Conflict(_(ARCHIVED))


@dataclass(frozen=True)
class NewOrganisation:
    name: str
    short_name: str
    kind: str


@dataclass(frozen=True)
class FirstAdmin:
    """The programme's first admin: an existing person (by username), or a new one of an organisation
    already on the platform (``organisation``) or of a new one (``new_organisation``)."""

    username: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    organisation: Organisation | None = None
    new_organisation: NewOrganisation | None = None


def _first_admin_person(admin: FirstAdmin) -> Person:
    # The platform administrator works outside every programme's scope: the person and the organisation
    # are read by their natural keys, which the administrator typed.
    user = User.objects.filter(username__iexact=admin.username).first()
    if user is not None:
        person = Person.unscoped_objects.filter(user=user).select_related("organisation").first()
        if person is None:
            raise ValidationError({"first_admin": _("This user has no staff profile.")})
        if admin.organisation is not None and admin.organisation.pk != person.organisation_id:
            raise ValidationError({"first_admin": _("This person works for another organisation.")})
        return person
    if (admin.organisation is None) == (admin.new_organisation is None):
        raise ValidationError(
            {"first_admin": _("Name the first admin's organisation: one on the platform or a new one.")}
        )
    if not admin.email or not admin.first_name or not admin.last_name:
        raise ValidationError({"first_admin": _("A new person needs an email address and a full name.")})
    organisation = admin.organisation
    if admin.new_organisation is not None:
        new = admin.new_organisation
        organisation = Organisation(name=new.name.strip(), short_name=new.short_name.strip(), kind=new.kind)
        validate(organisation)
        save_unique(organisation, field="first_admin", taken=ORGANISATION_NAME_TAKEN)
    user = User(
        username=admin.username, email=admin.email, first_name=admin.first_name, last_name=admin.last_name
    )
    user.set_unusable_password()
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise ValidationError({"first_admin": exc.messages}) from exc
    user.save()
    person = Person(user=user, organisation=organisation)
    person.save()
    return person


@transaction.atomic
def programme_create(*, actor: Actor, values: Mapping[str, object], first_admin: FirstAdmin) -> Programme:
    """Start a programme: platform administrators only.

    Creates the programme, its first admin (who also holds the organisation-admin role of their
    organisation) and their organisation's participation, and what every programme starts with (the
    handlers of ``registry.programme_created``: the six default focus groups and the default roles at
    work, written in the programme's language). A first admin new to the platform gets an invitation.
    The organiser mailbox (``coordinator_email``) is required:
    it is the organiser of every calendar invite the programme sends.
    """
    if not permissions.is_platform_admin(actor):
        raise PermissionDenied(_("Only platform administrators may start programmes."))
    if not values.get("coordinator_email"):
        raise ValidationError({"coordinator_email": _("Give the programme's organiser mailbox.")})
    programme = Programme()
    apply_changes(programme, values, CREATE_FIELDS)
    validate(programme)
    try:
        programme.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc
    save_unique(programme, field="slug", taken=SLUG_TAKEN)
    person = _first_admin_person(first_admin)
    Participation.objects.create(programme=programme, organisation=person.organisation)
    membership = Membership.objects.create(programme=programme, person=person)
    for role in (PlatformRole.PROGRAMME_ADMIN, PlatformRole.ORGANISATION_ADMIN, PlatformRole.STAFF):
        RoleAssignment.objects.create(membership=membership, role=role)
    forget_actor(person.user)
    with programme_scope([programme.pk]):
        for handler in registry.programme_created:
            handler(programme)
        # A first admin new to the platform is invited to choose a password (or to sign in with the
        # agency's identity provider); the mail leaves after the commit.
        if not invitations.has_account(person):
            invitations.invite_first_admin(actor=actor, programme=programme, person=person)
    return programme


SLUG_TAKEN = gettext_noop("This short name is taken; choose another.")


@transaction.atomic
def programme_archive(*, actor: Actor, programme: Programme) -> Programme:
    """Archive a programme: read-only from now on (every write is refused), still readable and exportable.
    The programme's admins and platform administrators. Archiving happens here, and only here."""
    if not (permissions.can_manage_programme(actor, programme) or permissions.is_platform_admin(actor)):
        raise PermissionDenied(_("Only the programme's admins may archive it."))
    updated = Programme.unscoped_objects.filter(pk=programme.pk, archived_at__isnull=True).update(
        archived_at=timezone.now()
    )
    if not updated:
        raise Conflict(_("This programme is already archived."))
    programme.refresh_from_db(fields=["archived_at"])
    # Live sockets could still write: every socket serving the programme closes after the commit, and
    # the sockets' own check no longer counts memberships of an archived programme.
    close_sockets_of_programme(programme.pk, "archived")
    return programme


@transaction.atomic
def programme_restore(*, actor: Actor, programme: Programme) -> Programme:
    """Open an archived programme for changes again. Platform administrators only."""
    if not permissions.is_platform_admin(actor):
        raise PermissionDenied(_("Only platform administrators may restore an archived programme."))
    updated = Programme.unscoped_objects.filter(pk=programme.pk, archived_at__isnull=False).update(
        archived_at=None
    )
    if not updated:
        raise Conflict(_("This programme is not archived."))
    programme.refresh_from_db(fields=["archived_at"])
    return programme


def _require_work_roles_right(actor: Actor, programme: Programme) -> None:
    if not permissions.can_manage_programme(actor, programme):
        raise PermissionDenied(_("Only the programme's admins may change its roles at work."))
    require_not_archived(programme)


def _save_work_role(work_role: WorkRole, changed: list[str] | None = None) -> None:
    validate(work_role)
    try:
        work_role.full_clean(exclude=["programme"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc
    save_unique(work_role, field="code", taken=WORK_ROLE_CODE_TAKEN, update_fields=changed)


WORK_ROLE_CODE_TAKEN = gettext_noop("The programme already has a role at work with this code.")


@transaction.atomic
def work_role_create(*, actor: Actor, programme: Programme, values: Mapping[str, object]) -> WorkRole:
    """Add a role at work to the programme's controlled list. Programme admins only."""
    _require_work_roles_right(actor, programme)
    work_role = WorkRole(programme=programme)
    apply_changes(work_role, values, WORK_ROLE_FIELDS)
    _save_work_role(work_role)
    return work_role


@transaction.atomic
def work_role_update(*, actor: Actor, work_role: WorkRole, values: Mapping[str, object]) -> WorkRole:
    """Rename a role at work or change its code. Programme admins only."""
    _require_work_roles_right(actor, work_role.programme)
    changed = apply_changes(work_role, values, WORK_ROLE_FIELDS)
    if changed:
        _save_work_role(work_role, changed)
    return work_role


@transaction.atomic
def work_role_delete(*, actor: Actor, work_role: WorkRole) -> None:
    """Remove a role at work nobody holds. Programme admins only."""
    _require_work_roles_right(actor, work_role.programme)
    try:
        with transaction.atomic():
            work_role.delete()
    except (ProtectedError, IntegrityError) as exc:
        raise Conflict(
            _("Members of the programme hold this role at work; give them another first.")
        ) from exc


@dataclass(frozen=True)
class FunderShare:
    name: str
    share_percent: Decimal


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
    require_not_archived(programme)
    changed = apply_changes(programme, values, SETTINGS_FIELDS)
    if "coordinator_email" in changed:
        _check_organiser_mailbox(programme)
    save_changed(programme, changed)
    if funders is not None:
        funders_replace(actor=actor, programme=programme, funders=funders)
    return programme


def _check_organiser_mailbox(programme: Programme) -> None:
    """The organiser of every invite is a mailbox, never a participant: a member's own address there would
    make them organiser and attendee of the same event, and their replies would be read as the organiser's.
    (Events already sent keep the organiser they were sent with.)"""
    address = programme.coordinator_email.strip()
    if not address:
        return
    mailbox = mail_address(address)
    if Person.objects.filter(
        Q(user__email__iexact=address) | Q(user__email__iexact=mailbox),
        memberships__programme=programme,
    ).exists():
        raise ValidationError(
            {
                "coordinator_email": _(
                    "This is a member's own address. Use a shared mailbox that takes part in no event."
                )
            }
        )


def check_funders(funders: Sequence[FunderShare]) -> None:
    """A programme's funders: each named once, their shares at most 100 % together (the API, the pages
    and the admin's funder rows ask the same)."""
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


@transaction.atomic
def funders_replace(*, actor: Actor, programme: Programme, funders: Sequence[FunderShare]) -> list[Funder]:
    """Replace the programme's funders; their shares may not exceed 100 % together."""
    if not permissions.can_manage_programme(actor, programme):
        raise PermissionDenied(_("Only the programme's admins may change its funders."))
    require_not_archived(programme)
    check_funders(funders)
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
