"""My data: everything the platform holds about me, as a readable page and as a JSON download.

Each feature contributes its sections through ``registry.personal_data_exporters``; the download streams
them row by row (bounded memory for a long history), the page shows the first rows of each section.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from django.views import View
from django.views.generic import TemplateView

from coordinator.core.tenancy import programme_scope
from organisations.access.views import ProgrammeMixin
from organisations.selectors import personal_data, personal_data_json, personal_data_programme_ids

# Rows of a section shown on the page; the download holds them all.
PAGE_ROWS = 100


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "✓" if value else "–"
    if isinstance(value, list | dict):
        return (
            ", ".join(_cell(v) for v in value)
            if isinstance(value, list)
            else "; ".join(f"{k}: {_cell(v)}" for k, v in value.items())
        )
    return str(value)


class MyDataView(ProgrammeMixin, TemplateView):
    """What the platform holds about me, section by section, with the download link."""

    template_name = "coordinator/my_data.html"

    def get_context_data(self, **kwargs: object) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        sections = []
        with programme_scope(personal_data_programme_ids(self.person)):
            for section in personal_data(self.person):
                rows = list(islice(section.rows, PAGE_ROWS + 1))
                columns = list(rows[0]) if rows else []
                sections.append(
                    {
                        "key": section.key,
                        "title": section.title,
                        "columns": [c.replace("_", " ").capitalize() for c in columns],
                        "rows": [[_cell(row.get(c)) for c in columns] for row in rows[:PAGE_ROWS]],
                        "more": len(rows) > PAGE_ROWS,
                    }
                )
        context.update(sections=sections, page_rows=PAGE_ROWS)
        return context


class MyDataDownloadView(ProgrammeMixin, View):
    """Everything the platform holds about me as one JSON file, streamed."""

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        response = StreamingHttpResponse(personal_data_json(self.person), content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="samverkan-my-data.json"'
        response["Cache-Control"] = "no-store"
        return response
