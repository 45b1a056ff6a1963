"""Websocket routes of this app (collected by coordinator.asgi)."""

from __future__ import annotations

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
