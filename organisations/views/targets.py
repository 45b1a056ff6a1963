"""The programme's targets: the list, and the form pages where its admins set, change and remove them."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView, View

from coordinator.core import registry
from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text
from organisations import forms
from organisations.access.views import ProgrammeMixin
from organisations.models import PlatformRole, Target
from organisations.permissions import REPORT_READERS
from organisations.services import targets

ADMINS = frozenset({PlatformRole.PROGRAMME_ADMIN})


class TargetListView(ProgrammeMixin, TemplateView):
    """The programme's targets with what each measures; admins may add, change and remove them."""

    template_name = "organisations/targets.html"
    model = Target
    required_roles = frozenset(REPORT_READERS)

    def narrow_queryset(self, queryset: QuerySet[Target]) -> QuerySet[Target]:
        return queryset.filter(programme=self.programme).select_related("work_role")

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        rows = list(self.get_queryset())
        measures = {key: measure for key, measure in registry.measures.items()}
        subjects: dict[tuple[str, int], str] = {}
        for key in {row.measure for row in rows}:
            measure = measures.get(key)
            if measure is not None:
                subjects.update({(key, pk): title for pk, title in measure.subjects(self.programme)})
        context["targets"] = [
            {
                "target": row,
                "measure": measures[row.measure].label if row.measure in measures else row.measure,
                "subject": subjects.get((row.measure, row.subject_id or 0), ""),
                "share": row.measure in measures and measures[row.measure].kind == "share",
            }
            for row in rows
        ]
        context["can_edit"] = self.has_role(PlatformRole.PROGRAMME_ADMIN) and not self.programme.is_archived
        return context


class TargetCreateView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "organisations/form.html"
    form_class = forms.TargetForm
    required_roles = ADMINS
    page_title = gettext_lazy("Set a target")

    def get_form_kwargs(self) -> dict[str, object]:
        return {**super().get_form_kwargs(), "programme": self.programme}

    def get_initial(self) -> dict[str, object]:
        starts_on, deadline = targets.default_dates(timezone.localdate())
        return {"starts_on": starts_on, "deadline": deadline, "goal": 100}

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["back_url"] = reverse("organisations:targets")
        return context

    def perform(self, form: forms.TargetForm) -> str:
        targets.target_create(actor=self.actor, programme=self.programme, values=form.cleaned_data)
        return reverse("organisations:targets")


class TargetEditView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "organisations/form.html"
    form_class = forms.TargetForm
    model = Target
    required_roles = ADMINS
    page_title = gettext_lazy("Change a target")

    def load(self, **kwargs: int) -> None:
        self.target: Target = self.get_object_or_404(pk=kwargs["pk"], programme=self.programme)

    def get_form_kwargs(self) -> dict[str, object]:
        return {**super().get_form_kwargs(), "programme": self.programme}

    def get_initial(self) -> dict[str, object]:
        return {
            "title": self.target.title,
            "measure": self.target.measure,
            "subject_id": self.target.subject_id,
            "work_role": self.target.work_role_id,
            "goal": self.target.goal,
            "starts_on": self.target.starts_on,
            "deadline": self.target.deadline,
        }

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["back_url"] = reverse("organisations:targets")
        context["delete_url"] = reverse("organisations:target-delete", kwargs={"pk": self.target.pk})
        return context

    def perform(self, form: forms.TargetForm) -> str:
        targets.target_update(actor=self.actor, target=self.target, values=form.cleaned_data)
        return reverse("organisations:targets")


class TargetDeleteView(ProgrammeMixin, View):
    """Remove a target (a POST from its edit page)."""

    model = Target
    required_roles = ADMINS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        target: Target = self.get_object_or_404(pk=pk, programme=self.programme)
        try:
            targets.target_delete(actor=self.actor, target=target)
        except SERVICE_ERRORS as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The target is removed."))
        return HttpResponseRedirect(reverse("organisations:targets"))
