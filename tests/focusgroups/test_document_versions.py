"""Named versions of a live note: when editing pauses (the next edit or the periodic job), on demand, when a
meeting ends; each with the people who edited since the version before. Whole-text saves and compaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from coordinator.core.jobs import run_due_jobs
from coordinator.core.tenancy import unscoped
from focusgroups.models import Meeting, Note, NoteDocument, NoteUpdate, NoteVersion
from focusgroups.services import documents, meetings, notes
from tests.factories.focusgroups import MeetingFactory
from tests.focusgroups.replica import Replica

pytestmark = pytest.mark.django_db


def _edit(actor, note: Note, replica: Replica, index: int, text: str) -> None:
    fresh = Note.objects.select_related("group").get(pk=note.pk)
    documents.document_apply(actor=actor, note=fresh, update=replica.edit(index, text))


def _synced(actor, note: Note) -> Replica:
    replica = Replica()
    update, _vector, _can_edit = documents.document_sync(actor=actor, note=note, state_vector=b"\x00")
    replica.doc.apply_update(update)
    return replica


def _history(note: Note) -> list[tuple[int, str, list[str], int | None]]:
    return [
        (v.version, v.body, sorted(p.full_name for p in v.authors.all()), v.author_id)
        for v in NoteVersion.objects.filter(note=note).order_by("version")
    ]


def _pause(note: Note) -> None:
    """As if the last edit had been made a pause ago."""
    ago = timezone.now() - timedelta(seconds=settings.NOTE_VERSION_PAUSE_SECONDS + 1)
    NoteDocument.objects.filter(note=note).update(edited_at=ago)


def test_the_job_writes_a_version_once_editing_pauses(scope, note, member_a, member_b, as_actor):
    a, b = as_actor(member_a), as_actor(member_b)
    replica = _synced(a, note)
    _edit(a, note, replica, 0, "A ")
    _edit(b, note, replica, 0, "B ")
    assert run_due_jobs(force=True)["focusgroups.note_versions"] == 0  # still being edited

    _pause(note)
    with unscoped():
        assert documents.versions_write_paused() == 1
        assert documents.versions_write_paused() == 0  # nothing new since
    assert _history(note) == [
        (1, "Rad ett.\n", [], member_a.pk),
        (3, "B A Rad ett.\n", ["Anna Berg", "Omar Said"], member_b.pk),
    ]


def test_the_next_edit_after_a_pause_keeps_the_text_before_it(scope, note, member_a, member_b, as_actor):
    a, b = as_actor(member_a), as_actor(member_b)
    replica = _synced(a, note)
    _edit(a, note, replica, 0, "A ")
    _pause(note)
    _edit(b, note, replica, 0, "B ")
    assert _history(note) == [
        (1, "Rad ett.\n", [], member_a.pk),
        (2, "A Rad ett.\n", ["Anna Berg"], member_a.pk),
    ]
    assert NoteDocument.objects.get(note=note).editors == [member_b.pk]


def test_version_on_demand_with_nothing_new_writes_nothing(scope, note, member_a, as_actor):
    version = documents.version_write(actor=as_actor(member_a), note=note)
    assert (version.version, NoteVersion.objects.filter(note=note).count()) == (1, 1)


def test_observer_may_not_ask_for_a_version(scope, note, observer, as_actor):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        documents.version_write(actor=as_actor(observer), note=note)


def test_a_meeting_that_ended_keeps_the_notes_edited_in_it(scope, group, note, member_a, as_actor):
    meeting = MeetingFactory(
        group=group,
        starts_at=timezone.now() - timedelta(hours=2),
        ends_at=timezone.now() - timedelta(minutes=1),
    )
    upcoming = MeetingFactory(group=group)
    a = as_actor(member_a)
    _edit(a, note, _synced(a, note), 0, "Beslut: ")
    with unscoped():
        assert documents.versions_write_paused() == 1  # not paused yet, but the meeting has ended
        assert documents.versions_write_paused() == 0
    assert _history(note)[-1] == (2, "Beslut: Rad ett.\n", ["Anna Berg"], member_a.pk)
    assert Meeting.objects.get(pk=meeting.pk).notes_versioned_at is not None
    assert Meeting.objects.get(pk=upcoming.pk).notes_versioned_at is None


def test_recording_the_minutes_keeps_the_notes_edited(scope, group, note, convener, member_a, as_actor):
    past = MeetingFactory(
        group=group,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=1),
    )
    a = as_actor(member_a)
    _edit(a, note, _synced(a, note), 0, "Punkt 1. ")
    meetings.meeting_record_minutes(actor=as_actor(convener), meeting=past, minutes="Protokoll", decisions=[])
    assert _history(note)[-1] == (2, "Punkt 1. Rad ett.\n", ["Anna Berg"], member_a.pk)


def test_whole_text_save_is_a_minimal_edit_and_a_version(scope, note, member_a, member_b, as_actor):
    a, b = as_actor(member_a), as_actor(member_b)
    replica = _synced(a, note)
    _edit(a, note, replica, len("Rad ett.\n"), "Rad två.\n")
    # A form saved on the current version changes only the first line; the live edit stays.
    fresh = Note.objects.select_related("group").get(pk=note.pk)
    notes.note_update(actor=b, note=fresh, base_version=2, body="Rad 1.\nRad två.\n")
    [update] = NoteUpdate.objects.filter(note=note, author=member_b).values_list("update", flat=True)
    replica.doc.apply_update(bytes(update))
    assert str(replica) == Note.objects.get(pk=note.pk).body == "Rad 1.\nRad två.\n"
    # The broadcast edit holds the changed characters, not the whole text again.
    assert (b"1" in bytes(update), b"Rad" in bytes(update)) == (True, False)
    assert _history(note)[-1] == (3, "Rad 1.\nRad två.\n", ["Anna Berg", "Omar Said"], member_b.pk)


def test_restore_is_an_edit_of_the_live_document(scope, note, member_a, as_actor):
    a = as_actor(member_a)
    replica = _synced(a, note)
    _edit(a, note, replica, 0, "Ändrat. ")
    fresh = Note.objects.select_related("group").get(pk=note.pk)
    notes.note_restore(actor=a, note=fresh, version=1, base_version=None)
    last = NoteUpdate.objects.filter(note=note).order_by("-id").values_list("update", flat=True)[0]
    replica.doc.apply_update(bytes(last))
    assert str(replica) == "Rad ett.\n"
    assert _history(note)[-1] == (3, "Rad ett.\n", ["Anna Berg"], member_a.pk)
    assert NoteVersion.objects.get(note=note, version=3).restored_from == 1


def test_the_log_is_merged_into_the_state_and_trimmed(scope, note, member_a, as_actor, monkeypatch):
    monkeypatch.setattr(documents, "COMPACT_AFTER", 5)
    a = as_actor(member_a)
    replica = _synced(a, note)
    for i in range(7):
        _edit(a, note, replica, 0, str(i))
    document = NoteDocument.objects.get(note=note)
    assert (document.log_length, NoteUpdate.objects.filter(note=note).count()) == (2, 2)
    documents.forget(note.pk)  # read from the database alone
    assert str(_synced(a, note)) == "6543210Rad ett.\n" == Note.objects.get(pk=note.pk).body


def test_a_text_over_the_limit_is_refused(scope, note, member_a, as_actor):
    from django.core.exceptions import ValidationError

    a = as_actor(member_a)
    replica = _synced(a, note)
    with pytest.raises(ValidationError):
        _edit(a, note, replica, 0, "x" * 100_001)
    assert (Note.objects.get(pk=note.pk).body, NoteUpdate.objects.filter(note=note).count()) == (
        "Rad ett.\n",
        0,
    )
