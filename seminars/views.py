"""Pages of the seminars app: the course catalogue, my bookings, approvals for line managers, attendance for
course providers, and the coordinators' pages for courses, rounds, sessions, quotas, groups, demand and costs.

Thin views: they read through ``seminars.selectors``, write through ``seminars.services``, compute the
permission flags the templates show (``can_manage``, ``can_teach``...) and let the services check again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, QuerySet
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
from organisations.models import PlatformRole
from organisations.permissions import COORDINATING_ROLES
from seminars import forms, grouping, selectors
from seminars import permissions as perms
from seminars.models import (
    Completion,
    Course,
    Enrolment,
    OrganisationQuota,
    Round,
    RoundCost,
    Session,
)
from seminars.services import (
    approvals,
    attendance,
    costs,
    courses,
    discussion_groups,
    enrolments,
    quotas,
    rounds,
    sessions,
)

S = Enrolment.Status
COORDINATORS = frozenset(COORDINATING_ROLES)


class RoundScoped(ProgrammeMixin):
    """Pages about one round: drafts are visible to the programme's coordinators only."""

    model = Round

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = queryset.select_related("course__programme")
        if perms.can_manage(self.actor, self.programme):
            return queryset
        return queryset.exclude(status=Round.Status.DRAFT)

    def get_round(self, pk: int) -> Round:
        return self.get_object_or_404(pk=pk)  # type: ignore[no-any-return]


# --- Staff: catalogue, round page, my bookings ----------------------------------------------------------


class CatalogueView(ProgrammeMixin, TemplateView):
    """Open courses: every course with rounds still to come, and whether I may enrol on each round."""

    template_name = "seminars/catalogue.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        entries = selectors.catalogue(self.person, self.programme, timezone.now())
        only_mine = self.request.GET.get("for") == "me"
        if only_mine:
            entries = [e for e in entries if e.rounds and (e.fits_my_role or not e.course.target_roles.all())]
        context.update(
            entries=[e for e in entries if e.rounds],
            without_rounds=[e for e in entries if not e.rounds],
            only_mine=only_mine,
            can_manage=perms.can_manage(self.actor, self.programme),
        )
        return context


class CourseDetailView(ProgrammeMixin, TemplateView):
    template_name = "seminars/course_detail.html"
    model = Course

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.prefetch_related("providers", "target_roles", "prerequisites")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        course: Course = self.get_object_or_404(pk=kwargs["pk"])
        can_manage = perms.can_manage(self.actor, self.programme)
        rounds = Round.objects.filter(course=course).order_by("-starts_at", "-pk")
        if not can_manage:
            rounds = rounds.exclude(status=Round.Status.DRAFT)
        context.update(
            course=course,
            rounds=list(rounds),
            completion=Completion.objects.filter(person=self.person, course=course).first(),
            completed_count=Completion.objects.filter(course=course).count(),
            can_manage=can_manage,
            can_teach=perms.can_teach(self.actor, course),
            now=timezone.now(),
        )
        return context


class RoundDetailView(RoundScoped, TemplateView):
    """One round: sessions, seats, my booking and what I can do with it; enrolling posts here."""

    template_name = "seminars/round_detail.html"

    def _context(self, round_: Round, form: forms.EnrolForm | None = None) -> dict[str, Any]:
        round_ = selectors.round_with_course(round_.pk) or round_
        now = timezone.now()
        rules = selectors.course_rules(round_.course)
        mine = (
            Enrolment.objects.filter(round=round_, person=self.person)
            .order_by("-requested_at", "-pk")
            .first()
        )
        active = mine if mine is not None and mine.is_active else None
        problems: list[str] = []
        if active is None:
            context = selectors.enrolment_context(self.person, self.programme)
            problems = perms.enrolment_problems(
                context,
                round_,
                target_role_ids=rules.target_role_ids,
                prerequisite_ids=rules.prerequisite_ids,
                prerequisite_titles=rules.prerequisite_titles,
                now=now,
            )
        position = None
        if active is not None and active.status == S.WAITING:
            position = selectors.queue_positions([round_.pk]).get(active.pk)
        waiting = Enrolment.objects.filter(round=round_, status=S.WAITING).count()
        group = None
        if active is not None and active.status == S.CONFIRMED:
            group = (
                round_.groups.filter(members__enrolment=active)
                .prefetch_related("members__enrolment__person__user", "members__enrolment__organisation")
                .first()
            )
        return {
            "round": round_,
            "course": round_.course,
            "sessions": list(round_.sessions.all()),
            "quotas": list(round_.quotas.all()),
            "mine": mine,
            "active": active,
            "position": position,
            "problems": problems,
            "can_enrol": active is None and not problems,
            "can_cancel": active is not None and perms.can_cancel(self.actor, active, now),
            "past_deadline": active is not None and now >= round_.cancellation_deadline,
            "waiting": waiting,
            "form": form or forms.EnrolForm(),
            "needs_approval": round_.requires_manager_approval,
            "can_manage": perms.can_manage(self.actor, self.programme),
            "can_teach": perms.can_teach(self.actor, round_.course, rules.provider_ids),
            "is_target": perms.is_target_role(self._work_role_id(), rules.target_role_ids),
            "group": group,
            "now": now,
        }

    def _work_role_id(self) -> int | None:
        membership = self.actor.membership_in(self.programme)
        return membership.work_role_id if membership else None

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render(request, self.template_name, self._context(self.get_round(pk)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        round_ = self.get_round(pk)
        form = forms.EnrolForm(request.POST)
        if form.is_valid():
            try:
                enrolment = enrolments.enrolment_create(
                    actor=self.actor, round=round_, motivation=form.cleaned_data["motivation"]
                )
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _ENROLLED_MESSAGES[enrolment.status]())
                return redirect("seminars:round-detail", pk=round_.pk)
        return render(request, self.template_name, self._context(round_, form), status=400)


_ENROLLED_MESSAGES: dict[str, Callable[[], str]] = {
    S.CONFIRMED: lambda: _("Your seat is confirmed. Calendar invites are on their way by email."),
    S.PENDING_APPROVAL: lambda: _("A seat is held for you while your line manager approves."),
    S.WAITING: lambda: _(
        "The round is full: you are on the waiting list. A freed seat is offered to you by email."
    ),
}


class EnrolmentAction(ProgrammeMixin, View):
    """POST-only actions on one booking; the service decides whether the person may."""

    model = Enrolment
    action: ClassVar[str]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        visible = selectors.enrolments_visible_to(self.actor, [self.programme.pk]).values("pk")
        return queryset.filter(pk__in=visible).select_related("round__course__programme", "person__user")

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        enrolment: Enrolment = self.get_object_or_404(pk=pk)
        try:
            message = self.perform(enrolment)
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, message)
        return redirect(next_url(request, reverse("seminars:my-bookings")))

    def perform(self, enrolment: Enrolment) -> str:
        raise PermissionDenied


class CancelEnrolmentView(EnrolmentAction):
    def perform(self, enrolment: Enrolment) -> str:
        was_waiting = enrolment.status == S.WAITING
        enrolments.enrolment_cancel(actor=self.actor, enrolment=enrolment)
        if not perms.is_own(self.actor, enrolment):
            return _("%(person)s was removed from the round.") % {"person": enrolment.person.full_name}
        return _("You have left the waiting list.") if was_waiting else _("Your booking is cancelled.")


class AcceptOfferView(EnrolmentAction):
    def perform(self, enrolment: Enrolment) -> str:
        updated = enrolments.offer_accept(actor=self.actor, enrolment=enrolment)
        return str(_ENROLLED_MESSAGES[updated.status]())


class DeclineOfferView(EnrolmentAction):
    def perform(self, enrolment: Enrolment) -> str:
        enrolments.offer_decline(actor=self.actor, enrolment=enrolment)
        return _("You declined the seat; it goes to the next person in the queue.")


class ApproveView(EnrolmentAction):
    def perform(self, enrolment: Enrolment) -> str:
        approvals.enrolment_approve(actor=self.actor, enrolment=enrolment)
        return _("You approved %(person)s's request.") % {"person": enrolment.person.full_name}


class RejectView(EnrolmentAction):
    def perform(self, enrolment: Enrolment) -> str:
        form = forms.ReasonForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError(list(form.errors["reason"]))
        approvals.enrolment_reject(actor=self.actor, enrolment=enrolment, reason=form.cleaned_data["reason"])
        return _("You turned down %(person)s's request.") % {"person": enrolment.person.full_name}


@dataclass
class BookingRow:
    enrolment: Enrolment
    position: int | None
    can_cancel: bool
    sessions: list[Session]


class MyBookingsView(ProgrammeMixin, TemplateView):
    template_name = "seminars/my_bookings.html"
    model = Enrolment

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(person=self.person)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        enrolments = list(
            selectors.my_enrolments(self.person).filter(pk__in=self.get_queryset().values("pk"))
        )
        positions = selectors.queue_positions({e.round_id for e in enrolments if e.status == S.WAITING})
        rows = [
            BookingRow(
                e, positions.get(e.pk), perms.can_cancel(self.actor, e, now), list(e.round.sessions.all())
            )
            for e in enrolments
        ]
        context.update(
            offers=[r for r in rows if r.enrolment.status == S.OFFERED],
            current=[r for r in rows if r.enrolment.status in (S.CONFIRMED, S.PENDING_APPROVAL, S.WAITING)],
            ended=[r for r in rows if not r.enrolment.is_active][:30],
            completions=list(Completion.objects.filter(person=self.person).select_related("course")),
            now=now,
        )
        return context


# --- Line managers --------------------------------------------------------------------------------------


class ApprovalsView(ProgrammeMixin, TemplateView):
    template_name = "seminars/approvals.html"
    model = Enrolment

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        pending = list(selectors.approvals_for(self.actor, self.programme).filter(pk__in=self.get_queryset()))
        decided = list(
            selectors.with_enrolment_joins(
                self.get_queryset()
                .filter(approved_by=self.person)
                .exclude(approval=Enrolment.Approval.PENDING)
            ).order_by("-approval_decided_at")[:10]
        )
        context.update(pending=pending, decided=decided, reason_form=forms.ReasonForm())
        return context


# --- Course providers -----------------------------------------------------------------------------------


class TeachingView(ProgrammeMixin, TemplateView):
    template_name = "seminars/teaching.html"
    required_roles = frozenset({PlatformRole.COURSE_PROVIDER, *COORDINATING_ROLES})
    model = Round

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        rounds = list(
            selectors.provider_rounds(self.actor, self.programme).filter(pk__in=self.get_queryset())
        )
        context.update(
            current=[r for r in rounds if r.ends_at is None or r.ends_at >= now - timedelta(days=30)],
            past=[r for r in rounds if r.ends_at is not None and r.ends_at < now - timedelta(days=30)][::-1],
            now=now,
        )
        return context


class AttendanceView(RoundScoped, TemplateView):
    """The attendance list of a round: mark each session, record completions or passed assessments."""

    template_name = "seminars/attendance.html"

    def _check(self, round_: Round) -> None:
        if not perms.can_teach(self.actor, round_.course):
            raise PermissionDenied(_("Only the course's providers and the coordinators keep attendance."))

    def _render(self, request: HttpRequest, round_: Round, status: int = 200) -> HttpResponse:
        sessions, rows = selectors.attendance_sheet(round_)
        now = timezone.now()
        needed = -(-len(sessions) * round_.course.attendance_required_percent // 100) if sessions else 0
        return render(
            request,
            self.template_name,
            {
                "round": round_,
                "course": round_.course,
                "sessions": sessions,
                "rows": rows,
                "needed": needed,
                "markable": [s for s in sessions if s.starts_at <= now],
                "by_assessment": round_.course.completion_rule == Course.CompletionRule.ASSESSMENT,
                "can_record": bool(sessions) and sessions[-1].starts_at <= now,
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        round_ = self.get_round(pk)
        self._check(round_)
        return self._render(request, round_)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        round_ = self.get_round(pk)
        self._check(round_)
        action = request.POST.get("action", "")
        try:
            if action == "mark":
                session = Session.objects.filter(round=round_, pk=_int(request.POST.get("session"))).first()
                if session is None:
                    raise ValidationError(_("Choose a session of this round."))
                confirmed = list(
                    Enrolment.objects.filter(round=round_, status=S.CONFIRMED).values_list("pk", flat=True)
                )
                present = {_int(v) for v in request.POST.getlist("present")}
                attendance.attendance_mark(
                    actor=self.actor, session=session, marks={pk: pk in present for pk in confirmed}
                )
                messages.success(
                    request,
                    _("Attendance saved for %(session)s.")
                    % {
                        "session": session.title or timezone.localtime(session.starts_at).strftime("%Y-%m-%d")
                    },
                )
            elif action == "complete":
                created = attendance.completions_record(actor=self.actor, round=round_)
                messages.success(request, _("%(n)s completions recorded.") % {"n": len(created)})
            elif action == "assessment":
                enrolment = Enrolment.objects.filter(
                    round=round_, pk=_int(request.POST.get("enrolment"))
                ).first()
                if enrolment is None:
                    raise ValidationError(_("Choose a participant of this round."))
                enrolment.round = round_
                attendance.completion_record(
                    actor=self.actor, enrolment=enrolment, note=request.POST.get("note", "")[:500]
                )
                messages.success(
                    request, _("%(person)s has passed.") % {"person": enrolment.person.full_name}
                )
            else:
                raise ValidationError(_("Unknown action."))
        except ValidationError as error:
            messages.error(request, error_text(error))
            return self._render(request, round_, status=400)
        return redirect("seminars:attendance", pk=round_.pk)


def _int(raw: Any) -> int:
    text = str(raw or "")
    return int(text) if text.isdigit() and len(text) < 12 else -1


# --- Coordinators ---------------------------------------------------------------------------------------


class ManageView(ProgrammeMixin, TemplateView):
    """Courses and their rounds, with seats and queues at a glance."""

    template_name = "seminars/manage.html"
    required_roles = COORDINATORS
    model = Course

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        rounds = selectors.rounds_for(self.programme).order_by("-starts_at", "-pk")
        return queryset.prefetch_related(
            "providers", Prefetch("rounds", queryset=rounds, to_attr="all_rounds")
        ).order_by("is_archived", "title")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(courses=list(self.get_queryset()), now=timezone.now())
        return context


class FormPage(BaseFormPage):
    """The form pages of coordinators: the shared form page on this app's template."""

    template_name = "seminars/form.html"
    required_roles = COORDINATORS


class CourseCreateView(FormPage):
    model = Course
    page_title = gettext_lazy("New course")

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.CourseForm(data=data, programme=self.programme)

    def perform(self, form: Any) -> str:
        values, relations = form.split()
        course = courses.course_create(actor=self.actor, programme=self.programme, values=values, **relations)
        return reverse("seminars:course-detail", kwargs={"pk": course.pk})

    def page_context(self) -> dict[str, Any]:
        return {"back_url": reverse("seminars:manage")}


class CourseEditView(FormPage):
    model = Course
    page_title = gettext_lazy("Edit course")

    def load(self, **kwargs: Any) -> None:
        self.course: Course = self.get_object_or_404(pk=kwargs["pk"])

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.CourseForm(data=data, programme=self.programme, course=self.course)

    def perform(self, form: Any) -> str:
        values, relations = form.split()
        courses.course_update(actor=self.actor, course=self.course, values=values, **relations)
        return reverse("seminars:course-detail", kwargs={"pk": self.course.pk})

    def page_context(self) -> dict[str, Any]:
        return {
            "subject": self.course,
            "back_url": reverse("seminars:course-detail", kwargs={"pk": self.course.pk}),
        }


class RoundCreateView(FormPage):
    model = Course
    page_title = gettext_lazy("New round")

    def load(self, **kwargs: Any) -> None:
        self.course: Course = self.get_object_or_404(pk=kwargs["pk"])

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.RoundForm(data=data, initial_hold=settings.SEMINARS_OFFER_HOLD_HOURS)

    def perform(self, form: Any) -> str:
        round_ = rounds.round_create(actor=self.actor, course=self.course, values=form.cleaned_data)
        return reverse("seminars:round-admin", kwargs={"pk": round_.pk})

    def page_context(self) -> dict[str, Any]:
        return {
            "subject": self.course,
            "back_url": reverse("seminars:course-detail", kwargs={"pk": self.course.pk}),
            "help": _("Add the sessions (days or half-days) after saving the round."),
        }


class RoundEditView(RoundScoped, FormPage):
    page_title = gettext_lazy("Edit round")

    def load(self, **kwargs: Any) -> None:
        self.round: Round = self.get_round(kwargs["pk"])

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.RoundForm(data=data, round_=self.round)

    def perform(self, form: Any) -> str:
        values = dict(form.cleaned_data)
        if self.round.status == Round.Status.CANCELLED:
            values.pop("status")
        rounds.round_update(actor=self.actor, round=self.round, values=values)
        return reverse("seminars:round-admin", kwargs={"pk": self.round.pk})

    def page_context(self) -> dict[str, Any]:
        return {
            "subject": self.round,
            "back_url": reverse("seminars:round-admin", kwargs={"pk": self.round.pk}),
        }


class RoundAdminView(RoundScoped, TemplateView):
    """A round for its coordinators: bookings, queue, sessions, quotas, and the actions on them."""

    template_name = "seminars/round_admin.html"
    required_roles = COORDINATORS

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        round_ = selectors.round_with_course(self.get_round(kwargs["pk"]).pk)
        assert round_ is not None
        active = list(selectors.participants(round_))
        positions = selectors.queue_positions([round_.pk])
        ended = list(
            selectors.with_enrolment_joins(
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
            confirmed=[e for e in active if e.status == S.CONFIRMED],
            held=[e for e in active if e.status in (S.PENDING_APPROVAL, S.OFFERED)],
            waiting=[(e, positions.get(e.pk)) for e in active if e.status == S.WAITING],
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
            except ValidationError as error:
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
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, _("The round is cancelled and everyone booked has been told."))
        return redirect("seminars:round-admin", pk=round_.pk)


class SessionCreateView(RoundScoped, FormPage):
    page_title = gettext_lazy("New session")

    def load(self, **kwargs: Any) -> None:
        self.round: Round = self.get_round(kwargs["pk"])

    def build_form(self, data: Any = None) -> django_forms.Form:
        initial = {"place": self.round.sessions.values_list("place", flat=True).last() or ""}
        return forms.SessionForm(data=data, initial=initial)

    def perform(self, form: Any) -> str:
        sessions.session_create(actor=self.actor, round=self.round, values=form.cleaned_data)
        return reverse("seminars:round-admin", kwargs={"pk": self.round.pk})

    def page_context(self) -> dict[str, Any]:
        return {
            "subject": self.round,
            "back_url": reverse("seminars:round-admin", kwargs={"pk": self.round.pk}),
            "help": _("Confirmed participants get a calendar invite for the new session."),
        }


class SessionScoped(ProgrammeMixin):
    model = Session

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("round__course__programme")


class SessionEditView(SessionScoped, FormPage):
    page_title = gettext_lazy("Edit session")

    def load(self, **kwargs: Any) -> None:
        self.session: Session = self.get_object_or_404(pk=kwargs["pk"])

    def build_form(self, data: Any = None) -> django_forms.Form:
        initial = {name: getattr(self.session, name) for name in forms.SessionForm.base_fields}
        return forms.SessionForm(data=data, initial=initial)

    def perform(self, form: Any) -> str:
        sessions.session_update(actor=self.actor, session=self.session, values=form.cleaned_data)
        return reverse("seminars:round-admin", kwargs={"pk": self.session.round_id})

    def page_context(self) -> dict[str, Any]:
        return {
            "subject": self.session.round,
            "back_url": reverse("seminars:round-admin", kwargs={"pk": self.session.round_id}),
            "help": _("A change of time or place sends every confirmed participant an updated invite."),
        }


class SessionDeleteView(SessionScoped, View):
    required_roles = COORDINATORS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        session: Session = self.get_object_or_404(pk=pk)
        try:
            sessions.session_delete(actor=self.actor, session=session)
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, _("The session is removed and participants' calendars are updated."))
        return redirect("seminars:round-admin", pk=session.round_id)


class QuotasView(RoundScoped, FormPage):
    template_name = "seminars/quotas.html"
    page_title = gettext_lazy("Organisation quotas")
    submit_label = gettext_lazy("Save quota")

    def load(self, **kwargs: Any) -> None:
        self.round: Round = self.get_round(kwargs["pk"])

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.QuotaForm(data=data, programme=self.programme)

    def perform(self, form: Any) -> str:
        quotas.quota_set(
            actor=self.actor,
            round=self.round,
            organisation=form.cleaned_data["organisation"],
            reserved=form.cleaned_data["reserved"],
            maximum=form.cleaned_data["maximum"],
        )
        return reverse("seminars:quotas", kwargs={"pk": self.round.pk})

    def page_context(self) -> dict[str, Any]:
        quotas = list(OrganisationQuota.objects.filter(round=self.round).select_related("organisation"))
        held = dict(
            Enrolment.objects.filter(round=self.round, status__in=Enrolment.SEAT_HOLDING)
            .values_list("organisation_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        return {
            "round": self.round,
            "quotas": [(q, held.get(q.organisation_id, 0)) for q in quotas],
            "reserved_total": sum(q.reserved for q in quotas),
        }


class QuotaDeleteView(ProgrammeMixin, View):
    required_roles = COORDINATORS
    model = OrganisationQuota

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        quota: OrganisationQuota = self.get_object_or_404(pk=pk)
        quotas.quota_delete(actor=self.actor, quota=quota)
        messages.success(request, _("The quota is removed."))
        return redirect("seminars:quotas", pk=quota.round_id)


class GroupsView(RoundScoped, FormPage):
    template_name = "seminars/groups.html"
    page_title = gettext_lazy("Discussion groups")
    submit_label = gettext_lazy("Form groups")
    success_message = gettext_lazy("The groups are formed.")

    def load(self, **kwargs: Any) -> None:
        self.round: Round = self.get_round(kwargs["pk"])

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.GroupForm(data=data, initial={"group_size": settings.SEMINARS_GROUP_SIZE})

    def perform(self, form: Any) -> str:
        discussion_groups.groups_form(
            actor=self.actor, round=self.round, group_size=form.cleaned_data["group_size"]
        )
        return reverse("seminars:groups", kwargs={"pk": self.round.pk})

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if request.POST.get("action") == "clear":
            self.load(**kwargs)
            discussion_groups.groups_clear(actor=self.actor, round=self.round)
            messages.success(request, _("The groups are removed."))
            return redirect("seminars:groups", pk=self.round.pk)
        return super().post(request, **kwargs)

    def page_context(self) -> dict[str, Any]:
        groups = selectors.groups_of(self.round)
        summary = grouping.summarise(
            [
                [grouping.Participant(m.enrolment_id, m.enrolment.organisation_id) for m in g.members.all()]
                for g in groups
            ]
        )
        confirmed = Enrolment.objects.filter(round=self.round, status=S.CONFIRMED)
        organisations = confirmed.values("organisation").distinct().count()
        return {
            "round": self.round,
            "groups": groups,
            "summary": summary,
            "confirmed_count": confirmed.count(),
            "organisation_count": organisations,
        }


class CostsView(RoundScoped, FormPage):
    template_name = "seminars/costs.html"
    page_title = gettext_lazy("Costs of the round")
    submit_label = gettext_lazy("Add cost")

    def load(self, **kwargs: Any) -> None:
        self.round: Round = self.get_round(kwargs["pk"])

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.CostForm(data=data)

    def perform(self, form: Any) -> str:
        costs.cost_add(actor=self.actor, round=self.round, **form.cleaned_data)
        return reverse("seminars:costs", kwargs={"pk": self.round.pk})

    def page_context(self) -> dict[str, Any]:
        costs = list(RoundCost.objects.filter(round=self.round).order_by("kind", "pk"))
        return {"round": self.round, "costs": costs, "total": sum((c.amount for c in costs), 0)}


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
        context["rows"] = selectors.demand(self.programme, timezone.now())
        return context


class ReportView(ProgrammeMixin, TemplateView):
    """Costs, funders' shares and contributed staff hours for a period."""

    template_name = "seminars/report.html"
    required_roles = COORDINATORS

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        today = timezone.localdate()
        data = request.GET if "start" in request.GET or "end" in request.GET else None
        form = forms.PeriodForm(
            data=data, initial={"start": date(today.year, 1, 1), "end": date(today.year, 12, 31)}
        )
        report = None
        if data is None:
            report = selectors.cost_report(self.programme, date(today.year, 1, 1), date(today.year, 12, 31))
        elif form.is_valid():
            report = selectors.cost_report(
                self.programme, form.cleaned_data["start"], form.cleaned_data["end"]
            )
        kinds = list(RoundCost.Kind.choices)
        return render(
            request,
            self.template_name,
            {"form": form, "report": report, "kinds": kinds},
            status=200 if report is not None else 400,
        )
