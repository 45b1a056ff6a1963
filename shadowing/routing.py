"""Websocket routes of this app (collected by coordinator.asgi)."""

from __future__ import annotations

from django.urls import URLPattern, path

from shadowing import consumers

websocket_urlpatterns: list[URLPattern] = [
    path("ws/shadowing/runs/<int:run_id>/", consumers.RunProgressConsumer.as_asgi()),
]
