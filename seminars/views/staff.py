"""Pages of staff: the course catalogue, a course and a round (enrolling there), the actions on their own
booking, and my bookings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from coordinator.core.forms import add_service_errors
from coordinator.core.views import SERVICE_ERRORS
from organisations.access.views import ProgrammeMixin
from seminars import forms, permissions
from seminars.models import (
    Completion,
    Course,
    Enrolment,
    Round,
    Session,
)
from seminars.selectors import catalogue, participation
from seminars.services import (
    enrolments,
)
from seminars.views._base import (
    ENROLLED_MESSAGES,
    EnrolmentAction,
    RoundScoped,
)


class CourseDetailView(ProgrammeMixin, TemplateView):
    template_name = "seminars/course_detail.html"
    model = Course

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.prefetch_related("providers", "target_roles", "prerequisites")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        course: Course = self.get_object_or_404(pk=kwargs["pk"])
        can_manage = permissions.can_manage(self.actor, self.programme)
        rounds = Round.objects.filter(course=course).order_by("-starts_at", "-pk")
        if not can_manage:
            rounds = rounds.exclude(status=Round.Status.DRAFT)
        context.update(
            course=course,
            rounds=list(rounds),
            completion=Completion.objects.filter(person=self.person, course=course).first(),
            completed_count=Completion.objects.filter(course=course).count(),
            can_manage=can_manage,
            can_teach=permissions.can_teach(self.actor, course),
            now=timezone.now(),
        )
        return context


class RoundDetailView(RoundScoped, TemplateView):
    """One round: sessions, seats, my booking and what I can do with it; enrolling posts here."""

    template_name = "seminars/round_detail.html"

    def _context(self, round_: Round, form: forms.EnrolForm | None = None) -> dict[str, Any]:
        round_ = catalogue.round_with_course(round_.pk) or round_
        now = timezone.now()
        rules = catalogue.course_rules(round_.course)
        mine = (
            Enrolment.objects.filter(round=round_, person=self.person)
            .order_by("-requested_at", "-pk")
            .first()
        )
        active = mine if mine is not None and mine.is_active else None
        problems: list[str] = []
        if active is None:
            context = catalogue.enrolment_context(self.person, self.programme, actor=self.actor)
            problems = permissions.enrolment_problems(
                context,
                round_,
                target_role_ids=rules.target_role_ids,
                prerequisite_ids=rules.prerequisite_ids,
                prerequisite_titles=rules.prerequisite_titles,
                now=now,
            )
        position = None
        if active is not None and active.status == Enrolment.Status.WAITING:
            position = participation.queue_positions([round_.pk]).get(active.pk)
        waiting = Enrolment.objects.filter(round=round_, status=Enrolment.Status.WAITING).count()
        group = None
        if active is not None and active.status == Enrolment.Status.CONFIRMED:
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
            "can_cancel": active is not None and permissions.can_cancel(self.actor, active, now),
            "past_deadline": active is not None and not round_.cancellation_is_open(now),
            "waiting": waiting,
            "form": form or forms.EnrolForm(),
            "needs_approval": round_.requires_manager_approval,
            "can_manage": permissions.can_manage(self.actor, self.programme),
            "can_teach": permissions.can_teach(self.actor, round_.course, rules.provider_ids),
            "is_target": permissions.is_target_role(self._work_role_id(), rules.target_role_ids),
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
            except SERVICE_ERRORS as error:
                add_service_errors(form, error)
            else:
                messages.success(request, ENROLLED_MESSAGES[enrolment.status]())
                return redirect("seminars:round-detail", pk=round_.pk)
        return render(request, self.template_name, self._context(round_, form), status=400)


class CancelEnrolmentView(EnrolmentAction):
    def perform(self, enrolment: Enrolment) -> str:
        was_waiting = enrolment.status == Enrolment.Status.WAITING
        enrolments.enrolment_cancel(actor=self.actor, enrolment=enrolment)
        if not permissions.is_own(self.actor, enrolment):
            return _("%(person)s was removed from the round.") % {"person": enrolment.person.full_name}
        return _("You have left the waiting list.") if was_waiting else _("Your booking is cancelled.")


class AcceptOfferView(EnrolmentAction):
    def perform(self, enrolment: Enrolment) -> str:
        updated = enrolments.offer_accept(actor=self.actor, enrolment=enrolment)
        return str(ENROLLED_MESSAGES[updated.status]())


class DeclineOfferView(EnrolmentAction):
    def perform(self, enrolment: Enrolment) -> str:
        enrolments.offer_decline(actor=self.actor, enrolment=enrolment)
        return _("You declined the seat; it goes to the next person in the queue.")


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
            participation.my_enrolments(self.person).filter(pk__in=self.get_queryset().values("pk"))
        )
        positions = participation.queue_positions(
            {e.round_id for e in enrolments if e.status == Enrolment.Status.WAITING}
        )
        rows = [
            BookingRow(
                e,
                positions.get(e.pk),
                permissions.can_cancel(self.actor, e, now),
                list(e.round.sessions.all()),
            )
            for e in enrolments
        ]
        # A round whose last session is over is no current booking, whatever its status says.
        over = {id(r) for r in rows if r.sessions and max(s.ends_at for s in r.sessions) < now}
        context.update(
            offers=[r for r in rows if r.enrolment.status == Enrolment.Status.OFFERED and id(r) not in over],
            current=[
                r
                for r in rows
                if id(r) not in over
                and r.enrolment.status
                in (Enrolment.Status.CONFIRMED, Enrolment.Status.PENDING_APPROVAL, Enrolment.Status.WAITING)
            ],
            ended=[r for r in rows if not r.enrolment.is_active or id(r) in over][:30],
            completions=list(Completion.objects.filter(person=self.person).select_related("course")),
            now=now,
        )
        return context
