"""Loads the demo tables of ``shadowing.seed.data`` into a programme: small functions, idempotent (see
the tables' module for what the data is and how a second run behaves)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.utils import timezone

from coordinator.core.days_off import Country, days_off
from organisations.models import Organisation, Person, Programme, Unit
from organisations.seed import malmo
from shadowing.models import (
    AvailabilityWindow,
    HostFeedback,
    MatchingRun,
    Placement,
    PlacementCost,
    PlacementDay,
    PlacementEvent,
    Preference,
    Reflection,
    ShadowingRequest,
    Slot,
    Topic,
    Workplace,
)
from shadowing.seed.data import (
    CONFIDENTIALITY,
    PATHS,
    REQUESTS,
    TOPICS,
    WORKPLACES,
    DemoPlacement,
    DemoWorkplace,
)


def working_day(start: date, offset: int, country: str = Country.SWEDEN) -> date:
    """The ``offset``-th working day (Monday–Friday, not a day off in ``country``) after ``start`` (before
    it when negative)."""
    step = 1 if offset >= 0 else -1
    day, left = start, abs(offset)
    closed = days_off(
        country, start - timedelta(days=abs(offset) * 2 + 30), start + timedelta(days=abs(offset) * 2 + 30)
    )
    while left:
        day += timedelta(days=step)
        if day.weekday() < 5 and day not in closed:
            left -= 1
    return day


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=zone)


def _topics(programme: Programme) -> dict[str, Topic]:
    found = {}
    for name in TOPICS:
        found[name], _created = Topic.unscoped_objects.get_or_create(programme=programme, name=name)
    return found


def _people(programme: Programme) -> dict[str, Person]:
    return {
        p.user.username: p
        for p in Person.unscoped_objects.filter(memberships__programme=programme).select_related(
            "user", "organisation", "unit"
        )
    }


def _workplaces(
    programme: Programme, people: dict[str, Person], topics: dict[str, Topic], today: date
) -> dict[str, Workplace]:
    organisations = {
        o.name: o for o in Organisation.unscoped_objects.filter(participations__programme=programme)
    }
    found: dict[str, Workplace] = {}
    closed = days_off(programme.country, today, today + timedelta(days=43))
    for spec in WORKPLACES:
        organisation = organisations[spec.organisation]
        unit = Unit.unscoped_objects.filter(organisation=organisation, name=spec.unit).first()
        workplace = Workplace.unscoped_objects.filter(
            programme=programme, organisation=organisation, name=spec.name
        ).first()
        if workplace is None:
            workplace = Workplace.unscoped_objects.create(
                programme=programme,
                organisation=organisation,
                unit=unit,
                name=spec.name,
                street_address=unit.street_address if unit else "",
                postal_code=unit.postal_code if unit else "",
                city=unit.city if unit else "Malmö",
                description=spec.description,
                languages=list(spec.languages),
                accessibility=spec.accessibility,
                max_visitors_per_day=spec.max_per_day,
                confidentiality_terms=CONFIDENTIALITY,
                contact=people[spec.contact],
                is_published=True,
            )
            workplace.topics.set([topics[name] for name in spec.topics])
            Slot.unscoped_objects.bulk_create(
                [
                    Slot(
                        workplace=workplace,
                        date=day,
                        starts_at=spec.starts_at,
                        ends_at=spec.ends_at,
                        capacity=spec.capacity,
                    )
                    for day in (today + timedelta(days=n) for n in range(1, 43))
                    if day.weekday() in spec.weekdays and day not in closed
                ]
            )
        found[spec.key] = workplace
    return found


def _slot(workplace: Workplace, spec: DemoWorkplace, day: date) -> Slot:
    slot = Slot.unscoped_objects.filter(workplace=workplace, date=day, starts_at=spec.starts_at).first()
    if slot is None:
        slot = Slot.unscoped_objects.create(
            workplace=workplace,
            date=day,
            starts_at=spec.starts_at,
            ends_at=spec.ends_at,
            capacity=spec.capacity,
        )
    return slot


def _placement(
    *,
    programme: Programme,
    request: ShadowingRequest,
    spec: DemoPlacement,
    run: MatchingRun,
    workplace: Workplace,
    people: dict[str, Person],
    today: date,
    zone: ZoneInfo,
) -> None:
    place_spec = next(w for w in WORKPLACES if w.key == spec.workplace)
    days = [working_day(today, offset, programme.country) for offset in spec.day_offsets]
    slots = [_slot(workplace, place_spec, day) for day in days]
    actors = {
        "coordinator": people["johan.bergstrom"],
        "host": people[place_spec.contact],
        "shadower": request.requester,
    }
    confirmed_at = run.confirmed_at or timezone.now()
    moments = [confirmed_at + timedelta(days=i, hours=i) for i in range(6)]
    path = PATHS[spec.status]
    if spec.status in Placement.AFTER_VISIT:
        moments[3] = _at(days[-1], 17, zone)
        moments[4] = _at(days[-1] + timedelta(days=2), 10, zone)
    accepted_at = next(
        (moments[i] for i, (s, _who) in enumerate(path) if s == Placement.Status.CONFIRMED), None
    )
    placement = Placement.unscoped_objects.create(
        programme=programme,
        request=request,
        workplace=workplace,
        run=run,
        status=spec.status,
        sequence=1 if spec.status == Placement.Status.CANCELLED else 0,
        confidentiality_accepted_at=accepted_at,
        decline_reason=spec.note if spec.status == Placement.Status.HOST_DECLINED else "",
        cancel_reason=spec.note if spec.status == Placement.Status.CANCELLED else "",
        cancelled_by=request.requester if spec.status == Placement.Status.CANCELLED else None,
    )
    PlacementDay.unscoped_objects.bulk_create(
        [
            PlacementDay(
                placement=placement, slot=slot, date=slot.date, starts_at=slot.starts_at, ends_at=slot.ends_at
            )
            for slot in slots
        ]
    )
    events = [
        PlacementEvent(
            placement=placement,
            from_status="",
            to_status=Placement.Status.PROPOSED,
            actor=actors["coordinator"],
            at=run.created_at,
            note="",
        )
    ]
    previous: str = Placement.Status.PROPOSED
    for (status, who), moment in zip(path, moments, strict=False):
        note = spec.note if status in (Placement.Status.HOST_DECLINED, Placement.Status.CANCELLED) else ""
        events.append(
            PlacementEvent(
                placement=placement,
                from_status=previous,
                to_status=status,
                actor=actors[who],
                at=moment,
                note=note,
            )
        )
        previous = status
    PlacementEvent.unscoped_objects.bulk_create(events)
    if spec.reflection is not None:
        learned, used, shared = spec.reflection
        Reflection.unscoped_objects.create(
            placement=placement, learned=learned, how_used=used, how_shared=shared, submitted_at=moments[4]
        )
    if spec.feedback:
        HostFeedback.unscoped_objects.create(
            placement=placement, feedback=spec.feedback, author=actors["host"], submitted_at=moments[3]
        )
    if spec.status in Placement.AFTER_VISIT:
        # What the visit cost beyond the staff time: the visitor's travel, as a coordinator records it.
        PlacementCost.unscoped_objects.create(
            programme=programme,
            placement=placement,
            kind=PlacementCost.Kind.TRAVEL,
            amount=Decimal("260.00"),
            note="Skånetrafiken, tur och retur",
            created_by=actors["coordinator"],
        )


def _past_run(programme: Programme, people: dict[str, Person], today: date, zone: ZoneInfo) -> MatchingRun:
    """The match confirmed three weeks before the first run; found again by its creator and status."""
    coordinator = people["johan.bergstrom"]
    run = (
        MatchingRun.unscoped_objects.filter(
            programme=programme, created_by=coordinator, status=MatchingRun.Status.CONFIRMED
        )
        .order_by("pk")
        .first()
    )
    if run is None:
        when = _at(today - timedelta(days=21), 10, zone)
        run = MatchingRun.unscoped_objects.create(
            programme=programme,
            created_by=coordinator,
            status=MatchingRun.Status.CONFIRMED,
            fairness_weight=1.0,
            objective=7268.0,
            bound=7290.5,
            gap=0.0031,
            placed=7,
            requests_considered=8,
            greedy_placed=6,
            method="LP-relaxation + avrundning (HiGHS)",
            seconds=0.42,
            confirmed_by=coordinator,
            confirmed_at=when + timedelta(hours=1),
        )
        # created_at is set on insert; the demo run lies in the past.
        MatchingRun.unscoped_objects.filter(pk=run.pk).update(created_at=when)
        run.created_at = when
    return run


def _requests(
    programme: Programme,
    people: dict[str, Person],
    topics: dict[str, Topic],
    workplaces: dict[str, Workplace],
    today: date,
    zone: ZoneInfo,
) -> None:
    organisations = {
        o.name: o for o in Organisation.unscoped_objects.filter(participations__programme=programme)
    }
    run = _past_run(programme, people, today, zone)
    made: dict[str, ShadowingRequest] = {}
    created_now: set[str] = set()
    now = timezone.now()
    for spec in REQUESTS:
        requester = people[spec.requester]
        existing = ShadowingRequest.unscoped_objects.filter(
            programme=programme, requester=requester, learning_goals=spec.goals
        ).first()
        if existing is not None:
            made[spec.requester] = existing
            continue
        submitted = now - timedelta(days=spec.submitted_days_ago)
        # Withdrawn before a decision, or after an approved request was placed and then cancelled.
        decided = spec.status != ShadowingRequest.Status.PENDING_APPROVAL and not (
            spec.status == ShadowingRequest.Status.WITHDRAWN and not spec.placement
        )
        manager = requester.line_manager
        request = ShadowingRequest.unscoped_objects.create(
            programme=programme,
            requester=requester,
            organisation=requester.organisation,
            learning_goals=spec.goals,
            days=spec.days,
            consecutive=spec.consecutive,
            languages=list(spec.languages),
            status=spec.status,
            approved_by=manager if decided else None,
            decided_at=submitted + timedelta(days=1) if decided else None,
            decision_note=spec.note,
            submitted_at=submitted,
            expires_at=(now - timedelta(days=18))
            if spec.status == ShadowingRequest.Status.EXPIRED
            else submitted + timedelta(days=182),
            unplaced_code=spec.unplaced_code,
        )
        request.topics.set([topics[name] for name in spec.topics])
        AvailabilityWindow.unscoped_objects.bulk_create(
            [
                AvailabilityWindow(
                    request=request, starts_on=today + timedelta(days=a), ends_on=today + timedelta(days=b)
                )
                for a, b in spec.windows
            ]
        )
        Preference.unscoped_objects.bulk_create(
            [
                Preference(
                    request=request,
                    rank=rank,
                    workplace=workplaces.get(wish),
                    organisation=None if wish in workplaces else organisations[wish],
                )
                for rank, wish in enumerate(spec.preferences, start=1)
            ]
        )
        if spec.placement is not None:
            _placement(
                programme=programme,
                request=request,
                spec=spec.placement,
                run=run,
                workplace=workplaces[spec.placement.workplace],
                people=people,
                today=today,
                zone=zone,
            )
        made[spec.requester] = request
        created_now.add(spec.requester)
    # Reciprocal pairs point at each other.
    for spec in REQUESTS:
        if spec.partner and spec.requester in created_now:
            ShadowingRequest.unscoped_objects.filter(pk=made[spec.requester].pk).update(
                partner=made[spec.partner]
            )


def _recount_bookings(programme: Programme) -> None:
    """``Slot.booked`` = the placement days that hold a seat; written only where it differs."""
    slots = Slot.unscoped_objects.filter(workplace__programme=programme).annotate(
        holding=Count(
            "placement_days", filter=Q(placement_days__placement__status__in=Placement.SEAT_HOLDING)
        )
    )
    for slot in slots:
        if slot.booked != slot.holding:
            Slot.unscoped_objects.filter(pk=slot.pk).update(booked=slot.holding)


def seed_shadowing() -> list[tuple[str, str]]:
    programme = malmo()
    zone = ZoneInfo(programme.time_zone)
    # Dates are anchored to the first run; a second run finds everything by its natural key.
    today = timezone.localdate(timezone=zone)
    people = _people(programme)
    topics = _topics(programme)
    workplaces = _workplaces(programme, people, topics, today)
    _requests(programme, people, topics, workplaces, today, zone)
    _recount_bookings(programme)
    return []
