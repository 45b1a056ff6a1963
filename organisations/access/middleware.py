"""Per-request tenancy, time zone and language."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from coordinator.core.tenancy import activate_scope, deactivate_scope
from organisations.models import Programme
from organisations.permissions import actor_for

SESSION_PROGRAMME_KEY = "programme_id"


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
            request.programme = (  # type: ignore[attr-defined]
                Programme.objects.filter(pk=programme_id).first() if programme_id else None
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
        person = request.actor.person  # type: ignore[attr-defined]
        if person is not None and person.preferred_language:
            translation.activate(person.preferred_language)
            request.LANGUAGE_CODE = person.preferred_language
