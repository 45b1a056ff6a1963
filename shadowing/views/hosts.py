"""Host contacts and their organisation's admins: their workplaces, visit days (slots) and visitors."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import FormView, TemplateView

from coordinator.core import formatting
from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text, next_url
from organisations.access.views import ProgrammeMixin
from shadowing import forms, permissions, selectors
from shadowing.models import (
    Placement,
    PlacementDay,
    Slot,
    Workplace,
)
from shadowing.services import workplaces
from shadowing.views._common import placement_joins

# --- Host contacts --------------------------------------------------------------------------------------


class HostView(ProgrammeMixin, TemplateView):
    """My organisation's workplaces, their coming slots and visitors waiting for an answer."""

    template_name = "shadowing/host.html"
    required_roles = permissions.HOST_ROLES
    model = Workplace

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            selectors.editable_workplaces(self.actor, queryset)
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
            Placement.objects.filter(workplace_id__in=ids, status=Placement.Status.AWAITING_HOST)
            .values_list("workplace_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        context.update(
            workplaces=[
                (w, slot_counts.get(w.pk, {"n": 0, "with_room": 0}), waiting.get(w.pk, 0)) for w in workplaces
            ],
            waiting_total=sum(waiting.values()),
        )
        return context


class HostWorkplaceScoped(ProgrammeMixin):
    """Pages of one workplace for its hosts: other organisations' workplaces answer 404."""

    model = Workplace
    required_roles = permissions.HOST_ROLES

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.editable_workplaces(self.actor, queryset).select_related(
            "organisation", "unit", "contact__user"
        )

    def get_workplace(self, pk: int) -> Workplace:
        return self.get_object_or_404(pk=pk)  # type: ignore[no-any-return]


class WorkplaceCreateView(HostWorkplaceScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "shadowing/form.html"
    form_class = forms.WorkplaceForm
    page_title = gettext_lazy("New workplace")
    success_message = gettext_lazy("The workplace is saved as a draft. Add slots, then publish it.")

    def get_initial(self) -> dict[str, Any]:
        initial: dict[str, Any] = {"contact": self.person.pk}
        if self.person.unit is not None:
            unit = self.person.unit
            initial.update(
                unit=unit.pk, street_address=unit.street_address, postal_code=unit.postal_code, city=unit.city
            )
        return initial

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "programme": self.programme,
            "organisation": self.person.organisation,
        }

    def perform(self, form: forms.WorkplaceForm) -> str:
        values, topics = form.split()
        workplace = workplaces.workplace_create(
            actor=self.actor,
            programme=self.programme,
            organisation=self.person.organisation,
            values=values,
            topics=topics,
        )
        return reverse("shadowing:slots", kwargs={"pk": workplace.pk})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "back_url": reverse("shadowing:host")}


class WorkplaceEditView(HostWorkplaceScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "shadowing/form.html"
    form_class = forms.WorkplaceForm
    page_title = gettext_lazy("Edit workplace")

    def load(self, **kwargs: Any) -> None:
        self.workplace = self.get_workplace(kwargs["pk"])

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "programme": self.programme,
            "organisation": self.workplace.organisation,
            "workplace": self.workplace,
        }

    def perform(self, form: forms.WorkplaceForm) -> str:
        values, topics = form.split()
        workplaces.workplace_update(actor=self.actor, workplace=self.workplace, values=values, topics=topics)
        return reverse("shadowing:host")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(subject=self.workplace.name, back_url=reverse("shadowing:host"))
        return context


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
        except SERVICE_ERRORS as error:
            messages.error(request, error_text(error))
        return redirect(next_url(request, reverse("shadowing:host")))


@dataclass(frozen=True)
class SlotWeek:
    monday: date
    slots: list[Slot]


class SlotsView(HostWorkplaceScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """The workplace's coming slots week by week, and the form that creates many at once."""

    template_name = "shadowing/slots.html"
    form_class = forms.SlotBulkForm

    def load(self, **kwargs: Any) -> None:
        self.workplace = self.get_workplace(kwargs["pk"])

    def get_initial(self) -> dict[str, Any]:
        today = timezone.localdate()
        return {
            "starts_on": today + timedelta(days=1),
            "ends_on": today + timedelta(days=29),
            "weekdays": [1, 3],
        }

    def perform(self, form: forms.SlotBulkForm) -> str:
        self.result = workplaces.slots_bulk_create(
            actor=self.actor, workplace=self.workplace, **form.cleaned_data
        )
        return reverse("shadowing:slots", kwargs={"pk": self.workplace.pk})

    def get_success_message(self) -> str:
        message = _("%(n)s slots created.") % {"n": len(self.result.created)}
        skipped = self.result.skipped_days_off
        if skipped:
            message += " " + ngettext(
                "%(n)s day off was left out: %(days)s.",
                "%(n)s days off were left out: %(days)s.",
                len(skipped),
            ) % {
                "n": len(skipped),
                "days": ", ".join(f"{name} ({formatting.day(day)})" for day, name in sorted(skipped.items())),
            }
        return message

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        slots = list(
            Slot.objects.filter(workplace=self.workplace, date__gte=today)
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
        context.update(
            workplace=self.workplace,
            weeks=[SlotWeek(monday, items) for monday, items in sorted(weeks.items())],
            period_form=forms.PeriodForm(prefix="remove"),
            slot_count=len(slots),
        )
        return context


class SlotsRemoveFreeView(HostWorkplaceScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """Remove the free future slots of a period: the period comes by GET and the page shows how many; the
    POST of the same period removes them."""

    template_name = "shadowing/slots_remove.html"
    form_class = forms.PeriodForm
    prefix = "remove"

    def load(self, **kwargs: Any) -> None:
        self.workplace = self.get_workplace(kwargs["pk"])

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        if self.request.method == "GET" and "remove-starts_on" in self.request.GET:
            kwargs["data"] = self.request.GET
        return kwargs

    def perform(self, form: forms.PeriodForm) -> str:
        self.removed_count = workplaces.slots_remove_free(
            actor=self.actor,
            workplace=self.workplace,
            starts_on=form.cleaned_data["starts_on"],
            ends_on=form.cleaned_data["ends_on"],
        )
        return reverse("shadowing:slots", kwargs={"pk": self.workplace.pk})

    def get_success_message(self) -> str:
        return _("%(n)s free slots removed.") % {"n": self.removed_count}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context["form"]
        count = None
        if form.is_bound and form.is_valid():
            count = Slot.objects.filter(
                workplace=self.workplace,
                date__gte=max(timezone.localdate(), form.cleaned_data["starts_on"]),
                date__lte=form.cleaned_data["ends_on"],
                booked=0,
            ).count()
        context.update(workplace=self.workplace, count=count)
        return context

    def render_to_response(self, context: dict[str, Any], **response_kwargs: Any) -> HttpResponse:
        form = context["form"]
        if form.is_bound and not form.is_valid():  # a period typed wrong answers 400, on GET as on POST
            response_kwargs["status"] = 400
        return super().render_to_response(context, **response_kwargs)


class SlotDeleteView(ProgrammeMixin, TemplateView):
    """Delete one slot: the confirmation says whose visits it cancels (they are told and re-matched)."""

    template_name = "shadowing/slot_delete.html"
    model = Slot
    required_roles = permissions.HOST_ROLES

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        hosted = selectors.editable_workplaces(self.actor, Workplace.objects.all()).values("pk")
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
        except SERVICE_ERRORS as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, _("The slot is deleted."))
        return redirect("shadowing:slots", pk=workplace_id)


class HostVisitorsView(ProgrammeMixin, TemplateView):
    """Visitors proposed to my organisation's workplaces (accept or decline), coming and past visits."""

    template_name = "shadowing/host_visitors.html"
    required_roles = permissions.HOST_ROLES
    model = Placement

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        hosted = selectors.editable_workplaces(self.actor, Workplace.objects.all()).values("pk")
        return placement_joins(queryset.filter(workplace__in=hosted)).prefetch_related("request__topics")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rows = list(
            self.get_queryset().filter(status__in=Placement.SEAT_HOLDING).order_by("created_at", "pk")
        )
        today = timezone.localdate()
        context.update(
            waiting=[p for p in rows if p.status == Placement.Status.AWAITING_HOST],
            coming=[
                p for p in rows if p.status in (Placement.Status.HOST_ACCEPTED, Placement.Status.CONFIRMED)
            ],
            past=[p for p in rows if p.status in Placement.AFTER_VISIT][-20:],
            decline_form=forms.ReasonForm(prefix="decline"),
            today=today,
        )
        return context
