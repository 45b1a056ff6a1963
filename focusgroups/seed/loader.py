"""Writes the focus-group demo data (``focusgroups.seed.data``) for Malmö's programme, and the default groups
of the Danish demo programme.

Rows are written directly (no invites or notifications are sent for demo data); the rights of each member
follow from the membership. Idempotent: natural keys (codes, titles, names) find existing rows and nothing
that exists is changed. Seeding runs with no tenant scope, so it reads and writes through
``unscoped_objects``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from coordinator.core.tenancy import programme_scope
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
from focusgroups.seed.data import (
    ACTIONS,
    COMMENTS,
    CONCEPTS,
    CONVENER,
    GROUP_SEATS,
    MEETINGS,
    NOTES,
    ActionRow,
    MeetingRow,
    NoteRow,
    Seat,
)
from focusgroups.services import documents, groups, meetings
from organisations.models import Organisation, Person, Programme
from organisations.seed import COPENHAGEN_SLUG, MALMO_SLUG

ZONE = ZoneInfo("Europe/Stockholm")


def seed_focusgroups() -> list[tuple[str, str]]:
    """The demo programme's groups, members, meetings, notes, actions and glossary (nothing to report)."""
    programme = Programme.unscoped_objects.get(slug=MALMO_SLUG)
    with programme_scope([programme.pk]):
        by_code = {g.code: g for g in groups.ensure_default_groups(programme)}
    people = _people(programme)
    for group_seats in GROUP_SEATS:
        for seat in group_seats.seats:
            _seat(by_code[group_seats.group], people[seat.username], seat)
    today = timezone.localdate()
    meetings = {row.title: _meeting(by_code[row.group], row, people, today) for row in MEETINGS}
    for note_row in NOTES:
        _note(by_code[note_row.group], note_row, people)
    for action_row in ACTIONS:
        _action(by_code[action_row.group], action_row, people, meetings, today)
    _glossary(programme, people)
    copenhagen = Programme.unscoped_objects.filter(slug=COPENHAGEN_SLUG).first()
    if copenhagen is not None:
        with programme_scope([copenhagen.pk]):
            groups.ensure_default_groups(copenhagen)
    return []


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZONE)


def _weekday(day: date) -> date:
    """The nearest Wednesday on or after ``day`` (the groups meet mid-week)."""
    return day + timedelta(days=(2 - day.weekday()) % 7)


def _people(programme: Programme) -> dict[str, Person]:
    return {
        p.user.username: p
        for p in Person.unscoped_objects.filter(memberships__programme=programme).select_related(
            "user", "organisation"
        )
    }


def _seat(group: FocusGroup, person: Person, seat: Seat) -> None:
    membership = GroupMembership.unscoped_objects.filter(group=group, person=person, is_active=True).first()
    if membership is None:
        GroupMembership.unscoped_objects.create(
            group=group,
            person=person,
            role=seat.role,
            organisation=person.organisation,
            mandate=seat.mandate,
            sent_by=seat.sent_by,
        )
    if seat.role == CONVENER and group.convener_id is None:
        group.convener = person
        group.save(update_fields=["convener"])


def _meeting(group: FocusGroup, row: MeetingRow, people: dict[str, Person], today: date) -> Meeting:
    meeting = Meeting.unscoped_objects.filter(group=group, title=row.title).first()
    if meeting is not None:
        return meeting
    starts_at = _at(_weekday(today + timedelta(days=row.days_from_today)), row.hour)
    meeting = Meeting.unscoped_objects.create(
        group=group,
        title=row.title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=row.hours),
        place=row.place,
        online_link=row.online_link,
        status=Meeting.Status.HELD if row.minutes else Meeting.Status.SCHEDULED,
        created_by=people[row.by],
    )
    # The minutes are the meeting's live note, written by its convener as the group would write them.
    minutes = meetings.minutes_note(meeting)
    if row.minutes:
        with transaction.atomic():
            locked = documents.lock_for_save(minutes)
            documents.text_apply(note=locked, person=people[row.by], body=row.minutes)
            documents.version_record(locked, by=people[row.by])
    programme_id = group.programme_id
    AgendaItem.unscoped_objects.bulk_create(
        [
            AgendaItem(meeting=meeting, programme_id=programme_id, position=position, title=title, note=note)
            for position, (title, note) in enumerate(row.agenda, start=1)
        ]
    )
    Decision.unscoped_objects.bulk_create(
        [
            Decision(meeting=meeting, programme_id=programme_id, position=position, text=text)
            for position, text in enumerate(row.decisions, start=1)
        ]
    )
    return meeting


def _note(group: FocusGroup, row: NoteRow, people: dict[str, Person]) -> Note:
    """A note with one version per row version, the last being current."""
    current = row.versions[-1]
    note = Note.unscoped_objects.filter(group=group, title=current.title).first()
    if note is not None:
        return note
    first_saved = timezone.now() - timedelta(days=row.first_saved_days_ago)
    note = Note.unscoped_objects.create(
        group=group,
        title=current.title,
        visibility=row.visibility,
        body=current.body,
        version=len(row.versions),
        updated_by=people[current.author],
        updated_at=first_saved + timedelta(days=2 * (len(row.versions) - 1), hours=1),
    )
    NoteVersion.unscoped_objects.bulk_create(
        [
            NoteVersion(
                note=note,
                programme_id=group.programme_id,
                version=number,
                title=version.title,
                body=version.body,
                author=people[version.author],
                created_at=first_saved + timedelta(days=2 * (number - 1), hours=number - 1),
            )
            for number, version in enumerate(row.versions, start=1)
        ]
    )
    return note


def _action(
    group: FocusGroup, row: ActionRow, people: dict[str, Person], meetings: dict[str, Meeting], today: date
) -> None:
    if ActionItem.unscoped_objects.filter(group=group, title=row.title).exists():
        return
    owner = people[row.owner]
    ActionItem.unscoped_objects.create(
        group=group,
        meeting=meetings[row.meeting] if row.meeting else None,
        title=row.title,
        description=row.description,
        owner=owner,
        organisation=owner.organisation,
        due_on=today + timedelta(days=row.due_in_days) if row.due_in_days is not None else None,
        status=row.status,
        created_by=people[row.by],
    )


def _glossary(programme: Programme, people: dict[str, Person]) -> None:
    organisations = {
        o.name: o for o in Organisation.unscoped_objects.filter(participations__programme=programme)
    }
    by_organisation: dict[str, Person] = {}
    for person in sorted(people.values(), key=lambda p: p.pk):
        by_organisation.setdefault(person.organisation.name, person)
    concepts = {}
    for row in CONCEPTS:
        concept, _created = Concept.unscoped_objects.get_or_create(
            programme=programme,
            name=row.name,
            defaults={"description": row.description, "created_by": people["lina.bjork"]},
        )
        concepts[row.name] = concept
        for term in row.terms:
            ConceptTerm.unscoped_objects.get_or_create(
                concept=concept,
                organisation=organisations[term.organisation],
                defaults={
                    "term": term.term,
                    "definition": term.definition,
                    "updated_by": by_organisation.get(term.organisation),
                },
            )
    for comment in COMMENTS:
        ConceptComment.unscoped_objects.get_or_create(
            concept=concepts[comment.concept], author=people[comment.author], body=comment.body
        )
