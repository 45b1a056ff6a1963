"""API of completions, discussion groups and costs."""

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from coordinator.core import plans
from organisations.access.api import SPREADSHEET_UPLOAD_BODY, ProgrammeScopedViewSet, spreadsheet_upload
from organisations.models import PlatformRole, Programme
from seminars import filters, permissions, serializers
from seminars.api._access import (
    IsCoordinator,
    does_not_exist,
    managed_programmes,
)
from seminars.models import (
    Completion,
    DiscussionGroup,
    Enrolment,
    RoundCost,
)
from seminars.selectors import participation, reports, teaching
from seminars.services import (
    attendance,
    costs,
    history,
)


class CompletionViewSet(
    plans.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ProgrammeScopedViewSet
):
    """Completed courses: your own; your reports'; your courses' (providers); all (coordinators).
    Providers record a passed assessment with ``POST`` and remove a mistaken completion with ``DELETE``."""

    model = Completion
    serializer_class = serializers.CompletionSerializer
    filterset_class = filters.CompletionFilter
    ordering_fields = ["completed_on"]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        visible = teaching.completions_visible_to(self.actor, self.actor.programme_ids).values("pk")
        queryset = queryset.filter(pk__in=visible).order_by("-completed_on", "pk")
        if self.action == "list":
            return teaching.with_completion_list_joins(queryset)
        return teaching.with_course_title(queryset.select_related("person__user", "course"))

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
            return does_not_exist("enrolment", enrolment.pk)
        completion = attendance.completion_record(
            actor=self.actor, enrolment=enrolment, note=incoming.validated_data["note"]
        )
        return self.answer(completion, status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Completion) -> None:
        attendance.completion_revoke(actor=self.actor, completion=instance)

    @extend_schema(
        request=SPREADSHEET_UPLOAD_BODY,
        responses={200: dict, 400: dict},
    )
    @action(detail=False, methods=["post"], url_path="import", pagination_class=None, filterset_class=None)
    def import_history(self, request: Request) -> Response:
        """Record past completions from a CSV or XLSX file (coordinators): multipart ``file`` or the file as
        the body; ``dry_run=1`` reports each row's outcome and saves nothing; otherwise every row is saved,
        or none (400 with the same report). Nothing is sent."""
        programme, data, flags = spreadsheet_upload(request, self.actor)
        report = history.completions_import(
            actor=self.actor, programme=programme, data=data, dry_run=flags["dry_run"]
        )
        return Response(
            report.as_dict(), status=status.HTTP_200_OK if report.ok else status.HTTP_400_BAD_REQUEST
        )


class DiscussionGroupViewSet(plans.ListModelMixin, mixins.RetrieveModelMixin, ProgrammeScopedViewSet):
    """Discussion groups of conference rounds: for the round's participants, its providers and the
    coordinators."""

    model = DiscussionGroup
    serializer_class = serializers.DiscussionGroupSerializer
    filterset_class = filters.GroupFilter

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        actor = self.actor
        condition = Q(round__course__programme__in=managed_programmes(self))
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
        # Only what the serializer shows of each member: its booking's person's name and organisation's name.
        members = teaching.group_members().only(
            "group",
            "enrolment__organisation",
            "enrolment__person__erased_at",
            "enrolment__person__user__first_name",
            "enrolment__person__user__last_name",
            "enrolment__person__user__username",
        )
        return (
            queryset.filter(pk__in=visible)
            .prefetch_related(Prefetch("members", queryset=members.order_by(*teaching.MEMBER_LIST_ORDER)))
            .order_by("round_id", "number")
        )


class CostViewSet(
    plans.ListModelMixin,
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
        queryset = queryset.filter(round__course__programme__in=managed_programmes(self)).order_by(
            "round_id", "kind", "pk"
        )
        # The serializer shows the round's id only; changes and removals read the round and its course.
        return queryset if self.action == "list" else queryset.select_related("round__course")

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
