"""Small presentation helpers for the seminars templates (no permission decisions here)."""

from __future__ import annotations

from django import template

from seminars.models import Enrolment, Round

register = template.Library()

_STATUS_CLASS: dict[str, str] = {
    Enrolment.Status.CONFIRMED: "ok",
    Enrolment.Status.OFFERED: "warn",
    Enrolment.Status.PENDING_APPROVAL: "warn",
    Enrolment.Status.WAITING: "",
    Enrolment.Status.CANCELLED: "danger",
    Enrolment.Status.DECLINED: "danger",
    Enrolment.Status.REJECTED: "danger",
    Enrolment.Status.EXPIRED: "danger",
    Round.Status.PUBLISHED: "ok",
    Round.Status.DRAFT: "warn",
    Round.Status.CANCELLED: "danger",
}


@register.filter
def status_class(status: str) -> str:
    """The tag colour for a status; the status is always written out too, never shown by colour alone."""
    return _STATUS_CLASS.get(status, "")


@register.filter
def percent(part: int | float, whole: int | float) -> int:
    return round(100 * part / whole) if whole else 0
