"""Reads of enrolments: who may see which, queue positions, a person's bookings, approvals waiting for a
line manager, a round's participants, and who is an active member."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import cast

from django.db.models import F, Prefetch, Q, QuerySet

from coordinator.core import shapes
from organisations.models import (
    Membership,
    Person,
    Programme,
)
from organisations.permissions import Actor
from seminars import permissions
from seminars.models import (
    Course,
    Enrolment,
    Round,
    Session,
)

# --- Enrolments -----------------------------------------------------------------------------------------


def enrolments_visible_to(actor: Actor, programme_ids: Iterable[int]) -> QuerySet[Enrolment]:
    """Own enrolments; every enrolment for coordinators; the course's for its providers; reports' for their
    line manager."""
    return only_visible_enrolments(Enrolment.objects.all(), actor, programme_ids)


def only_visible_enrolments(
    queryset: QuerySet[Enrolment], actor: Actor, programme_ids: Iterable[int]
) -> QuerySet[Enrolment]:
    """``queryset`` narrowed to the enrolments ``enrolments_visible_to`` gives, as a condition on its own
    rows. Every path of the condition is a forward key (one row each), so it keeps exactly the rows that
    ``pk__in=enrolments_visible_to(...)`` keeps, without a second scan of the enrolments: on PostgreSQL
    that semi-join's plan depended on the table's statistics (a nested loop over every pair of a
    programme's enrolments until ANALYZE had run)."""
    programme_ids = set(programme_ids)
    if actor.person is None:
        return queryset.none()
    managed = [pid for pid in programme_ids if permissions.can_manage(actor, pid)]
    providing = [pid for pid in programme_ids if actor.has_role(pid, "course_provider")]
    condition = Q(person=actor.person) | Q(person__line_manager=actor.person)
    if managed:
        condition |= Q(round__course__programme_id__in=managed)
    if providing and actor.organisation_id is not None:
        provided = (
            Course.objects.filter(programme_id__in=providing)
            .filter(permissions.courses_taught_by(actor))
            .values("pk")
        )
        condition |= Q(round__course__in=provided)
    return queryset.filter(condition)


def with_enrolment_joins(queryset: QuerySet[Enrolment]) -> QuerySet[Enrolment]:
    return queryset.select_related(
        "round__course__programme",
        "person__user",
        "person__organisation",
        "organisation",
        "approved_by__user",
    )


def with_enrolment_names(queryset: QuerySet[Enrolment]) -> QuerySet[Enrolment]:
    """A booking's round label, course id and title, and organisation name as columns of the booking's own
    row (``round_label``, ``round_course_id``, ``course_title``, ``organisation_name``): what
    ``serializers.EnrolmentSerializer`` shows of them, without a model instance of each."""
    return queryset.annotate(
        round_label=F("round__label"),
        round_course_id=F("round__course_id"),
        course_title=F("round__course__title"),
        organisation_name=F("organisation__name"),
    )


def name_written_enrolment(enrolment: Enrolment) -> Enrolment:
    """The columns ``with_enrolment_names`` adds, set on a booking a service has just written from the
    rows it holds (its round with the course, its person with their organisation and user), so that the
    answer to the write needs no second read of it."""
    round_ = enrolment.round
    person = enrolment.person
    enrolment.round_label = round_.label  # type: ignore[attr-defined]
    enrolment.round_course_id = round_.course_id  # type: ignore[attr-defined]
    enrolment.course_title = round_.course.title  # type: ignore[attr-defined]
    organisation = (
        person.organisation if person.organisation_id == enrolment.organisation_id else enrolment.organisation
    )
    enrolment.organisation_name = organisation.name  # type: ignore[attr-defined]
    return enrolment


# The booking's own columns that ``serializers.EnrolmentSerializer`` shows.
ENROLMENT_LIST_COLUMNS = (
    "id",
    "round",
    "person",
    "organisation",
    "status",
    "approval",
    "priority",
    "requested_at",
    "confirmed_at",
    "offered_at",
    "hold_expires_at",
    "ended_at",
    "end_reason",
    "motivation",
)


def with_enrolment_list_joins(queryset: QuerySet[Enrolment]) -> QuerySet[Enrolment]:
    """What ``serializers.EnrolmentSerializer`` shows of a booking and nothing more: the columns it shows,
    the round's label, the course's id and title and the organisation's name as columns of the row, and of
    the person only what ``Person.full_name`` reads (three model instances per booking)."""
    return with_enrolment_names(
        queryset.select_related("person__user").only(
            *ENROLMENT_LIST_COLUMNS,
            "person__erased_at",
            "person__user__first_name",
            "person__user__last_name",
            "person__user__username",
        )
    )


def queue_positions(round_ids: Iterable[int]) -> dict[int, int]:
    """Each waiting enrolment's place in its round's queue (1 = next), in one query."""
    positions: dict[int, int] = {}
    counters: Counter[int] = Counter()
    rounds = sorted(set(round_ids))
    if not rounds:
        return positions
    # Compiled once per connection and set of rounds (see ``shapes.compiled``): a list's page asks for the
    # same rounds' queues on every request.
    found = shapes.compiled(
        ("queue positions", tuple(rounds)),
        lambda: (
            Enrolment.objects.filter(round_id__in=rounds, status=Enrolment.Status.WAITING)
            .order_by("round_id", "-priority", "requested_at", "pk")
            .values_list("pk", "round_id")
        ),
    )
    # (key, round) pairs, whichever way they were read
    rows = cast(
        "Iterable[tuple[int, int]]", found.fetch() if isinstance(found, shapes.CompiledPage) else found
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


def active_member_ids(programme_id: int, person_ids: Iterable[int]) -> set[int]:
    return set(
        Membership.objects.filter(
            programme_id=programme_id, person_id__in=list(person_ids), is_active=True
        ).values_list("person_id", flat=True)
    )
