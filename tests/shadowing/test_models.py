"""The database constraints of the shadowing models: the last line of defence below the services."""

from __future__ import annotations

from datetime import time

import pytest
from django.db import IntegrityError, transaction

from shadowing.models import Placement, PlacementDay, Preference, ShadowingRequest, Slot
from tests.factories.shadowing import SlotFactory, future_weekday, make_request

pytestmark = pytest.mark.django_db


def _refused(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_slot_constraints(workplace_a):
    day = future_weekday(1)
    SlotFactory(workplace=workplace_a, date=day, starts_at=time(9))
    _refused(lambda: SlotFactory(workplace=workplace_a, date=day, starts_at=time(9)))
    _refused(lambda: SlotFactory(workplace=workplace_a, date=day, starts_at=time(10), capacity=4))
    _refused(lambda: SlotFactory(workplace=workplace_a, date=day, starts_at=time(11), ends_at=time(10)))
    _refused(lambda: SlotFactory(workplace=workplace_a, date=day, starts_at=time(12), capacity=1, booked=2))
    assert Slot.unscoped_objects.count() == 1


def test_preference_names_exactly_one_of_organisation_and_workplace(programme, shadower, org_a, workplace_a):
    request = make_request(programme, shadower)
    _refused(lambda: Preference.unscoped_objects.create(request=request, rank=1))
    _refused(
        lambda: Preference.unscoped_objects.create(
            request=request, rank=1, organisation=org_a, workplace=workplace_a
        )
    )
    Preference.unscoped_objects.create(request=request, rank=1, organisation=org_a)
    _refused(lambda: Preference.unscoped_objects.create(request=request, rank=1, workplace=workplace_a))
    _refused(lambda: Preference.unscoped_objects.create(request=request, rank=6, workplace=workplace_a))


def test_request_days_and_partner(programme, shadower):
    _refused(lambda: make_request(programme, shadower, days=4))
    request = make_request(programme, shadower)
    _refused(lambda: ShadowingRequest.unscoped_objects.filter(pk=request.pk).update(partner=request.pk))


def test_one_live_placement_per_request_and_confidentiality_on_confirmed(
    programme, shadower, slot_a, workplace_a
):
    request = make_request(programme, shadower)
    Placement.unscoped_objects.create(
        programme=programme, request=request, workplace=workplace_a, status=Placement.Status.AWAITING_HOST
    )
    _refused(
        lambda: Placement.unscoped_objects.create(
            programme=programme, request=request, workplace=workplace_a, status=Placement.Status.HOST_ACCEPTED
        )
    )
    other = make_request(programme, shadower)
    _refused(
        lambda: Placement.unscoped_objects.create(
            programme=programme, request=other, workplace=workplace_a, status=Placement.Status.CONFIRMED
        )
    )
    # proposals of different runs may coexist with a live placement
    Placement.unscoped_objects.create(programme=programme, request=request, workplace=workplace_a)
    assert Placement.unscoped_objects.filter(request=request).count() == 2


def test_placement_day_keeps_its_copy_when_the_slot_goes(programme, shadower, slot_a, workplace_a):
    placement = Placement.unscoped_objects.create(
        programme=programme, request=make_request(programme, shadower), workplace=workplace_a
    )
    PlacementDay.unscoped_objects.create(
        placement=placement, slot=slot_a, date=slot_a.date, starts_at=slot_a.starts_at, ends_at=slot_a.ends_at
    )
    slot_a.delete()
    day = PlacementDay.unscoped_objects.get(placement=placement)
    assert (day.slot_id, day.date) == (None, future_weekday(1))
