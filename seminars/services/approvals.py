"""The line manager's decision on an enrolment that needs approval."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core.notifications import notify
from organisations.permissions import Actor
from seminars import permissions
from seminars.models import (
    KIND_ENROLMENT,
    Enrolment,
    Round,
)
from seminars.services._seats import (
    lock_round,
    move,
    my_bookings_url,
    refetch_enrolment,
    round_params,
)
from seminars.services.waiting_list import confirm, fill_locked, sweep_locked


def _decide(actor: Actor, enrolment: Enrolment) -> tuple[Round, Enrolment, datetime]:
    now = timezone.now()
    locked = lock_round(enrolment.round_id)
    sweep_locked(locked, now, fill=False)
    enrolment = refetch_enrolment(enrolment)
    enrolment.round = locked
    if not permissions.can_approve(actor, enrolment):
        raise PermissionDenied(_("Only the person's line manager may decide."))
    if enrolment.approval != Enrolment.Approval.PENDING or not enrolment.is_active:
        raise ValidationError(_("This request has already been decided or has ended."))
    enrolment.approved_by = actor.person
    enrolment.approval_decided_at = now
    return locked, enrolment, now


@transaction.atomic
def enrolment_approve(*, actor: Actor, enrolment: Enrolment) -> Enrolment:
    """The line manager approves the time away. A held seat becomes confirmed (invites are sent); a person
    in the queue is confirmed at once when they accept a later offer."""
    locked, enrolment, now = _decide(actor, enrolment)
    enrolment.approval = Enrolment.Approval.APPROVED
    enrolment.save(update_fields=["approval", "approved_by", "approval_decided_at"])
    if enrolment.status == Enrolment.Status.PENDING_APPROVAL:
        confirm(enrolment, locked, now)
    else:
        notify(
            programme=locked.course.programme,
            recipients=[enrolment.person],
            kind=KIND_ENROLMENT,
            title=gettext_noop("Your line manager approved %(course)s (%(round)s)"),
            body=gettext_noop(
                "You keep your place in the queue; an offered seat is confirmed as soon as you accept it."
            ),
            params=round_params(locked),
            url=my_bookings_url(),
        )
    return enrolment


@transaction.atomic
def enrolment_reject(*, actor: Actor, enrolment: Enrolment, reason: str = "") -> Enrolment:
    """The line manager turns the request down; the booking ends and a held seat goes to the queue."""
    if len(reason) > 500:
        raise ValidationError({"reason": _("Keep the reason under 500 characters.")})
    locked, enrolment, now = _decide(actor, enrolment)
    enrolment.approval = Enrolment.Approval.REJECTED
    move(
        enrolment,
        Enrolment.Status.REJECTED,
        round_=locked,
        now=now,
        end_reason=Enrolment.EndReason.APPROVAL_REJECTED,
        extra_fields=["approval", "approved_by", "approval_decided_at"],
    )
    notify(
        programme=locked.course.programme,
        recipients=[enrolment.person],
        kind=KIND_ENROLMENT,
        title=gettext_noop("Your line manager did not approve %(course)s (%(round)s)"),
        params=round_params(locked),
        detail=reason,
        url=my_bookings_url(),
    )
    fill_locked(locked, now)
    return enrolment
