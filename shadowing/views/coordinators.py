"""Coordinators: the matching dashboard and runs (review, edit by hand, confirm or discard), the overview
with the matrix of visits between organisations, and pairing reciprocal requests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from coordinator.core.forms import add_service_errors
from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text
from organisations.access.views import ProgrammeMixin
from organisations.models import Organisation
from shadowing import forms
from shadowing.models import (
    MatchingRun,
    Placement,
    PlacementDay,
    ShadowingRequest,
    Slot,
    Workplace,
)
from shadowing.services import matching_queue, matching_runs, shadowing_requests
from shadowing.views import assign
from shadowing.views._common import COORDINATORS, placement_joins, posted_int

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
        pending=Count("pk", filter=Q(status=ShadowingRequest.Status.PENDING_APPROVAL)),
        approved=Count("pk", filter=Q(status=ShadowingRequest.Status.APPROVED)),
        placed=Count("pk", filter=Q(status=ShadowingRequest.Status.PLACED)),
    )
    placements = Placement.objects.filter(programme=programme).aggregate(
        awaiting_host=Count("pk", filter=Q(status=Placement.Status.AWAITING_HOST)),
        to_confirm=Count("pk", filter=Q(status=Placement.Status.HOST_ACCEPTED)),
        host_declined=Count("pk", filter=Q(status=Placement.Status.HOST_DECLINED)),
        proposed=Count(
            "pk", filter=Q(status=Placement.Status.PROPOSED, run__status=MatchingRun.Status.PROPOSED)
        ),
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
            run = matching_queue.matching_run_start(
                actor=self.actor,
                programme=self.programme,
                fairness_weight=form.cleaned_data["fairness_weight"],
            )
        except SERVICE_ERRORS as error:
            messages.error(request, error_text(error))
            return redirect("shadowing:dashboard")
        if run.status == MatchingRun.Status.PROPOSED:
            messages.success(
                request, _("The match is ready for your review. Nothing is booked until you confirm.")
            )
        elif run.is_active:
            messages.success(
                request,
                _("The match is being worked out. This page shows how far it has come; nothing is booked."),
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
            placement_joins(Placement.objects.filter(run=run)).order_by(
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
            assign_form = self._assign_form(
                [r for r in left_out if r.status == ShadowingRequest.Status.APPROVED]
            )
        return {
            "run": run,
            "progress_label": run.get_phase_display() if run.is_active and run.phase else "",
            "placements": placements,
            "unplaced": unplaced,
            "editable": editable,
            "assign_form": assign_form,
            "greedy_difference": run.placed - run.greedy_placed,
            "greedy_shortfall": run.greedy_placed - run.placed,
        }

    def _assign_choices(self, requests: list[ShadowingRequest]) -> dict[str, list[tuple[int, str]]]:
        workplaces = list(
            Workplace.objects.filter(programme=self.programme, is_published=True)
            .select_related("organisation")
            .order_by("organisation__name", "name")
        )
        return {
            "requests": [(r.pk, assign.request_label(r)) for r in requests],
            "workplaces": [(w.pk, f"{w.name} ({w.organisation.short_name})") for w in workplaces],
        }

    def _assign_form(
        self, unplaced: list[ShadowingRequest], data: QueryDict | None = None
    ) -> forms.AssignForm:
        return forms.AssignForm(data=data, **self._assign_choices(assign.with_details(unplaced)))

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render(request, self.template_name, self.context_for(self.get_run(pk)))


class RunAssignView(RunDetailView):
    """Placing a request by hand: after choosing the request and the workplace on the run's page, the
    workplace's free days inside the request's windows are offered to tick (GET), then placed (POST)."""

    days_template = "shadowing/run_assign.html"

    def _step(self, run: MatchingRun, data: QueryDict, *, bound: bool) -> HttpResponse | assign.DaysStep:
        """The second step for the request and workplace in ``data``; the run's page with the first step's
        errors (400) when those are not valid."""
        approved = assign.with_details(
            list(
                ShadowingRequest.objects.filter(
                    programme=self.programme, status=ShadowingRequest.Status.APPROVED
                ).order_by("submitted_at", "pk")
            )
        )
        choices = self._assign_choices(approved)
        first = forms.AssignForm(data=data, **choices)
        if not first.is_valid():
            return render(
                self.request, self.template_name, self.context_for(run, assign_form=first), status=400
            )
        chosen = next(r for r in approved if r.pk == first.cleaned_data["request"])
        workplace = Workplace.objects.select_related("organisation").get(pk=first.cleaned_data["workplace"])
        form = forms.AssignDaysForm(
            data if bound else None,
            initial={"request": chosen.pk, "workplace": workplace.pk},
            days=[(slot.pk, label) for slot, label in assign.free_days(run, chosen, workplace)],
            **choices,
        )
        return assign.DaysStep(form=form, request=chosen, workplace=workplace)

    def _page(self, run: MatchingRun, step: assign.DaysStep, status: int = 200) -> HttpResponse:
        context = {
            "run": run,
            "form": step.form,
            "chosen": step.request,
            "chosen_label": assign.request_label(step.request),
            "workplace": step.workplace,
        }
        return render(self.request, self.days_template, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self.get_run(pk)
        if run.status != MatchingRun.Status.PROPOSED or not request.GET:
            return redirect("shadowing:run-detail", pk=run.pk)
        step = self._step(run, request.GET, bound=False)
        return step if isinstance(step, HttpResponse) else self._page(run, step)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self.get_run(pk)
        step = self._step(run, request.POST, bound=True)
        if isinstance(step, HttpResponse):
            return step
        if step.form.is_valid():
            slots = list(
                Slot.objects.filter(pk__in=step.form.cleaned_data["slots"]).order_by("date", "starts_at")
            )
            try:
                matching_runs.run_edit_assign(
                    actor=self.actor, run=run, request=step.request, workplace=step.workplace, slots=slots
                )
            except SERVICE_ERRORS as error:
                add_service_errors(step.form, error)
            else:
                name = step.request.requester.full_name
                messages.success(request, _("%(person)s is placed by hand.") % {"person": name})
                return redirect("shadowing:run-detail", pk=run.pk)
        return self._page(run, step, status=400)


class RunRemoveView(RunScoped, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self.get_run(pk)
        placement = Placement.objects.filter(run=run, pk=posted_int(request.POST.get("placement"))).first()
        if placement is None:
            messages.error(request, _("Choose a placement of this run."))
        else:
            try:
                matching_runs.run_edit_remove(actor=self.actor, run=run, placement=placement)
            except SERVICE_ERRORS as error:
                messages.error(request, error_text(error))
            else:
                messages.success(request, _("The placement is removed from the proposal."))
        return redirect("shadowing:run-detail", pk=run.pk)


class RunConfirmView(RunScoped, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self.get_run(pk)
        try:
            matching_runs.matching_run_confirm(actor=self.actor, run=run)
        except SERVICE_ERRORS as error:
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
        except SERVICE_ERRORS as error:
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
            .filter(status=Placement.Status.AWAITING_HOST)
            .select_related("request__requester__user", "workplace__organisation", "workplace__contact__user")
            .order_by("updated_at", "pk")[:50]
        )
        this_week = list(
            PlacementDay.objects.filter(
                placement__programme=self.programme,
                placement__status__in=(Placement.Status.HOST_ACCEPTED, *Placement.VISITS),
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
            "pending": open_counts.get(ShadowingRequest.Status.PENDING_APPROVAL, 0),
            "approved": open_counts.get(ShadowingRequest.Status.APPROVED, 0),
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
            placement__status__in=Placement.VISITS, placement__programme=self.programme
        ).values("placement_id")
        rows = (
            Placement.objects.filter(
                programme=self.programme,
                status__in=Placement.VISITS,
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


class PairsView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """Pair two requests from two organisations as a reciprocal exchange: placed both or neither."""

    template_name = "shadowing/pairs.html"
    form_class = forms.PairForm
    required_roles = COORDINATORS
    model = ShadowingRequest
    success_message = gettext_lazy("The two requests are paired: they are placed together or not at all.")

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            queryset.filter(status__in=ShadowingRequest.OPEN)
            .select_related(
                "requester__user", "organisation", "partner__requester__user", "partner__organisation"
            )
            .prefetch_related("preferences__organisation", "preferences__workplace__organisation")
            .order_by("submitted_at", "pk")
        )

    def load(self, **kwargs: Any) -> None:
        self.candidates = {candidate.pk: candidate for candidate in self.get_queryset()}

    def get_form_kwargs(self) -> dict[str, Any]:
        # On GET only the unpaired requests are offered; a POST is checked against every open one.
        offered = [
            candidate
            for candidate in self.candidates.values()
            if self.request.method == "POST" or candidate.partner_id is None
        ]
        choices = [
            (candidate.pk, f"{candidate.requester.full_name} ({candidate.organisation.short_name})")
            for candidate in offered
        ]
        return {**super().get_form_kwargs(), "requests": choices}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        candidates = list(self.candidates.values())
        context.update(
            unpaired=[candidate for candidate in candidates if candidate.partner_id is None],
            pairs=[
                candidate
                for candidate in candidates
                if candidate.partner_id is not None and candidate.pk < candidate.partner_id
            ],
        )
        return context

    def perform(self, form: forms.PairForm) -> str:
        shadowing_requests.pair_requests(
            actor=self.actor,
            first=self.candidates[form.cleaned_data["first"]],
            second=self.candidates[form.cleaned_data["second"]],
        )
        return reverse("shadowing:pairs")
