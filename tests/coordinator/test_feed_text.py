"""The feed's text written from kept parts (``coordinator.core.feed_text``) is what ``build_calendar``
writes, byte for byte, and a changed event is never written from the text of the event it replaced."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coordinator.core.calendar import CalendarEvent, Participant, build_calendar, event_uid
from coordinator.core.feed_text import EVENTS, event_key, feed_text

STOCKHOLM = ZoneInfo("Europe/Stockholm")
DTSTAMP = re.compile(rb"\r\nDTSTAMP:\d{8}T\d{6}Z\r\n")
NAME = 'Samverkan – Åsa Öberg, "Malmö"; Team'


def _event(**overrides: object) -> CalendarEvent:
    values: dict[str, object] = dict(
        uid=event_uid("seminar-session", 7, 12),
        summary="Traumamedvetet bemötande: Grunder, del 1; med övningar (dag 1 av 2)",
        start=datetime(2030, 12, 3, 9, 0, tzinfo=STOCKHOLM),
        end=datetime(2030, 12, 3, 16, 0, tzinfo=STOCKHOLM),
        sequence=2,
        location="Röda korsets behandlingscenter, Fredsgatan 3, Malmö",
        description="Ta med: egna fall\\ och frågor\n\nhttp://127.0.0.1:8000/seminars/rounds/7/" * 3,
        url="http://127.0.0.1:8000/seminars/rounds/7/",
        categories=("Kurs",),
        last_modified=datetime(2030, 1, 10, 9, 30, 15, tzinfo=UTC),
    )
    values.update(overrides)
    return CalendarEvent(**values)  # type: ignore[arg-type]


def _same_moment(body: bytes) -> bytes:
    return DTSTAMP.sub(b"\r\nDTSTAMP:20300101T000000Z\r\n", body)


def _both(events: list[CalendarEvent], time_zone: str = "Europe/Stockholm") -> tuple[bytes, bytes]:
    kept = feed_text(events, [event_key(e) for e in events], time_zone=time_zone, name=NAME)
    built = build_calendar(events, time_zone=time_zone, name=NAME)
    return _same_moment(kept), _same_moment(built)


@pytest.fixture(autouse=True)
def _fresh() -> None:
    EVENTS.clear()


EVENTS_OF_A_FEED = [
    _event(),
    _event(
        uid=event_uid("shadowing-visit", 3, 4),
        start=datetime(2029, 3, 30, 8, tzinfo=UTC),
        end=datetime(2029, 3, 30, 14, tzinfo=UTC),
        categories=("Auskultation",),
        sequence=0,
    ),
    _event(
        uid=event_uid("focusgroup-meeting", 5, 12),
        status="CANCELLED",
        description="",
        url="",
        location="",
        last_modified=None,
        categories=(),
    ),
    _event(
        uid=event_uid("x", 1),
        attendees=(Participant("maria@regionskåne.example", 'Maria, "M"'),),
        organizer=Participant("samordnare@samverkan.example", "Samordnare"),
        extra={"x-note": "Åäö"},
    ),
]


@pytest.mark.parametrize("time_zone", ["Europe/Stockholm", "Europe/Copenhagen", "UTC", "Europe/Helsinki"])
def test_the_text_is_build_calendars_when_written_and_when_kept(time_zone):
    written = _both(EVENTS_OF_A_FEED, time_zone)
    kept = _both(EVENTS_OF_A_FEED, time_zone)

    assert written[0] == written[1]
    assert kept[0] == kept[1] == written[0]
    assert len(EVENTS._entries) == len(EVENTS_OF_A_FEED)


def test_an_empty_feed_is_build_calendars():
    kept, built = _both([])

    assert kept == built
    assert b"VTIMEZONE" not in kept


def test_every_event_carries_the_moment_the_feed_is_written():
    events = EVENTS_OF_A_FEED[:2]
    feed_text(events, [event_key(e) for e in events], time_zone="Europe/Stockholm", name=NAME)
    before = datetime.now(UTC).replace(microsecond=0)

    body = feed_text(events, [event_key(e) for e in events], time_zone="Europe/Stockholm", name=NAME)

    stamps = re.findall(rb"\r\nDTSTAMP:(\d{8}T\d{6}Z)\r\n", body)
    moment = datetime.strptime(stamps[0].decode(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert len(stamps) == 2 and stamps[0] == stamps[1]
    assert before <= moment <= datetime.now(UTC)


CHANGES = {
    "title": {"summary": "Traumamedvetet bemötande: Fördjupning"},
    "start": {"start": datetime(2030, 12, 3, 10, 0, tzinfo=STOCKHOLM)},
    "end": {"end": datetime(2030, 12, 3, 15, 0, tzinfo=STOCKHOLM)},
    "place": {"location": "Stadshuset, rum 3"},
    "status": {"status": "CANCELLED"},
    "sequence": {"sequence": 3},
    "last modified": {"last_modified": datetime(2030, 1, 11, tzinfo=UTC)},
    "description": {"description": "Ny text"},
    "address": {"url": "http://127.0.0.1:8000/seminars/rounds/8/"},
    "category": {"categories": ("Course",)},
    "attendees": {"attendees": (Participant("anna@feed.example", "Anna Ek"),)},
    "organizer": {"organizer": Participant("other@samverkan.example", "Samordnare")},
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_a_changed_event_is_never_written_from_the_text_it_replaced(change):
    original = _event()
    changed = replace(original, **CHANGES[change])  # type: ignore[arg-type]
    first, _built = _both([original])

    kept, built = _both([changed])

    assert kept == built != first
    assert event_key(changed) != event_key(original)


def test_an_event_written_in_another_zone_is_another_entry():
    event = _event()
    stockholm, _built = _both([event], "Europe/Stockholm")

    helsinki, built = _both([event], "Europe/Helsinki")

    assert helsinki == built != stockholm
    assert b"TZID=Europe/Helsinki:20301203T100000" in helsinki


def test_nothing_is_kept_without_keep():
    events = EVENTS_OF_A_FEED[:2]

    body = feed_text(events, [event_key(e) for e in events], time_zone="UTC", name=NAME, keep=False)

    assert _same_moment(body) == _same_moment(build_calendar(events, time_zone="UTC", name=NAME))
    assert len(EVENTS._entries) == 0


def test_a_feed_running_into_the_next_year_has_the_next_years_zone_rules():
    late = _event(start=datetime.now(UTC) + timedelta(days=800), end=datetime.now(UTC) + timedelta(days=801))

    kept, built = _both([_event(), late])

    assert kept == built
