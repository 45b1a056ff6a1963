"""The programme barometer: every feature's figures for a period, on a page and as CSV."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from coordinator.core import charts, registry
from coordinator.core.forms import PeriodForm
from organisations.access.views import ProgrammeMixin
from organisations.models import PlatformRole, Programme
from organisations.permissions import REPORT_READERS
from organisations.reports.targets import programme_targets, progress

# Text a spreadsheet would run as a formula when it starts a cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
            if request.GET.get("format") == "csv":
                return _barometer_csv(self.programme, start, end, sections)
        return self.render_to_response(
            self.get_context_data(
                form=form,
                sections=sections,
                targets=target_panels(self.programme, today),
                can_set_targets=self.has_role(PlatformRole.PROGRAMME_ADMIN),
            )
        )


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
            "start": item.dates[0].isoformat(),
            "end": item.dates[-1].isoformat(),
            "percent": "–" if item.percent is None else f"{item.percent} %",
            "deadline": item.target.deadline.isoformat(),
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


def _barometer_csv(
    programme: Programme, start: date, end: date, sections: list[registry.ReportSection]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="barometer-{programme.slug}-{start.isoformat()}-{end.isoformat()}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow([_("Section"), _("Figure"), _("Value")])
    for section in sections:
        for label, value in section.figures:
            writer.writerow([_csv_cell(section.title), _csv_cell(label), _csv_cell(value)])
        for table in section.tables:
            writer.writerow([])
            writer.writerow([_csv_cell(section.title), _csv_cell(table.caption)])
            writer.writerow([_csv_cell(column) for column in table.columns])
            for row in table.rows:
                writer.writerow([_csv_cell(cell) for cell in row])
    return response


def _csv_cell(value: object) -> str:
    """A cell as text; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
