"""The start page with the features' panels, and the layout's switches of programme and language."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView
from django.views.i18n import set_language as django_set_language

from coordinator.core import registry
from coordinator.core.tenancy import unscoped
from coordinator.core.validators import parse_int
from organisations.access.middleware import SESSION_PROGRAMME_KEY
from organisations.models import Person
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


class SwitchProgrammeView(LoginRequiredMixin, View):
    """Public list: choosing the current programme is what sets the scope of the following requests."""

    def post(self, request: HttpRequest) -> HttpResponse:
        actor = actor_for(request.user)
        wanted = parse_int(request.POST.get("programme"))
        if wanted is None or wanted not in actor.memberships:
            raise Http404
        request.session[SESSION_PROGRAMME_KEY] = wanted
        return redirect("home")


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, which also remembers the choice on the person's profile."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    actor = actor_for(request.user)
    if actor.person is not None and language in {"sv", "da", "en"} and request.method == "POST":
        with unscoped():  # the person's own row, identified by the session (who may have no programme yet)
            Person.unscoped_objects.filter(pk=actor.person.pk).update(preferred_language=language)
    return response
