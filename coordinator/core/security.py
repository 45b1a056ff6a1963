"""Sign-in lockout responses: the lockout page for people, JSON for API clients."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": _("Too many failed sign-in attempts. Try again in %(minutes)s minutes.")
                % {"minutes": minutes}
            },
            status=429,
            headers={"Retry-After": str(minutes * 60)},
        )
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
