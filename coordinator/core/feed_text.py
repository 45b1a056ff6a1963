"""The text of a personal calendar feed, written from parts the process keeps.

A person's feed is written again whenever anything it shows changes, and mostly one event has changed
(a new booking, a moved session): the others are the same text as before. ``feed_text`` writes what
``coordinator.core.calendar.build_calendar(events, time_zone=..., name=...)`` writes, byte for byte, but
serialises each event only when the process has not serialised that very event before, and the VTIMEZONE
once per zone and years:

- an event's text is kept under the event itself (``repr`` of every field it has: UID, times, text,
  SEQUENCE, status, attendees, LAST-MODIFIED, ...) and the zone it is written in, so a changed event is
  another key and is never met in an old text; the language is in the text the fields hold already;
- the one line that differs between two writings of the same event, DTSTAMP (the moment the feed is
  written), is kept apart and written anew each time;
- a calendar's text is the text of its properties, then of each component in turn, then its end
  (icalendar writes a component's lines the same alone as within its calendar).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings

from coordinator.core.calendar import CalendarEvent, _event_component, clean_text, vtimezone
from coordinator.core.content import Recent

# The events of the people this process wrote feeds for recently; an entry is about a kilobyte of text.
EVENTS = Recent(4096)
# Events are serialised with this DTSTAMP, whose line is then cut out and written with the feed's moment.
_STAMP_STAND_IN = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)
_STAMP_LINE = b"\r\nDTSTAMP:19010203T040506Z\r\n"
_END = b"END:VCALENDAR\r\n"


def event_key(event: CalendarEvent) -> str:
    """Everything an event's text depends on but the zone: all its fields (``repr`` of the dataclass)."""
    return repr(event)


def feed_text(
    events: Sequence[CalendarEvent], keys: Sequence[str], *, time_zone: str, name: str, keep: bool = True
) -> bytes:
    """``build_calendar(events, time_zone=time_zone, name=name)``, byte for byte; ``keys[i]`` is
    ``event_key(events[i])``. Without ``keep`` every event is serialised anew and nothing is kept."""
    parts = [_header(settings.CALENDAR_PRODID, time_zone, clean_text(name))]
    zone = ZoneInfo(time_zone)
    if events:
        first = min(e.start for e in events).astimezone(zone).year
        last = max(e.end for e in events).astimezone(zone).year
        parts.append(_vtimezone_text(time_zone, first, last, datetime.now(UTC).year))
    stamp = b"\r\nDTSTAMP:" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ").encode() + b"\r\n"
    for event, key in zip(events, keys, strict=True):
        full_key = f"{time_zone}\n{key}"
        found = EVENTS.get(full_key) if keep else None
        if isinstance(found, tuple):
            before, after = found
        else:
            text = _event_component(event, zone, None, _STAMP_STAND_IN).to_ical()
            before, line, after = text.partition(_STAMP_LINE)
            if not line:  # cannot happen: every event carries DTSTAMP
                raise ValueError("An event's text has no DTSTAMP line.")
            if keep:
                EVENTS.put(full_key, (before, after))
        parts.extend((before, stamp, after))
    parts.append(_END)
    return b"".join(parts)


@lru_cache(maxsize=256)
def _header(prodid: str, time_zone: str, name: str) -> bytes:
    """The feed calendar's own lines (``build_calendar``'s), without its end."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", prodid)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", time_zone)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    text: bytes = calendar.to_ical()
    if not text.endswith(_END):
        raise ValueError("A calendar's text ends with its END line.")
    return text[: -len(_END)]


@lru_cache(maxsize=64)
def _vtimezone_text(time_zone: str, first_year: int, last_year: int, this_year: int) -> bytes:
    """The VTIMEZONE as ``build_calendar`` writes it (``this_year``: the range runs to the next year)."""
    text: bytes = vtimezone(time_zone, first_year, last_year).to_ical()
    return text
