"""API of focus groups, memberships, meetings, shared notes (with versions), actions and the glossary
(thin: parse, call a service or selector, serialise).

Notes use optimistic concurrency over HTTP as over the websocket: ``GET`` answers with ``ETag: "<version>"``;
``PUT``/``PATCH`` and ``restore`` with ``If-Match: "<version>"`` are refused with 412 (and the current
version) when that version is no longer the current one; without ``If-Match`` the new text is merged into
the live text as it is now, so no edit is lost either way. A save through the API is broadcast to the
group's live sockets.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from coordinator.core import plans
from coordinator.core.exceptions import Conflict
from coordinator.core.rows import Rows, with_rows
from focusgroups import filters, permissions, selectors, serializers
from focusgroups.models import (
    ActionItem,
    AgendaItem,
    Concept,
    ConceptComment,
    ConceptTerm,
    Decision,
    FocusGroup,
    GroupMembership,
    Meeting,
    Note,
)
from focusgroups.services import actions, glossary, groups, meetings, notes
from organisations.access.api import ProgrammeScopedViewSet

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


class FocusGroupViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ProgrammeScopedViewSet,
):
    """The programme's focus groups (everyone in the programme reads them). Coordinators create groups;
    the convener and coordinators change them."""

    model = FocusGroup
    serializer_class = serializers.FocusGroupSerializer
    filterset_class = filters.FocusGroupFilter
    permission_classes = [IsAuthenticated]
    ordering_fields = ["name", "created_at"]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.annotate(
            member_count=Count("memberships", filter=Q(memberships__is_active=True)),
            **serializers.name_columns("convener"),
        ).order_by("name", "pk")

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        created = groups.group_create(
            actor=self.actor,
            programme=data.pop("programme"),
            convener=data.pop("convener", None),
            values=data,
        )
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("programme", None)
        groups.group_update(
            actor=self.actor, group=serializer.instance, convener=data.pop("convener", None), values=data
        )
        serializer.instance = self.reload(serializer.instance)


class MembershipViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProgrammeScopedViewSet,
):
    """Who sits in which group, for whom and with what mandate (shared programme-wide). The convener and
    coordinators add and change members; DELETE ends a membership (kept as history); a member may leave."""

    model = GroupMembership
    serializer_class = serializers.MembershipSerializer
    filterset_class = filters.MembershipFilter
    permission_classes = [IsAuthenticated]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # What the serializer shows: the membership, the person's name and the organisation's name, read as
        # columns of the membership's row (no person, user or organisation instance per row).
        return queryset.annotate(
            **serializers.name_columns("person"), _organisation_name=F("organisation__name")
        ).order_by("group", "pk")

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        created = groups.membership_add(
            actor=self.actor,
            group=data["group"],
            person=data["person"],
            role=data.get("role", GroupMembership.Role.MEMBER),
            mandate=data.get("mandate", ""),
            sent_by=data.get("sent_by", ""),
        )
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("group", None)
        data.pop("person", None)
        groups.membership_update(actor=self.actor, membership=serializer.instance, values=data)
        serializer.instance = self.reload(serializer.instance)

    def perform_destroy(self, instance: GroupMembership) -> None:
        groups.membership_remove(actor=self.actor, membership=instance)


MINUTES_IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='The version of the live minutes the text is based on (``minutes_version``, e.g. "3"): '
    "minutes changed since are refused with 412 and nothing is recorded. Without it the text is merged "
    "into the live minutes as the smallest edit from their current text.",
)


class MeetingViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ProgrammeScopedViewSet,
):
    """Meetings of the groups, with agenda, minutes and decisions. The convener and coordinators schedule,
    change (members get updated invites) and cancel them, and record the minutes."""

    model = Meeting
    serializer_class = serializers.MeetingSerializer
    filterset_class = filters.MeetingFilter
    permission_classes = [IsAuthenticated]
    ordering_fields = ["starts_at"]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return with_rows(
            queryset.select_related("minutes_note"),
            Rows(
                "agenda_items",
                AgendaItem.objects.filter(meeting=OuterRef("pk")).order_by("position", "pk"),
                ("title", "note"),
            ),
            Rows(
                "decisions",
                Decision.objects.filter(meeting=OuterRef("pk")).order_by("position", "pk"),
                ("text",),
            ),
        ).order_by("starts_at", "pk")

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        agenda = data.pop("agenda_items", [])
        created = meetings.meeting_create(
            actor=self.actor, group=data.pop("group"), values=data, agenda=agenda
        )
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("group", None)
        agenda = data.pop("agenda_items", None)
        meetings.meeting_update(actor=self.actor, meeting=serializer.instance, values=data, agenda=agenda)
        serializer.instance = self.reload(serializer.instance)

    @extend_schema(request=None, responses=serializers.MeetingSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel the meeting; every member receives the calendar cancellation."""
        meeting = self.get_object()
        meetings.meeting_cancel(actor=self.actor, meeting=meeting)
        return self.answer(meeting)

    @extend_schema(
        request=serializers.MinutesSerializer,
        parameters=[MINUTES_IF_MATCH],
        responses={
            200: serializers.MeetingSerializer,
            412: OpenApiResponse(description="The minutes changed since the version named"),
        },
    )
    @action(detail=True, methods=["post"])
    def minutes(self, request: Request, pk: str | None = None) -> Response:
        """Record the minutes and decisions; the meeting becomes held and the members are told. A
        ``minutes`` text is merged into the live minutes (without it they are recorded as they stand)."""
        meeting = self.get_object()
        parsed = serializers.MinutesSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        base = _if_match(request)
        if base is False:
            return self._stale_minutes(meeting)
        try:
            meetings.meeting_record_minutes(
                actor=self.actor,
                meeting=meeting,
                minutes=parsed.validated_data.get("minutes"),
                decisions=parsed.validated_data["decisions"],
                base_version=base,
            )
        except Conflict:
            return self._stale_minutes(meeting)
        return self.answer(meeting)

    def _stale_minutes(self, meeting: Meeting) -> Response:
        note = meetings.minutes_note(meeting)
        response = Response(
            {
                "detail": _("The minutes have changed since you opened them; merge with the current text."),
                "current_version": note.version,
                "current": self.get_serializer(self.reload(meeting)).data,
            },
            status=status.HTTP_412_PRECONDITION_FAILED,
        )
        response["ETag"] = note.etag
        return response


def _if_match(request: Request) -> int | None | bool:
    """The version an ``If-Match`` header names; None without one, False for one that is not a version."""
    header = request.headers.get("If-Match")
    if not header:
        return None
    match = _ETAG.match(header)
    return int(match.group(1)) if match is not None else False


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='The version the change is based on, as the ETag of GET (for example "3"): a note changed '
    "since is refused with 412. Without it the new text is merged into the live note as the smallest edit "
    "from its current text.",
)


class NoteViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ProgrammeScopedViewSet,
):
    """Shared notes: group-only notes for the group's members, programme and public notes for everyone in
    the programme. Members edit with ``If-Match``; every version is kept, can be compared and restored."""

    model = Note
    serializer_class = serializers.NoteSerializer
    filterset_class = filters.NoteFilter
    permission_classes = [IsAuthenticated]
    ordering_fields = ["title", "updated_at"]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            queryset.filter(permissions.readable_notes_filter(self.actor))
            .annotate(**serializers.name_columns("updated_by"))
            .order_by("group", "title", "pk")
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        actor = getattr(self, "actor", None)
        if actor is not None:
            # Read when the first row asks, after the page's own query: the list's SQL is then built
            # without a query, so that its first page is compiled once (``coordinator.core.shapes``).
            context["editable_group_ids"] = SimpleLazyObject(
                lambda: permissions.group_ids_with_right(actor, permissions.EDIT_NOTES)
            )
        return context

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        note = self.get_object()
        response = Response(self.get_serializer(note).data)
        response["ETag"] = note.etag
        return response

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        created = notes.note_create(
            actor=self.actor,
            group=data["group"],
            title=data["title"],
            body=data.get("body", ""),
            visibility=data.get("visibility", Note.Visibility.GROUP),
        )
        serializer.instance = self.reload(created)

    def reload_note(self, pk: int) -> Note:
        note: Note = self.get_queryset().get(pk=pk)
        return note

    def _base_version(self, request: Request, note: Note) -> int | None | Response:
        header = request.headers.get("If-Match")
        if not header:
            return None  # merged into the live text as it is now
        match = _ETAG.match(header)
        if match is None or int(match.group(1)) != note.version:
            return self._precondition_failed(note)
        return int(match.group(1))

    def _precondition_failed(self, note: Note) -> Response:
        response = Response(
            {
                "detail": _("The note has changed since you read it; merge with the current version."),
                "current_version": note.version,
                "current": self.get_serializer(note).data,
            },
            status=status.HTTP_412_PRECONDITION_FAILED,
        )
        response["ETag"] = note.etag
        return response

    @extend_schema(
        parameters=[IF_MATCH],
        responses={
            200: serializers.NoteSerializer,
            412: OpenApiResponse(description="Not the current version"),
        },
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        note = self.get_object()
        serializer = self.get_serializer(note, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        base = self._base_version(request, note)
        if isinstance(base, Response):
            return base
        data = serializer.validated_data
        try:
            notes.note_update(
                actor=self.actor,
                note=note,
                base_version=base,
                title=data.get("title"),
                body=data.get("body") if "body" in request.data else None,
                visibility=data.get("visibility"),
            )
        except Conflict as conflict:
            if conflict.current is None:
                raise
            return self._precondition_failed(self.reload_note(conflict.current.pk))
        fresh = self.reload_note(note.pk)
        response = Response(self.get_serializer(fresh).data)
        response["ETag"] = fresh.etag
        return response

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    @extend_schema(responses=serializers.NoteVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """Every saved version of the note, newest first, with author and time."""
        note = self.get_object()
        rows = selectors.versions_of(note)
        page = self.paginate_queryset(rows)
        if page is not None:
            return self.get_paginated_response(serializers.NoteVersionSerializer(page, many=True).data)
        return Response(serializers.NoteVersionSerializer(rows, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("old", int, OpenApiParameter.QUERY, required=True),
            OpenApiParameter("new", int, OpenApiParameter.QUERY, required=True),
        ],
        responses={200: OpenApiResponse(description="A unified diff of the two versions")},
    )
    @action(detail=True, methods=["get"])
    def compare(self, request: Request, pk: str | None = None) -> Response:
        """The difference between two versions (a unified diff, line by line)."""
        note = self.get_object()
        parsed = serializers.CompareSerializer(data=request.query_params.dict())
        parsed.is_valid(raise_exception=True)
        diff = selectors.compare_versions(note, parsed.validated_data["old"], parsed.validated_data["new"])
        if diff is None:
            return Response(
                {"version": [_("This note has no such version.")]}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response({"old": diff.old.version, "new": diff.new.version, "diff": diff.unified})

    @extend_schema(
        parameters=[IF_MATCH], request=serializers.RestoreSerializer, responses=serializers.NoteSerializer
    )
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        """Make an old version current again, as a new version."""
        note = self.get_object()
        parsed = serializers.RestoreSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        base = self._base_version(request, note)
        if isinstance(base, Response):
            return base
        try:
            notes.note_restore(
                actor=self.actor, note=note, version=parsed.validated_data["version"], base_version=base
            )
        except Conflict as conflict:
            if conflict.current is None:
                raise
            return self._precondition_failed(self.reload_note(conflict.current.pk))
        fresh = self.reload_note(note.pk)
        response = Response(self.get_serializer(fresh).data)
        response["ETag"] = fresh.etag
        return response


class ActionViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ProgrammeScopedViewSet,
):
    """Actions of the groups: members add them, owners move them along, conveners and coordinators change
    them. ``?owner=<me>&status=open&status=in_progress`` lists a person's open actions."""

    model = ActionItem
    serializer_class = serializers.ActionSerializer
    filterset_class = filters.ActionFilter
    permission_classes = [IsAuthenticated]
    ordering_fields = ["due_on", "updated_at"]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.annotate(**serializers.name_columns("owner")).order_by("due_on", "pk")

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        created = actions.action_create(
            actor=self.actor,
            group=data.pop("group"),
            owner=data.pop("owner"),
            organisation=data.pop("organisation", None),
            values=data,
        )
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("group", None)
        data.pop("organisation", None)
        actions.action_update(
            actor=self.actor, action=serializer.instance, owner=data.pop("owner", None), values=data
        )
        serializer.instance = self.reload(serializer.instance)


class ConceptViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ProgrammeScopedViewSet,
):
    """The shared glossary: each concept with every organisation's own term and definition side by side,
    and the members' comments. Everyone in the programme reads, adds concepts and comments; an
    organisation's term is set by its own people (or a coordinator)."""

    model = Concept
    serializer_class = serializers.ConceptSerializer
    filterset_class = filters.ConceptFilter
    permission_classes = [IsAuthenticated]
    ordering_fields = ["name"]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # The terms (with their organisation's name) in the page's own query; the comments, whose authors'
        # names need the person and the user, in one query of their own.
        terms = Rows(
            "terms",
            ConceptTerm.objects.filter(concept=OuterRef("pk")).order_by("organisation__name", "pk"),
            ("organisation", "term", "definition", "updated_at"),
            joined={"organisation": ("name",)},
        )
        return (
            with_rows(queryset, terms)
            .prefetch_related(
                Prefetch(
                    "comments",
                    queryset=ConceptComment.objects.annotate(**serializers.name_columns("author")).order_by(
                        *serializers.COMMENT_ORDER
                    ),
                ),
            )
            .order_by("name", "pk")
        )

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        created = glossary.concept_create(
            actor=self.actor,
            programme=data["programme"],
            name=data["name"],
            description=data.get("description", ""),
        )
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("programme", None)
        glossary.concept_update(actor=self.actor, concept=serializer.instance, values=data)
        serializer.instance = self.reload(serializer.instance)

    @extend_schema(request=serializers.TermSerializer, responses=serializers.TermSerializer)
    @action(detail=True, methods=["post"])
    def terms(self, request: Request, pk: str | None = None) -> Response:
        """Set (create or replace) one organisation's term and definition for the concept."""
        concept = self.get_object()
        parsed = serializers.TermSerializer(data=request.data, context=self.get_serializer_context())
        parsed.is_valid(raise_exception=True)
        row = glossary.term_set(
            actor=self.actor,
            concept=concept,
            organisation=parsed.validated_data["organisation"],
            term=parsed.validated_data["term"],
            definition=parsed.validated_data.get("definition", ""),
        )
        return Response(serializers.TermSerializer(row).data, status=status.HTTP_200_OK)

    @extend_schema(request=serializers.CommentSerializer, responses=serializers.CommentSerializer)
    @action(detail=True, methods=["post"])
    def comments(self, request: Request, pk: str | None = None) -> Response:
        """Comment on the concept."""
        concept = self.get_object()
        parsed = serializers.CommentSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        comment = glossary.comment_add(actor=self.actor, concept=concept, body=parsed.validated_data["body"])
        return Response(serializers.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
