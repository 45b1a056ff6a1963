"""The base every API viewset builds on: the person's programmes as a tenant scope that cannot be bypassed,
and foreign ids that must name an object the person can see."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, ClassVar, TypeVar

from auditlog.context import auditlog_value, set_actor
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response

from coordinator.core.plans import SKIP, Computed, Page
from coordinator.core.prepared import PreparedQuery
from coordinator.core.security import AuditlogMiddleware
from coordinator.core.spreadsheets import MAX_BYTES
from coordinator.core.tenancy import (
    activate_scope,
    active_programme_ids,
    deactivate_scope,
    restrict_to_programmes,
)
from coordinator.core.validators import parse_int
from organisations.models import FORMER_MEMBER, Programme
from organisations.permissions import Actor, actor_for

ModelT = TypeVar("ModelT", bound=models.Model)


@contextmanager
def audit_actor(request: Request) -> Iterator[None]:
    """Name the API caller as the actor of the audit entries written in this block.

    django-auditlog's middleware reads ``request.user`` before DRF has authenticated a token, so without
    this a token caller's changes would be logged with no actor. django-auditlog's ``set_actor`` leaves
    its context variable pointing at the inner context when it ends, so the middleware's outer context is
    put back afterwards (otherwise the middleware could not disconnect its own receiver).
    """
    outer = auditlog_value.get(None)
    try:
        with set_actor(
            request.user,
            remote_addr=AuditlogMiddleware._get_remote_addr(request),
            remote_port=AuditlogMiddleware._get_remote_port(request),
        ):
            yield
    finally:
        if outer is not None:
            auditlog_value.set(outer)


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A foreign id that must name an object the actor can see; anything else is "does not exist" (400).

    The queryset is built at request time, inside the tenant scope, and may be narrowed further with
    ``narrow(queryset, actor)``.
    """

    def __init__(self, *, model: type[models.Model], narrow: Any = None, **kwargs: Any) -> None:
        self.scoped_model = model
        self.narrow = narrow
        if not kwargs.get("read_only"):
            kwargs["queryset"] = model.objects  # type: ignore[attr-defined]
        super().__init__(**kwargs)

    def get_queryset(self) -> models.QuerySet[Any]:
        queryset = self.scoped_model.objects.all()  # type: ignore[attr-defined]
        if self.narrow is not None:
            request = self.context.get("request")
            queryset = self.narrow(queryset, actor_for(request.user if request else None))
        return queryset  # type: ignore[no-any-return]

    def to_internal_value(self, data: object) -> models.Model:
        """As DRF's, but a model whose programme is a column of its own row (or which is the programme) is
        read by its id through SQL compiled once per connection, and the scope is checked on the row:
        compiling the scoped query cost more than the database takes to answer it. Anything else (a
        narrowed field, a model scoped through a join, no scope active) goes DRF's way."""
        path = getattr(self.scoped_model, "tenant_path", None)
        scope = active_programme_ids()
        if (
            self.narrow is not None
            or self.pk_field is not None
            or path not in ("programme", "pk")
            or not scope
        ):
            return super().to_internal_value(data)
        pk_field = self.scoped_model._meta.pk
        try:
            if isinstance(data, bool):
                raise TypeError
            pk = pk_field.get_prep_value(data)  # type: ignore[union-attr]
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        low, high = connection.ops.integer_field_range(pk_field.get_internal_type())  # type: ignore[union-attr]
        found = _by_pk(self.scoped_model).fetch(pk) if low <= pk <= high else []
        programme_id = (
            (found[0].pk if path == "pk" else getattr(found[0], "programme_id", None)) if found else None
        )
        if programme_id not in scope:
            self.fail("does_not_exist", pk_value=data)
        return found[0]


_BY_PK: dict[type[models.Model], PreparedQuery[models.Model]] = {}


def _by_pk(model: type[models.Model]) -> PreparedQuery[models.Model]:
    """A model's row by its id, compiled once per connection (the caller checks the scope on the row)."""
    if model not in _BY_PK:
        _BY_PK[model] = PreparedQuery(
            lambda pk: model.unscoped_objects.filter(pk=pk),  # type: ignore[attr-defined]
            stand_in=-(2**62) + 23,
        )
    return _BY_PK[model]


def _activate_language(request: Request, actor: Actor) -> None:
    """A call made with an API token answers in the language it asks for (Accept-Language, activated by
    the locale middleware), else in its person's own, else in their programme's (when all their
    programmes speak one): the middleware ran before the token was read, so without this such a call
    with no Accept-Language was answered in the site's default."""
    if request.headers.get("Accept-Language"):
        return
    person = actor.person
    language = person.preferred_language if person is not None else ""
    if not language:
        spoken = {programme.language for programme in actor.programmes.values()}
        language = spoken.pop() if len(spoken) == 1 else ""
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]


class ProgrammeScopedViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Base of every API viewset on programme data.

    After authentication it activates the tenant scope (the programmes the person belongs to) and every
    queryset is restricted to those programmes *after* the subclass has narrowed it, so no subclass can
    widen it. Subclasses set ``model`` and may override ``narrow_queryset``; they may not override
    ``get_queryset``, ``dispatch`` or ``perform_authentication`` (checked when the class is defined).
    Objects outside the scope answer 404 exactly like missing ones.
    """

    model: ClassVar[type[models.Model]]
    _sealed = ("get_queryset", "dispatch", "perform_authentication", "initial")
    # The actor is built right after authenticating: an API token's query reads the memberships (and a
    # kept list's stamps) with the token (``organisations.access.authentication.TokenAuthentication``).
    reads_identity: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls._sealed:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} overrides {name}(); "
                    "scoped viewsets narrow with narrow_queryset() instead."
                )

    actor: Actor
    _scope_token: contextvars.Token[Any] | None
    _audit: ExitStack

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        self.actor = actor_for(request.user)
        self._scope_token = activate_scope(self.actor.programme_ids)
        if isinstance(request.auth, Token):
            _activate_language(request, self.actor)
        if request.user.is_authenticated:
            self._audit.enter_context(audit_actor(request))

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self._scope_token = None
        try:
            with ExitStack() as self._audit:
                return super().dispatch(request, *args, **kwargs)
        finally:
            if self._scope_token is not None:
                deactivate_scope(self._scope_token)

    def narrow_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        """Within-programme rules (published only, own organisation's drafts...) and the list's joins."""
        return queryset

    def get_queryset(self) -> models.QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no rows
            return self.model.objects.none()  # type: ignore[attr-defined, no-any-return]
        queryset = self.narrow_queryset(self.model.objects.all())  # type: ignore[attr-defined]
        return restrict_to_programmes(queryset, self.actor.programme_ids)

    def answer_as_written(self, instance: models.Model, code: int = status.HTTP_200_OK) -> Response:
        """The representation of an object a service just wrote, from the instance in hand: for a write
        whose service left the instance in step with the database (every column it wrote, and what the
        serializer reads of related rows), so that the answer needs no second read. Tests compare such
        answers byte for byte with the following read."""
        return Response(self.get_serializer(instance).data, status=code)

    def reload(self, instance: ModelT) -> ModelT:
        """The object again as this viewset reads it (scoped, with the list's joins), to answer a write
        with what a following read would show."""
        return self.get_queryset().get(pk=instance.pk)

    def answer(self, instance: models.Model, code: int = status.HTTP_200_OK) -> Response:
        """The viewset's representation of an object a service just wrote, as a read would show it."""
        return Response(self.get_serializer(self.reload(instance)).data, status=code)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        context["actor"] = getattr(self, "actor", None)
        return context


def full_name_from(path: str, *, absent: object = SKIP) -> Computed:
    """A list's plan hook (``coordinator.core.plans``) for a ``<path>.full_name`` field (``""``: the row is
    the person): the name written from the person's columns as ``Person.full_name`` writes it (an erased
    person is "Former member"). Where the person is missing, ``absent``: by default the key is left out, as
    DRF leaves out a read-only field whose source breaks; ``None`` for a field with ``default=None``."""

    def write(values: tuple[object, ...], page: Page) -> object:
        person, erased_at, first_name, last_name, username = values
        if person is None:
            return absent
        if erased_at is not None:
            return str(FORMER_MEMBER)
        return f"{first_name} {last_name}".strip() or username

    columns = ("erased_at", "user__first_name", "user__last_name", "user__username")
    if not path:
        return Computed(("pk", *columns), write)
    return Computed((path, *(f"{path}__{column}" for column in columns)), write)


# --- Spreadsheet imports ------------------------------------------------------------------------------------


def requested_programme(request: Request, actor: Actor) -> Programme:
    """The programme named by ``programme`` (in the query, or a multipart form), or the caller's only
    programme. Another programme answers exactly like a missing one."""
    raw = request.query_params.get("programme", "")
    if not raw and request.content_type.startswith("multipart/form-data"):
        raw = request.POST.get("programme", "")
    if not raw and len(actor.programme_ids) == 1:
        raw = str(next(iter(actor.programme_ids)))
    wanted = parse_int(raw)
    programme = Programme.objects.filter(pk=wanted).first() if wanted is not None else None
    if programme is None or not actor.is_member(programme):
        raise ValidationError({"programme": [_("Choose one of your programmes.")]})
    return programme


# The request body every spreadsheet import endpoint documents (a multipart ``file``).
SPREADSHEET_UPLOAD_BODY = {
    "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
}


def spreadsheet_upload(request: Request, actor: Actor) -> tuple[Programme, bytes, dict[str, bool]]:
    """What an import endpoint receives: the programme, the file (multipart ``file``, or the file itself as
    the body) and the flags ``dry_run`` and ``invite`` (from the query, or the multipart form)."""
    programme = requested_programme(request, actor)
    if request.content_type.startswith("multipart/form-data"):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": [_("Choose a CSV or XLSX file.")]})
        data = upload.read(MAX_BYTES + 1)
        options = {**request.POST.dict(), **request.query_params.dict()}
    else:
        data = request.body
        options = request.query_params.dict()
    flags = {
        name: str(options.get(name, "")).strip().lower() in {"1", "true", "yes", "on"}
        for name in ("dry_run", "invite")
    }
    return programme, data, flags
