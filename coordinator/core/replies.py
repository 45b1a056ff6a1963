"""Replies to invites read back from the organiser mailbox (iMIP, RFC 6047; iTIP REPLY, RFC 5546 3.2.3).

Every invite asks its attendee for a reply (``RSVP=TRUE``); the calendar client mails it to the ORGANIZER,
whose address delivers into one mailbox that ``read_mailbox`` reads over IMAP (imap-tools): by the
management command ``read_calendar_replies`` and the periodic job ``calendar.read_replies``.

A reply is matched to what was sent by its UID and its ATTENDEE address (``CalendarCopy``). It is ignored
and logged when the UID is unknown, the attendee was not invited (or no longer is), the SEQUENCE is lower
than the last one sent (a reply to an outdated version) or it is no REPLY at all. Otherwise the reply is
recorded on the copy; a decline is handed to the app that sent the event (``calendar_decline_handlers``),
which starts its own cancellation flow or tells the coordinators.

Reading is idempotent: each message is recorded by its Message-ID (``CalendarReply``, unique) before it is
applied, in the same transaction, and flagged with an IMAP keyword afterwards, so a message read twice (a
second runner, a crash between applying and flagging) changes nothing the second time.
"""

from __future__ import annotations

import email.message
import logging
from dataclasses import dataclass

import icalendar
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from coordinator.core import registry
from coordinator.core.calendar import mail_address
from coordinator.core.models import CalendarCopy, CalendarReply
from coordinator.core.tenancy import programme_scope

logger = logging.getLogger(__name__)

# The IMAP keyword that marks a message as read by the platform (people may read the mailbox too).
HANDLED_KEYWORD = "$SamverkanReply"
ANSWERS = {"ACCEPTED", "TENTATIVE", "DECLINED"}


@dataclass(frozen=True)
class ParsedReply:
    uid: str
    sequence: int
    address: str
    answer: str


def parse_reply(calendar: bytes) -> ParsedReply | None:
    """The UID, SEQUENCE, attendee and PARTSTAT of an iTIP REPLY; None for anything else."""
    try:
        parsed = icalendar.Calendar.from_ical(calendar)
    except ValueError:
        return None
    if str(parsed.get("METHOD", "")).upper() != "REPLY":
        return None
    events = parsed.walk("VEVENT")
    if not events:
        return None
    event = events[0]
    attendees = event.get("ATTENDEE")
    if attendees is None or isinstance(attendees, list):
        return None  # a REPLY names exactly the one attendee who answers
    address = str(attendees)
    if address.lower().startswith("mailto:"):
        address = address[len("mailto:") :]
    try:
        sequence = int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        return None
    return ParsedReply(
        uid=str(event.get("UID", "")),
        sequence=sequence,
        address=mail_address(address),
        answer=str(attendees.params.get("PARTSTAT", "")).upper(),
    )


def calendar_part(message: email.message.Message) -> bytes | None:
    """The iCalendar body of a reply mail: its text/calendar part, else an .ics attachment."""
    found = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "text/calendar" or (kind == "application/ics" and found is None):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                if kind == "text/calendar":
                    return payload
                found = payload
    return found


def apply_reply(*, message_id: str, calendar: bytes | None) -> str:
    """Apply one reply message once; returns what happened (``declined``, ``ignored: stale``, ...)."""
    parsed = parse_reply(calendar) if calendar else None
    try:
        with transaction.atomic():
            record = CalendarReply.objects.create(
                message_id=message_id[:255],
                uid=parsed.uid[:255] if parsed else "",
                address=parsed.address[:254] if parsed else "",
                outcome="reading",
            )
            outcome = _apply(parsed) if parsed else "ignored: not a reply"
            CalendarReply.objects.filter(pk=record.pk).update(outcome=outcome)
    except IntegrityError:
        return "duplicate"
    if outcome.startswith("ignored"):
        logger.warning("Calendar reply %s %s", message_id, outcome)
    else:
        logger.info("Calendar reply %s: %s", message_id, outcome)
    return outcome


def _apply(reply: ParsedReply) -> str:
    # The platform's mailbox, outside any request: the reply names its event by UID, in any programme.
    copies = list(CalendarCopy.unscoped_objects.select_for_update().filter(uid=reply.uid).order_by("pk"))
    if not copies:
        return "ignored: unknown event"
    copy = next((c for c in copies if c.address.casefold() == reply.address.casefold()), None)
    if copy is None or copy.method != CalendarCopy.Method.REQUEST:
        return "ignored: not invited"
    if reply.sequence < copy.sequence:
        return "ignored: outdated"
    if reply.answer not in ANSWERS:
        return "ignored: no answer"
    before = copy.reply
    copy.reply = reply.answer
    copy.replied_at = timezone.now()
    copy.save(update_fields=["reply", "replied_at"])
    # One decline of a course or a visit is enough: its other days declined later ask nothing new.
    already = (
        CalendarCopy.unscoped_objects.filter(
            source=copy.source, person_id=copy.person_id, reply=CalendarCopy.Reply.DECLINED
        )
        .exclude(pk=copy.pk)
        .exists()
    )
    if reply.answer == CalendarCopy.Reply.DECLINED and before != CalendarCopy.Reply.DECLINED and not already:
        handler = registry.calendar_decline_handlers.get(copy.source.split(":", 1)[0])
        if handler is not None:
            with programme_scope([copy.programme_id]):
                handler(copy)
    return reply.answer.lower()


def read_mailbox() -> int:
    """Read the replies that arrived in the organiser mailbox; returns how many messages were read."""
    from imap_tools import AND, MailBox, MailBoxUnencrypted  # only the reply reader needs it

    host = settings.CALENDAR_REPLY_IMAP_HOST
    if not host:
        return 0
    box_class = MailBox if settings.CALENDAR_REPLY_IMAP_SSL else MailBoxUnencrypted
    read = 0
    with box_class(host, settings.CALENDAR_REPLY_IMAP_PORT).login(
        settings.CALENDAR_REPLY_IMAP_USER,
        settings.CALENDAR_REPLY_IMAP_PASSWORD,
        initial_folder=settings.CALENDAR_REPLY_IMAP_FOLDER,
    ) as box:
        validity = box.folder.status(settings.CALENDAR_REPLY_IMAP_FOLDER)["UIDVALIDITY"]
        for message in box.fetch(AND(no_keyword=HANDLED_KEYWORD), mark_seen=False, bulk=50):
            message_id = str(message.obj.get("Message-ID", "")).strip()
            if not message_id:
                # Without a Message-ID the mailbox's own id is the message's identity.
                message_id = f"imap:{settings.CALENDAR_REPLY_IMAP_FOLDER}:{validity}:{message.uid}"
            apply_reply(message_id=message_id, calendar=calendar_part(message.obj))
            if message.uid:
                box.flag(message.uid, HANDLED_KEYWORD, True)
            read += 1
    return read


registry.periodic_jobs.register(
    "calendar.read_replies", registry.PeriodicJob("calendar.read_replies", read_mailbox, every_seconds=120)
)
