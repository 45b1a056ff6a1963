"""Staff pages: my requests and placements, asking to shadow, a request and withdrawing it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView

from coordinator.core.validators import parse_int
from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text
from organisations.access.views import ProgrammeMixin
from organisations.models import Person, PlatformRole
from shadowing import forms, permissions
from shadowing.models import (
    Placement,
    ShadowingRequest,
)
from shadowing.services import shadowing_requests
from shadowing.views._common import RequestScoped, placement_joins

# --- Staff ----------------------------------------------------------------------------------------------


class MineView(ProgrammeMixin, TemplateView):
    """My requests and my placements, with what I can do next on each."""

    template_name = "shadowing/mine.html"
    model = ShadowingRequest

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(requester=self.person)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        requests = list(
            self.get_queryset()
            .select_related("partner__requester__user", "approved_by__user")
            .prefetch_related("topics", "windows", "preferences__organisation", "preferences__workplace")
            .order_by("-submitted_at", "-pk")
        )
        placements = list(
            placement_joins(
                Placement.objects.filter(request__requester=self.person).exclude(
                    status=Placement.Status.PROPOSED
                )
            ).order_by("-created_at", "-pk")
        )
        context.update(
            open_requests=[mine for mine in requests if mine.is_open],
            other_requests=[mine for mine in requests if not mine.is_open],
            to_confirm=[p for p in placements if p.status == Placement.Status.HOST_ACCEPTED],
            to_reflect=[p for p in placements if p.status == Placement.Status.VISITED],
            placements=placements,
            can_request=permissions.can_request(self.actor, self.programme),
        )
        return context


class RequestCreateView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """Ask to shadow: learning goals, topics, days, availability windows, ranked preferences, languages."""

    template_name = "shadowing/request_form.html"
    form_class = forms.ShadowingRequestForm
    required_roles = frozenset({PlatformRole.STAFF})
    success_message = gettext_lazy("Your request is sent to your line manager for approval.")

    def get_initial(self) -> dict[str, Any]:
        initial: dict[str, Any] = {"languages": list(self.person.languages or [])}
        wanted = parse_int(self.request.GET.get("workplace"))
        if wanted is not None and wanted > 0:
            initial["preference_1"] = f"w{wanted}"
        return initial

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "programme": self.programme,
            "organisation_id": self.person.organisation_id,
            "unit_id": self.person.unit_id,
            "languages": list(self.person.languages or []),
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(line_manager=self.person.line_manager, organisation=self.person.organisation)
        return context

    def perform(self, form: forms.ShadowingRequestForm) -> str:
        created = shadowing_requests.request_create(
            actor=self.actor, programme=self.programme, **form.split()
        )
        return reverse("shadowing:request-detail", kwargs={"pk": created.pk})


class RequestForWhomView(ProgrammeMixin, TemplateView):
    """Coordinators: choose the staff member to file a shadowing request for (by name, ``?q=``)."""

    template_name = "shadowing/request_for_whom.html"
    model = Person
    required_roles = frozenset({PlatformRole.COORDINATOR, PlatformRole.PROGRAMME_ADMIN})

    def narrow_queryset(self, queryset: QuerySet[Person]) -> QuerySet[Person]:
        return (
            queryset.filter(
                memberships__programme=self.programme,
                memberships__is_active=True,
                memberships__role_assignments__role=PlatformRole.STAFF,
            )
            .select_related("user", "organisation", "unit")
            .distinct()
            .order_by("user__last_name", "user__first_name")
        )

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "")[:100].strip()
        people = self.get_queryset()
        if query:
            people = people.filter(Q(user__first_name__icontains=query) | Q(user__last_name__icontains=query))
        context.update(query=query, people=list(people[:50]))
        return context


class RequestForPersonView(RequestCreateView):
    """A coordinator asks on a staff member's behalf (as they may enrol people on courses): the same form,
    with that person's organisation, unit and languages; the line manager approves as usual and the person
    is told who filed it."""

    model = Person
    required_roles = frozenset({PlatformRole.COORDINATOR, PlatformRole.PROGRAMME_ADMIN})
    success_message = gettext_lazy("The request is filed; the person's line manager is asked to approve it.")

    def load(self, **kwargs: int) -> None:
        self.for_person: Person = self.get_object_or_404(pk=kwargs["person"])

    def narrow_queryset(self, queryset: QuerySet[Person]) -> QuerySet[Person]:
        return queryset.filter(
            memberships__programme=self.programme,
            memberships__is_active=True,
            memberships__role_assignments__role=PlatformRole.STAFF,
        ).select_related("user", "organisation", "line_manager__user")

    def get_initial(self) -> dict[str, object]:
        return {"languages": list(self.for_person.languages or [])}

    def get_form_kwargs(self) -> dict[str, object]:
        return {
            **super().get_form_kwargs(),
            "organisation_id": self.for_person.organisation_id,
            "unit_id": self.for_person.unit_id,
            "languages": list(self.for_person.languages or []),
        }

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context.update(
            line_manager=self.for_person.line_manager,
            organisation=self.for_person.organisation,
            for_person=self.for_person,
        )
        return context

    def perform(self, form: forms.ShadowingRequestForm) -> str:
        created = shadowing_requests.request_create(
            actor=self.actor, programme=self.programme, person=self.for_person, **form.split()
        )
        return reverse("shadowing:request-detail", kwargs={"pk": created.pk})


class RequestDetailView(RequestScoped, TemplateView):
    template_name = "shadowing/request_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        shadowing_request: ShadowingRequest = self.get_object_or_404(pk=kwargs["pk"])
        placements = list(
            placement_joins(
                Placement.objects.filter(request=shadowing_request).exclude(status=Placement.Status.PROPOSED)
            ).order_by("-created_at")
        )
        mine = permissions.is_requester(self.actor, shadowing_request)
        context.update(
            item=shadowing_request,
            topics=list(shadowing_request.topics.all()),
            windows=list(shadowing_request.windows.all()),
            preferences=list(
                shadowing_request.preferences.select_related("organisation", "workplace__organisation")
            ),
            partner=ShadowingRequest.objects.filter(pk=shadowing_request.partner_id)
            .select_related("requester__user")
            .first()
            if shadowing_request.partner_id
            else None,
            placements=placements,
            can_withdraw=mine and shadowing_request.is_open,
            can_decide=shadowing_request.status == ShadowingRequest.Status.PENDING_APPROVAL
            and permissions.can_decide(self.actor, shadowing_request),
        )
        return context


class RequestWithdrawView(RequestScoped, TemplateView):
    """A confirmation page, then the withdrawal."""

    template_name = "shadowing/confirm.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        shadowing_request: ShadowingRequest = self.get_object_or_404(pk=pk)
        return render(request, self.template_name, self._context(shadowing_request))

    def _context(self, shadowing_request: ShadowingRequest) -> dict[str, Any]:
        return {
            "page_title": _("Withdraw your request?"),
            "question": _(
                "Your request to shadow is withdrawn. A visit already arranged from it is cancelled and "
                "the host is told."
            ),
            "submit_label": _("Withdraw the request"),
            "back_url": reverse("shadowing:request-detail", kwargs={"pk": shadowing_request.pk}),
            "danger": True,
        }

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        shadowing_request: ShadowingRequest = self.get_object_or_404(pk=pk)
        try:
            shadowing_requests.request_withdraw(actor=self.actor, request=shadowing_request)
        except SERVICE_ERRORS as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, _("Your request is withdrawn."))
        return redirect("shadowing:mine")
