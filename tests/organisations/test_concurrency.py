"""Two programme admins erase the same person at the same moment, on PostgreSQL: the person's row lock lets
one erasure through and the other sees it and stops, so the trail records one erasure. The control switches
the lock off and shows both erasures running."""

from __future__ import annotations

import threading

import pytest
from auditlog.models import LogEntry
from django.db import connection

from coordinator.core.exceptions import Conflict
from coordinator.core.tenancy import programme_scope
from organisations.models import Person
from organisations.models import PlatformRole as R
from organisations.permissions import actor_for
from organisations.services import personal_data
from tests.factories import make_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(programme, person, admins) -> tuple[int, int, list[BaseException]]:
    barrier = threading.Barrier(len(admins))
    done: list[str] = []
    refused: list[Conflict] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def client(admin) -> None:
        try:
            with programme_scope([programme.pk]):
                actor = actor_for(admin.user)
                fresh = Person.objects.select_related("user").get(pk=person.pk)
                barrier.wait(timeout=60)
                outcome = personal_data.person_erase(actor=actor, person=fresh, programme=programme)
            with guard:
                done.append(outcome.kind)
        except Conflict as conflict:
            with guard:
                refused.append(conflict)
        except BaseException as exc:  # asserted on below
            with guard:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(admin,)) for admin in admins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done), len(refused), errors


def _erasure_entries(person) -> int:
    return LogEntry.objects.filter(
        object_pk=str(person.pk), changes__has_key=personal_data.ERASURE_FIELD
    ).count()


def test_two_admins_erasing_at_once_erase_once(postgres_only, programme, org_a, org_b):
    person = make_member(programme, org_a, R.STAFF)
    admins = [make_member(programme, org_b, R.PROGRAMME_ADMIN) for _ in range(2)]

    done, refused, errors = _race(programme, person, admins)

    assert (done, refused, errors) == (1, 1, [])
    assert _erasure_entries(person) == 1


def test_without_the_lock_both_erasures_run(postgres_only, programme, org_a, org_b):
    person = make_member(programme, org_a, R.STAFF)
    admins = [make_member(programme, org_b, R.PROGRAMME_ADMIN) for _ in range(2)]

    with personal_data.erasure_lock_disabled():
        done, refused, errors = _race(programme, person, admins)

    assert (done, refused, errors) == (2, 0, [])
    assert _erasure_entries(person) == 2
