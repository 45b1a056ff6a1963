"""My notifications: the list, and marking them read."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from coordinator.core.models import Notification
from coordinator.core.validators import parse_int
from coordinator.core.views import next_url
from organisations.access.views import ProgrammeMixin


class NotificationListView(ProgrammeMixin, TemplateView):
    """My latest notifications in this programme."""

    template_name = "coordinator/notifications.html"
    model = Notification

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(recipient=self.person)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["notifications"] = list(self.get_queryset()[:100])
        return context


class MarkNotificationsReadView(ProgrammeMixin, View):
    """Mark one notification (``id``) or all of mine read; answers JSON to scripts, else goes back."""

    allowed_when_archived = True  # the person's own settings and notifications

    model = Notification

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(recipient=self.person, read_at__isnull=True)

    def post(self, request: HttpRequest) -> HttpResponse:
        queryset = self.get_queryset()
        raw_id = request.POST.get("id", "")
        if raw_id:
            wanted = parse_int(raw_id)
            if wanted is None or wanted < 1:
                return JsonResponse({"detail": _("Not found.")}, status=404)
            queryset = queryset.filter(pk=wanted)
        count = queryset.update(read_at=timezone.now())
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"marked": count})
        return redirect(next_url(request, reverse("notifications")))
