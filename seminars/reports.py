"""What the seminars offer the programme's targets, follow-ups and cost report: people who completed a
course, completions to follow up, bookings to record an expectation for, and the cost per completed
participant. Each reader uses a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from django.db.models import Count, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordinator.core import registry
from coordinator.core.statistics import cumulative
from organisations.models import Membership, Person, Programme
from seminars.models import Completion, Course, Enrolment, Round, RoundCost

KIND = "seminars.course"


def completed_course(
    programme: Programme, asks: Sequence[registry.MeasureAsk]
) -> list[registry.MeasureCounts]:
    """People (active members, in the role if one is named) who have completed the course by each date;
    a completion before ``since`` counts too: they have the course. Two queries for every ask together."""
    members = Membership.objects.filter(programme=programme, is_active=True, person__erased_at__isnull=True)
    population: dict[tuple[int | None, int], int] = {
        (role, organisation): n
        for role, organisation, n in members.values_list("work_role", "person__organisation")
        .annotate(n=Count("pk"))
        .order_by()
    }
    done: dict[int, list[tuple[int | None, int, date, int]]] = defaultdict(list)
    for course_id, role, organisation, completed_on, n in (
        Completion.objects.filter(
            course_id__in={ask.subject_id for ask in asks},
            course__programme=programme,
            person__memberships__programme=programme,
            person__memberships__is_active=True,
            person__erased_at__isnull=True,
        )
        .values_list("course_id", "person__memberships__work_role", "person__organisation", "completed_on")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        done[course_id].append((role, organisation, completed_on, n))
    answers = []
    for ask in asks:
        wanted = ask.work_role_id

        def in_role(role: int | None, wanted: int | None = wanted) -> bool:
            return wanted is None or role == wanted

        totals, by_organisation = cumulative(
            ((org, on, n) for role, org, on, n in done.get(ask.subject_id or 0, []) if in_role(role)),
            ask.dates,
        )
        sizes: dict[int, int] = defaultdict(int)
        for (role, organisation), n in population.items():
            if in_role(role):
                sizes[organisation] += n
        answers.append(
            registry.MeasureCounts(
                total=totals,
                by_organisation=by_organisation,
                population=sum(sizes.values()),
                population_by_organisation=dict(sizes),
            )
        )
    return answers


def _courses(programme: Programme) -> list[tuple[int, str]]:
    return list(Course.objects.filter(programme=programme, is_archived=False).values_list("pk", "title"))


def finished(programme: Programme, since: date, until: date) -> list[registry.Finished]:
    """Courses completed on those days (one query)."""
    return [
        registry.Finished(person_id=person_id, subject_id=course_id, group_id=course_id, finished_on=on)
        for person_id, course_id, on in Completion.objects.filter(
            course__programme=programme, completed_on__gte=since, completed_on__lte=until
        ).values_list("person_id", "course_id", "completed_on")
    ]


def upcoming(programme: Programme, person: Person) -> list[registry.Upcoming]:
    """Courses the person holds a seat on that have not started yet (one query)."""
    rows = (
        Enrolment.objects.filter(
            round__course__programme=programme,
            person=person,
            status__in=Enrolment.SEAT_HOLDING,
            round__starts_at__gt=timezone.now(),
        )
        .values("round__course_id", "round__course__title")
        .annotate(first=Min("round__starts_at"))
        .order_by("first")
    )
    return [
        registry.Upcoming(
            subject_id=row["round__course_id"],
            title=row["round__course__title"],
            starts_on=timezone.localdate(row["first"]),
        )
        for row in rows
    ]


def course_titles(programme: Programme, ids: list[int]) -> dict[int, str]:
    return dict(Course.objects.filter(programme=programme, pk__in=ids).values_list("pk", "title"))


def cost(programme: Programme, start: date, end: date) -> registry.ActivityCost:
    """What the rounds that started in the period cost, and how many completed them (two queries)."""
    rounds = Round.objects.filter(
        course__programme=programme, starts_at__date__gte=start, starts_at__date__lte=end
    ).exclude(status=Round.Status.CANCELLED)
    amount = RoundCost.objects.filter(round__in=rounds).aggregate(total=Sum("amount"))["total"]
    units = Completion.objects.filter(round__in=rounds).count()
    return registry.ActivityCost(
        key="seminars",
        label=_("Courses"),
        unit_label=_("completed participant"),
        amount=amount,
        units=units,
    )


registry.measures.register(
    "seminars.completed_course",
    registry.Measure(
        key="seminars.completed_course",
        label=_("People who have completed a course"),
        kind="share",
        unit=_("people"),
        counts=completed_course,
        subjects=_courses,
        subject_label=_("Course"),
        uses_work_role=True,
        people=True,
    ),
    order=10,
)
registry.follow_up_sources.register(
    KIND,
    registry.FollowUpSource(
        kind=KIND,
        label=_("Course"),
        group_label=_("Course"),
        finished=finished,
        upcoming=upcoming,
        titles=course_titles,
        group_names=course_titles,
    ),
    order=10,
)
registry.activity_costs.register("seminars", cost, order=10)
