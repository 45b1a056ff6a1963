from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from zoneinfo import ZoneInfo

import icalendar
import pytest

from coordinator.core.calendar import CalendarEvent, Participant, build_calendar, event_uid, invite_message

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _event(**overrides):
    values = dict(
        uid=event_uid("seminar-session", 7),
        summary="PTSD-utbildning, dag 1",
        start=datetime(2026, 12, 3, 9, 0, tzinfo=STOCKHOLM),
        end=datetime(2026, 12, 3, 16, 0, tzinfo=STOCKHOLM),
        sequence=2,
        location="Röda korsets behandlingscenter, Fredsgatan 3, Malmö",
        description="Ta med: egna fall",
        organizer=Participant("samverkan@malmo.example", "Samordnare Malmö"),
        attendees=(Participant("amina@malmo.example", "Amina Hassan"),),
    )
    values.update(overrides)
    return CalendarEvent(**values)


def test_build_calendar_request_round_trips_with_timezone():
    body = build_calendar([_event()], time_zone="Europe/Stockholm", method="REQUEST")

    assert b"\r\n" in body and b"\n" not in body.replace(b"\r\n", b"")
    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == "seminar-session-7@samverkan.example"
    assert int(event["SEQUENCE"]) == 2
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert event.decoded("DTSTART") == datetime(2026, 12, 3, 9, 0, tzinfo=STOCKHOLM)
    assert str(event["ORGANIZER"]) == "mailto:samverkan@malmo.example"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:amina@malmo.example"
    assert attendee.params["RSVP"] == "TRUE"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    [tz] = calendar.walk("VTIMEZONE")
    assert str(tz["TZID"]) == "Europe/Stockholm"
    observances = {c.name: c for c in tz.subcomponents}
    assert set(observances) == {"STANDARD", "DAYLIGHT"}
    assert observances["DAYLIGHT"]["RRULE"]["BYDAY"] == ["-1SU"]
    assert observances["DAYLIGHT"]["RRULE"]["BYMONTH"] == [3]
    assert observances["STANDARD"]["RRULE"]["BYMONTH"] == [10]


def test_the_second_run_of_the_hour_the_clocks_go_back_is_written_in_utc():
    # 2027-10-31: Stockholm's clocks go from 03:00 back to 02:00, so 02:30 happens twice
    first = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30+02:00
    second = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 02:30+01:00
    events = [
        _event(uid="first@samverkan.example", start=first, end=first + timedelta(hours=3)),
        _event(uid="second@samverkan.example", start=second, end=second + timedelta(hours=3)),
    ]

    body = build_calendar(events, time_zone="Europe/Stockholm", method="REQUEST")

    lines = body.decode().split("\r\n")
    assert lines.count("DTSTART;TZID=Europe/Stockholm:20271031T023000") == 1
    assert lines.count("DTSTART:20271031T013000Z") == 1
    assert lines.count("DTEND;TZID=Europe/Stockholm:20271031T043000") == 1  # (after the change: once)
    assert lines.count("DTEND;TZID=Europe/Stockholm:20271031T053000") == 1
    # (in UTC: a time the clocks show twice never compares equal across zones)
    parsed = {
        str(e["UID"]): (e.decoded("DTSTART").astimezone(UTC), e.decoded("DTEND").astimezone(UTC))
        for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
    }
    assert parsed == {
        "first@samverkan.example": (first, first + timedelta(hours=3)),
        "second@samverkan.example": (second, second + timedelta(hours=3)),
    }


def test_build_calendar_folds_long_lines_and_escapes_user_text():
    nasty = "Rad ett\nDTSTART:19700101T000000Z; komma, semikolon; " + "å" * 120
    body = build_calendar(
        [_event(summary=nasty, description=nasty)], time_zone="Europe/Stockholm", method="REQUEST"
    )

    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    text = body.decode()
    assert "\r\nDTSTART:19700101" not in text
    [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == nasty
    assert event.decoded("DTSTART") == datetime(2026, 12, 3, 9, 0, tzinfo=STOCKHOLM)


def test_build_calendar_strips_quotes_from_names():
    event = _event(attendees=(Participant("x@example.org", 'Eve";ROLE=CHAIR:mailto:evil@example.org'),))
    body = build_calendar([event], time_zone="Europe/Stockholm", method="REQUEST")

    [parsed] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    attendee = parsed["ATTENDEE"]
    assert str(attendee) == "mailto:x@example.org"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"


def test_build_calendar_cancel_marks_cancelled():
    body = build_calendar([_event(sequence=3)], time_zone="Europe/Stockholm", method="CANCEL")

    calendar = icalendar.Calendar.from_ical(body)
    [event] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 3
    assert "RSVP" not in event["ATTENDEE"].params


def test_calendar_event_rejects_naive_times():
    with pytest.raises(ValueError):
        _event(start=datetime(2026, 12, 3, 9, 0))  # noqa: DTZ001


def test_invite_message_has_inline_calendar_part_with_method():
    body = build_calendar([_event()], time_zone="Europe/Stockholm", method="REQUEST")
    message = invite_message(
        to=["amina@malmo.example"],
        subject="Inbjudan",
        body_text="Hej",
        body_html="<p>Hej</p>",
        calendar=body,
        method="REQUEST",
    )

    parsed = message_from_bytes(message.message().as_bytes())
    types = [
        (part.get_content_type(), part.get_param("method"), part.get_filename()) for part in parsed.walk()
    ]
    assert ("text/calendar", "REQUEST", None) in types
    assert ("application/ics", "REQUEST", "invite.ics") in types
    inline = next(p for p in parsed.walk() if p.get_content_type() == "text/calendar")
    assert icalendar.Calendar.from_ical(inline.get_payload(decode=True))["METHOD"] == "REQUEST"


def test_vtimezone_for_zone_without_dst():
    event = _event(
        start=datetime(2026, 12, 3, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
        end=datetime(2026, 12, 3, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
    )
    body = build_calendar([event], time_zone="Asia/Tokyo")
    [tz] = icalendar.Calendar.from_ical(body).walk("VTIMEZONE")
    assert [c.name for c in tz.subcomponents] == ["STANDARD"]
    assert tz.subcomponents[0]["TZOFFSETTO"].td == timedelta(hours=9)
