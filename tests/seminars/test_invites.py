"""Calendar invites and the personal feed, parsed back with icalendar."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email import message_from_bytes
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from coordinator.core.models import CalendarCopy, OutboundEmail
from organisations.services import people
from seminars import invites
from seminars.models import Enrolment, Session
from seminars.services import enrolments, rounds, sessions
from tests.factories.seminars import RoundFactory, SessionFactory, make_enrolment

pytestmark = pytest.mark.usefixtures("scope")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _calendars(person, method=None):
    rows = OutboundEmail.unscoped_objects.filter(recipient=person).exclude(ics_method="").order_by("pk")
    if method:
        rows = rows.filter(ics_method=method)
    return [(row, icalendar.Calendar.from_ical(row.ics_content)) for row in rows]


@pytest.fixture
def stockholm_session(round_):
    start = datetime(2030, 3, 12, 9, 0, tzinfo=STOCKHOLM)
    return SessionFactory(
        round=round_,
        title="Dag 1",
        starts_at=start,
        ends_at=start + timedelta(hours=7),
        place="Röda korsets behandlingscenter, Fredsgatan 3, Malmö",
    )


def test_invite_is_an_itip_request_with_timezone_organizer_and_attendee(
    programme, round_, stockholm_session, staff_a, as_actor, enrol
):
    enrol(staff_a, round_)

    [(row, calendar)] = _calendars(staff_a)
    raw = row.ics_content.encode()

    assert row.ics_method == "REQUEST"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert raw.count(b"\r\n") == raw.count(b"\n")  # every line ends in CRLF
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"seminar-session-{stockholm_session.pk}-{staff_a.pk}@samverkan.example"
    assert int(event["SEQUENCE"]) == 0
    assert str(event["SUMMARY"]) == "PTSD – grundkurs: Dag 1"
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert event.decoded("DTSTART") == datetime(2030, 3, 12, 9, 0, tzinfo=STOCKHOLM)
    assert event.decoded("DTEND") == datetime(2030, 3, 12, 16, 0, tzinfo=STOCKHOLM)
    assert str(event["LOCATION"]) == "Röda korsets behandlingscenter, Fredsgatan 3, Malmö"
    assert str(event["ORGANIZER"]) == f"mailto:{programme.coordinator_email}"
    assert event["ORGANIZER"].params["CN"] == programme.name
    attendee = event["ATTENDEE"]
    assert str(attendee) == f"mailto:{staff_a.user.email}"
    assert (attendee.params["RSVP"], attendee.params["PARTSTAT"]) == ("TRUE", "NEEDS-ACTION")
    assert attendee.params["CN"] == staff_a.full_name
    [tz] = calendar.walk("VTIMEZONE")
    assert str(tz["TZID"]) == "Europe/Stockholm"
    assert {c.name for c in tz.subcomponents} == {"STANDARD", "DAYLIGHT"}


def test_invite_email_carries_inline_calendar_part_and_essentials_in_body(
    round_, stockholm_session, staff_a, as_actor, django_capture_on_commit_callbacks
):
    staff_a.preferred_language = "en"
    staff_a.save(update_fields=["preferred_language"])
    with django_capture_on_commit_callbacks(execute=True):
        enrolments.enrolment_create(actor=as_actor(staff_a), round=round_)

    [message] = mail.outbox
    parsed = message_from_bytes(message.message().as_bytes())
    parts = [(p.get_content_type(), p.get_param("method"), p.get_filename()) for p in parsed.walk()]
    assert ("text/calendar", "REQUEST", None) in parts
    assert ("application/ics", "REQUEST", "invite.ics") in parts
    assert message.subject.startswith(
        "[Lokalt kompetensutvecklingsprogram Malmö] Invitation: PTSD – grundkurs: Dag 1"
    )
    assert "When: 12 Mar 2030, 09:00–16:00 (Europe/Stockholm)" in message.body
    assert "Where: Röda korsets behandlingscenter, Fredsgatan 3, Malmö" in message.body
    assert f"/seminars/rounds/{round_.pk}/" in message.body


def test_update_keeps_uid_and_raises_sequence_per_person(
    round_, stockholm_session, staff_a, coordinator, as_actor, enrol
):
    enrol(staff_a, round_)

    sessions.session_update(
        actor=as_actor(coordinator), session=stockholm_session, values={"place": "Stadshuset, sal 3"}
    )
    sessions.session_update(
        actor=as_actor(coordinator),
        session=stockholm_session,
        values={"starts_at": stockholm_session.starts_at + timedelta(hours=1)},
    )

    events = [c.walk("VEVENT")[0] for _row, c in _calendars(staff_a)]
    assert len({str(e["UID"]) for e in events}) == 1
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    assert events[2].decoded("DTSTART") == datetime(2030, 3, 12, 10, 0, tzinfo=STOCKHOLM)
    stored = CalendarCopy.unscoped_objects.get(person=staff_a, uid=str(events[0]["UID"]))
    assert (stored.sequence, stored.method) == (2, "REQUEST")


def test_session_moved_to_a_past_day_updates_a_calendar_that_holds_it_ahead(
    round_, stockholm_session, staff_a, coordinator, as_actor, enrol
):
    enrol(staff_a, round_)
    start = (
        (timezone.now() - timedelta(days=2))
        .astimezone(STOCKHOLM)
        .replace(hour=9, minute=0, second=0, microsecond=0)
    )

    sessions.session_update(
        actor=as_actor(coordinator),
        session=stockholm_session,
        values={"starts_at": start, "ends_at": start + timedelta(hours=3)},
    )

    calendars = _calendars(staff_a)
    assert [row.ics_method for row, _c in calendars] == ["REQUEST", "REQUEST"]
    first, update = (c.walk("VEVENT")[0] for _row, c in calendars)
    assert str(update["UID"]) == str(first["UID"])
    assert int(update["SEQUENCE"]) == 1
    assert update.decoded("DTSTART") == start
    assert update.decoded("DTEND") == start + timedelta(hours=3)
    stored = CalendarCopy.unscoped_objects.get(person=staff_a, uid=str(first["UID"]))
    assert (stored.sequence, stored.method, stored.ends_at) == (1, "REQUEST", start + timedelta(hours=3))


def test_session_already_past_in_the_calendar_is_left_alone_when_moved(
    round_, stockholm_session, staff_a, coordinator, as_actor, enrol
):
    enrol(staff_a, round_)
    held = (timezone.now() - timedelta(days=3)).replace(microsecond=0)
    # The session has been held, and the calendar holds it so.
    Session.objects.filter(pk=stockholm_session.pk).update(starts_at=held - timedelta(hours=7), ends_at=held)
    CalendarCopy.unscoped_objects.filter(person=staff_a).update(ends_at=held)
    start = held - timedelta(days=1)

    sessions.session_update(
        actor=as_actor(coordinator),
        session=stockholm_session,
        values={"starts_at": start, "ends_at": start + timedelta(hours=3)},
    )

    assert [row.ics_method for row, _c in _calendars(staff_a)] == ["REQUEST"]
    stored = CalendarCopy.unscoped_objects.get(person=staff_a)
    assert (stored.sequence, stored.ends_at) == (0, held)


def test_cancel_then_enrol_again_continues_the_sequence(
    course, round_, stockholm_session, staff_a, as_actor, enrol
):
    enrolment = enrol(staff_a, round_)
    enrolments.enrolment_cancel(actor=as_actor(staff_a), enrolment=enrolment)
    enrol(staff_a, round_)

    calendars = [c for _row, c in _calendars(staff_a)]
    assert [str(c["METHOD"]) for c in calendars] == ["REQUEST", "CANCEL", "REQUEST"]
    events = [c.walk("VEVENT")[0] for c in calendars]
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    assert str(events[1]["STATUS"]) == "CANCELLED"
    assert "RSVP" not in events[1]["ATTENDEE"].params
    assert len({str(e["UID"]) for e in events}) == 1


def test_user_text_cannot_inject_properties(programme, round_, staff_a, coordinator, as_actor):
    nasty_place = "Sal 1\r\nDTSTART:19700101T000000Z\nATTENDEE:mailto:evil@example.org; plan 2, rum 3"
    nasty_info = "Ta med:\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil; lunch, fika"
    round_.information = nasty_info
    round_.save(update_fields=["information"])
    enrolments.enrolment_create(actor=as_actor(staff_a), round=round_)
    start = datetime(2030, 4, 2, 9, 0, tzinfo=STOCKHOLM)

    sessions.session_create(
        actor=as_actor(coordinator),
        round=round_,
        values={
            "title": "Dag 2; fördjupning, del 1",
            "starts_at": start,
            "ends_at": start + timedelta(hours=3),
            "place": nasty_place,
        },
    )

    [(row, calendar)] = _calendars(staff_a)
    [event] = calendar.walk("VEVENT")
    assert (
        str(event["LOCATION"])
        == "Sal 1\nDTSTART:19700101T000000Z\nATTENDEE:mailto:evil@example.org; plan 2, rum 3"
    )
    assert str(event["SUMMARY"]) == "PTSD – grundkurs: Dag 2; fördjupning, del 1"
    assert nasty_info in str(event["DESCRIPTION"])
    assert event.decoded("DTSTART") == start
    assert str(event["ATTENDEE"]) == f"mailto:{staff_a.user.email}"
    assert str(event["UID"]).startswith("seminar-session-")
    assert any(line.startswith(" ") for line in row.ics_content.split("\r\n"))  # long lines were folded
    assert all(len(line.encode()) <= 75 for line in row.ics_content.split("\r\n"))
    unfolded = row.ics_content.replace("\r\n ", "")
    assert "\r\nDTSTART:1970" not in unfolded
    assert "\r\nBEGIN:VEVENT\r\nUID:evil" not in unfolded
    assert (
        "Sal 1\\nDTSTART:19700101T000000Z\\nATTENDEE:mailto:evil@example.org\\; plan 2\\, rum 3" in unfolded
    )
    assert len(calendar.walk("VEVENT")) == 1


# --- The personal feed ----------------------------------------------------------------------------------


def _normalised(content: bytes, token: str) -> bytes:
    content = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)
    return content.replace(token.encode(), b"TOKEN")


def _feed(client, person):
    return client.get(f"/calendar/{person.calendar_token}.ics")


def test_feed_holds_confirmed_sessions_with_stored_sequence(
    client, course, round_, stockholm_session, staff_a, coordinator, as_actor, enrol
):
    enrol(staff_a, round_)
    sessions.session_update(actor=as_actor(coordinator), session=stockholm_session, values={"place": "Sal 4"})
    full = RoundFactory(course=course, capacity=1, label="Omgång 2")
    SessionFactory(round=full)
    make_enrolment(full, coordinator)
    make_enrolment(full, staff_a, status=Enrolment.Status.WAITING)

    response = _feed(client, staff_a)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert "METHOD" not in calendar
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"seminar-session-{stockholm_session.pk}-{staff_a.pk}@samverkan.example"
    assert int(event["SEQUENCE"]) == 1
    assert str(event["LOCATION"]) == "Sal 4"
    assert "ATTENDEE" not in event and "ORGANIZER" not in event
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    assert response.content.count(b"\r\n") == response.content.count(b"\n")


def test_feed_leaves_out_cancelled_rounds_and_other_programmes(
    client, round_, stockholm_session, staff_a, coordinator, other_round, as_actor
):
    enrolments.enrolment_create(actor=as_actor(staff_a), round=round_)
    # A row that should never exist (a booking on another programme's round) must still not leak.
    make_enrolment(other_round, staff_a)
    assert len(icalendar.Calendar.from_ical(_feed(client, staff_a).content).walk("VEVENT")) == 1

    rounds.round_cancel(actor=as_actor(coordinator), round=round_)

    assert icalendar.Calendar.from_ical(_feed(client, staff_a).content).walk("VEVENT") == []


def test_feed_with_unknown_or_rotated_token_answers_404_and_reveals_nothing(
    client, round_, stockholm_session, staff_a, as_actor
):
    enrolments.enrolment_create(actor=as_actor(staff_a), round=round_)
    old_token = staff_a.calendar_token
    missing = client.get("/calendar/not-a-real-token.ics")

    new_token = people.calendar_token_rotate(actor=as_actor(staff_a), person=staff_a)
    rotated = client.get(f"/calendar/{old_token}.ics")
    fresh = client.get(f"/calendar/{new_token}.ics")

    assert (missing.status_code, rotated.status_code, fresh.status_code) == (404, 404, 200)
    # The same page as any missing address: only the address itself (echoed in the language form) and the
    # per-response CSRF token differ.
    assert _normalised(rotated.content, old_token) == _normalised(missing.content, "not-a-real-token")
    assert b"PTSD" not in rotated.content and b"BEGIN:VCALENDAR" not in rotated.content
    assert b"PTSD" in fresh.content


@pytest.mark.parametrize("rounds", [1, 3])
def test_feed_provider_uses_fixed_number_of_queries(course, staff_a, rounds, django_assert_num_queries):
    for n in range(rounds):
        round_ = RoundFactory(course=course, label=f"R{n}")
        first = SessionFactory(round=round_, starts_at=timezone.now() + timedelta(days=10 + n))
        SessionFactory(round=round_, starts_at=first.starts_at + timedelta(days=1))
        make_enrolment(round_, staff_a)

    with django_assert_num_queries(4):
        events = invites.feed_events(staff_a)

    assert len(events) == 2 * rounds
