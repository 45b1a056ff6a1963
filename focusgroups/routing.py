"""Websocket routes of this app (collected by coordinator.routing)."""

from __future__ import annotations

from django.urls import path

from focusgroups.consumers import NotesConsumer

websocket_urlpatterns = [
    path("ws/focusgroups/<int:group_id>/notes/", NotesConsumer.as_asgi()),
]
