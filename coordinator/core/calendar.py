"""Calendar invites and feeds (iCalendar, RFC 5545; iTIP, RFC 5546), shared by every feature.

One place builds every VCALENDAR the platform sends, so that invites behave the same in Outlook, Google
Calendar and Thunderbird:

- each event carries a stable ``UID`` and a ``SEQUENCE`` that the caller raises on every change;
- times are written in the programme's zone (``DTSTART;TZID=Europe/Stockholm``) with a full VTIMEZONE whose
  observances use yearly RRULEs where the zone's rules are regular (what Outlook expects);
- ``METHOD:REQUEST`` invites and updates ask each ATTENDEE for a reply (``RSVP=TRUE``); ``METHOD:CANCEL``
  marks the event cancelled; feeds carry no METHOD;
- text from users goes through icalendar's escaping (commas, semicolons, backslashes and newlines), and
  parameter values (names) lose the characters that could break out of a parameter.

``invite_message`` wraps a calendar in an email with the calendar as an inline ``text/calendar; method=...``
part inside multipart/alternative (Outlook needs it there) and again as an ``invite.ics`` attachment.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import base64mime, encoders, quoprimime
from email.charset import RFC2047_CHROME_LEN, UNKNOWN8BIT, Charset
from email.header import Header
from email.message import EmailMessage as MIMEMessage
from email.message import Message
from email.mime.base import MIMEBase
from email.policy import Compat32, Policy
from functools import lru_cache, partial
from typing import Literal
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.encoding import punycode

Method = Literal["REQUEST", "CANCEL", "PUBLISH"]
_PARAM_UNSAFE = re.compile(r'["\x00-\x1f\x7f]')
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_END = b"END:VCALENDAR\r\n"


@dataclass(frozen=True)
class Participant:
    email: str
    name: str = ""


@dataclass(frozen=True)
class CalendarEvent:
    """A single occurrence: one seminar session day, one shadowing visit day, one meeting."""

    uid: str
    summary: str
    start: datetime
    end: datetime
    sequence: int = 0
    location: str = ""
    description: str = ""
    url: str = ""
    status: Literal["CONFIRMED", "TENTATIVE", "CANCELLED"] = "CONFIRMED"
    organizer: Participant | None = None
    attendees: tuple[Participant, ...] = ()
    categories: tuple[str, ...] = ()
    last_modified: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("Calendar events need aware datetimes.")
        if self.end <= self.start:
            raise ValueError("A calendar event must end after it starts.")


def event_uid(kind: str, *parts: object) -> str:
    """A stable, globally unique UID such as ``seminar-session-12@samverkan.example``."""
    tail = "-".join(str(p) for p in parts)
    return f"{kind}-{tail}@{settings.CALENDAR_UID_DOMAIN}"


def mail_address(email: str) -> str:
    """The one form of an address that mail is sent to and that ATTENDEE/ORGANIZER carry.

    The domain is written in punycode, as Django's mail backends write it on the envelope and in ``To``
    (``maria@regionskåne.example`` → ``maria@xn--regionskne-12a.example``), and in lower case; the local
    part is kept as given (only the receiving server may interpret it). A calendar client recognises its
    user as invited only when ATTENDEE is byte for byte the address the mail reached.
    """
    value = email.strip()
    local, at, domain = value.rpartition("@")
    if not at:
        return value
    return f"{local}@{punycode(domain.lower())}"


def clean_text(value: str) -> str:
    """User text for a TEXT property: no control characters except newline and tab; CRLF made LF."""
    return _TEXT_CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def clean_param(value: str) -> str:
    """A parameter value (such as CN): quotes and control characters cannot be escaped there, so drop them."""
    return _PARAM_UNSAFE.sub("", value).strip()


def _address(participant: Participant, **params: str) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{clean_param(mail_address(participant.email))}")
    if participant.name:
        address.params["CN"] = clean_param(participant.name)
    for key, value in params.items():
        address.params[key] = value
    return address


def _written(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` as the zone's local time (written with its TZID), or in UTC where it falls in the second
    run of the hour the clocks go back: a local time there means its first run (RFC 5545 3.3.5), an hour
    early."""
    local = moment.astimezone(zone)
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():
        return moment.astimezone(UTC)
    return local


def _event_component(
    event: CalendarEvent, zone: ZoneInfo, method: Method | None, stamp: datetime
) -> icalendar.Event:
    component = icalendar.Event()
    component.add("uid", event.uid)
    component.add("sequence", event.sequence)
    component.add("dtstamp", stamp)
    component.add("dtstart", _written(event.start, zone))
    component.add("dtend", _written(event.end, zone))
    component.add("summary", clean_text(event.summary))
    if event.description:
        component.add("description", clean_text(event.description))
    if event.location:
        component.add("location", clean_text(event.location))
    if event.url:
        component.add("url", event.url)
    status = "CANCELLED" if method == "CANCEL" else event.status
    component.add("status", status)
    component.add("transp", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
    if event.last_modified:
        component.add("last-modified", event.last_modified.astimezone(UTC))
    if event.categories:
        component.add("categories", [clean_text(c) for c in event.categories])
    if event.organizer:
        component.add("organizer", _address(event.organizer))
    for attendee in event.attendees:
        params = {"CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT"}
        if method == "REQUEST":
            params.update({"PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"})
        component.add("attendee", _address(attendee, **params))
    for key, value in event.extra.items():
        component.add(key, clean_text(value))
    return component


def build_calendar(
    events: Sequence[CalendarEvent],
    *,
    time_zone: str,
    method: Method | None = None,
    name: str | None = None,
) -> bytes:
    """Serialise events into one VCALENDAR (CRLF line ends, lines folded at 75 octets)."""
    zone = ZoneInfo(time_zone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", settings.CALENDAR_PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", clean_text(name))
        calendar.add("x-wr-timezone", time_zone)
        calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT1H")
    # The calendar's own lines, then its components written one by one: what ``to_ical`` of the whole
    # calendar writes, byte for byte, with the VTIMEZONE's text kept per process rather than built, parsed
    # and written again for every message.
    head = calendar.to_ical()
    if not head.endswith(_END):
        raise ValueError("A calendar's text ends with its END line.")
    parts = [head[: -len(_END)]]
    if events:
        first = min(e.start for e in events).astimezone(zone).year
        last = max(e.end for e in events).astimezone(zone).year
        parts.append(_vtimezone_bytes(time_zone, *_vtimezone_range(first, last)))
    stamp = datetime.now(UTC).replace(microsecond=0)
    parts.extend(_event_component(event, zone, method, stamp).to_ical() for event in events)
    parts.append(_END)
    return b"".join(parts)


# --- VTIMEZONE ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Transition:
    utc: datetime
    offset_from: timedelta
    offset_to: timedelta
    name: str
    is_dst: bool

    @property
    def local_before(self) -> datetime:
        return (self.utc + self.offset_from).replace(tzinfo=None)


def _transitions(zone: ZoneInfo, first_year: int, last_year: int) -> list[_Transition]:
    found: list[_Transition] = []
    moment = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    step = timedelta(days=1)
    previous = moment.astimezone(zone).utcoffset()
    while moment < end:
        nxt = moment + step
        offset = nxt.astimezone(zone).utcoffset()
        if offset != previous:
            lo, hi = moment, nxt
            while hi - lo > timedelta(minutes=1):  # bisect to the minute
                mid = lo + (hi - lo) / 2
                if mid.astimezone(zone).utcoffset() == previous:
                    lo = mid
                else:
                    hi = mid
            at = hi.replace(second=0, microsecond=0)
            local = at.astimezone(zone)
            assert previous is not None and offset is not None
            found.append(_Transition(at, previous, offset, local.tzname() or "", bool(local.dst())))
            previous = offset
        moment = nxt
    return found


def _weekday_rule(local: datetime) -> tuple[int, str, int]:
    """(month, BYDAY such as '-1SU' or '2SU', minutes after midnight) of a transition's local time."""
    days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    nth_from_end = -((_days_in_month(local) - local.day) // 7 + 1)
    nth = (local.day - 1) // 7 + 1
    # Prefer "last <weekday>" when the day is in the last seven of the month (the EU rule).
    index = nth_from_end if nth_from_end == -1 else nth
    return local.month, f"{index}{days[local.weekday()]}", local.hour * 60 + local.minute


def _days_in_month(moment: datetime) -> int:
    following = (moment.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (following - timedelta(days=1)).day


@lru_cache(maxsize=64)
def _vtimezone_text(time_zone: str, first_year: int, last_year: int) -> bytes:
    zone = ZoneInfo(time_zone)
    transitions = _transitions(zone, first_year, last_year)
    tz = icalendar.Timezone()
    tz.add("tzid", time_zone)
    tz.add("x-lic-location", time_zone)
    if not transitions:
        offset = datetime(first_year, 1, 1, tzinfo=zone).utcoffset() or timedelta(0)
        standard = icalendar.TimezoneStandard()
        # An observance's DTSTART is a floating local time by definition (RFC 5545 3.6.5).
        standard.add("dtstart", datetime(1970, 1, 1))  # noqa: DTZ001
        standard.add("tzoffsetfrom", offset)
        standard.add("tzoffsetto", offset)
        standard.add("tzname", datetime(first_year, 1, 1, tzinfo=zone).tzname() or time_zone)
        tz.add_component(standard)
        return tz.to_ical()
    groups: dict[bool, list[_Transition]] = {True: [], False: []}
    for transition in transitions:
        groups[transition.is_dst].append(transition)
    regular = True
    rules: dict[bool, tuple[int, str, int]] = {}
    for is_dst, items in groups.items():
        shapes = {(_weekday_rule(t.local_before), t.offset_from, t.offset_to, t.name) for t in items}
        if len(shapes) != 1 or len(items) != last_year - first_year + 1:
            regular = False
            break
        rules[is_dst] = _weekday_rule(items[0].local_before)
    if not regular:
        # Irregular history (rule changes within the range): let icalendar list each transition.
        generated = icalendar.Timezone.from_tzid(
            time_zone, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
        )
        return generated.to_ical()
    for is_dst, items in sorted(groups.items()):
        first = items[0]
        observance = icalendar.TimezoneDaylight() if is_dst else icalendar.TimezoneStandard()
        observance.add("dtstart", first.local_before)
        month, byday, _minutes = rules[is_dst]
        observance.add("rrule", {"freq": "yearly", "bymonth": month, "byday": byday})
        observance.add("tzoffsetfrom", first.offset_from)
        observance.add("tzoffsetto", first.offset_to)
        observance.add("tzname", first.name)
        tz.add_component(observance)
    return tz.to_ical()


def _vtimezone_range(first_year: int, last_year: int) -> tuple[int, int]:
    """The years a VTIMEZONE for events from ``first_year`` to ``last_year`` covers: one more on each side,
    and at least to the year after this one."""
    return min(first_year, last_year) - 1, max(first_year, last_year, datetime.now(UTC).year) + 1


def _parsed_vtimezone(time_zone: str, first: int, last: int) -> icalendar.Timezone:
    parsed = icalendar.Timezone.from_ical(_vtimezone_text(time_zone, first, last))
    assert isinstance(parsed, icalendar.Timezone)
    return parsed


@lru_cache(maxsize=64)
def _vtimezone_bytes(time_zone: str, first: int, last: int) -> bytes:
    """The VTIMEZONE as a calendar writes it: the parsed component's own text (icalendar writes it in its
    order, not in the order it was built in)."""
    text: bytes = _parsed_vtimezone(time_zone, first, last).to_ical()
    return text


def vtimezone(time_zone: str, first_year: int, last_year: int) -> icalendar.Timezone:
    """A VTIMEZONE valid from ``first_year`` on; yearly RRULEs where the zone's rules are regular."""
    return _parsed_vtimezone(time_zone, *_vtimezone_range(first_year, last_year))


# --- Invite email ---------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _encoded_sizes(character: str, charset: str) -> tuple[int, int]:
    """A character's octets in ``charset`` and their length in a quoted-printable encoded word."""
    encoded = character.encode(charset)
    return len(encoded), quoprimime.header_length(encoded)


class _AddedUpCharset(Charset):
    """A charset that splits a header into encoded words exactly where ``email.charset.Charset`` does, with
    each candidate line's encoded length added up character by character: the standard library encodes
    every candidate line again from its start (quadratic in the header's length), which made a Swedish
    subject line cost the task worker more than the rest of its message's headers."""

    def header_encode_lines(self, string: str, maxlengths: Iterator[int]) -> list[str | None]:
        codec = self.output_codec or "us-ascii"
        module = self._get_encoder(string.encode(codec))  # type: ignore[attr-defined]
        if module is not quoprimime and module is not base64mime:
            return super().header_encode_lines(string, maxlengths)  # type: ignore[no-any-return]
        encoder = partial(module.header_encode, charset=codec)
        output = self.get_output_charset() or codec
        extra = len(output) + RFC2047_CHROME_LEN
        lines: list[str | None] = []
        current: list[str] = []
        octets = 0  # of the current line
        length = 0  # its quoted-printable length (each octet's own; base64's follows from the octets' count)
        maxlen = next(maxlengths) - extra
        quoted = module is quoprimime
        for character in string:
            size, quoted_size = _encoded_sizes(character, output)
            # base64mime.header_length: four characters per three octets begun.
            grown = length + quoted_size if quoted else -(-(octets + size) // 3) * 4
            if grown > maxlen:
                if not lines and not current:
                    lines.append(None)
                else:
                    lines.append(encoder("".join(current).encode(codec)))
                current, octets = [character], size
                length = quoted_size
                maxlen = next(maxlengths) - extra
            else:
                current.append(character)
                octets += size
                length = grown
        lines.append(encoder("".join(current).encode(codec)))
        return lines


def subject_value(subject: str, encoding: str) -> str:
    """The Subject header's value as Django's mail writes it (``forbid_multi_line_headers``), byte for
    byte: ``Header(subject).encode()`` when it is ASCII, else ``Header(subject, encoding).encode()``,
    written in linear time."""
    try:
        subject.encode("ascii")
    except UnicodeEncodeError:
        if encoding.lower() == UNKNOWN8BIT:
            return Header(subject, encoding).encode()
        return Header(subject, _AddedUpCharset(encoding)).encode()
    return Header(subject).encode()


@lru_cache(maxsize=1024)
def _folded(name: str, value: str, linesep: str, max_line_length: int | None, cte_type: str) -> bytes:
    policy = Compat32(linesep=linesep, max_line_length=max_line_length, cte_type=cte_type)
    return policy.fold_binary(name, value)


class _KeptFolds(Compat32):
    """The mail's policy (``compat32``, Django's), each header line it writes kept by the process: most of
    a message's header lines (its parts' types and encodings, the sender, the reply address) are the same
    in every message, and folding each again cost more than the rest of writing the message out. A line is
    the same bytes whether written or kept: the fold depends on nothing but the values in its key."""

    def fold_binary(self, name: str, value: str) -> bytes:
        if type(name) is str and type(value) is str:  # not a Header object, which the policy folds itself
            return _folded(name, value, self.linesep, self.max_line_length, self.cte_type)
        return super().fold_binary(name, value)


KEPT_FOLDS = _KeptFolds()


class SubjectWrittenOnce(EmailMultiAlternatives):
    """An email whose subject line is encoded by ``subject_value`` and whose header lines are written with
    ``KEPT_FOLDS``: the same bytes as Django writes, for less processor time."""

    def _message(self, policy: Policy[Message[str, str]] | None) -> MIMEMessage:
        # Django 5.2's ``message()`` takes no policy (its stubs describe a later one's).
        return super().message(policy=policy) if policy is not None else super().message()

    def message(self, *, policy: Policy[Message[str, str]] | None = None) -> MIMEMessage:
        subject = str(self.subject)
        if "\n" in subject or "\r" in subject or "subject" in {name.lower() for name in self.extra_headers}:
            return self._message(policy)  # Django's own checks and refusals
        self.subject = ""
        try:
            msg = self._message(policy)
        finally:
            self.subject = subject
        msg.replace_header("Subject", subject_value(subject, self.encoding or settings.DEFAULT_CHARSET))
        if policy is None:
            msg.policy = KEPT_FOLDS  # the generator writes every part's headers with the message's policy
        return msg


class InviteMessage(SubjectWrittenOnce):
    """An email whose text/calendar alternative carries the iTIP method parameter."""

    ics_method: str = "REQUEST"
    ics_bytes: bytes = b""

    def message(self, *, policy: Policy[Message[str, str]] | None = None) -> MIMEMessage:
        msg = super().message(policy=policy)
        for part in msg.walk():
            if part.get_content_type() == "text/calendar" and not part.get_filename():
                part.set_param("method", self.ics_method)
                # iCalendar lines end in CRLF (RFC 5545 3.1). Sent as 8-bit text, a backend that writes
                # lines its own way (Django's file and console backends, some relays) turns them into LF
                # and the calendar stops being valid; base64 keeps every byte, as Google and Outlook send it.
                del part["Content-Transfer-Encoding"]
                part.set_payload(base64.encodebytes(self.ics_bytes).decode("ascii"))
                part["Content-Transfer-Encoding"] = "base64"
        return msg


def invite_message(
    *,
    to: Iterable[str],
    subject: str,
    body_text: str,
    body_html: str | None,
    calendar: bytes,
    method: Method,
    reply_to: Iterable[str] = (),
) -> InviteMessage:
    message = InviteMessage(
        subject=subject,
        body=body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=list(reply_to),
    )
    message.ics_method = method
    message.ics_bytes = calendar
    if body_html:
        message.attach_alternative(body_html, "text/html")
    message.attach_alternative(calendar.decode("utf-8"), "text/calendar")
    attachment = MIMEBase("application", "ics", name="invite.ics", method=method)
    attachment.set_payload(calendar)
    encoders.encode_base64(attachment)
    attachment.add_header("Content-Disposition", "attachment", filename="invite.ics")
    message.attach(attachment)
    return message
