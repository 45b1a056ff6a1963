"""Small presentation helpers for the shadowing templates (no permission decisions here)."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from shadowing.forms import LANGUAGE_NAMES
from shadowing.models import MatchingRun, Placement, ShadowingRequest

register = template.Library()

P = Placement.Status
RS = ShadowingRequest.Status
_STATUS_CLASS: dict[str, str] = {
    P.PROPOSED: "",
    P.AWAITING_HOST: "warn",
    P.HOST_ACCEPTED: "warn",
    P.HOST_DECLINED: "danger",
    P.CONFIRMED: "ok",
    P.VISITED: "ok",
    P.REFLECTED: "ok",
    P.CANCELLED: "danger",
    RS.PENDING_APPROVAL: "warn",
    RS.APPROVED: "",
    RS.DECLINED: "danger",
    RS.PLACED: "ok",
    RS.EXPIRED: "danger",
    RS.WITHDRAWN: "danger",
    MatchingRun.Status.CONFIRMED: "ok",
    MatchingRun.Status.DISCARDED: "danger",
}


@register.filter
def status_class(status: str) -> str:
    """The tag colour for a status; the status is always written out too, never shown by colour alone."""
    return _STATUS_CLASS.get(status, "")


@register.filter
def language_names(codes: Iterable[str] | None) -> str:
    """ "sv, en" → "Swedish, English" (in the active language); unknown codes are shown as they are."""
    return ", ".join(str(LANGUAGE_NAMES.get(code, code)) for code in (codes or []))


@register.filter
def percent(fraction: float | None) -> str:
    """A solver gap such as 0.0012 as "0.12 %"."""
    return f"{(fraction or 0) * 100:.2f} %"
