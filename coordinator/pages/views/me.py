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
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from coordinator.core import frames, personal, registry
from coordinator.core.models import NotificationPreference
from coordinator.core.prepared import PreparedQuery
from coordinator.core.views import ServiceFormMixin
from organisations.access.views import ProgrammeMixin
from organisations.forms import OwnProfileForm
from organisations.models import Person, PlatformRole
from organisations.selectors import competence
from organisations.services import people

LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def _me_with_stamp(pk: int | str) -> QuerySet[Person]:
    """The person by key with their personal stamp and their line manager with their user: the manager
    may be outside the programme."""
    return (
        Person.unscoped_objects.select_related("line_manager__user")
        .filter(pk=pk)
        .annotate(personal_stamp=personal.stamp_subquery())
    )


# My page reads it on every request: compiled to SQL once per connection (the row itself is read each time).
ME_WITH_STAMP: PreparedQuery[Person] = PreparedQuery(_me_with_stamp, stand_in=-(2**62) + 13)


HISTORY_TEMPLATE = "coordinator/includes/my_history.html"
KEPT_TEMPLATES = (HISTORY_TEMPLATE,)
COMPETENCE_TEMPLATE = "organisations/includes/competence_profile.html"
# What the page's frame leaves for each request to write (``coordinator.core.frames``): the person's own
# values, escaped as the template would write them.
LIVE = (
    "person_name",
    "organisation_name",
    "unit_name",
    "job_title",
    "roles_text",
    "line_manager_text",
    "feed_url",
    "webcal_url",
    "competence_section",
    "history_section",
)


class MyPageView(ProgrammeMixin, TemplateView):
    """My page: my history across every feature, my calendar feed, my settings."""

    template_name = "coordinator/my_page.html"

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        context = self.get_context_data(**kwargs)
        return frames.respond(
            request,
            self.template_name,
            context,
            live=LIVE,
            shape=(context["has_unit"], context["has_line_manager"]),
            tokens=True,
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        feed_path = reverse("calendar-feed", kwargs={"token": self.person.calendar_token})
        https_url = self.request.build_absolute_uri(feed_path)
        roles = self.actor.roles_in(self.programme)
        membership = self.actor.membership_in(self.programme)
        # The stamp before the rows the kept part reads (an entry never holds rows older than its stamp), with
        # the line manager's name, shown live.
        found = ME_WITH_STAMP.fetch(self.person.pk)
        stamp = found[0].personal_stamp if found else 0  # type: ignore[attr-defined]
        line_manager = found[0].line_manager if found else None
        history_section = personal.kept(
            "my-page", self.person.pk, self.programme.pk, stamp, KEPT_TEMPLATES, self._history_section
        )
        # The role at work and its name from the memberships the actor read (not read again).
        profile = competence.person_profile(
            self.programme,
            self.person,
            work_role_id=membership.work_role_id if membership else None,
            work_role_name=membership.work_role_name if membership else None,
        )
        person = self.person
        unit = person.unit
        role_names = [str(choice.label) for choice in PlatformRole if choice.value in roles]
        context.update(
            person_name=_escaped(person.full_name),
            organisation_name=_escaped(person.organisation.name),
            has_unit=unit is not None,
            unit_name=_escaped(unit.name) if unit is not None else "",
            job_title=_escaped(person.job_title),
            roles_text=_escaped(", ".join(role_names)) if role_names else "",
            has_line_manager=line_manager is not None,
            line_manager_text=_escaped(line_manager.full_name) if line_manager is not None else "",
            history_section=mark_safe(history_section),  # noqa: S308 - rendered by our template
            feed_url=_escaped(https_url),
            webcal_url=_escaped("webcal://" + https_url.split("://", 1)[1]),
            competence_section=mark_safe(  # noqa: S308 - rendered by our template
                render_to_string(COMPETENCE_TEMPLATE, {"profile": profile, "sections": profile.sections})
            ),
            membership=membership,
        )
        return context

    def _history_section(self) -> str:
        """My history's markup, kept under the person's stamp: every row it reads renews the stamp when it
        changes (``coordinator.core.personal``; a new history provider's tables must too:
        ``tests/coordinator/test_my_page_kept.py`` lists those read here). Nothing here depends on the day
        or on the request."""
        history: list[registry.HistoryEntry] = []
        for provider in registry.history_providers:
            history.extend(provider(self.person))
        history.sort(key=lambda entry: _sortable(entry.when), reverse=True)
        return render_to_string(HISTORY_TEMPLATE, {"history": history})


def _escaped(text: str) -> SafeString:
    """``text`` as the template writes a value (escaped)."""
    return conditional_escape(text)


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
