"""Pages about the programme's organisations and their units and staff."""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.generic import FormView, TemplateView

from coordinator.core.views import ServiceFormMixin
from organisations.access.views import ProgrammeMixin
from organisations.forms import AuditTrailFilterForm, PersonEraseForm
from organisations.models import Organisation, Person, PlatformRole, Unit
from organisations.permissions import can_edit_organisation, sees_contacts_in
from organisations.selectors import audit_trail, members_of
from organisations.services import personal_data


class OrganisationListView(ProgrammeMixin, TemplateView):
    template_name = "organisations/organisation_list.html"
    model = Organisation

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            queryset.filter(participations__programme=self.programme)
            .prefetch_related(Prefetch("units", queryset=Unit.objects.order_by("name")))
            .order_by("name")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        counts = dict(
            members_of(self.programme).values_list("organisation").annotate(n=Count("pk")).order_by()
        )
        organisations = list(self.get_queryset())
        for organisation in organisations:
            organisation.member_count = counts.get(organisation.pk, 0)
        context["organisations"] = organisations
        return context


class OrganisationDetailView(ProgrammeMixin, TemplateView):
    template_name = "organisations/organisation_detail.html"
    model = Organisation

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(participations__programme=self.programme)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        organisation: Organisation = self.get_object_or_404(pk=kwargs["pk"])
        people = (
            members_of(self.programme)
            .filter(organisation=organisation)
            .select_related("unit", "line_manager__user")
            .order_by("unit__name", "user__last_name", "user__first_name")
        )
        context.update(
            organisation=organisation,
            units=Unit.objects.filter(organisation=organisation).select_related("parent").order_by("name"),
            people=people,
            show_contacts=sees_contacts_in(self.actor, self.programme, organisation.pk),
            can_edit=can_edit_organisation(self.actor, organisation),
            can_erase=self.actor.is_programme_admin(self.programme),
        )
        return context


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


class PersonEraseView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """A programme admin erases (pseudonymises) a person of the programme, after a confirmation that says
    whether the person is erased everywhere or only leaves this programme (see services.personal_data)."""

    template_name = "organisations/person_erase.html"
    form_class = PersonEraseForm
    model = Person
    required_roles = frozenset({PlatformRole.PROGRAMME_ADMIN})
    page_title = gettext_lazy("Erase personal data")
    submit_label = gettext_lazy("Erase personal data")
    erased: Person
    outcome: personal_data.ErasureOutcome

    def narrow_queryset(self, queryset: QuerySet[Person]) -> QuerySet[Person]:
        # Members of this programme, past ones too: an ended membership is what retention is about.
        return queryset.filter(memberships__programme=self.programme, erased_at__isnull=True).select_related(
            "user", "organisation"
        )

    def load(self, **kwargs: object) -> None:
        self.erased = self.get_object_or_404(pk=kwargs["pk"])
        self.extra_context = {
            "subject": self.erased,
            "outcome": personal_data.erasure_scope(actor=self.actor, person=self.erased),
            "back_url": reverse("organisations:detail", kwargs={"pk": self.erased.organisation_id}),
        }

    def perform(self, form: PersonEraseForm) -> str:
        self.outcome = personal_data.person_erase(
            actor=self.actor, person=self.erased, programme=self.programme
        )
        return reverse("organisations:detail", kwargs={"pk": self.erased.organisation_id})

    def get_success_message(self) -> str:
        if self.outcome.kind == "erased":
            return gettext("The person's personal data was erased.")
        return gettext(
            "The person left this programme and its records of them were pseudonymised; another programme "
            "still has them as a member."
        )
