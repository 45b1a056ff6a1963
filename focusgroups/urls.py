from __future__ import annotations

from django.urls import URLPattern

app_name = "focusgroups"

urlpatterns: list[URLPattern] = []
