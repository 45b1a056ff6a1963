"""Pages of the platform administrators: every programme on the platform, starting one with its first
admin, archiving and restoring one. They show programmes' names and states, never a programme's data."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView

from coordinator.core import registry, tasks
from coordinator.core.models import JobRun, TaskWorker
from coordinator.core.validators import parse_int
from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text
from organisations import forms, selectors
from organisations.models import Programme
from organisations.permissions import actor_for, is_platform_admin
from organisations.services import programmes


class PlatformAdminMixin(LoginRequiredMixin):
    """Signed-in platform administrators only; everyone else gets 403."""

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.actor = actor_for(request.user)
        if not is_platform_admin(self.actor):
            raise PermissionDenied(_("Only platform administrators may see this page."))
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc, no-any-return, return-value]


class PlatformProgrammeListView(PlatformAdminMixin, TemplateView):
    template_name = "organisations/platform_programmes.html"

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        # The platform's own list of programmes (names, states and sizes), outside every programme's scope.
        context["programmes"] = list(
            Programme.unscoped_objects.annotate(
                agencies=Count("participations", distinct=True),
                members=Count("memberships", distinct=True),
            ).order_by("archived_at", "name")
        )
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        programme = Programme.unscoped_objects.filter(
            pk=parse_int(request.POST.get("programme")) or 0
        ).first()
        if programme is None or request.POST.get("action") not in ("archive", "restore"):
            raise Http404
        try:
            if request.POST["action"] == "archive":
                programmes.programme_archive(actor=self.actor, programme=programme)
                messages.success(request, _("%(programme)s is archived.") % {"programme": programme.name})
            else:
                programmes.programme_restore(actor=self.actor, programme=programme)
                messages.success(
                    request, _("%(programme)s is open for changes again.") % {"programme": programme.name}
                )
        except SERVICE_ERRORS as exc:
            messages.error(request, error_text(exc))
        return HttpResponseRedirect(reverse("organisations:platform-programmes"))


class PlatformProgrammeCreateView(PlatformAdminMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """Start a programme: its settings and its first admin (an existing person or a new one, of an agency
    on the platform or a new agency). It starts with the default focus groups and roles at work."""

    template_name = "organisations/form.html"
    form_class = forms.ProgrammeCreateForm
    page_title = gettext_lazy("Start a programme")
    submit_label = gettext_lazy("Start the programme")

    def get_initial(self) -> dict[str, object]:
        return {
            "language": "sv",
            "time_zone": "Europe/Stockholm",
            "country": "SE",
            "own_rule": "organisation",
        }

    def get_form(self, form_class: type[Form] | None = None) -> Form:
        form: Form = super().get_form(form_class)
        # Any agency on the platform may be the first admin's (the directory: names and kinds only).
        form.fields["admin_organisation"].queryset = selectors.agency_directory()  # type: ignore[attr-defined]
        return form

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["back_url"] = reverse("organisations:platform-programmes")
        return context

    def perform(self, form: forms.ProgrammeCreateForm) -> str:
        data = form.cleaned_data
        new = None
        if data["new_organisation_name"]:
            new = programmes.NewOrganisation(
                name=data["new_organisation_name"],
                short_name=data["new_organisation_short_name"] or data["new_organisation_name"][:40],
                kind=data["new_organisation_kind"] or "municipality",
            )
        programmes.programme_create(
            actor=self.actor,
            values={name: data[name] for name in programmes.CREATE_FIELDS},
            first_admin=programmes.FirstAdmin(
                username=data["admin_username"],
                email=data["admin_email"],
                first_name=data["admin_first_name"],
                last_name=data["admin_last_name"],
                organisation=data["admin_organisation"],
                new_organisation=new,
            ),
        )
        return reverse("organisations:platform-programmes")


class PlatformJobsView(PlatformAdminMixin, TemplateView):
    """The periodic jobs: when each last ran, what it handled, when it runs next and how it failed."""

    template_name = "organisations/platform_jobs.html"

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        states = {state.name: state for state in JobRun.objects.all()}
        context["jobs"] = [(job, states.get(job.name)) for job in registry.periodic_jobs]
        context["queue"] = tasks.queue_depth()
        context["workers"] = list(TaskWorker.objects.order_by("started_at"))
        return context
