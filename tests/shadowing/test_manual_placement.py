"""Placing a request by hand: the requests are told apart by their days, windows and wishes, the
workplace's free days inside the request's windows are offered to tick (never typed), and the button says
what it does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from organisations.models import Person
from shadowing.models import MatchingRun, Placement, Slot
from shadowing.services import matching_runs
from tests.factories.shadowing import SlotFactory, future_weekday, make_request

pytestmark = [pytest.mark.django_db]


def url(name, *args):
    return reverse(f"shadowing:{name}", args=args)


@pytest.fixture
def run_and_requests(programme, coordinator, shadower, workplace_a, as_actor, scope):
    monday = future_weekday(0)
    first = make_request(programme, shadower, days=1, windows=[(monday, monday + timedelta(days=4))])
    second = make_request(
        programme,
        shadower,
        days=2,
        consecutive=True,
        windows=[(monday + timedelta(days=7), monday + timedelta(days=11))],
        preferences=[workplace_a],
    )
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)  # no slots yet
    assert run.placed == 0
    slots = {
        "tuesday": SlotFactory(workplace=workplace_a, date=monday + timedelta(days=1), capacity=2),
        "thursday_full": SlotFactory(workplace=workplace_a, date=monday + timedelta(days=3), capacity=1),
        "outside": SlotFactory(workplace=workplace_a, date=monday + timedelta(days=20)),
    }
    Slot.unscoped_objects.filter(pk=slots["thursday_full"].pk).update(booked=1)
    return run, first, second, slots, monday


def test_two_requests_of_one_person_are_told_apart(web, coordinator, run_and_requests, workplace_a):
    run, first, second, _slots, _monday = run_and_requests
    page = web(coordinator).get(url("run-detail", run.pk)).content.decode()
    name = first.requester.full_name
    labels = [line for line in page.splitlines() if "<option" in line and name in line]
    assert len(labels) == 2
    assert "1 day," in labels[0] and "2 days in a row" in labels[1]
    assert f"wishes: {workplace_a.name}" in labels[1] and "wishes" not in labels[0]
    assert "YYYY-MM-DD" not in page
    assert "Show free days" in page


def test_free_days_are_offered_to_tick_and_the_request_is_placed(
    web, coordinator, run_and_requests, workplace_a
):
    run, first, _second, slots, _monday = run_and_requests
    client = web(coordinator)
    step = client.get(url("run-assign", run.pk), {"request": first.pk, "workplace": workplace_a.pk})
    page = step.content.decode()
    assert step.status_code == 200
    offered = {int(v) for v in __import__("re").findall(r'name="slots" value="(\d+)"', page)}
    assert offered == {slots["tuesday"].pk}  # the full day and the day outside the window are not offered
    assert "(2 places free)" in page
    name = first.requester.full_name
    assert f"Place {name} on the chosen days" in page

    done = client.post(
        url("run-assign", run.pk),
        {"request": first.pk, "workplace": workplace_a.pk, "slots": [slots["tuesday"].pk]},
    )
    assert done.status_code == 302
    placement = Placement.unscoped_objects.get(run=run, request=first)
    assert [d.slot_id for d in placement.days.all()] == [slots["tuesday"].pk]


def test_a_day_that_was_not_offered_is_refused_and_nothing_is_placed(
    web, coordinator, run_and_requests, workplace_a
):
    run, first, _second, slots, _monday = run_and_requests
    response = web(coordinator).post(
        url("run-assign", run.pk),
        {"request": first.pk, "workplace": workplace_a.pk, "slots": [slots["thursday_full"].pk]},
    )
    assert response.status_code == 400
    assert "is not one of the available choices" in response.content.decode()
    assert not Placement.unscoped_objects.filter(run=run, request=first).exists()


def test_a_workplace_without_free_days_says_so(web, coordinator, run_and_requests, workplace_a):
    run, _first, second, _slots, _monday = run_and_requests
    page = web(coordinator).get(
        url("run-assign", run.pk), {"request": second.pk, "workplace": workplace_a.pk}
    )
    assert page.status_code == 200
    assert 'id="no-free-days"' in page.content.decode()


def test_the_button_is_a_verb_in_swedish(web, coordinator, run_and_requests, workplace_a):
    run, first, _second, _slots, _monday = run_and_requests
    Person.unscoped_objects.filter(pk=coordinator.pk).update(preferred_language="sv")
    page = web(coordinator).get(url("run-assign", run.pk), {"request": first.pk, "workplace": workplace_a.pk})
    assert f"Placera {first.requester.full_name} på de valda dagarna" in page.content.decode()


def test_a_confirmed_run_offers_no_manual_placement(web, coordinator, run_and_requests, workplace_a):
    run, first, _second, _slots, _monday = run_and_requests
    MatchingRun.unscoped_objects.filter(pk=run.pk).update(status=MatchingRun.Status.CONFIRMED)
    response = web(coordinator).get(
        url("run-assign", run.pk), {"request": first.pk, "workplace": workplace_a.pk}
    )
    assert response.status_code == 302 and response["Location"] == url("run-detail", run.pk)
