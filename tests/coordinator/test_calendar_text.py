"""``build_calendar`` writes a calendar's components one by one, with the VTIMEZONE's text kept per process:
the bytes are those of icalendar writing the whole calendar, built as one component tree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.conf import settings

from coordinator.core import calendar as ical
from coordinator.core.calendar import CalendarEvent, Participant, build_calendar


def _whole(
    events: list[CalendarEvent], time_zone: str, method: ical.Method | None, name: str | None
) -> bytes:
    """The calendar as one icalendar tree (how ``build_calendar`` wrote it before)."""
    zone = ZoneInfo(time_zone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", settings.CALENDAR_PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", ical.clean_text(name))
        calendar.add("x-wr-timezone", time_zone)
        calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT1H")
    if events:
        first = min(e.start for e in events).astimezone(zone).year
        last = max(e.end for e in events).astimezone(zone).year
        calendar.add_component(ical.vtimezone(time_zone, first, last))
    stamp = datetime.now(UTC).replace(microsecond=0)
    for event in events:
        calendar.add_component(ical._event_component(event, zone, method, stamp))
    text: bytes = calendar.to_ical()
    return text


def _events(zone: ZoneInfo) -> list[CalendarEvent]:
    start = datetime(2030, 3, 12, 9, 0, tzinfo=zone)
    return [
        CalendarEvent(
            uid=f"seminar-session-{n}-77@samverkan.example",
            summary=f"PTSD – grundkurs: Dag {n}, lång titel som viks över flera rader i kalendern",
            start=start + timedelta(days=200 * n),
            end=start + timedelta(days=200 * n, hours=7),
            sequence=n,
            location="Röda korset; Fredsgatan 3, Malmö",
            description="Rad ett\nRad två, med komma; och semikolon",
            url="https://samverkan.example/seminars/rounds/5/",
            organizer=Participant("kurs@programme.example", "Programmet"),
            attendees=(Participant("asa@regionskåne.example", "Åsa Öberg"),),
            categories=("Kurs",),
            last_modified=start,
        )
        for n in range(3)
    ]


@pytest.mark.parametrize("time_zone", ["Europe/Stockholm", "Europe/Copenhagen", "Asia/Tokyo", "UTC"])
@pytest.mark.parametrize(
    ("method", "name", "count"),
    [("REQUEST", None, 1), ("CANCEL", None, 1), (None, "Mina kurser", 3), (None, "Tom", 0)],
)
def test_build_calendar_writes_the_bytes_of_the_whole_calendar(
    time_zone: str, method: ical.Method | None, name: str | None, count: int
) -> None:
    events = _events(ZoneInfo(time_zone))[:count]
    built = build_calendar(events, time_zone=time_zone, method=method, name=name)
    again = build_calendar(events, time_zone=time_zone, method=method, name=name)  # from the kept text

    whole = _whole(events, time_zone, method, name)
    assert _same_but_stamp(built, whole)
    assert _same_but_stamp(again, whole)
    assert built.count(b"BEGIN:VTIMEZONE") == (1 if events else 0)


def _same_but_stamp(built: bytes, whole: bytes) -> bool:
    """Equal line for line but for DTSTAMP's value (the second may turn between the two)."""

    def without(text: bytes) -> list[bytes]:
        return [line for line in text.split(b"\r\n") if not line.startswith(b"DTSTAMP:")]

    return without(built) == without(whole) and built.count(b"DTSTAMP:") == whole.count(b"DTSTAMP:")
