"""The tenant boundary: a programme.

Every model that holds programme data uses ``ProgrammeScopedManager`` as its default manager. The manager
reads the *active scope* (a set of programme ids held in a context variable) and filters every query to it:

- inside ``programme_scope(ids)`` a query sees only rows of those programmes;
- with no scope active a query returns **nothing** (fail closed), so a code path that forgets to scope
  leaks nothing;
- ``unscoped()`` is the explicit, greppable escape hatch for system work (demo data, periodic jobs, the
  calendar feed after its token has identified the person).

The web middleware, the API base viewset and the websocket consumers activate the scope for the person who
is signed in; feature code normally never touches it. A model declares how it reaches its programme with
``tenant_path`` ("programme", "round__course__programme", or a many-valued path such as
"participations__programme" together with ``tenant_path_is_multi = True``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from django.db import models
from django.db.models.sql import Query
from django.db.models.sql.where import AND

_UNSCOPED: Any = object()
_active_scope: contextvars.ContextVar[Any] = contextvars.ContextVar("programme_scope", default=None)


@contextmanager
def programme_scope(programme_ids: Iterable[int]) -> Iterator[frozenset[int]]:
    """Limit every scoped query in this block to the given programmes."""
    ids = frozenset(int(pk) for pk in programme_ids)
    token = _active_scope.set(ids)
    try:
        yield ids
    finally:
        _active_scope.reset(token)


@contextmanager
def unscoped() -> Iterator[None]:
    """Lift the tenant filter for system work that must see every programme. Use sparingly."""
    token = _active_scope.set(_UNSCOPED)
    try:
        yield
    finally:
        _active_scope.reset(token)


def activate_scope(programme_ids: Iterable[int]) -> contextvars.Token[Any]:
    """Enter a scope without a ``with`` block; pair with ``deactivate_scope(token)``."""
    return _active_scope.set(frozenset(int(pk) for pk in programme_ids))


def deactivate_scope(token: contextvars.Token[Any]) -> None:
    _active_scope.reset(token)


def active_programme_ids() -> frozenset[int] | None:
    """The programme ids in scope; ``None`` when no scope is active or the scope is lifted."""
    scope = _active_scope.get()
    if scope is None or scope is _UNSCOPED:
        return None
    return scope  # type: ignore[no-any-return]


def restrict_to_programmes(
    queryset: models.QuerySet[Any], programme_ids: Iterable[int]
) -> models.QuerySet[Any]:
    """Filter a queryset of a tenant model to the given programmes, whatever manager produced it.

    A queryset this function has already restricted to some of these programmes is returned as it is (the
    scoped manager's filter and a view's own restriction to the same programmes would otherwise both be in
    the SQL, and PostgreSQL plans each copy again on every query). That holds only while the earlier filter
    still binds every row: it stands at the top of the query's conditions, joined to the rest by AND, and
    the query is no union or intersection of others; a ``|`` or a union puts it out of reach and the
    filter is added again."""
    model = queryset.model
    path: str | None = getattr(model, "tenant_path", None)
    if path is None:
        raise TypeError(f"{model.__name__} declares no tenant_path; it cannot be scoped to a programme.")
    ids = list(programme_ids)
    if _restricted_within(queryset.query, model, frozenset(ids)):
        return queryset
    before = queryset.query.where
    restricted = queryset.filter(**_restriction(model, path, ids))
    after = restricted.query.where
    # Django adds the filter's one condition as the last child of the conditions' top AND node; it is marked
    # with the programmes it allows (conditions are shared, not copied, between a queryset and its clones).
    if (
        before.connector == after.connector == AND
        and not after.negated
        and len(after.children) == len(before.children) + 1
        and not hasattr(after.children[-1], "children")
    ):
        setattr(after.children[-1], _RESTRICTION, (model, frozenset(ids)))
    return restricted


# The attribute that marks a query condition added by ``restrict_to_programmes``: (model, programme ids).
_RESTRICTION = "_samverkan_programme_restriction"


def _restricted_within(query: Query, model: type[models.Model], ids: frozenset[int]) -> bool:
    """Whether ``query`` already holds, as a condition every row must meet, a restriction of ``model`` to
    some of ``ids`` (a subset: a row of those programmes is in ``ids`` too)."""
    where = query.where
    if query.combinator or where.connector != AND or where.negated or query.model is not model:
        return False
    for child in where.children:
        mark = getattr(child, _RESTRICTION, None)
        if mark is not None and mark[0] is model and mark[1] <= ids:
            return True
    return False


def _restriction(model: type[models.Model], path: str, ids: list[int]) -> dict[str, object]:
    """The filter that keeps the rows of ``model`` in the programmes ``ids``, along its ``tenant_path``."""
    if path == "pk":
        return {"pk__in": ids}
    if not getattr(model, "tenant_path_is_multi", False):
        return {f"{path}__in": ids}
    # A many-valued path would duplicate rows if joined; a subquery keeps one row per object. The subquery
    # reads the rows of the path's first many-valued step (a person's memberships, an organisation's
    # participations) on their own, and the outer row is matched by the key they point at: no join back to
    # the outer table inside the subquery, which PostgreSQL would otherwise plan on every query.
    parts = path.split("__")
    current: type[models.Model] = model
    for position, part in enumerate(parts):
        field = current._meta.get_field(part)
        if field.one_to_many and not field.concrete and position < len(parts) - 1:
            key = field.field  # type: ignore[union-attr]  # the related model's foreign key to ``current``
            if key.target_field != current._meta.pk:
                break
            rest = "__".join(parts[position + 1 :])
            inner = key.model._base_manager.filter(**{f"{rest}__in": ids}).values(key.attname)
            outer = "__".join(parts[:position]) or "pk"
            return {f"{outer}__in": inner}
        if not (field.many_to_one or field.one_to_one) or not field.concrete:
            break
        current = field.related_model  # type: ignore[assignment]
    inner = model._base_manager.filter(**{f"{path}__in": ids}).values("pk")
    return {"pk__in": inner}


class ScopeError(RuntimeError):
    """A tenant query ran with no programme scope active: a code path forgot to scope it."""


class ProgrammeScopedManager(models.Manager):  # type: ignore[type-arg]
    """Default manager of every tenant model: filtered to the active scope, empty without one."""

    def none(self) -> models.QuerySet[Any]:
        # An empty queryset reads nothing, so it needs no scope (form fields start with one).
        return super().get_queryset().none()

    def create(self, **kwargs: Any) -> Any:
        # Inserting a row reads none, so it needs no scope (the row names its programme itself).
        return super().get_queryset().create(**kwargs)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        return super().get_queryset().bulk_create(objs, *args, **kwargs)

    def get_queryset(self) -> models.QuerySet[Any]:
        queryset = super().get_queryset()
        scope = _active_scope.get()
        if scope is _UNSCOPED:
            return queryset
        if scope is None:
            raise ScopeError(
                f"{self.model.__name__}.objects was queried with no programme scope active; run it inside "
                "programme_scope(...) (or unscoped() for system work)."
            )
        return restrict_to_programmes(queryset, scope)


class TenantModel(models.Model):
    """Abstract base for models that belong to a programme; subclasses set ``tenant_path``."""

    tenant_path: ClassVar[str] = "programme"
    tenant_path_is_multi: ClassVar[bool] = False

    objects = ProgrammeScopedManager()  # noqa: DJ012 (an abstract base without fields)
    # A plain manager for work that must see every programme (see ``unscoped``); feature code reads through
    # ``objects``, and each use of ``unscoped_objects`` says why in a comment. Django's own base manager
    # (used for saving, deleting and following a foreign key) stays the plain default.
    unscoped_objects = models.Manager()  # noqa: DJ012

    class Meta:
        abstract = True

    def get_additional_data(self) -> dict[str, list[int]]:
        """What django-auditlog stores with each entry about this row: the programmes it belongs to, so the
        trail can be read per programme. Rows shared by several programmes (organisations, units, people)
        name every programme they take part in when the entry is written."""
        return {"programmes": programme_ids_of(self)}


def programme_ids_of(instance: TenantModel) -> list[int]:
    """The programmes a row belongs to, read along its ``tenant_path`` whatever scope is active.

    The plain base manager is used for the many-valued paths because this runs for system work too (a job
    saving a row has no scope), and it only reads the row's own programme ids. A row whose parent is
    already gone (a cascade delete) belongs to no programme any more and answers an empty list.
    """
    model = type(instance)
    path = model.tenant_path
    if path == "pk":
        return [instance.pk] if instance.pk is not None else []
    if model.tenant_path_is_multi:
        if instance.pk is None:
            return []
        ids = model._base_manager.filter(pk=instance.pk).values_list(path, flat=True)
        return sorted({pk for pk in ids if pk is not None})
    *joins, last = path.split("__")
    target: object = instance
    try:
        for join in joins:
            target = getattr(target, join)
    except models.ObjectDoesNotExist:
        return []
    programme_id = getattr(target, f"{last}_id", None) if target is not None else None
    return [programme_id] if programme_id is not None else []
