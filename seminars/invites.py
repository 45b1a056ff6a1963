"""Calendar invites and the personal feed for course sessions, built on ``coordinator.core.calendar``.

- Each session is its own calendar event (one VEVENT per day or half-day): Outlook, Google Calendar and
  Thunderbird handle one event per message best, so every session gets its own iTIP message.
- The UID is stable per session *and person* (``seminar-session-<session>-<person>@...``): a UID shared by
  all participants would let one person's copy carry another person's SEQUENCE in a shared Exchange or
  Google Workspace, which breaks the "newest wins" rule of iTIP.
- ``reconcile_round`` states which sessions the platform shows each participant; ``coordinator.core.itip``
  keeps what each calendar holds (SEQUENCE per person and session) and sends invites, updates and
  cancellations. ``InviteSequence`` holds the SEQUENCE sent before that, a floor for the next message.
- The same UID and SEQUENCE appear in the person's subscription feed, so a feed and an invite never
  disagree about which version is current.
- Everything here runs inside a service transaction: the outbox row is written there and the email
  leaves after the commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core import formatting
from coordinator.core.calendar import CalendarEvent, Participant, event_uid
from coordinator.core.itip import Wanted, reconcile
from coordinator.core.models import CalendarCopy
from coordinator.core.notifications import absolute_url, notify
from coordinator.core.prepared import ScopedPreparedQuery
from organisations.models import Person
from organisations.selectors import coordinators_of
from seminars.models import KIND_ENROLMENT, Enrolment, InviteSequence, Round, Session


def session_uid(session_id: int, person_id: int) -> str:
    return event_uid("seminar-session", session_id, person_id)


def round_url(round_id: int) -> str:
    return reverse("seminars:round-detail", kwargs={"pk": round_id})


def when_text(session: Session, zone: ZoneInfo) -> str:
    """ "3 dec. 2026, 09:00–16:00" in the active language and the programme's zone."""
    return formatting.span(session.starts_at, session.ends_at, zone)


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


_FEED_FIELDS = ("pk", "round_id", "title", "starts_at", "ends_at", "place", "online_url", "updated_at")


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


def round_source(round_id: int) -> str:
    return f"seminars.round:{round_id}"


# A booking's reads (one person's calendar brought in step with the round, the task of every enrolment),
# compiled to SQL once per connection and scope. The stand-ins are no round's or person's key.
_ROUND_KEYS = (-(2**62) + 233, -(2**62) + 239)
_ROUND_SESSIONS: ScopedPreparedQuery[
    Session, tuple[int, int, str, datetime, datetime, str, str, datetime]
] = ScopedPreparedQuery(
    lambda round_id: (
        Session.objects.filter(round_id=round_id).order_by("starts_at", "pk").values_list(*_FEED_FIELDS)
    ),
    stand_ins=_ROUND_KEYS[:1],
)
_BOOKING: ScopedPreparedQuery[Enrolment, Enrolment] = ScopedPreparedQuery(
    lambda round_id, person_id: (
        Enrolment.objects.filter(round_id=round_id, status=Enrolment.Status.CONFIRMED, person_id=person_id)
        .select_related("person__user")
        .order_by("pk")
    ),
    stand_ins=_ROUND_KEYS,
)
_BOOKING_SEQUENCES: ScopedPreparedQuery[InviteSequence, tuple[int, int, int]] = ScopedPreparedQuery(
    lambda round_id, person_id: InviteSequence.objects.filter(
        session__round_id=round_id, person_id=person_id
    ).values_list("session_id", "person_id", "sequence"),
    stand_ins=_ROUND_KEYS,
)


def reconcile_round(
    round_: Round, *, people: Iterable[Person] | None = None, person_ids: Iterable[int] | None = None
) -> int:
    """Bring the calendars of a round's participants in step with the round.

    A published round shows each confirmed participant every session; anyone else (a cancelled or ended
    booking, a cancelled round) holds none, so what they were sent is cancelled. A new, moved or removed
    session, a renamed course, changed information and the renumbered "day n of m" of the other sessions
    reach every calendar through ``coordinator.core.itip.reconcile``; unchanged sessions send nothing.
    ``people`` (or their keys, ``person_ids``) limits the work to some persons (one booking changed). Call
    it inside the transaction of the change. Returns the number of messages.
    """
    programme = round_.course.programme
    sessions: list[SessionLike] = [SessionRow(*values) for values in _ROUND_SESSIONS.fetch(round_.pk)]
    only = {p.pk for p in people} if people is not None else None
    if person_ids is not None:
        only = (only or set()) | set(person_ids)
    published = round_.status == Round.Status.PUBLISHED
    participants: list[Person] = []
    legacy_rows: Iterable[tuple[int, int, int]] = ()
    if only is not None and len(only) == 1:
        # One booking (the common case): its reads compiled once.
        [person_id] = only
        if published:
            participants = [e.person for e in _BOOKING.fetch(round_.pk, person_id)]
        if participants:
            legacy_rows = _BOOKING_SEQUENCES.fetch(round_.pk, person_id)
    else:
        if published:
            enrolments = Enrolment.objects.filter(round=round_, status=Enrolment.Status.CONFIRMED)
            if only is not None:
                enrolments = enrolments.filter(person_id__in=only)
            participants = [e.person for e in enrolments.select_related("person__user").order_by("pk")]
        legacy_rows = InviteSequence.objects.filter(
            session__round=round_, person_id__in=[p.pk for p in participants]
        ).values_list("session_id", "person_id", "sequence")
    # The SEQUENCE each person was sent before the reconciler kept it: a floor for their next message.
    legacy = {(session_id, person_id): sequence + 1 for session_id, person_id, sequence in legacy_rows}
    path = round_url(round_.pk)
    url = absolute_url(path)
    wanted: list[Wanted] = []
    for person in participants:
        with translation.override(language := person.language_in(programme)):
            hint = str(_("To cancel your place, use the platform: %(url)s") % {"url": url})
            for index, session in enumerate(sessions, start=1):
                event = session_event(
                    session,
                    round_,
                    person,
                    sequence=legacy.get((session.pk, person.pk), 0),
                    index=index,
                    total=len(sessions),
                    with_people=True,
                    url=url,
                )
                lines: list[str] = []
                if session.online_url:
                    lines.append(_("Online: %(link)s") % {"link": session.online_url})
                if round_.information:
                    lines.extend(["", round_.information])
                wanted.append(
                    Wanted(
                        person,
                        language,
                        event,
                        key=f"seminars.session:{session.pk}",
                        url=path,
                        lines=tuple(lines),
                        cancel_hint=hint,
                    )
                )
    live = [f"seminars.session:{s.pk}" for s in sessions] if round_.status == Round.Status.PUBLISHED else []
    return reconcile(
        programme=programme, source=round_source(round_.pk), wanted=wanted, people=only, live=live
    )


def invites_follow(
    round_: Round, person: Person, now: datetime, *, sessions_ahead: bool | None = None
) -> bool:
    """Whether bringing this newly confirmed person's calendar in step with the round sends them anything:
    the round is published, they have an address, and a session is still to end (``reconcile_round``
    leaves past sessions alone; ``sessions_ahead`` when the caller has read that already). The caller tells
    them of the seat itself when nothing follows."""
    return (
        round_.status == Round.Status.PUBLISHED
        and bool(person.user.email)
        and (
            sessions_ahead
            if sessions_ahead is not None
            else Session.objects.filter(round=round_, ends_at__gt=now).exists()
        )
    )


# --- Personal feed --------------------------------------------------------------------------------------


def _feed_sessions(person_id: int, since: datetime) -> QuerySet[Session]:
    """The sessions of a person's confirmed bookings on published rounds that end from ``since`` on."""
    return Session.objects.filter(
        round__enrolments__person_id=person_id,
        round__enrolments__status=Enrolment.Status.CONFIRMED,
        round__status=Round.Status.PUBLISHED,
        ends_at__gte=since,
    )


# The feed's four reads, compiled to SQL once per connection and scope (read on every feed that is built).
# The rounds and their sessions are those of the sessions read first, named by the same conditions: the
# SQL stays the same whatever their number. The stand-ins are no person's key and no moment of the window.
_STAND_INS = (-(2**62) + 229, datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC))
_FEED_SESSIONS: ScopedPreparedQuery[Session, tuple[int, int, str, datetime, datetime, str, str, datetime]] = (
    ScopedPreparedQuery(
        lambda person_id, since: (
            _feed_sessions(person_id, since).order_by("starts_at", "pk").values_list(*_FEED_FIELDS)
        ),
        stand_ins=_STAND_INS,
    )
)
_FEED_ROUNDS: ScopedPreparedQuery[Round, Round] = ScopedPreparedQuery(
    lambda person_id, since: Round.objects.filter(
        pk__in=_feed_sessions(person_id, since).values("round_id")
    ).select_related("course__programme"),
    stand_ins=_STAND_INS,
)
_FEED_SEQUENCES: ScopedPreparedQuery[InviteSequence, tuple[int, int]] = ScopedPreparedQuery(
    lambda person_id: InviteSequence.objects.filter(person_id=person_id).values_list(
        "session_id", "sequence"
    ),
    stand_ins=_STAND_INS[:1],
)
_FEED_NUMBERING: ScopedPreparedQuery[Session, tuple[int, int]] = ScopedPreparedQuery(
    lambda person_id, since: (
        Session.objects.filter(round_id__in=_feed_sessions(person_id, since).values("round_id"))
        .order_by("round_id", "starts_at", "pk")
        .values_list("round_id", "pk")
    ),
    stand_ins=_STAND_INS,
)


def feed_events(person: Person) -> list[CalendarEvent]:
    """The person's confirmed course sessions for their subscription feed (a calendar-feed provider).

    Runs inside the person's own programme scope (the feed view sets it). Four queries whatever the number
    of sessions (one without any), each compiled once; sessions are read as plain values and each round
    once, because building a model instance per session, round, course and programme cost more than the
    rest of the provider at 1,000 events.
    """
    since = timezone.now() - timedelta(days=settings.SEMINARS_FEED_PAST_DAYS)
    sessions = [SessionRow(*values) for values in _FEED_SESSIONS.fetch(person.pk, since)]
    if not sessions:
        return []
    rounds = {r.pk: r for r in _FEED_ROUNDS.fetch(person.pk, since)}
    sequences = dict(_FEED_SEQUENCES.fetch(person.pk))
    per_round: dict[int, list[int]] = {}
    for round_id, session_id in _FEED_NUMBERING.fetch(person.pk, since):
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


# --- Replies from calendars -----------------------------------------------------------------------------


def declined_in_calendar(copy: CalendarCopy) -> None:
    """A participant declined a session in their calendar (a ``calendar_decline_handlers`` entry).

    Declining in a calendar does not free the seat by itself: a person who may still cancel is sent the
    link to their bookings, where cancelling frees the seat and offers it to the waiting list; after the
    deadline, cancelling is the coordinators' to do, and they are told the person declined in their calendar.
    Runs in the copy's programme scope.
    """
    round_id = int(copy.source.split(":", 1)[1])
    enrolment = (
        Enrolment.objects.filter(
            round_id=round_id, person_id=copy.person_id, status=Enrolment.Status.CONFIRMED
        )
        .select_related("round__course__programme", "person__user")
        .first()
    )
    if enrolment is None:
        return
    round_ = enrolment.round
    programme = round_.course.programme
    params = {"course": round_.course.title, "round": round_.label, "person": enrolment.person.full_name}
    if enrolment.person_may_cancel(timezone.now()):
        notify(
            programme=programme,
            recipients=[enrolment.person],
            kind=KIND_ENROLMENT,
            title=gettext_noop("You declined %(course)s (%(round)s) in your calendar"),
            body=gettext_noop(
                "Your seat is still booked. To give it to the next person on the waiting list, confirm the "
                "cancellation under My bookings."
            ),
            params=params,
            url=reverse("seminars:my-bookings"),
        )
    else:
        notify(
            programme=programme,
            recipients=coordinators_of(programme),
            kind=KIND_ENROLMENT,
            title=gettext_noop("%(person)s declined %(course)s (%(round)s) in their calendar"),
            body=gettext_noop(
                "The cancellation deadline has passed, so the seat is still booked; only a coordinator can "
                "cancel it."
            ),
            params=params,
            url=round_url(round_.pk),
        )
