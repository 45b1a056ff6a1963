"""Invites as Django's file backend (what ``make run`` writes to ``var/mail/``) stores them: the calendar
part survives byte for byte, CRLF line ends included, and parses strictly as it is on disk."""

from __future__ import annotations

import re
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
from django.core.mail import get_connection

from coordinator.core.calendar import CalendarEvent, Participant, build_calendar, invite_message

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def strict_icalendar_lines(data: bytes) -> list[str]:
    """RFC 5545 3.1 as a strict parser reads it: every line ends in CRLF, no bare CR or LF, no line over 75
    octets; what is left must be one VCALENDAR that icalendar reads. Returns the unfolded lines."""
    assert data.endswith(b"\r\n")
    lines = data[:-2].split(b"\r\n")
    for line in lines:
        assert b"\n" not in line and b"\r" not in line, line
        assert len(line) <= 75, line
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-1] == b"END:VCALENDAR"
    icalendar.Calendar.from_ical(data)
    return re.sub(r"\r\n[ \t]", "", data.decode("utf-8")).split("\r\n")


def test_file_backend_keeps_the_invites_crlf_and_it_parses_strictly(tmp_path: Path, settings):
    event = CalendarEvent(
        uid="seminar-session-7-3@samverkan.example",
        summary="PTSD – grundkurs: Dag 1 (dag 1 av 4), Röda korsets behandlingscenter och psykiatrin i Malmö",
        start=datetime(2030, 3, 12, 9, tzinfo=STOCKHOLM),
        end=datetime(2030, 3, 12, 16, tzinfo=STOCKHOLM),
        location="Fredsgatan 3, Malmö",
        organizer=Participant("samverkan@malmo.example", "Samverkan"),
        attendees=(Participant("amina@malmo.example", "Amina Hassan"),),
    )
    calendar = build_calendar([event], time_zone="Europe/Stockholm", method="REQUEST")
    message = invite_message(
        to=["amina@malmo.example"],
        subject="Inbjudan",
        body_text="Hej",
        body_html=None,
        calendar=calendar,
        method="REQUEST",
    )
    connection = get_connection("django.core.mail.backends.filebased.EmailBackend", file_path=str(tmp_path))

    assert connection.send_messages([message]) == 1

    [stored] = list(tmp_path.iterdir())
    parsed = message_from_bytes(stored.read_bytes(), policy=policy.compat32)
    inline = next(p for p in parsed.walk() if p.get_content_type() == "text/calendar")
    assert inline["Content-Transfer-Encoding"] == "base64"
    assert inline.get_param("method") == "REQUEST"
    on_disk = inline.get_payload(decode=True)
    assert on_disk == calendar
    lines = strict_icalendar_lines(on_disk)
    assert "METHOD:REQUEST" in lines
    assert (
        'ATTENDEE;CN="Amina Hassan";CUTYPE=INDIVIDUAL;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;'
        "RSVP=TRUE:mailto:amina@malmo.example" in lines
    )
