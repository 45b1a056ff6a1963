"""Error pages: HTML for pages, JSON for the API, with the same body for a foreign and a missing object."""

from __future__ import annotations

import sys
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from psycopg_pool import PoolTimeout


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or request.headers.get("Accept", "").startswith(
        "application/json"
    )


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": _("You do not have permission to perform this action.")}, status=403)
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return render(request, "404.html", status=404)


def _database_unavailable() -> bool:
    # Django calls the 500 handler while the exception is being handled, so it is still at hand here.
    exception = sys.exc_info()[1]
    while exception is not None:
        if isinstance(exception, (OperationalError, InterfaceError, PoolTimeout)):
            return True
        exception = exception.__cause__ or exception.__context__
    return False


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with a message and Retry-After. Rendered without the request's context: the page's usual context
    (the signed-in person, their programme) needs the database that just failed."""
    message = _("The service is briefly unavailable. Please try again in a moment.")
    if _wants_json(request):
        response: HttpResponse = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = "5"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    if _database_unavailable():
        # The database is down or restarting (the pool reconnects once it is back): a clean 503 that says
        # to retry, not a 500.
        return service_unavailable(request)
    if _wants_json(request):
        return JsonResponse({"detail": _("Something went wrong on our side.")}, status=500)
    return render(request, "500.html", status=500)
