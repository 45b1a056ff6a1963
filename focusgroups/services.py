"""Every write of the focus-groups app: groups, memberships, meetings and minutes, shared notes and their
versions, actions and the shared glossary.

Rights
------
Memberships are the source of truth for who may do what in a group; every membership service ends with
``permissions.sync_member_permissions`` in the same transaction, so the guardian object permissions the
views, the API and the websocket check can never drift from the membership list.

Notes
-----
A note carries a ``version``. A save names the version it was based on; ``note_save`` moves the note from
that version to the next with one compare-and-set ``UPDATE ... WHERE id = %s AND version = %s`` through
``Note.unscoped_objects`` (the tenant check is the caller's scoped read of the note; a CAS through the
scoped manager would become ``id IN (subquery)``, which is not safe under concurrency on PostgreSQL). When
no row matches, someone else saved first: ``StaleVersion`` carries the current note and nothing is written,
so the caller can show both texts and let the person merge and save again. Each successful save writes a
``NoteVersion`` (never changed afterwards); a restore is a new version whose text equals an old one. After
the commit the save is broadcast to the group's live-notes sockets (``notes_group``).

Meetings
--------
``meeting_create`` sends a ``METHOD:REQUEST`` invite to every active member, ``meeting_update`` an update
with SEQUENCE + 1 when the time, place or title changes, ``meeting_cancel`` a ``METHOD:CANCEL`` (see
``focusgroups.invites``). Members who join later receive the upcoming meetings; members who leave receive
their cancellations.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from coordinator.core import registry
from coordinator.core.notifications import notify
from focusgroups import invites
from focusgroups import permissions as perms
from focusgroups.models import (
    ActionItem,
    AgendaItem,
    Concept,
    ConceptComment,
    ConceptTerm,
    Decision,
    FocusGroup,
    GroupMembership,
    Meeting,
    Note,
    NoteVersion,
)
from organisations.models import Membership, Organisation, Person, Programme
from organisations.permissions import Actor

logger = logging.getLogger(__name__)

KIND_MEETING = "focusgroups.meeting"
KIND_ACTION = "focusgroups.action"
KIND_MEMBERSHIP = "focusgroups.membership"
registry.notification_kinds.register(
    KIND_MEETING, registry.NotificationKind(KIND_MEETING, gettext_lazy("Focus-group meetings and minutes"))
)
registry.notification_kinds.register(
    KIND_ACTION, registry.NotificationKind(KIND_ACTION, gettext_lazy("Focus-group actions assigned to you"))
)
registry.notification_kinds.register(
    KIND_MEMBERSHIP,
    registry.NotificationKind(KIND_MEMBERSHIP, gettext_lazy("Joining and leaving focus groups")),
)

# The six priority areas every programme starts with (code, name, purpose).
DEFAULT_GROUPS: tuple[tuple[str, str, str], ...] = (
    (
        "organisationskannedom",
        "Organisationskännedom",
        gettext_noop("Knowing each other's organisations: remits, rules, working methods and contacts."),
    ),
    (
        "informationsflodet",
        "Informationsflödet",
        gettext_noop("How information about a person's case flows between the agencies, and where it stops."),
    ),
    (
        "malgruppskannedom",
        "Målgruppskännedom",
        gettext_noop("Shared knowledge of the target groups: who they are and what they need."),
    ),
    (
        "kartlaggningsmetodik",
        "Kartläggningsmetodik",
        gettext_noop("Methods for mapping a person's skills and situation that every agency can use."),
    ),
    (
        "samarbete-samverkan",
        "Samarbete/samverkan",
        gettext_noop("Forms of cooperation between the agencies: agreements, joint meetings, referrals."),
    ),
    (
        "halsoperspektivet-empowerment",
        "Hälsoperspektivet/empowerment",
        gettext_noop("Health and empowerment: how the agencies support people in taking charge."),
    ),
)

GROUP_FIELDS = {"name", "code", "purpose"}
MEMBERSHIP_FIELDS = {"role", "mandate", "sent_by"}
MEETING_FIELDS = {"title", "starts_at", "ends_at", "place", "online_link"}
# A change to one of these is news for the members' calendars.
MEETING_CALENDAR_FIELDS = {"title", "starts_at", "ends_at", "place", "online_link"}
ACTION_FIELDS = {"title", "description", "due_on", "status", "meeting"}


# Switched off only by the race-control test, to show that without the compare-and-set a read-then-write
# lets several saves of the same version through.
_compare_and_set_enabled = True


@contextlib.contextmanager
def compare_and_set_disabled() -> Iterator[None]:
    """Check the version with a read before the write instead of in the UPDATE (race-control test only)."""
    global _compare_and_set_enabled
    _compare_and_set_enabled = False
    try:
        yield
    finally:
        _compare_and_set_enabled = True


class StaleVersion(Exception):  # noqa: N818 (the domain name of the condition, not an error class)
    """A note was saved on a version that is no longer the current one; ``current`` is the note as it is."""

    def __init__(self, current: Note) -> None:
        super().__init__(f"note {current.pk} is at version {current.version}")
        self.current = current


# --- Helpers --------------------------------------------------------------------------------------------


def _apply(instance: Any, values: Mapping[str, Any], allowed: set[str]) -> list[str]:
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    changed = []
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def _full_clean(instance: Any, exclude: Sequence[str] = ()) -> None:
    errors: dict[str, list[str]] = {}
    # Django does not validate a TextField's max_length (it only sizes form widgets); the API and the
    # socket need the limit enforced here.
    for field in instance._meta.concrete_fields:
        if isinstance(field, models.TextField) and field.max_length and field.name not in exclude:
            value = getattr(instance, field.attname)
            if isinstance(value, str) and len(value) > field.max_length:
                errors[field.name] = [
                    _("Keep this under %(limit)s characters.") % {"limit": field.max_length}
                ]
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _require_person(actor: Actor) -> Person:
    if actor.person is None:
        raise PermissionDenied(_("You have no staff profile."))
    return actor.person


def _require_manage_group(actor: Actor, group: FocusGroup) -> None:
    if not perms.can_manage_group(actor, group):
        raise PermissionDenied(_("Only the group's convener or the programme's coordinators may do this."))


def _url(name: str, pk: int, fallback: str) -> str:
    try:
        return reverse(name, kwargs={"pk": pk})
    except NoReverseMatch:  # the web pages are optional for the API and the notifications
        return fallback


def group_url(group: FocusGroup) -> str:
    return _url("focusgroups:group", group.pk, f"/focusgroups/{group.pk}/")


def _tell(
    people: Sequence[Person],
    programme: Programme,
    kind: str,
    url: str,
    title: str,
    params: Mapping[str, Any],
    body: str = "",
) -> None:
    """A notification to each person in their own language (``title``/``body`` are gettext_noop strings)."""
    for person in people:
        with translation.override(invites.language_of(person, programme)):
            notify(
                programme=programme,
                recipients=[person],
                kind=kind,
                title=_(title) % params,
                body=_(body) % params if body else "",
                url=url,
            )


def _is_programme_member(person: Person, programme: Programme | int) -> bool:
    # The person row came through the caller's scoped read; this checks their membership of the group's
    # programme specifically (a person may belong to several).
    pid = programme if isinstance(programme, int) else programme.pk
    return Membership.unscoped_objects.filter(person=person, programme_id=pid, is_active=True).exists()


# --- Groups ---------------------------------------------------------------------------------------------


@transaction.atomic
def ensure_default_groups(programme: Programme) -> list[FocusGroup]:
    """Create the programme's six default focus groups where missing (idempotent; system work, no actor)."""
    groups = []
    for code, name, purpose in DEFAULT_GROUPS:
        group = FocusGroup.unscoped_objects.filter(programme=programme, code=code).first()
        if group is None:
            with translation.override(programme.language or None):
                group = FocusGroup.unscoped_objects.create(
                    programme=programme, code=code, name=name, purpose=_(purpose), is_default=True
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
    if not perms.can_manage_groups(actor, programme):
        raise PermissionDenied(_("Only the programme's coordinators may do this."))
    group = FocusGroup(programme=programme)
    _apply(group, values, GROUP_FIELDS)
    _full_clean(group, exclude=["convener"])
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
    _require_manage_group(actor, group)
    changed = _apply(group, values, GROUP_FIELDS)
    _full_clean(group, exclude=["convener"])
    _check_group_unique(group)
    if changed:
        group.save(update_fields=changed)
    if convener is not None and convener.pk != group.convener_id:
        if not perms.can_manage_groups(actor, group.programme_id):
            raise PermissionDenied(_("Only the programme's coordinators may appoint a convener."))
        _set_convener(actor, group, convener)
    return group


def _set_convener(actor: Actor, group: FocusGroup, person: Person) -> None:
    """Make ``person`` the group's convener: their membership becomes ``convener``, the previous convener's
    ``member``."""
    if not _is_programme_member(person, group.programme_id):
        raise ValidationError({"convener": _("Choose a member of the programme.")})
    for previous in GroupMembership.objects.filter(
        group=group, role=GroupMembership.Role.CONVENER, is_active=True
    ).exclude(person=person):
        previous.role = GroupMembership.Role.MEMBER
        previous.save(update_fields=["role"])
        perms.sync_member_permissions(group, previous.person)
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
    perms.sync_member_permissions(group, person)


# --- Memberships ----------------------------------------------------------------------------------------


def _welcome(group: FocusGroup, person: Person) -> None:
    """Tell a new member and send them the group's upcoming meetings."""
    _tell(
        [person],
        group.programme,
        KIND_MEMBERSHIP,
        group_url(group),
        gettext_noop("You have joined the focus group %(group)s"),
        {"group": group.name},
    )
    for meeting in _upcoming_meetings(group):
        invites.send_meeting_message(meeting, person, "REQUEST")


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
    _require_manage_group(actor, group)
    if not _is_programme_member(person, group.programme_id):
        raise ValidationError({"person": _("Choose a member of the programme.")})
    if role == GroupMembership.Role.CONVENER and not perms.can_manage_groups(actor, group.programme_id):
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
    _full_clean(membership)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as exc:  # a concurrent add of the same person
        raise ValidationError({"person": _("This person is already in the group.")}) from exc
    if role == GroupMembership.Role.CONVENER:
        _set_convener(actor, group, person)
    perms.sync_member_permissions(group, person)
    _welcome(group, person)
    return membership


@transaction.atomic
def membership_update(
    *, actor: Actor, membership: GroupMembership, values: Mapping[str, Any]
) -> GroupMembership:
    """Change a member's role, mandate or who sent them (convener or coordinators)."""
    group = membership.group
    _require_manage_group(actor, group)
    if not membership.is_active:
        raise ValidationError(_("This membership has ended."))
    role = values.get("role", membership.role)
    if GroupMembership.Role.CONVENER in (role, membership.role) and role != membership.role:
        if not perms.can_manage_groups(actor, group.programme_id):
            raise PermissionDenied(_("Only the programme's coordinators may appoint a convener."))
    changed = _apply(membership, values, MEMBERSHIP_FIELDS)
    _full_clean(membership)
    if changed:
        membership.save(update_fields=changed)
    if "role" in changed:
        if role == GroupMembership.Role.CONVENER:
            _set_convener(actor, group, membership.person)
        elif group.convener_id == membership.person_id:
            group.convener = None
            group.save(update_fields=["convener"])
        perms.sync_member_permissions(group, membership.person)
    return membership


@transaction.atomic
def membership_remove(*, actor: Actor, membership: GroupMembership) -> GroupMembership:
    """End a membership (convener or coordinators; a member may leave). Rights go at once, open sockets are
    closed after the commit and the person's upcoming meetings are cancelled in their calendar."""
    group = membership.group
    own = actor.person is not None and actor.person.pk == membership.person_id
    if not own:
        _require_manage_group(actor, group)
    if not membership.is_active:
        raise ValidationError(_("This membership has ended."))
    membership.is_active = False
    membership.left_at = timezone.now()
    membership.save(update_fields=["is_active", "left_at"])
    if group.convener_id == membership.person_id:
        group.convener = None
        group.save(update_fields=["convener"])
    perms.sync_member_permissions(group, membership.person)
    for meeting in _upcoming_meetings(group):
        invites.send_meeting_message(meeting, membership.person, "CANCEL")
    group_id, person_id = group.pk, membership.person_id
    transaction.on_commit(lambda: broadcast(group_id, {"type": "member.removed", "person": person_id}))
    return membership


# --- Meetings -------------------------------------------------------------------------------------------


def _check_meeting(meeting: Meeting) -> None:
    _full_clean(meeting, exclude=["group", "created_by"])
    errors = {}
    if meeting.ends_at <= meeting.starts_at:
        errors["ends_at"] = _("The meeting must end after it starts.")
    if not meeting.place and not meeting.online_link:
        errors["place"] = _("Give a place or an online link.")
    if errors:
        raise ValidationError(errors)


def _set_agenda(meeting: Meeting, agenda: Sequence[Mapping[str, str]]) -> None:
    items = []
    for position, entry in enumerate(agenda, start=1):
        item = AgendaItem(
            meeting=meeting,
            position=position,
            title=str(entry.get("title", "")).strip(),
            note=str(entry.get("note", "")).strip(),
        )
        try:
            _full_clean(item, exclude=["meeting"])
        except ValidationError as exc:
            raise ValidationError(
                {
                    "agenda": _("Agenda item %(n)s: %(errors)s")
                    % {"n": position, "errors": "; ".join(exc.messages)}
                }
            ) from exc
        items.append(item)
    AgendaItem.objects.filter(meeting=meeting).delete()
    AgendaItem.objects.bulk_create(items)


@transaction.atomic
def meeting_create(
    *,
    actor: Actor,
    group: FocusGroup,
    values: Mapping[str, Any],
    agenda: Sequence[Mapping[str, str]] = (),
) -> Meeting:
    """Schedule a meeting (convener or coordinators) and send every active member a calendar invite."""
    _require_manage_group(actor, group)
    meeting = Meeting(group=group, created_by=actor.person)
    _apply(meeting, values, MEETING_FIELDS)
    _check_meeting(meeting)
    meeting.save()
    _set_agenda(meeting, agenda)
    invites.send_to_members(meeting, "REQUEST")
    return meeting


@transaction.atomic
def meeting_update(
    *,
    actor: Actor,
    meeting: Meeting,
    values: Mapping[str, Any],
    agenda: Sequence[Mapping[str, str]] | None = None,
) -> Meeting:
    """Change a scheduled meeting; a change of time, place or title sends an update (SEQUENCE + 1) to every
    active member."""
    meeting = _lock_meeting(meeting)
    _require_manage_group(actor, meeting.group)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("This meeting is cancelled."))
    changed = _apply(meeting, values, MEETING_FIELDS)
    _check_meeting(meeting)
    agenda_changed = agenda is not None
    if agenda is not None:
        _set_agenda(meeting, agenda)
    news = bool(set(changed) & MEETING_CALENDAR_FIELDS) or agenda_changed
    if news and meeting.status == Meeting.Status.SCHEDULED:
        meeting.sequence += 1
        changed.append("sequence")
    if changed:
        meeting.save(update_fields=[*changed, "updated_at"])
    if news and meeting.status == Meeting.Status.SCHEDULED:
        invites.send_to_members(meeting, "REQUEST", update=True)
    return meeting


def _lock_meeting(meeting: Meeting) -> Meeting:
    """Re-read the meeting locked by pk (the caller's read of it was the scoped one)."""
    return (
        Meeting.unscoped_objects.select_for_update(of=("self",))
        .select_related("group__programme")
        .get(pk=meeting.pk)
    )


@transaction.atomic
def meeting_cancel(*, actor: Actor, meeting: Meeting) -> Meeting:
    """Cancel a scheduled meeting: ``METHOD:CANCEL`` (SEQUENCE + 1) to every active member."""
    meeting = _lock_meeting(meeting)
    _require_manage_group(actor, meeting.group)
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError(_("Only a scheduled meeting can be cancelled."))
    meeting.status = Meeting.Status.CANCELLED
    meeting.sequence += 1
    meeting.save(update_fields=["status", "sequence", "updated_at"])
    invites.send_to_members(meeting, "CANCEL")
    return meeting


@transaction.atomic
def meeting_record_minutes(
    *, actor: Actor, meeting: Meeting, minutes: str, decisions: Sequence[str]
) -> Meeting:
    """Record the minutes and decisions of a meeting that has started; it becomes ``held``. The members are
    told the minutes are there."""
    meeting = _lock_meeting(meeting)
    _require_manage_group(actor, meeting.group)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("This meeting is cancelled."))
    if meeting.starts_at > timezone.now():
        raise ValidationError(_("Minutes can be recorded once the meeting has started."))
    meeting.minutes = minutes
    meeting.status = Meeting.Status.HELD
    _full_clean(meeting, exclude=["group", "created_by"])
    rows = []
    for position, text in enumerate((t.strip() for t in decisions if t and t.strip()), start=1):
        decision = Decision(meeting=meeting, position=position, text=text)
        try:
            _full_clean(decision, exclude=["meeting"])
        except ValidationError as exc:
            raise ValidationError(
                {
                    "decisions": _("Decision %(n)s: %(errors)s")
                    % {"n": position, "errors": "; ".join(exc.messages)}
                }
            ) from exc
        rows.append(decision)
    meeting.save(update_fields=["minutes", "status", "updated_at"])
    Decision.objects.filter(meeting=meeting).delete()
    Decision.objects.bulk_create(rows)
    people = [p for p in invites.active_members(meeting) if actor.person is None or p.pk != actor.person.pk]
    _tell(
        people,
        meeting.group.programme,
        KIND_MEETING,
        invites.meeting_url(meeting),
        gettext_noop("Minutes of %(group)s: %(title)s"),
        {"group": meeting.group.name, "title": meeting.title},
    )
    return meeting


# --- Notes ----------------------------------------------------------------------------------------------


def notes_group(group_id: int) -> str:
    """The channel-layer group of a focus group's live-notes sockets."""
    return f"focusgroup.{group_id}.notes"


def readers_group(group_id: int) -> str:
    """The channel-layer group of the sockets of programme members outside the focus group, who follow
    its notes shared with the programme."""
    return f"focusgroup.{group_id}.notes.readers"


def broadcast(group_id: int, event: dict[str, Any], *, members: bool = True, readers: bool = False) -> None:
    """Send an event to the live-notes sockets of a group's members and, with `readers`, to those of the
    programme's readers of its shared notes (call after the commit)."""
    layer = get_channel_layer()
    if layer is None:
        return
    rooms = ([notes_group(group_id)] if members else []) + ([readers_group(group_id)] if readers else [])
    for room in rooms:
        try:
            async_to_sync(layer.group_send)(room, event)
        except Exception:  # the save is stored; a live push is a convenience
            logger.exception("Could not broadcast to focus group %s", group_id)


def saved_event(note: Note, author_name: str) -> dict[str, Any]:
    return {
        "type": "note.saved",
        "note": note.pk,
        "version": note.version,
        "title": note.title,
        "body": note.body,
        "visibility": note.visibility,
        "author": author_name,
        "at": note.updated_at.isoformat(),
    }


def _broadcast_saved_on_commit(note: Note, author_name: str) -> None:
    event = saved_event(note, author_name)
    group_id = note.group_id
    shared = note.visibility != Note.Visibility.GROUP
    transaction.on_commit(lambda: broadcast(group_id, event, readers=shared))


def _check_note_text(title: str, body: str) -> None:
    probe = Note(title=title, body=body)
    _full_clean(probe, exclude=["group", "updated_by", "visibility"])


@transaction.atomic
def note_create(
    *, actor: Actor, group: FocusGroup, title: str, body: str = "", visibility: str = Note.Visibility.GROUP
) -> Note:
    """Start a note in a group (members and the convener). Version 1 is kept; the sockets hear of it."""
    person = _require_person(actor)
    if not perms.can_edit_notes(actor, group):
        raise PermissionDenied(_("Only the group's members may write its notes."))
    now = timezone.now()
    note = Note(group=group, title=title, body=body, visibility=visibility, updated_by=person, updated_at=now)
    _full_clean(note)
    note.save()
    NoteVersion.objects.create(note=note, version=1, title=title, body=body, author=person, created_at=now)
    _broadcast_saved_on_commit(note, person.full_name)
    return note


@transaction.atomic
def note_set_visibility(*, actor: Actor, note: Note, visibility: str) -> Note:
    """Change who may read a note (members and the convener); the text and version are unchanged."""
    _require_person(actor)
    if not perms.can_edit_note(actor, note):
        raise PermissionDenied(_("Only the group's members may change its notes."))
    was_shared = note.visibility != Note.Visibility.GROUP
    note.visibility = visibility
    _full_clean(note, exclude=["group", "updated_by"])
    Note.unscoped_objects.filter(pk=note.pk).update(visibility=visibility)
    if was_shared and visibility == Note.Visibility.GROUP:
        # Readers outside the group following the note live are told it is no longer theirs to read.
        group_id, note_id = note.group_id, note.pk
        withdrawn = {"type": "note.withdrawn", "note": note_id}
        transaction.on_commit(lambda: broadcast(group_id, withdrawn, members=False, readers=True))
    return note


def _as_version(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError({field: _("Give the version number the text was based on.")})
    return value


@transaction.atomic
def note_save(
    *,
    actor: Actor,
    note: Note,
    body: str,
    title: str | None = None,
    base_version: int,
    restored_from: int | None = None,
) -> Note:
    """Save a new text of a note, based on ``base_version`` (members and the convener).

    Compare-and-set: the note moves from ``base_version`` to ``base_version + 1`` only if nobody saved in
    between; otherwise ``StaleVersion(current)`` is raised and nothing is written. Saving the unchanged text
    of the current version writes nothing. The new version is kept and broadcast after the commit.
    """
    person = _require_person(actor)
    if not perms.can_edit_note(actor, note):
        raise PermissionDenied(_("Only the group's members may change its notes."))
    base_version = _as_version(base_version, "base_version")
    if not isinstance(body, str) or (title is not None and not isinstance(title, str)):
        raise ValidationError(_("Give the text as a string."))
    title = note.title if title is None else title
    _check_note_text(title, body)
    now = timezone.now()
    if base_version == note.version and body == note.body and title == note.title and restored_from is None:
        return note
    # The tenant check was the caller's scoped read of ``note``; the CAS goes through the plain manager by pk.
    row = Note.unscoped_objects.filter(pk=note.pk)
    if _compare_and_set_enabled:
        row = row.filter(version=base_version)
    elif row.values_list("version", flat=True).get() != base_version:  # the race-control's read-then-write
        row = row.none()
    updated = row.update(body=body, title=title, version=base_version + 1, updated_by=person, updated_at=now)
    if updated != 1:
        current = Note.unscoped_objects.select_related("updated_by__user", "group").get(pk=note.pk)
        raise StaleVersion(current)
    NoteVersion.objects.create(
        note=note,
        version=base_version + 1,
        title=title,
        body=body,
        author=person,
        restored_from=restored_from,
        created_at=now,
    )
    note.body, note.title, note.version = body, title, base_version + 1
    note.updated_by, note.updated_at = person, now
    _broadcast_saved_on_commit(note, person.full_name)
    return note


def note_restore(*, actor: Actor, note: Note, version: int, base_version: int) -> Note:
    """Make an old version the current text again, as a new version (members and the convener)."""
    version = _as_version(version, "version")
    old = NoteVersion.objects.filter(note=note, version=version).first()
    if old is None:
        raise ValidationError({"version": _("This note has no such version.")})
    return note_save(
        actor=actor,
        note=note,
        body=old.body,
        title=old.title,
        base_version=base_version,
        restored_from=version,
    )


# --- Actions --------------------------------------------------------------------------------------------


def _check_owner(group: FocusGroup, owner: Person) -> None:
    if not _is_programme_member(owner, group.programme_id):
        raise ValidationError({"owner": _("Choose a member of the programme.")})


def _check_action_meeting(group: FocusGroup, meeting: Meeting | None) -> None:
    if meeting is not None and meeting.group_id != group.pk:
        raise ValidationError({"meeting": _("Choose a meeting of this group.")})


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
    if not perms.can_add_action(actor, group):
        raise PermissionDenied(_("Only the group's members may add actions."))
    _check_owner(group, owner)
    action = ActionItem(
        group=group,
        owner=owner,
        organisation_id=organisation.pk if organisation else owner.organisation_id,
        created_by=actor.person,
    )
    _apply(action, values, ACTION_FIELDS)
    _check_action_meeting(group, action.meeting)
    _full_clean(action, exclude=["created_by"])
    action.save()
    _tell_owner(actor, action)
    return action


def _tell_owner(actor: Actor, action: ActionItem) -> None:
    if actor.person is not None and actor.person.pk == action.owner_id:
        return
    _tell(
        [action.owner],
        action.group.programme,
        KIND_ACTION,
        group_url(action.group),
        gettext_noop("New action for you in %(group)s: %(title)s"),
        {"group": action.group.name, "title": action.title},
    )


@transaction.atomic
def action_update(
    *, actor: Actor, action: ActionItem, values: Mapping[str, Any], owner: Person | None = None
) -> ActionItem:
    """Move an action along (its owner) or change it (the convener, coordinators); a new owner is told."""
    if not perms.can_update_action(actor, action):
        raise PermissionDenied(_("Only the action's owner, the convener or a coordinator may change it."))
    if (set(values) - {"status"} or owner is not None) and not perms.can_manage_group(actor, action.group):
        if not (actor.person is not None and action.created_by_id == actor.person.pk):
            raise PermissionDenied(_("The owner may only change the status."))
    changed = _apply(action, values, ACTION_FIELDS)
    _check_action_meeting(action.group, action.meeting)
    new_owner = owner is not None and owner.pk != action.owner_id
    if owner is not None and new_owner:
        _check_owner(action.group, owner)
        action.owner = owner
        action.organisation_id = owner.organisation_id
        changed += ["owner", "organisation"]
    _full_clean(action, exclude=["created_by"])
    if changed:
        action.save(update_fields=[*changed, "updated_at"])
    if new_owner:
        _tell_owner(actor, action)
    return action


# --- Glossary -------------------------------------------------------------------------------------------


@transaction.atomic
def concept_create(*, actor: Actor, programme: Programme, name: str, description: str = "") -> Concept:
    """Add a concept to the programme's shared glossary (any member of the programme)."""
    person = _require_person(actor)
    if not perms.can_use_glossary(actor, programme):
        raise PermissionDenied(_("Only members of the programme may add to its glossary."))
    concept = Concept(programme=programme, name=name.strip(), description=description, created_by=person)
    _full_clean(concept)
    if Concept.objects.filter(programme=programme, name__iexact=concept.name).exists():
        raise ValidationError({"name": _("The glossary already has this concept.")})
    concept.save()
    return concept


@transaction.atomic
def concept_update(*, actor: Actor, concept: Concept, values: Mapping[str, Any]) -> Concept:
    """Rename or describe a concept (its author or a coordinator)."""
    person = _require_person(actor)
    if concept.created_by_id != person.pk and not actor.is_coordinator(concept.programme_id):
        raise PermissionDenied(_("Only the concept's author or a coordinator may change it."))
    changed = _apply(concept, values, {"name", "description"})
    _full_clean(concept)
    if (
        "name" in changed
        and Concept.objects.filter(programme_id=concept.programme_id, name__iexact=concept.name)
        .exclude(pk=concept.pk)
        .exists()
    ):
        raise ValidationError({"name": _("The glossary already has this concept.")})
    if changed:
        concept.save(update_fields=changed)
    return concept


@transaction.atomic
def term_set(
    *, actor: Actor, concept: Concept, organisation: Organisation, term: str, definition: str = ""
) -> ConceptTerm:
    """Set what an organisation calls a concept and how it defines it (its own people, or a coordinator)."""
    person = _require_person(actor)
    if not perms.can_set_term(actor, concept.programme_id, organisation.pk):
        raise PermissionDenied(_("Only the organisation's own people may set its term."))
    if not organisation.participations.filter(programme_id=concept.programme_id).exists():
        raise ValidationError({"organisation": _("Choose an organisation that takes part in the programme.")})
    row = ConceptTerm.objects.filter(concept=concept, organisation=organisation).first()
    if row is None:
        row = ConceptTerm(concept=concept, organisation=organisation)
    row.term, row.definition, row.updated_by = term.strip(), definition, person
    _full_clean(row)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise ValidationError({"organisation": _("This organisation's term was just set; reload.")}) from exc
    return row


@transaction.atomic
def comment_add(*, actor: Actor, concept: Concept, body: str) -> ConceptComment:
    """Comment on a glossary concept (any member of the programme)."""
    person = _require_person(actor)
    if not perms.can_use_glossary(actor, concept.programme_id):
        raise PermissionDenied(_("Only members of the programme may comment."))
    comment = ConceptComment(concept=concept, author=person, body=body.strip())
    _full_clean(comment)
    comment.save()
    return comment
