"""Reads of the catalogue: courses and rounds with the joins their pages need, the rules of a course, and
what the eligibility rule needs to know about a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Prefetch, Q, QuerySet

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
    roles: frozenset[str] = frozenset()
    work_role_id: int | None = None
    if actor is not None and actor.person is not None and actor.person.pk == person.pk:
        known = actor.membership_in(programme)
        if known is not None:
            roles, work_role_id = known.roles, known.work_role_id
    else:
        membership = (
            Membership.objects.filter(person=person, programme=programme, is_active=True)
            .prefetch_related(Prefetch("role_assignments", queryset=RoleAssignment.objects.all()))
            .first()
        )
        if membership is not None:
            roles = frozenset(ra.role for ra in membership.role_assignments.all())
            work_role_id = membership.work_role_id
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


def catalogue(
    person: Person, programme: Programme, now: datetime, *, actor: Actor | None = None
) -> list[CatalogueCourse]:
    """Courses with rounds that have not started yet, and for each round whether the person may enrol
    (``actor``: the person's own, see ``enrolment_context``)."""
    # The person's bookings are read once, for the eligibility rule (one booking per course) and the page.
    bookings = list(_active_enrolments(person, programme).select_related("round"))
    context = enrolment_context(person, programme, actor=actor, active_enrolments=bookings)
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
    mine = {e.round_id: e for e in bookings}
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
