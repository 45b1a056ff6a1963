"""Pages of coordinators for courses, rounds and sessions: the overview, the forms, a round's admin page
and its actions."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from coordinator.core import formatting
from coordinator.core.days_off import day_off
from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text
from organisations.access.views import ProgrammeMixin
from organisations.models import Programme
from seminars import forms
from seminars.models import (
    Course,
    Enrolment,
    Round,
    Session,
)
from seminars.selectors import catalogue, participation
from seminars.services import (
    courses,
    enrolments,
    rounds,
    sessions,
)
from seminars.views._base import (
    COORDINATORS,
    RoundScoped,
    SessionScoped,
)


def warn_of_day_off(request: HttpRequest, programme: Programme, session: Session) -> None:
    """A session may fall on a public holiday or day off (a course abroad, a weekend seminar by choice),
    but the coordinator is told, in case the date was a slip."""
    day = timezone.localtime(session.starts_at, ZoneInfo(programme.time_zone)).date()
    name = day_off(programme.country, day)
    if name:
        messages.warning(
            request,
            _("The session is on %(date)s, %(name)s: a day off for most participants.")
            % {"date": formatting.day(day), "name": name},
        )


class ManageView(ProgrammeMixin, TemplateView):
    """Courses and their rounds, with seats and queues at a glance."""

    template_name = "seminars/manage.html"
    required_roles = COORDINATORS
    model = Course

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        rounds = catalogue.rounds_for(self.programme).order_by("-starts_at", "-pk")
        return queryset.prefetch_related(
            "providers", Prefetch("rounds", queryset=rounds, to_attr="all_rounds")
        ).order_by("is_archived", "title")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(courses=list(self.get_queryset()), now=timezone.now())
        return context


class CourseCreateView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "seminars/form.html"
    required_roles = COORDINATORS
    form_class = forms.CourseForm
    page_title = gettext_lazy("New course")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "programme": self.programme}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "back_url": reverse("seminars:manage")}

    def perform(self, form: forms.CourseForm) -> str:
        values, relations = form.split()
        course = courses.course_create(actor=self.actor, programme=self.programme, values=values, **relations)
        return reverse("seminars:course-detail", kwargs={"pk": course.pk})


class CourseEditView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "seminars/form.html"
    required_roles = COORDINATORS
    model = Course
    form_class = forms.CourseForm
    page_title = gettext_lazy("Edit course")

    def load(self, **kwargs: Any) -> None:
        self.course: Course = self.get_object_or_404(pk=kwargs["pk"])

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "programme": self.programme, "course": self.course}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "subject": self.course,
            "back_url": reverse("seminars:course-detail", kwargs={"pk": self.course.pk}),
        }

    def perform(self, form: forms.CourseForm) -> str:
        values, relations = form.split()
        courses.course_update(actor=self.actor, course=self.course, values=values, **relations)
        return reverse("seminars:course-detail", kwargs={"pk": self.course.pk})


class RoundCreateView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "seminars/form.html"
    required_roles = COORDINATORS
    model = Course
    form_class = forms.RoundForm
    page_title = gettext_lazy("New round")

    def load(self, **kwargs: Any) -> None:
        self.course: Course = self.get_object_or_404(pk=kwargs["pk"])

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "initial_hold": settings.SEMINARS_OFFER_HOLD_HOURS}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "subject": self.course,
            "back_url": reverse("seminars:course-detail", kwargs={"pk": self.course.pk}),
            "help": _("Add the sessions (days or half-days) after saving the round."),
        }

    def perform(self, form: forms.RoundForm) -> str:
        round_ = rounds.round_create(actor=self.actor, course=self.course, values=form.cleaned_data)
        return reverse("seminars:round-admin", kwargs={"pk": round_.pk})


class RoundEditView(RoundScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "seminars/form.html"
    required_roles = COORDINATORS
    form_class = forms.RoundForm
    page_title = gettext_lazy("Edit round")

    def load(self, **kwargs: Any) -> None:
        self.round: Round = self.get_round(kwargs["pk"])

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "round_": self.round}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "subject": self.round,
            "back_url": reverse("seminars:round-admin", kwargs={"pk": self.round.pk}),
        }

    def perform(self, form: forms.RoundForm) -> str:
        values = dict(form.cleaned_data)
        if self.round.status == Round.Status.CANCELLED:
            values.pop("status")
        rounds.round_update(actor=self.actor, round=self.round, values=values)
        return reverse("seminars:round-admin", kwargs={"pk": self.round.pk})


class RoundAdminView(RoundScoped, TemplateView):
    """A round for its coordinators: bookings, queue, sessions, quotas, and the actions on them."""

    template_name = "seminars/round_admin.html"
    required_roles = COORDINATORS

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        round_ = catalogue.round_with_course(self.get_round(kwargs["pk"]).pk)
        assert round_ is not None
        active = list(participation.participants(round_))
        positions = participation.queue_positions([round_.pk])
        ended = list(
            participation.with_enrolment_joins(
                Enrolment.objects.filter(round=round_).exclude(status__in=Enrolment.ACTIVE)
            ).order_by("-ended_at")[:50]
        )
        quotas = list(round_.quotas.all())
        held = dict(
            Enrolment.objects.filter(round=round_, status__in=Enrolment.SEAT_HOLDING)
            .values_list("organisation_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        context.update(
            round=round_,
            course=round_.course,
            sessions=list(round_.sessions.all()),
            confirmed=[e for e in active if e.status == Enrolment.Status.CONFIRMED],
            held=[
                e for e in active if e.status in (Enrolment.Status.PENDING_APPROVAL, Enrolment.Status.OFFERED)
            ],
            waiting=[(e, positions.get(e.pk)) for e in active if e.status == Enrolment.Status.WAITING],
            ended=ended,
            quotas=[(q, held.get(q.organisation_id, 0)) for q in quotas],
            enrol_form=forms.EnrolOtherForm(programme=self.programme),
            cancel_form=forms.ReasonForm(),
            group_count=round_.groups.count(),
            cost_total=sum(c.amount for c in round_.costs.all()),
            now=timezone.now(),
        )
        return context


class RoundEnrolOtherView(RoundScoped, View):
    required_roles = COORDINATORS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        round_ = self.get_round(pk)
        form = forms.EnrolOtherForm(request.POST, programme=self.programme)
        if not form.is_valid():
            messages.error(request, _("Choose a person of the programme."))
        else:
            try:
                enrolment = enrolments.enrolment_create(
                    actor=self.actor, round=round_, person=form.cleaned_data["person"]
                )
            except SERVICE_ERRORS as error:
                messages.error(request, error_text(error))
            else:
                messages.success(
                    request,
                    _("%(person)s: %(status)s.")
                    % {"person": enrolment.person.full_name, "status": enrolment.get_status_display()},
                )
        return redirect("seminars:round-admin", pk=round_.pk)


class RoundCancelView(RoundScoped, View):
    required_roles = COORDINATORS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        round_ = self.get_round(pk)
        form = forms.ReasonForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        try:
            rounds.round_cancel(actor=self.actor, round=round_, reason=reason)
        except SERVICE_ERRORS as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, _("The round is cancelled and everyone booked has been told."))
        return redirect("seminars:round-admin", pk=round_.pk)


class SessionCreateView(RoundScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "seminars/form.html"
    required_roles = COORDINATORS
    form_class = forms.SessionForm
    page_title = gettext_lazy("New session")

    def load(self, **kwargs: Any) -> None:
        self.round: Round = self.get_round(kwargs["pk"])

    def get_initial(self) -> dict[str, Any]:
        return {"place": self.round.sessions.values_list("place", flat=True).last() or ""}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "subject": self.round,
            "back_url": reverse("seminars:round-admin", kwargs={"pk": self.round.pk}),
            "help": _("Confirmed participants get a calendar invite for the new session."),
        }

    def perform(self, form: forms.SessionForm) -> str:
        session = sessions.session_create(actor=self.actor, round=self.round, values=form.cleaned_data)
        warn_of_day_off(self.request, self.programme, session)
        return reverse("seminars:round-admin", kwargs={"pk": self.round.pk})


class SessionEditView(SessionScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "seminars/form.html"
    required_roles = COORDINATORS
    form_class = forms.SessionForm
    page_title = gettext_lazy("Edit session")

    def load(self, **kwargs: Any) -> None:
        self.session: Session = self.get_object_or_404(pk=kwargs["pk"])

    def get_initial(self) -> dict[str, Any]:
        return {name: getattr(self.session, name) for name in forms.SessionForm.base_fields}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "subject": self.session.round,
            "back_url": reverse("seminars:round-admin", kwargs={"pk": self.session.round_id}),
            "help": _("A change of time or place sends every confirmed participant an updated invite."),
        }

    def perform(self, form: forms.SessionForm) -> str:
        session = sessions.session_update(actor=self.actor, session=self.session, values=form.cleaned_data)
        warn_of_day_off(self.request, self.programme, session)
        return reverse("seminars:round-admin", kwargs={"pk": self.session.round_id})


class SessionDeleteView(SessionScoped, View):
    required_roles = COORDINATORS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        session: Session = self.get_object_or_404(pk=pk)
        try:
            sessions.session_delete(actor=self.actor, session=session)
        except SERVICE_ERRORS as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, _("The session is removed and participants' calendars are updated."))
        return redirect("seminars:round-admin", pk=session.round_id)
