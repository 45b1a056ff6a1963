"""Slot capacity under real concurrency: twenty coordinators (threads, each with its own PostgreSQL
connection) confirm twenty different matching runs at once, each proposing a different visitor for the same
visit day with three places. The control tests switch the slot lock off to show that the race is real (and
that the CHECK constraint, then the only guard left, turns it into integrity errors; without it too, the
slot overbooks)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection

from coordinator.core.exceptions import Conflict
from coordinator.core.tenancy import programme_scope
from organisations.models import PlatformRole
from organisations.permissions import actor_for
from shadowing.models import MatchingRun, Placement, Slot
from shadowing.services import matching_runs
from tests.factories import make_member
from tests.factories.shadowing import SlotFactory, future_weekday, make_request

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
CLIENTS = 20
P = Placement.Status


@pytest.fixture
def contested(postgres_only, programme, org_b, workplace_a, make_placement) -> tuple[Slot, list[MatchingRun]]:
    """A slot of three places and twenty proposed runs, each placing a different request on it."""
    slot = SlotFactory(workplace=workplace_a, date=future_weekday(2), capacity=3)
    runs = []
    for _i in range(CLIENTS):
        run = MatchingRun.unscoped_objects.create(programme=programme, placed=1, requests_considered=1)
        make_placement(
            make_request(programme, make_member(programme, org_b, PlatformRole.STAFF)),
            [slot],
            P.PROPOSED,
            run=run,
        )
        runs.append(run)
    return slot, runs


def _race(slot: Slot, runs: list[MatchingRun]) -> tuple[Counter[str], list[BaseException]]:
    programme = slot.workplace.programme
    coordinators = [
        make_member(programme, slot.workplace.organisation, PlatformRole.COORDINATOR)
        for _ in range(len(runs))
    ]
    actors = [actor_for(p.user) for p in coordinators]
    barrier = threading.Barrier(len(runs))
    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []
    guard = threading.Lock()

    def client(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            with programme_scope([programme.pk]):
                run = MatchingRun.objects.select_related("programme").get(pk=runs[index].pk)
                matching_runs.matching_run_confirm(actor=actors[index], run=run)
            with guard:
                outcomes["confirmed"] += 1
        except Conflict:
            with guard:
                outcomes["conflict"] += 1
        except ValidationError:
            with guard:
                outcomes["invalid"] += 1
        except BaseException as exc:  # collected and asserted on below
            with guard:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(runs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, errors


def _seat_holders(slot: Slot) -> int:
    return Placement.unscoped_objects.filter(days__slot=slot, status__in=Placement.SEAT_HOLDING).count()


def test_twenty_coordinators_confirming_at_once_fill_the_three_places_exactly(contested):
    slot, runs = contested
    outcomes, errors = _race(slot, runs)

    slot.refresh_from_db()
    assert errors == []
    assert outcomes == Counter({"confirmed": 3, "conflict": CLIENTS - 3})
    assert slot.booked == _seat_holders(slot) == 3
    assert MatchingRun.unscoped_objects.filter(status=MatchingRun.Status.CONFIRMED).count() == 3
    # the refused runs are untouched: still proposals, to be edited and confirmed again
    assert Placement.unscoped_objects.filter(status=P.PROPOSED).count() == CLIENTS - 3


def test_control_without_lock_the_race_happens_and_only_check_constraint_stops_it(contested):
    slot, runs = contested
    with matching_runs.slot_lock_disabled():
        outcomes, errors = _race(slot, runs)

    slot.refresh_from_db()
    # Coordinators read free places that another had just taken; the CHECK constraint refused their update.
    assert errors and all(isinstance(e, IntegrityError) for e in errors)
    assert outcomes["confirmed"] == 3
    assert slot.booked == _seat_holders(slot) == 3


@pytest.fixture
def without_capacity_check(contested) -> Iterator[None]:
    constraint = next(c for c in Slot._meta.constraints if c.name == "slot_booked_within_capacity")
    with connection.schema_editor() as editor:
        editor.remove_constraint(Slot, constraint)
    try:
        yield
    finally:
        Slot.unscoped_objects.update(booked=0)
        with connection.schema_editor() as editor:
            editor.add_constraint(Slot, constraint)


def test_control_without_lock_or_check_constraint_the_slot_overbooks(contested, without_capacity_check):
    slot, runs = contested
    with matching_runs.slot_lock_disabled():
        outcomes, errors = _race(slot, runs)

    slot.refresh_from_db()
    assert errors == []
    assert outcomes["confirmed"] > 3
    assert slot.booked == _seat_holders(slot) > slot.capacity
