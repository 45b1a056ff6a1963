"""Calendar invites and the personal feed for shadowing visits, built on ``coordinator.core.calendar``.

- Each visit day is its own calendar event and its own iTIP message (Outlook, Google Calendar and
  Thunderbird handle one event per message best).
- The UID is stable per placement day (``shadowing-visit-<placement>-<day>@...``). Shadower and host
  contact are both ATTENDEEs of the same event, and both receive every invite, update and cancellation of
  it, so one SEQUENCE per placement (``Placement.sequence``, raised by the services on every update or
  cancellation) keeps their copies in step.
- ORGANIZER is the programme's coordinator mailbox (the coordinator mediates the visit); LOCATION is the
  workplace's address; DESCRIPTION names the host contact and how to reach them.
- Everything here runs inside a service transaction: ``send_invite`` writes the outbox row there and the
  email leaves after the commit.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from coordinator.core.calendar import CalendarEvent, Method, Participant, build_calendar, event_uid
from coordinator.core.notifications import absolute_url, send_invite
from organisations.models import Person
from shadowing.links import page_url
from shadowing.models import Placement, PlacementDay

# The relations every invite (and most notifications) needs, for ``select_related``.
PLACEMENT_RELATED = (
    "programme",
    "request__requester__user",
    "request__organisation",
    "workplace__contact__user",
    "workplace__organisation",
)
# Placements that are in their people's calendars.


def visit_uid(placement_id: int, day_id: int) -> str:
    return event_uid("shadowing-visit", placement_id, day_id)


def _span(day: PlacementDay, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day.date, day.starts_at, tzinfo=zone),
        datetime.combine(day.date, day.ends_at, tzinfo=zone),
    )


def visit_summary(placement: Placement, index: int, total: int) -> str:
    text = _("Shadowing: %(person)s at %(workplace)s") % {
        "person": placement.request.requester.full_name,
        "workplace": placement.workplace.name,
    }
    if total > 1:
        text += " (" + _("day %(n)s of %(total)s") % {"n": index, "total": total} + ")"
    return text


def visit_description(placement: Placement, url: str) -> str:
    workplace = placement.workplace
    contact = workplace.contact
    lines = [
        f"{workplace.name} ({workplace.organisation.name})",
        workplace.address,
        "",
        _("Host contact: %(name)s") % {"name": contact.full_name},
    ]
    if contact.email:
        lines.append(_("Email: %(email)s") % {"email": contact.email})
    if contact.phone:
        lines.append(_("Phone: %(phone)s") % {"phone": contact.phone})
    lines.append(
        _("Visitor: %(name)s (%(organisation)s)")
        % {"name": placement.request.requester.full_name, "organisation": placement.request.organisation.name}
    )
    if workplace.accessibility:
        lines.extend(["", _("Accessibility: %(text)s") % {"text": workplace.accessibility}])
    lines.extend(["", _("The visitor has accepted the workplace's confidentiality terms.")])
    if url:
        lines.extend(["", url])
    return "\n".join(lines)


def visit_event(
    placement: Placement,
    day: PlacementDay,
    *,
    index: int,
    total: int,
    with_people: bool,
    url: str | None = None,
) -> CalendarEvent:
    """One visit day as a calendar event (``with_people``: ORGANIZER and both ATTENDEEs, for iTIP)."""
    programme = placement.programme
    zone = ZoneInfo(programme.time_zone)
    start, end = _span(day, zone)
    url = absolute_url(page_url("placement-detail", pk=placement.pk)) if url is None else url
    shadower = placement.request.requester
    contact = placement.workplace.contact
    organizer = Participant(programme.organizer_email, programme.name) if with_people else None
    attendees = (
        (Participant(shadower.email, shadower.full_name), Participant(contact.email, contact.full_name))
        if with_people
        else ()
    )
    workplace = placement.workplace
    return CalendarEvent(
        uid=visit_uid(placement.pk, day.pk),
        summary=visit_summary(placement, index, total),
        start=start,
        end=end,
        sequence=placement.sequence,
        location=", ".join(part for part in (workplace.name, workplace.address) if part),
        description=visit_description(placement, url),
        url=url,
        organizer=organizer,
        attendees=tuple(a for a in attendees if a.email),
        categories=(str(_("Job shadowing")),),
        last_modified=placement.updated_at,
    )


def _when(day: PlacementDay) -> str:
    return (
        f"{formats.date_format(day.date, 'DATE_FORMAT')}, "
        f"{formats.time_format(day.starts_at, 'H:i')}–{formats.time_format(day.ends_at, 'H:i')}"
    )


def send_placement_invites(placement: Placement, method: Method, *, update: bool = False) -> int:
    """Send the shadower and the host contact one iTIP message per visit day: REQUEST (an invite, or with
    ``update`` a change with the placement's raised SEQUENCE) or CANCEL. Past days are left alone.
    Returns the number of messages."""
    programme = placement.programme
    zone = ZoneInfo(programme.time_zone)
    days = list(PlacementDay.objects.filter(placement_id=placement.pk).order_by("date", "starts_at", "pk"))
    now = timezone.now()
    people = [placement.request.requester, placement.workplace.contact]
    sent = 0
    for index, day in enumerate(days, start=1):
        if _span(day, zone)[1] <= now:
            continue  # a past day is history; changing its calendar copy helps nobody
        for person in {p.pk: p for p in people}.values():
            with translation.override(person.language_in(programme)):
                event = visit_event(placement, day, index=index, total=len(days), with_people=True)
                calendar = build_calendar([event], time_zone=programme.time_zone, method=method)
                params = {"summary": event.summary, "when": _when(day)}
                if method == "CANCEL":
                    title = _("Cancelled: %(summary)s, %(when)s") % params
                elif update or placement.sequence > 0:
                    title = _("Updated: %(summary)s, %(when)s") % params
                else:
                    title = _("Invitation: %(summary)s, %(when)s") % params
                body_lines = [
                    event.summary,
                    _("When: %(when)s (%(zone)s)") % {"when": _when(day), "zone": programme.time_zone},
                    _("Where: %(place)s") % {"place": event.location},
                ]
                if method == "CANCEL":
                    body_lines.append(_("This visit day has been removed from your calendar."))
                body = "\n".join(body_lines)
            send_invite(
                programme=programme,
                person=person,
                title=title,
                body=body,
                url=page_url("placement-detail", pk=placement.pk),
                calendar=calendar,
                method=method,
            )
            sent += 1
    return sent


# --- Personal feed --------------------------------------------------------------------------------------


def feed_events(person: Person) -> list[CalendarEvent]:
    """The person's confirmed visits, as shadower or host contact, for their subscription feed (a
    calendar-feed provider). Runs inside the person's own programme scope (the feed view sets it); three
    queries whatever the number of visits."""
    from django.db.models import Prefetch, Q

    placements = list(
        Placement.objects.filter(
            Q(request__requester=person) | Q(workplace__contact=person), status__in=Placement.VISITS
        )
        .select_related(*PLACEMENT_RELATED)
        .prefetch_related(Prefetch("days", queryset=PlacementDay.objects.order_by("date", "starts_at", "pk")))
        .order_by("pk")
    )
    if not placements:
        return []
    events = []
    with translation.override(person.language_in(placements[0].programme)):
        for placement in placements:
            days = list(placement.days.all())
            url = absolute_url(page_url("placement-detail", pk=placement.pk))
            for index, day in enumerate(days, start=1):
                events.append(
                    visit_event(placement, day, index=index, total=len(days), with_people=False, url=url)
                )
    return events
