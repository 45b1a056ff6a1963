"""What every HTML view shares that knows no app: service errors shown on forms and in messages, the
``next`` address, and the form-page mixin for Django's ``FormView``."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from coordinator.core.exceptions import Conflict
from coordinator.core.forms import add_service_errors

# What a service raises when it refuses: pages catch these and show them (403 is left to the handler).
SERVICE_ERRORS = (ValidationError, Conflict)


def error_text(error: ValidationError | Conflict) -> str:
    """A service's refusal as one line for a message on the next page."""
    return " ".join(error.messages)


def next_url(request: HttpRequest, default: str) -> str:
    """The ``next`` address posted with a form when it is on this site, else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class ServiceFormMixin(metaclass=ABCMeta):
    """For Django's ``FormView``: a valid form is handed to ``perform(form)`` (which calls the service and
    returns the address to go to); the service's ``ValidationError`` or ``Conflict`` is shown on the form
    next to its fields, with what was typed, and status 400. An invalid form answers 400 too.

    ``load(**kwargs)`` runs before GET and POST to fetch what the page is about (scoped; 404 when not found)
    and check the right to act. ``page_title`` and ``submit_label`` reach the template.
    """

    page_title: ClassVar[Any] = ""
    submit_label: ClassVar[Any] = _("Save")
    success_message: ClassVar[Any] = _("Saved.")
    request: HttpRequest

    def load(self, **kwargs: Any) -> None:
        """Fetch the objects the page is about (scoped; 404 when not found) and check the right to act.
        Optional: a page about nothing in particular (a create page) has nothing to load."""
        return None

    @abstractmethod
    def perform(self, form: Any) -> str:
        """Call the service with the form's cleaned data; return the address to go to."""

    def get_success_message(self) -> str:
        """The message shown after the redirect; a page may name what was just saved."""
        return str(self.success_message)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.load(**kwargs)
        return super().get(request, *args, **kwargs)  # type: ignore[misc, no-any-return]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.load(**kwargs)
        return super().post(request, *args, **kwargs)  # type: ignore[misc, no-any-return]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.setdefault("page_title", self.page_title)
        context.setdefault("submit_label", self.submit_label)
        return context

    def form_valid(self, form: forms.Form) -> HttpResponse:
        try:
            target = self.perform(form)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.get_success_message())
        return redirect(target)

    def form_invalid(self, form: forms.Form) -> HttpResponse:
        response: HttpResponse = self.render_to_response(  # type: ignore[attr-defined]
            self.get_context_data(form=form), status=400
        )
        return response
