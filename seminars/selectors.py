"""Reads of courses, rounds, enrolments, waiting lists, demand and costs, with the joins each list needs.

Every function runs inside the tenant scope of the request (or ``unscoped()`` in periodic jobs) and adds the
within-programme rules on top. The lists use a fixed number of queries whatever their length.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Max, Prefetch, Q, QuerySet

from organisations.models import (
    Funder,
    Membership,
    Organisation,
    Participation,
    Person,
    Programme,
    RoleAssignment,
)
from organisations.permissions import Actor
from seminars import permissions
from seminars.models import (
    Attendance,
    Completion,
    Course,
    DiscussionGroup,
    DiscussionGroupMember,
    Enrolment,
    OrganisationQuota,
    Round,
    RoundCost,
    Session,
)

# --- Courses and rounds ---------------------------------------------------------------------------------


def courses_for(programme: Programme) -> QuerySet[Course]:
    return (
        Course.objects.filter(programme=programme)
        .select_related("programme")
        .prefetch_related(
            Prefetch("providers", queryset=Organisation.objects.order_by("name")),
            "target_roles",
            Prefetch("prerequisites", queryset=Course.objects.order_by("title")),
        )
        .order_by("title")
    )


def rounds_for(programme: Programme) -> QuerySet[Round]:
    return (
        Round.objects.filter(course__programme=programme)
        .select_related("course__programme")
        .annotate(
            waiting_count=Count("enrolments", filter=Q(enrolments__status=Enrolment.Status.WAITING)),
            confirmed_count=Count("enrolments", filter=Q(enrolments__status=Enrolment.Status.CONFIRMED)),
        )
        .order_by("starts_at", "pk")
    )


def round_with_course(round_id: int) -> Round | None:
    return (
        Round.objects.select_related("course__programme")
        .prefetch_related(
            Prefetch("course__providers", queryset=Organisation.objects.order_by("name")),
            "course__target_roles",
            Prefetch("course__prerequisites", queryset=Course.objects.order_by("title")),
            Prefetch("sessions", queryset=Session.objects.order_by("starts_at", "pk")),
            Prefetch("quotas", queryset=OrganisationQuota.objects.select_related("organisation")),
        )
        .filter(pk=round_id)
        .first()
    )


@dataclass(frozen=True)
class CourseRules:
    target_role_ids: frozenset[int]
    prerequisite_ids: frozenset[int]
    prerequisite_titles: dict[int, str]
    provider_ids: frozenset[int]


def course_rules(course: Course) -> CourseRules:
    """The course's target roles, prerequisites and providers (from prefetched relations when present)."""
    prerequisites = list(course.prerequisites.all())
    return CourseRules(
        target_role_ids=frozenset(r.pk for r in course.target_roles.all()),
        prerequisite_ids=frozenset(c.pk for c in prerequisites),
        prerequisite_titles={c.pk: c.title for c in prerequisites},
        provider_ids=frozenset(o.pk for o in course.providers.all()),
    )


# --- Eligibility ----------------------------------------------------------------------------------------


def enrolment_context(person: Person, programme: Programme) -> permissions.EnrolmentContext:
    """Everything the eligibility rule needs about one person in one programme (four queries)."""
    membership = (
        Membership.objects.filter(person=person, programme=programme, is_active=True)
        .prefetch_related(Prefetch("role_assignments", queryset=RoleAssignment.objects.all()))
        .first()
    )
    roles = frozenset(ra.role for ra in membership.role_assignments.all()) if membership else frozenset()
    participates = Participation.objects.filter(
        programme=programme, organisation_id=person.organisation_id
    ).exists()
    completed = frozenset(
        Completion.objects.filter(person=person, course__programme=programme).values_list(
            "course_id", flat=True
        )
    )
    active = frozenset(
        Enrolment.objects.filter(
            person=person, status__in=Enrolment.ACTIVE, round__course__programme=programme
        ).values_list("round__course_id", flat=True)
    )
    return permissions.EnrolmentContext(
        person=person,
        programme_id=programme.pk,
        roles=roles,
        work_role_id=membership.work_role_id if membership else None,
        organisation_participates=participates,
        completed_course_ids=completed,
        active_course_ids=active,
    )


@dataclass
class CatalogueRound:
    round: Round
    problems: list[str]
    is_target: bool
    my_enrolment: Enrolment | None
    seats_free: int


@dataclass
class CatalogueCourse:
    course: Course
    rounds: list[CatalogueRound]
    fits_my_role: bool
    completed: bool


def catalogue(person: Person, programme: Programme, now: datetime) -> list[CatalogueCourse]:
    """Courses with rounds that have not started yet, and for each round whether the person may enrol."""
    context = enrolment_context(person, programme)
    upcoming = (
        Round.objects.filter(status=Round.Status.PUBLISHED)
        .filter(Q(starts_at__gt=now) | Q(starts_at__isnull=True))
        .order_by("starts_at", "pk")
    )
    courses = list(
        courses_for(programme)
        .filter(is_archived=False)
        .prefetch_related(
            Prefetch(
                "rounds",
                queryset=upcoming.prefetch_related(
                    Prefetch("sessions", queryset=Session.objects.order_by("starts_at", "pk"))
                ),
                to_attr="upcoming_rounds",
            )
        )
    )
    mine = {
        e.round_id: e
        for e in Enrolment.objects.filter(
            person=person, status__in=Enrolment.ACTIVE, round__course__programme=programme
        )
    }
    result = []
    for course in courses:
        rules = course_rules(course)
        is_target = permissions.is_target_role(context.work_role_id, rules.target_role_ids)
        entries = []
        for round_ in course.upcoming_rounds:
            round_.course = course
            own = mine.get(round_.pk)
            problems = (
                []
                if own
                else permissions.enrolment_problems(
                    context,
                    round_,
                    target_role_ids=rules.target_role_ids,
                    prerequisite_ids=rules.prerequisite_ids,
                    prerequisite_titles=rules.prerequisite_titles,
                    now=now,
                )
            )
            entries.append(CatalogueRound(round_, problems, is_target, own, round_.seats_free))
        result.append(CatalogueCourse(course, entries, is_target, course.pk in context.completed_course_ids))
    return result


# --- Enrolments -----------------------------------------------------------------------------------------


def enrolments_visible_to(actor: Actor, programme_ids: Iterable[int]) -> QuerySet[Enrolment]:
    """Own enrolments; every enrolment for coordinators; the course's for its providers; reports' for their
    line manager."""
    programme_ids = set(programme_ids)
    if actor.person is None:
        return Enrolment.objects.none()
    managed = [pid for pid in programme_ids if permissions.can_manage(actor, pid)]
    providing = [pid for pid in programme_ids if actor.has_role(pid, "course_provider")]
    condition = Q(person=actor.person) | Q(person__line_manager=actor.person)
    if managed:
        condition |= Q(round__course__programme_id__in=managed)
    if providing and actor.organisation_id is not None:
        provided = Course.objects.filter(programme_id__in=providing, providers=actor.organisation_id).values(
            "pk"
        )
        condition |= Q(round__course__in=provided)
    return Enrolment.objects.filter(condition)


def with_enrolment_joins(queryset: QuerySet[Enrolment]) -> QuerySet[Enrolment]:
    return queryset.select_related(
        "round__course__programme",
        "person__user",
        "person__organisation",
        "organisation",
        "approved_by__user",
    )


def queue_positions(round_ids: Iterable[int]) -> dict[int, int]:
    """Each waiting enrolment's place in its round's queue (1 = next), in one query."""
    positions: dict[int, int] = {}
    counters: Counter[int] = Counter()
    rows = (
        Enrolment.objects.filter(round_id__in=list(round_ids), status=Enrolment.Status.WAITING)
        .order_by("round_id", "-priority", "requested_at", "pk")
        .values_list("pk", "round_id")
    )
    for pk, round_id in rows:
        counters[round_id] += 1
        positions[pk] = counters[round_id]
    return positions


def queue_position(enrolment: Enrolment) -> int:
    """One waiting enrolment's place in its queue, counted with the queue index (one query)."""
    ahead = Enrolment.objects.filter(round_id=enrolment.round_id, status=Enrolment.Status.WAITING).filter(
        Q(priority__gt=enrolment.priority)
        | Q(priority=enrolment.priority, requested_at__lt=enrolment.requested_at)
        | Q(priority=enrolment.priority, requested_at=enrolment.requested_at, pk__lt=enrolment.pk)
    )
    return ahead.count() + 1


def my_enrolments(person: Person) -> QuerySet[Enrolment]:
    return (
        with_enrolment_joins(Enrolment.objects.filter(person=person))
        .prefetch_related(Prefetch("round__sessions", queryset=Session.objects.order_by("starts_at", "pk")))
        .order_by("-requested_at", "-pk")
    )


def approvals_for(actor: Actor, programme: Programme) -> QuerySet[Enrolment]:
    """Enrolments waiting for this person's approval: their reports', or (coordinators) those of people who
    have no line manager."""
    if actor.person is None:
        return Enrolment.objects.none()
    condition = Q(person__line_manager=actor.person)
    if permissions.can_manage(actor, programme):
        condition |= Q(person__line_manager__isnull=True)
    return with_enrolment_joins(
        Enrolment.objects.filter(
            condition,
            approval=Enrolment.Approval.PENDING,
            status__in=Enrolment.ACTIVE,
            round__course__programme=programme,
        )
    ).order_by("round__starts_at", "requested_at", "pk")


def participants(round_: Round) -> QuerySet[Enrolment]:
    return with_enrolment_joins(Enrolment.objects.filter(round=round_, status__in=Enrolment.ACTIVE)).order_by(
        "status", "-priority", "requested_at", "pk"
    )


def confirmed_people(round_: Round) -> list[Person]:
    return [
        e.person
        for e in Enrolment.objects.filter(round=round_, status=Enrolment.Status.CONFIRMED)
        .select_related("person__user")
        .order_by("pk")
    ]


# --- Attendance -----------------------------------------------------------------------------------------


@dataclass
class AttendanceRow:
    enrolment: Enrolment
    marks: list[tuple[Session, bool | None]]
    attended: int
    completion: Completion | None


def attendance_sheet(round_: Round) -> tuple[list[Session], list[AttendanceRow]]:
    """The confirmed participants × sessions with what has been marked, and completions (four queries)."""
    sessions = list(Session.objects.filter(round=round_).order_by("starts_at", "pk"))
    enrolments = list(
        Enrolment.objects.filter(round=round_, status=Enrolment.Status.CONFIRMED)
        .select_related("person__user", "organisation")
        .order_by("person__user__last_name", "person__user__first_name", "pk")
    )
    marks = {
        (a.enrolment_id, a.session_id): a.present
        for a in Attendance.objects.filter(session__round=round_).only(
            "enrolment_id", "session_id", "present"
        )
    }
    completions = {
        c.person_id: c
        for c in Completion.objects.filter(
            course_id=round_.course_id, person__in=[e.person_id for e in enrolments]
        )
    }
    rows = []
    for enrolment in enrolments:
        row_marks = [(s, marks.get((enrolment.pk, s.pk))) for s in sessions]
        rows.append(
            AttendanceRow(
                enrolment, row_marks, sum(1 for _, m in row_marks if m), completions.get(enrolment.person_id)
            )
        )
    return sessions, rows


def completions_visible_to(actor: Actor, programme_ids: Iterable[int]) -> QuerySet[Completion]:
    programme_ids = set(programme_ids)
    if actor.person is None:
        return Completion.objects.none()
    managed = [pid for pid in programme_ids if permissions.can_manage(actor, pid)]
    providing = [pid for pid in programme_ids if actor.has_role(pid, "course_provider")]
    condition = Q(person=actor.person) | Q(person__line_manager=actor.person)
    if managed:
        condition |= Q(course__programme_id__in=managed)
    if providing and actor.organisation_id is not None:
        condition |= Q(
            course__in=Course.objects.filter(
                programme_id__in=providing, providers=actor.organisation_id
            ).values("pk")
        )
    return Completion.objects.filter(condition)


def provider_rounds(actor: Actor, programme: Programme) -> QuerySet[Round]:
    """Rounds of the courses the actor's organisation gives (all rounds for coordinators)."""
    queryset = rounds_for(programme).exclude(status=Round.Status.DRAFT)
    if permissions.can_manage(actor, programme):
        return queryset
    if actor.organisation_id is None or not actor.has_role(programme, "course_provider"):
        return queryset.none()
    return queryset.filter(course__providers=actor.organisation_id)


# --- Groups ---------------------------------------------------------------------------------------------


def groups_of(round_: Round) -> list[DiscussionGroup]:
    members = DiscussionGroupMember.objects.select_related(
        "enrolment__person__user", "enrolment__organisation"
    )
    return list(
        DiscussionGroup.objects.filter(round=round_)
        .prefetch_related(
            Prefetch(
                "members",
                queryset=members.order_by(
                    "enrolment__organisation__name", "enrolment__person__user__last_name"
                ),
            )
        )
        .order_by("number")
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
    confirmed = list(
        Enrolment.objects.filter(round_id__in=round_ids, status=Enrolment.Status.CONFIRMED).values_list(
            "pk", "round_id", "organisation_id", "person_id"
        )
    )
    organisation_of = {pk: (org, person) for pk, _round, org, person in confirmed}
    confirmed_by_round: dict[int, list[int]] = defaultdict(list)
    for pk, round_id, _org, _person in confirmed:
        confirmed_by_round[round_id].append(pk)
    marked: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for session_id, enrolment_id, present in Attendance.objects.filter(
        session__round_id__in=round_ids
    ).values_list("session_id", "enrolment_id", "present"):
        marked[session_id].append((enrolment_id, present))
    hours_by_round: dict[int, Decimal] = defaultdict(Decimal)
    hours_by_org: dict[int, Decimal] = defaultdict(Decimal)
    people_by_org: dict[int, set[int]] = defaultdict(set)
    for session in sessions:
        if session.pk in marked:
            attending = [eid for eid, was_present in marked[session.pk] if was_present]
        else:
            attending = confirmed_by_round.get(session.round_id, [])
        for enrolment_id in attending:
            hours_by_round[session.round_id] += session.hours
            if enrolment_id in organisation_of:
                org, person_id = organisation_of[enrolment_id]
                hours_by_org[org] += session.hours
                people_by_org[org].add(person_id)
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
                participants=len(confirmed_by_round.get(round_.pk, [])),
                staff_hours=hours_by_round[round_.pk].quantize(CENT),
            )
        )
    total_cost = sum(totals.values(), Decimal("0.00"))
    funders = _funder_shares(
        total_cost, list(Funder.objects.filter(programme=programme).order_by("-share_percent", "name"))
    )
    unfunded = max(Decimal("0.00"), total_cost - sum((f.amount for f in funders), Decimal("0.00")))
    names = dict(Organisation.objects.filter(pk__in=list(hours_by_org)).values_list("pk", "name"))
    by_org = sorted(
        (
            OrganisationHours(names.get(org, "?"), len(people_by_org[org]), hours.quantize(CENT))
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


def active_member_ids(programme_id: int, person_ids: Iterable[int]) -> set[int]:
    return set(
        Membership.objects.filter(
            programme_id=programme_id, person_id__in=list(person_ids), is_active=True
        ).values_list("person_id", flat=True)
    )
