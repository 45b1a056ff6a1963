"""API of courses, rounds and sessions (coordinators write; everyone in the programme reads)."""

import datetime
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from coordinator.core import answers, plans
from coordinator.core.prepared import PreparedRows
from coordinator.core.rows import JSONRows, Rows, with_rows
from coordinator.core.tenancy import active_programme_ids
from organisations.access.api import ProgrammeScopedViewSet
from organisations.models import Organisation, Unit, WorkRole
from seminars import filters, serializers
from seminars.api._access import (
    IsCoordinator,
    WritesByCoordinators,
    managed_programmes,
    visible_rounds,
)
from seminars.models import (
    Course,
    Enrolment,
    Round,
    Session,
)
from seminars.selectors import teaching
from seminars.services import (
    attendance,
    courses,
    discussion_groups,
    rounds,
    sessions,
)


class CourseViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ProgrammeScopedViewSet,
):
    """The programme's courses. Coordinators create and change them."""

    model = Course
    serializer_class = serializers.CourseSerializer
    filterset_class = filters.CourseFilter
    permission_classes = [IsAuthenticated, WritesByCoordinators]
    ordering_fields = ["title"]
    # The first page answered from the cache while no course, relation or related name changed.
    answer_topics = ("courses",)
    answer_reader = staticmethod(answers.roles)

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # The four relations' rows of one course, in each relation's order (within the tenant scope, as
        # every query of the related models).
        related = {
            "providers": Organisation.objects.filter(provided_courses=OuterRef("pk")).order_by("name", "pk"),
            "provider_units": Unit.objects.filter(provided_courses=OuterRef("pk")).order_by(
                "organisation__name", "name", "pk"
            ),
            "target_roles": WorkRole.objects.filter(targeted_courses=OuterRef("pk")).order_by("name", "pk"),
            "prerequisites": Course.objects.filter(required_for=OuterRef("pk")).order_by("title", "pk"),
        }
        if self.action == "list":
            # The list shows the programme's id and each relation's ids: read as columns of the page's own
            # query, with no instance of the programme or of a related row (see ``RelatedIdsField``).
            return queryset.annotate(
                **{f"{name}_ids": JSONRows(rows, ["pk"]) for name, rows in related.items()}
            ).order_by("title")
        # One course (and the answer to a write): its relations read in its own query as prefetched rows,
        # which the services read as well.
        return with_rows(
            queryset.select_related("programme"), *(Rows(name, rows, ()) for name, rows in related.items())
        ).order_by("title")

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        created = courses.course_create(
            actor=self.actor,
            programme=data.pop("programme"),
            providers=data.pop("providers"),
            provider_units=data.pop("provider_units", []),
            target_roles=data.pop("target_roles", []),
            prerequisites=data.pop("prerequisites", []),
            values=data,
        )
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("programme", None)
        courses.course_update(
            actor=self.actor,
            course=serializer.instance,
            providers=data.pop("providers", None),
            provider_units=data.pop("provider_units", None),
            target_roles=data.pop("target_roles", None),
            prerequisites=data.pop("prerequisites", None),
            values=data,
        )
        serializer.instance = self.reload(serializer.instance)


def _round_seats(programme_id: int) -> QuerySet[Round, tuple[int, int, int, int]]:
    return (
        Round.objects.filter(course__programme_id=programme_id)
        .annotate(waiting=Count("enrolments", filter=Q(enrolments__status=Enrolment.Status.WAITING)))
        .order_by()
        .values_list("pk", "capacity", "seats_taken", "waiting")
    )


# Compiled once per connection (building and compiling the aggregate was most of reading the seats anew);
# the query names its programme itself.
_ROUND_SEATS: PreparedRows[Round, tuple[int, int, int, int]] = PreparedRows(
    _round_seats, stand_ins=(-(2**62) + 41,)
)


def seats_of(ids: Sequence[int]) -> dict[int, dict[str, object]]:
    """What ``RoundSerializer`` shows of the rounds' seats (changed by every booking), for the rounds
    ``ids`` of the reader's programmes, one query per programme: the live part of a kept rounds list
    (``answers.Live``)."""
    wanted = set(ids)
    seats: dict[int, dict[str, object]] = {}
    for programme_id in sorted(active_programme_ids() or ()):
        for pk, capacity, taken, waiting in _ROUND_SEATS.fetch(programme_id):
            if pk in wanted:
                seats[pk] = {
                    "seats_taken": taken,
                    "seats_free": Round.free_of(capacity, taken),
                    "waiting_count": waiting,
                }
    return seats


class RoundViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ProgrammeScopedViewSet,
):
    """Rounds of the courses, with their seats and queue length. Coordinators manage them; drafts are theirs
    alone."""

    model = Round
    serializer_class = serializers.RoundSerializer
    filterset_class = filters.RoundFilter
    permission_classes = [IsAuthenticated, WritesByCoordinators]
    ordering_fields = ["starts_at", "registration_closes_at"]
    # The first page answered from the cache while no round or course title changed, and until
    # registration of a round on it opens or closes (``registration_open`` follows the clock). A booking
    # renews only the ``seats`` stamp: the seats and the queue are then read anew and filled in.
    answer_topics = ("rounds",)
    answer_reader = staticmethod(answers.roles)
    answer_live = answers.Live("seats", ("seats_taken", "seats_free", "waiting_count"), seats_of)

    def answer_changes_at(self, data: object, after: datetime.datetime) -> datetime.datetime:
        return answers.next_moment(
            data, after, ("registration_opens_at", "registration_closes_at", "starts_at")
        )

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = (
            queryset.filter(visible_rounds(self))
            .annotate(
                course_title=F("course__title"),
                waiting_count=Count("enrolments", filter=Q(enrolments__status=Enrolment.Status.WAITING)),
            )
            .order_by("starts_at", "pk")
        )
        # The serializer shows the course's title (a column of the row); the actions read the course and
        # its programme.
        return queryset if self.action == "list" else queryset.select_related("course__programme")

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        created = rounds.round_create(actor=self.actor, course=data.pop("course"), values=data)
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("course", None)
        rounds.round_update(actor=self.actor, round=serializer.instance, values=data)
        serializer.instance = self.reload(serializer.instance)

    @extend_schema(request=serializers.RoundCancelSerializer, responses=serializers.RoundSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, IsCoordinator])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel the round: every booking ends and confirmed participants get calendar cancellations."""
        round_ = self.get_object()
        incoming = serializers.RoundCancelSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        rounds.round_cancel(actor=self.actor, round=round_, reason=incoming.validated_data["reason"])
        return self.answer(round_)

    @extend_schema(
        request=serializers.GroupFormSerializer, responses=serializers.DiscussionGroupSerializer(many=True)
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="form-groups",
        permission_classes=[IsAuthenticated, IsCoordinator],
    )
    def form_groups(self, request: Request, pk: str | None = None) -> Response:
        """Form mixed discussion groups of about ``group_size`` confirmed participants (replaces old ones)."""
        round_ = self.get_object()
        incoming = serializers.GroupFormSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        discussion_groups.groups_form(
            actor=self.actor, round=round_, group_size=incoming.validated_data["group_size"]
        )
        groups = teaching.groups_of(round_)
        return Response(
            serializers.DiscussionGroupSerializer(groups, many=True).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses=serializers.RecordCompletionsResultSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="record-completions",
        permission_classes=[IsAuthenticated],
    )
    def record_completions(self, request: Request, pk: str | None = None) -> Response:
        """Record completions for every participant who attended enough of the round (attendance courses)."""
        round_ = self.get_object()
        created = attendance.completions_record(actor=self.actor, round=round_)
        for completion in created:
            completion.course = round_.course
            completion.course_title = round_.course.title  # type: ignore[attr-defined]
        return Response({"recorded": serializers.CompletionSerializer(created, many=True).data})


class SessionViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProgrammeScopedViewSet,
):
    """Days and half-days of the rounds. A change of time or place updates every participant's calendar."""

    model = Session
    serializer_class = serializers.SessionSerializer
    filterset_class = filters.SessionFilter
    permission_classes = [IsAuthenticated, WritesByCoordinators]
    ordering_fields = ["starts_at"]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        managed = managed_programmes(self)
        queryset = queryset.filter(
            ~Q(round__status=Round.Status.DRAFT) | Q(round__course__programme__in=managed)
        ).order_by("starts_at", "pk")
        # The serializer shows the round's id only; changes and removals read the round and its course.
        return queryset if self.action == "list" else queryset.select_related("round__course")

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = sessions.session_create(actor=self.actor, round=data.pop("round"), values=data)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("round", None)
        serializer.instance = sessions.session_update(
            actor=self.actor, session=serializer.instance, values=data
        )

    def perform_destroy(self, instance: Session) -> None:
        sessions.session_delete(actor=self.actor, session=instance)
