"""API of quotas, enrolments and the waiting list."""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from coordinator.core import plans
from coordinator.core.validators import parse_int
from organisations.access.api import ProgrammeScopedViewSet
from organisations.models import Programme
from seminars import filters, permissions, serializers
from seminars.api._access import (
    IsCoordinator,
    WritesByCoordinators,
    does_not_exist,
    managed_programmes,
)
from seminars.models import (
    Enrolment,
    OrganisationQuota,
    Round,
    Session,
)
from seminars.selectors import participation, reports
from seminars.services import (
    approvals,
    attendance,
    enrolments,
    quotas,
)


class QuotaViewSet(
    plans.ListModelMixin,
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
                ~Q(round__status=Round.Status.DRAFT)
                | Q(round__course__programme__in=managed_programmes(self))
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
        serializer.instance = self.reload(quota)

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
        serializer.instance = self.reload(updated)

    def perform_destroy(self, instance: OrganisationQuota) -> None:
        quotas.quota_delete(actor=self.actor, quota=instance)


class EnrolmentViewSet(plans.ListModelMixin, mixins.RetrieveModelMixin, ProgrammeScopedViewSet):
    """Bookings: your own; your reports' (line managers); your courses' (providers); all (coordinators).

    ``POST`` enrols (yourself, or anyone for coordinators): a seat if one is free for your organisation,
    else a place in the queue. The actions cancel or leave the queue, accept or decline an offered seat,
    approve or turn down (line managers), mark attendance and record a passed assessment (providers)."""

    model = Enrolment
    serializer_class = serializers.EnrolmentSerializer
    filterset_class = filters.EnrolmentFilter
    ordering_fields = ["requested_at", "status"]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = participation.only_visible_enrolments(
            queryset, self.actor, self.actor.programme_ids
        ).order_by("-requested_at", "-pk")
        if self.action == "list":
            # A page of up to 200 bookings: only the rows and columns the serializer shows (three model
            # instances per booking; the full joins build ten).
            return participation.with_enrolment_list_joins(queryset)
        return participation.with_enrolment_names(participation.with_enrolment_joins(queryset))

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
            return does_not_exist("round", data["round"].pk)
        enrolment = enrolments.enrolment_create(
            actor=self.actor, round=round_, person=data.get("person"), motivation=data["motivation"]
        )
        # Answered from the rows the service holds (the locked round with its course, the person with their
        # organisation and user): reading the booking back with its joins was a fifth of an enrolment's time.
        # Every enrolment is visible to whoever made it (their own, or a coordinator's).
        # Written from plain values, as ``EnrolmentSerializer`` writes it (see ``written_enrolment``).
        participation.name_written_enrolment(enrolment)
        position = (
            participation.queue_positions([enrolment.round_id]).get(enrolment.pk)
            if enrolment.status == Enrolment.Status.WAITING
            else None
        )
        return Response(serializers.written_enrolment(enrolment, position), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.EnrolmentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel the booking or leave the queue (until the cancellation deadline; coordinators any time)."""
        return self.answer(enrolments.enrolment_cancel(actor=self.actor, enrolment=self.get_object()))

    @extend_schema(request=None, responses=serializers.EnrolmentSerializer)
    @action(detail=True, methods=["post"], url_path="accept-offer")
    def accept_offer(self, request: Request, pk: str | None = None) -> Response:
        """Accept the seat offered to you from the queue."""
        return self.answer(enrolments.offer_accept(actor=self.actor, enrolment=self.get_object()))

    @extend_schema(request=None, responses=serializers.EnrolmentSerializer)
    @action(detail=True, methods=["post"], url_path="decline-offer")
    def decline_offer(self, request: Request, pk: str | None = None) -> Response:
        """Turn down the seat offered to you; it goes to the next person in the queue."""
        return self.answer(enrolments.offer_decline(actor=self.actor, enrolment=self.get_object()))

    @extend_schema(request=None, responses=serializers.EnrolmentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve your report's time away (line managers)."""
        return self.answer(approvals.enrolment_approve(actor=self.actor, enrolment=self.get_object()))

    @extend_schema(request=serializers.RejectSerializer, responses=serializers.EnrolmentSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Turn down your report's request (line managers)."""
        enrolment = self.get_object()
        incoming = serializers.RejectSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return self.answer(
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


class WaitlistViewSet(plans.ListModelMixin, ProgrammeScopedViewSet):
    """Queues: the waiting and offered bookings you may see, with each person's place in the queue.

    ``demand/`` (coordinators) shows, per course, how many people queue for rounds that have not started
    against the seats still free: a course whose queue is longer needs another round."""

    model = Enrolment
    serializer_class = serializers.EnrolmentSerializer
    filterset_class = filters.EnrolmentFilter

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = (
            participation.only_visible_enrolments(queryset, self.actor, self.actor.programme_ids)
            .filter(status__in=[Enrolment.Status.WAITING, Enrolment.Status.OFFERED])
            .order_by("round__starts_at", "round_id", "-priority", "requested_at", "pk")
        )
        if self.action == "list":
            return participation.with_enrolment_list_joins(queryset)
        return participation.with_enrolment_names(participation.with_enrolment_joins(queryset))

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
        programme_ids = sorted(managed_programmes(self))
        raw = request.query_params.get("programme", "")
        if raw:
            wanted = parse_int(raw)
            if wanted is None or wanted not in programme_ids:
                return Response(
                    {"programme": [_("Choose a programme you coordinate.")]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            programme_ids = [wanted]
        rows: list[dict[str, Any]] = []
        now = timezone.now()
        for programme in Programme.objects.filter(pk__in=programme_ids).order_by("name"):
            rows.extend(entry.as_dict() for entry in reports.demand(programme, now))
        return Response(serializers.DemandSerializer(rows, many=True).data)
