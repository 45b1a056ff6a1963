"""``GET /api/v1/ping/``: the cheapest authenticated API call, the baseline of the load test.

It goes through everything every API call goes through (the middleware, token or session authentication,
the throttles, content negotiation) and does nothing else: no programme, no query beyond the one that
authenticates the token. Integrators can use it to check a token; ``bench/load.py`` measures the mix of
real calls against it.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class PingView(APIView):
    """Answer ``{"ok": true}`` to a signed-in caller (401 without credentials)."""

    # Its own throttle scope (``API_THROTTLE_PING``) besides the per-user one, so that a client polling it
    # is limited apart from its real calls.
    throttle_scope = "ping"

    @extend_schema(
        operation_id="ping",
        summary="Check the connection and the credentials",
        responses=inline_serializer("Ping", fields={"ok": serializers.BooleanField()}),
    )
    def get(self, request: Request) -> Response:
        return Response({"ok": True})
