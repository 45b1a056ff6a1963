"""The pages every feature shares: start page, my page, settings, notifications, programme and language
switching, the personal calendar feed, the programme barometer and the health check. They gather what the
features contribute through the registry and import no feature."""

from __future__ import annotations

import csv
import hashlib
from datetime import date, datetime, time
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.db import models, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView
from django.views.i18n import set_language as django_set_language

from coordinator.core import registry
from coordinator.core.calendar import build_calendar
from coordinator.core.forms import PeriodForm
from coordinator.core.models import Notification, NotificationPreference
from coordinator.core.tenancy import programme_scope, unscoped
from organisations import services
from organisations.access.middleware import SESSION_PROGRAMME_KEY
from organisations.access.views import ProgrammeMixin
from organisations.forms import OwnProfileForm
from organisations.models import Person, PlatformRole, Programme
from organisations.permissions import actor_for


class HomeView(TemplateView):
    """Public: a landing page for visitors, the role-aware start page for members."""

    def get_template_names(self) -> list[str]:
        if not self.request.user.is_authenticated:
            return ["landing.html"]
        if getattr(self.request, "programme", None) is None:
            return ["no_programme.html"]
        return ["home.html"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if self.request.user.is_authenticated and getattr(self.request, "programme", None) is not None:
            panels = []
            for panel in registry.dashboard_panels:
                built = panel.build(self.request)
                if built is not None:
                    panels.append({"template": panel.template, "panel": built})
            context["panels"] = panels
        return context


class MyPageView(ProgrammeMixin, TemplateView):
    """My page: my history across every feature, my calendar feed, my settings."""

    template_name = "coordinator/my_page.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        history: list[registry.HistoryEntry] = []
        for provider in registry.history_providers:
            history.extend(provider(self.person))
        history.sort(key=lambda entry: _sortable(entry.when), reverse=True)
        feed_path = reverse("calendar-feed", kwargs={"token": self.person.calendar_token})
        https_url = self.request.build_absolute_uri(feed_path)
        context.update(
            history=history,
            feed_url=https_url,
            webcal_url="webcal://" + https_url.split("://", 1)[1],
            roles=[label for value, label in _role_choices() if value in self.actor.roles_in(self.programme)],
            membership=self.actor.membership_in(self.programme),
        )
        return context


def _sortable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value if value.tzinfo else timezone.make_aware(value)
    if isinstance(value, date):
        return timezone.make_aware(datetime.combine(value, time.min))
    return value


def _role_choices() -> list[tuple[str, str]]:
    return [(c.value, str(c.label)) for c in PlatformRole]


class SettingsView(ProgrammeMixin, View):
    """My profile details and which notifications also come by email."""

    template_name = "coordinator/settings.html"

    def _form(self, data: Any = None) -> OwnProfileForm:
        return OwnProfileForm(data=data, person=self.person)

    def _render(self, request: HttpRequest, form: Any, status: int = 200) -> HttpResponse:
        prefs = {p.kind: p.email_enabled for p in NotificationPreference.objects.filter(person=self.person)}
        kinds = [
            {"key": kind.key, "label": kind.label, "email": prefs.get(kind.key, kind.default_email)}
            for kind in registry.notification_kinds
        ]
        return render(request, self.template_name, {"form": form, "kinds": kinds}, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, self._form())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        with transaction.atomic():
            services.person_update(actor=self.actor, person=self.person, values=form.changed_values())
            for kind in registry.notification_kinds:
                NotificationPreference.objects.update_or_create(
                    person=self.person,
                    kind=kind.key,
                    defaults={"email_enabled": request.POST.get(f"email_{kind.key}") == "on"},
                )
        messages.success(request, _("Your settings were saved."))
        response = redirect("settings")
        if self.person.preferred_language:
            response.set_cookie(
                "samverkan_language", self.person.preferred_language, samesite="Lax", max_age=365 * 24 * 3600
            )
        return response


class RotateCalendarTokenView(ProgrammeMixin, View):
    def post(self, request: HttpRequest) -> HttpResponse:
        services.calendar_token_rotate(actor=self.actor, person=self.person)
        messages.success(
            request, _("Your calendar address was renewed. Subscribe again with the new address.")
        )
        return redirect("my-page")


class NotificationListView(ProgrammeMixin, TemplateView):
    template_name = "coordinator/notifications.html"
    model = Notification

    def narrow_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return queryset.filter(recipient=self.person)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["notifications"] = list(self.get_queryset()[:100])
        return context


class MarkNotificationsReadView(ProgrammeMixin, View):
    model = Notification

    def narrow_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return queryset.filter(recipient=self.person, read_at__isnull=True)

    def post(self, request: HttpRequest) -> HttpResponse:
        queryset = self.get_queryset()
        raw_id = request.POST.get("id", "")
        if raw_id:
            if not raw_id.isdigit():
                return JsonResponse({"detail": _("Not found.")}, status=404)
            queryset = queryset.filter(pk=int(raw_id))
        count = queryset.update(read_at=timezone.now())
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"marked": count})
        target = request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            return redirect(target)
        return redirect("notifications")


class SwitchProgrammeView(LoginRequiredMixin, View):
    """Public list: choosing the current programme is what sets the scope of the following requests."""

    def post(self, request: HttpRequest) -> HttpResponse:
        actor = actor_for(request.user)
        raw = request.POST.get("programme", "")
        if not raw.isdigit() or int(raw) not in actor.memberships:
            raise Http404
        request.session[SESSION_PROGRAMME_KEY] = int(raw)
        return redirect("home")


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, which also remembers the choice on the person's profile."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    actor = actor_for(request.user)
    if actor.person is not None and language in {"sv", "da", "en"} and request.method == "POST":
        with unscoped():  # the person's own row, identified by the session
            Person.unscoped_objects.filter(pk=actor.person.pk).update(preferred_language=language)
    return response


# How long a built feed stays in the cache; its key changes whenever its content would.
FEED_CACHE_SECONDS = 24 * 3600


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A person's private subscription feed: their confirmed sessions, visits and meetings.

    Public by design (calendar clients cannot sign in): the secret token identifies the person. An unknown
    or rotated token answers the same 404 as any missing page. The feed is then built inside the person's
    own scope, so it can hold nothing from programmes they do not belong to.
    """
    if len(token) > 64:
        raise Http404
    with unscoped():  # identifying the person by their secret is what decides the scope
        person = Person.unscoped_objects.select_related("user").filter(calendar_token=token).first()
        if person is None or not person.user.is_active:
            raise Http404
        user = person.user
    actor = actor_for(user)
    with programme_scope(actor.programme_ids):
        events = []
        for provider in registry.calendar_providers:
            events.extend(provider(person))
        programme = Programme.objects.order_by("name").first()
    time_zone = programme.time_zone if programme else "Europe/Stockholm"
    events.sort(key=lambda e: (e.start, e.uid))
    name = _("Samverkan – %(name)s") % {"name": person.full_name}
    # Building the iCalendar text is most of the work, so the built feed is cached under a fingerprint of
    # everything that goes into it: a change to any event gives a new key (never a stale feed), and the
    # fingerprint is the ETag, so a client that has the current feed gets a 304 without any building.
    fingerprint = hashlib.sha256(repr((time_zone, name, events)).encode()).hexdigest()[:32]
    etag = f'"{fingerprint}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag})
    cache_key = f"calendar-feed:{fingerprint}"
    body = cache.get(cache_key)
    if body is None:
        body = build_calendar(events, time_zone=time_zone, name=name)
        cache.set(cache_key, body, timeout=FEED_CACHE_SECONDS)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="samverkan.ics"'
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


class BarometerView(ProgrammeMixin, TemplateView):
    """The programme barometer: every feature's figures for a period side by side (organisations and people,
    visits, courses, focus groups), with a CSV download of the same figures for reports to the funders."""

    template_name = "coordinator/barometer.html"
    required_roles = frozenset(
        {PlatformRole.PROGRAMME_ADMIN, PlatformRole.COORDINATOR, PlatformRole.ORGANISATION_ADMIN}
    )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        today = timezone.localdate()
        data = request.GET if "start" in request.GET or "end" in request.GET else None
        form = PeriodForm(data, initial={"start": date(today.year, 1, 1), "end": date(today.year, 12, 31)})
        sections: list[registry.ReportSection] = []
        if data is None or form.is_valid():
            start = form.cleaned_data["start"] if data is not None else date(today.year, 1, 1)
            end = form.cleaned_data["end"] if data is not None else date(today.year, 12, 31)
            for provider in registry.report_providers:
                section = provider(self.programme, start, end)
                if section is not None:
                    sections.append(section)
            if request.GET.get("format") == "csv":
                return _barometer_csv(self.programme, start, end, sections)
        return self.render_to_response(self.get_context_data(form=form, sections=sections))


def _barometer_csv(
    programme: Programme, start: date, end: date, sections: list[registry.ReportSection]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="barometer-{programme.slug}-{start.isoformat()}-{end.isoformat()}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow([_("Section"), _("Figure"), _("Value")])
    for section in sections:
        for label, value in section.figures:
            writer.writerow([_csv_cell(section.title), _csv_cell(label), _csv_cell(value)])
        for table in section.tables:
            writer.writerow([])
            writer.writerow([_csv_cell(section.title), _csv_cell(table.caption)])
            writer.writerow([_csv_cell(column) for column in table.columns])
            for row in table.rows:
                writer.writerow([_csv_cell(cell) for cell in row])
    return response


def _csv_cell(value: Any) -> str:
    """A cell as text; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
