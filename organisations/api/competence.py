"""API of competences under ``/api/v1/competence/``: competences and what gives them, the profiles of
roles at work, line managers' confirmations, a person's profile, a line manager's team, and the gap table
(JSON, CSV or XLSX)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from coordinator.core import plans
from coordinator.core.drf import CSVRenderer, XLSXRenderer
from coordinator.core.rows import with_rows
from coordinator.core.spreadsheets import XLSX_CONTENT_TYPE
from coordinator.core.validators import parse_int
from organisations import permissions
from organisations.access.api import ProgrammeScopedViewSet, requested_programme
from organisations.models import (
    Competence,
    CompetenceConfirmation,
    CompetenceSource,
    Organisation,
    Person,
    PlatformRole,
    ProfileCompetence,
    WorkRole,
)
from organisations.selectors import competence as selectors
from organisations.selectors import gaps
from organisations.serializers.competence import (
    CompetenceConfirmationSerializer,
    CompetenceSerializer,
    GapTableSerializer,
    PersonProfileSerializer,
    RoleProfileSerializer,
    TeamSerializer,
)
from organisations.services import competence as services
from organisations.views.competence import gap_file

PROGRAMME_PARAMETER = OpenApiParameter(
    "programme", int, description="The programme (optional when you belong to one only)."
)


class CompetenceViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProgrammeScopedViewSet,
):
    """The competences of your programmes and what gives each (``sources``: ``course`` with a course id,
    ``agency_kind`` with a kind of agency, ``focus_group`` with a group id). Programme admins change them."""

    model = Competence
    serializer_class = CompetenceSerializer

    def narrow_queryset(self, queryset: QuerySet[Competence]) -> QuerySet[Competence]:
        if self.action == "list":
            # The list only serialises: the sources read with each competence's row (its plan reads them).
            return with_rows(queryset, selectors.source_rows()).order_by("programme_id", "name", "pk")
        return queryset.prefetch_related(
            Prefetch("sources", queryset=CompetenceSource.objects.order_by("kind", "value"))
        ).order_by("programme_id", "name", "pk")

    def perform_create(self, serializer: CompetenceSerializer) -> None:  # type: ignore[override]
        data = serializer.validated_data
        created = services.competence_create(
            actor=self.actor,
            programme=data["programme"],
            name=data["name"],
            description=data.get("description", ""),
            manager_sign_off=data.get("manager_sign_off", True),
            sources=[(s["kind"], s["value"]) for s in data.get("sources", [])],
        )
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: CompetenceSerializer) -> None:  # type: ignore[override]
        competence = serializer.instance
        assert isinstance(competence, Competence)
        data = serializer.validated_data
        sources = (
            [(s["kind"], s["value"]) for s in data["sources"]]
            if "sources" in data
            else list(competence.sources.values_list("kind", "value"))
        )
        services.competence_update(
            actor=self.actor,
            competence=competence,
            name=data.get("name", competence.name),
            description=data.get("description", competence.description),
            manager_sign_off=data.get("manager_sign_off", competence.manager_sign_off),
            sources=sources,
        )
        serializer.instance = self.reload(competence)

    def perform_destroy(self, instance: Competence) -> None:
        services.competence_delete(actor=self.actor, competence=instance)


def _profile(role: WorkRole) -> dict[str, object]:
    return {
        "work_role": role.pk,
        "name": role.name,
        "competences": [
            {"competence": entry.competence_id, "level": entry.level}
            for entry in sorted(role.profile_competences.all(), key=lambda e: (e.level, e.competence_id))
        ],
    }


class RoleProfileViewSet(plans.ListModelMixin, mixins.RetrieveModelMixin, ProgrammeScopedViewSet):
    """Each role at work's profile (addressed by the role's id): which competences are basic and which
    professional. Programme admins set a whole profile with PUT."""

    model = WorkRole
    serializer_class = RoleProfileSerializer

    def narrow_queryset(self, queryset: QuerySet[WorkRole]) -> QuerySet[WorkRole]:
        return queryset.prefetch_related("profile_competences").order_by("programme_id", "name", "pk")

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        # The page's roles with the two columns shown, and their entries as columns: no entry instances and
        # no join to the competences (the entries are ordered here, as ``_profile`` orders them).
        roles = self.get_queryset().prefetch_related(None).only("pk", "name")
        page: list[WorkRole] = self.paginate_queryset(roles) or []
        entries: dict[int, list[tuple[str, int]]] = {role.pk: [] for role in page}
        rows = ProfileCompetence.objects.filter(work_role_id__in=list(entries)).order_by()
        for role_id, competence_id, level in rows.values_list("work_role_id", "competence_id", "level"):
            entries[role_id].append((level, competence_id))
        return self.get_paginated_response(
            [
                {
                    "work_role": role.pk,
                    "name": role.name,
                    "competences": [
                        {"competence": competence_id, "level": level}
                        for level, competence_id in sorted(entries[role.pk])
                    ],
                }
                for role in page
            ]
        )

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return Response(_profile(self.get_object()))

    @extend_schema(request=RoleProfileSerializer, responses=RoleProfileSerializer)
    def update(self, request: Request, pk: str | None = None) -> Response:
        role = self.get_object()
        incoming = RoleProfileSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        levels: dict[int, str] = {}
        for entry in incoming.validated_data["competences"]:
            if entry["competence"] in levels:
                raise ValidationError({"competences": [_("Name each competence once.")]})
            levels[entry["competence"]] = entry["level"]
        services.role_profile_set(actor=self.actor, work_role=role, levels=levels)
        return Response(_profile(self.reload(role)))


class CompetenceConfirmationViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ProgrammeScopedViewSet,
):
    """Competences line managers confirmed were gained elsewhere: a line manager sees and confirms those of
    the people who report to them, the coordinators see all, a person sees their own."""

    model = CompetenceConfirmation
    serializer_class = CompetenceConfirmationSerializer

    def narrow_queryset(self, queryset: QuerySet[CompetenceConfirmation]) -> QuerySet[CompetenceConfirmation]:
        person = self.actor.person
        if person is None:
            return queryset.none()
        coordinating = self.actor.programmes_with_role(*permissions.COORDINATING_ROLES)
        return queryset.filter(
            Q(programme_id__in=coordinating) | Q(person=person) | Q(person__line_manager=person)
        ).order_by("-gained_on", "pk")

    @extend_schema(parameters=[PROGRAMME_PARAMETER])
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        programme = requested_programme(request, self.actor)
        person: Person = data["person"]
        if not person.memberships.filter(programme=programme).exists():
            raise ValidationError({"person": [_("Choose a member of this programme.")]})
        confirmation = services.competence_confirm(
            actor=self.actor,
            programme=programme,
            person=person,
            competence=data["competence"],
            gained_on=data["gained_on"],
            note=data.get("note", ""),
        )
        return self.answer(confirmation, status.HTTP_201_CREATED)

    def perform_destroy(self, instance: CompetenceConfirmation) -> None:
        services.competence_confirmation_withdraw(actor=self.actor, confirmation=instance)


class CompetenceReportViewSet(ProgrammeScopedViewSet):
    """Gaps and profiles: the gap table by organisation (or by unit of ``organisation``), a person's
    profile, a line manager's team."""

    model = Competence
    serializer_class = GapTableSerializer
    pagination_class = None
    filterset_class = None

    @extend_schema(
        parameters=[
            PROGRAMME_PARAMETER,
            OpenApiParameter("organisation", int, description="By unit of this organisation."),
            OpenApiParameter("format", str, enum=["json", "csv", "xlsx"]),
        ],
        responses={200: GapTableSerializer, (200, "text/csv"): bytes, (200, XLSX_CONTENT_TYPE): bytes},
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer, XLSXRenderer])
    def gaps(self, request: Request) -> Response | HttpResponse:
        """Who lacks what, by organisation (or by unit): groups under five people hidden, and any figure
        that would reveal one. ``format=csv`` or ``xlsx`` downloads it for Swedish or Danish Excel."""
        programme = requested_programme(request, self.actor)
        organisation = None
        raw = request.query_params.get("organisation", "")
        if raw:
            pk = parse_int(raw)
            if pk is None:
                raise ValidationError({"organisation": [_("Give a whole number.")]})
            organisation = Organisation.objects.filter(pk=pk, participations__programme=programme).first()
            if organisation is None:
                raise ValidationError({"organisation": [_("Choose an organisation of this programme.")]})
            if not permissions.can_see_organisation_gaps(self.actor, programme, organisation.pk):
                raise PermissionDenied(_("Your roles in this programme do not include this report."))
        elif not permissions.can_see_programme_gaps(self.actor, programme):
            raise PermissionDenied(_("Your roles in this programme do not include this report."))
        kind = request.query_params.get("format", "json")
        if kind not in {"json", "csv", "xlsx"}:
            raise ValidationError({"format": [_("Choose json, csv or xlsx.")]})
        heat_map = gaps.gap_heat_map(programme, organisation)
        if kind != "json":
            return gap_file(heat_map, kind=kind, name=programme.slug)
        return Response(gap_table(heat_map))

    @extend_schema(parameters=[PROGRAMME_PARAMETER], responses=PersonProfileSerializer)
    @action(detail=False, methods=["get"], url_path=r"people/(?P<person_id>\d+)")
    def person(self, request: Request, person_id: str) -> Response:
        """A person's competences and gaps, with how to close them: the person, their line manager and
        the programme's coordinators only (anyone else: 404)."""
        programme = requested_programme(request, self.actor)
        pk = parse_int(person_id)
        person = Person.objects.filter(pk=pk, memberships__programme=programme).select_related("user").first()
        if person is None or not permissions.can_see_competence_profile(self.actor, programme, person):
            raise Http404
        profile = selectors.person_profile(programme, person)
        return Response(
            {
                "person": person.pk,
                "work_role": profile.work_role,
                "lines": [
                    {
                        "competence": {"id": line.competence.id, "name": line.competence.name},
                        "level": line.level,
                        "has": line.has,
                        "gained_on": line.gained_on,
                        "confirmed": line.confirmed,
                        "ways": line.ways,
                        "suggestions": [
                            {"label": s.label, "detail": s.detail, "url": s.url} for s in line.suggestions
                        ],
                    }
                    for line in profile.lines
                ],
            }
        )

    @extend_schema(parameters=[PROGRAMME_PARAMETER], responses=TeamSerializer)
    @action(detail=False, methods=["get"])
    def team(self, request: Request) -> Response:
        """A line manager's team: one row per person who reports to you, a cell per competence (``has``,
        ``lacks`` or empty when their profile does not ask for it)."""
        programme = requested_programme(request, self.actor)
        if not self.actor.has_role(programme, PlatformRole.LINE_MANAGER) or self.actor.person is None:
            raise PermissionDenied(_("Your roles in this programme do not include this report."))
        grid = gaps.team_grid(programme, self.actor.person.pk)
        return Response(
            {
                "competences": [{"id": c.id, "name": c.name} for c in grid.columns],
                "people": [{"id": row.person_id, "name": row.name, "marks": row.marks} for row in grid.rows],
            }
        )


def gap_table(heat_map: gaps.HeatMap) -> dict[str, object]:
    def cell(competence_id: int, c: gaps.Cell) -> dict[str, object]:
        if c.hidden:
            return {
                "competence": competence_id,
                "hidden": True,
                "asked": None,
                "lacking": None,
                "share": None,
            }
        return {
            "competence": competence_id,
            "hidden": False,
            "asked": c.required,
            "lacking": c.lacking,
            "share": c.share,
        }

    return {
        "min_group": selectors.MIN_GROUP,
        "row_heading": heat_map.row_heading,
        "competences": [{"id": c.id, "name": c.name} for c in heat_map.columns],
        "rows": [
            {
                "id": pk,
                "name": name,
                "cells": [cell(c.id, x) for c, x in zip(heat_map.columns, cells, strict=True)],
                "total": cell(0, total),
            }
            for (pk, name), cells, total in heat_map.table()
        ],
        "totals": [cell(c.id, x) for c, x in zip(heat_map.columns, heat_map.totals(), strict=True)],
    }
