"""Pages of coordinators for a round's seats and money, and the programme's demand: quotas, discussion
groups, costs, the demand overview and the cost report."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from coordinator.core.forms import PeriodForm
from coordinator.core.views import ServiceFormMixin
from organisations.access.views import ProgrammeMixin
from seminars import forms, grouping
from seminars.models import (
    Enrolment,
    OrganisationQuota,
    Round,
    RoundCost,
)
from seminars.selectors import reports, teaching
from seminars.services import (
    costs,
    discussion_groups,
    quotas,
)
from seminars.views._base import (
    COORDINATORS,
    RoundScoped,
)


class QuotasView(RoundScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "seminars/quotas.html"
    required_roles = COORDINATORS
    form_class = forms.QuotaForm
    page_title = gettext_lazy("Organisation quotas")
    submit_label = gettext_lazy("Save quota")

    def load(self, **kwargs: Any) -> None:
        self.round: Round = self.get_round(kwargs["pk"])

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "programme": self.programme}

    def perform(self, form: forms.QuotaForm) -> str:
        quotas.quota_set(
            actor=self.actor,
            round=self.round,
            organisation=form.cleaned_data["organisation"],
            reserved=form.cleaned_data["reserved"],
            maximum=form.cleaned_data["maximum"],
        )
        return reverse("seminars:quotas", kwargs={"pk": self.round.pk})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        set_quotas = list(OrganisationQuota.objects.filter(round=self.round).select_related("organisation"))
        held = dict(
            Enrolment.objects.filter(round=self.round, status__in=Enrolment.SEAT_HOLDING)
            .values_list("organisation_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        return {
            **super().get_context_data(**kwargs),
            "round": self.round,
            "quotas": [(q, held.get(q.organisation_id, 0)) for q in set_quotas],
            "reserved_total": sum(q.reserved for q in set_quotas),
        }


class QuotaDeleteView(ProgrammeMixin, View):
    required_roles = COORDINATORS
    model = OrganisationQuota

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        quota: OrganisationQuota = self.get_object_or_404(pk=pk)
        quotas.quota_delete(actor=self.actor, quota=quota)
        messages.success(request, _("The quota is removed."))
        return redirect("seminars:quotas", pk=quota.round_id)


class GroupsView(RoundScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "seminars/groups.html"
    required_roles = COORDINATORS
    form_class = forms.GroupForm
    page_title = gettext_lazy("Discussion groups")
    submit_label = gettext_lazy("Form groups")
    success_message = gettext_lazy("The groups are formed.")

    def load(self, **kwargs: Any) -> None:
        self.round: Round = self.get_round(kwargs["pk"])

    def get_initial(self) -> dict[str, Any]:
        return {"group_size": settings.SEMINARS_GROUP_SIZE}

    def perform(self, form: forms.GroupForm) -> str:
        discussion_groups.groups_form(
            actor=self.actor, round=self.round, group_size=form.cleaned_data["group_size"]
        )
        return reverse("seminars:groups", kwargs={"pk": self.round.pk})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("action") == "clear":
            self.load(**kwargs)
            discussion_groups.groups_clear(actor=self.actor, round=self.round)
            messages.success(request, _("The groups are removed."))
            return redirect("seminars:groups", pk=self.round.pk)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        groups = teaching.groups_of(self.round)
        summary = grouping.summarise(
            [
                [grouping.Participant(m.enrolment_id, m.enrolment.organisation_id) for m in g.members.all()]
                for g in groups
            ]
        )
        confirmed = Enrolment.objects.filter(round=self.round, status=Enrolment.Status.CONFIRMED)
        organisations = confirmed.values("organisation").distinct().count()
        return {
            **super().get_context_data(**kwargs),
            "round": self.round,
            "groups": groups,
            "summary": summary,
            "confirmed_count": confirmed.count(),
            "organisation_count": organisations,
        }


class CostsView(RoundScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "seminars/costs.html"
    required_roles = COORDINATORS
    form_class = forms.CostForm
    page_title = gettext_lazy("Costs of the round")
    submit_label = gettext_lazy("Add cost")

    def load(self, **kwargs: Any) -> None:
        self.round: Round = self.get_round(kwargs["pk"])

    def perform(self, form: forms.CostForm) -> str:
        costs.cost_add(actor=self.actor, round=self.round, **form.cleaned_data)
        return reverse("seminars:costs", kwargs={"pk": self.round.pk})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        recorded = list(RoundCost.objects.filter(round=self.round).order_by("kind", "pk"))
        return {
            **super().get_context_data(**kwargs),
            "round": self.round,
            "costs": recorded,
            "total": sum((c.amount for c in recorded), 0),
        }


class CostDeleteView(ProgrammeMixin, View):
    required_roles = COORDINATORS
    model = RoundCost

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        cost: RoundCost = self.get_object_or_404(pk=pk)
        costs.cost_delete(actor=self.actor, cost=cost)
        messages.success(request, _("The cost is removed."))
        return redirect("seminars:costs", pk=cost.round_id)


class DemandView(ProgrammeMixin, TemplateView):
    """Waiting-list demand per course: which course needs another round."""

    template_name = "seminars/demand.html"
    required_roles = COORDINATORS

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = reports.demand(self.programme, timezone.now())
        return context


class ReportView(ProgrammeMixin, TemplateView):
    """Costs, funders' shares and contributed staff hours for a period."""

    template_name = "seminars/report.html"
    required_roles = COORDINATORS

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        today = timezone.localdate()
        data = request.GET if "start" in request.GET or "end" in request.GET else None
        form = PeriodForm(
            data=data, initial={"start": date(today.year, 1, 1), "end": date(today.year, 12, 31)}
        )
        report = None
        if data is None:
            report = reports.cost_report(self.programme, date(today.year, 1, 1), date(today.year, 12, 31))
        elif form.is_valid():
            report = reports.cost_report(self.programme, form.cleaned_data["start"], form.cleaned_data["end"])
        kinds = list(RoundCost.Kind.choices)
        return render(
            request,
            self.template_name,
            {"form": form, "report": report, "kinds": kinds},
            status=200 if report is not None else 400,
        )
