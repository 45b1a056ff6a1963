"""``/api/v1/reports/``: the programme's targets (set by its admins), their progress over time, what the
follow-ups say and what activities cost per result, as JSON, or as CSV (semicolons, decimal commas, UTF-8
with a byte-order mark) and XLSX that Swedish and Danish Excel open as they are."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from coordinator.core import plans, registry
from coordinator.core.drf import CSVRenderer, XLSXRenderer
from coordinator.core.serializers import StrictModelSerializer
from coordinator.core.spreadsheets import XLSX_CONTENT_TYPE, write_csv, write_xlsx
from coordinator.pages.views.barometer_api import BarometerViewSet, PeriodQuerySerializer
from organisations.access.api import ProgrammeScopedViewSet, ScopedPrimaryKeyRelatedField
from organisations.models import Programme, Target, WorkRole
from organisations.permissions import REPORT_READERS
from organisations.reports.costs import costs
from organisations.reports.followups import Pool, effect
from organisations.reports.targets import TargetProgress, progress
from organisations.services import targets as target_services

PERIOD_PARAMETERS = [
    OpenApiParameter("programme", int, description="The programme's id."),
    OpenApiParameter("from", date, description="First day of the period (default: 1 January)."),
    OpenApiParameter("to", date, description="Last day of the period (default: 31 December)."),
]


class TargetSerializer(StrictModelSerializer):
    programme = ScopedPrimaryKeyRelatedField(model=Programme)
    work_role = ScopedPrimaryKeyRelatedField(model=WorkRole, required=False, allow_null=True)
    measure = serializers.CharField(max_length=60)
    title = serializers.CharField(max_length=200)
    subject_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True)
    goal = serializers.IntegerField(min_value=1, max_value=100_000)

    class Meta:
        model = Target
        fields = [
            "id",
            "programme",
            "title",
            "measure",
            "subject_id",
            "work_role",
            "goal",
            "starts_on",
            "deadline",
        ]

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if (
            self.instance is not None
            and "programme" in attrs
            and attrs["programme"] != self.instance.programme
        ):
            raise serializers.ValidationError({"programme": _("A target cannot move to another programme.")})
        return attrs


class TargetViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProgrammeScopedViewSet,
):
    """The targets of the programmes whose reports you read; their programme admins set, change and remove
    them. ``measure`` is one of ``GET /api/v1/reports/measures/``."""

    model = Target
    serializer_class = TargetSerializer

    def narrow_queryset(self, queryset: QuerySet[Target]) -> QuerySet[Target]:
        return queryset.filter(programme__in=self.actor.programmes_with_role(*REPORT_READERS)).order_by(
            "deadline", "pk"
        )

    def perform_create(self, serializer: TargetSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        programme = data.pop("programme")
        serializer.instance = target_services.target_create(
            actor=self.actor, programme=programme, values=data
        )

    def perform_update(self, serializer: TargetSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        data.pop("programme", None)
        assert isinstance(serializer.instance, Target)
        target_services.target_update(actor=self.actor, target=serializer.instance, values=data)

    def perform_destroy(self, instance: Target) -> None:
        target_services.target_delete(actor=self.actor, target=instance)


class ReportViewSet(BarometerViewSet):
    """The shared part of the report endpoints: the programme and period of the query, and the files."""

    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]

    def _query(self, request: Request) -> tuple[Programme, date, date]:
        incoming = PeriodQuerySerializer(
            data={k: v for k, v in request.query_params.items() if k != "format"}
        )
        incoming.is_valid(raise_exception=True)
        programme = self._programme(incoming.validated_data.get("programme"))
        year = timezone.localdate().year
        start = incoming.validated_data.get("from") or date(year, 1, 1)
        end = incoming.validated_data.get("to") or date(year, 12, 31)
        if end < start:
            raise serializers.ValidationError({"to": [_("The period must end on or after its start.")]})
        return programme, start, end

    def _answer(
        self, request: Request, name: str, headers: Sequence[str], rows: list[list[object]], body: object
    ) -> Response | HttpResponse:
        fmt = request.accepted_renderer.format
        if fmt == "csv":
            response = HttpResponse(
                write_csv(headers, [[excel_text(cell) for cell in row] for row in rows]),
                content_type="text/csv; charset=utf-8",
            )
        elif fmt == "xlsx":
            response = HttpResponse(
                write_xlsx(headers, [[_xlsx_value(cell) for cell in row] for row in rows], title=name),
                content_type=XLSX_CONTENT_TYPE,
            )
        else:
            return Response(body)
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response


def excel_text(value: object) -> object:
    """A cell for Nordic Excel's CSV: decimal comma in numbers with decimals, empty for nothing."""
    if value is None:
        return ""
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        return format(value, "f").replace(".", ",")
    return value


def _xlsx_value(value: object) -> object:
    return float(value) if isinstance(value, Decimal) else ("" if value is None else value)


def _number(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


class ProgressViewSet(ReportViewSet):
    """``GET /api/v1/reports/progress/?programme=``: each target's progress today (per cent of the goal,
    projected date at the current pace, organisations behind) and its series per date and organisation.
    Cells of fewer than five people are null."""

    @extend_schema(parameters=PERIOD_PARAMETERS[:1], responses={200: dict})
    def report(self, request: Request) -> Response | HttpResponse:
        programme, _start, _end = self._query(request)
        today = timezone.localdate()
        found = progress(programme, list(Target.objects.filter(programme=programme)), today)
        rows: list[list[object]] = []
        for item in found:
            rows += [
                [item.target.title, day.isoformat(), _("Whole programme"), _percent(v)]
                for day, v in zip(item.dates, item.series, strict=True)
            ]
            for org in item.organisations:
                values = org.series or [None] * len(item.dates)
                rows += [
                    [item.target.title, day.isoformat(), org.name, _percent(v)]
                    for day, v in zip(item.dates, values, strict=True)
                ]
        headers = [_("Target"), _("Date"), _("Organisation"), _("Per cent of the goal")]
        return self._answer(
            request,
            f"progress-{programme.slug}",
            headers,
            rows,
            {
                "programme": programme.pk,
                "today": today.isoformat(),
                "targets": [_target_json(item) for item in found],
            },
        )


def _percent(value: float | None) -> int | None:
    return None if value is None else round(value * 100)


def _target_json(item: TargetProgress) -> dict[str, object]:
    return {
        "id": item.target.pk,
        "title": item.target.title,
        "measure": item.target.measure,
        "deadline": item.target.deadline.isoformat(),
        "done": item.done,
        "needed": item.needed,
        "percent": item.percent,
        "status": item.status,
        "projected_on": item.projected_on.isoformat() if item.projected_on else None,
        "on_track": item.on_track,
        "behind": [row.organisation_id for row in item.behind],
        "series": [
            {"date": day.isoformat(), "percent": _percent(value)}
            for day, value in zip(item.dates, item.series, strict=True)
        ],
        "organisations": [
            {
                "organisation": row.organisation_id,
                "name": row.name,
                "hidden": row.hidden,
                "done": row.done,
                "needed": row.needed,
                "percent": row.percent,
                "series": [_percent(value) for value in row.series] if not row.hidden else None,
            }
            for row in item.organisations
        ],
    }


class FollowUpReportViewSet(ReportViewSet):
    """``GET /api/v1/reports/follow-ups/?programme=&from=&to=``: follow-up answers about what was finished
    in the period, pooled per course or host workplace, per organisation and in all, against the people's
    own expectations. Pools of fewer than five people are null; free text appears only for pools of five or
    more and never with a name."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: dict})
    def report(self, request: Request) -> Response | HttpResponse:
        programme, start, end = self._query(request)
        found = effect(programme, start, end)
        pools = [*found.by_group, *found.by_organisation, found.total]
        headers = [
            _("Pooled by"),
            _("Name"),
            _("People answering"),
            _("Expected (1-5)"),
            _("Difference made (1-5)"),
            _("Managers' view (1-5)"),
            _("Used in daily work (%)"),
            _("Shared with colleagues (%)"),
        ]
        rows = [[pool.kind_label or pool.key[0], pool.name, *_pool_cells(pool)] for pool in pools]
        return self._answer(
            request,
            f"follow-ups-{programme.slug}",
            headers,
            rows,
            {
                "programme": programme.pk,
                "from": start.isoformat(),
                "to": end.isoformat(),
                "by_group": [_pool_json(pool) for pool in found.by_group],
                "by_organisation": [_pool_json(pool) for pool in found.by_organisation],
                "total": _pool_json(found.total),
            },
        )


def _pool_cells(pool: Pool) -> list[object]:
    f = pool.figures()
    return [
        f["respondents"],
        f["expected"],
        f["rating"],
        f["manager_rating"],
        f["used_percent"],
        f["shared_percent"],
    ]


def _pool_json(pool: Pool) -> dict[str, object]:
    figures = {
        key: (_number(value) if isinstance(value, Decimal) else value)
        for key, value in pool.figures().items()
    }
    return {
        "kind": pool.key[0],
        "id": pool.key[1],
        "name": pool.name,
        "hidden": pool.hidden,
        **figures,
        "comments": pool.texts,
    }


class CostReportViewSet(ReportViewSet):
    """``GET /api/v1/reports/costs/?programme=&from=&to=``: what each activity cost in the period, its
    result and the cost per result (per completed participant, per visit day, per competence gained), with
    the currency. Amounts are decimal strings in JSON."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: dict})
    def report(self, request: Request) -> Response | HttpResponse:
        programme, start, end = self._query(request)
        lines = costs(programme, start, end)
        headers = [_("Activity"), _("Cost"), _("Currency"), _("Result"), _("Unit"), _("Cost per result")]
        rows: list[list[object]] = [
            [str(line.label), line.amount, line.currency, line.units, str(line.unit_label), line.per_unit]
            for line in lines
        ]
        return self._answer(
            request,
            f"costs-{programme.slug}",
            headers,
            rows,
            {
                "programme": programme.pk,
                "from": start.isoformat(),
                "to": end.isoformat(),
                "currency": programme.currency,
                "lines": [
                    {
                        "key": line.key,
                        "label": str(line.label),
                        "amount": _number(line.amount),
                        "units": line.units,
                        "unit": str(line.unit_label),
                        "per_unit": _number(line.per_unit),
                        "currency": line.currency,
                        "parts": [
                            {
                                "label": str(part.label),
                                "amount": _number(part.amount),
                                "rate": _number(part.rate),
                                "units": part.units,
                            }
                            for part in line.parts
                        ],
                    }
                    for line in lines
                ],
            },
        )


class MeasureViewSet(ReportViewSet):
    """``GET /api/v1/reports/measures/?programme=``: what a target can measure, and what each can be about."""

    renderer_classes = [JSONRenderer]

    @extend_schema(parameters=PERIOD_PARAMETERS[:1], responses={200: dict})
    def report(self, request: Request) -> Response | HttpResponse:
        programme, _start, _end = self._query(request)
        measures = [
            {
                "key": m.key,
                "label": str(m.label),
                "kind": m.kind,
                "unit": str(m.unit),
                "uses_work_role": m.uses_work_role,
                "subjects": [{"id": pk, "title": title} for pk, title in m.subjects(programme)],
            }
            for m in registry.measures
        ]
        return Response({"programme": programme.pk, "measures": measures})
