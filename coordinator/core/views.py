"""Small helpers for HTML views that know no app."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def error_text(error: ValidationError) -> str:
    """A service's ValidationError as one line for a message on the next page."""
    return " ".join(error.messages)


def next_url(request: HttpRequest, default: str) -> str:
    """The ``next`` address posted with a form when it is on this site, else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
