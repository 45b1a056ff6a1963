"""One placement as each person concerned sees it: the shadower confirms, cancels and reflects; the
host accepts, declines, records the visit and gives feedback; a coordinator may cancel or record it."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, ClassVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from coordinator.core.forms import add_service_errors
from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text, next_url
from shadowing import forms, permissions
from shadowing.models import HostFeedback, Placement, PlacementEvent, Reflection
from shadowing.services import placements, reflections
from shadowing.views._common import PlacementScoped


class PlacementDetailView(PlacementScoped, TemplateView):
    """One placement: where and when, its state, what each person concerned may do, and its history."""

    template_name = "shadowing/placement_detail.html"

    def context_for(self, placement: Placement, **extra: Any) -> dict[str, Any]:
        days = list(placement.days.all())
        shadower = permissions.is_requester(self.actor, placement.request)
        host = permissions.is_host(self.actor, placement.workplace)
        events = list(
            PlacementEvent.objects.filter(placement=placement)
            .select_related("actor__user")
            .order_by("at", "pk")
        )
        after_visit = placement.status in Placement.AFTER_VISIT
        reflection = _reflection_of(placement) if after_visit else None
        feedback = _feedback_of(placement) if after_visit else None
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
            "can_confirm": shadower and placement.status == Placement.Status.HOST_ACCEPTED,
            "can_accept": host and placement.status == Placement.Status.AWAITING_HOST,
            "can_cancel": placement.status in Placement.CANCELLABLE
            and permissions.can_cancel_placement(self.actor, placement),
            "can_mark_visited": placement.status == Placement.Status.CONFIRMED
            and permissions.can_record_visit(self.actor, placement)
            and placement.last_day_ended(),
            "can_reflect": shadower and placement.status == Placement.Status.VISITED,
            "can_give_feedback": host and after_visit and feedback is None,
            "can_record_costs": permissions.can_record_costs(self.actor, placement),
            "confirm_form": extra.get("confirm_form") or forms.ConfirmPlacementForm(),
            "decline_form": forms.ReasonForm(prefix="decline"),
        }

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render(request, self.template_name, self.context_for(self.get_placement(pk)))


def _reflection_of(placement: Placement) -> Reflection | None:
    return Reflection.objects.filter(placement=placement).first()


def _feedback_of(placement: Placement) -> HostFeedback | None:
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
            except SERVICE_ERRORS as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, _("Your visit is confirmed. A calendar invite is on its way by email.")
                )
                return redirect("shadowing:placement-detail", pk=placement.pk)
        return render(request, self.template_name, self.context_for(placement, confirm_form=form), status=400)


class PlacementFormView(PlacementScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """A form about one placement (cancellation, reflection, host feedback); back to the placement."""

    template_name = "shadowing/form.html"
    help_text: ClassVar[Any] = ""

    def load(self, **kwargs: Any) -> None:
        self.placement = self.get_placement(kwargs["pk"])

    def placement_url(self) -> str:
        return reverse("shadowing:placement-detail", kwargs={"pk": self.placement.pk})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            subject=_("%(person)s at %(workplace)s")
            % {
                "person": self.placement.request.requester.full_name,
                "workplace": self.placement.workplace.name,
            },
            help=self.help_text,
            back_url=self.placement_url(),
        )
        return context


class PlacementCancelView(PlacementFormView):
    """A confirmation page asking for the reason, then the cancellation."""

    template_name = "shadowing/confirm.html"
    form_class = forms.ReasonForm
    page_title = gettext_lazy("Cancel the visit?")
    submit_label = gettext_lazy("Cancel the visit")
    success_message = gettext_lazy("The visit is cancelled and everyone concerned is told.")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            question=_(
                "The visit is cancelled for everyone: the shadower, the host and the coordinators are "
                "told, and the calendar invites are withdrawn."
            ),
            danger=True,
        )
        return context

    def perform(self, form: forms.ReasonForm) -> str:
        placements.placement_cancel(
            actor=self.actor, placement=self.placement, reason=form.cleaned_data["reason"]
        )
        return self.placement_url()


class ReflectionView(PlacementFormView):
    form_class = forms.ReflectionForm
    page_title = gettext_lazy("After the visit: what you learned")
    submit_label = gettext_lazy("Save my reflection")
    success_message = gettext_lazy("Thank you. Your reflection is on your history.")
    help_text = gettext_lazy(
        "What you learned only makes a difference when it is used and shared. Your line manager and the "
        "coordinators can read this."
    )

    def perform(self, form: forms.ReflectionForm) -> str:
        reflections.reflection_submit(actor=self.actor, placement=self.placement, **form.cleaned_data)
        return self.placement_url()


class HostFeedbackView(PlacementFormView):
    form_class = forms.HostFeedbackForm
    page_title = gettext_lazy("Feedback on the visit")
    submit_label = gettext_lazy("Send feedback")
    success_message = gettext_lazy("Thank you for your feedback.")

    def perform(self, form: forms.HostFeedbackForm) -> str:
        reflections.host_feedback_submit(
            actor=self.actor, placement=self.placement, feedback=form.cleaned_data["feedback"]
        )
        return self.placement_url()


class PlacementAction(PlacementScoped, View, metaclass=ABCMeta):
    """POST-only transitions; the service decides whether the person may."""

    @abstractmethod
    def act(self, placement: Placement) -> str:
        """Call the transition's service; return the message to show."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        placement = self.get_placement(pk)
        try:
            message = self.act(placement)
        except SERVICE_ERRORS as error:
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
