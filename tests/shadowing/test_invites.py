"""Calendar invites of shadowing visits and the personal feed, parsed back with icalendar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from coordinator.core.models import OutboundEmail
from shadowing import invites
from shadowing.models import Placement, PlacementDay
from shadowing.services import placements, workplaces
from tests.factories.shadowing import SlotFactory, make_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scope")]
STOCKHOLM = ZoneInfo("Europe/Stockholm")
P = Placement.Status


def _calendars(person, method=None):
    rows = OutboundEmail.unscoped_objects.filter(recipient=person).exclude(ics_method="").order_by("pk")
    if method:
        rows = rows.filter(ics_method=method)
    return [(row, icalendar.Calendar.from_ical(row.ics_content)) for row in rows]


@pytest.fixture
def two_days(workplace_a):
    return [
        SlotFactory(workplace=workplace_a, date=date(2030, 3, 12), starts_at=time(9), ends_at=time(15, 30)),
        SlotFactory(workplace=workplace_a, date=date(2030, 3, 13), starts_at=time(8), ends_at=time(12)),
    ]


@pytest.fixture
def accepted(programme, shadower, two_days, make_placement):
    programme.coordinator_email = "samordnare@malmo.example"
    programme.save(update_fields=["coordinator_email"])
    return make_placement(make_request(programme, shadower, days=2), two_days, P.HOST_ACCEPTED)


def test_confirmation_sends_an_itip_request_per_day_to_shadower_and_host(
    programme, accepted, shadower, host_a, workplace_a, as_actor
):
    placements.placement_confirm(actor=as_actor(shadower), placement=accepted, accept_confidentiality=True)

    days = list(accepted.days.order_by("date"))
    for person in (shadower, host_a):
        calendars = _calendars(person)
        assert [row.ics_method for row, _c in calendars] == ["REQUEST", "REQUEST"]
        for (row, calendar), day, (start, end) in zip(
            calendars,
            days,
            [
                (
                    datetime(2030, 3, 12, 9, 0, tzinfo=STOCKHOLM),
                    datetime(2030, 3, 12, 15, 30, tzinfo=STOCKHOLM),
                ),
                (
                    datetime(2030, 3, 13, 8, 0, tzinfo=STOCKHOLM),
                    datetime(2030, 3, 13, 12, 0, tzinfo=STOCKHOLM),
                ),
            ],
            strict=True,
        ):
            raw = row.ics_content.encode()
            assert raw.count(b"\r\n") == raw.count(b"\n")
            assert str(calendar["METHOD"]) == "REQUEST"
            [event] = calendar.walk("VEVENT")
            assert str(event["UID"]) == f"shadowing-visit-{accepted.pk}-{day.pk}@samverkan.example"
            assert int(event["SEQUENCE"]) == 0
            assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
            assert event["DTEND"].params["TZID"] == "Europe/Stockholm"
            assert event.decoded("DTSTART") == start
            assert event.decoded("DTEND") == end
            assert str(event["LOCATION"]) == "Mottagningsenheten, Storgatan 1, 211 20 Malmö"
            description = str(event["DESCRIPTION"])
            assert f"Host contact: {host_a.full_name}" in description
            assert f"Email: {host_a.user.email}" in description
            assert str(event["ORGANIZER"]) == "mailto:samordnare@malmo.example"
            assert event["ORGANIZER"].params["CN"] == programme.name
            attendees = event["ATTENDEE"]
            assert [str(a) for a in attendees] == [
                f"mailto:{shadower.user.email}",
                f"mailto:{host_a.user.email}",
            ]
            assert {(a.params["RSVP"], a.params["PARTSTAT"]) for a in attendees} == {("TRUE", "NEEDS-ACTION")}
            [tz] = calendar.walk("VTIMEZONE")
            assert str(tz["TZID"]) == "Europe/Stockholm"
            assert {c.name for c in tz.subcomponents} == {"STANDARD", "DAYLIGHT"}


def test_slot_time_change_sends_an_update_with_same_uid_and_higher_sequence(
    accepted, shadower, host_a, two_days, as_actor
):
    placements.placement_confirm(actor=as_actor(shadower), placement=accepted, accept_confidentiality=True)
    [(_row, first)] = _calendars(shadower)[:1]
    uid = str(first.walk("VEVENT")[0]["UID"])

    workplaces.slot_update(actor=as_actor(host_a), slot=two_days[0], values={"starts_at": time(10)})

    # Only the moved day changed; the other day's event is the same and is not sent again.
    updates = _calendars(shadower)[2:]
    assert [row.ics_method for row, _c in updates] == ["REQUEST"]
    events = {str(c.walk("VEVENT")[0]["UID"]): c.walk("VEVENT")[0] for _r, c in updates}
    assert list(events) == [uid]
    assert int(events[uid]["SEQUENCE"]) == 1
    assert events[uid].decoded("DTSTART") == datetime(2030, 3, 12, 10, 0, tzinfo=STOCKHOLM)
    assert updates[0][0].subject == (
        f"[{accepted.programme.name}] Updated: Shadowing: {shadower.full_name} at Mottagningsenheten "
        "(day 1 of 2), 12 Mar 2030, 10:00–15:30"
    )


def test_visit_day_moved_to_a_past_date_updates_both_calendars_that_hold_it_ahead(
    accepted, shadower, host_a, as_actor
):
    placements.placement_confirm(actor=as_actor(shadower), placement=accepted, accept_confidentiality=True)
    day = accepted.days.order_by("date").first()
    moved = timezone.localdate() - timedelta(days=2)
    PlacementDay.objects.filter(pk=day.pk).update(date=moved)  # corrected to the day it was made

    invites.reconcile_placements(
        Placement.objects.filter(pk=accepted.pk).select_related(*invites.PLACEMENT_RELATED)
    )

    for person in (shadower, host_a):
        updates = _calendars(person)[2:]
        assert [row.ics_method for row, _c in updates] == ["REQUEST"]
        [event] = updates[0][1].walk("VEVENT")
        assert str(event["UID"]) == invites.visit_uid(accepted.pk, day.pk)
        assert int(event["SEQUENCE"]) == 1
        assert event.decoded("DTSTART") == datetime.combine(moved, time(9), tzinfo=STOCKHOLM)
        assert event.decoded("DTEND") == datetime.combine(moved, time(15, 30), tzinfo=STOCKHOLM)


def test_cancellation_sends_itip_cancel_with_same_uids(accepted, shadower, host_a, as_actor):
    placements.placement_confirm(actor=as_actor(shadower), placement=accepted, accept_confidentiality=True)
    invited = {str(c.walk("VEVENT")[0]["UID"]) for _r, c in _calendars(host_a, "REQUEST")}

    placements.placement_cancel(actor=as_actor(shadower), placement=accepted, reason="Sjuk")

    for person in (shadower, host_a):
        cancels = _calendars(person, "CANCEL")
        assert len(cancels) == 2
        for _row, calendar in cancels:
            assert str(calendar["METHOD"]) == "CANCEL"
            [event] = calendar.walk("VEVENT")
            assert str(event["STATUS"]) == "CANCELLED"
            assert int(event["SEQUENCE"]) == 1
        assert {str(c.walk("VEVENT")[0]["UID"]) for _r, c in cancels} == invited


def test_no_invite_before_the_shadower_confirms(
    accepted, host_a, as_actor, make_placement, programme, shadower
):
    assert _calendars(shadower) == []
    assert _calendars(host_a) == []


def test_invite_email_has_inline_calendar_part(
    accepted, shadower, as_actor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        placements.placement_confirm(
            actor=as_actor(shadower), placement=accepted, accept_confidentiality=True
        )
    to_shadower = [m for m in mail.outbox if m.to == [shadower.user.email]]
    assert len(to_shadower) == 2
    message = to_shadower[0].message()
    parts = {part.get_content_type(): part for part in message.walk()}
    assert parts["text/calendar"].get_param("method") == "REQUEST"


def test_feed_lists_confirmed_visits_for_shadower_and_host_without_method(
    accepted, shadower, host_a, staff_a, as_actor
):
    assert invites.feed_events(shadower) == []
    placements.placement_confirm(actor=as_actor(shadower), placement=accepted, accept_confidentiality=True)
    for person in (shadower, host_a):
        events = invites.feed_events(person)
        assert [e.uid for e in events] == [
            invites.visit_uid(accepted.pk, d.pk) for d in accepted.days.order_by("date")
        ]
        assert all(e.organizer is None and e.attendees == () for e in events)
    assert invites.feed_events(staff_a) == []
