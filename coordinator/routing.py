"""All websocket routes: the shared ones and each feature app's ``routing.websocket_urlpatterns``."""

from __future__ import annotations

from importlib import import_module

from django.urls import path

from coordinator.pages import consumers

FEATURE_APPS = ("shadowing", "seminars", "focusgroups")

websocket_urlpatterns = [path("ws/notifications/", consumers.NotificationConsumer.as_asgi())]
for app in FEATURE_APPS:
    websocket_urlpatterns += import_module(f"{app}.routing").websocket_urlpatterns
