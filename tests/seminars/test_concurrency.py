"""Seats under real concurrency: 50 threads, each with its own PostgreSQL connection, race for the last 10
seats of a round. The control tests switch the lock off to show that the race is real (and that the CHECK
constraint, then the only guard left, turns it into conflicts; without it too, the round overbooks)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from django.db import IntegrityError, connection

from coordinator.core.tenancy import programme_scope
from organisations.models import PlatformRole
from organisations.permissions import actor_for
from seminars.models import Enrolment, Round
from seminars.services import enrolments
from seminars.services._seats import seat_lock_disabled
from tests.factories import make_member
from tests.factories.seminars import RoundFactory, SessionFactory, make_enrolment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
CLIENTS = 50


@pytest.fixture
def last_ten_seats(postgres_only, programme, org_a, org_b, course) -> Round:
    """A round of 30 seats with 20 already taken."""
    round_ = RoundFactory(course=course, capacity=30)
    SessionFactory(round=round_)
    for i in range(20):
        make_enrolment(round_, make_member(programme, org_a if i % 2 else org_b, PlatformRole.STAFF))
    round_.refresh_from_db()
    assert round_.seats_taken == 20
    return round_


def _race(
    round_: Round, organisations: list, clients: int = CLIENTS
) -> tuple[Counter[str], list[BaseException]]:
    programme = round_.course.programme
    people = [
        make_member(programme, organisations[i % len(organisations)], PlatformRole.STAFF)
        for i in range(clients)
    ]
    actors = [actor_for(p.user) for p in people]
    barrier = threading.Barrier(clients)
    statuses: Counter[str] = Counter()
    errors: list[BaseException] = []
    guard = threading.Lock()

    def client(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            with programme_scope([programme.pk]):
                fresh = Round.objects.select_related("course__programme").get(pk=round_.pk)
                enrolment = enrolments.enrolment_create(actor=actors[index], round=fresh)
            with guard:
                statuses[enrolment.status] += 1
        except BaseException as exc:  # collected and asserted on below
            with guard:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, errors


def _seat_holders(round_: Round) -> int:
    return Enrolment.unscoped_objects.filter(round=round_, status__in=Enrolment.SEAT_HOLDING).count()


def test_fifty_clients_for_last_ten_seats_end_with_ten_confirmed_and_forty_waiting(
    last_ten_seats, org_a, org_b
):
    statuses, errors = _race(last_ten_seats, [org_a, org_b])

    last_ten_seats.refresh_from_db()
    assert errors == []
    assert statuses == Counter({Enrolment.Status.CONFIRMED: 10, Enrolment.Status.WAITING: 40})
    assert last_ten_seats.seats_taken == _seat_holders(last_ten_seats) == 30


def test_control_without_lock_the_race_happens_and_only_check_constraint_stops_it(
    last_ten_seats, org_a, org_b
):
    with seat_lock_disabled():
        statuses, errors = _race(last_ten_seats, [org_a, org_b])

    last_ten_seats.refresh_from_db()
    # Clients read a free seat that another had just taken; the CHECK constraint refused their booking.
    assert errors and all(isinstance(e, IntegrityError) for e in errors)
    assert statuses[Enrolment.Status.CONFIRMED] == 10
    assert last_ten_seats.seats_taken == _seat_holders(last_ten_seats) == 30


@pytest.fixture
def without_capacity_check(last_ten_seats) -> Iterator[None]:
    constraint = next(c for c in Round._meta.constraints if c.name == "round_seats_within_capacity")
    with connection.schema_editor() as editor:
        editor.remove_constraint(Round, constraint)
    try:
        yield
    finally:
        Round.unscoped_objects.update(seats_taken=0)
        with connection.schema_editor() as editor:
            editor.add_constraint(Round, constraint)


def test_control_without_lock_or_check_constraint_the_round_overbooks(
    last_ten_seats, without_capacity_check, org_a, org_b
):
    with seat_lock_disabled():
        statuses, errors = _race(last_ten_seats, [org_a, org_b])

    last_ten_seats.refresh_from_db()
    assert errors == []
    assert statuses[Enrolment.Status.CONFIRMED] > 10
    assert _seat_holders(last_ten_seats) > last_ten_seats.capacity


def test_one_person_twice_at_once_without_the_lock_books_once_and_the_second_is_refused(
    last_ten_seats, staff_a
):
    # With the round's lock off, both requests of one person may find no booking; the second one's insert
    # then waits on the unique constraint until the first commits, and is refused with the booking
    # message (a conflict), never a database error; nothing of it is written (no booking, no entry).
    from auditlog.models import LogEntry
    from django.core.exceptions import ValidationError

    from coordinator.core.exceptions import Conflict

    programme = last_ten_seats.course.programme
    actor = actor_for(staff_a.user)
    inserted, second_started = threading.Event(), threading.Event()
    outcomes: list[object] = []

    def first() -> None:
        from django.db import transaction

        try:
            with programme_scope([programme.pk]), transaction.atomic():
                fresh = Round.objects.select_related("course__programme").get(pk=last_ten_seats.pk)
                outcomes.append(enrolments.enrolment_create(actor=actor, round=fresh).status)
                inserted.set()
                second_started.wait(timeout=30)
                threading.Event().wait(0.5)  # the second reaches its insert, which waits for this commit
        finally:
            inserted.set()
            connection.close()

    def second() -> None:
        inserted.wait(timeout=30)
        second_started.set()
        try:
            with programme_scope([programme.pk]):
                fresh = Round.objects.select_related("course__programme").get(pk=last_ten_seats.pk)
                outcomes.append(enrolments.enrolment_create(actor=actor, round=fresh).status)
        except (Conflict, ValidationError) as refused:
            outcomes.append(refused)
        finally:
            connection.close()

    with seat_lock_disabled():
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert outcomes[0] == Enrolment.Status.CONFIRMED
    refused = outcomes[1]
    assert isinstance(refused, Conflict | ValidationError)
    assert refused.messages == ["There is already a booking on a round of this course."]
    booked = Enrolment.unscoped_objects.filter(round=last_ten_seats, person=staff_a)
    assert booked.count() == 1
    assert LogEntry.objects.filter(content_type__model="enrolment", object_id=booked.get().pk).count() == 1
    last_ten_seats.refresh_from_db()
    assert last_ten_seats.seats_taken == _seat_holders(last_ten_seats) == 21
