"""The one way to link to a shadowing page from outside its views: notifications, calendar invites, the
history and report providers. Empty when the web pages are not routed (API-only set-ups)."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse


def page_url(name: str, **kwargs: int) -> str:
    """The path of the shadowing page ``name`` (``"placement-detail"``, ``pk=...``), or ``""``."""
    try:
        return reverse(f"shadowing:{name}", kwargs=kwargs or None)
    except NoReverseMatch:
        return ""
