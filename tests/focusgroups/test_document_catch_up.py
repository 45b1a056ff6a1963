"""A process's copy of a note's document follows the changes other processes store: from the change their
broadcast carries (``documents.hear``) when every version step arrived, from the log when one is missing.

The other process is a thread of its own here: each thread keeps its own copies of the documents, as each
server process does."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coordinator.core.tenancy import programme_scope
from focusgroups.models import Note, NoteUpdate
from focusgroups.services import _broadcast, documents
from organisations.permissions import actor_for
from tests.focusgroups.live import replica_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _nothing_heard() -> None:
    _broadcast._heard.clear()


def _apply(note: Note, person: Any, update: bytes) -> dict[str, Any]:
    """Store one update as a socket's batch does; the event its broadcast carries."""
    deliveries: list[documents.Broadcast] = []
    with programme_scope([note.group.programme_id]):
        changed, refusals = documents.document_apply_many(
            note=note, edits=[documents.Edit(actor_for(person.user), update, "socket")], deliveries=deliveries
        )
    assert (changed is not None, refusals) == (True, [None])
    (delivery,) = deliveries
    return delivery.event


def _in_another_process(work: Any) -> Any:
    """Run ``work`` in a thread of its own (its own copies of the documents and its own connection)."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(work())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    (value,) = result
    return value


def _log_reads(queries: CaptureQueriesContext) -> int:
    table = NoteUpdate._meta.db_table
    return sum(
        1 for query in queries.captured_queries if query["sql"].startswith("SELECT") and table in query["sql"]
    )


def test_a_process_catches_up_from_the_broadcasts_without_reading_the_log(
    programme, note, member_a, member_b
):
    here, there = replica_of(note, member_a), replica_of(note, member_b)
    _apply(note, member_a, here.edit(0, "A"))  # this process's copy is at version 2
    events = _in_another_process(
        lambda: [_apply(note, member_b, there.edit(0, "B")), _apply(note, member_b, there.edit(0, "C"))]
    )
    for event in events:
        documents.hear(event)

    with CaptureQueriesContext(connection) as queries:
        _apply(note, member_a, here.edit(len(str(here)), "D"))

    stored = Note.unscoped_objects.get(pk=note.pk)
    assert stored.version == 5
    assert _log_reads(queries) == 0
    assert sorted(stored.body) == sorted("ABCD" + "Rad ett.\n")
    here.doc.apply_update(there.doc.get_update(here.doc.get_state()))
    assert str(here) == stored.body


def test_a_missing_step_makes_the_process_read_the_log(programme, note, member_a, member_b):
    here, there = replica_of(note, member_a), replica_of(note, member_b)
    _apply(note, member_a, here.edit(0, "A"))
    first, second = _in_another_process(
        lambda: [_apply(note, member_b, there.edit(0, "B")), _apply(note, member_b, there.edit(0, "C"))]
    )
    documents.hear(second)  # the broadcast of "B" never arrived here

    with CaptureQueriesContext(connection) as queries:
        event = _apply(note, member_a, here.edit(len(str(here)), "D"))

    stored = Note.unscoped_objects.get(pk=note.pk)
    assert _log_reads(queries) == 1
    assert (stored.version, event["version"]) == (5, 5)
    assert sorted(stored.body) == sorted("ABCD" + "Rad ett.\n")
    here.doc.apply_update(there.doc.get_update(here.doc.get_state()))
    assert str(here) == stored.body
    # Every later client gets the same text the server holds: a fresh sync equals the stored body.
    assert str(replica_of(note, member_b)) == stored.body


def test_a_title_only_save_between_changes_is_a_gap_too(programme, note, member_a, member_b):
    from focusgroups.services import notes

    here, there = replica_of(note, member_a), replica_of(note, member_b)
    _apply(note, member_a, here.edit(0, "A"))

    def elsewhere() -> dict[str, Any]:
        with programme_scope([programme.pk]):
            current = Note.objects.get(pk=note.pk)
            notes.note_update(actor=actor_for(member_b.user), note=current, title="Ny rubrik", base_version=2)
        return _apply(note, member_b, there.edit(0, "B"))

    documents.hear(_in_another_process(elsewhere))

    with CaptureQueriesContext(connection) as queries:
        _apply(note, member_a, here.edit(len(str(here)), "D"))

    stored = Note.unscoped_objects.get(pk=note.pk)
    assert (_log_reads(queries), stored.version, stored.title) == (1, 5, "Ny rubrik")
    assert sorted(stored.body) == sorted("ABD" + "Rad ett.\n")


def test_each_process_keeps_a_broadcast_change_once(note):
    epoch = "0b7d3c52-5f4e-4d7e-9a57-1b2f8a9e6c11"
    event = {
        "type": "note.doc_update",
        "note": note.pk,
        "version": 7,
        "row": 40,
        "epoch": epoch,
        "update": b"\x00\x00",
    }

    for _socket in range(3):  # every socket of the process hears the same event
        documents.hear(event)
    documents.hear({**event, "version": "8", "row": 41})  # not an event of a stored change

    assert _broadcast._heard == {(note.pk, epoch): {6: (40, b"\x00\x00")}}
    assert _broadcast.heard_steps(note.pk, epoch, 6, 7) == [(40, b"\x00\x00")]
    assert _broadcast.heard_steps(note.pk, epoch, 6, 8) is None
    # The same note id with another document (a database restored): nothing of the old one applies.
    assert _broadcast.heard_steps(note.pk, "5a0c1e7e-0000-4000-8000-000000000000", 6, 7) is None
