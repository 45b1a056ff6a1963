"""The programme's audit trail, for its admins."""

from __future__ import annotations

from datetime import UTC, date, datetime

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Field
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from coordinator.core import formatting, registry
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


# Fields that models leave unnamed (Django then shows the attribute's name), in the reader's language.
_COMMON_LABELS = {
    "id": gettext_lazy("ID"),
    "created_at": gettext_lazy("created"),
    "created_by": gettext_lazy("created by"),
    "updated_at": gettext_lazy("changed"),
}


def _label(field: Field[object, object] | None, name: str) -> str:
    """A field's name as the reader reads it: its own verbose_name, else a related model's name, else a
    common name; Django's fallback (the attribute's name) is never shown where a translation exists."""
    if field is not None and getattr(field, "_verbose_name", None) is not None:
        return str(field.verbose_name)
    if name in _COMMON_LABELS:
        return str(_COMMON_LABELS[name])
    if field is not None and field.is_relation and field.related_model is not None:
        return str(field.related_model._meta.verbose_name)  # type: ignore[union-attr]
    return str(getattr(field, "verbose_name", name))


def _value(
    field: Field[object, object] | None, name: str, model: type[models.Model] | None, value: str
) -> str:
    """A recorded value as the reader reads it: a choice's label, a moment in the programme's time zone, a
    day as people write it; an empty value (``None``) as nothing."""
    if value in ("None", ""):
        return ""
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if name == "measure" and model is not None and model._meta.label == "organisations.Target":
        measure = registry.measures.get(value)
        return str(measure.label) if measure is not None else value
    try:
        if isinstance(field, models.DateTimeField):
            moment = datetime.fromisoformat(value)
            # django-auditlog records moments as naive UTC
            return formatting.day_and_time(
                moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
            )
        if isinstance(field, models.DateField):
            return formatting.day(date.fromisoformat(value))
    except ValueError:
        return value
    return value


def _changed_fields(entry: LogEntry) -> list[tuple[str, str | None, str]]:
    """An entry's changes as (field, old, new) in the order of the fields' names, with the field's name,
    choices and dates in the reader's language; a creation has no old side (None) (no query per entry)."""
    model = entry.content_type.model_class()
    rows: list[tuple[str, str | None, str]] = []
    for name, values in (entry.changes_dict or {}).items():
        old, new = (str(value) for value in values[:2]) if len(values) >= 2 else ("", str(values))
        if name == personal_data.ERASURE_FIELD:  # the entry that records an erasure
            rows.append((str(_ERASURE_LABEL), "", str(_ERASURE_OUTCOMES.get(new, new))))
            continue
        try:
            field = model._meta.get_field(name) if model is not None else None
        except FieldDoesNotExist:
            field = None
        concrete = field if isinstance(field, models.Field) else None
        before = None if entry.action == LogEntry.Action.CREATE else _value(concrete, name, model, old)
        after = _value(concrete, name, model, new)
        if before or after:  # a field created empty says nothing
            rows.append((_label(concrete, name), before, after))
    # (by name: the recorded order is the database's, and PostgreSQL's JSON keeps its keys in its own)
    return sorted(rows, key=lambda row: row[0].casefold())


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
