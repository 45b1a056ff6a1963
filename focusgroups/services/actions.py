"""Actions: what someone promised to do for a group, its owner, due date and status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from coordinator.core import registry
from coordinator.core.notifications import notify
from coordinator.core.services import apply_changes, validate
from focusgroups import permissions
from focusgroups.models import ActionItem, FocusGroup, Meeting, Note
from focusgroups.services._shared import group_url, is_programme_member
from organisations.models import Organisation, Person
from organisations.permissions import Actor

KIND_ACTION = "focusgroups.action"
registry.notification_kinds.register(
    KIND_ACTION, registry.NotificationKind(KIND_ACTION, gettext_lazy("Focus-group actions assigned to you"))
)

ACTION_FIELDS = {"title", "description", "due_on", "status", "meeting", "note", "note_line"}


def _is_own(actor: Actor, owner: Person) -> bool:
    return actor.person is not None and actor.person.pk == owner.pk


def _check_owner(group: FocusGroup, owner: Person) -> None:
    if not is_programme_member(owner, group.programme_id):
        raise ValidationError({"owner": _("Choose a member of the programme.")})


def _check_action_meeting(group: FocusGroup, meeting: Meeting | None) -> None:
    if meeting is not None and meeting.group_id != group.pk:
        raise ValidationError({"meeting": _("Choose a meeting of this group.")})


def _check_action_note(action: ActionItem) -> bool:
    """An action comes from a note of its own group; a line without its note means nothing (it is cleared:
    returns whether it was)."""
    note: Note | None = action.note
    if note is not None and note.group_id != action.group_id:
        raise ValidationError({"note": _("Choose a note of this group.")})
    if note is None and action.note_line:
        action.note_line = ""
        return True
    return False


def _check_minutes_meeting(action: ActionItem) -> bool:
    """An action from a line of a meeting's minutes was agreed at that meeting (it is linked to it when no
    meeting is given: returns whether it was)."""
    note: Note | None = action.note
    if note is None or note.meeting_id is None:
        return False
    if action.meeting_id is None:
        action.meeting_id = note.meeting_id
        return True
    if action.meeting_id != note.meeting_id:
        raise ValidationError({"meeting": _("An action from a meeting's minutes belongs to that meeting.")})
    return False


@transaction.atomic
def action_create(
    *,
    actor: Actor,
    group: FocusGroup,
    owner: Person,
    values: Mapping[str, Any],
    organisation: Organisation | None = None,
) -> ActionItem:
    """Record an action (members, the convener, coordinators); the owner is told unless they made it."""
    if not permissions.can_add_action(actor, group):
        raise PermissionDenied(_("Only the group's members may add actions."))
    _check_owner(group, owner)
    action = ActionItem(
        group=group,
        owner=owner,
        organisation_id=organisation.pk if organisation else owner.organisation_id,
        created_by=actor.person,
    )
    apply_changes(action, values, ACTION_FIELDS)
    _check_action_meeting(group, action.meeting)
    _check_action_note(action)
    _check_minutes_meeting(action)
    validate(action, exclude=["created_by"])
    action.save()
    notify(
        programme=group.programme,
        recipients=[] if _is_own(actor, owner) else [owner],
        kind=KIND_ACTION,
        title=gettext_noop("New action for you in %(group)s: %(title)s"),
        params={"group": group.name, "title": action.title},
        url=group_url(group),
    )
    return action


@transaction.atomic
def action_update(
    *, actor: Actor, action: ActionItem, values: Mapping[str, Any], owner: Person | None = None
) -> ActionItem:
    """Move an action along (its owner) or change it (the convener, coordinators); a new owner is told."""
    if not permissions.can_update_action(actor, action):
        raise PermissionDenied(_("Only the action's owner, the convener or a coordinator may change it."))
    if (set(values) - {"status"} or owner is not None) and not permissions.can_manage_group(
        actor, action.group
    ):
        if not (actor.person is not None and action.created_by_id == actor.person.pk):
            raise PermissionDenied(_("The owner may only change the status."))
    changed = apply_changes(action, values, ACTION_FIELDS)
    _check_action_meeting(action.group, action.meeting)
    if _check_action_note(action) and "note_line" not in changed:
        changed.append("note_line")
    if _check_minutes_meeting(action) and "meeting" not in changed:
        changed.append("meeting")
    new_owner = owner is not None and owner.pk != action.owner_id
    if owner is not None and new_owner:
        _check_owner(action.group, owner)
        action.owner = owner
        action.organisation_id = owner.organisation_id
        changed += ["owner", "organisation"]
    validate(action, exclude=["created_by"])
    if changed:
        action.save(update_fields=[*changed, "updated_at"])
    if new_owner:
        notify(
            programme=action.group.programme,
            recipients=[] if _is_own(actor, action.owner) else [action.owner],
            kind=KIND_ACTION,
            title=gettext_noop("New action for you in %(group)s: %(title)s"),
            params={"group": action.group.name, "title": action.title},
            url=group_url(action.group),
        )
    return action
