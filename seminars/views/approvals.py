"""Pages of line managers: requests waiting for their approval, and approving or turning them down."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from organisations.access.views import ProgrammeMixin
from seminars import forms
from seminars.models import (
    Enrolment,
)
from seminars.selectors import participation
from seminars.services import (
    approvals,
)
from seminars.views._base import (
    EnrolmentAction,
)


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


class ApprovalsView(ProgrammeMixin, TemplateView):
    template_name = "seminars/approvals.html"
    model = Enrolment

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        pending = list(
            participation.approvals_for(self.actor, self.programme).filter(pk__in=self.get_queryset())
        )
        decided = list(
            participation.with_enrolment_joins(
                self.get_queryset()
                .filter(approved_by=self.person)
                .exclude(approval=Enrolment.Approval.PENDING)
            ).order_by("-approval_decided_at")[:10]
        )
        context.update(pending=pending, decided=decided, reason_form=forms.ReasonForm())
        return context
