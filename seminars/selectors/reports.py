"""Reads for coordinators' overviews: waiting-list demand, unfilled quotas, and the cost and financing
report (each a fixed number of queries)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, F, Max, OuterRef, Q

from organisations.models import (
    Funder,
    Programme,
)
from seminars.models import (
    Attendance,
    Course,
    Enrolment,
    OrganisationQuota,
    Round,
    RoundCost,
    Session,
)

# --- Waiting-list demand --------------------------------------------------------------------------------


@dataclass
class CourseDemand:
    course: Course
    waiting: int = 0
    offered: int = 0
    target_role_waiting: int = 0
    free_seats: int = 0
    upcoming_rounds: int = 0
    typical_capacity: int = 0
    by_organisation: list[tuple[str, int]] = field(default_factory=list)

    @property
    def unmet(self) -> int:
        """People queuing beyond the seats still free in the course's upcoming rounds."""
        return max(0, self.waiting - self.free_seats)

    @property
    def needs_round(self) -> bool:
        return self.unmet > 0

    @property
    def suggested_rounds(self) -> int:
        if not self.unmet:
            return 0
        return math.ceil(self.unmet / max(1, self.typical_capacity))

    def as_dict(self) -> dict[str, Any]:
        return {
            "course": self.course.pk,
            "course_title": self.course.title,
            "waiting": self.waiting,
            "offered": self.offered,
            "target_role_waiting": self.target_role_waiting,
            "free_seats": self.free_seats,
            "upcoming_rounds": self.upcoming_rounds,
            "unmet": self.unmet,
            "needs_round": self.needs_round,
            "suggested_rounds": self.suggested_rounds,
            "by_organisation": [{"organisation": n, "waiting": c} for n, c in self.by_organisation],
        }


@dataclass(frozen=True)
class UnfilledQuota:
    round: Round
    organisation_name: str
    reserved: int
    taken: int

    @property
    def missing(self) -> int:
        return self.reserved - self.taken


def unfilled_quotas(programme: Programme, now: datetime, limit: int = 8) -> list[UnfilledQuota]:
    """Seats reserved for an organisation on a round that has not started, which its staff have not yet
    taken (one query): the coordinator's cue to remind that organisation before the seats are released."""
    quotas = (
        OrganisationQuota.objects.filter(
            round__course__programme=programme,
            round__status=Round.Status.PUBLISHED,
            round__reserved_seats_released_at__isnull=True,
            reserved__gt=0,
        )
        .filter(Q(round__starts_at__gt=now) | Q(round__starts_at__isnull=True))
        .annotate(
            taken=Count(
                "round__enrolments",
                filter=Q(
                    round__enrolments__organisation_id=F("organisation_id"),
                    round__enrolments__status__in=Enrolment.SEAT_HOLDING,
                ),
            )
        )
        .filter(taken__lt=F("reserved"))
        .select_related("round__course", "organisation")
        .order_by("round__starts_at", "round_id", "organisation__name")
    )
    return [
        UnfilledQuota(
            round=q.round, organisation_name=q.organisation.name, reserved=q.reserved, taken=q.taken
        )
        for q in quotas[:limit]
    ]


def demand(programme: Programme, now: datetime) -> list[CourseDemand]:
    """Per course: who is queuing for rounds that have not started, against the seats still free (five
    queries). A course whose queue exceeds its free seats needs another round."""
    courses = {
        c.pk: c for c in Course.objects.filter(programme=programme, is_archived=False).order_by("title")
    }
    result = {pk: CourseDemand(course=c) for pk, c in courses.items()}
    upcoming = Round.objects.filter(course__programme=programme, status=Round.Status.PUBLISHED).filter(
        Q(starts_at__gt=now) | Q(starts_at__isnull=True)
    )
    for course_id, capacity, taken in upcoming.values_list("course_id", "capacity", "seats_taken"):
        if course_id in result:
            result[course_id].free_seats += max(0, capacity - taken)
            result[course_id].upcoming_rounds += 1
    for course_id, largest in (
        Round.objects.filter(course__programme=programme)
        .values("course_id")
        .annotate(largest=Max("capacity"))
        .values_list("course_id", "largest")
    ):
        if course_id in result:
            result[course_id].typical_capacity = largest
    waiting_rows = Enrolment.objects.filter(
        round__in=upcoming, status__in=[Enrolment.Status.WAITING, Enrolment.Status.OFFERED]
    ).values_list("round__course_id", "organisation__name", "status", "priority")
    per_org: dict[int, Counter[str]] = defaultdict(Counter)
    for course_id, org_name, status, priority in waiting_rows:
        entry = result.get(course_id)
        if entry is None:
            continue
        if status == Enrolment.Status.WAITING:
            entry.waiting += 1
            per_org[course_id][org_name] += 1
            if priority > 0:
                entry.target_role_waiting += 1
        else:
            entry.offered += 1
    for course_id, counts in per_org.items():
        result[course_id].by_organisation = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return sorted(result.values(), key=lambda d: (-d.unmet, -d.waiting, d.course.title))


# --- Costs and financing --------------------------------------------------------------------------------


@dataclass
class RoundFigures:
    round: Round
    costs: dict[str, Decimal]
    total: Decimal
    participants: int
    staff_hours: Decimal


@dataclass
class FunderShare:
    name: str
    share_percent: Decimal
    amount: Decimal


@dataclass
class OrganisationHours:
    name: str
    participants: int
    hours: Decimal


@dataclass
class CostReport:
    programme: Programme
    start: date
    end: date
    rounds: list[RoundFigures]
    totals_by_kind: dict[str, Decimal]
    total_cost: Decimal
    funders: list[FunderShare]
    unfunded: Decimal
    staff_hours: Decimal
    hours_by_organisation: list[OrganisationHours]

    def as_dict(self) -> dict[str, Any]:
        """Plain figures (money as strings with two decimals) for the API and the report registry."""
        return {
            "programme": self.programme.pk,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "rounds": [
                {
                    "round": f.round.pk,
                    "course": f.round.course.title,
                    "round_label": f.round.label,
                    "starts_at": f.round.starts_at.isoformat() if f.round.starts_at else None,
                    "costs": {kind: str(amount) for kind, amount in f.costs.items()},
                    "total": str(f.total),
                    "participants": f.participants,
                    "staff_hours": str(f.staff_hours),
                }
                for f in self.rounds
            ],
            "totals_by_kind": {kind: str(amount) for kind, amount in self.totals_by_kind.items()},
            "total_cost": str(self.total_cost),
            "funders": [
                {"name": f.name, "share_percent": str(f.share_percent), "amount": str(f.amount)}
                for f in self.funders
            ],
            "unfunded": str(self.unfunded),
            "staff_hours": str(self.staff_hours),
            "hours_by_organisation": [
                {"organisation": h.name, "participants": h.participants, "hours": str(h.hours)}
                for h in self.hours_by_organisation
            ],
        }


CENT = Decimal("0.01")


def _period_bounds(programme: Programme, start: date, end: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(programme.time_zone)
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end, time.max, tzinfo=zone),
    )


def _funder_shares(total: Decimal, funders: list[Funder]) -> list[FunderShare]:
    """Each funder's share of the total in whole cents, by the largest-remainder method, so that shares of
    100 % add up to the total exactly."""
    exact = [total * f.share_percent / 100 for f in funders]
    amounts = [value.quantize(CENT, rounding=ROUND_DOWN) for value in exact]
    target = (total * sum((f.share_percent for f in funders), Decimal("0")) / 100).quantize(CENT)
    leftover = int((target - sum(amounts, Decimal("0"))) / CENT)
    by_remainder = sorted(range(len(funders)), key=lambda i: (-(exact[i] - amounts[i]), i))
    for i in by_remainder[: max(0, leftover)]:
        amounts[i] += CENT
    return [FunderShare(f.name, f.share_percent, amount) for f, amount in zip(funders, amounts, strict=True)]


def cost_report(programme: Programme, start: date, end: date) -> CostReport:
    """Costs, funders' shares and contributed staff hours of the rounds that start within the period.

    A round belongs to the period of its first session. Staff hours are, per session, the participants
    marked present times the session's length; where no attendance has been marked for a session (a future
    one, or one the provider has not marked), the confirmed participants count. Seven queries.
    """
    since, until = _period_bounds(programme, start, end)
    rounds = list(
        Round.objects.filter(course__programme=programme, starts_at__gte=since, starts_at__lte=until)
        .select_related("course")
        .order_by("starts_at", "pk")
    )
    round_ids = [r.pk for r in rounds]
    kinds = [k for k, _label in RoundCost.Kind.choices]
    costs: dict[int, dict[str, Decimal]] = {r.pk: {k: Decimal("0.00") for k in kinds} for r in rounds}
    for round_id, kind, amount in RoundCost.objects.filter(round_id__in=round_ids).values_list(
        "round_id", "kind", "amount"
    ):
        costs[round_id][kind] += amount
    sessions = list(Session.objects.filter(round_id__in=round_ids).order_by("starts_at"))
    # Counted in the database per round, session and organisation: reading every enrolment of a busy year
    # (50,000 rows) took over a second.
    confirmed: dict[int, Counter[int]] = defaultdict(Counter)
    for round_id, organisation_id, n in (
        Enrolment.objects.filter(round_id__in=round_ids, status=Enrolment.Status.CONFIRMED)
        .values_list("round_id", "organisation_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        confirmed[round_id][organisation_id] += n
    # A session is marked when it has any attendance; its hours go to those present, and to their
    # organisations for the confirmed ones.
    marked: Counter[int] = Counter()
    present_confirmed: dict[int, Counter[int]] = defaultdict(Counter)
    for session_id, organisation_id, status, present in (
        Attendance.objects.filter(session__round_id__in=round_ids)
        .values_list("session_id", "enrolment__organisation_id", "enrolment__status")
        .annotate(present=Count("pk", filter=Q(present=True)))
        .order_by()
    ):
        marked[session_id] += present
        if status == Enrolment.Status.CONFIRMED and present:
            present_confirmed[session_id][organisation_id] += present
    hours_by_round: dict[int, Decimal] = defaultdict(Decimal)
    hours_by_org: dict[int, Decimal] = defaultdict(Decimal)
    for session in sessions:
        if session.pk in marked:
            hours_by_round[session.round_id] += session.hours * marked[session.pk]
            attending = present_confirmed.get(session.pk, Counter())
        else:
            attending = confirmed.get(session.round_id, Counter())
            hours_by_round[session.round_id] += session.hours * sum(attending.values())
        for organisation_id, n in attending.items():
            hours_by_org[organisation_id] += session.hours * n
    # The people behind those hours: confirmed, and present at a marked session or booked on a round with
    # a session nobody marked.
    people = (
        Enrolment.objects.filter(round_id__in=round_ids, status=Enrolment.Status.CONFIRMED)
        .filter(
            Exists(Session.objects.filter(round_id=OuterRef("round_id"), attendances__isnull=True))
            | Exists(
                Attendance.objects.filter(
                    enrolment_id=OuterRef("pk"), present=True, session__round_id__in=round_ids
                )
            )
        )
        .values_list("organisation_id", "organisation__name")
        .annotate(n=Count("person_id", distinct=True))
        .order_by()
    )
    people_by_org = {organisation_id: (name, n) for organisation_id, name, n in people}
    figures = []
    totals = {k: Decimal("0.00") for k in kinds}
    for round_ in rounds:
        for kind, amount in costs[round_.pk].items():
            totals[kind] += amount
        figures.append(
            RoundFigures(
                round=round_,
                costs=costs[round_.pk],
                total=sum(costs[round_.pk].values(), Decimal("0.00")),
                participants=sum(confirmed.get(round_.pk, Counter()).values()),
                staff_hours=hours_by_round[round_.pk].quantize(CENT),
            )
        )
    total_cost = sum(totals.values(), Decimal("0.00"))
    funders = _funder_shares(
        total_cost, list(Funder.objects.filter(programme=programme).order_by("-share_percent", "name"))
    )
    unfunded = max(Decimal("0.00"), total_cost - sum((f.amount for f in funders), Decimal("0.00")))
    by_org = sorted(
        (
            OrganisationHours(
                people_by_org.get(org, ("?", 0))[0] or "?",
                people_by_org.get(org, ("?", 0))[1],
                hours.quantize(CENT),
            )
            for org, hours in hours_by_org.items()
        ),
        key=lambda h: (-h.hours, h.name),
    )
    return CostReport(
        programme=programme,
        start=start,
        end=end,
        rounds=figures,
        totals_by_kind=totals,
        total_cost=total_cost,
        funders=funders,
        unfunded=unfunded,
        staff_hours=sum(hours_by_round.values(), Decimal("0")).quantize(CENT),
        hours_by_organisation=by_org,
    )
