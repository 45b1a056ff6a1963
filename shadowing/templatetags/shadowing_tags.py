"""Small presentation helpers for the shadowing templates (no permission decisions here)."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from coordinator.core import formatting
from shadowing.models import MatchingRun, Placement, ShadowingRequest

register = template.Library()

_STATUS_CLASS: dict[str, str] = {
    Placement.Status.PROPOSED: "",
    Placement.Status.AWAITING_HOST: "warn",
    Placement.Status.HOST_ACCEPTED: "warn",
    Placement.Status.HOST_DECLINED: "danger",
    Placement.Status.CONFIRMED: "ok",
    Placement.Status.VISITED: "ok",
    Placement.Status.REFLECTED: "ok",
    Placement.Status.CANCELLED: "danger",
    ShadowingRequest.Status.PENDING_APPROVAL: "warn",
    ShadowingRequest.Status.APPROVED: "",
    ShadowingRequest.Status.DECLINED: "danger",
    ShadowingRequest.Status.PLACED: "ok",
    ShadowingRequest.Status.EXPIRED: "danger",
    ShadowingRequest.Status.WITHDRAWN: "danger",
    MatchingRun.Status.CONFIRMED: "ok",
    MatchingRun.Status.DISCARDED: "danger",
    MatchingRun.Status.QUEUED: "warn",
    MatchingRun.Status.SOLVING: "warn",
    MatchingRun.Status.FAILED: "danger",
}


@register.filter
def status_class(status: str) -> str:
    """The tag colour for a status; the status is always written out too, never shown by colour alone."""
    return _STATUS_CLASS.get(status, "")


@register.filter
def language_names(codes: Iterable[str] | None) -> str:
    """ "sv, en" → "svenska och engelska" (in the active language); unknown codes are shown as they are."""
    return formatting.language_names(list(codes or []))


@register.filter
def percent(fraction: float | None) -> str:
    """A solver gap such as 0.0012 as "0,12 %" in Swedish and Danish, "0.12%" in English."""
    return formatting.percent(fraction or 0, fraction=True)
