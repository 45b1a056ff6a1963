"""Reads of the catalogue: courses and rounds with the joins their pages need, the rules of a course, and
what the eligibility rule needs to know about a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, models
from django.db.models import Count, F, Min, Prefetch, Q, QuerySet, Value

from coordinator.core import content
from coordinator.core.models import ContentVersion
from coordinator.core.prepared import PreparedRows
from organisations.models import (
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
    Completion,
    Course,
    Enrolment,
    OrganisationQuota,
    Round,
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


def course_rules(course: Course, *, with_providers: bool = True) -> CourseRules:
    """The course's target roles, prerequisites and providers (from prefetched relations when present);
    ``with_providers=False`` leaves the providers out (empty) for a caller that decides nothing by them."""
    prerequisites = list(course.prerequisites.all())
    return CourseRules(
        target_role_ids=frozenset(r.pk for r in course.target_roles.all()),
        prerequisite_ids=frozenset(c.pk for c in prerequisites),
        prerequisite_titles={c.pk: c.title for c in prerequisites},
        provider_ids=frozenset(o.pk for o in course.providers.all()) if with_providers else frozenset(),
    )


# --- Eligibility ----------------------------------------------------------------------------------------


def _active_enrolments(person: Person, programme: Programme) -> QuerySet[Enrolment]:
    """The person's bookings in the programme that hold or wait for a seat."""
    return Enrolment.objects.filter(
        person=person, status__in=Enrolment.ACTIVE, round__course__programme=programme
    )


def _membership_facts(
    person: Person, programme: Programme, actor: Actor | None
) -> tuple[frozenset[str], int | None]:
    """The person's platform roles and role at work in the programme: from the actor when it is the
    person's own (no query), else read (two queries)."""
    if actor is not None and actor.person is not None and actor.person.pk == person.pk:
        known = actor.membership_in(programme)
        if known is not None:
            return known.roles, known.work_role_id
        return frozenset(), None
    membership = (
        Membership.objects.filter(person=person, programme=programme, is_active=True)
        .prefetch_related(Prefetch("role_assignments", queryset=RoleAssignment.objects.all()))
        .first()
    )
    if membership is None:
        return frozenset(), None
    return frozenset(ra.role for ra in membership.role_assignments.all()), membership.work_role_id


def enrolment_context(
    person: Person,
    programme: Programme,
    *,
    actor: Actor | None = None,
    active_enrolments: list[Enrolment] | None = None,
) -> permissions.EnrolmentContext:
    """Everything the eligibility rule needs about one person in one programme: three queries when
    ``actor`` is that person's own (their membership and roles are already read), five otherwise; one
    fewer when the caller has already read the person's active enrolments in the programme, with their
    rounds (``active_enrolments``)."""
    roles, work_role_id = _membership_facts(person, programme, actor)
    participates = Participation.objects.filter(
        programme=programme, organisation_id=person.organisation_id
    ).exists()
    completed = frozenset(
        Completion.objects.filter(person=person, course__programme=programme).values_list(
            "course_id", flat=True
        )
    )
    active = (
        frozenset(e.round.course_id for e in active_enrolments)
        if active_enrolments is not None
        else frozenset(_active_enrolments(person, programme).values_list("round__course_id", flat=True))
    )
    return permissions.EnrolmentContext(
        person=person,
        programme_id=programme.pk,
        roles=roles,
        work_role_id=work_role_id,
        organisation_participates=participates,
        completed_course_ids=completed,
        active_course_ids=active,
    )


# What ``course_rules`` (without providers) and ``enrolment_context`` read in five queries, in one: each row
# is (kind, id, title). Every branch is limited to the course's programme, which the caller read within the
# tenant scope, as the scoped managers of those reads limit them to the scope. Plain SQL, because compiling
# five querysets cost more processor time than the database takes to answer them.
_TARGET_ROLE, _PREREQUISITE, _PARTICIPATES, _COMPLETED, _ACTIVE = range(1, 6)
_ACTIVE_PLACEHOLDERS = ", ".join(["%s"] * len(Enrolment.ACTIVE))
_ENROLMENT_FACTS_SQL = f"""
SELECT {_TARGET_ROLE}, tr.workrole_id, NULL FROM seminars_course_target_roles tr
    INNER JOIN organisations_workrole wr ON wr.id = tr.workrole_id
    WHERE tr.course_id = %s AND wr.programme_id = %s
UNION ALL
SELECT {_PREREQUISITE}, c.id, c.title FROM seminars_course_prerequisites p
    INNER JOIN seminars_course c ON c.id = p.to_course_id
    WHERE p.from_course_id = %s AND c.programme_id = %s
UNION ALL
SELECT {_PARTICIPATES}, pa.organisation_id, NULL FROM organisations_participation pa
    WHERE pa.programme_id = %s AND pa.organisation_id = %s
UNION ALL
SELECT {_COMPLETED}, co.course_id, NULL FROM seminars_completion co
    INNER JOIN seminars_course c ON c.id = co.course_id
    WHERE co.person_id = %s AND c.programme_id = %s
UNION ALL
SELECT {_ACTIVE}, r.course_id, NULL FROM seminars_enrolment e
    INNER JOIN seminars_round r ON r.id = e.round_id
    WHERE e.person_id = %s AND e.programme_id = %s AND e.status IN ({_ACTIVE_PLACEHOLDERS})
"""  # noqa: S608 (only the placeholders are formatted in; every value is a parameter)


def enrolment_facts(
    course: Course, person: Person, *, actor: Actor
) -> tuple[CourseRules, permissions.EnrolmentContext]:
    """What an enrolment decides by before it locks the round: the course's target roles and prerequisites
    (``course_rules`` without providers) and the person's facts in its programme (``enrolment_context``).
    One query when ``actor`` is the person's own (their roles are already read), three otherwise."""
    programme = course.programme
    roles, work_role_id = _membership_facts(person, programme, actor)
    active: list[int | str | None] = [str(status) for status in Enrolment.ACTIVE]
    params: list[int | str | None] = [
        *[course.pk, programme.pk],
        *[course.pk, programme.pk],
        *[programme.pk, person.organisation_id],
        *[person.pk, programme.pk],
        *[person.pk, programme.pk, *active],
    ]
    rows: dict[int, list[tuple[int, str | None]]] = {kind: [] for kind in range(1, 6)}
    with connection.cursor() as cursor:
        cursor.execute(_ENROLMENT_FACTS_SQL, params)
        for kind, pk, title in cursor.fetchall():
            rows[kind].append((pk, title))
    rules = CourseRules(
        target_role_ids=frozenset(pk for pk, _title in rows[_TARGET_ROLE]),
        prerequisite_ids=frozenset(pk for pk, _title in rows[_PREREQUISITE]),
        prerequisite_titles={pk: str(title) for pk, title in rows[_PREREQUISITE]},
        provider_ids=frozenset(),
    )
    context = permissions.EnrolmentContext(
        person=person,
        programme_id=programme.pk,
        roles=roles,
        work_role_id=work_role_id,
        organisation_participates=bool(rows[_PARTICIPATES]),
        completed_course_ids=frozenset(pk for pk, _title in rows[_COMPLETED]),
        active_course_ids=frozenset(pk for pk, _title in rows[_ACTIVE]),
    )
    return rules, context


@dataclass(frozen=True)
class CatalogueRound:
    """A round as every viewer sees it: what the eligibility rule reads (``round.course`` holds only its
    key and programme) and its seats at the time it was read."""

    round: Round


@dataclass(frozen=True)
class CatalogueCourse:
    """A course of the catalogue as every viewer sees it, with its rounds still to start."""

    course: Course
    rules: CourseRules
    has_target_roles: bool
    rounds: tuple[CatalogueRound, ...]


def catalogue_content(programme: Programme, now: datetime) -> list[CatalogueCourse]:
    """The catalogue's courses (not archived, by title) with their published rounds that have not started
    by ``now``, the same for every viewer: four queries."""
    # A round's line shows its first session's start and how many sessions it has: read with the round
    # (``first_session_at``, ``session_count``) rather than every session.
    upcoming = (
        Round.objects.filter(status=Round.Status.PUBLISHED)
        .filter(Q(starts_at__gt=now) | Q(starts_at__isnull=True))
        .annotate(first_session_at=Min("sessions__starts_at"), session_count=Count("sessions"))
        .order_by("starts_at", "pk")
    )
    courses = list(
        courses_for(programme)
        .filter(is_archived=False)
        .prefetch_related(Prefetch("rounds", queryset=upcoming, to_attr="upcoming_rounds"))
    )
    result = []
    for course in courses:
        rules = course_rules(course)
        # What the eligibility rule reads of a round's course: its key and programme.
        key = Course(pk=course.pk, programme_id=course.programme_id)
        rounds = []
        for round_ in course.upcoming_rounds:
            round_.course = key
            rounds.append(CatalogueRound(round_))
        result.append(CatalogueCourse(course, rules, bool(rules.target_role_ids), tuple(rounds)))
    return result


@dataclass(frozen=True)
class CatalogueViewer:
    """What one viewer sees of their own in the catalogue, and what changes with every booking."""

    version: int
    seats_taken: dict[int, int]
    bookings: dict[int, tuple[int, str]]  # round -> (course, status)
    completed_course_ids: frozenset[int]
    organisation_participates: bool


def _viewer_rows(
    programme_id: int, person_id: int, organisation_id: int, now: datetime
) -> QuerySet[ContentVersion, content.VersionRow]:
    text, number = models.CharField(), models.BigIntegerField()
    seats = (
        Round.objects.filter(course__programme_id=programme_id, status=Round.Status.PUBLISHED)
        .filter(Q(starts_at__gt=now) | Q(starts_at__isnull=True))
        .values_list(Value("seats", text), F("pk"), F("seats_taken"), Value("", text))
        .order_by()
    )
    bookings = (
        Enrolment.objects.filter(
            person_id=person_id, status__in=Enrolment.ACTIVE, round__course__programme_id=programme_id
        )
        .values_list(Value("booking", text), F("round_id"), F("round__course_id"), F("status"))
        .order_by()
    )
    completions = (
        Completion.objects.filter(person_id=person_id, course__programme_id=programme_id)
        .values_list(Value("completed", text), F("course_id"), Value(0, number), Value("", text))
        .order_by()
    )
    participation = (
        Participation.objects.filter(programme_id=programme_id, organisation_id=organisation_id)
        .values_list(Value("participates", text), F("pk"), Value(0, number), Value("", text))
        .order_by()
    )
    return content.version_rows(programme_id).union(seats, bookings, completions, participation, all=True)


# Compiled once per connection: building and compiling the five-part union was most of the page's own
# processor time. Every branch names the programme (read in scope by the page) itself.
_VIEWER_ROWS: PreparedRows[ContentVersion, content.VersionRow] = PreparedRows(
    _viewer_rows,
    stand_ins=(-(2**62) + 21, -(2**62) + 22, -(2**62) + 23, datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=UTC)),
)


def catalogue_viewer(person: Person, programme: Programme, now: datetime) -> CatalogueViewer:
    """In one query: the programme's content version, the seats taken on its published rounds still to
    start, and the person's active bookings, completed courses and whether their organisation takes part
    (what the eligibility rule needs beyond the actor)."""
    version = 0
    seats_taken: dict[int, int] = {}
    mine: dict[int, tuple[int, str]] = {}
    completed: set[int] = set()
    participates = False
    for kind, first, second, status in _VIEWER_ROWS.fetch(
        programme.pk, person.pk, person.organisation_id, now
    ):
        if kind == content.VERSION_KIND:
            version = first
        elif kind == "seats":
            seats_taken[first] = second
        elif kind == "booking":
            mine[first] = (second, status)
        elif kind == "completed":
            completed.add(first)
        else:
            participates = True
    return CatalogueViewer(version, seats_taken, mine, frozenset(completed), participates)
