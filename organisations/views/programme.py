"""A programme's own pages for its admins: settings and archiving, the roles at work, and the onboarding
checklist of a new programme."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView, View

from coordinator.core import registry
from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text
from organisations import forms
from organisations.access.views import ProgrammeMixin
from organisations.models import Membership, PlatformRole, WorkRole
from organisations.services import programmes

ADMINS = frozenset({PlatformRole.PROGRAMME_ADMIN})


class ProgrammeSettingsView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """The programme's settings, and the way to archive it."""

    template_name = "organisations/programme_settings.html"
    form_class = forms.ProgrammeSettingsForm
    required_roles = ADMINS
    page_title = gettext_lazy("Programme settings")

    def get_initial(self) -> dict[str, object]:
        return {name: getattr(self.programme, name) for name in forms.ProgrammeSettingsForm.base_fields}

    def perform(self, form: forms.ProgrammeSettingsForm) -> str:
        values = dict(form.cleaned_data)
        if values.get("follow_up_months") is None:  # left empty: unchanged
            values.pop("follow_up_months", None)
        programmes.programme_update(actor=self.actor, programme=self.programme, values=values)
        return reverse("organisations:programme")


class ProgrammeArchiveView(ProgrammeMixin, TemplateView):
    """Archive the programme after a confirmation: read-only from then on, still readable and exportable."""

    template_name = "organisations/programme_archive.html"
    required_roles = ADMINS

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            programmes.programme_archive(actor=self.actor, programme=self.programme)
        except SERVICE_ERRORS as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The programme is archived."))
        return HttpResponseRedirect(reverse("organisations:programme"))


class WorkRoleListView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """The programme's roles at work, how many members hold each, and a form to add one."""

    template_name = "organisations/work_roles.html"
    form_class = forms.WorkRoleForm
    model = WorkRole
    required_roles = ADMINS
    page_title = gettext_lazy("Roles at work")
    submit_label = gettext_lazy("Add")

    def narrow_queryset(self, queryset: QuerySet[WorkRole]) -> QuerySet[WorkRole]:
        return queryset.filter(programme=self.programme).order_by("name")

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        held = dict(
            Membership.objects.filter(programme=self.programme, is_active=True, work_role__isnull=False)
            .values_list("work_role")
            .annotate(n=Count("pk"))
            .order_by()
        )
        roles = list(self.get_queryset())
        for role in roles:
            role.held_by = held.get(role.pk, 0)
        context["work_roles"] = roles
        return context

    def perform(self, form: forms.WorkRoleForm) -> str:
        programmes.work_role_create(actor=self.actor, programme=self.programme, values=form.cleaned_data)
        return reverse("organisations:work-roles")


class WorkRoleEditView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "organisations/form.html"
    form_class = forms.WorkRoleForm
    model = WorkRole
    required_roles = ADMINS
    page_title = gettext_lazy("Change a role at work")

    def load(self, **kwargs: int) -> None:
        self.work_role: WorkRole = self.get_object_or_404(pk=kwargs["pk"], programme=self.programme)

    def get_initial(self) -> dict[str, object]:
        return {"code": self.work_role.code, "name": self.work_role.name}

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["back_url"] = reverse("organisations:work-roles")
        context["delete_url"] = reverse("organisations:work-role-delete", kwargs={"pk": self.work_role.pk})
        return context

    def perform(self, form: forms.WorkRoleForm) -> str:
        programmes.work_role_update(actor=self.actor, work_role=self.work_role, values=form.cleaned_data)
        return reverse("organisations:work-roles")


class WorkRoleDeleteView(ProgrammeMixin, View):
    """Remove a role at work nobody holds (a POST from its edit page)."""

    model = WorkRole
    required_roles = ADMINS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        work_role: WorkRole = self.get_object_or_404(pk=pk, programme=self.programme)
        try:
            programmes.work_role_delete(actor=self.actor, work_role=work_role)
        except SERVICE_ERRORS as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The role at work is removed."))
        return HttpResponseRedirect(reverse("organisations:work-roles"))


class OnboardingChecklistView(ProgrammeMixin, TemplateView):
    """A new programme's checklist for its admins: each step, how far it has come, and where it is done.
    Each app contributes its steps (``registry.onboarding_steps``)."""

    template_name = "organisations/checklist.html"
    required_roles = ADMINS

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        if not self.actor.is_programme_admin(self.programme):
            raise PermissionDenied
        steps = [provider(self.programme) for provider in registry.onboarding_steps]
        context.update(steps=steps, done=sum(1 for s in steps if s.done), total=len(steps))
        return context
