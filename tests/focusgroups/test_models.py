"""Rows two joins away from their programme (agenda items, decisions, note versions) carry it themselves:
filled from the parent, and the tenant scope isolates by it."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from coordinator.core.tenancy import programme_scope
from focusgroups.models import AgendaItem, Decision, Note, NoteVersion
from focusgroups.services import meetings
from tests.factories.focusgroups import MeetingFactory, make_note


def test_deep_rows_take_their_parents_programme(programme, group, foreign_group, convener, as_actor):
    start = (timezone.now() - timedelta(hours=3)).replace(microsecond=0)
    with programme_scope([programme.pk]):
        meeting = meetings.meeting_create(
            actor=as_actor(convener),
            group=group,
            values={
                "title": "Arbetsmöte",
                "starts_at": start,
                "ends_at": start + timedelta(hours=2),
                "place": "A",
            },
            agenda=[{"title": "Läget", "note": ""}],
        )
        meetings.meeting_record_minutes(
            actor=as_actor(convener), meeting=meeting, minutes="Vi ses.", decisions=["Checklista."]
        )
    note = make_note(group, title="Egen")

    assert [row.programme_id for row in AgendaItem.unscoped_objects.filter(meeting=meeting)] == [programme.pk]
    assert [row.programme_id for row in Decision.unscoped_objects.filter(meeting=meeting)] == [programme.pk]
    assert [row.programme_id for row in NoteVersion.unscoped_objects.filter(note=note)] == [programme.pk]


def test_scope_isolates_deep_rows_by_their_own_programme(programme, other_programme, group, foreign_group):
    mine = MeetingFactory(group=group)
    theirs = MeetingFactory(group=foreign_group)
    for meeting in (mine, theirs):
        AgendaItem.unscoped_objects.create(meeting=meeting, position=1, title="Punkt")
        Decision.unscoped_objects.create(meeting=meeting, position=1, text="Beslut")
    my_note = make_note(group, title="Egen")
    foreign_notes = Note.unscoped_objects.filter(group=foreign_group)
    assert foreign_notes.count() == 3

    with programme_scope([programme.pk]):
        assert [item.meeting_id for item in AgendaItem.objects.all()] == [mine.pk]
        assert [decision.meeting_id for decision in Decision.objects.all()] == [mine.pk]
        assert [version.note_id for version in NoteVersion.objects.all()] == [my_note.pk]
    with programme_scope([other_programme.pk]):
        assert [item.meeting_id for item in AgendaItem.objects.all()] == [theirs.pk]
        assert sorted(v.note_id for v in NoteVersion.objects.all()) == sorted(n.pk for n in foreign_notes)
