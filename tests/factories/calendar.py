"""Replies to invites as calendar clients send them (iTIP REPLY inside an iMIP mail)."""

from __future__ import annotations

from email.message import EmailMessage


def reply_calendar(uid: str, address: str, answer: str, sequence: int, *, organizer: str = "") -> bytes:
    """A METHOD:REPLY calendar for one attendee, as Outlook and Thunderbird write it (CRLF lines)."""
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Example Client//EN",
        "VERSION:2.0",
        "METHOD:REPLY",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"SEQUENCE:{sequence}",
        "DTSTAMP:20300101T120000Z",
        "DTSTART:20300312T080000Z",
        "DTEND:20300312T150000Z",
        f"ORGANIZER:mailto:{organizer or 'samordnare@malmo.example'}",
        f"ATTENDEE;PARTSTAT={answer}:mailto:{address}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def reply_mail(
    calendar: bytes, *, sender: str, message_id: str, to: str = "samordnare@malmo.example"
) -> bytes:
    """The mail a calendar client sends the organiser: text and an inline text/calendar; method=REPLY."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Declined: meeting"
    message["Message-ID"] = message_id
    message.set_content("I cannot come.")
    message.add_alternative(calendar, maintype="text", subtype="calendar", params={"method": "REPLY"})
    return message.as_bytes()
