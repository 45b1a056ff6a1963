"""The programme's audit trail, for its admins."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from organisations.access.views import ProgrammeMixin
from organisations.forms import AuditTrailFilterForm
from organisations.models import PlatformRole
from organisations.selectors import audit_trail
from organisations.services import personal_data

_ERASURE_LABEL = gettext_lazy("Personal data")
_ERASURE_OUTCOMES = {
    "erased": gettext_lazy("erased"),
    "withdrawn": gettext_lazy("removed from this programme"),
}


def _changed_fields(entry: LogEntry) -> list[tuple[str, str, str]]:
    """An entry's changes as (field, old, new), with the field's name and choices in the reader's language;
    other values as they were recorded (no query per entry)."""
    model = entry.content_type.model_class()
    rows = []
    for name, values in (entry.changes_dict or {}).items():
        old, new = (str(value) for value in values[:2]) if len(values) >= 2 else ("", str(values))
        if name == personal_data.ERASURE_FIELD:  # the entry that records an erasure
            rows.append((str(_ERASURE_LABEL), "", str(_ERASURE_OUTCOMES.get(new, new))))
            continue
        try:
            field = model._meta.get_field(name) if model is not None else None
        except FieldDoesNotExist:
            field = None
        label = str(getattr(field, "verbose_name", name))
        choices = dict(getattr(field, "choices", None) or [])
        rows.append((label, str(choices.get(old, old)), str(choices.get(new, new))))
    return rows


def _kind(entry: LogEntry) -> str:
    model = entry.content_type.model_class()
    return str(model._meta.verbose_name).capitalize() if model is not None else entry.content_type.model


class AuditTrailView(ProgrammeMixin, TemplateView):
    """The programme's audit trail for its admins: who changed what and when, newest first."""

    template_name = "organisations/audit_trail.html"
    required_roles = frozenset({PlatformRole.PROGRAMME_ADMIN})
    paginate_by = 50

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        form = AuditTrailFilterForm(request.GET or None, programme=self.programme)
        if form.is_bound and not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, page=None), status=400)
        filters = form.cleaned_data if form.is_bound else {}
        entries = audit_trail(
            self.programme, model_label=filters.get("object_type") or None, person=filters.get("person")
        )
        page = Paginator(entries, self.paginate_by).get_page(request.GET.get("page"))
        rows = [{"entry": entry, "kind": _kind(entry), "changes": _changed_fields(entry)} for entry in page]
        query = request.GET.copy()
        query.pop("page", None)
        return self.render_to_response(
            self.get_context_data(form=form, page=page, rows=rows, query=query.urlencode())
        )
