"""API of courses, rounds, sessions, quotas, enrolments, the waiting list, completions, groups and costs
(thin: parse, call a service or selector, serialise)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.relations import PrimaryKeyRelatedField
from rest_framework.request import Request
from rest_framework.response import Response

from organisations.access.api import ProgrammeScopedViewSet
from organisations.models import PlatformRole, Programme
from organisations.permissions import COORDINATING_ROLES
from seminars import filters, permissions, serializers
from seminars.models import (
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
from seminars.selectors import participation, reports, teaching
from seminars.services import (
    approvals,
    attendance,
    costs,
    courses,
    discussion_groups,
    enrolments,
    quotas,
    rounds,
    sessions,
)


class IsCoordinator(BasePermission):
    """Coordinators and programme admins of at least one of the person's programmes."""

    def has_permission(self, request: Request, view: Any) -> bool:
        actor = getattr(view, "actor", None)
        return bool(actor and actor.programmes_with_role(*COORDINATING_ROLES))


class WritesByCoordinators(BasePermission):
    """Everyone in the programme reads; coordinators write (the service checks the object's programme)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return IsCoordinator().has_permission(request, view)


def _does_not_exist(field: str, value: Any) -> Response:
    """The same answer a foreign or draft object gets from a scoped id field: it does not exist."""
    message = PrimaryKeyRelatedField.default_error_messages["does_not_exist"].format(pk_value=value)
    return Response({field: [message]}, status=status.HTTP_400_BAD_REQUEST)


def _managed(view: Any) -> frozenset[int]:
    return view.actor.programmes_with_role(*COORDINATING_ROLES)  # type: ignore[no-any-return]


def _visible_rounds(view: Any) -> Q:
    """Published and cancelled rounds for everyone; drafts only for the programme's coordinators."""
    return ~Q(status=Round.Status.DRAFT) | Q(course__programme__in=_managed(view))


class CourseViewSet(
    mixins.ListModelMixin,
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

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            queryset.select_related("programme")
            .prefetch_related("providers", "target_roles", "prerequisites")
            .order_by("title")
        )

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        created = courses.course_create(
            actor=self.actor,
            programme=data.pop("programme"),
            providers=data.pop("providers"),
            target_roles=data.pop("target_roles", []),
            prerequisites=data.pop("prerequisites", []),
            values=data,
        )
        serializer.instance = self.get_queryset().get(pk=created.pk)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("programme", None)
        courses.course_update(
            actor=self.actor,
            course=serializer.instance,
            providers=data.pop("providers", None),
            target_roles=data.pop("target_roles", None),
            prerequisites=data.pop("prerequisites", None),
            values=data,
        )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


class RoundViewSet(
    mixins.ListModelMixin,
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

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            queryset.filter(_visible_rounds(self))
            .select_related("course__programme")
            .annotate(
                waiting_count=Count("enrolments", filter=Q(enrolments__status=Enrolment.Status.WAITING))
            )
            .order_by("starts_at", "pk")
        )

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        created = rounds.round_create(actor=self.actor, course=data.pop("course"), values=data)
        serializer.instance = self.get_queryset().get(pk=created.pk)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("course", None)
        rounds.round_update(actor=self.actor, round=serializer.instance, values=data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    @extend_schema(request=serializers.RoundCancelSerializer, responses=serializers.RoundSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, IsCoordinator])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel the round: every booking ends and confirmed participants get calendar cancellations."""
        round_ = self.get_object()
        incoming = serializers.RoundCancelSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        rounds.round_cancel(actor=self.actor, round=round_, reason=incoming.validated_data["reason"])
        return Response(self.get_serializer(self.get_queryset().get(pk=round_.pk)).data)

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
        return Response({"recorded": serializers.CompletionSerializer(created, many=True).data})


class SessionViewSet(
    mixins.ListModelMixin,
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
        managed = _managed(self)
        return (
            queryset.filter(~Q(round__status=Round.Status.DRAFT) | Q(round__course__programme__in=managed))
            .select_related("round__course")
            .order_by("starts_at", "pk")
        )

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


class QuotaViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProgrammeScopedViewSet,
):
    """Per-organisation quotas of a round: seats reserved until the release date and the most it may take.
    Creating a quota for an organisation that has one replaces its figures."""

    model = OrganisationQuota
    serializer_class = serializers.QuotaSerializer
    filterset_class = filters.QuotaFilter
    permission_classes = [IsAuthenticated, WritesByCoordinators]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            queryset.filter(
                ~Q(round__status=Round.Status.DRAFT) | Q(round__course__programme__in=_managed(self))
            )
            .select_related("organisation", "round")
            .order_by("round_id", "organisation__name")
        )

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        quota = quotas.quota_set(
            actor=self.actor,
            round=data["round"],
            organisation=data["organisation"],
            reserved=data.get("reserved", 0),
            maximum=data.get("maximum"),
        )
        serializer.instance = self.get_queryset().get(pk=quota.pk)

    def perform_update(self, serializer: Any) -> None:
        quota: OrganisationQuota = serializer.instance
        data = serializer.validated_data
        updated = quotas.quota_set(
            actor=self.actor,
            round=quota.round,
            organisation=quota.organisation,
            reserved=data.get("reserved", quota.reserved),
            maximum=data["maximum"] if "maximum" in data else quota.maximum,
        )
        serializer.instance = self.get_queryset().get(pk=updated.pk)

    def perform_destroy(self, instance: OrganisationQuota) -> None:
        quotas.quota_delete(actor=self.actor, quota=instance)


class EnrolmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProgrammeScopedViewSet):
    """Bookings: your own; your reports' (line managers); your courses' (providers); all (coordinators).

    ``POST`` enrols (yourself, or anyone for coordinators): a seat if one is free for your organisation,
    else a place in the queue. The actions cancel or leave the queue, accept or decline an offered seat,
    approve or turn down (line managers), mark attendance and record a passed assessment (providers)."""

    model = Enrolment
    serializer_class = serializers.EnrolmentSerializer
    filterset_class = filters.EnrolmentFilter
    ordering_fields = ["requested_at", "status"]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        visible = participation.enrolments_visible_to(self.actor, self.actor.programme_ids).values("pk")
        return participation.with_enrolment_joins(queryset.filter(pk__in=visible)).order_by(
            "-requested_at", "-pk"
        )

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if args and kwargs.get("many"):
            rows = list(args[0])
            kwargs.setdefault("context", self.get_serializer_context())
            kwargs["context"]["queue_positions"] = participation.queue_positions(
                {e.round_id for e in rows if e.status == Enrolment.Status.WAITING}
            )
            args = (rows, *args[1:])
        elif args and isinstance(args[0], Enrolment) and args[0].status == Enrolment.Status.WAITING:
            kwargs.setdefault("context", self.get_serializer_context())
            kwargs["context"]["queue_positions"] = participation.queue_positions([args[0].round_id])
        return super().get_serializer(*args, **kwargs)

    def _answer(self, enrolment: Enrolment, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=enrolment.pk)).data, status=code)

    @extend_schema(
        request=serializers.EnrolmentCreateSerializer, responses={201: serializers.EnrolmentSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = serializers.EnrolmentCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        round_: Round = data["round"]
        if round_.status == Round.Status.DRAFT and not permissions.can_manage(
            self.actor, round_.course.programme_id
        ):
            return _does_not_exist("round", data["round"].pk)
        enrolment = enrolments.enrolment_create(
            actor=self.actor, round=round_, person=data.get("person"), motivation=data["motivation"]
        )
        return self._answer(enrolment, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.EnrolmentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel the booking or leave the queue (until the cancellation deadline; coordinators any time)."""
        return self._answer(enrolments.enrolment_cancel(actor=self.actor, enrolment=self.get_object()))

    @extend_schema(request=None, responses=serializers.EnrolmentSerializer)
    @action(detail=True, methods=["post"], url_path="accept-offer")
    def accept_offer(self, request: Request, pk: str | None = None) -> Response:
        """Accept the seat offered to you from the queue."""
        return self._answer(enrolments.offer_accept(actor=self.actor, enrolment=self.get_object()))

    @extend_schema(request=None, responses=serializers.EnrolmentSerializer)
    @action(detail=True, methods=["post"], url_path="decline-offer")
    def decline_offer(self, request: Request, pk: str | None = None) -> Response:
        """Turn down the seat offered to you; it goes to the next person in the queue."""
        return self._answer(enrolments.offer_decline(actor=self.actor, enrolment=self.get_object()))

    @extend_schema(request=None, responses=serializers.EnrolmentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve your report's time away (line managers)."""
        return self._answer(approvals.enrolment_approve(actor=self.actor, enrolment=self.get_object()))

    @extend_schema(request=serializers.RejectSerializer, responses=serializers.EnrolmentSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Turn down your report's request (line managers)."""
        enrolment = self.get_object()
        incoming = serializers.RejectSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return self._answer(
            approvals.enrolment_reject(
                actor=self.actor, enrolment=enrolment, reason=incoming.validated_data["reason"]
            )
        )

    @extend_schema(request=serializers.AttendanceSerializer, responses=serializers.AttendanceResultSerializer)
    @action(detail=True, methods=["post"])
    def attendance(self, request: Request, pk: str | None = None) -> Response:
        """Mark whether the participant was present at one session of the round (course providers)."""
        enrolment = self.get_object()
        incoming = serializers.AttendanceSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        session: Session = incoming.validated_data["session"]
        if session.round_id != enrolment.round_id:
            return Response(
                {"session": [_("This session belongs to another round.")]}, status=status.HTTP_400_BAD_REQUEST
            )
        [saved] = attendance.attendance_mark(
            actor=self.actor, session=session, marks={enrolment.pk: incoming.validated_data["present"]}
        )
        return Response(
            {"enrolment": saved.enrolment_id, "session": saved.session_id, "present": saved.present}
        )


class WaitlistViewSet(mixins.ListModelMixin, ProgrammeScopedViewSet):
    """Queues: the waiting and offered bookings you may see, with each person's place in the queue.

    ``demand/`` (coordinators) shows, per course, how many people queue for rounds that have not started
    against the seats still free: a course whose queue is longer needs another round."""

    model = Enrolment
    serializer_class = serializers.EnrolmentSerializer
    filterset_class = filters.EnrolmentFilter

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        visible = participation.enrolments_visible_to(self.actor, self.actor.programme_ids).values("pk")
        return participation.with_enrolment_joins(
            queryset.filter(pk__in=visible, status__in=[Enrolment.Status.WAITING, Enrolment.Status.OFFERED])
        ).order_by("round__starts_at", "round_id", "-priority", "requested_at", "pk")

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if args and kwargs.get("many"):
            rows = list(args[0])
            kwargs.setdefault("context", self.get_serializer_context())
            kwargs["context"]["queue_positions"] = participation.queue_positions({e.round_id for e in rows})
            args = (rows, *args[1:])
        return super().get_serializer(*args, **kwargs)

    @extend_schema(
        parameters=[OpenApiParameter("programme", int, description="Limit to one programme.")],
        responses=serializers.DemandSerializer(many=True),
    )
    @action(
        detail=False,
        methods=["get"],
        permission_classes=[IsAuthenticated, IsCoordinator],
        pagination_class=None,
        filterset_class=None,
    )
    def demand(self, request: Request) -> Response:
        """Waiting-list demand per course, the courses that need another round first."""
        programme_ids = sorted(_managed(self))
        raw = request.query_params.get("programme", "")
        if raw:
            if not raw.isdigit() or int(raw) not in programme_ids:
                return Response(
                    {"programme": [_("Choose a programme you coordinate.")]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            programme_ids = [int(raw)]
        rows: list[dict[str, Any]] = []
        now = timezone.now()
        for programme in Programme.objects.filter(pk__in=programme_ids).order_by("name"):
            rows.extend(entry.as_dict() for entry in reports.demand(programme, now))
        return Response(serializers.DemandSerializer(rows, many=True).data)


class CompletionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ProgrammeScopedViewSet
):
    """Completed courses: your own; your reports'; your courses' (providers); all (coordinators).
    Providers record a passed assessment with ``POST`` and remove a mistaken completion with ``DELETE``."""

    model = Completion
    serializer_class = serializers.CompletionSerializer
    filterset_class = filters.CompletionFilter
    ordering_fields = ["completed_on"]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        visible = teaching.completions_visible_to(self.actor, self.actor.programme_ids).values("pk")
        return (
            queryset.filter(pk__in=visible)
            .select_related("person__user", "course")
            .order_by("-completed_on", "pk")
        )

    @extend_schema(
        request=serializers.CompletionCreateSerializer, responses={201: serializers.CompletionSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = serializers.CompletionCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        enrolment: Enrolment = incoming.validated_data["enrolment"]
        visible = participation.enrolments_visible_to(self.actor, self.actor.programme_ids)
        if not visible.filter(pk=enrolment.pk).exists():
            return _does_not_exist("enrolment", enrolment.pk)
        completion = attendance.completion_record(
            actor=self.actor, enrolment=enrolment, note=incoming.validated_data["note"]
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=completion.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def perform_destroy(self, instance: Completion) -> None:
        attendance.completion_revoke(actor=self.actor, completion=instance)


class DiscussionGroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProgrammeScopedViewSet):
    """Discussion groups of conference rounds: for the round's participants, its providers and the
    coordinators."""

    model = DiscussionGroup
    serializer_class = serializers.DiscussionGroupSerializer
    filterset_class = filters.GroupFilter

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        actor = self.actor
        condition = Q(round__course__programme__in=_managed(self))
        if actor.person is not None:
            condition |= Q(
                round__enrolments__person=actor.person, round__enrolments__status=Enrolment.Status.CONFIRMED
            )
            providing = actor.programmes_with_role(PlatformRole.COURSE_PROVIDER)
            if providing and actor.organisation_id is not None:
                condition |= Q(
                    round__course__programme__in=providing, round__course__providers=actor.organisation_id
                )
        visible = DiscussionGroup.objects.filter(condition).values("pk")
        members = DiscussionGroupMember.objects.select_related(
            "enrolment__person__user", "enrolment__organisation"
        )
        return (
            queryset.filter(pk__in=visible)
            .prefetch_related(
                Prefetch("members", queryset=members.order_by("enrolment__organisation__name", "pk"))
            )
            .order_by("round_id", "number")
        )


class CostViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProgrammeScopedViewSet,
):
    """Costs of rounds (venue, lecture fees, preparation, other) and the financing report. Coordinators."""

    model = RoundCost
    serializer_class = serializers.CostSerializer
    filterset_class = filters.CostFilter
    permission_classes = [IsAuthenticated, IsCoordinator]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            queryset.filter(round__course__programme__in=_managed(self))
            .select_related("round__course")
            .order_by("round_id", "kind", "pk")
        )

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        cost = costs.cost_add(
            actor=self.actor,
            round=data["round"],
            kind=data["kind"],
            amount=data["amount"],
            note=data.get("note", ""),
        )
        serializer.instance = cost

    def perform_update(self, serializer: Any) -> None:
        cost: RoundCost = serializer.instance
        data = serializer.validated_data
        serializer.instance = costs.cost_update(
            actor=self.actor,
            cost=cost,
            kind=data.get("kind", cost.kind),
            amount=data.get("amount", cost.amount),
            note=data.get("note", cost.note),
        )

    def perform_destroy(self, instance: RoundCost) -> None:
        costs.cost_delete(actor=self.actor, cost=instance)

    @extend_schema(
        parameters=[
            OpenApiParameter("programme", int, required=True),
            OpenApiParameter(
                "start", str, required=True, description="First day of the period (YYYY-MM-DD)."
            ),
            OpenApiParameter("end", str, required=True, description="Last day of the period (YYYY-MM-DD)."),
        ],
        responses=serializers.CostReportSerializer,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def report(self, request: Request) -> Response:
        """Costs, the funders' shares and the staff hours contributed, for the rounds starting in a period."""
        incoming = serializers.ReportQuerySerializer(
            data=request.query_params.dict(), context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        programme: Programme = incoming.validated_data["programme"]
        if not permissions.can_manage(self.actor, programme):
            raise PermissionDenied
        report = reports.cost_report(
            programme, incoming.validated_data["start"], incoming.validated_data["end"]
        )
        return Response(report.as_dict())
