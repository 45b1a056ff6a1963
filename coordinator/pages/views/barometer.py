"""The programme barometer: every feature's figures for a period, on a page and as CSV or XLSX."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from coordinator.core import charts, formatting, registry
from coordinator.core.formatting import Money
from coordinator.core.forms import PeriodForm
from coordinator.core.spreadsheets import XLSX_CONTENT_TYPE, write_csv, write_xlsx
from organisations.access.views import ProgrammeMixin
from organisations.models import PlatformRole, Programme
from organisations.permissions import REPORT_READERS, Actor
from organisations.reports.targets import programme_targets, progress

FILE_FORMATS = ("csv", "xlsx")


class BarometerView(ProgrammeMixin, TemplateView):
    """The programme barometer: every feature's figures for a period side by side (organisations and people,
    visits, courses, focus groups), with a CSV download of the same figures for reports to the funders."""

    template_name = "coordinator/barometer.html"
    required_roles = frozenset(REPORT_READERS)

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
            sections = with_readable_links(self.actor, self.programme, sections)
            if request.GET.get("format") in FILE_FORMATS:
                return barometer_file(self.programme, start, end, sections, request.GET["format"])
        return self.render_to_response(
            self.get_context_data(
                form=form,
                sections=sections,
                targets=target_panels(self.programme, today),
                can_set_targets=self.has_role(PlatformRole.PROGRAMME_ADMIN),
            )
        )


def with_readable_links(
    actor: Actor, programme: Programme, sections: list[registry.ReportSection]
) -> list[registry.ReportSection]:
    """The sections with each link to a feature's own report kept only where the reader may open that page
    (one of its ``link_roles``); a section whose page would refuse the reader shows no link."""
    return [
        section
        if not section.link_roles or actor.has_role(programme, *section.link_roles)
        else replace(section, link_label="", link_url="")
        for section in sections
    ]


def target_panels(programme: Programme, today: date) -> list[dict[str, object]]:
    """Each target's progress as the barometer shows it: a chart (total and each organisation over time),
    the same numbers as a table, where it stands, when it will be reached at the current pace and who is
    behind. A fixed number of queries, however many targets and organisations."""
    panels = []
    rows = list(programme_targets(programme))
    for index, item in enumerate(progress(programme, rows, today)):
        lines = [charts.Line(_("Whole programme"), item.series, emphasis=True)]
        lines += [charts.Line(row.name, row.series) for row in item.organisations if not row.hidden]
        chart_id = f"target-{item.target.pk}"
        description = _(
            "Progress towards %(title)s from %(start)s to %(end)s: %(percent)s of the goal, "
            "deadline %(deadline)s."
        ) % {
            "title": item.target.title,
            "start": formatting.day(item.dates[0]),
            "end": formatting.day(item.dates[-1]),
            "percent": "–" if item.percent is None else formatting.percent(item.percent),
            "deadline": formatting.day(item.target.deadline),
        }
        panels.append(
            {
                "index": index,
                "progress": item,
                "chart": charts.progress_chart(
                    chart_id=chart_id,
                    title=item.target.title,
                    description=description,
                    dates=item.dates,
                    lines=lines,
                    deadline=item.target.deadline,
                ),
                "legend": charts.legend(lines),
                "table": [
                    (day, [None if value is None else round(value * 100) for value in values])
                    for day, values in zip(
                        item.dates, zip(*(line.values for line in lines), strict=True), strict=True
                    )
                ],
                "columns": [line.label for line in lines],
            }
        )
    return panels


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
