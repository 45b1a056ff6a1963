"""Calendar invites and the personal feed for course sessions, built on ``coordinator.core.calendar``.

- Each session is its own calendar event (one VEVENT per day or half-day): Outlook, Google Calendar and
  Thunderbird handle one event per message best, so every session gets its own iTIP message.
- The UID is stable per session *and person* (``seminar-session-<session>-<person>@...``). The SEQUENCE is
  kept per person and session (``InviteSequence``) and raised on every update or cancellation that person
  receives; a UID shared by all participants would let one person's copy carry another person's SEQUENCE
  in a shared Exchange or Google Workspace, which breaks the "newest wins" rule of iTIP.
- The same UID and SEQUENCE appear in the person's subscription feed, so a feed and an invite never
  disagree about which version is current.
- Everything here runs inside a service transaction: ``send_invite`` writes the outbox row there and the
  email leaves after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from coordinator.core.calendar import CalendarEvent, Method, Participant, build_calendar, event_uid
from coordinator.core.notifications import absolute_url, send_invite
from organisations.models import Person
from seminars.models import Enrolment, InviteSequence, Round, Session


def session_uid(session_id: int, person_id: int) -> str:
    return event_uid("seminar-session", session_id, person_id)


def round_url(round_id: int) -> str:
    return reverse("seminars:round-detail", kwargs={"pk": round_id})


def when_text(session: Session, zone: ZoneInfo) -> str:
    """ "3 December 2026, 09:00–16:00" in the active language and the programme's zone."""
    start = timezone.localtime(session.starts_at, zone)
    end = timezone.localtime(session.ends_at, zone)
    day = formats.date_format(start, "DATE_FORMAT")
    if start.date() == end.date():
        return f"{day}, {formats.time_format(start, 'H:i')}–{formats.time_format(end, 'H:i')}"
    return (
        f"{day} {formats.time_format(start, 'H:i')} – {formats.date_format(end, 'DATE_FORMAT')} "
        f"{formats.time_format(end, 'H:i')}"
    )


class SessionLike(Protocol):
    """What an event needs of a session: a ``Session`` row, or a ``SessionRow`` read as plain values."""

    pk: int
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    online_url: str
    updated_at: datetime


@dataclass
class SessionRow:
    pk: int
    round_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    online_url: str
    updated_at: datetime


def session_summary(session: SessionLike, course_title: str, index: int, total: int) -> str:
    if total > 1:
        label = _("day %(n)s of %(total)s") % {"n": index, "total": total}
        if session.title:
            return f"{course_title}: {session.title} ({label})"
        return f"{course_title} ({label})"
    return f"{course_title}: {session.title}" if session.title else course_title


def _description(session: SessionLike, round_: Round, url: str) -> str:
    lines = [f"{round_.course.title} – {round_.label}"]
    if session.online_url:
        lines.append(_("Online: %(link)s") % {"link": session.online_url})
    if round_.information:
        lines.extend(["", round_.information])
    lines.extend(["", url])
    return "\n".join(lines)


def session_event(
    session: SessionLike,
    round_: Round,
    person: Person,
    *,
    sequence: int,
    index: int,
    total: int,
    with_people: bool,
    url: str | None = None,
) -> CalendarEvent:
    """The calendar event of one session as one person sees it (``with_people``: ORGANIZER and ATTENDEE)."""
    programme = round_.course.programme
    url = url or absolute_url(round_url(round_.pk))
    organizer = Participant(programme.organizer_email, programme.name) if with_people else None
    attendees = (Participant(person.user.email, person.full_name),) if with_people else ()
    return CalendarEvent(
        uid=session_uid(session.pk, person.pk),
        summary=session_summary(session, round_.course.title, index, total),
        start=session.starts_at,
        end=session.ends_at,
        sequence=sequence,
        location=session.place or session.online_url,
        description=_description(session, round_, url),
        url=url,
        organizer=organizer,
        attendees=attendees,
        categories=(str(_("Course")),),
        last_modified=session.updated_at,
    )


def _numbering(round_: Round) -> dict[int, tuple[int, int]]:
    sessions = list(
        Session.objects.filter(round=round_).order_by("starts_at", "pk").values_list("pk", flat=True)
    )
    return {pk: (i + 1, len(sessions)) for i, pk in enumerate(sessions)}


def _next_sequence(person: Person, session: Session, method: Method, now: datetime) -> int | None:
    """Raise and store this person's SEQUENCE for the session; None when a CANCEL has nothing to cancel."""
    row = InviteSequence.objects.filter(person=person, session=session).first()
    if row is None:
        if method == "CANCEL":
            return None
        InviteSequence.objects.create(
            person=person, session=session, sequence=0, last_method=method, last_sent_at=now
        )
        return 0
    if method == "CANCEL" and row.last_method == "CANCEL":
        return None  # already cancelled in their calendar
    row.sequence += 1
    row.last_method = method
    row.last_sent_at = now
    row.save(update_fields=["sequence", "last_method", "last_sent_at"])
    return row.sequence


def send_session_message(
    *,
    session: Session,
    round_: Round,
    person: Person,
    method: Method,
    now: datetime,
    numbering: dict[int, tuple[int, int]] | None = None,
    update: bool = False,
) -> bool:
    """Send one person the REQUEST (invite or update) or CANCEL for one session. Returns whether it went."""
    if session.ends_at <= now:
        return False  # past sessions are history; changing their calendar copy helps nobody
    sequence = _next_sequence(person, session, method, now)
    if sequence is None:
        return False
    programme = round_.course.programme
    numbering = numbering or _numbering(round_)
    index, total = numbering.get(session.pk, (1, 1))
    zone = ZoneInfo(programme.time_zone)
    with translation.override(person.language_in(programme)):
        event = session_event(
            session, round_, person, sequence=sequence, index=index, total=total, with_people=True
        )
        calendar = build_calendar([event], time_zone=programme.time_zone, method=method)
        when = when_text(session, zone)
        if method == "CANCEL":
            title = _("Cancelled: %(summary)s, %(when)s") % {"summary": event.summary, "when": when}
        elif update or sequence > 0:
            title = _("Updated: %(summary)s, %(when)s") % {"summary": event.summary, "when": when}
        else:
            title = _("Invitation: %(summary)s, %(when)s") % {"summary": event.summary, "when": when}
        body_lines = [
            event.summary,
            _("When: %(when)s (%(zone)s)") % {"when": when, "zone": programme.time_zone},
        ]
        if session.place:
            body_lines.append(_("Where: %(place)s") % {"place": session.place})
        if session.online_url:
            body_lines.append(_("Online: %(link)s") % {"link": session.online_url})
        if method == "CANCEL":
            body_lines.append(_("This session has been removed from your calendar."))
        elif round_.information:
            body_lines.extend(["", round_.information])
        body = "\n".join(body_lines)
    send_invite(
        programme=programme,
        person=person,
        title=title,
        body=body,
        url=round_url(round_.pk),
        calendar=calendar,
        method=method,
    )
    return True


def send_enrolment_messages(enrolment: Enrolment, round_: Round, method: Method, now: datetime) -> int:
    """Every future session of the round to one participant: REQUEST on confirmation, CANCEL on leaving."""
    sessions = list(Session.objects.filter(round=round_).order_by("starts_at", "pk"))
    numbering = {s.pk: (i + 1, len(sessions)) for i, s in enumerate(sessions)}
    sent = 0
    for session in sessions:
        if session.ends_at > now:
            sent += send_session_message(
                session=session,
                round_=round_,
                person=enrolment.person,
                method=method,
                now=now,
                numbering=numbering,
            )
    return sent


def send_session_to_participants(
    session: Session,
    round_: Round,
    participants: Iterable[Person],
    method: Method,
    now: datetime,
    *,
    update: bool = False,
) -> int:
    numbering = _numbering(round_)
    sent = 0
    for person in participants:
        sent += send_session_message(
            session=session,
            round_=round_,
            person=person,
            method=method,
            now=now,
            numbering=numbering,
            update=update,
        )
    return sent


# --- Personal feed --------------------------------------------------------------------------------------


def feed_events(person: Person) -> list[CalendarEvent]:
    """The person's confirmed course sessions for their subscription feed (a calendar-feed provider).

    Runs inside the person's own programme scope (the feed view sets it). Four queries whatever the number
    of sessions; sessions are read as plain values and each round once, because building a model instance
    per session, round, course and programme cost more than the rest of the provider at 1,000 events.
    """
    since = timezone.now() - timedelta(days=settings.SEMINARS_FEED_PAST_DAYS)
    fields = ("pk", "round_id", "title", "starts_at", "ends_at", "place", "online_url", "updated_at")
    sessions = [
        SessionRow(*values)
        for values in Session.objects.filter(
            round__enrolments__person=person,
            round__enrolments__status=Enrolment.Status.CONFIRMED,
            round__status=Round.Status.PUBLISHED,
            ends_at__gte=since,
        )
        .order_by("starts_at", "pk")
        .values_list(*fields)
    ]
    if not sessions:
        return []
    rounds = {
        r.pk: r
        for r in Round.objects.filter(pk__in={s.round_id for s in sessions}).select_related(
            "course__programme"
        )
    }
    sequences = dict(InviteSequence.objects.filter(person=person).values_list("session_id", "sequence"))
    per_round: dict[int, list[int]] = {}
    for round_id, session_id in (
        Session.objects.filter(round_id__in=list(rounds))
        .order_by("round_id", "starts_at", "pk")
        .values_list("round_id", "pk")
    ):
        per_round.setdefault(round_id, []).append(session_id)
    numbering = {sid: (i + 1, len(ids)) for ids in per_round.values() for i, sid in enumerate(ids)}
    urls = {round_id: absolute_url(round_url(round_id)) for round_id in rounds}
    events = []
    # One language for the whole feed: the person's own, else their first programme's.
    with translation.override(person.language_in(rounds[sessions[0].round_id].course.programme)):
        for session in sessions:
            index, total = numbering.get(session.pk, (1, 1))
            events.append(
                session_event(
                    session,
                    rounds[session.round_id],
                    person,
                    sequence=sequences.get(session.pk, 0),
                    index=index,
                    total=total,
                    with_people=False,
                    url=urls[session.round_id],
                )
            )
    return events


def feed_provider(person: Any) -> list[CalendarEvent]:
    return feed_events(person)
