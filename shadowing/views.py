"""Pages of the job-shadowing app, for every role.

- staff: published workplaces, requesting a visit, my requests and placements (confirm with the
  confidentiality undertaking, cancel, write a reflection);
- line managers: requests waiting for approval;
- host contacts (and their organisation's admins): my workplaces, slots, visitors to accept, feedback;
- coordinators: the matching dashboard and runs (review, edit by hand, confirm or discard), the overview
  with the matrix of visits between organisations, and pairing reciprocal requests.

Thin views: they read with a fixed number of queries, compute the flags the templates show (``can_edit``,
``can_accept``...) and write through ``shadowing.services``, which check every permission again.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from coordinator.core.views import error_text, next_url
from organisations.access.views import FormPage as BaseFormPage
from organisations.access.views import ProgrammeMixin
from organisations.models import Organisation, PlatformRole
from organisations.permissions import COORDINATING_ROLES, Actor
from shadowing import forms
from shadowing import permissions as perms
from shadowing.models import (
    MatchingRun,
    Placement,
    PlacementDay,
    PlacementEvent,
    ShadowingRequest,
    Slot,
    Workplace,
)
from shadowing.services import matching_runs, placements, reflections, shadowing_requests, workplaces

R = PlatformRole
P = Placement.Status
RS = ShadowingRequest.Status
COORDINATORS = frozenset(COORDINATING_ROLES)
HOSTS = frozenset({R.HOST_CONTACT, R.ORGANISATION_ADMIN})
LIVE = (P.AWAITING_HOST, P.HOST_ACCEPTED, P.CONFIRMED)
VISITS = (P.CONFIRMED, P.VISITED, P.REFLECTED)


def _int(raw: Any) -> int:
    text = str(raw or "")
    return int(text) if text.isdigit() and len(text) < 12 else -1


# --- Flags for templates (the services decide again on every write) ------------------------------------


def is_coordinator(actor: Actor, programme_id: int) -> bool:
    return perms.can_manage(actor, programme_id)


def hosts_for(actor: Actor, programme_id: int, organisation_id: int) -> bool:
    """A host contact or organisation admin of the workplace's organisation (no query)."""
    return actor.organisation_id == organisation_id and actor.has_role(programme_id, *HOSTS)


def is_shadower(actor: Actor, placement: Placement) -> bool:
    return perms.is_requester(actor, placement.request)


def _placement_joins(queryset: QuerySet[Any]) -> QuerySet[Any]:
    return queryset.select_related(
        "request__requester__user",
        "request__organisation",
        "workplace__organisation",
        "workplace__contact__user",
    ).prefetch_related(Prefetch("days", queryset=PlacementDay.objects.order_by("date", "starts_at")))


# --- Everyone: published workplaces ---------------------------------------------------------------------


class WorkplaceListView(ProgrammeMixin, TemplateView):
    """Published workplaces, filtered by organisation, topic or language (a fixed number of queries)."""

    template_name = "shadowing/workplaces.html"
    model = Workplace

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            queryset.filter(is_published=True)
            .select_related("organisation", "unit", "contact__user")
            .prefetch_related("topics")
            .order_by("organisation__name", "name", "pk")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = forms.WorkplaceFilterForm(self.request.GET or None, programme=self.programme)
        workplaces = self.get_queryset()
        language = ""
        if form.is_bound and form.is_valid():
            if form.cleaned_data["organisation"]:
                workplaces = workplaces.filter(organisation=form.cleaned_data["organisation"])
            if form.cleaned_data["topic"]:
                workplaces = workplaces.filter(topics=form.cleaned_data["topic"])
            language = form.cleaned_data["language"]
        today = timezone.localdate()
        free = dict(
            Slot.objects.filter(workplace__in=workplaces, date__gte=today, booked__lt=F("capacity"))
            .values_list("workplace_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        rows = [w for w in workplaces if not language or language in (w.languages or [])]
        context.update(
            form=form,
            workplaces=[
                (w, free.get(w.pk, 0), hosts_for(self.actor, w.programme_id, w.organisation_id)) for w in rows
            ],
            language_names=forms.LANGUAGE_NAMES,
            own_organisation_id=self.actor.organisation_id,
            can_request=self.has_role(R.STAFF),
        )
        return context


class WorkplaceDetailView(ProgrammeMixin, TemplateView):
    template_name = "shadowing/workplace_detail.html"
    model = Workplace

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = queryset.select_related("organisation", "unit", "contact__user").prefetch_related("topics")
        if is_coordinator(self.actor, self.programme.pk):
            return queryset
        return queryset.filter(perms.visible_workplaces_filter(self.actor))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        workplace: Workplace = self.get_object_or_404(pk=kwargs["pk"])
        today = timezone.localdate()
        context.update(
            workplace=workplace,
            slots=list(
                Slot.objects.filter(workplace=workplace, date__gte=today).order_by("date", "starts_at")[:30]
            ),
            can_edit=perms.can_edit_workplace(self.actor, workplace),
            can_request=self.has_role(R.STAFF) and workplace.organisation_id != self.actor.organisation_id,
            language_names=forms.LANGUAGE_NAMES,
        )
        return context


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
            _placement_joins(
                Placement.objects.filter(request__requester=self.person).exclude(status=P.PROPOSED)
            ).order_by("-created_at", "-pk")
        )
        context.update(
            open_requests=[r for r in requests if r.status in (RS.PENDING_APPROVAL, RS.APPROVED)],
            other_requests=[r for r in requests if r.status not in (RS.PENDING_APPROVAL, RS.APPROVED)],
            to_confirm=[p for p in placements if p.status == P.HOST_ACCEPTED],
            to_reflect=[p for p in placements if p.status == P.VISITED],
            placements=placements,
            can_request=self.has_role(R.STAFF),
        )
        return context


class RequestCreateView(ProgrammeMixin, TemplateView):
    """Ask to shadow: learning goals, topics, days, availability windows, ranked preferences, languages."""

    template_name = "shadowing/request_form.html"
    required_roles = frozenset({R.STAFF})

    def _form(self, data: Any = None) -> forms.ShadowingRequestForm:
        initial: dict[str, Any] = {"languages": list(self.person.languages or [])}
        wanted = self.request.GET.get("workplace", "")
        if wanted.isdigit():
            initial["preference_1"] = f"w{wanted}"
        return forms.ShadowingRequestForm(
            data=data,
            initial=initial,
            programme=self.programme,
            organisation_id=self.person.organisation_id,
            languages=list(self.person.languages or []),
        )

    def _render(self, form: forms.ShadowingRequestForm, status: int = 200) -> HttpResponse:
        manager = self.person.line_manager
        return render(
            self.request,
            self.template_name,
            {"form": form, "line_manager": manager, "organisation": self.person.organisation},
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(self._form())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request.POST)
        if form.is_valid():
            try:
                created = shadowing_requests.request_create(
                    actor=self.actor, programme=self.programme, **form.split()
                )
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("Your request is sent to your line manager for approval."))
                return redirect("shadowing:request-detail", pk=created.pk)
        return self._render(form, status=400)


class RequestScoped(ProgrammeMixin):
    model = ShadowingRequest

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(perms.visible_requests_filter(self.actor)).select_related(
            "requester__user", "requester__line_manager__user", "organisation", "approved_by__user"
        )


class RequestDetailView(RequestScoped, TemplateView):
    template_name = "shadowing/request_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        item: ShadowingRequest = self.get_object_or_404(pk=kwargs["pk"])
        placements = list(
            _placement_joins(Placement.objects.filter(request=item).exclude(status=P.PROPOSED)).order_by(
                "-created_at"
            )
        )
        mine = self.actor.person is not None and item.requester_id == self.actor.person.pk
        context.update(
            item=item,
            topics=list(item.topics.all()),
            windows=list(item.windows.all()),
            preferences=list(item.preferences.select_related("organisation", "workplace__organisation")),
            partner=ShadowingRequest.objects.filter(pk=item.partner_id)
            .select_related("requester__user")
            .first()
            if item.partner_id
            else None,
            placements=placements,
            can_withdraw=mine and item.status in (RS.PENDING_APPROVAL, RS.APPROVED),
            can_decide=item.status == RS.PENDING_APPROVAL
            and self.actor.person is not None
            and item.requester.line_manager_id == self.actor.person.pk,
            language_names=forms.LANGUAGE_NAMES,
        )
        return context


class RequestWithdrawView(RequestScoped, TemplateView):
    """A confirmation page, then the withdrawal."""

    template_name = "shadowing/confirm.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        item: ShadowingRequest = self.get_object_or_404(pk=pk)
        return render(request, self.template_name, self._context(item))

    def _context(self, item: ShadowingRequest) -> dict[str, Any]:
        return {
            "page_title": _("Withdraw your request?"),
            "question": _(
                "Your request to shadow is withdrawn. A visit already arranged from it is cancelled and "
                "the host is told."
            ),
            "submit_label": _("Withdraw the request"),
            "back_url": reverse("shadowing:request-detail", kwargs={"pk": item.pk}),
            "danger": True,
        }

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item: ShadowingRequest = self.get_object_or_404(pk=pk)
        try:
            shadowing_requests.request_withdraw(actor=self.actor, request=item)
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, _("Your request is withdrawn."))
        return redirect("shadowing:mine")


class PlacementScoped(ProgrammeMixin):
    model = Placement

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return _placement_joins(queryset.filter(perms.visible_placements_filter(self.actor)))

    def get_placement(self, pk: int) -> Placement:
        return self.get_object_or_404(pk=pk)  # type: ignore[no-any-return]


class PlacementDetailView(PlacementScoped, TemplateView):
    """One placement: where and when, its state, what each person concerned may do, and its history."""

    template_name = "shadowing/placement_detail.html"

    def context_for(self, placement: Placement, **extra: Any) -> dict[str, Any]:
        today = timezone.localdate()
        days = list(placement.days.all())
        last_day = days[-1].date if days else None
        shadower = is_shadower(self.actor, placement)
        host = perms.is_host(self.actor, placement.workplace)
        coordinator = is_coordinator(self.actor, self.programme.pk)
        events = list(
            PlacementEvent.objects.filter(placement=placement)
            .select_related("actor__user")
            .order_by("at", "pk")
        )
        reflection = getattr(placement, "reflection", None) if placement.status == P.REFLECTED else None
        if reflection is None and placement.status in (P.VISITED, P.REFLECTED):
            reflection = _reflection_of(placement)
        feedback = _feedback_of(placement) if placement.status in (P.VISITED, P.REFLECTED) else None
        after_visit = last_day is not None and last_day <= today
        return {
            "placement": placement,
            "request_": placement.request,
            "workplace": placement.workplace,
            "days": days,
            "events": events,
            "reflection": reflection,
            "feedback": feedback,
            "is_shadower": shadower,
            "is_host": host,
            "can_confirm": shadower and placement.status == P.HOST_ACCEPTED,
            "can_accept": host and placement.status == P.AWAITING_HOST,
            "can_cancel": (shadower or host or coordinator) and placement.status in LIVE,
            "can_mark_visited": (host or coordinator) and placement.status == P.CONFIRMED and after_visit,
            "can_reflect": shadower and placement.status == P.VISITED,
            "can_give_feedback": host and placement.status in (P.VISITED, P.REFLECTED) and feedback is None,
            "confirm_form": extra.get("confirm_form") or forms.ConfirmPlacementForm(),
            "decline_form": forms.ReasonForm(prefix="decline"),
        }

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render(request, self.template_name, self.context_for(self.get_placement(pk)))


def _reflection_of(placement: Placement) -> Any:
    from shadowing.models import Reflection

    return Reflection.objects.filter(placement=placement).first()


def _feedback_of(placement: Placement) -> Any:
    from shadowing.models import HostFeedback

    return HostFeedback.objects.filter(placement=placement).select_related("author__user").first()


class PlacementConfirmView(PlacementDetailView):
    """The shadower confirms the visit, accepting the host's confidentiality terms."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        placement = self.get_placement(pk)
        form = forms.ConfirmPlacementForm(request.POST)
        if form.is_valid():
            try:
                placements.placement_confirm(
                    actor=self.actor, placement=placement, accept_confidentiality=True
                )
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(
                    request, _("Your visit is confirmed. A calendar invite is on its way by email.")
                )
                return redirect("shadowing:placement-detail", pk=placement.pk)
        return render(request, self.template_name, self.context_for(placement, confirm_form=form), status=400)


class PlacementCancelView(PlacementScoped, TemplateView):
    """A confirmation page asking for the reason, then the cancellation."""

    template_name = "shadowing/confirm.html"

    def _render(self, placement: Placement, form: Any, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            self.template_name,
            {
                "page_title": _("Cancel the visit?"),
                "subject": _("%(person)s at %(workplace)s")
                % {"person": placement.request.requester.full_name, "workplace": placement.workplace.name},
                "question": _(
                    "The visit is cancelled for everyone: the shadower, the host and the coordinators are "
                    "told, and the calendar invites are withdrawn."
                ),
                "form": form,
                "submit_label": _("Cancel the visit"),
                "back_url": reverse("shadowing:placement-detail", kwargs={"pk": placement.pk}),
                "danger": True,
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(self.get_placement(pk), forms.ReasonForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        placement = self.get_placement(pk)
        form = forms.ReasonForm(request.POST)
        if form.is_valid():
            try:
                placements.placement_cancel(
                    actor=self.actor, placement=placement, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("The visit is cancelled and everyone concerned is told."))
                return redirect("shadowing:placement-detail", pk=placement.pk)
        return self._render(placement, form, status=400)


class PlacementFormPage(PlacementScoped, TemplateView, metaclass=ABCMeta):
    """A form about one placement (reflection, host feedback)."""

    template_name = "shadowing/form.html"
    page_title: ClassVar[Any] = ""
    submit_label: ClassVar[Any] = gettext_lazy("Save")
    success_message: ClassVar[Any] = gettext_lazy("Saved.")
    help_text: ClassVar[Any] = ""

    @abstractmethod
    def build_form(self, data: Any = None) -> django_forms.Form: ...

    @abstractmethod
    def perform(self, placement: Placement, form: Any) -> None: ...

    def _render(self, placement: Placement, form: Any, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "page_title": self.page_title,
                "submit_label": self.submit_label,
                "subject": _("%(person)s at %(workplace)s")
                % {"person": placement.request.requester.full_name, "workplace": placement.workplace.name},
                "help": self.help_text,
                "back_url": reverse("shadowing:placement-detail", kwargs={"pk": placement.pk}),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(self.get_placement(pk), self.build_form())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        placement = self.get_placement(pk)
        form = self.build_form(request.POST)
        if form.is_valid():
            try:
                self.perform(placement, form)
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, str(self.success_message))
                return redirect("shadowing:placement-detail", pk=placement.pk)
        return self._render(placement, form, status=400)


class ReflectionView(PlacementFormPage):
    page_title = gettext_lazy("After the visit: what you learned")
    submit_label = gettext_lazy("Save my reflection")
    success_message = gettext_lazy("Thank you. Your reflection is on your history.")
    help_text = gettext_lazy(
        "What you learned only makes a difference when it is used and shared. Your line manager and the "
        "coordinators can read this."
    )

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.ReflectionForm(data=data)

    def perform(self, placement: Placement, form: Any) -> None:
        reflections.reflection_submit(actor=self.actor, placement=placement, **form.cleaned_data)


class HostFeedbackView(PlacementFormPage):
    page_title = gettext_lazy("Feedback on the visit")
    submit_label = gettext_lazy("Send feedback")
    success_message = gettext_lazy("Thank you for your feedback.")

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.HostFeedbackForm(data=data)

    def perform(self, placement: Placement, form: Any) -> None:
        reflections.host_feedback_submit(
            actor=self.actor, placement=placement, feedback=form.cleaned_data["feedback"]
        )


class PlacementAction(PlacementScoped, View, metaclass=ABCMeta):
    """POST-only transitions; the service decides whether the person may."""

    @abstractmethod
    def act(self, placement: Placement) -> str:
        """Call the transition's service; return the message to show."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        placement = self.get_placement(pk)
        try:
            message = self.act(placement)
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, message)
        return redirect(next_url(request, reverse("shadowing:placement-detail", kwargs={"pk": placement.pk})))


class PlacementAcceptView(PlacementAction):
    def act(self, placement: Placement) -> str:
        placements.placement_host_accept(actor=self.actor, placement=placement)
        return _("You accepted the visitor. They are asked to confirm.")


class PlacementDeclineView(PlacementAction):
    def act(self, placement: Placement) -> str:
        form = forms.ReasonForm(self.request.POST, prefix="decline")
        if not form.is_valid():
            raise ValidationError(
                _("Say briefly why you decline, so the coordinator can find another place.")
            )
        placements.placement_host_decline(
            actor=self.actor, placement=placement, reason=form.cleaned_data["reason"]
        )
        return _("You declined the visitor. The coordinator will look for another place.")


class PlacementVisitedView(PlacementAction):
    def act(self, placement: Placement) -> str:
        placements.placement_mark_visited(actor=self.actor, placement=placement)
        return _("The visit is recorded as made. The visitor is asked for a reflection.")


# --- Line managers --------------------------------------------------------------------------------------


class ApprovalsView(ProgrammeMixin, TemplateView):
    template_name = "shadowing/approvals.html"
    model = ShadowingRequest

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # The rule of ``permissions.can_decide``: my reports; without a line manager on record, the people
        # of my own unit when I am a line manager there.
        mine = Q(requester__line_manager=self.person)
        if is_coordinator(self.actor, self.programme.pk):
            # Coordinators decide where nobody else can; the service checks (``approvers_of``).
            mine |= Q(requester__line_manager__isnull=True)
        if self.has_role(R.LINE_MANAGER) and self.person.unit_id is not None:
            mine |= Q(
                requester__line_manager__isnull=True,
                requester__unit_id=self.person.unit_id,
                requester__organisation_id=self.person.organisation_id,
            )
        return (
            queryset.filter(mine)
            .exclude(requester=self.person)
            .select_related("requester__user", "requester__unit", "organisation")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        pending = list(
            self.get_queryset()
            .filter(status=RS.PENDING_APPROVAL)
            .prefetch_related("topics", "windows", "preferences__organisation", "preferences__workplace")
            .order_by("submitted_at", "pk")
        )
        decided = list(
            self.get_queryset()
            .filter(approved_by=self.person)
            .exclude(decided_at=None)
            .order_by("-decided_at")[:10]
        )
        context.update(pending=pending, decided=decided)
        return context


class RequestDecisionView(RequestScoped, View):
    approve: ClassVar[bool] = True

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item: ShadowingRequest = self.get_object_or_404(pk=pk)
        form = forms.DecisionNoteForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        if not form.is_valid():
            messages.error(request, error_text(ValidationError(list(form.errors.get("note", [])))))
            return redirect(next_url(request, reverse("shadowing:approvals")))
        try:
            if self.approve:
                shadowing_requests.request_approve(actor=self.actor, request=item, note=note)
            else:
                shadowing_requests.request_decline(actor=self.actor, request=item, note=note)
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(
                request,
                (
                    _("%(person)s's request is approved and goes to matching.")
                    if self.approve
                    else _("%(person)s's request is declined; they are told.")
                )
                % {"person": item.requester.full_name},
            )
        return redirect(next_url(request, reverse("shadowing:approvals")))


class RequestApproveView(RequestDecisionView):
    approve = True


class RequestDeclineView(RequestDecisionView):
    approve = False


# --- Host contacts --------------------------------------------------------------------------------------


class HostView(ProgrammeMixin, TemplateView):
    """My organisation's workplaces, their coming slots and visitors waiting for an answer."""

    template_name = "shadowing/host.html"
    required_roles = HOSTS
    model = Workplace

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            perms.editable_workplaces(self.actor, queryset)
            .select_related("unit", "contact__user")
            .prefetch_related("topics")
            .order_by("name", "pk")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        workplaces = list(self.get_queryset())
        ids = [w.pk for w in workplaces]
        today = timezone.localdate()
        slot_counts = {
            row["workplace_id"]: row
            for row in Slot.objects.filter(workplace_id__in=ids, date__gte=today)
            .values("workplace_id")
            .annotate(n=Count("pk"), with_room=Count("pk", filter=Q(booked__lt=F("capacity"))))
            .order_by()
        }
        waiting = dict(
            Placement.objects.filter(workplace_id__in=ids, status=P.AWAITING_HOST)
            .values_list("workplace_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        context.update(
            workplaces=[
                (w, slot_counts.get(w.pk, {"n": 0, "with_room": 0}), waiting.get(w.pk, 0)) for w in workplaces
            ],
            waiting_total=sum(waiting.values()),
            language_names=forms.LANGUAGE_NAMES,
        )
        return context


class FormPage(BaseFormPage):
    """The shared form page on this app's template."""

    template_name = "shadowing/form.html"


class HostWorkplaceScoped(ProgrammeMixin):
    """Pages of one workplace for its hosts: other organisations' workplaces answer 404."""

    model = Workplace
    required_roles = HOSTS

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return perms.editable_workplaces(self.actor, queryset).select_related(
            "organisation", "unit", "contact__user"
        )

    def get_workplace(self, pk: int) -> Workplace:
        return self.get_object_or_404(pk=pk)  # type: ignore[no-any-return]


class WorkplaceCreateView(HostWorkplaceScoped, FormPage):
    page_title = gettext_lazy("New workplace")
    success_message = gettext_lazy("The workplace is saved as a draft. Add slots, then publish it.")

    def build_form(self, data: Any = None) -> django_forms.Form:
        organisation = self.person.organisation
        initial: dict[str, Any] = {"contact": self.person.pk}
        if self.person.unit is not None:
            unit = self.person.unit
            initial.update(
                unit=unit.pk, street_address=unit.street_address, postal_code=unit.postal_code, city=unit.city
            )
        return forms.WorkplaceForm(
            data=data, initial=initial, programme=self.programme, organisation=organisation
        )

    def perform(self, form: Any) -> str:
        values, topics = form.split()
        workplace = workplaces.workplace_create(
            actor=self.actor,
            programme=self.programme,
            organisation=self.person.organisation,
            values=values,
            topics=topics,
        )
        return reverse("shadowing:slots", kwargs={"pk": workplace.pk})

    def page_context(self) -> dict[str, Any]:
        return {"back_url": reverse("shadowing:host")}


class WorkplaceEditView(HostWorkplaceScoped, FormPage):
    page_title = gettext_lazy("Edit workplace")

    def load(self, **kwargs: Any) -> None:
        self.workplace = self.get_workplace(kwargs["pk"])

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.WorkplaceForm(
            data=data,
            programme=self.programme,
            organisation=self.workplace.organisation,
            workplace=self.workplace,
        )

    def perform(self, form: Any) -> str:
        values, topics = form.split()
        workplaces.workplace_update(actor=self.actor, workplace=self.workplace, values=values, topics=topics)
        return reverse("shadowing:host")

    def page_context(self) -> dict[str, Any]:
        return {"subject": self.workplace.name, "back_url": reverse("shadowing:host")}


class WorkplacePublishView(HostWorkplaceScoped, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        workplace = self.get_workplace(pk)
        try:
            if request.POST.get("action") == "unpublish":
                workplaces.workplace_unpublish(actor=self.actor, workplace=workplace)
                messages.success(request, _("%(name)s is no longer published.") % {"name": workplace.name})
            else:
                workplaces.workplace_publish(actor=self.actor, workplace=workplace)
                messages.success(
                    request,
                    _("%(name)s is published: staff can now ask to visit.") % {"name": workplace.name},
                )
        except ValidationError as error:
            messages.error(request, error_text(error))
        return redirect(next_url(request, reverse("shadowing:host")))


@dataclass(frozen=True)
class SlotWeek:
    monday: date
    slots: list[Slot]


class SlotsView(HostWorkplaceScoped, TemplateView):
    """The workplace's coming slots week by week, and the form that creates many at once."""

    template_name = "shadowing/slots.html"

    def _render(self, workplace: Workplace, form: forms.SlotBulkForm, status: int = 200) -> HttpResponse:
        today = timezone.localdate()
        slots = list(
            Slot.objects.filter(workplace=workplace, date__gte=today)
            .prefetch_related(
                Prefetch(
                    "placement_days",
                    queryset=PlacementDay.objects.filter(
                        placement__status__in=Placement.SEAT_HOLDING
                    ).select_related(
                        "placement__request__requester__user", "placement__request__organisation"
                    ),
                )
            )
            .order_by("date", "starts_at")[:200]
        )
        weeks: dict[date, list[Slot]] = defaultdict(list)
        for slot in slots:
            weeks[slot.date - timedelta(days=slot.date.weekday())].append(slot)
        return render(
            self.request,
            self.template_name,
            {
                "workplace": workplace,
                "weeks": [SlotWeek(monday, items) for monday, items in sorted(weeks.items())],
                "form": form,
                "period_form": forms.PeriodForm(prefix="remove"),
                "slot_count": len(slots),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        today = timezone.localdate()
        initial = {
            "starts_on": today + timedelta(days=1),
            "ends_on": today + timedelta(days=29),
            "weekdays": [1, 3],
        }
        return self._render(self.get_workplace(pk), forms.SlotBulkForm(initial=initial))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        workplace = self.get_workplace(pk)
        form = forms.SlotBulkForm(request.POST)
        if form.is_valid():
            try:
                created = workplaces.slots_bulk_create(
                    actor=self.actor, workplace=workplace, **form.cleaned_data
                )
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("%(n)s slots created.") % {"n": len(created)})
                return redirect("shadowing:slots", pk=workplace.pk)
        return self._render(workplace, form, status=400)


class SlotsRemoveFreeView(HostWorkplaceScoped, TemplateView):
    """Remove the free future slots of a period: a page that shows how many, then the removal."""

    template_name = "shadowing/slots_remove.html"

    def _render(self, workplace: Workplace, form: forms.PeriodForm, status: int = 200) -> HttpResponse:
        count = None
        if form.is_bound and form.is_valid():
            today = timezone.localdate()
            count = Slot.objects.filter(
                workplace=workplace,
                date__gte=max(today, form.cleaned_data["starts_on"]),
                date__lte=form.cleaned_data["ends_on"],
                booked=0,
            ).count()
        return render(
            self.request,
            self.template_name,
            {"workplace": workplace, "form": form, "count": count},
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        workplace = self.get_workplace(pk)
        data = request.GET if "remove-starts_on" in request.GET else None
        form = forms.PeriodForm(data, prefix="remove")
        return self._render(workplace, form, status=400 if form.is_bound and not form.is_valid() else 200)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        workplace = self.get_workplace(pk)
        form = forms.PeriodForm(request.POST, prefix="remove")
        if not form.is_valid():
            return self._render(workplace, form, status=400)
        try:
            removed = workplaces.slots_remove_free(
                actor=self.actor,
                workplace=workplace,
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
            )
        except ValidationError as error:
            forms.add_service_errors(form, error)
            return self._render(workplace, form, status=400)
        messages.success(request, _("%(n)s free slots removed.") % {"n": removed})
        return redirect("shadowing:slots", pk=workplace.pk)


class SlotDeleteView(ProgrammeMixin, TemplateView):
    """Delete one slot: the confirmation says whose visits it cancels (they are told and re-matched)."""

    template_name = "shadowing/slot_delete.html"
    model = Slot
    required_roles = HOSTS

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        hosted = perms.editable_workplaces(self.actor, Workplace.objects.all()).values("pk")
        return queryset.filter(workplace__in=hosted).select_related("workplace")

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        slot: Slot = self.get_object_or_404(pk=pk)
        visitors = list(
            PlacementDay.objects.filter(slot=slot, placement__status__in=Placement.SEAT_HOLDING)
            .select_related("placement__request__requester__user", "placement__request__organisation")
            .order_by("pk")
        )
        return render(
            request,
            self.template_name,
            {"slot": slot, "visitors": visitors, "form": forms.OptionalReasonForm()},
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        slot: Slot = self.get_object_or_404(pk=pk)
        workplace_id = slot.workplace_id
        try:
            workplaces.slot_delete(actor=self.actor, slot=slot)
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, _("The slot is deleted."))
        return redirect("shadowing:slots", pk=workplace_id)


class HostVisitorsView(ProgrammeMixin, TemplateView):
    """Visitors proposed to my organisation's workplaces (accept or decline), coming and past visits."""

    template_name = "shadowing/host_visitors.html"
    required_roles = HOSTS
    model = Placement

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        hosted = perms.editable_workplaces(self.actor, Workplace.objects.all()).values("pk")
        return _placement_joins(queryset.filter(workplace__in=hosted)).prefetch_related("request__topics")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rows = list(
            self.get_queryset()
            .filter(status__in=(P.AWAITING_HOST, P.HOST_ACCEPTED, P.CONFIRMED, P.VISITED, P.REFLECTED))
            .order_by("created_at", "pk")
        )
        today = timezone.localdate()
        context.update(
            waiting=[p for p in rows if p.status == P.AWAITING_HOST],
            coming=[p for p in rows if p.status in (P.HOST_ACCEPTED, P.CONFIRMED)],
            past=[p for p in rows if p.status in (P.VISITED, P.REFLECTED)][-20:],
            decline_form=forms.ReasonForm(prefix="decline"),
            today=today,
        )
        return context


# --- Coordinators ---------------------------------------------------------------------------------------


class DashboardView(ProgrammeMixin, TemplateView):
    """The matching dashboard: what waits to be matched, the runs and their quality, and running a match."""

    template_name = "shadowing/dashboard.html"
    required_roles = COORDINATORS
    model = MatchingRun

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("created_by__user", "confirmed_by__user").order_by(
            "-created_at", "-pk"
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(dashboard_figures(self.programme))
        context.update(
            runs=list(self.get_queryset()[:10]), form=kwargs.get("form") or forms.MatchingRunForm()
        )
        return context


def dashboard_figures(programme: Any) -> dict[str, int]:
    """Counts for the coordinators' dashboard and start-page panel (2 queries)."""
    requests = ShadowingRequest.objects.filter(programme=programme).aggregate(
        pending=Count("pk", filter=Q(status=RS.PENDING_APPROVAL)),
        approved=Count("pk", filter=Q(status=RS.APPROVED)),
        placed=Count("pk", filter=Q(status=RS.PLACED)),
    )
    placements = Placement.objects.filter(programme=programme).aggregate(
        awaiting_host=Count("pk", filter=Q(status=P.AWAITING_HOST)),
        to_confirm=Count("pk", filter=Q(status=P.HOST_ACCEPTED)),
        host_declined=Count("pk", filter=Q(status=P.HOST_DECLINED)),
        proposed=Count("pk", filter=Q(status=P.PROPOSED, run__status=MatchingRun.Status.PROPOSED)),
    )
    return {**requests, **placements}


class RunCreateView(ProgrammeMixin, View):
    required_roles = COORDINATORS

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.MatchingRunForm(request.POST)
        if not form.is_valid():
            view = DashboardView()
            view.setup(request)
            view.programme, view.actor = self.programme, self.actor
            return render(request, DashboardView.template_name, view.get_context_data(form=form), status=400)
        try:
            run = matching_runs.matching_run_create(
                actor=self.actor,
                programme=self.programme,
                fairness_weight=form.cleaned_data["fairness_weight"],
            )
        except ValidationError as error:
            messages.error(request, error_text(error))
            return redirect("shadowing:dashboard")
        messages.success(
            request, _("The match is ready for your review. Nothing is booked until you confirm.")
        )
        return redirect("shadowing:run-detail", pk=run.pk)


class RunScoped(ProgrammeMixin):
    model = MatchingRun
    required_roles = COORDINATORS

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("created_by__user", "confirmed_by__user")

    def get_run(self, pk: int) -> MatchingRun:
        return self.get_object_or_404(pk=pk)  # type: ignore[no-any-return]


class RunDetailView(RunScoped, TemplateView):
    """A run's figures, its placements (editable while proposed) and the requests it could not place."""

    template_name = "shadowing/run_detail.html"

    def context_for(self, run: MatchingRun, assign_form: Any = None) -> dict[str, Any]:
        placements = list(
            _placement_joins(Placement.objects.filter(run=run)).order_by(
                "workplace__organisation__name", "workplace__name", "pk"
            )
        )
        editable = run.status == MatchingRun.Status.PROPOSED
        # The requests the run left out and why (reason codes stored with the run, shown translated).
        codes = {int(pk): code for pk, code in (run.unplaced or {}).items() if str(pk).isdigit()}
        left_out = list(
            ShadowingRequest.objects.filter(programme=self.programme, pk__in=list(codes))
            .select_related("requester__user", "organisation")
            .order_by("submitted_at", "pk")
        )
        unplaced = [(r, matching_runs.reason_text(codes[r.pk])) for r in left_out]
        if assign_form is None and editable:
            assign_form = self._assign_form([r for r in left_out if r.status == RS.APPROVED])
        return {
            "run": run,
            "placements": placements,
            "unplaced": unplaced,
            "editable": editable,
            "assign_form": assign_form,
            "gap_percent": run.gap * 100,
            "greedy_difference": run.placed - run.greedy_placed,
        }

    def _assign_form(self, unplaced: list[ShadowingRequest], data: Any = None) -> forms.AssignForm:
        workplaces = list(
            Workplace.objects.filter(programme=self.programme, is_published=True)
            .select_related("organisation")
            .order_by("organisation__name", "name")
        )
        return forms.AssignForm(
            data=data,
            requests=[(r.pk, f"{r.requester.full_name} ({r.organisation.short_name})") for r in unplaced],
            workplaces=[(w.pk, f"{w.name} ({w.organisation.short_name})") for w in workplaces],
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render(request, self.template_name, self.context_for(self.get_run(pk)))


class RunAssignView(RunDetailView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self.get_run(pk)
        approved = list(
            ShadowingRequest.objects.filter(programme=self.programme, status=RS.APPROVED)
            .select_related("requester__user", "organisation")
            .order_by("submitted_at", "pk")
        )
        form = self._assign_form(approved, data=request.POST)
        if form.is_valid():
            item = next(r for r in approved if r.pk == form.cleaned_data["request"])
            workplace = Workplace.objects.filter(pk=form.cleaned_data["workplace"]).first()
            slots = list(
                Slot.objects.filter(workplace=workplace, date__in=form.cleaned_data["slots"]).order_by(
                    "date", "starts_at"
                )
            )
            try:
                if workplace is None or len({s.date for s in slots}) != len(form.cleaned_data["slots"]):
                    raise ValidationError({"slots": [_("The workplace has no slot on one of these days.")]})
                matching_runs.run_edit_assign(
                    actor=self.actor, run=run, request=item, workplace=workplace, slots=slots
                )
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(
                    request, _("%(person)s is placed by hand.") % {"person": item.requester.full_name}
                )
                return redirect("shadowing:run-detail", pk=run.pk)
        return render(request, self.template_name, self.context_for(run, assign_form=form), status=400)


class RunRemoveView(RunScoped, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self.get_run(pk)
        placement = Placement.objects.filter(run=run, pk=_int(request.POST.get("placement"))).first()
        if placement is None:
            messages.error(request, _("Choose a placement of this run."))
        else:
            try:
                matching_runs.run_edit_remove(actor=self.actor, run=run, placement=placement)
            except ValidationError as error:
                messages.error(request, error_text(error))
            else:
                messages.success(request, _("The placement is removed from the proposal."))
        return redirect("shadowing:run-detail", pk=run.pk)


class RunConfirmView(RunScoped, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self.get_run(pk)
        try:
            matching_runs.matching_run_confirm(actor=self.actor, run=run)
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(
                request, _("The match is confirmed. The hosts are asked to accept their visitors.")
            )
        return redirect("shadowing:run-detail", pk=run.pk)


class RunDiscardView(RunScoped, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self.get_run(pk)
        try:
            matching_runs.matching_run_discard(actor=self.actor, run=run)
        except ValidationError as error:
            messages.error(request, error_text(error))
            return redirect("shadowing:run-detail", pk=run.pk)
        messages.success(request, _("The proposal is discarded."))
        return redirect("shadowing:dashboard")


class OverviewView(ProgrammeMixin, TemplateView):
    """Open requests, proposals waiting for hosts, visits this week, and who has visited whom."""

    template_name = "shadowing/overview.html"
    required_roles = COORDINATORS
    model = Placement

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        today = timezone.localdate()
        default = {"starts_on": date(today.year, 1, 1), "ends_on": date(today.year, 12, 31)}
        data = request.GET if "starts_on" in request.GET or "ends_on" in request.GET else None
        form = forms.PeriodForm(data, initial=default)
        period = default
        if data is not None and form.is_valid():
            period = {"starts_on": form.cleaned_data["starts_on"], "ends_on": form.cleaned_data["ends_on"]}
        monday = today - timedelta(days=today.weekday())
        open_counts = dict(
            ShadowingRequest.objects.filter(programme=self.programme, status__in=ShadowingRequest.OPEN)
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        awaiting = list(
            self.get_queryset()
            .filter(status=P.AWAITING_HOST)
            .select_related("request__requester__user", "workplace__organisation", "workplace__contact__user")
            .order_by("updated_at", "pk")[:50]
        )
        this_week = list(
            PlacementDay.objects.filter(
                placement__programme=self.programme,
                placement__status__in=(P.HOST_ACCEPTED, *VISITS),
                date__gte=monday,
                date__lte=monday + timedelta(days=6),
            )
            .select_related("placement__request__requester__user", "placement__workplace__organisation")
            .order_by("date", "starts_at", "pk")
        )
        matrix = self._matrix(period["starts_on"], period["ends_on"])
        context = {
            "form": form,
            "period": period,
            "pending": open_counts.get(RS.PENDING_APPROVAL, 0),
            "approved": open_counts.get(RS.APPROVED, 0),
            "awaiting": awaiting,
            "this_week": this_week,
            "monday": monday,
            **matrix,
        }
        return render(
            request,
            self.template_name,
            context,
            status=400 if data is not None and not form.is_valid() else 200,
        )

    def _matrix(self, starts_on: date, ends_on: date) -> dict[str, Any]:
        """Visits made or confirmed in the period, counted by (visitor's organisation, host organisation)."""
        first_day = PlacementDay.objects.filter(
            placement__status__in=VISITS, placement__programme=self.programme
        ).values("placement_id")
        rows = (
            Placement.objects.filter(
                programme=self.programme,
                status__in=VISITS,
                pk__in=first_day.filter(date__gte=starts_on, date__lte=ends_on),
            )
            .values_list("request__organisation_id", "workplace__organisation_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        counts = {(visitor, host): n for visitor, host, n in rows}
        organisations = list(
            Organisation.objects.filter(participations__programme=self.programme).order_by("name")
        )
        table = [
            (
                o,
                [counts.get((o.pk, h.pk), 0) for h in organisations],
                sum(counts.get((o.pk, h.pk), 0) for h in organisations),
            )
            for o in organisations
        ]
        totals = [sum(counts.get((o.pk, h.pk), 0) for o in organisations) for h in organisations]
        return {
            "organisations": organisations,
            "matrix": table,
            "host_totals": totals,
            "visit_total": sum(totals),
        }


class PairsView(ProgrammeMixin, TemplateView):
    """Pair two requests from two organisations as a reciprocal exchange: placed both or neither."""

    template_name = "shadowing/pairs.html"
    required_roles = COORDINATORS
    model = ShadowingRequest

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            queryset.filter(status__in=ShadowingRequest.OPEN)
            .select_related(
                "requester__user", "organisation", "partner__requester__user", "partner__organisation"
            )
            .prefetch_related("preferences__organisation", "preferences__workplace__organisation")
            .order_by("submitted_at", "pk")
        )

    def _render(self, form: forms.PairForm | None = None, status: int = 200) -> HttpResponse:
        requests = list(self.get_queryset())
        unpaired = [r for r in requests if r.partner_id is None]
        pairs = [r for r in requests if r.partner_id is not None and r.pk < r.partner_id]
        choices = [(r.pk, f"{r.requester.full_name} ({r.organisation.short_name})") for r in unpaired]
        return render(
            self.request,
            self.template_name,
            {"unpaired": unpaired, "pairs": pairs, "form": form or forms.PairForm(requests=choices)},
            status=status,
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._render()

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        requests = {r.pk: r for r in self.get_queryset()}
        choices = [
            (pk, f"{r.requester.full_name} ({r.organisation.short_name})") for pk, r in requests.items()
        ]
        form = forms.PairForm(request.POST, requests=choices)
        if form.is_valid():
            try:
                shadowing_requests.pair_requests(
                    actor=self.actor,
                    first=requests[form.cleaned_data["first"]],
                    second=requests[form.cleaned_data["second"]],
                )
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(
                    request, _("The two requests are paired: they are placed together or not at all.")
                )
                return redirect("shadowing:pairs")
        return self._render(form, status=400)
