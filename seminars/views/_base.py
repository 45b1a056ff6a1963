"""What the seminars pages of several roles share: the round and session scoping, the POST-only actions
on one booking, and the messages after enrolling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from coordinator.core.validators import parse_int
from coordinator.core.views import SERVICE_ERRORS, error_text, next_url
from organisations.access.views import ProgrammeMixin
from organisations.permissions import COORDINATING_ROLES
from seminars import permissions
from seminars.models import (
    Enrolment,
    Round,
    Session,
)
from seminars.selectors import participation

COORDINATORS = frozenset(COORDINATING_ROLES)


class RoundScoped(ProgrammeMixin):
    """Pages about one round: drafts are visible to the programme's coordinators only."""

    model = Round

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = queryset.select_related("course__programme")
        if permissions.can_manage(self.actor, self.programme):
            return queryset
        return queryset.exclude(status=Round.Status.DRAFT)

    def get_round(self, pk: int) -> Round:
        return self.get_object_or_404(pk=pk)  # type: ignore[no-any-return]


ENROLLED_MESSAGES: dict[str, Callable[[], str]] = {
    Enrolment.Status.CONFIRMED: lambda: _(
        "Your seat is confirmed. Calendar invites are on their way by email."
    ),
    Enrolment.Status.PENDING_APPROVAL: lambda: _("A seat is held for you while your line manager approves."),
    Enrolment.Status.WAITING: lambda: _(
        "The round is full: you are on the waiting list. A freed seat is offered to you by email."
    ),
}


class EnrolmentAction(ProgrammeMixin, View):
    """POST-only actions on one booking; the service decides whether the person may."""

    model = Enrolment
    action: ClassVar[str]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        visible = participation.enrolments_visible_to(self.actor, [self.programme.pk]).values("pk")
        return queryset.filter(pk__in=visible).select_related("round__course__programme", "person__user")

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        enrolment: Enrolment = self.get_object_or_404(pk=pk)
        try:
            message = self.perform(enrolment)
        except SERVICE_ERRORS as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, message)
        return redirect(next_url(request, reverse("seminars:my-bookings")))

    def perform(self, enrolment: Enrolment) -> str:
        raise PermissionDenied


class SessionScoped(ProgrammeMixin):
    model = Session

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("round__course__programme")


def int_or_missing(raw: str | None) -> int:
    """A posted id as a number, or -1 (which matches no row) when it is missing or not an id."""
    number = parse_int(raw)
    return number if number is not None and number > 0 else -1
