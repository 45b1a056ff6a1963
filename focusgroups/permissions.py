"""Who may do what in the focus groups, in one place.

Rights in a group are derived from the person's active ``GroupMembership`` whenever they are checked (no
stored copy, so joining gives them and leaving takes them away at once):

=================  ==================  ==================  ==========================
membership role    ``view_focusgroup``  ``edit_notes``      ``change_focusgroup``
=================  ==================  ==================  ==========================
observer           yes                 no                  no
member             yes                 yes                 no
convener           yes                 yes                 yes
(none / ended)     no                  no                  no
=================  ==================  ==================  ==========================

The same table answers ``user.has_perm("focusgroups.view_focusgroup", group)`` through ``rules`` and the
querysets of the selectors (``groups_with_right``), so a check and a list never disagree.

- **Coordinators** and programme admins create groups, appoint conveners and manage every group's members,
  meetings and actions; they do *not* read group-only notes unless they are members themselves (what a group
  writes for itself stays in the group).
- **Conveners** (``change_focusgroup``) manage their own group: members, meetings, minutes, actions.
- **Members** edit the group's notes and add actions; **observers** read only.
- **Notes** (``can_read_note`` and ``readable_notes_filter``, the one rule for pages, API, socket and
  lists): notes shared with the programme (``Note.SHARED_VISIBILITIES``) are read by every member of the
  programme, ``group`` notes by holders of ``view_focusgroup``. Only holders of ``edit_notes`` edit or
  restore a note.
- The live-notes websocket is the group's working room: only holders of ``view_focusgroup`` join it.
- **Glossary**: every member of the programme reads it, proposes concepts and comments; the term and
  definition of an organisation are set by that organisation's people or a coordinator.

Every check here runs inside the tenant scope the caller activated.
"""

from __future__ import annotations

import rules
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from coordinator.core import shapes
from focusgroups.models import ActionItem, FocusGroup, GroupMembership, Note
from organisations.models import Programme
from organisations.permissions import Actor, actor_for

VIEW = "view_focusgroup"
EDIT_NOTES = "edit_notes"
CHANGE = "change_focusgroup"
ALL_GROUP_RIGHTS = (VIEW, EDIT_NOTES, CHANGE)

ROLE_RIGHTS: dict[str, frozenset[str]] = {
    GroupMembership.Role.OBSERVER: frozenset({VIEW}),
    GroupMembership.Role.MEMBER: frozenset({VIEW, EDIT_NOTES}),
    GroupMembership.Role.CONVENER: frozenset({VIEW, EDIT_NOTES, CHANGE}),
}


def roles_with(codename: str) -> list[str]:
    """The membership roles that carry a right."""
    return [role for role, codenames in ROLE_RIGHTS.items() if codename in codenames]


def group_rights(actor: Actor, group: FocusGroup) -> frozenset[str]:
    """The actor's rights in one group, from their active membership (one query)."""
    if actor.person is None or not actor.is_member(group.programme_id):
        return frozenset()
    role = (
        GroupMembership.objects.filter(group=group, person=actor.person, is_active=True)
        .values_list("role", flat=True)
        .first()
    )
    return role_rights(actor, group.programme_id, role)


def role_rights(actor: Actor, programme_id: int, role: str | None) -> frozenset[str]:
    """``group_rights`` when the active membership's role (or None) is already known."""
    if actor.person is None or not actor.is_member(programme_id):
        return frozenset()
    return ROLE_RIGHTS.get(role or "", frozenset())


def groups_with_right(
    actor: Actor, codename: str, queryset: QuerySet[FocusGroup] | None = None
) -> QuerySet[FocusGroup]:
    """The groups (within the active scope) in which the actor's active membership carries ``codename``."""
    base = queryset if queryset is not None else FocusGroup.objects.all()
    if actor.person is None:
        return base.none()
    return base.filter(
        programme_id__in=actor.programme_ids,
        memberships__person=actor.person,
        memberships__is_active=True,
        memberships__role__in=roles_with(codename),
    ).distinct()


def group_ids_with_right(actor: Actor, codename: str) -> set[int]:
    """Ids of the groups in which the actor holds ``codename``; one query, for lists."""
    person = actor.person
    if person is None:
        return set()
    programme_ids = tuple(sorted(actor.programme_ids))
    # Compiled once per connection, person, programmes and right (see ``shapes.compiled``).
    found = shapes.compiled(
        ("groups with right", person.pk, programme_ids, codename),
        lambda: GroupMembership.objects.filter(
            person_id=person.pk,
            is_active=True,
            role__in=roles_with(codename),
            group__programme_id__in=programme_ids,
        ).values_list("group_id"),
    )
    rows = found.fetch() if isinstance(found, shapes.CompiledPage) else found
    return {row[0] for row in rows}  # type: ignore[index,misc]


def can_manage_groups(actor: Actor, programme: Programme | int) -> bool:
    """Create groups, appoint conveners, manage any group of the programme."""
    return actor.is_coordinator(programme)


def can_manage_group(actor: Actor, group: FocusGroup, rights: frozenset[str] | None = None) -> bool:
    """Members, meetings, minutes and actions of one group: its convener or a coordinator."""
    if can_manage_groups(actor, group.programme_id):
        return True
    return CHANGE in (rights if rights is not None else group_rights(actor, group))


def can_view_group_room(actor: Actor, group: FocusGroup, rights: frozenset[str] | None = None) -> bool:
    """Members, conveners and observers: the group's own notes, the live room with its presence."""
    return VIEW in (rights if rights is not None else group_rights(actor, group))


def can_edit_notes(actor: Actor, group: FocusGroup, rights: frozenset[str] | None = None) -> bool:
    return EDIT_NOTES in (rights if rights is not None else group_rights(actor, group))


def can_read_note(actor: Actor, note: Note, rights: frozenset[str] | None = None) -> bool:
    """Whether the actor may read the note (the rule ``readable_notes_filter`` applies to querysets)."""
    if not actor.is_member(note.group.programme_id):
        return False
    if note.is_shared:
        return True
    return can_view_group_room(actor, note.group, rights)


def readable_notes_filter(actor: Actor) -> Q:
    """``can_read_note`` as a filter on notes: shared notes of the actor's programmes and every note of the
    groups whose room the actor may enter."""
    if actor.person is None:
        return Q(pk__in=[])
    in_room = GroupMembership.objects.filter(
        person=actor.person, is_active=True, role__in=roles_with(VIEW)
    ).values("group_id")
    return Q(group__programme_id__in=actor.programme_ids) & (
        Q(visibility__in=Note.SHARED_VISIBILITIES) | Q(group_id__in=in_room)
    )


def can_edit_note(actor: Actor, note: Note, rights: frozenset[str] | None = None) -> bool:
    return can_edit_notes(actor, note.group, rights)


def can_add_action(actor: Actor, group: FocusGroup, rights: frozenset[str] | None = None) -> bool:
    rights = rights if rights is not None else group_rights(actor, group)
    return can_manage_group(actor, group, rights) or EDIT_NOTES in rights


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


# --- The same rights for ``user.has_perm(perm, group)`` (rules' backend) -----------------------------------


def _holds(codename: str) -> rules.Predicate:
    @rules.predicate(name=f"focusgroups.holds_{codename}")
    def holds(user: AbstractBaseUser | AnonymousUser, group: FocusGroup | None) -> bool:
        if not isinstance(group, FocusGroup) or not user.is_authenticated:
            return False
        return codename in group_rights(actor_for(user), group)

    return holds


for _codename in ALL_GROUP_RIGHTS:
    rules.add_perm(f"focusgroups.{_codename}", _holds(_codename))
