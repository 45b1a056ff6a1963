"""Calendars that never go stale: one reconciler sends every invite, update and cancellation (iTIP).

A feature does not decide which calendar message a change needs. It states which events the platform now
shows each person for one object (a placement, a course round, a meeting): ``reconcile(programme=...,
source=..., wanted=[Wanted(...), ...])``. The reconciler compares that with what each person's calendar was
last sent (``CalendarCopy``, one row per event UID and person) and sends exactly the difference:

- an event the person does not hold yet (or holds cancelled) is a ``REQUEST`` invite;
- an event whose fingerprint changed (summary, time, place, description, organiser, attendees: a moved
  session, a renamed course, a new workplace address or host contact, renumbered "day n of m") is a
  ``REQUEST`` update;
- an event the person holds but no longer attends is a ``CANCEL``, worded as a cancellation when the
  event is gone for everyone, else as "you no longer take part";
- an unchanged event sends nothing; a past event is history and is left alone, unless the person's
  calendar still holds it as an event to come (it was moved to a time that has passed): that calendar is
  sent the update, so it does not keep the event on its old day.

Every message raises that person's SEQUENCE for the UID (RFC 5546 3.2.5), and the ORGANIZER of an event is
the one its first message carried, for the event's whole life. ATTENDEE and ORGANIZER are the addresses
the mail goes to (``mail_address``). The rows are read with one query per call and written in bulk; the
messages go through the outbox, so they leave after the caller's transaction commits.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from django.db import DatabaseError
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from coordinator.core import formatting, registry
from coordinator.core.calendar import CalendarEvent, Method, Participant, build_calendar, mail_address
from coordinator.core.models import CalendarCopy
from coordinator.core.notifications import send_invite
from coordinator.core.prepared import ScopedPreparedQuery
from coordinator.core.tasks import on_commit_enqueue, retry_later

Change = Literal["invite", "update", "cancelled", "removed"]
# The details of a person that events show of them: their name (SUMMARY, DESCRIPTION, the CN of ATTENDEE),
# their address (ATTENDEE, DESCRIPTION) and their phone (a host contact's, in a visit's DESCRIPTION).
PersonDetail = Literal["name", "email", "phone"]
PERSON_DETAILS: frozenset[PersonDetail] = frozenset({"name", "email", "phone"})

logger = logging.getLogger(__name__)


class Mailbox(Protocol):
    @property
    def email(self) -> str: ...


class Recipient(Protocol):
    """A person (``organisations.Person``): the reconciler needs their id and their address."""

    @property
    def pk(self) -> int: ...

    @property
    def user(self) -> Mailbox: ...


class Organiser(Protocol):
    """A programme (``organisations.Programme``): its id, zone and organiser mailbox."""

    @property
    def pk(self) -> int: ...

    @property
    def time_zone(self) -> str: ...

    @property
    def organizer_email(self) -> str: ...


@dataclass(frozen=True)
class Wanted:
    """One event as the platform shows it to one person, built in that person's ``language``.

    ``event`` carries ORGANIZER and ATTENDEEs; its ``sequence`` is only a floor for a first message (a
    counter an app kept before the reconciler). ``key`` names the thing the event stands for, the same for
    everyone who holds it. ``lines`` are extra lines of the mail's text (a link, information);
    ``cancel_hint`` says where to cancel in the platform.
    """

    person: Recipient
    language: str
    event: CalendarEvent
    key: str
    url: str
    lines: tuple[str, ...] = ()
    cancel_hint: str = ""


def fingerprint(event: CalendarEvent) -> str:
    """What a calendar shows of an event; SEQUENCE, DTSTAMP and LAST-MODIFIED are not part of it."""
    content = {
        "summary": event.summary,
        "start": event.start.astimezone(ZoneInfo("UTC")).isoformat(),
        "end": event.end.astimezone(ZoneInfo("UTC")).isoformat(),
        "location": event.location,
        "description": event.description,
        "url": event.url,
        "status": event.status,
        "organizer": [event.organizer.email, event.organizer.name] if event.organizer else None,
        "attendees": sorted([a.email, a.name] for a in event.attendees),
        "categories": list(event.categories),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def when_text(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """ "3 dec. 2026, 09:00–16:00" in the active language and the programme's zone."""
    return formatting.span(start, end, zone)


def _content(event: CalendarEvent, url: str) -> dict[str, object]:
    return {
        "summary": event.summary,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "location": event.location,
        "organizer": [event.organizer.email, event.organizer.name] if event.organizer else None,
        "attendees": [[a.email, a.name] for a in event.attendees],
        "url": url,
    }


def _stored_event(copy: CalendarCopy) -> CalendarEvent:
    content = copy.content
    organizer = content.get("organizer")
    return CalendarEvent(
        uid=copy.uid,
        summary=content["summary"],
        start=datetime.fromisoformat(content["start"]),
        end=datetime.fromisoformat(content["end"]),
        sequence=copy.sequence,
        location=content.get("location", ""),
        organizer=Participant(*organizer) if organizer else None,
        attendees=tuple(Participant(*a) for a in content.get("attendees", [])),
    )


def _addressed(event: CalendarEvent, organizer: str) -> CalendarEvent:
    """The event with the addresses the mail goes to, its pinned organiser, and no organiser as attendee."""
    name = event.organizer.name if event.organizer else ""
    attendees = tuple(
        Participant(mail_address(a.email), a.name)
        for a in event.attendees
        if a.email and mail_address(a.email) != organizer
    )
    return replace(event, organizer=Participant(organizer, name), attendees=attendees)


def _held_ahead(copy: CalendarCopy | None, now: datetime) -> bool:
    """Whether the calendar holds the event (last sent as a REQUEST) as one that has not ended yet."""
    return copy is not None and copy.method == CalendarCopy.Method.REQUEST and copy.ends_at > now


def _held(programme_id: int, source: str, people: Iterable[int] | None) -> QuerySet[CalendarCopy]:
    """The copies of ``source``'s events the calendars hold (``people``'s only, where given)."""
    held = CalendarCopy.objects.filter(programme_id=programme_id, source=source)
    if people is not None:
        held = held.filter(person_id__in=people)
    return held.select_related("person__user")


# One person's copies of a source's events, compiled to SQL once per connection and scope. The stand-ins
# are no programme's or person's key and no source (a source is "app.object:key").
_HELD: ScopedPreparedQuery[CalendarCopy, CalendarCopy] = ScopedPreparedQuery(
    lambda programme_id, source, person_id: _held(programme_id, source, [person_id]),
    stand_ins=(-(2**62) + 403, "itip.held:stand-in", -(2**62) + 409),
)


def reconcile(
    *,
    programme: Organiser,
    source: str,
    wanted: Iterable[Wanted],
    people: set[int] | None = None,
    live: Iterable[str] | None = None,
    now: datetime | None = None,
) -> int:
    """Bring every calendar that holds (or should hold) an event of ``source`` up to date.

    Call it inside the transaction of the change, with every event the platform now shows anyone for
    ``source`` (an empty list cancels them all); with ``people`` (person ids), only their calendars are
    compared and ``wanted`` holds only their events. ``live`` names the events (keys) that go ahead for
    others (by default those in ``wanted``): a person who loses one of them is told they no longer take
    part, a person who loses any other is told it is cancelled. Returns the number of messages queued.
    """
    now = now or timezone.now()
    wanted = [w for w in wanted if w.person.user.email]
    if people is not None and len(people) == 1:
        # One person's calendar (a booking's task): the read compiled once per connection and scope.
        [person_id] = people
        held_copies = _HELD.fetch(programme.pk, source, person_id)
    else:
        held_copies = list(_held(programme.pk, source, people))
    copies = {(c.uid, c.person_id): c for c in held_copies}
    organizers = {c.uid: c.organizer for c in copies.values()}
    # A newcomer to an event others hold (a new host contact) starts above every copy of its UID, so no
    # calendar that sees several copies (a shared mailbox) ever sees the SEQUENCE go back.
    top: dict[str, int] = {}
    for c in copies.values():
        top[c.uid] = max(top.get(c.uid, 0), c.sequence)
    wanted_keys = set(live) if live is not None else {w.key for w in wanted}
    wanted_ids = {(w.event.uid, w.person.pk) for w in wanted}
    created: list[CalendarCopy] = []
    changed: list[CalendarCopy] = []
    sent = 0
    for item in wanted:
        copy = copies.get((item.event.uid, item.person.pk))
        if item.event.end <= now and not _held_ahead(copy, now):
            # A past event is history; changing its calendar copy helps nobody. Unless the calendar still
            # holds it as an event to come (a session corrected to a day that has passed): left alone, it
            # would stay on its old day for good, so it is moved there like any other change.
            continue
        organizer = organizers.setdefault(item.event.uid, mail_address(programme.organizer_email))
        event = _addressed(item.event, organizer)
        print_ = fingerprint(event)
        if copy is not None and copy.method == CalendarCopy.Method.REQUEST and copy.fingerprint == print_:
            continue
        change: Change = "update" if copy is not None and copy.method == "REQUEST" else "invite"
        if copy is None:
            copy = CalendarCopy(
                programme_id=programme.pk,
                person_id=item.person.pk,
                source=source,
                uid=event.uid,
                organizer=organizer,
                sequence=max(event.sequence, top[event.uid] + 1 if event.uid in top else 0),
            )
            created.append(copy)
        else:
            copy.sequence += 1
            changed.append(copy)
        copy.key = item.key
        copy.address = mail_address(item.person.user.email)
        copy.language = item.language
        copy.fingerprint = print_
        copy.method = CalendarCopy.Method.REQUEST
        copy.content = _content(event, item.url)
        copy.ends_at = event.end
        copy.changed_at = now
        copy.reply = CalendarCopy.Reply.NONE
        copy.replied_at = None
        event = replace(event, sequence=copy.sequence, last_modified=now)
        _send(programme, item.person, item.language, event, change, item.url, item.lines, item.cancel_hint)
        sent += 1
    for (uid, person_id), copy in copies.items():
        if (uid, person_id) in wanted_ids or copy.method == CalendarCopy.Method.CANCEL:
            continue
        if copy.ends_at <= now:
            continue
        copy.sequence += 1
        copy.method = CalendarCopy.Method.CANCEL
        copy.changed_at = now
        changed.append(copy)
        event = replace(_stored_event(copy), last_modified=now)
        change = "removed" if copy.key in wanted_keys else "cancelled"
        url = copy.content.get("url", "")
        _send(programme, copy.person, copy.language, event, change, url, (), "")
        sent += 1
    if created:
        CalendarCopy.objects.bulk_create(created)
    if changed:
        CalendarCopy.objects.bulk_update(
            changed,
            [
                "key",
                "address",
                "language",
                "fingerprint",
                "sequence",
                "method",
                "content",
                "ends_at",
                "changed_at",
                "reply",
                "replied_at",
            ],
        )
    return sent


def _send(
    programme: Organiser,
    person: Recipient,
    language: str,
    event: CalendarEvent,
    change: Change,
    url: str,
    lines: tuple[str, ...],
    cancel_hint: str,
) -> None:
    method: Method = "CANCEL" if change in ("cancelled", "removed") else "REQUEST"
    zone = ZoneInfo(programme.time_zone)
    with translation.override(language):
        when = when_text(event.start, event.end, zone)
        params = {"summary": event.summary, "when": when}
        titles = {
            "invite": _("Invitation: %(summary)s, %(when)s"),
            "update": _("Updated: %(summary)s, %(when)s"),
            "cancelled": _("Cancelled: %(summary)s, %(when)s"),
            "removed": _("No longer in your calendar: %(summary)s, %(when)s"),
        }
        body = [event.summary, _("When: %(when)s (%(zone)s)") % {"when": when, "zone": programme.time_zone}]
        if event.location:
            body.append(_("Where: %(place)s") % {"place": event.location})
        body.extend(lines)
        if change == "cancelled":
            body.extend(["", _("This event has been cancelled and removed from your calendar.")])
        elif change == "removed":
            body.extend(["", _("You no longer take part, so the event has been removed from your calendar.")])
        elif cancel_hint:
            body.extend(["", cancel_hint])
        calendar = build_calendar([event], time_zone=programme.time_zone, method=method)
        title = titles[change] % params
    send_invite(
        programme=programme,
        person=person,
        title=title,
        body="\n".join(body),
        url=url,
        calendar=calendar,
        method=method,
    )


# Read on every feed that is built: compiled to SQL once per connection and scope. The stand-in is no
# person's key.
_FEED_STATE: ScopedPreparedQuery[CalendarCopy, tuple[str, int, datetime]] = ScopedPreparedQuery(
    lambda person_id: CalendarCopy.objects.filter(person_id=person_id).values_list(
        "uid", "sequence", "changed_at"
    ),
    stand_ins=(-(2**62) + 401,),
)


def feed_state(person: Recipient) -> dict[str, tuple[int, datetime]]:
    """UID → (SEQUENCE, time of the last change) of what the person's calendar was sent, for the feed."""
    return {uid: (sequence, changed_at) for uid, sequence, changed_at in _FEED_STATE.fetch(person.pk)}


# --- People whose details changed -----------------------------------------------------------------------


def people_changed(person_ids: Iterable[int], details: Iterable[PersonDetail]) -> None:
    """Bring every calendar that holds an event showing these people's ``details`` in step, after the
    commit of the change (a task: a person may be in hundreds of events, and the mail is not the request's
    to wait for). Call it inside the transaction that changes a name, an address or a phone; each app's
    ``calendar_people_changed`` entry then reconciles its events that show them, which sends a REQUEST
    update with a higher SEQUENCE wherever the event's content changed and nothing elsewhere."""
    ids = sorted(set(person_ids))
    shown: list[str] = sorted(set(details) & PERSON_DETAILS)
    if ids and shown:
        on_commit_enqueue(calendars_of_changed_people, ids, shown)


@task()
def calendars_of_changed_people(person_ids: list[int], details: list[str], attempt: int = 0) -> int:
    """The task of ``people_changed``: every app's ``calendar_people_changed`` entry, each in its own
    transactions and scopes. Idempotent (a calendar already in step is sent nothing), so a run the database
    fails is tried again whole after the back-off. Returns the number of messages."""
    try:
        return sum(handler(person_ids, frozenset(details)) for handler in registry.calendar_people_changed)
    except DatabaseError:
        if not retry_later(calendars_of_changed_people, attempt, person_ids, details):
            raise
        logger.warning(
            "The calendars showing people %s could not be brought in step (attempt %s)",
            person_ids,
            attempt + 1,
            exc_info=True,
        )
        return 0
