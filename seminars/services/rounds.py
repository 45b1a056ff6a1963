"""Rounds of a course: create, change and cancel them, and the checks of their dates and seats."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core.exceptions import Conflict
from coordinator.core.notifications import notify
from coordinator.core.services import apply_changes, validate
from organisations.permissions import Actor
from seminars import invites
from seminars.models import (
    KIND_ENROLMENT,
    Course,
    Enrolment,
    OrganisationQuota,
    Round,
    Session,
)
from seminars.services._seats import (
    lock_round,
    my_bookings_url,
    require_manage,
    round_params,
)
from seminars.services.waiting_list import end_active, sweep_locked

ROUND_FIELDS = {
    "label",
    "information",
    "capacity",
    "registration_opens_at",
    "registration_closes_at",
    "cancellation_deadline",
    "target_role_mode",
    "requires_manager_approval",
    "offer_hold_hours",
    "reserved_seats_release_at",
    "status",
}


def check_round(round_: Round, reserved_total: int) -> None:
    errors: dict[str, str] = {}
    if round_.registration_closes_at <= round_.registration_opens_at:
        errors["registration_closes_at"] = _("Registration must close after it opens.")
    if round_.capacity < round_.seats_taken:
        errors["capacity"] = _("%(taken)s seats are already taken; the round cannot have fewer seats.") % {
            "taken": round_.seats_taken
        }
    elif round_.capacity < reserved_total:
        errors["capacity"] = _(
            "The quotas reserve %(reserved)s seats; the round needs at least that many."
        ) % {"reserved": reserved_total}
    if round_.starts_at is not None:
        if round_.registration_opens_at >= round_.starts_at:
            errors["registration_opens_at"] = _("Registration must open before the first session.")
        if (
            round_.reserved_seats_release_at is not None
            and round_.reserved_seats_release_at > round_.starts_at
        ):
            errors["reserved_seats_release_at"] = _("Release reserved seats before the first session.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def round_create(*, actor: Actor, course: Course, values: Mapping[str, Any]) -> Round:
    """Add a round to a course (a draft unless ``status`` says published). Coordinators only."""
    require_manage(actor, course.programme_id)
    round_ = Round(course=course)
    apply_changes(round_, values, ROUND_FIELDS)
    if round_.status == Round.Status.CANCELLED:
        raise ValidationError({"status": _("A new round cannot be cancelled.")})
    validate(round_, exclude=["course"])
    check_round(round_, 0)
    round_.save()
    return round_


@transaction.atomic
def round_update(*, actor: Actor, round: Round, values: Mapping[str, Any]) -> Round:
    """Change a round's seats, dates and rules; more seats or a publication offer seats to the queue.

    Coordinators only. A round cannot shrink below the seats already taken or reserved, and goes back to
    draft only while nobody has enrolled. Cancelling is ``round_cancel``."""
    require_manage(actor, round.course.programme_id)
    now = timezone.now()
    locked = lock_round(round.pk)
    before_status = locked.status
    changed = apply_changes(locked, values, ROUND_FIELDS)
    if "status" in changed:
        if locked.status == Round.Status.CANCELLED or before_status == Round.Status.CANCELLED:
            raise ValidationError(
                {"status": _("Cancel a round with the cancel action; it cannot be reopened.")}
            )
        if locked.status == Round.Status.DRAFT and Enrolment.objects.filter(round=locked).exists():
            raise ValidationError({"status": _("People have enrolled; the round cannot go back to draft.")})
    validate(locked, exclude=["course"])
    reserved_total = sum(OrganisationQuota.objects.filter(round=locked).values_list("reserved", flat=True))
    check_round(locked, reserved_total)
    if changed:
        locked.save(update_fields=changed)
        invites.reconcile_round(locked)  # label and information are in every session's event
    sweep_locked(locked, now)
    return locked


@transaction.atomic
def round_cancel(*, actor: Actor, round: Round, reason: str = "") -> Round:
    """Cancel a round: every booking ends, confirmed participants get a calendar cancellation for each
    session, everyone else a notification. Coordinators only."""
    require_manage(actor, round.course.programme_id)
    if len(reason) > 300:
        raise ValidationError({"reason": _("Keep the reason under 300 characters.")})
    now = timezone.now()
    locked = lock_round(round.pk)
    if locked.status == Round.Status.CANCELLED:
        raise Conflict(_("This round is already cancelled."))
    programme = locked.course.programme
    ended = end_active(
        locked, Enrolment.ACTIVE, Enrolment.Status.CANCELLED, Enrolment.EndReason.ROUND_CANCELLED, now
    )
    for enrolment in ended:
        notify(
            programme=programme,
            recipients=[enrolment.person],
            kind=KIND_ENROLMENT,
            title=gettext_noop("%(course)s (%(round)s) has been cancelled"),
            params=round_params(locked),
            detail=reason,
            url=my_bookings_url(),
        )
    locked.status = Round.Status.CANCELLED
    locked.cancelled_reason = reason
    locked.save(update_fields=["status", "cancelled_reason"])
    invites.reconcile_round(locked)  # every session leaves every calendar
    return locked


def refresh_round_dates(round_: Round) -> None:
    bounds = list(
        Session.objects.filter(round=round_).order_by("starts_at").values_list("starts_at", "ends_at")
    )
    starts = bounds[0][0] if bounds else None
    ends = max((b[1] for b in bounds), default=None)
    if (round_.starts_at, round_.ends_at) != (starts, ends):
        round_.starts_at, round_.ends_at = starts, ends
        round_.save(update_fields=["starts_at", "ends_at"])
