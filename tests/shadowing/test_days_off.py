"""Public holidays and days off of the programme's country: bulk publishing leaves them out and says so,
a single visit day on one needs confirmation, the matcher never proposes one, and consecutive working
days run across one. Dates are in next year's calendar, so they are always in the future."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from coordinator.core.days_off import day_off, days_off
from organisations.models import Programme
from shadowing.models import Placement, Slot
from shadowing.services import matching_runs, workplaces
from tests.factories.shadowing import SlotFactory, make_request

pytestmark = [pytest.mark.django_db]

NEXT = timezone.localdate().year + 1


def _in(programme: Programme, country: str) -> None:
    Programme.unscoped_objects.filter(pk=programme.pk).update(country=country)
    programme.refresh_from_db()


def test_swedish_days_off_are_the_public_holidays_and_the_de_facto_days():
    found = days_off("SE", date(2026, 1, 1), date(2026, 12, 31), "en")
    assert {
        date(2026, 1, 6): "Epiphany",
        date(2026, 5, 14): "Ascension Day",
        date(2026, 6, 19): "Midsummer Eve",
        date(2026, 12, 24): "Christmas Eve",
        date(2026, 12, 25): "Christmas Day",
        date(2026, 12, 31): "New Year's Eve",
    }.items() <= found.items()
    assert not any(day.weekday() == 6 and name == "Sunday" for day, name in found.items())
    assert date(2026, 12, 23) not in found
    assert day_off("SE", date(2026, 12, 24), "sv") == "Julafton"


def test_danish_days_off_follow_denmark_not_sweden():
    found = days_off("DK", date(2026, 1, 1), date(2026, 12, 31), "da")
    assert found[date(2026, 6, 5)] == "Grundlovsdag"
    assert found[date(2026, 12, 24)] == "Juleaftensdag"
    assert date(2026, 6, 19) not in found  # Midsummer Eve is Swedish
    assert date(2026, 1, 6) not in found  # and so is Epiphany
    assert days_off("", date(2026, 1, 1), date(2026, 12, 31)) == {}


def test_bulk_publishing_leaves_out_the_days_off_and_names_them(
    scope, programme, workplace_a, host_a, as_actor
):
    _in(programme, "SE")
    with translation.override("en"):
        result = workplaces.slots_bulk_create(
            actor=as_actor(host_a),
            workplace=workplace_a,
            starts_on=date(NEXT, 12, 21),
            ends_on=date(NEXT + 1, 1, 8),
            weekdays=[0, 1, 2, 3, 4],
            starts_at=time(9),
            ends_at=time(15),
            capacity=1,
        )
    expected_off = {
        d: n
        for d, n in days_off("SE", date(NEXT, 12, 21), date(NEXT + 1, 1, 8), "en").items()
        if d.weekday() < 5
    }
    holidays = (
        date(NEXT, 12, 24),
        date(NEXT, 12, 25),
        date(NEXT, 12, 31),
        date(NEXT + 1, 1, 1),
        date(NEXT + 1, 1, 6),
    )
    assert {d for d in holidays if d.weekday() < 5} <= set(expected_off)
    assert len(expected_off) >= 2
    assert result.skipped_days_off == expected_off
    stored = set(Slot.unscoped_objects.filter(workplace=workplace_a).values_list("date", flat=True))
    assert stored == {s.date for s in result.created}
    assert stored.isdisjoint(expected_off)
    weekdays = {
        date(NEXT, 12, 21) + timedelta(days=i)
        for i in range((date(NEXT + 1, 1, 8) - date(NEXT, 12, 21)).days + 1)
        if (date(NEXT, 12, 21) + timedelta(days=i)).weekday() < 5
    }
    assert stored == weekdays - set(expected_off)


def test_bulk_publishing_on_days_off_when_the_host_asks_for_it(
    scope, programme, workplace_a, host_a, as_actor
):
    _in(programme, "SE")
    result = workplaces.slots_bulk_create(
        actor=as_actor(host_a),
        workplace=workplace_a,
        starts_on=date(NEXT, 12, 21),
        ends_on=date(NEXT, 12, 31),
        weekdays=[0, 1, 2, 3, 4],
        starts_at=time(9),
        ends_at=time(15),
        capacity=1,
        on_days_off=True,
    )
    assert result.skipped_days_off == {}
    assert date(NEXT, 12, 24) in {s.date for s in result.created}


def test_a_single_visit_day_on_a_day_off_needs_confirmation(scope, programme, workplace_a, host_a, as_actor):
    _in(programme, "SE")
    christmas_eve = date(NEXT, 12, 24)
    values = dict(
        actor=as_actor(host_a),
        workplace=workplace_a,
        starts_on=christmas_eve,
        ends_on=christmas_eve,
        weekdays=[christmas_eve.weekday()],
        starts_at=time(9),
        ends_at=time(15),
        capacity=1,
    )
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        workplaces.slots_bulk_create(**values)
    assert "Christmas Eve, a day off" in refused.value.message_dict["starts_on"][0]
    assert not Slot.unscoped_objects.exists()
    created = workplaces.slots_bulk_create(**values, on_days_off=True)
    assert [s.date for s in created.created] == [christmas_eve]


def test_without_a_holiday_calendar_every_weekday_is_offered(scope, programme, workplace_a, host_a, as_actor):
    _in(programme, "")
    result = workplaces.slots_bulk_create(
        actor=as_actor(host_a),
        workplace=workplace_a,
        starts_on=date(NEXT, 12, 24),
        ends_on=date(NEXT, 12, 24),
        weekdays=[date(NEXT, 12, 24).weekday()],
        starts_at=time(9),
        ends_at=time(15),
        capacity=1,
    )
    assert [s.date for s in result.created] == [date(NEXT, 12, 24)]


def test_api_single_slot_on_a_day_off_is_refused_until_confirmed(api, programme, workplace_a, host_a):
    _in(programme, "SE")
    body = {"workplace": workplace_a.pk, "date": f"{NEXT}-12-25", "starts_at": "09:00", "ends_at": "15:00"}
    refused = api(host_a).post("/api/v1/shadowing/slots/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert "Christmas Day" in refused.json()["date"][0]
    assert not Slot.unscoped_objects.exists()
    confirmed = api(host_a).post("/api/v1/shadowing/slots/", {**body, "on_day_off": True}, format="json")
    assert confirmed.status_code == 201, confirmed.content
    assert confirmed.json()["date"] == f"{NEXT}-12-25"
    assert "on_day_off" not in confirmed.json()


def test_bulk_page_says_how_many_days_off_were_left_out(web, programme, host_a, workplace_a):
    _in(programme, "SE")
    data = {
        "weekdays": [str(d) for d in range(5)],
        "starts_on": f"{NEXT}-12-21",
        "ends_on": f"{NEXT}-12-31",
        "starts_at": "09:00",
        "ends_at": "15:00",
        "capacity": "1",
        "notes": "",
    }
    response = web(host_a).post(reverse("shadowing:slots", args=[workplace_a.pk]), data, follow=True)
    off = sorted(d for d in days_off("SE", date(NEXT, 12, 21), date(NEXT, 12, 31)) if d.weekday() < 5)
    text = response.content.decode()
    assert response.status_code == 200
    assert f"{len(off)} days off were left out" in text
    assert "Christmas Eve" in text
    assert Slot.unscoped_objects.filter(date__in=off).count() == 0


def _ascension(year: int) -> date:
    return next(
        d
        for d, n in days_off("SE", date(year, 4, 1), date(year, 6, 30), "en").items()
        if n == "Ascension Day"
    )


@pytest.mark.usefixtures("scope")
def test_matcher_never_proposes_a_day_off(programme, workplace_a, shadower, coordinator, as_actor):
    _in(programme, "SE")
    christmas_eve, after = date(NEXT, 12, 24), date(NEXT, 12, 27)
    SlotFactory(workplace=workplace_a, date=christmas_eve)
    SlotFactory(workplace=workplace_a, date=after)
    only_the_holiday = make_request(programme, shadower, windows=[(christmas_eve, christmas_eve)])
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    assert run.placed == 0
    assert str(only_the_holiday.pk) in run.unplaced
    only_the_holiday.windows.update(ends_on=after)
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    placement = Placement.unscoped_objects.get(run=run, request=only_the_holiday)
    assert list(placement.days.values_list("date", flat=True)) == [after]


@pytest.mark.usefixtures("scope")
@pytest.mark.parametrize(("country", "placed"), [("SE", True), ("", False)])
def test_consecutive_working_days_run_across_a_day_off(
    programme, workplace_a, shadower, coordinator, as_actor, country, placed
):
    _in(programme, country)
    ascension = _ascension(NEXT)  # always a Thursday
    wednesday, friday = ascension - timedelta(days=1), ascension + timedelta(days=1)
    for day in (wednesday, friday):
        SlotFactory(workplace=workplace_a, date=day)
    request = make_request(programme, shadower, days=2, consecutive=True, windows=[(wednesday, friday)])
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    found = Placement.unscoped_objects.filter(run=run, request=request).first()
    if placed:
        assert found is not None
        assert sorted(found.days.values_list("date", flat=True)) == [wednesday, friday]
    else:
        assert found is None
        assert run.unplaced == {str(request.pk): run.unplaced[str(request.pk)]}
