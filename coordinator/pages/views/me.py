"""My page (my history across every feature and my calendar address) and my settings."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from coordinator.core import registry
from coordinator.core.models import NotificationPreference
from coordinator.core.prepared import PreparedQuery
from coordinator.core.views import ServiceFormMixin
from organisations.access.views import ProgrammeMixin
from organisations.forms import OwnProfileForm
from organisations.models import Person, PlatformRole
from organisations.selectors import competence
from organisations.services import people

LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def _line_manager(pk: int | str) -> QuerySet[Person]:
    """A person's line manager with their user, by key: the manager may be outside the programme."""
    return Person.unscoped_objects.select_related("user").filter(pk=pk)


# My page reads it on every request: compiled to SQL once per connection (the row itself is read each time).
LINE_MANAGER_QUERY: PreparedQuery[Person] = PreparedQuery(_line_manager, stand_in=-(2**62) + 13)


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
        roles = self.actor.roles_in(self.programme)
        membership = self.actor.membership_in(self.programme)
        if self.person.line_manager_id is not None and not Person.line_manager.is_cached(self.person):  # type: ignore[attr-defined]
            # The line manager with their name in one query (the page shows it; reading the relation read
            # the person, then their user). The manager may be outside the programme, as for approvals.
            found = LINE_MANAGER_QUERY.fetch(self.person.line_manager_id)
            self.person.line_manager = found[0] if found else None
        context.update(
            history=history,
            feed_url=https_url,
            webcal_url="webcal://" + https_url.split("://", 1)[1],
            roles=[str(choice.label) for choice in PlatformRole if choice.value in roles],
            membership=membership,
            # The role at work and its name from the memberships the actor read (not read again).
            competence_profile=competence.person_profile(
                self.programme,
                self.person,
                work_role_id=membership.work_role_id if membership else None,
                work_role_name=membership.work_role_name if membership else None,
            ),
        )
        return context


def _sortable(value: date | datetime) -> datetime:
    """A history date or time as an aware time, so that both sort together."""
    if isinstance(value, datetime):
        return value if value.tzinfo else timezone.make_aware(value)
    return timezone.make_aware(datetime.combine(value, time.min))


class SettingsView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """My profile details and which notifications also come by email."""

    allowed_when_archived = True  # the person's own settings and notifications

    template_name = "coordinator/settings.html"
    form_class = OwnProfileForm
    success_message = gettext_lazy("Your settings were saved.")

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["person"] = self.person
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        chosen = {p.kind: p.email_enabled for p in NotificationPreference.objects.filter(person=self.person)}
        context["kinds"] = [
            {"key": kind.key, "label": kind.label, "email": chosen.get(kind.key, kind.default_email)}
            for kind in registry.notification_kinds
        ]
        return context

    def perform(self, form: OwnProfileForm) -> str:
        with transaction.atomic():
            people.person_update(actor=self.actor, person=self.person, values=form.changed_values())
            for kind in registry.notification_kinds:
                NotificationPreference.objects.update_or_create(
                    person=self.person,
                    kind=kind.key,
                    defaults={"email_enabled": self.request.POST.get(f"email_{kind.key}") == "on"},
                )
        return reverse("settings")

    def form_valid(self, form: Form) -> HttpResponse:
        response = super().form_valid(form)
        # Saved: the chosen interface language also holds before the next sign-in.
        if isinstance(response, HttpResponseRedirect) and self.person.preferred_language:
            response.set_cookie(
                "samverkan_language",
                self.person.preferred_language,
                samesite="Lax",
                max_age=LANGUAGE_COOKIE_SECONDS,
            )
        return response


class RotateCalendarTokenView(ProgrammeMixin, View):
    """Give me a new secret calendar address; the old one stops working at once."""

    allowed_when_archived = True  # the person's own settings and notifications

    def post(self, request: HttpRequest) -> HttpResponse:
        people.calendar_token_rotate(actor=self.actor, person=self.person)
        messages.success(
            request, _("Your calendar address was renewed. Subscribe again with the new address.")
        )
        return redirect("my-page")
