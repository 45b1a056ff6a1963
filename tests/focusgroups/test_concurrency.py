"""Saves of one note under real concurrency on PostgreSQL: several transactions, each with its own
connection, save on the same base version at the same moment. The compare-and-set lets exactly one through;
every other gets the conflict with the winner's text, and no saved text is lost."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from coordinator.core.exceptions import Conflict
from coordinator.core.tenancy import programme_scope
from focusgroups.models import GroupMembership, Note, NoteVersion
from focusgroups.services import notes
from organisations.models import PlatformRole
from organisations.permissions import actor_for
from tests.factories import make_member
from tests.factories.focusgroups import make_group_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(
    note: Note, people: list, base_version: int
) -> tuple[list[str], list[Conflict], list[BaseException]]:
    programme_id = note.group.programme_id
    actors = [actor_for(p.user) for p in people]
    barrier = threading.Barrier(len(people))
    winners: list[str] = []
    conflicts: list[Conflict] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def client(index: int) -> None:
        body = f"Text från klient {index}"
        try:
            with programme_scope([programme_id]):
                fresh = Note.objects.select_related("group").get(pk=note.pk)
                barrier.wait(timeout=60)
                notes.note_update(actor=actors[index], note=fresh, body=body, base_version=base_version)
            with guard:
                winners.append(body)
        except Conflict as stale:
            with guard:
                conflicts.append(stale)
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
    return winners, conflicts, errors


@pytest.mark.parametrize("clients", [2, 8])
def test_same_base_version_saved_at_once_exactly_one_wins(
    postgres_only, programme, org_a, group, note, clients
):
    people = [make_member(programme, org_a, PlatformRole.STAFF) for _ in range(clients)]
    for person in people:
        make_group_member(group, person, GroupMembership.Role.MEMBER)

    winners, conflicts, errors = _race(note, people, base_version=1)

    assert errors == []
    assert len(winners) == 1
    assert len(conflicts) == clients - 1
    # Every loser was told the winner's text and version, so it can merge: nothing it typed was overwritten.
    assert {(c.current.version, c.current.body) for c in conflicts} == {(2, winners[0])}
    stored = Note.unscoped_objects.get(pk=note.pk)
    assert (stored.version, stored.body) == (2, winners[0])
    history = list(
        NoteVersion.unscoped_objects.filter(note=note).order_by("version").values_list("version", "body")
    )
    assert history == [(1, "Rad ett.\n"), (2, winners[0])]


def test_control_without_compare_and_set_several_saves_pass_the_check(
    postgres_only, programme, org_a, group, note
):
    """The race is real: with the version checked by a read before the write, more than one of eight saves
    on version 1 gets past the check. The unique (note, version) constraint on the history then refuses the
    later ones with an integrity error instead of a clean conflict."""
    from django.db import IntegrityError

    people = [make_member(programme, org_a, PlatformRole.STAFF) for _ in range(8)]
    for person in people:
        make_group_member(group, person, GroupMembership.Role.MEMBER)

    with notes.compare_and_set_disabled():
        winners, conflicts, errors = _race(note, people, base_version=1)

    assert all(isinstance(e, IntegrityError) for e in errors)
    assert len(winners) + len(errors) > 1
    assert len(winners) + len(errors) + len(conflicts) == 8
