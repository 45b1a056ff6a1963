"""Reads for course providers: the attendance sheet, completions, the rounds they teach, and discussion
groups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, Prefetch, Q, QuerySet

from coordinator.core import shapes
from organisations.models import (
    Programme,
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
    Round,
    Session,
)
from seminars.selectors.catalogue import rounds_for

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
            course__in=Course.objects.filter(programme_id__in=providing)
            .filter(permissions.courses_taught_by(actor))
            .values("pk")
        )
    return Completion.objects.filter(condition)


def with_course_title(queryset: QuerySet[Completion]) -> QuerySet[Completion]:
    """The course's title as a column of the completion's row (``course_title``), as
    ``serializers.CompletionSerializer`` shows it."""
    return queryset.annotate(course_title=F("course__title"))


def with_completion_list_joins(queryset: QuerySet[Completion]) -> QuerySet[Completion]:
    """What ``serializers.CompletionSerializer`` shows of a completion and nothing more: its columns, the
    course's title as a column of the row, and of the person only what ``Person.full_name`` reads."""
    return with_course_title(
        queryset.select_related("person__user").only(
            "id",
            "person",
            "course",
            "round",
            "method",
            "completed_on",
            "note",
            "recorded_at",
            "person__erased_at",
            "person__user__first_name",
            "person__user__last_name",
            "person__user__username",
        )
    )


def provider_rounds(actor: Actor, programme: Programme) -> QuerySet[Round]:
    """Rounds of the courses the actor's organisation gives (all rounds for coordinators)."""
    queryset = rounds_for(programme).exclude(status=Round.Status.DRAFT)
    if permissions.can_manage(actor, programme):
        return queryset
    if actor.organisation_id is None or not actor.has_role(programme, "course_provider"):
        return queryset.none()
    return queryset.filter(
        course__in=Course.objects.filter(programme=programme)
        .filter(permissions.courses_taught_by(actor))
        .values("pk")
    )


# --- Groups ---------------------------------------------------------------------------------------------


def group_members() -> QuerySet[DiscussionGroupMember]:
    """Members with their booking's person and user, and the booking's organisation's name as a column of
    the member's row (``organisation_name``), as ``serializers.DiscussionGroupSerializer`` shows them."""
    return DiscussionGroupMember.objects.select_related("enrolment__person__user").annotate(
        organisation_name=F("enrolment__organisation__name")
    )


# The order of a group's members on the group list (by organisation, then booking).
MEMBER_LIST_ORDER = ("enrolment__organisation__name", "pk")


def member_rows(group_ids: Iterable[object]) -> list[tuple[object, ...]]:
    """The members of these groups as the group list shows them, in its order, as values: group, booking,
    person, the person's name columns (erased, first and last name, username), organisation and its name."""
    groups = list(group_ids)
    # Compiled once per connection and page of groups (see ``shapes.compiled``).
    found = shapes.compiled(
        ("group members", tuple(groups)),
        lambda: (
            DiscussionGroupMember.objects.filter(group_id__in=groups)
            .order_by(*MEMBER_LIST_ORDER)
            .values_list(
                "group",
                "enrolment",
                "enrolment__person",
                "enrolment__person__erased_at",
                "enrolment__person__user__first_name",
                "enrolment__person__user__last_name",
                "enrolment__person__user__username",
                "enrolment__organisation",
                "enrolment__organisation__name",
            )
        ),
    )
    return [tuple(row) for row in found.fetch()] if isinstance(found, shapes.CompiledPage) else list(found)


def groups_of(round_: Round) -> list[DiscussionGroup]:
    members = group_members()
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
