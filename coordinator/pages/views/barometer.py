"""The programme barometer: every feature's figures for a period, on a page and as CSV or XLSX."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from coordinator.core import registry
from coordinator.core.formatting import Money
from coordinator.core.forms import PeriodForm
from coordinator.core.spreadsheets import XLSX_CONTENT_TYPE, write_csv, write_xlsx
from organisations.access.views import ProgrammeMixin
from organisations.models import PlatformRole, Programme

FILE_FORMATS = ("csv", "xlsx")


class BarometerView(ProgrammeMixin, TemplateView):
    """The programme barometer: every feature's figures for a period side by side (organisations and people,
    visits, courses, focus groups), with a CSV download of the same figures for reports to the funders."""

    template_name = "coordinator/barometer.html"
    required_roles = frozenset(
        {PlatformRole.PROGRAMME_ADMIN, PlatformRole.COORDINATOR, PlatformRole.ORGANISATION_ADMIN}
    )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        today = timezone.localdate()
        data = request.GET if "start" in request.GET or "end" in request.GET else None
        form = PeriodForm(data, initial={"start": date(today.year, 1, 1), "end": date(today.year, 12, 31)})
        sections: list[registry.ReportSection] = []
        if data is None or form.is_valid():
            start = form.cleaned_data["start"] if data is not None else date(today.year, 1, 1)
            end = form.cleaned_data["end"] if data is not None else date(today.year, 12, 31)
            for provider in registry.report_providers:
                section = provider(self.programme, start, end)
                if section is not None:
                    sections.append(section)
            if request.GET.get("format") in FILE_FORMATS:
                return barometer_file(self.programme, start, end, sections, request.GET["format"])
        return self.render_to_response(self.get_context_data(form=form, sections=sections))


def barometer_rows(sections: list[registry.ReportSection]) -> tuple[list[str], list[list[object]]]:
    """The barometer as one sheet: a row per figure (section, figure, value, unit), then each table under
    its section and caption. An amount is a number with its currency as the unit (or in its column's
    heading), so that a spreadsheet sums it; every text is written in the active language."""
    headers = [_("Section"), _("Figure"), _("Value"), _("Unit")]
    rows: list[list[object]] = []
    for section in sections:
        for label, value in section.figures:
            unit = value.currency if isinstance(value, Money) else ""
            rows.append([str(section.title), str(label), _cell(value), unit])
        for table in section.tables:
            rows.append([])
            rows.append([str(section.title), str(table.caption)])
            currencies = {
                index: cell.currency
                for row in table.rows
                for index, cell in enumerate(row)
                if isinstance(cell, Money)
            }
            rows.append(
                [
                    f"{column} ({currencies[index]})" if index in currencies else str(column)
                    for index, column in enumerate(table.columns)
                ]
            )
            rows.extend([_cell(cell) for cell in row] for row in table.rows)
    return headers, rows


def _cell(value: object) -> object:
    if isinstance(value, Money | bool | int | float | Decimal) or value is None:
        return value
    return str(value)


def barometer_file(
    programme: Programme, start: date, end: date, sections: list[registry.ReportSection], file_format: str
) -> HttpResponse:
    """The barometer as a download that Swedish and Danish Excel open as they are: CSV with semicolons,
    decimal commas and a byte-order mark, or XLSX with numbers and amounts as numbers."""
    headers, rows = barometer_rows(sections)
    name = f"barometer-{programme.slug}-{start.isoformat()}-{end.isoformat()}.{file_format}"
    if file_format == "xlsx":
        response = HttpResponse(
            write_xlsx(headers, rows, title=_("Barometer")), content_type=XLSX_CONTENT_TYPE
        )
    else:
        response = HttpResponse(write_csv(headers, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
