"""The programme barometer for integrators: the figures of the barometer page as JSON, or as CSV that
Swedish Excel opens as it is (semicolons, decimal commas, a UTF-8 byte order mark)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from coordinator.core import registry
from coordinator.core.drf import CSVRenderer, XLSXRenderer
from coordinator.core.formatting import Money
from coordinator.core.serializers import StrictSerializer
from coordinator.core.validators import date_validators
from coordinator.pages.views.barometer import FILE_FORMATS, barometer_file, with_readable_links
from organisations.access.api import ProgrammeScopedViewSet
from organisations.models import Programme
from organisations.permissions import REPORT_READERS

REPORT_ROLES = REPORT_READERS
MAX_PERIOD_DAYS = 366 * 5


class PeriodQuerySerializer(StrictSerializer):
    programme = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    # ``from`` is a Python keyword: the field is declared under another name and mapped below.
    start = serializers.DateField(source="from", required=False, validators=date_validators())
    to = serializers.DateField(required=False, validators=date_validators())
    format = serializers.ChoiceField(choices=["json", "csv", "xlsx"], required=False)

    def to_internal_value(self, data: Mapping[str, object]) -> dict[str, object]:  # type: ignore[override]
        values = {key: value for key, value in data.items()}
        if "from" in values:
            values["start"] = values.pop("from")
        return super().to_internal_value(values)

    def validate(self, attrs: dict[str, date]) -> dict[str, date]:
        start, end = attrs.get("from"), attrs.get("to")
        if start and end:
            if end < start:
                raise serializers.ValidationError({"to": _("The period must end on or after its start.")})
            if (end - start).days > MAX_PERIOD_DAYS:
                raise serializers.ValidationError({"to": _("A period can be at most five years long.")})
        return attrs


class BarometerViewSet(ProgrammeScopedViewSet):
    """``GET /api/v1/reports/barometer/?programme=&from=&to=``: every feature's barometer figures of one
    programme for a period (default: this calendar year), for its admins, coordinators and organisation
    admins. ``programme`` may be left out by someone who reports on one programme only. ``?format=csv``
    (or ``Accept: text/csv``) answers CSV for Swedish and Danish Excel, ``?format=xlsx`` a workbook."""

    model = Programme
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]
    pagination_class = None

    def narrow_queryset(self, queryset: QuerySet[Programme]) -> QuerySet[Programme]:  # type: ignore[override]
        return queryset.filter(pk__in=self.actor.programmes_with_role(*REPORT_ROLES))

    def _programme(self, wanted: int | None) -> Programme:
        reporting = self.get_queryset().order_by("pk")
        if wanted is None:
            choices = list(reporting[:2])
            if len(choices) == 1:
                return choices[0]
            if not choices:
                raise PermissionDenied(_("Your roles include no programme's barometer."))
            raise serializers.ValidationError({"programme": [_("Name the programme to report on.")]})
        found = reporting.filter(pk=wanted).first()
        if found is None:
            # Another programme, or one the caller may not report on: the same answer as a missing one.
            raise serializers.ValidationError({"programme": [_("No such programme among yours.")]})
        return found

    @extend_schema(
        parameters=[
            OpenApiParameter("programme", int, description="The programme's id."),
            OpenApiParameter("from", date, description="First day of the period (default: 1 January)."),
            OpenApiParameter("to", date, description="Last day of the period (default: 31 December)."),
        ],
        responses={200: dict},
    )
    def report(self, request: Request) -> Response | HttpResponse:
        incoming = PeriodQuerySerializer(data=request.query_params)
        incoming.is_valid(raise_exception=True)
        programme = self._programme(incoming.validated_data.get("programme"))
        year = timezone.localdate().year
        start = incoming.validated_data.get("from") or date(year, 1, 1)
        end = incoming.validated_data.get("to") or date(year, 12, 31)
        if end < start:
            raise serializers.ValidationError({"to": [_("The period must end on or after its start.")]})
        sections = [
            section
            for provider in registry.report_providers
            if (section := provider(programme, start, end)) is not None
        ]
        sections = with_readable_links(self.actor, programme, sections)
        if request.accepted_renderer.format in FILE_FORMATS:
            return barometer_file(programme, start, end, sections, request.accepted_renderer.format)
        return Response(
            {
                "programme": programme.pk,
                "from": start.isoformat(),
                "to": end.isoformat(),
                "sections": [_section_json(section) for section in sections],
            }
        )


def _json_value(value: object) -> object:
    if isinstance(value, Money):
        return float(value.value)
    if isinstance(value, bool) or value is None or isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _section_json(section: registry.ReportSection) -> dict[str, object]:
    return {
        "title": str(section.title),
        "figures": [{"label": str(label), "value": _json_value(value)} for label, value in section.figures],
        "tables": [
            {
                "caption": str(table.caption),
                "columns": [str(column) for column in table.columns],
                "rows": [[_json_value(cell) for cell in row] for row in table.rows],
            }
            for table in section.tables
        ],
        "link_url": section.link_url,
    }
