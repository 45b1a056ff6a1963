"""Transfer and effect: a person's own follow-ups and expectations, the follow-up form, and the effect and
cost report for those who read the programme's reports."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView

from coordinator.core import registry
from coordinator.core.forms import PeriodForm
from coordinator.core.views import ServiceFormMixin
from organisations import forms
from organisations.access.views import ProgrammeMixin
from organisations.models import Expectation, FollowUp
from organisations.permissions import REPORT_READERS
from organisations.reports.costs import costs
from organisations.reports.followups import effect
from organisations.services import followups


class MyFollowUpsView(ProgrammeMixin, TemplateView):
    """The person's follow-ups to answer (theirs and, as a line manager, their staff's), their own answers,
    and what they are booked on, to record an expectation before it."""

    template_name = "organisations/follow_ups.html"
    model = FollowUp

    def narrow_queryset(self, queryset: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
        return queryset.filter(programme=self.programme, respondent=self.person)

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        asked = list(
            self.get_queryset().select_related("person__user").order_by("answered_at", "-due_on")[:200]
        )
        titles: dict[tuple[str, int], str] = {}
        upcoming: list[dict[str, object]] = []
        expected = {
            (row.subject_kind, row.subject_id): row
            for row in Expectation.objects.filter(programme=self.programme, person=self.person)
        }
        for kind, source in registry.follow_up_sources.items():
            ids = [row.subject_id for row in asked if row.subject_kind == kind]
            if ids:
                titles.update({(kind, pk): t for pk, t in source.titles(self.programme, ids).items()})
            upcoming.extend(
                {
                    "kind": kind,
                    "label": source.label,
                    "row": row,
                    "expectation": expected.get((kind, row.subject_id)),
                }
                for row in source.upcoming(self.programme, self.person)
            )
        context["asked"] = [
            {"follow_up": row, "title": titles.get((row.subject_kind, row.subject_id), "–")} for row in asked
        ]
        context["upcoming"] = sorted(upcoming, key=lambda item: item["row"].starts_on)
        return context


class ExpectationView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "organisations/form.html"
    form_class = forms.ExpectationForm
    page_title = gettext_lazy("What do you expect?")

    def load(self, **kwargs: object) -> None:
        self.kind, self.subject_id = str(kwargs["kind"]), int(str(kwargs["subject_id"]))
        source = registry.follow_up_sources.get(self.kind)
        if source is None:
            raise Http404
        found = [
            row for row in source.upcoming(self.programme, self.person) if row.subject_id == self.subject_id
        ]
        if not found:
            raise Http404
        self.title = found[0].title

    def get_initial(self) -> dict[str, object]:
        row = Expectation.objects.filter(
            programme=self.programme, person=self.person, subject_kind=self.kind, subject_id=self.subject_id
        ).first()
        return {"rating": row.rating, "text": row.text} if row else {}

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["help"] = self.title
        context["back_url"] = reverse("organisations:follow-ups")
        return context

    def perform(self, form: forms.ExpectationForm) -> str:
        followups.expectation_record(
            actor=self.actor,
            programme=self.programme,
            kind=self.kind,
            subject_id=self.subject_id,
            rating=form.cleaned_data["rating"],
            text=form.cleaned_data["text"],
        )
        return reverse("organisations:follow-ups")


class FollowUpAnswerView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """One follow-up, answered by the person asked (anyone else gets a 404, as for a missing one)."""

    template_name = "organisations/form.html"
    form_class = forms.FollowUpAnswerForm
    model = FollowUp
    page_title = gettext_lazy("Did it make a difference?")

    def narrow_queryset(self, queryset: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
        return queryset.filter(respondent=self.person).select_related("person__user", "programme")

    def load(self, **kwargs: object) -> None:
        self.follow_up: FollowUp = self.get_object_or_404(pk=kwargs["pk"])
        source = registry.follow_up_sources.get(self.follow_up.subject_kind)
        titles = source.titles(self.programme, [self.follow_up.subject_id]) if source else {}
        self.title = titles.get(self.follow_up.subject_id, "")

    def get_initial(self) -> dict[str, object]:
        row = self.follow_up
        if row.answered_at is None:
            return {}
        return {
            "used": row.used,
            "how_used": row.how_used,
            "shared": "yes" if row.shared else "no",
            "rating": row.rating,
            "comment": row.comment,
        }

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        if self.follow_up.respondent_kind == FollowUp.Respondent.MANAGER:
            context["help"] = f"{self.title} – {self.follow_up.person.full_name}"
        else:
            context["help"] = self.title
        context["back_url"] = reverse("organisations:follow-ups")
        return context

    def perform(self, form: forms.FollowUpAnswerForm) -> str:
        followups.follow_up_answer(actor=self.actor, follow_up=self.follow_up, values=form.cleaned_data)
        return reverse("organisations:follow-ups")


def report_period(request: HttpRequest) -> tuple[PeriodForm, date | None, date | None]:
    """The period of a report page: this calendar year unless another valid one is asked for."""
    today = timezone.localdate()
    data = request.GET if "start" in request.GET or "end" in request.GET else None
    form = PeriodForm(data, initial={"start": date(today.year, 1, 1), "end": date(today.year, 12, 31)})
    if data is None:
        return form, date(today.year, 1, 1), date(today.year, 12, 31)
    if form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, None, None


class EffectReportView(ProgrammeMixin, TemplateView):
    """What the follow-ups say against the expectations, per course, host workplace and organisation, next
    to activity and cost: cost per completed participant, per visit day and per competence gained."""

    template_name = "organisations/effect.html"
    required_roles = frozenset(REPORT_READERS)

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        form, start, end = report_period(request)
        context = self.get_context_data(form=form)
        if start is not None and end is not None:
            found = effect(self.programme, start, end)
            context["effect"] = found
            context["effect_total"] = [found.total]
            context["costs"] = costs(self.programme, start, end)
        return self.render_to_response(context, status=200 if start is not None else 400)
