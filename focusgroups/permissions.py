"""Who may do what in the focus groups, in one place.

Roles in a group come from the person's active ``GroupMembership`` and are stored as django-guardian object
permissions on the group, which ``sync_member_permissions`` keeps equal to the membership (every membership
service calls it in the same transaction):

=================  ==================  ==================  ==========================
membership role    ``view_focusgroup``  ``edit_notes``      ``change_focusgroup``
=================  ==================  ==================  ==========================
observer           yes                 no                  no
member             yes                 yes                 no
convener           yes                 yes                 yes
(none / ended)     no                  no                  no
=================  ==================  ==================  ==========================

- **Coordinators** and programme admins create groups, appoint conveners and manage every group's members,
  meetings and actions; they do *not* read group-only notes unless they are members themselves (what a group
  writes for itself stays in the group).
- **Conveners** (``change_focusgroup``) manage their own group: members, meetings, minutes, actions.
- **Members** edit the group's notes and add actions; **observers** read only.
- **Notes**: ``group`` notes are read by holders of ``view_focusgroup``; ``programme`` and ``public`` notes by
  every member of the programme. Only holders of ``edit_notes`` edit or restore a note.
- The live-notes websocket is the group's working room: only holders of ``view_focusgroup`` connect.
- **Glossary**: every member of the programme reads it, proposes concepts and comments; the term and
  definition of an organisation are set by that organisation's people or a coordinator.

Every check here runs inside the tenant scope the caller activated; guardian only narrows within it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import QuerySet
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from focusgroups.models import (
    ActionItem,
    FocusGroup,
    FocusGroupUserObjectPermission,
    GroupMembership,
    Note,
)
from organisations.models import Programme
from organisations.permissions import Actor

VIEW = "view_focusgroup"
EDIT_NOTES = "edit_notes"
CHANGE = "change_focusgroup"
ALL_GROUP_PERMS = (VIEW, EDIT_NOTES, CHANGE)

ROLE_PERMS: dict[str, frozenset[str]] = {
    GroupMembership.Role.OBSERVER: frozenset({VIEW}),
    GroupMembership.Role.MEMBER: frozenset({VIEW, EDIT_NOTES}),
    GroupMembership.Role.CONVENER: frozenset({VIEW, EDIT_NOTES, CHANGE}),
}


def perms_for_role(role: str | None) -> frozenset[str]:
    return ROLE_PERMS.get(role or "", frozenset())


def sync_member_permissions(group: FocusGroup, person: Any) -> frozenset[str]:
    """Make the person's guardian permissions on the group equal to their active membership's role.

    Returns the permissions held afterwards. Call it inside the service's transaction after every change of
    a membership.
    """
    membership = (
        GroupMembership.unscoped_objects.filter(group=group, person=person, is_active=True)
        .values_list("role", flat=True)
        .first()
    )
    wanted = perms_for_role(membership)
    user = person.user
    held = set(
        FocusGroupUserObjectPermission.objects.filter(user=user, content_object=group).values_list(
            "permission__codename", flat=True
        )
    )
    for codename in sorted(set(ALL_GROUP_PERMS) - wanted):
        if codename in held:
            remove_perm(f"focusgroups.{codename}", user, group)
    for codename in sorted(wanted - held):
        assign_perm(f"focusgroups.{codename}", user, group)
    return wanted


def group_perms(actor: Actor, group: FocusGroup) -> frozenset[str]:
    """The actor's guardian permissions on one group (one query)."""
    if actor.person is None or not actor.is_member(group.programme_id):
        return frozenset()
    codenames = FocusGroupUserObjectPermission.objects.filter(
        user_id=actor.user.pk or 0, content_object_id=group.pk
    ).values_list("permission__codename", flat=True)
    return frozenset(codenames)


def groups_with_perm(
    actor: Actor, codename: str, queryset: QuerySet[FocusGroup] | None = None
) -> QuerySet[FocusGroup]:
    """The groups (within the active scope) on which the actor holds ``codename`` as an object permission."""
    base = queryset if queryset is not None else FocusGroup.objects.all()
    if actor.person is None:
        return base.none()
    return get_objects_for_user(
        actor.user,
        f"focusgroups.{codename}",
        klass=base,
        accept_global_perms=False,
        with_superuser=False,
    )


def group_ids_with_perm(actor: Actor, codename: str) -> set[int]:
    """Ids of the groups on which the actor holds ``codename``; one query, for lists."""
    if actor.person is None:
        return set()
    return set(
        FocusGroupUserObjectPermission.objects.filter(
            user_id=actor.user.pk or 0, permission__codename=codename
        ).values_list("content_object_id", flat=True)
    )


def can_manage_groups(actor: Actor, programme: Programme | int) -> bool:
    """Create groups, appoint conveners, manage any group of the programme."""
    return actor.is_coordinator(programme)


def can_manage_group(actor: Actor, group: FocusGroup, perms: frozenset[str] | None = None) -> bool:
    """Members, meetings, minutes and actions of one group: its convener or a coordinator."""
    if can_manage_groups(actor, group.programme_id):
        return True
    return CHANGE in (perms if perms is not None else group_perms(actor, group))


def can_view_group_room(actor: Actor, group: FocusGroup, perms: frozenset[str] | None = None) -> bool:
    """Members, conveners and observers: the group's own notes, the live room with its presence."""
    return VIEW in (perms if perms is not None else group_perms(actor, group))


def can_edit_notes(actor: Actor, group: FocusGroup, perms: frozenset[str] | None = None) -> bool:
    return EDIT_NOTES in (perms if perms is not None else group_perms(actor, group))


def can_read_note(actor: Actor, note: Note, perms: frozenset[str] | None = None) -> bool:
    if not actor.is_member(note.group.programme_id):
        return False
    if note.visibility != Note.Visibility.GROUP:
        return True
    return can_view_group_room(actor, note.group, perms)


def can_edit_note(actor: Actor, note: Note, perms: frozenset[str] | None = None) -> bool:
    return can_edit_notes(actor, note.group, perms)


def can_add_action(actor: Actor, group: FocusGroup, perms: frozenset[str] | None = None) -> bool:
    perms = perms if perms is not None else group_perms(actor, group)
    return can_manage_group(actor, group, perms) or EDIT_NOTES in perms


def can_update_action(actor: Actor, action: ActionItem, *, can_manage: bool | None = None) -> bool:
    """The owner moves their own action along; the convener and coordinators change any (``can_manage``:
    whether the actor manages the action's group, when the caller knows it already)."""
    if actor.person is not None and action.owner_id == actor.person.pk:
        return True
    return can_manage if can_manage is not None else can_manage_group(actor, action.group)


def can_use_glossary(actor: Actor, programme: Programme | int) -> bool:
    return actor.person is not None and actor.is_member(programme)


def can_set_term(actor: Actor, programme: Programme | int, organisation_id: int) -> bool:
    """An organisation's own people write its term; coordinators may fill in for any organisation."""
    if not can_use_glossary(actor, programme):
        return False
    return actor.organisation_id == organisation_id or actor.is_coordinator(programme)


def permission_objects() -> QuerySet[Permission]:
    return Permission.objects.filter(content_type__app_label="focusgroups", codename__in=ALL_GROUP_PERMS)
