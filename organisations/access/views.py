"""The base of every HTML view on programme data: a signed-in member of the current programme, with the
roles the page needs, sees only that programme's rows."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from coordinator.core.tenancy import restrict_to_programmes
from organisations.models import Person, Programme
from organisations.permissions import Actor, actor_for


class ProgrammeMixin(LoginRequiredMixin):
    """Base of every page on programme data.

    Requires a signed-in member of the current programme (``self.programme``; the middleware has already
    limited every query to it), optionally with one of ``required_roles``. Pages that list or show objects
    set ``model`` and narrow with ``narrow_queryset``; ``get_queryset`` is sealed so that the programme
    restriction is always applied last.
    """

    required_roles: ClassVar[frozenset[str]] = frozenset()
    # Pages whose POST changes only the person's own things (settings, notifications read) work in an
    # archived programme too; every other POST there is refused with a message.
    allowed_when_archived: ClassVar[bool] = False
    model: ClassVar[type[models.Model] | None] = None
    programme: Programme
    actor: Actor

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset(); narrow with narrow_queryset() instead."
            )

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        programme = getattr(request, "programme", None)
        if programme is None:
            return render(request, "no_programme.html", status=403)
        self.programme = programme
        self.actor = actor_for(request.user)
        if self.required_roles and not self.actor.has_role(programme, *self.required_roles):
            raise PermissionDenied(_("Your roles in this programme do not include this page."))
        if (
            programme.archived_at is not None
            and request.method not in ("GET", "HEAD", "OPTIONS")
            and not self.allowed_when_archived
        ):
            return render(request, "archived.html", status=409)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc, no-any-return, return-value]

    @property
    def person(self) -> Person:
        assert self.actor.person is not None
        return self.actor.person

    def has_role(self, *roles: str) -> bool:
        return self.actor.has_role(self.programme, *roles)

    def narrow_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return queryset

    def get_queryset(self) -> models.QuerySet[Any]:
        if self.model is None:
            raise TypeError(f"{type(self).__name__} has no model to list.")
        queryset = self.narrow_queryset(self.model.objects.all())  # type: ignore[attr-defined]
        return restrict_to_programmes(queryset, [self.programme.pk])

    def get_object_or_404(self, queryset: models.QuerySet[Any] | None = None, **lookup: Any) -> Any:
        queryset = restrict_to_programmes(
            queryset if queryset is not None else self.get_queryset(), [self.programme.pk]
        )
        found = queryset.filter(**lookup).first()
        if found is None:
            raise Http404
        return found
