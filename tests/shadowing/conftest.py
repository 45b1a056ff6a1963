"""Fixtures of the shadowing tests: two host organisations with a published workplace each, host
contacts, a line manager and a shadower, a free slot, data of another programme that must never leak,
and helpers to call services as a person or put a placement in a given state."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone

from coordinator.core.tenancy import programme_scope
from organisations.models import Person, PlatformRole, Programme
from organisations.permissions import Actor, actor_for, forget_actor
from shadowing.models import Placement, PlacementDay, PlacementEvent, ShadowingRequest, Slot, Workplace
from tests.factories import make_member
from tests.factories.shadowing import (
    SlotFactory,
    TopicFactory,
    WorkplaceFactory,
    future_weekday,
    make_request,
)

R = PlatformRole


@pytest.fixture
def scope(programme: Programme) -> Iterator[None]:
    """Run the test body inside the programme's tenant scope, as a request would."""
    with programme_scope([programme.pk]):
        yield


@pytest.fixture
def as_actor() -> Callable[[Person], Actor]:
    def make(person: Person) -> Actor:
        forget_actor(person.user)
        return actor_for(person.user)

    return make


@pytest.fixture
def host_a(programme: Programme, org_a: Any, unit_a: Any) -> Person:
    return make_member(programme, org_a, R.HOST_CONTACT, R.STAFF, unit=unit_a)


@pytest.fixture
def host_b(programme: Programme, org_b: Any, unit_b: Any) -> Person:
    return make_member(programme, org_b, R.HOST_CONTACT, R.STAFF, unit=unit_b)


@pytest.fixture
def org_admin_a(programme: Programme, org_a: Any) -> Person:
    return make_member(programme, org_a, R.ORGANISATION_ADMIN, R.STAFF)


@pytest.fixture
def topic(programme: Programme) -> Any:
    return TopicFactory(programme=programme, name="Asylprocessen")


@pytest.fixture
def workplace_a(programme: Programme, org_a: Any, host_a: Person, unit_a: Any, topic: Any) -> Workplace:
    workplace = WorkplaceFactory(
        programme=programme,
        organisation=org_a,
        unit=unit_a,
        contact=host_a,
        name="Mottagningsenheten",
        topics=[topic],
    )
    return workplace


@pytest.fixture
def workplace_b(programme: Programme, org_b: Any, host_b: Person, unit_b: Any) -> Workplace:
    workplace = WorkplaceFactory(
        programme=programme, organisation=org_b, unit=unit_b, contact=host_b, name="Introduktion Rosengård"
    )
    return workplace


@pytest.fixture
def manager_b(programme: Programme, org_b: Any, unit_b: Any) -> Person:
    return make_member(programme, org_b, R.LINE_MANAGER, R.STAFF, unit=unit_b)


@pytest.fixture
def shadower(programme: Programme, org_b: Any, unit_b: Any, manager_b: Person) -> Person:
    """A staff member of Malmö stad whose line manager is ``manager_b``."""
    return make_member(programme, org_b, R.STAFF, unit=unit_b, line_manager=manager_b)


@pytest.fixture
def slot_a(workplace_a: Workplace) -> Slot:
    return SlotFactory(workplace=workplace_a, date=future_weekday(1), capacity=1)


@pytest.fixture
def foreign(other_programme: Programme, org_other: Any, outsider: Person) -> dict[str, Any]:
    """A workplace, slot, request and placement of the other programme: they must never be visible."""
    host = make_member(other_programme, org_other, R.HOST_CONTACT, R.STAFF)
    workplace = WorkplaceFactory(
        programme=other_programme, organisation=org_other, contact=host, name="Jobcenter"
    )
    slot = SlotFactory(workplace=workplace, capacity=2)
    request = make_request(other_programme, outsider)
    placement = Placement.unscoped_objects.create(
        programme=other_programme, request=request, workplace=workplace, status=Placement.Status.AWAITING_HOST
    )
    PlacementDay.unscoped_objects.create(
        placement=placement, slot=slot, date=slot.date, starts_at=slot.starts_at, ends_at=slot.ends_at
    )
    return {"workplace": workplace, "slot": slot, "request": request, "placement": placement, "host": host}


@pytest.fixture
def make_placement() -> Callable[..., Placement]:
    """``make_placement(request, slots, status)``: a placement in that state, seats and request kept in
    step as the services would leave them."""

    def make(request: ShadowingRequest, slots: Sequence[Slot], status: str, run: Any = None) -> Placement:
        placement = Placement.unscoped_objects.create(
            programme_id=request.programme_id,
            request=request,
            workplace=slots[0].workplace,
            run=run,
            status=status,
            confidentiality_accepted_at=(
                timezone.now()
                if status
                in (Placement.Status.CONFIRMED, Placement.Status.VISITED, Placement.Status.REFLECTED)
                else None
            ),
        )
        for slot in slots:
            PlacementDay.unscoped_objects.create(
                placement=placement, slot=slot, date=slot.date, starts_at=slot.starts_at, ends_at=slot.ends_at
            )
            if status in Placement.SEAT_HOLDING:
                Slot.unscoped_objects.filter(pk=slot.pk).update(booked=F("booked") + 1)
        PlacementEvent.unscoped_objects.create(placement=placement, from_status="", to_status=status)
        if status in Placement.SEAT_HOLDING:
            ShadowingRequest.unscoped_objects.filter(pk=request.pk).update(
                status=ShadowingRequest.Status.PLACED
            )
            request.status = ShadowingRequest.Status.PLACED
        return placement

    return make
