"""Calendar invites and the personal feed for shadowing visits, built on ``coordinator.core.calendar``.

- Each visit day is its own calendar event and its own iTIP message (Outlook, Google Calendar and
  Thunderbird handle one event per message best).
- The UID is stable per placement day (``shadowing-visit-<placement>-<day>@...``). Shadower and host
  contact are both ATTENDEEs of the same event. Which of them holds which day, and at which SEQUENCE, is
  kept by ``coordinator.core.itip`` (one row per UID and person): ``reconcile_placements`` states what the
  platform shows each of them and the reconciler sends the invites, updates and cancellations.
- ORGANIZER is the programme's coordinator mailbox (the coordinator mediates the visit), kept for the
  event's whole life; LOCATION is the workplace's address; DESCRIPTION names the host contact and how to
  reach them.
- Everything here runs inside a service transaction: the outbox row is written there and the email
  leaves after the commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core.calendar import CalendarEvent, Participant, event_uid
from coordinator.core.itip import Wanted, reconcile
from coordinator.core.models import CalendarCopy
from coordinator.core.notifications import absolute_url, notify
from coordinator.core.prepared import ScopedPreparedQuery
from organisations.models import Person
from organisations.selectors import coordinators_of
from shadowing.kinds import KIND_COORDINATION, KIND_PLACEMENT
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


def placement_source(placement_id: int) -> str:
    return f"shadowing.placement:{placement_id}"


def reconcile_placements(placements: Iterable[Placement]) -> int:
    """Bring the calendars of the shadower and the host contact in step with each placement.

    A confirmed placement shows both of them every visit day; any other status shows nothing (so its
    days are cancelled where they were sent). Whatever changed (days, times, the workplace's name, address
    or host contact, the numbering "day n of m") reaches every calendar through
    ``coordinator.core.itip.reconcile``; unchanged days send nothing. Call it inside the transaction of the
    change, with placements read with ``PLACEMENT_RELATED``. Returns the number of messages.
    """
    placements = list(placements)
    days: dict[int, list[PlacementDay]] = {}
    for day in PlacementDay.objects.filter(
        placement_id__in=[p.pk for p in placements if p.status == Placement.Status.CONFIRMED]
    ).order_by("date", "starts_at", "pk"):
        days.setdefault(day.placement_id, []).append(day)
    sent = 0
    for placement in placements:
        programme = placement.programme
        wanted: list[Wanted] = []
        ordered = days.get(placement.pk, []) if placement.status == Placement.Status.CONFIRMED else []
        path = page_url("placement-detail", pk=placement.pk)
        people = {p.pk: p for p in (placement.request.requester, placement.workplace.contact)}
        for person in people.values():
            with translation.override(language := person.language_in(programme)):
                hint = _("To cancel the visit, use the platform: %(url)s") % {"url": absolute_url(path)}
                for index, day in enumerate(ordered, start=1):
                    event = visit_event(placement, day, index=index, total=len(ordered), with_people=True)
                    wanted.append(
                        Wanted(person, language, event, key=event.uid, url=path, cancel_hint=str(hint))
                    )
        sent += reconcile(programme=programme, source=placement_source(placement.pk), wanted=wanted)
    return sent


# --- Personal feed --------------------------------------------------------------------------------------


def _feed_placements(person_id: int, since: date) -> QuerySet[Placement]:
    """The confirmed visits of a person, as shadower or host contact, with a day from ``since`` on."""
    recent = PlacementDay.objects.filter(date__gte=since).values("placement_id")
    return (
        Placement.objects.filter(
            Q(request__requester_id=person_id) | Q(workplace__contact_id=person_id),
            status__in=Placement.VISITS,
            pk__in=recent,
        )
        .select_related(*PLACEMENT_RELATED)
        .order_by("pk")
    )


# Read on every feed that is built: compiled to SQL once per connection and scope. The stand-ins are no
# person's key and no day the feed's window starts on.
_FEED_PLACEMENTS: ScopedPreparedQuery[Placement, Placement] = ScopedPreparedQuery(
    _feed_placements, stand_ins=(-(2**62) + 173, date(1901, 2, 3))
)


def feed_events(person: Person) -> list[CalendarEvent]:
    """The person's confirmed visits, as shadower or host contact, for their subscription feed (a
    calendar-feed provider), back to ``CALENDAR_FEED_PAST_DAYS``. Runs inside the person's own programme
    scope (the feed view sets it); one query without visits, two with (their days)."""
    since = timezone.localdate() - timedelta(days=settings.CALENDAR_FEED_PAST_DAYS)
    placements = _FEED_PLACEMENTS.fetch(person.pk, since)
    if not placements:
        return []
    prefetch_related_objects(
        placements, Prefetch("days", queryset=PlacementDay.objects.order_by("date", "starts_at", "pk"))
    )
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


# --- Replies from calendars -----------------------------------------------------------------------------


def declined_in_calendar(copy: CalendarCopy) -> None:
    """The shadower or the host contact declined a visit day in their calendar (a
    ``calendar_decline_handlers`` entry). The visit stays booked until they confirm the cancellation on the
    placement's page (which frees the seats, sends the request back to matching and tells the other side);
    the coordinators, who mediate the visit, are told. Runs in the copy's programme scope."""
    placement = (
        Placement.objects.filter(pk=int(copy.source.split(":", 1)[1]), status=Placement.Status.CONFIRMED)
        .select_related(*PLACEMENT_RELATED)
        .first()
    )
    if placement is None:
        return
    person = next(
        (p for p in (placement.request.requester, placement.workplace.contact) if p.pk == copy.person_id),
        None,
    )
    if person is None:
        return
    params = {"person": person.full_name, "workplace": placement.workplace.name}
    notify(
        programme=placement.programme,
        recipients=[person],
        kind=KIND_PLACEMENT,
        title=gettext_noop("You declined the visit to %(workplace)s in your calendar"),
        body=gettext_noop(
            "The visit is still booked. To cancel it, confirm the cancellation with a reason on the visit's "
            "page."
        ),
        params=params,
        url=page_url("placement-cancel", pk=placement.pk),
    )
    notify(
        programme=placement.programme,
        recipients=[p for p in coordinators_of(placement.programme) if p.pk != person.pk],
        kind=KIND_COORDINATION,
        title=gettext_noop("%(person)s declined the visit to %(workplace)s in their calendar"),
        body=gettext_noop("They have been asked to confirm the cancellation on the visit's page."),
        params=params,
        url=page_url("placement-detail", pk=placement.pk),
    )
