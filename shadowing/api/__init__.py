"""API of job shadowing: workplaces, slots, requests, matching runs, placements, reflections and host
feedback (thin: parse, call a service, serialise).

Every viewset builds on ``ProgrammeScopedViewSet``: another programme's object answers 404 like a missing
one, and a foreign id in a body is "does not exist" (400). A service's refusal because the state changed
meanwhile (a run already confirmed, a slot filled by another run, a second click on a transition) is a
409; other refusals are 400 (bad input) or 403 (wrong role).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from coordinator.core import answers, plans
from organisations.access.api import SPREADSHEET_UPLOAD_BODY, ProgrammeScopedViewSet, spreadsheet_upload
from organisations.permissions import COORDINATING_ROLES
from shadowing import filters, permissions, selectors, serializers
from shadowing.api._decided import decided_object
from shadowing.models import (
    HostFeedback,
    MatchingRun,
    Placement,
    Reflection,
    ShadowingRequest,
    Slot,
    Topic,
    Workplace,
)
from shadowing.serializers._named import NAMED, named_rows
from shadowing.services import (
    history,
    matching_queue,
    matching_runs,
    placements,
    reflections,
    shadowing_requests,
    workplaces,
)

# Actions that only serialise what they read: their lists read only the columns the serializer shows. The
# workflows read the object whole (a service may need any of its relations' columns).
SERIALISE_ONLY = frozenset({"list", "retrieve"})


class IsCoordinator(BasePermission):
    """Coordinators and programme admins of at least one of the person's programmes."""

    def has_permission(self, request: Request, view: Any) -> bool:
        actor = getattr(view, "actor", None)
        return bool(actor and actor.programmes_with_role(*COORDINATING_ROLES))


class WorkplaceViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ProgrammeScopedViewSet,
):
    """Host workplaces: the published ones of the programme, plus your own organisation's drafts (all of
    them for coordinators). Host contacts and organisation admins create and edit their organisation's."""

    model = Workplace
    serializer_class = serializers.WorkplaceSerializer
    filterset_class = filters.WorkplaceFilter
    ordering_fields = ["name", "city"]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.workplaces_for(self.actor)

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        person = self.actor.person
        if person is None:
            raise PermissionDenied()
        created = workplaces.workplace_create(
            actor=self.actor,
            programme=data.pop("programme"),
            organisation=person.organisation,
            topics=data.pop("topics", []),
            values=data,
        )
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("programme", None)
        workplaces.workplace_update(
            actor=self.actor,
            workplace=serializer.instance,
            topics=data.pop("topics", None),
            values=data,
        )
        serializer.instance = self.reload(serializer.instance)

    @extend_schema(request=None, responses=serializers.WorkplaceSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        """Show the workplace to the programme and offer it to the matcher."""
        workplace = self.get_object()
        workplaces.workplace_publish(actor=self.actor, workplace=workplace)
        return self.answer(workplace)

    @extend_schema(request=None, responses=serializers.WorkplaceSerializer)
    @action(detail=True, methods=["post"])
    def unpublish(self, request: Request, pk: str | None = None) -> Response:
        """Hide the workplace from new requests and matches."""
        workplace = self.get_object()
        workplaces.workplace_unpublish(actor=self.actor, workplace=workplace)
        return self.answer(workplace)


class SlotViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProgrammeScopedViewSet,
):
    """Visit days of the workplaces you can see. The workplace's host contacts and admins create them (one,
    or in bulk by weekday), change their time (booked visitors get a calendar update) and delete them (booked
    visitors are told and their requests go back to the matching)."""

    model = Slot
    serializer_class = serializers.SlotSerializer
    filterset_class = filters.SlotFilter
    ordering_fields = ["date", "starts_at"]
    # The first page answered from the cache while no slot (its places booked) or workplace's visibility
    # changed; the reader's organisation decides which drafts' slots show.
    answer_topics = ("slots",)
    answer_reader = staticmethod(answers.roles_and_organisation)

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.slots_for(self.actor)

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        try:
            created = workplaces.slots_bulk_create(
                actor=self.actor,
                workplace=data["workplace"],
                starts_on=data["date"],
                ends_on=data["date"],
                weekdays=[data["date"].weekday()],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                capacity=data.get("capacity", 1),
                notes=data.get("notes", ""),
                on_days_off=data.get("on_day_off", False),
            )
        except ValidationError as error:
            # The bulk service speaks of a period; a single slot has a date.
            if hasattr(error, "error_dict") and "starts_on" in error.error_dict:
                raise ValidationError({"date": error.error_dict["starts_on"]}) from error
            raise
        if not created.created:
            raise ValidationError({"starts_at": [_("The workplace already has a slot at this time.")]})
        serializer.instance = created.created[0]

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("workplace", None)
        data.pop("date", None)
        data.pop("on_day_off", None)
        serializer.instance = workplaces.slot_update(actor=self.actor, slot=serializer.instance, values=data)

    def perform_destroy(self, instance: Slot) -> None:
        workplaces.slot_delete(actor=self.actor, slot=instance)

    @extend_schema(
        request=serializers.SlotBulkSerializer, responses={201: serializers.SlotSerializer(many=True)}
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        """A slot on each chosen weekday between two dates; days with a slot at that time are skipped, and so
        are the public holidays and days off of the programme's country unless `on_days_off` is true."""
        incoming = serializers.SlotBulkSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        result = workplaces.slots_bulk_create(actor=self.actor, **incoming.validated_data)
        return Response(
            serializers.SlotSerializer(result.created, many=True).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=serializers.SlotRemoveFreeSerializer, responses=serializers.RemovedSerializer)
    @action(detail=False, methods=["post"], url_path="remove-free")
    def remove_free(self, request: Request) -> Response:
        """Delete the workplace's future slots in a period that nobody has booked or been proposed for."""
        incoming = serializers.SlotRemoveFreeSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        removed = workplaces.slots_remove_free(actor=self.actor, **incoming.validated_data)
        return Response({"removed": removed})


class ShadowingRequestViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ProgrammeScopedViewSet,
):
    """Requests to shadow: your own; those you decide on as line manager; all (coordinators).

    ``POST`` asks for yourself (never at your own organisation); the line manager approves or declines;
    the requester withdraws an open request."""

    model = ShadowingRequest
    serializer_class = serializers.ShadowingRequestSerializer
    filterset_class = filters.ShadowingRequestFilter
    ordering_fields = ["submitted_at", "status"]
    # Built on every request, never kept (``coordinator.core.answers``): the list is read per reader (own
    # requests, their reports'), and a line manager's own decisions, like any request filed in the
    # programme, change it between two reads, so a kept entry was met about once in a hundred reads
    # (bench/README.md, "Requests to decide"), while the stamps' read, the missed look-up and the keeping
    # cost a third of a built answer's processor time. The compiled first page (``shapes``) stays.

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.requests_for(self.actor, shown_only=self.action in SERIALISE_ONLY)

    @staticmethod
    def _parts(data: dict[str, Any]) -> dict[str, Any]:
        parts: dict[str, Any] = {}
        if "topics" in data:
            parts["topics"] = data.pop("topics")
        if "windows" in data:
            parts["windows"] = [(w["starts_on"], w["ends_on"]) for w in data.pop("windows")]
        if "preferences" in data:
            parts["preferences"] = [
                (p.get("rank"), p.get("organisation"), p.get("workplace")) for p in data.pop("preferences")
            ]
        return parts

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        programme = data.pop("programme")
        person = data.pop("person", None)
        parts = self._parts(data)
        created = shadowing_requests.request_create(
            actor=self.actor, programme=programme, values=data, person=person, **parts
        )
        # The new request holds its rows and its requester (with the user): answered without reading back.
        serializer.instance = created

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        """DRF's create, the programme and workplaces named read in one query before the fields check them
        (``named_rows``), the answer written from the new request's values as the serializer writes it."""
        context = {**self.get_serializer_context(), NAMED: named_rows(request.data)}
        serializer = self.get_serializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        created = serializer.instance
        assert isinstance(created, ShadowingRequest)
        return Response(serializers.written_request(created), status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("programme", None)
        parts = self._parts(data)
        shadowing_requests.request_update(
            actor=self.actor,
            request=serializer.instance,
            values=data,
            **parts,
        )
        serializer.instance = self.reload(serializer.instance)

    @extend_schema(request=serializers.DecisionSerializer, responses=serializers.ShadowingRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """The line manager approves the time away; the request joins the next match."""
        shadowing_request = decided_object(self)
        incoming = serializers.DecisionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        shadowing_requests.request_approve(
            actor=self.actor,
            request=shadowing_request,
            note=incoming.validated_data["note"],
        )
        # The request was read with everything the serializer shows, and the decision sets its columns:
        # answered from its values as the serializer writes them (``written_request``).
        return Response(serializers.written_request(shadowing_request))

    @extend_schema(request=serializers.DeclineSerializer, responses=serializers.ShadowingRequestSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """The line manager declines, with a note to the requester."""
        shadowing_request = decided_object(self)
        incoming = serializers.DeclineSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        shadowing_requests.request_decline(
            actor=self.actor,
            request=shadowing_request,
            note=incoming.validated_data["note"],
        )
        return Response(serializers.written_request(shadowing_request))

    @extend_schema(request=None, responses=serializers.ShadowingRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """The requester withdraws a request that waits for approval or a match."""
        shadowing_request = self.get_object()
        shadowing_requests.request_withdraw(actor=self.actor, request=shadowing_request)
        return self.answer(shadowing_request)

    @extend_schema(request=serializers.PairSerializer, responses=serializers.ShadowingRequestSerializer)
    @action(detail=True, methods=["post"])
    def pair(self, request: Request, pk: str | None = None) -> Response:
        """Coordinators: make this request and ``partner`` a reciprocal exchange (both placed or neither,
        each at the other's organisation)."""
        shadowing_request = self.get_object()
        incoming = serializers.PairSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        shadowing_requests.pair_requests(
            actor=self.actor, first=shadowing_request, second=incoming.validated_data["partner"]
        )
        return self.answer(shadowing_request)

    @extend_schema(request=None, responses=serializers.ShadowingRequestSerializer)
    @action(detail=True, methods=["post"])
    def unpair(self, request: Request, pk: str | None = None) -> Response:
        """Coordinators: end the reciprocal exchange this request is part of."""
        shadowing_request = self.get_object()
        shadowing_requests.pair_dissolve(actor=self.actor, request=shadowing_request)
        return self.answer(shadowing_request)


class TopicViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProgrammeScopedViewSet,
):
    """The programme's controlled list of topics: every member reads it, coordinators change it."""

    model = Topic
    serializer_class = serializers.TopicSerializer
    filterset_class = filters.TopicFilter
    ordering_fields = ["name"]

    def narrow_queryset(self, queryset: QuerySet[Topic]) -> QuerySet[Topic]:
        return queryset.order_by("name", "pk")

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        created = workplaces.topic_create(actor=self.actor, programme=data["programme"], name=data["name"])
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: Any) -> None:
        if "name" in serializer.validated_data:
            workplaces.topic_update(
                actor=self.actor, topic=serializer.instance, name=serializer.validated_data["name"]
            )

    def perform_destroy(self, instance: Topic) -> None:
        workplaces.topic_delete(actor=self.actor, topic=instance)


class MatchingRunViewSet(
    plans.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ProgrammeScopedViewSet
):
    """Matching runs (coordinators only).

    ``POST`` queues a match of every approved request against the free slots and answers at once (202)
    with the run ``queued``; a task worker works it out (``solving``, with ``phase``, ``progress_placed``
    and ``progress_gap``) into ``proposed`` (or ``failed``, with ``error``). 409 while another run of the
    programme is queued or being worked out. The proposal holds the placements, the objective, the LP
    bound, the gap, how many were placed (and how many first-come-first-served would have placed) and
    each unplaced request with its reason. ``assign`` and ``remove``
    edit the proposal by hand; ``confirm`` books the seats and asks the hosts (409 if a proposal no longer
    fits); ``discard`` throws it away."""

    model = MatchingRun
    serializer_class = serializers.MatchingRunSerializer
    filterset_class = filters.MatchingRunFilter
    permission_classes = [IsAuthenticated, IsCoordinator]
    ordering_fields = ["created_at"]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.runs_for(self.actor, shown_only=self.action in SERIALISE_ONLY)

    @extend_schema(
        request=serializers.MatchingRunCreateSerializer, responses={202: serializers.MatchingRunSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = serializers.MatchingRunCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        run = matching_queue.matching_run_start(
            actor=self.actor,
            programme=incoming.validated_data["programme"],
            fairness_weight=incoming.validated_data.get("fairness_weight"),
        )
        return self.answer(run, status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=serializers.MatchingRunSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """Book every proposal's seats and ask the hosts; 409 (and nothing changes) if one no longer fits."""
        run = self.get_object()
        matching_runs.matching_run_confirm(actor=self.actor, run=run)
        return self.answer(run)

    @extend_schema(request=None, responses=serializers.MatchingRunSerializer)
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk: str | None = None) -> Response:
        """Throw the proposal away."""
        run = self.get_object()
        matching_runs.matching_run_discard(actor=self.actor, run=run)
        return self.answer(run)

    @extend_schema(request=serializers.RunAssignSerializer, responses=serializers.MatchingRunSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Place a request by hand at a workplace on the given slots (replacing its proposal in this run)."""
        run = self.get_object()
        incoming = serializers.RunAssignSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        matching_runs.run_edit_assign(actor=self.actor, run=run, **incoming.validated_data)
        return self.answer(run)

    @extend_schema(request=serializers.RunRemoveSerializer, responses=serializers.MatchingRunSerializer)
    @action(detail=True, methods=["post"])
    def remove(self, request: Request, pk: str | None = None) -> Response:
        """Take a proposal out of the run; its request stays approved."""
        run = self.get_object()
        incoming = serializers.RunRemoveSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        matching_runs.run_edit_remove(
            actor=self.actor,
            run=run,
            placement=incoming.validated_data["placement"],
        )
        return self.answer(run)


class PlacementViewSet(plans.ListModelMixin, mixins.RetrieveModelMixin, ProgrammeScopedViewSet):
    """Placements: your own visits; your workplace's visitors (hosts); all (coordinators). Proposals of an
    unconfirmed run are the coordinators' alone. Each action is one step of the workflow, allowed to one
    role: ``accept``/``decline`` (host), ``confirm`` (shadower, with the confidentiality undertaking),
    ``visited`` (host or coordinator, after the last day), ``cancel`` (shadower, host or coordinator)."""

    model = Placement
    serializer_class = serializers.PlacementSerializer
    filterset_class = filters.PlacementFilter
    ordering_fields = ["created_at", "updated_at"]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.placements_for(self.actor, shown_only=self.action in SERIALISE_ONLY)

    def _object(self) -> Placement:
        placement: Placement = self.get_object()
        # The services read these relations; one query for them instead of several.
        return Placement.objects.select_related(
            "programme",
            "request__requester__user",
            "request__organisation",
            "workplace__contact__user",
            "workplace__organisation",
        ).get(pk=placement.pk)

    @extend_schema(
        request=SPREADSHEET_UPLOAD_BODY,
        responses={200: dict, 400: dict},
    )
    @action(detail=False, methods=["post"], url_path="import", pagination_class=None, filterset_class=None)
    def import_history(self, request: Request) -> Response:
        """Record past visits from a CSV or XLSX file (coordinators): multipart ``file`` or the file as the
        body; ``dry_run=1`` reports each row's outcome and saves nothing; otherwise every row is saved, or
        none (400 with the same report). Nothing is booked or sent."""
        programme, data, flags = spreadsheet_upload(request, self.actor)
        report = history.visits_import(
            actor=self.actor, programme=programme, data=data, dry_run=flags["dry_run"]
        )
        return Response(
            report.as_dict(), status=status.HTTP_200_OK if report.ok else status.HTTP_400_BAD_REQUEST
        )

    @extend_schema(request=None, responses=serializers.PlacementSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """The host accepts the visitor."""
        placement = self._object()
        placements.placement_host_accept(actor=self.actor, placement=placement)
        return self.answer(placement)

    @extend_schema(request=serializers.ReasonSerializer, responses=serializers.PlacementSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """The host declines the visitor, with a reason; the request goes back to the matching."""
        placement = self._object()
        incoming = serializers.ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        placements.placement_host_decline(
            actor=self.actor,
            placement=placement,
            reason=incoming.validated_data["reason"],
        )
        return self.answer(placement)

    @extend_schema(request=serializers.ConfirmSerializer, responses=serializers.PlacementSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """The shadower confirms and accepts the confidentiality terms; calendar invites go out."""
        placement = self._object()
        incoming = serializers.ConfirmSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        placements.placement_confirm(
            actor=self.actor,
            placement=placement,
            accept_confidentiality=incoming.validated_data["accept_confidentiality"],
        )
        return self.answer(placement)

    @extend_schema(request=None, responses=serializers.PlacementSerializer)
    @action(detail=True, methods=["post"])
    def visited(self, request: Request, pk: str | None = None) -> Response:
        """The host or a coordinator records the visit (after its last day)."""
        placement = self._object()
        placements.placement_mark_visited(actor=self.actor, placement=placement)
        return self.answer(placement)

    @extend_schema(request=serializers.ReasonSerializer, responses=serializers.PlacementSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel with a reason (shadower, host or coordinator); a confirmed visit's invites are cancelled."""
        placement = self._object()
        incoming = serializers.ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        placements.placement_cancel(
            actor=self.actor,
            placement=placement,
            reason=incoming.validated_data["reason"],
        )
        return self.answer(placement)


class ReflectionViewSet(
    plans.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ProgrammeScopedViewSet
):
    """What shadowers learned: your own, your reports' (line managers), all (coordinators). The shadower
    writes it once the visit is recorded."""

    model = Reflection
    serializer_class = serializers.ReflectionSerializer
    filterset_class = filters.ReflectionFilter

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.reflections_for(self.actor)

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        placement = Placement.objects.select_related("request", "programme").get(pk=data.pop("placement").pk)
        serializer.instance = reflections.reflection_submit(actor=self.actor, placement=placement, **data)


class HostFeedbackViewSet(
    plans.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ProgrammeScopedViewSet
):
    """The hosts' feedback on visits: on your own visits, on your workplace's (hosts), all (coordinators).
    The host writes it after the visit; writing again corrects it."""

    model = HostFeedback
    serializer_class = serializers.HostFeedbackSerializer
    filterset_class = filters.HostFeedbackFilter

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        visible = Placement.objects.filter(permissions.visible_placements_filter(self.actor)).values("pk")
        return queryset.filter(placement__in=visible).order_by("-submitted_at", "-pk")

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        placement = Placement.objects.select_related("workplace", "programme").get(pk=data["placement"].pk)
        serializer.instance = reflections.host_feedback_submit(
            actor=self.actor, placement=placement, feedback=data["feedback"]
        )
