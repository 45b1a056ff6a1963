"""Live updates of one note applied at the same moment by several transactions on PostgreSQL, each with its
own connection and its own cached copy of the document (as separate processes have): the row lock queues
them, so the stored text holds every insertion and the version rises once per update. The control shows the
race without the lock: the plain text keeps only some of the insertions."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from coordinator.core.tenancy import programme_scope
from focusgroups.models import GroupMembership, Note, NoteDocument, NoteUpdate
from focusgroups.services import documents, notes
from organisations.models import PlatformRole
from organisations.permissions import actor_for
from tests.factories import make_member
from tests.factories.focusgroups import make_group_member
from tests.focusgroups.replica import Replica

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(note: Note, people: list) -> list[BaseException]:
    programme_id = note.group.programme_id
    actors = [actor_for(p.user) for p in people]
    with programme_scope([programme_id]):
        base, _vector, _edit = documents.document_sync(actor=actors[0], note=note, state_vector=b"\x00")
    barrier = threading.Barrier(len(people))
    errors: list[BaseException] = []
    guard = threading.Lock()

    def client(index: int) -> None:
        replica = Replica()
        replica.doc.apply_update(base)
        update = replica.edit(0, f"<{index}>")
        try:
            with programme_scope([programme_id]):
                fresh = Note.objects.select_related("group").get(pk=note.pk)
                documents.document_sync(actor=actors[index], note=fresh, state_vector=b"\x00")  # warm cache
                barrier.wait(timeout=60)
                documents.document_apply(actor=actors[index], note=fresh, update=update)
        except BaseException as exc:  # asserted on below
            with guard:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(people))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _people(programme, org_a, group, count: int) -> list:
    people = [make_member(programme, org_a, PlatformRole.STAFF) for _ in range(count)]
    for person in people:
        make_group_member(group, person, GroupMembership.Role.MEMBER)
    return people


@pytest.mark.parametrize("clients", [2, 8])
def test_concurrent_updates_all_stored(postgres_only, programme, org_a, group, note, clients):
    people = _people(programme, org_a, group, clients)

    assert _race(note, people) == []

    stored = Note.unscoped_objects.get(pk=note.pk)
    assert stored.version == 1 + clients
    assert sorted(f"<{i}>" in stored.body for i in range(clients)) == [True] * clients
    assert stored.body.endswith("Rad ett.\n")
    assert len(stored.body) == len("Rad ett.\n") + sum(len(f"<{i}>") for i in range(clients))
    assert NoteUpdate.unscoped_objects.filter(note=note).count() == clients
    document = NoteDocument.unscoped_objects.get(note=note)
    assert (document.log_length, sorted(document.editors)) == (clients, sorted(p.pk for p in people))


def test_control_without_the_row_lock_the_text_loses_insertions(postgres_only, programme, org_a, group, note):
    people = _people(programme, org_a, group, 8)

    with notes.compare_and_set_disabled():
        errors = _race(note, people)

    assert errors == []
    stored = Note.unscoped_objects.get(pk=note.pk)
    # Every update is in the log, but each transaction wrote the text it alone had seen.
    assert NoteUpdate.unscoped_objects.filter(note=note).count() == 8
    assert sum(f"<{i}>" in stored.body for i in range(8)) < 8
