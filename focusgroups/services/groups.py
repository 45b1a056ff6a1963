"""Groups and memberships: the programme's default areas, creating and changing groups, appointing the
convener, adding, changing and ending memberships.

Memberships are the source of truth for who may do what in a group: ``focusgroups.permissions`` derives the
rights from them at every check, so a change here takes effect at once. Members who join receive
the upcoming meetings; members who leave receive their cancellations.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from coordinator.core import registry
from coordinator.core.exceptions import Conflict
from coordinator.core.notifications import notify
from coordinator.core.services import apply_changes, validate
from focusgroups import invites, permissions
from focusgroups.models import FocusGroup, GroupMembership, LivePresence, Meeting
from focusgroups.services._shared import (
    group_url,
    is_programme_member,
    require_manage_group,
)
from focusgroups.services.notes import broadcast
from organisations.models import Person, Programme
from organisations.permissions import Actor

KIND_MEMBERSHIP = "focusgroups.membership"
registry.notification_kinds.register(
    KIND_MEMBERSHIP,
    registry.NotificationKind(KIND_MEMBERSHIP, gettext_lazy("Joining and leaving focus groups")),
)

# The six priority areas every programme starts with (code, name, purpose), written in the programme's
# language when the programme is created.
DEFAULT_GROUPS: tuple[tuple[str, str, str], ...] = (
    (
        "organisationskannedom",
        gettext_noop("Knowledge of each other's organisations"),
        gettext_noop("Knowing each other's organisations: remits, rules, working methods and contacts."),
    ),
    (
        "informationsflodet",
        gettext_noop("The flow of information"),
        gettext_noop("How information about a person's case flows between the agencies, and where it stops."),
    ),
    (
        "malgruppskannedom",
        gettext_noop("Knowledge of the target groups"),
        gettext_noop("Shared knowledge of the target groups: who they are and what they need."),
    ),
    (
        "kartlaggningsmetodik",
        gettext_noop("Methods of mapping skills"),
        gettext_noop("Methods for mapping a person's skills and situation that every agency can use."),
    ),
    (
        "samarbete-samverkan",
        gettext_noop("Cooperation/collaboration"),
        gettext_noop("Forms of cooperation between the agencies: agreements, joint meetings, referrals."),
    ),
    (
        "halsoperspektivet-empowerment",
        gettext_noop("Health perspective/empowerment"),
        gettext_noop("Health and empowerment: how the agencies support people in taking charge."),
    ),
)

GROUP_FIELDS = {"name", "code", "purpose"}
MEMBERSHIP_FIELDS = {"role", "mandate", "sent_by"}


@transaction.atomic
def ensure_default_groups(programme: Programme) -> list[FocusGroup]:
    """Create the programme's six default focus groups where missing (idempotent; system work, no actor).
    Runs inside the programme's scope."""
    groups = []
    for code, name, purpose in DEFAULT_GROUPS:
        group = FocusGroup.objects.filter(programme=programme, code=code).first()
        if group is None:
            with translation.override(programme.language or None):
                group = FocusGroup.objects.create(
                    programme=programme, code=code, name=_(name), purpose=_(purpose), is_default=True
                )
        groups.append(group)
    return groups


def _check_group_unique(group: FocusGroup) -> None:
    others = FocusGroup.objects.filter(programme_id=group.programme_id).exclude(pk=group.pk)
    errors = {}
    if others.filter(code=group.code).exists():
        errors["code"] = _("The programme already has a group with this code.")
    if others.filter(name__iexact=group.name).exists():
        errors["name"] = _("The programme already has a group with this name.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def group_create(
    *, actor: Actor, programme: Programme, values: Mapping[str, Any], convener: Person | None = None
) -> FocusGroup:
    """Add a focus group to the programme. Coordinators only; a convener given here joins as convener."""
    if not permissions.can_manage_groups(actor, programme):
        raise PermissionDenied(_("Only the programme's coordinators may do this."))
    group = FocusGroup(programme=programme)
    apply_changes(group, values, GROUP_FIELDS)
    validate(group, exclude=["convener"])
    _check_group_unique(group)
    group.save()
    if convener is not None:
        _set_convener(actor, group, convener)
    return group


@transaction.atomic
def group_update(
    *, actor: Actor, group: FocusGroup, values: Mapping[str, Any], convener: Person | None = None
) -> FocusGroup:
    """Rename or describe a group (its convener or a coordinator); a new convener only by a coordinator."""
    require_manage_group(actor, group)
    changed = apply_changes(group, values, GROUP_FIELDS)
    validate(group, exclude=["convener"])
    _check_group_unique(group)
    if changed:
        group.save(update_fields=changed)
        invites.reconcile_meetings(_upcoming_meetings(group))  # the group's name is in every summary
    if convener is not None and convener.pk != group.convener_id:
        if not permissions.can_manage_groups(actor, group.programme_id):
            raise PermissionDenied(_("Only the programme's coordinators may appoint a convener."))
        _set_convener(actor, group, convener)
    return group


def _set_convener(actor: Actor, group: FocusGroup, person: Person) -> None:
    """Make ``person`` the group's convener: their membership becomes ``convener``, the previous convener's
    ``member``."""
    if not is_programme_member(person, group.programme_id):
        raise ValidationError({"convener": _("Choose a member of the programme.")})
    for previous in GroupMembership.objects.filter(
        group=group, role=GroupMembership.Role.CONVENER, is_active=True
    ).exclude(person=person):
        previous.role = GroupMembership.Role.MEMBER
        previous.save(update_fields=["role"])
    membership = GroupMembership.objects.filter(group=group, person=person, is_active=True).first()
    if membership is None:
        membership = GroupMembership.objects.create(
            group=group,
            person=person,
            organisation_id=person.organisation_id,
            role=GroupMembership.Role.CONVENER,
        )
        _welcome(group, person)
    elif membership.role != GroupMembership.Role.CONVENER:
        membership.role = GroupMembership.Role.CONVENER
        membership.save(update_fields=["role"])
    group.convener = person
    group.save(update_fields=["convener"])


# --- Memberships ----------------------------------------------------------------------------------------


def _welcome(group: FocusGroup, person: Person) -> None:
    """Tell a new member and send them the group's upcoming meetings."""
    notify(
        programme=group.programme,
        recipients=[person],
        kind=KIND_MEMBERSHIP,
        title=gettext_noop("You have joined the focus group %(group)s"),
        params={"group": group.name},
        url=group_url(group),
    )
    invites.reconcile_meetings(_upcoming_meetings(group), people=[person])


def _upcoming_meetings(group: FocusGroup) -> list[Meeting]:
    return list(
        Meeting.objects.filter(group=group, status=Meeting.Status.SCHEDULED, ends_at__gt=timezone.now())
        .select_related("group__programme")
        .prefetch_related("agenda_items")
    )


@transaction.atomic
def membership_add(
    *,
    actor: Actor,
    group: FocusGroup,
    person: Person,
    role: str = GroupMembership.Role.MEMBER,
    mandate: str = "",
    sent_by: str = "",
) -> GroupMembership:
    """Add a person to a group (convener or coordinators). Sends a notification and the upcoming invites."""
    require_manage_group(actor, group)
    if not is_programme_member(person, group.programme_id):
        raise ValidationError({"person": _("Choose a member of the programme.")})
    if role == GroupMembership.Role.CONVENER and not permissions.can_manage_groups(actor, group.programme_id):
        raise PermissionDenied(_("Only the programme's coordinators may appoint a convener."))
    if GroupMembership.objects.filter(group=group, person=person, is_active=True).exists():
        raise ValidationError({"person": _("This person is already in the group.")})
    membership = GroupMembership(
        group=group,
        person=person,
        organisation_id=person.organisation_id,
        role=role,
        mandate=mandate,
        sent_by=sent_by,
    )
    validate(membership)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as exc:  # a concurrent add of the same person
        raise Conflict(_("This person is already in the group.")) from exc
    if role == GroupMembership.Role.CONVENER:
        _set_convener(actor, group, person)
    _welcome(group, person)
    return membership


@transaction.atomic
def membership_update(
    *, actor: Actor, membership: GroupMembership, values: Mapping[str, Any]
) -> GroupMembership:
    """Change a member's role, mandate or who sent them (convener or coordinators)."""
    group = membership.group
    require_manage_group(actor, group)
    if not membership.is_active:
        raise ValidationError(_("This membership has ended."))
    role = values.get("role", membership.role)
    if GroupMembership.Role.CONVENER in (role, membership.role) and role != membership.role:
        if not permissions.can_manage_groups(actor, group.programme_id):
            raise PermissionDenied(_("Only the programme's coordinators may appoint a convener."))
    changed = apply_changes(membership, values, MEMBERSHIP_FIELDS)
    validate(membership)
    if changed:
        membership.save(update_fields=changed)
    if "role" in changed:
        if role == GroupMembership.Role.CONVENER:
            _set_convener(actor, group, membership.person)
        elif group.convener_id == membership.person_id:
            group.convener = None
            group.save(update_fields=["convener"])
    return membership


@transaction.atomic
def membership_remove(*, actor: Actor, membership: GroupMembership) -> GroupMembership:
    """End a membership (convener or coordinators; a member may leave). Rights go at once, open sockets are
    closed after the commit and the person's upcoming meetings are cancelled in their calendar."""
    group = membership.group
    own = actor.person is not None and actor.person.pk == membership.person_id
    if not own:
        require_manage_group(actor, group)
    if not membership.is_active:  # (ended already: the state, not the request, is in the way)
        raise Conflict(_("This membership has ended."))
    membership.is_active = False
    membership.left_at = timezone.now()
    membership.save(update_fields=["is_active", "left_at"])
    if group.convener_id == membership.person_id:
        group.convener = None
        group.save(update_fields=["convener"])
    invites.reconcile_meetings(_upcoming_meetings(group), people=[membership.person])
    group_id, person_id = group.pk, membership.person_id
    transaction.on_commit(lambda: broadcast(group_id, {"type": "member.removed", "person": person_id}))
    return membership


def memberships_end_for_erasure(person: Person, programme_ids: frozenset[int]) -> int:
    """Part of erasing a person (``organisations.services.personal_data``): their seats in these programmes'
    groups end (and a group they convened has no convener until one is named), their live presence goes,
    and open sockets are closed after the commit. No calendar cancellation is mailed to them: mail to an
    erased person is not kept. Their notes, versions and actions stay, shown as a former member's."""
    ended = list(
        GroupMembership.objects.filter(person=person, group__programme_id__in=programme_ids, is_active=True)
    )
    now = timezone.now()
    for membership in ended:
        membership.is_active = False
        membership.left_at = now
        membership.save(update_fields=["is_active", "left_at"])
    FocusGroup.objects.filter(convener=person, programme_id__in=programme_ids).update(convener=None)
    LivePresence.objects.filter(person=person, group__programme_id__in=programme_ids).delete()
    removed = {"type": "member.removed", "person": person.pk}
    for group_id in sorted({m.group_id for m in ended}):
        transaction.on_commit(partial(broadcast, group_id, removed))
    return len(ended)
