"""Pages of course providers (and coordinators): the rounds they teach and the attendance list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from coordinator.core import formatting
from coordinator.core.views import SERVICE_ERRORS, error_text
from organisations.access.views import ProgrammeMixin
from organisations.models import PlatformRole
from organisations.permissions import COORDINATING_ROLES
from seminars import permissions
from seminars.models import (
    Course,
    Enrolment,
    Round,
    Session,
)
from seminars.selectors import teaching
from seminars.services import (
    attendance,
)
from seminars.views._base import (
    RoundScoped,
    int_or_missing,
)


class TeachingView(ProgrammeMixin, TemplateView):
    template_name = "seminars/teaching.html"
    required_roles = frozenset({PlatformRole.COURSE_PROVIDER, *COORDINATING_ROLES})
    model = Round

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        rounds = list(teaching.provider_rounds(self.actor, self.programme).filter(pk__in=self.get_queryset()))
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
        if not permissions.can_teach(self.actor, round_.course):
            raise PermissionDenied(_("Only the course's providers and the coordinators keep attendance."))

    def _render(self, request: HttpRequest, round_: Round, status: int = 200) -> HttpResponse:
        sessions, rows = teaching.attendance_sheet(round_)
        now = timezone.now()
        needed = round_.course.sessions_needed(len(sessions))
        return render(
            request,
            self.template_name,
            {
                "round": round_,
                "course": round_.course,
                "sessions": sessions,
                "rows": rows,
                "needed": needed,
                "markable": [s for s in sessions if s.has_begun(now)],
                "by_assessment": round_.course.completion_rule == Course.CompletionRule.ASSESSMENT,
                "can_record": Session.all_over(sessions, now),
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
                session = Session.objects.filter(
                    round=round_, pk=int_or_missing(request.POST.get("session"))
                ).first()
                if session is None:
                    raise ValidationError(_("Choose a session of this round."))
                confirmed = list(
                    Enrolment.objects.filter(round=round_, status=Enrolment.Status.CONFIRMED).values_list(
                        "pk", flat=True
                    )
                )
                present = {int_or_missing(v) for v in request.POST.getlist("present")}
                attendance.attendance_mark(
                    actor=self.actor, session=session, marks={pk: pk in present for pk in confirmed}
                )
                messages.success(
                    request,
                    _("Attendance saved for %(session)s.")
                    % {"session": session.title or formatting.day(session.starts_at)},
                )
            elif action == "complete":
                created = attendance.completions_record(actor=self.actor, round=round_)
                messages.success(request, _("%(n)s completions recorded.") % {"n": len(created)})
            elif action == "assessment":
                enrolment = Enrolment.objects.filter(
                    round=round_, pk=int_or_missing(request.POST.get("enrolment"))
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
        except SERVICE_ERRORS as error:
            messages.error(request, error_text(error))
            return self._render(request, round_, status=400)
        return redirect("seminars:attendance", pk=round_.pk)
