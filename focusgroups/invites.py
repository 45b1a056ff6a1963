"""Calendar invites and the personal feed for focus-group meetings, built on ``coordinator.core.calendar``.

- One VEVENT per meeting. The UID is stable per meeting *and person* (``focusgroup-meeting-<m>-<p>@...``)
  so that each person's calendar copy is independent (a UID shared by all members lets one person's copy
  carry another person's state in a shared Exchange or Google Workspace).
- The SEQUENCE is the meeting's own ``Meeting.sequence``: 0 for the first invite, raised by one on every
  update and on the cancellation, so every message a person receives supersedes the previous one. A member
  who joins later receives the current SEQUENCE, which is still newer than anything they could hold.
- The same UID and SEQUENCE appear in the person's subscription feed.
- Everything here runs inside a service transaction: ``send_invite`` writes the outbox row there and the
  email leaves after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from coordinator.core.calendar import CalendarEvent, Method, Participant, build_calendar, event_uid
from coordinator.core.notifications import absolute_url, send_invite
from focusgroups.models import GroupMembership, Meeting
from organisations.models import Person


def meeting_uid(meeting_id: int, person_id: int) -> str:
    return event_uid("focusgroup-meeting", meeting_id, person_id)


def meeting_url(meeting: Meeting) -> str:
    try:
        return reverse("focusgroups:meeting", kwargs={"pk": meeting.pk})
    except NoReverseMatch:  # the web pages are optional for the API and the invites
        return f"/focusgroups/meetings/{meeting.pk}/"


def when_text(meeting: Meeting, zone: ZoneInfo) -> str:
    start = timezone.localtime(meeting.starts_at, zone)
    end = timezone.localtime(meeting.ends_at, zone)
    day = formats.date_format(start, "DATE_FORMAT")
    if start.date() == end.date():
        return f"{day}, {formats.time_format(start, 'H:i')}–{formats.time_format(end, 'H:i')}"
    return (
        f"{day} {formats.time_format(start, 'H:i')} – {formats.date_format(end, 'DATE_FORMAT')} "
        f"{formats.time_format(end, 'H:i')}"
    )


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


def send_meeting_message(meeting: Meeting, person: Person, method: Method, *, update: bool = False) -> bool:
    """Send one person the REQUEST (invite or update) or CANCEL of a meeting; past meetings send nothing."""
    if meeting.ends_at <= timezone.now():
        return False
    programme = meeting.group.programme
    zone = ZoneInfo(programme.time_zone)
    with translation.override(person.language_in(programme)):
        event = meeting_event(meeting, person, with_people=True)
        calendar = build_calendar([event], time_zone=programme.time_zone, method=method)
        when = when_text(meeting, zone)
        params = {"summary": event.summary, "when": when}
        if method == "CANCEL":
            title = _("Cancelled: %(summary)s, %(when)s") % params
        elif update:
            title = _("Updated: %(summary)s, %(when)s") % params
        else:
            title = _("Invitation: %(summary)s, %(when)s") % params
        lines = [event.summary, _("When: %(when)s (%(zone)s)") % {"when": when, "zone": programme.time_zone}]
        if meeting.place:
            lines.append(_("Where: %(place)s") % {"place": meeting.place})
        if meeting.online_link:
            lines.append(_("Online: %(link)s") % {"link": meeting.online_link})
        if method == "CANCEL":
            lines.append(_("This meeting has been cancelled and removed from your calendar."))
        body = "\n".join(lines)
    send_invite(
        programme=programme,
        person=person,
        title=title,
        body=body,
        url=meeting_url(meeting),
        calendar=calendar,
        method=method,
    )
    return True


def active_members(meeting: Meeting) -> list[Person]:
    return [
        m.person
        for m in GroupMembership.objects.filter(group_id=meeting.group_id, is_active=True)
        .select_related("person__user")
        .order_by("pk")
    ]


def send_to_members(
    meeting: Meeting, method: Method, *, update: bool = False, people: Iterable[Person] | None = None
) -> int:
    """The REQUEST or CANCEL of a meeting to every active member (or the given people)."""
    recipients = list(people) if people is not None else active_members(meeting)
    return sum(send_meeting_message(meeting, person, method, update=update) for person in recipients)


def feed_events(person: Any) -> list[CalendarEvent]:
    """The person's focus-group meetings (scheduled and held, past year) for the personal feed.

    Runs in the person's programme scope (the feed view sets it); three queries whatever the number of
    meetings.
    """
    since = timezone.now() - timedelta(days=365)
    group_ids = GroupMembership.objects.filter(person=person, is_active=True).values("group_id")
    meetings = (
        Meeting.objects.filter(group_id__in=group_ids, ends_at__gte=since)
        .exclude(status=Meeting.Status.CANCELLED)
        .select_related("group__programme")
        .prefetch_related("agenda_items")
        .order_by("starts_at", "pk")
    )
    events: list[CalendarEvent] = []
    for meeting in meetings:
        with translation.override(person.language_in(meeting.group.programme)):
            events.append(meeting_event(meeting, person, with_people=False))
    return events
