"""Edge protection: whose address a request comes from, lockout of accounts and of addresses that spray
guesses over many accounts, the lockout responses (the lockout page for people, JSON for API clients), and
which origins may open the site's websockets."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import ParseResult, urlsplit

from asgiref.typing import ASGIApplication
from auditlog import get_logentry_model
from auditlog.cid import set_cid
from auditlog.context import _set_extra_data, auditlog_value
from auditlog.middleware import AuditlogMiddleware as BaseAuditlogMiddleware
from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.db.models import Sum
from django.db.models.signals import pre_save
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.throttling import BaseThrottle


def client_ip(request: HttpRequest) -> str:
    """The client's address, as sign-in lockout records it and the API throttles count it.

    DRF's rule with ``NUM_PROXIES`` (the ``TRUSTED_PROXY_COUNT`` setting): with no proxy the connection's
    address, whatever ``X-Forwarded-For`` says; with N proxies the address the outermost of them saw. A
    value that is no IP address (a request that reached the app around the proxies) counts as the
    connection's address.
    """
    resolved = BaseThrottle().get_ident(request)  # type: ignore[arg-type]  # reads request.META only
    try:
        return str(ipaddress.ip_address(resolved))
    except ValueError:
        return str(request.META.get("REMOTE_ADDR", ""))


class SignInAttemptHandler(AxesDatabaseHandler):  # type: ignore[misc]  # django-axes ships no type hints
    """django-axes' database handler that also locks an address out, whatever the accounts.

    Axes counts failures per account and address (``AXES_LOCKOUT_PARAMETERS``); one guess each for many
    accounts never reaches that limit. Here, ``SIGN_IN_ADDRESS_FAILURE_LIMIT`` failures from one address
    within the cool-off time pause sign-in from that address as well, on the sign-in page and the API alike.
    """

    def is_locked(self, request: HttpRequest, credentials: dict[str, object] | None = None) -> bool:
        return bool(super().is_locked(request, credentials)) or self.address_locked(request)

    def user_login_failed(
        self,
        sender: object,
        credentials: dict[str, object],
        request: HttpRequest | None = None,
        **kwargs: object,
    ) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        # Axes answers with the lockout page once the account's count reaches its limit; so for the address.
        if request is not None and not request.axes_locked_out and self.address_locked(request):  # type: ignore[attr-defined]
            request.axes_locked_out = True  # type: ignore[attr-defined]

    @staticmethod
    def address_locked(request: HttpRequest) -> bool:
        failures = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address,  # type: ignore[attr-defined]  # set by axes' middleware
            attempt_time__gte=get_cool_off_threshold(request),
        ).aggregate(total=Sum("failures_since_start"))["total"]
        locked = (failures or 0) >= settings.SIGN_IN_ADDRESS_FAILURE_LIMIT
        if locked:
            request.address_locked_out = True  # type: ignore[attr-defined]  # read by lockout_response
        return locked


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    address = getattr(request, "address_locked_out", False)
    if request.path.startswith("/api/"):
        message = (
            _("Too many failed sign-in attempts from your network. Try again in %(minutes)s minutes.")
            if address
            else _("Too many failed sign-in attempts. Try again in %(minutes)s minutes.")
        )
        return JsonResponse(
            {"detail": message % {"minutes": minutes}},
            status=429,
            headers={"Retry-After": str(minutes * 60)},
        )
    context = {"minutes": minutes, "address": address}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def site_origins() -> list[str]:
    """The origins a browser may open the site's websockets from: the site's own (``SITE_URL``) and those
    trusted to post forms (``CSRF_TRUSTED_ORIGINS``; ``https://*.example.org`` allows the subdomains)."""
    parts = urlsplit(settings.SITE_URL)
    trusted = [origin.replace("://*.", "://.", 1) for origin in settings.CSRF_TRUSTED_ORIGINS]
    return [f"{parts.scheme}://{parts.netloc}", *trusted]


class SiteOriginValidator(OriginValidator):  # type: ignore[misc]  # channels ships no type hints
    """Refuses a websocket whose ``Origin`` is not one of ``site_origins()``, comparing scheme, host and port.

    channels' ``AllowedHostsOriginValidator`` compares the host alone, so a page served over plain HTTP or
    from another port of an allowed host could open sockets with the person's cookies. A missing or
    ``null`` Origin is refused too. The origins are read from the settings at each connection.
    """

    def __init__(self, application: ASGIApplication) -> None:
        super().__init__(application, allowed_origins=[])

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        return parsed_origin is not None and any(
            self.match_allowed_origin(parsed_origin, pattern) for pattern in site_origins()
        )


class AuditlogMiddleware(BaseAuditlogMiddleware):  # type: ignore[misc]  # no type hints
    """django-auditlog's middleware recording the client's address as ``client_ip`` resolves it.

    Its own takes the first entry of ``X-Forwarded-For``, which the client writes: the trail would show an
    address of the client's choosing, and a value that is no address fails to save on PostgreSQL. The
    forwarded port is kept only behind trusted proxies.

    Its receiver (which writes actor and address into each audit entry) is connected once per process
    instead of connected and disconnected around every request: connecting a receiver walks all of
    ``pre_save``'s receivers (one per programme model, the archived programmes' guard) and empties the
    signal's cache, on every request, most of which write nothing. Each request still sets its own context
    (the context variable ``set_extra_data`` sets) and puts back the one before it when answered; the
    receiver fills an entry only while that context is the middleware's (``signal_duid``), as
    django-auditlog's own does, so ``set_actor`` within a request (``audit_actor``) still wins inside it.
    """

    SIGNAL_DUID = ("coordinator.core.security.AuditlogMiddleware", 0.0)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        super().__init__(get_response)
        pre_save.connect(
            partial(_set_extra_data, signal_duid=self.SIGNAL_DUID),
            sender=get_logentry_model(),
            dispatch_uid=self.SIGNAL_DUID,
            weak=False,
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        set_cid(request)
        context = {**self.get_extra_data(request), "signal_duid": self.SIGNAL_DUID}
        token = auditlog_value.set(context)
        try:
            return self.get_response(request)
        finally:
            auditlog_value.reset(token)

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return None if getattr(settings, "AUDITLOG_DISABLE_REMOTE_ADDR", False) else client_ip(request)

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> int | None:
        if not settings.TRUSTED_PROXY_COUNT:
            return None
        port = request.headers.get("X-Forwarded-Port", "")
        return int(port) if port.isdigit() and int(port) < 65536 else None
