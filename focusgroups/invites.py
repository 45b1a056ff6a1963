"""Calendar invites and the personal feed for focus-group meetings, built on ``coordinator.core.calendar``.

- One VEVENT per meeting. The UID is stable per meeting *and person* (``focusgroup-meeting-<m>-<p>@...``)
  so that each person's calendar copy is independent (a UID shared by all members lets one person's copy
  carry another person's state in a shared Exchange or Google Workspace).
- ``reconcile_meetings`` states which meetings the platform shows each member; ``coordinator.core.itip``
  keeps what each calendar holds and sends invites, updates and cancellations, each with a higher
  SEQUENCE for that person (``Meeting.sequence``, the counter kept before, is the floor of a first one).
- The same UID and SEQUENCE appear in the person's subscription feed.
- Everything here runs inside a service transaction: the outbox row is written there and the email
  leaves after the commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet, prefetch_related_objects
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core import formatting
from coordinator.core.calendar import CalendarEvent, Participant, event_uid
from coordinator.core.itip import Wanted, reconcile
from coordinator.core.models import CalendarCopy
from coordinator.core.notifications import absolute_url, notify
from coordinator.core.prepared import ScopedPreparedQuery
from focusgroups.models import GroupMembership, Meeting
from organisations.models import Person
from organisations.selectors import coordinators_of

# Who hears that a member declined a meeting in their calendar (registered in ``hooks``).
KIND_MEETING_REPLY = "focusgroups.meeting_reply"


def meeting_uid(meeting_id: int, person_id: int) -> str:
    return event_uid("focusgroup-meeting", meeting_id, person_id)


def meeting_url(meeting: Meeting) -> str:
    try:
        return reverse("focusgroups:meeting", kwargs={"pk": meeting.pk})
    except NoReverseMatch:  # the web pages are optional for the API and the invites
        return f"/focusgroups/meetings/{meeting.pk}/"


def when_text(meeting: Meeting, zone: ZoneInfo) -> str:
    """ "3 dec. 2026, 09:00–16:00" in the active language and the programme's zone."""
    return formatting.span(meeting.starts_at, meeting.ends_at, zone)


def _description(meeting: Meeting, url: str) -> str:
    lines = [f"{meeting.group.name}: {meeting.title}"]
    if meeting.online_link:
        lines.append(_("Online: %(link)s") % {"link": meeting.online_link})
    agenda = list(meeting.agenda_items.all())
    if agenda:
        lines.extend(["", _("Agenda:")])
        lines.extend(f"{item.position}. {item.title}" for item in agenda)
    lines.extend(["", url])
    return "\n".join(lines)


def meeting_event(meeting: Meeting, person: Person, *, with_people: bool) -> CalendarEvent:
    programme = meeting.group.programme
    url = absolute_url(meeting_url(meeting))
    organizer = Participant(programme.organizer_email, programme.name) if with_people else None
    attendees = (Participant(person.user.email, person.full_name),) if with_people else ()
    return CalendarEvent(
        uid=meeting_uid(meeting.pk, person.pk),
        summary=f"{meeting.group.name}: {meeting.title}",
        start=meeting.starts_at,
        end=meeting.ends_at,
        sequence=meeting.sequence,
        location=meeting.place or meeting.online_link,
        description=_description(meeting, url),
        url=url,
        status="CANCELLED" if meeting.status == Meeting.Status.CANCELLED else "CONFIRMED",
        organizer=organizer,
        attendees=attendees,
        categories=(str(_("Focus group")),),
        last_modified=meeting.updated_at,
    )


def meeting_source(meeting_id: int) -> str:
    return f"focusgroups.meeting:{meeting_id}"


def active_members(meeting: Meeting) -> list[Person]:
    return [
        m.person
        for m in GroupMembership.objects.filter(group_id=meeting.group_id, is_active=True)
        .select_related("person__user")
        .order_by("pk")
    ]


def reconcile_meetings(meetings: Iterable[Meeting], *, people: Iterable[Person] | None = None) -> int:
    """Bring the members' calendars in step with each meeting.

    A scheduled meeting shows every active member of its group; a cancelled one shows nobody. A new
    meeting, a change of time, place, title, agenda or group name, a member who joins or leaves reach
    every calendar through ``coordinator.core.itip.reconcile``; nothing else is sent. ``people`` limits the
    work to some persons (a membership changed). Call it inside the transaction of the change, with
    meetings read with ``group__programme``. Returns the number of messages.
    """
    meetings = list(meetings)
    only = None if people is None else {p.pk for p in people}
    members: dict[int, list[Person]] = {}
    memberships = GroupMembership.objects.filter(
        group_id__in={m.group_id for m in meetings}, is_active=True
    ).select_related("person__user")
    if only is not None:
        memberships = memberships.filter(person_id__in=only)
    for membership in memberships.order_by("pk"):
        members.setdefault(membership.group_id, []).append(membership.person)
    sent = 0
    for meeting in meetings:
        programme = meeting.group.programme
        scheduled = meeting.status == Meeting.Status.SCHEDULED
        path = meeting_url(meeting)
        wanted = []
        for person in members.get(meeting.group_id, []) if scheduled else []:
            with translation.override(language := person.language_in(programme)):
                event = meeting_event(meeting, person, with_people=True)
                lines = []
                if meeting.online_link:
                    lines.append(_("Online: %(link)s") % {"link": meeting.online_link})
                hint = _("To leave the group or see the meeting, use the platform: %(url)s") % {
                    "url": absolute_url(path)
                }
                wanted.append(
                    Wanted(
                        person,
                        language,
                        event,
                        key=meeting_source(meeting.pk),
                        url=path,
                        lines=tuple(lines),
                        cancel_hint=str(hint),
                    )
                )
        sent += reconcile(
            programme=programme,
            source=meeting_source(meeting.pk),
            wanted=wanted,
            people=only,
            live=[meeting_source(meeting.pk)] if scheduled else [],
        )
    return sent


def _feed_meetings(person_id: int, since: datetime) -> QuerySet[Meeting]:
    """The meetings, not cancelled, of the groups a person takes part in that end from ``since`` on."""
    group_ids = GroupMembership.objects.filter(person_id=person_id, is_active=True).values("group_id")
    return (
        Meeting.objects.filter(group_id__in=group_ids, ends_at__gte=since)
        .exclude(status=Meeting.Status.CANCELLED)
        .select_related("group__programme")
        .order_by("starts_at", "pk")
    )


# Read on every feed that is built: compiled to SQL once per connection and scope. The stand-ins are no
# person's key and no moment of the feed's window.
_FEED_MEETINGS: ScopedPreparedQuery[Meeting, Meeting] = ScopedPreparedQuery(
    _feed_meetings, stand_ins=(-(2**62) + 311, datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC))
)


def feed_events(person: Any) -> list[CalendarEvent]:
    """The person's focus-group meetings (scheduled and held, past year) for the personal feed.

    Runs in the person's programme scope (the feed view sets it); one query without meetings, two with
    (their agendas).
    """
    since = timezone.now() - timedelta(days=settings.CALENDAR_FEED_PAST_DAYS)
    meetings = _FEED_MEETINGS.fetch(person.pk, since)
    if meetings:
        prefetch_related_objects(meetings, "agenda_items")
    events: list[CalendarEvent] = []
    for meeting in meetings:
        with translation.override(person.language_in(meeting.group.programme)):
            events.append(meeting_event(meeting, person, with_people=False))
    return events


# --- Replies from calendars -----------------------------------------------------------------------------


def declined_in_calendar(copy: CalendarCopy) -> None:
    """A member declined a meeting in their calendar (a ``calendar_decline_handlers`` entry): a meeting is
    not theirs to cancel, so the decline is recorded (on the calendar copy) and the group's convener, else
    the programme's coordinators, are told who will not come. Runs in the copy's programme scope."""
    meeting = (
        Meeting.objects.filter(pk=int(copy.source.split(":", 1)[1]), status=Meeting.Status.SCHEDULED)
        .select_related("group__programme", "group__convener__user")
        .first()
    )
    if meeting is None:
        return
    programme = meeting.group.programme
    convener = meeting.group.convener
    recipients = [convener] if convener is not None else list(coordinators_of(programme))
    notify(
        programme=programme,
        recipients=[p for p in recipients if p.pk != copy.person_id],
        kind=KIND_MEETING_REPLY,
        title=gettext_noop("%(person)s declined %(meeting)s in their calendar"),
        params={"person": copy.person.full_name, "meeting": f"{meeting.group.name}: {meeting.title}"},
        url=meeting_url(meeting),
    )
