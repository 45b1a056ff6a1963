"""Meetings and minutes: scheduling, changing and cancelling a group's meetings, and recording minutes and
decisions.

``meeting_create`` sends a ``METHOD:REQUEST`` invite to every active member, ``meeting_update`` an update
with SEQUENCE + 1 when the time, place or title changes, ``meeting_cancel`` a ``METHOD:CANCEL`` (see
``focusgroups.invites``).

A meeting's minutes are a live note of the group (``Note.meeting``, started with the meeting or when first
asked for by ``minutes_note``): the members write them together during the meeting like any note (live
editor, versions, restore, actions from a line), and the whole programme reads them, as it reads the
meeting. Recording the minutes (``meeting_record_minutes``) merges a whole text, when one is given, into
the live document, keeps the result as a named version, and makes the meeting held.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from coordinator.core import registry
from coordinator.core.exceptions import Conflict
from coordinator.core.notifications import notify
from coordinator.core.services import apply_changes, validate
from coordinator.core.tenancy import programme_scope, unscoped
from focusgroups import invites
from focusgroups.models import AgendaItem, Decision, FocusGroup, GroupMembership, Meeting, Note, NoteVersion
from focusgroups.services import documents
from focusgroups.services._shared import require_manage_group, require_person
from organisations.models import Person
from organisations.permissions import Actor

KIND_MEETING = "focusgroups.meeting"
registry.notification_kinds.register(
    KIND_MEETING, registry.NotificationKind(KIND_MEETING, gettext_lazy("Focus-group meetings and minutes"))
)

MEETING_FIELDS = {"title", "starts_at", "ends_at", "place", "online_link"}
# A change to one of these is news for the members' calendars.
MEETING_CALENDAR_FIELDS = {"title", "starts_at", "ends_at", "place", "online_link"}


def _check_meeting(meeting: Meeting) -> None:
    validate(meeting, exclude=["group", "created_by"])
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
            programme_id=meeting.group.programme_id,
            position=position,
            title=str(entry.get("title", "")).strip(),
            note=str(entry.get("note", "")).strip(),
        )
        try:
            validate(item, exclude=["meeting"])
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
    require_manage_group(actor, group)
    meeting = Meeting(group=group, created_by=actor.person)
    apply_changes(meeting, values, MEETING_FIELDS)
    _check_meeting(meeting)
    meeting.save()
    _set_agenda(meeting, agenda)
    minutes_note(meeting)
    invites.reconcile_meetings([meeting])
    return meeting


def _minutes_title(meeting: Meeting) -> str:
    # Data the platform creates is in the programme's language.
    with translation.override(meeting.group.programme.language or None):
        title = _("Minutes: %(title)s") % {"title": meeting.title}
    return title[: Note._meta.get_field("title").max_length]


def minutes_note(meeting: Meeting) -> Note:
    """The meeting's live minutes: a note of its group that the whole programme reads (as it reads the
    meeting) and the group's members write. Started empty, with version 1, the first time it is asked for;
    two first requests at once get the same note."""
    existing = Note.objects.filter(meeting_id=meeting.pk).select_related("group__programme").first()
    if existing is not None:
        return existing
    title, now = _minutes_title(meeting), timezone.now()
    try:
        with transaction.atomic():
            note = Note.objects.create(
                group=meeting.group,
                meeting=meeting,
                title=title,
                visibility=Note.Visibility.PROGRAMME,
                updated_by=meeting.created_by,
                updated_at=now,
            )
            version = NoteVersion.objects.create(
                note=note, version=1, title=title, author=meeting.created_by, created_at=now
            )
            if meeting.created_by is not None:
                version.authors.set([meeting.created_by])
    except IntegrityError:
        # Someone else started them a moment ago (the one-to-one is unique).
        return Note.objects.select_related("group__programme").get(meeting_id=meeting.pk)
    return note


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
    require_manage_group(actor, meeting.group)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("This meeting is cancelled."))
    changed = apply_changes(meeting, values, MEETING_FIELDS)
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
    if "title" in changed:
        Note.objects.filter(meeting=meeting).update(title=_minutes_title(meeting))
    if news:
        invites.reconcile_meetings([meeting])
    return meeting


def _lock_meeting(meeting: Meeting) -> Meeting:
    """Re-read the meeting locked by pk (the caller's read of it was the scoped one)."""
    # By pk through the plain manager right after the caller's scoped read: the lock takes the one row and
    # needs no join to the group's programme.
    return (
        Meeting.unscoped_objects.select_for_update(of=("self",))
        .select_related("group__programme")
        .get(pk=meeting.pk)
    )


@transaction.atomic
def meeting_cancel(*, actor: Actor, meeting: Meeting) -> Meeting:
    """Cancel a scheduled meeting: ``METHOD:CANCEL`` (SEQUENCE + 1) to every active member."""
    meeting = _lock_meeting(meeting)
    require_manage_group(actor, meeting.group)
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError(_("Only a scheduled meeting can be cancelled."))
    meeting.status = Meeting.Status.CANCELLED
    meeting.sequence += 1
    meeting.save(update_fields=["status", "sequence", "updated_at"])
    invites.reconcile_meetings([meeting])
    return meeting


@transaction.atomic
def meeting_record_minutes(
    *,
    actor: Actor,
    meeting: Meeting,
    minutes: str | None,
    decisions: Sequence[str],
    base_version: int | None = None,
) -> Meeting:
    """Record the minutes and decisions of a meeting that has started (the convener or coordinators); it
    becomes ``held`` and the members are told the minutes are there.

    ``minutes`` None records the live minutes as they stand; a text is merged into the live document as the
    smallest edit from its current text (everyone editing sees it at once). ``base_version`` (the minutes
    note's version the text was based on) makes a save refused with ``Conflict`` when the minutes changed
    since, and nothing is written. The minutes, and every other note of the group changed since its last
    version, are kept as named versions."""
    meeting = _lock_meeting(meeting)
    require_manage_group(actor, meeting.group)
    person = require_person(actor)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("This meeting is cancelled."))
    if meeting.starts_at > timezone.now():
        raise ValidationError(_("Minutes can be recorded once the meeting has started."))
    if minutes is not None:
        if not isinstance(minutes, str):
            raise ValidationError({"minutes": _("Give the text as a string.")})
        try:
            validate(Note(title="-", body=minutes), exclude=["group", "updated_by", "meeting"])
        except ValidationError as exc:
            raise ValidationError({"minutes": exc.messages}) from exc
    rows = []
    for position, text in enumerate((t.strip() for t in decisions if t and t.strip()), start=1):
        decision = Decision(
            meeting=meeting, programme_id=meeting.group.programme_id, position=position, text=text
        )
        try:
            validate(decision, exclude=["meeting"])
        except ValidationError as exc:
            raise ValidationError(
                {
                    "decisions": _("Decision %(n)s: %(errors)s")
                    % {"n": position, "errors": "; ".join(exc.messages)}
                }
            ) from exc
        rows.append(decision)
    note = documents.lock_for_save(minutes_note(meeting))
    if base_version is not None and note.version != base_version:
        raise Conflict(
            _("The minutes have changed since you opened them; merge with the current text."), current=note
        )
    if minutes is not None and minutes != note.body:
        documents.text_apply(note=note, person=person, body=minutes)
    documents.version_record(note, by=person)
    meeting.status = Meeting.Status.HELD
    meeting.save(update_fields=["status", "updated_at"])
    # The notes the group wrote in the meeting are kept as they stand now, as named versions.
    documents.meeting_ended(meeting)
    Decision.objects.filter(meeting=meeting).delete()
    Decision.objects.bulk_create(rows)
    people = [p for p in invites.active_members(meeting) if p.pk != person.pk]
    notify(
        programme=meeting.group.programme,
        recipients=people,
        kind=KIND_MEETING,
        title=gettext_noop("Minutes of %(group)s: %(title)s"),
        params={"group": meeting.group.name, "title": meeting.title},
        url=invites.meeting_url(meeting),
    )
    return meeting


def meetings_show_changed_people(person_ids: list[int], details: frozenset[str]) -> int:
    """A ``calendar_people_changed`` entry (``coordinator.core.itip.people_changed``): a meeting's event
    shows its member's own name and address (ATTENDEE), so these members' calendars are brought in step
    with every scheduled meeting still to end of their groups. One query finds the meetings; then one
    transaction per programme, in its scope, with the meetings locked in key order as a meeting's own
    changes lock it. Erased people are left out: their calendars are written to no more. Returns the
    number of messages."""
    if not details & {"name", "email"}:
        return 0
    with unscoped():  # a task: the programmes are those of the meetings found
        groups = GroupMembership.unscoped_objects.filter(
            person_id__in=person_ids, person__erased_at__isnull=True, is_active=True
        ).values("group_id")
        found = list(
            Meeting.unscoped_objects.filter(
                group_id__in=groups, status=Meeting.Status.SCHEDULED, ends_at__gt=timezone.now()
            )
            .values_list("group__programme_id", "pk")
            .order_by("group__programme_id", "pk")
        )
    by_programme: dict[int, list[int]] = {}
    for programme_id, meeting_id in found:
        by_programme.setdefault(programme_id, []).append(meeting_id)
    sent = 0
    for programme_id, meeting_ids in by_programme.items():
        with programme_scope([programme_id]), transaction.atomic():
            locked = list(
                Meeting.objects.select_for_update(of=("self",))
                .filter(pk__in=meeting_ids, status=Meeting.Status.SCHEDULED)
                .select_related("group__programme")
                .prefetch_related("agenda_items")
                .order_by("pk")
            )
            people = Person.objects.filter(pk__in=person_ids, erased_at__isnull=True)
            sent += invites.reconcile_meetings(locked, people=people)
    return sent
