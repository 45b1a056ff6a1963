"""Per-request tenancy, time zone and language."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from coordinator.core.tenancy import activate_scope, deactivate_scope
from organisations.models import UI_LANGUAGES, Programme
from organisations.permissions import actor_for

SESSION_PROGRAMME_KEY = "programme_id"
UI_LANGUAGE_CODES = frozenset(code for code, _name in UI_LANGUAGES)


def current_programme_id(request: HttpRequest) -> int | None:
    actor = actor_for(request.user)
    if not actor.memberships:
        return None
    chosen = request.session.get(SESSION_PROGRAMME_KEY)
    if isinstance(chosen, int) and chosen in actor.memberships:
        return chosen
    # Memberships are ordered by programme name; the first is the default.
    return next(iter(actor.memberships))


class ProgrammeMiddleware:
    """Activates the signed-in person's current programme as the tenant scope for the whole request.

    Pages (and session-authenticated API calls until the API base narrows it again) see only the current
    programme's rows. Anonymous requests get no scope, so every tenant query returns nothing. The programme's
    time zone and the person's preferred language are activated too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = actor_for(request.user)  # type: ignore[attr-defined]
        programme_id = current_programme_id(request) if request.user.is_authenticated else None
        token = activate_scope([programme_id] if programme_id else [])
        try:
            # Read with the person's memberships (``actor_for``), in the same query.
            request.programme = (  # type: ignore[attr-defined]
                request.actor.programmes.get(programme_id) if programme_id else None  # type: ignore[attr-defined]
            )
            self._activate_locale(request)
            return self.get_response(request)
        finally:
            deactivate_scope(token)
            timezone.deactivate()

    @staticmethod
    def _activate_locale(request: HttpRequest) -> None:
        programme: Programme | None = request.programme  # type: ignore[attr-defined]
        if programme is not None:
            timezone.activate(zoneinfo.ZoneInfo(programme.time_zone))
        # The person's own choice (their profile, else the switch's cookie), else the programme's language;
        # the browser's Accept-Language (already activated by LocaleMiddleware) only when neither is known:
        # Swedish staff on an English Windows read the Swedish programme in Swedish.
        person = request.actor.person  # type: ignore[attr-defined]
        language = person.preferred_language if person is not None else ""
        if not language:
            cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
            language = cookie if cookie in UI_LANGUAGE_CODES else ""
        if not language and programme is not None:
            language = programme.language
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
