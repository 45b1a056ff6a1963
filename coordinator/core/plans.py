"""List pages written straight from their columns, by a plan compiled once per serializer class.

DRF writes a list page by building a model instance for every row (and for every row it joins), then
asking each field of the serializer for its attribute and its representation. On a page of 50 rows that is
hundreds of instances and a thousand field look-ups, most of a list's processor time. ``plan_for`` compiles
a serializer class once into a plan: for each field the column it reads (its ``source`` as a lookup through
the model's forward foreign keys, an annotation of the list's queryset, or the JSON rows of a to-many
relation read by ``coordinator.core.rows.with_rows``) and how DRF would write that column's value. A list
then reads its page as tuples (``values_list``, no model instances) and writes each row with the plan.

The plan writes exactly what DRF writes: the same keys in the same order, ``None`` for a null, a key left
out where DRF's ``get_attribute`` would skip it (a dotted source through an empty foreign key), each value
through the field's own ``to_representation`` or an equivalent (a date-time in the zone that is active,
looked up once per page). A field it cannot compile (a ``SerializerMethodField``, a field of a type it does
not know, a property) needs an explicit hook on the serializer (``plan_fields``: ``Computed`` columns and
a function of them), and a serializer with its own ``to_representation`` is never compiled: otherwise the
whole list stays on DRF's path and ``plan_for`` says why (``NotPlanned``). Detail, create and update
answers, and the OpenAPI schema, are DRF's as before.

Nothing of a row or a right is kept: the plan is the columns and the converters; every request runs its
own scoped, filtered queryset.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS
from django.db.models import ForeignKey, Model, OneToOneField, QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable
from django.utils import timezone
from rest_framework import fields as drf_fields
from rest_framework import mixins, relations
from rest_framework import serializers as drf_serializers
from rest_framework.request import Request
from rest_framework.response import Response

from coordinator.core import answers, shapes
from coordinator.core.drf import CountingPaginator
from coordinator.core.plan_specs import (
    _CONVERTERS,
    _SKIP,
    SKIP,
    AnnotationSpec,
    ColumnSpec,
    Computed,
    ComputedSpec,
    FieldSpec,
    JsonCellSpec,
    NestedSpec,
    NotPlanned,
    OmitSpec,
    Page,
    PlannedRow,
    RelatedColumn,
    RelatedColumnSpec,
    RelatedRowsSpec,
    Row,
    _Binder,
    _identity,
    _row_writer,
    write_datetime,
)

__all__ = [
    "SKIP",
    "AnnotationSpec",
    "Computed",
    "ListModelMixin",
    "ListPlan",
    "NotPlanned",
    "Page",
    "RelatedColumn",
    "plan_for",
    "write_datetime",
]

logger = logging.getLogger(__name__)

# --- Compiling a serializer class ---------------------------------------------------------------------------


def _converter(bound: drf_fields.Field) -> Callable[..., object] | object:  # type: ignore[type-arg]
    kind = type(bound)
    if isinstance(bound, relations.PrimaryKeyRelatedField):
        if (
            kind.to_representation is not relations.PrimaryKeyRelatedField.to_representation
            or kind.get_attribute is not relations.RelatedField.get_attribute
            or bound.pk_field is not None
        ):
            raise NotPlanned(f"{bound.field_name}: {kind.__name__} writes its ids its own way.")
        return _identity
    if kind.get_attribute is not drf_fields.Field.get_attribute:
        raise NotPlanned(f"{bound.field_name}: {kind.__name__} reads its attribute its own way.")
    build = _CONVERTERS.get(kind.to_representation)
    if build is None:
        raise NotPlanned(f"{bound.field_name}: no plan for a {kind.__name__}.")
    return build(bound)


def _absent(bound: drf_fields.Field) -> object:  # type: ignore[type-arg]
    # What DRF's Field.get_attribute does when the source's path breaks on an empty key.
    if bound.default is not drf_fields.empty:
        return bound.get_default
    if bound.allow_null:
        return None
    if not bound.required:
        return _SKIP
    raise NotPlanned(f"{bound.field_name}: DRF would fail on an empty key of its source.")


def _path(model: type[Model], attrs: Sequence[str], prefix: str) -> tuple[str, tuple[str, ...]] | None:
    """The lookup of a dotted source through forward keys, and the nullable keys on the way; ``None`` when
    its first step is not a field of the model (an annotation or a property)."""
    nullable: list[str] = []
    current = model
    steps: list[str] = []
    for position, attr in enumerate(attrs):
        try:
            model_field = current._meta.get_field(attr)
        except FieldDoesNotExist:
            if position == 0:
                return None
            raise NotPlanned(f"{'.'.join(attrs)}: {current._meta.label} has no column {attr!r}.") from None
        last = position == len(attrs) - 1
        if not getattr(model_field, "concrete", False) or model_field.many_to_many:
            raise NotPlanned(f"{'.'.join(attrs)}: {attr!r} is not a column of {current._meta.label}.")
        if last:
            steps.append(attr if attr == getattr(model_field, "attname", None) else model_field.name)
            break
        if not isinstance(model_field, (ForeignKey, OneToOneField)):
            raise NotPlanned(f"{'.'.join(attrs)}: {attr!r} is not a foreign key.")
        steps.append(model_field.name)
        if model_field.null:
            nullable.append(prefix + "__".join(steps))
        current = model_field.related_model  # type: ignore[assignment]
    return prefix + "__".join(steps), tuple(nullable)


def _compile_serializer(
    serializer: drf_serializers.Serializer,  # type: ignore[type-arg]
    model: type[Model],
    prefix: str,
) -> tuple[FieldSpec, ...]:
    kind = type(serializer)
    specs: list[FieldSpec] = []
    if kind.to_representation is not drf_serializers.Serializer.to_representation:
        # Only where the class that writes its rows its own way says what it leaves out, and nothing more.
        owner = next(klass for klass in kind.__mro__ if "to_representation" in vars(klass))
        omit: Computed | None = vars(owner).get("plan_omit")
        if omit is None:
            raise NotPlanned(f"{kind.__name__} writes its rows with its own to_representation().")
        specs.append(
            OmitSpec("", Computed(tuple(prefix + c for c in omit.columns), omit.write, omit.prepare))
        )
    hooks: Mapping[str, Computed | RelatedColumn] = getattr(kind, "plan_fields", {})
    for bound in serializer._readable_fields:
        name = str(bound.field_name)
        hook = hooks.get(name)
        if isinstance(hook, RelatedColumn):
            specs.append(RelatedColumnSpec(name, hook))
            continue
        if hook is not None:
            specs.append(
                ComputedSpec(
                    name, Computed(tuple(prefix + c for c in hook.columns), hook.write, hook.prepare)
                )
            )
            continue
        own_spec = getattr(bound, "plan_spec", None)
        if own_spec is not None:  # a field class that says itself what it reads (``FieldSpec``)
            specs.append(own_spec())
            continue
        if isinstance(bound, drf_serializers.SerializerMethodField):
            raise NotPlanned(f"{kind.__name__}.{name}: a method field without a plan hook.")
        attrs = bound.source_attrs
        if bound.source == "*":
            raise NotPlanned(f"{kind.__name__}.{name}: a field of the whole row.")
        if isinstance(bound, drf_serializers.ListSerializer):
            specs.append(_compile_related_rows(kind, name, bound, model, attrs, prefix))
        elif isinstance(bound, relations.ManyRelatedField):
            if type(bound).get_attribute is not relations.ManyRelatedField.get_attribute:
                raise NotPlanned(
                    f"{kind.__name__}.{name}: {type(bound).__name__} reads its rows its own way."
                )
            _converter(bound.child_relation)
            if prefix or len(attrs) != 1:
                raise NotPlanned(f"{kind.__name__}.{name}: ids of a relation of a joined row.")
            specs.append(RelatedRowsSpec(name, attrs[0]))
        elif isinstance(bound, drf_serializers.BaseSerializer):
            path = _path(model, attrs, prefix)
            target = _target(model, attrs)
            if (
                path is None
                or target is None
                or type(bound).get_attribute is not drf_fields.Field.get_attribute
            ):
                raise NotPlanned(f"{kind.__name__}.{name}: a nested row that is not a foreign key's.")
            lookup, nullable = path
            if nullable[:-1] or len(attrs) != 1:
                raise NotPlanned(f"{kind.__name__}.{name}: a nested row further than one key away.")
            specs.append(NestedSpec(name, lookup, _compile_serializer(bound, target, lookup + "__")))  # type: ignore[arg-type]
        else:
            convert = _converter(bound)
            path = _path(model, attrs, prefix)
            if path is None:
                if prefix or len(attrs) != 1:
                    raise NotPlanned(f"{kind.__name__}.{name}: {bound.source!r} is not a column.")
                specs.append(AnnotationSpec(name, attrs[0], convert, bound))
            else:
                lookup, nullable = path
                absent = _absent(bound) if nullable else _SKIP
                specs.append(ColumnSpec(name, lookup, convert, bound, nullable, absent))
    return tuple(specs)


def _target(model: type[Model], attrs: Sequence[str]) -> type[Model] | None:
    try:
        key = model._meta.get_field(attrs[0])
    except FieldDoesNotExist:
        return None
    return key.related_model if isinstance(key, (ForeignKey, OneToOneField)) else None  # type: ignore[return-value]


def _compile_related_rows(
    kind: type,
    name: str,
    bound: drf_serializers.ListSerializer,  # type: ignore[type-arg]
    model: type[Model],
    attrs: Sequence[str],
    prefix: str,
) -> RelatedRowsSpec:
    child = bound.child
    if (
        prefix
        or len(attrs) != 1
        or type(bound).to_representation is not drf_serializers.ListSerializer.to_representation
    ):
        raise NotPlanned(f"{kind.__name__}.{name}: nested rows not of the row's own relation.")
    if type(child).to_representation is not drf_serializers.Serializer.to_representation:  # type: ignore[union-attr]
        raise NotPlanned(f"{type(child).__name__} writes its rows with its own to_representation().")
    related = getattr(getattr(model, attrs[0], None), "rel", None)
    child_model: type[Model] | None = getattr(related, "related_model", None)
    if child_model is None:
        raise NotPlanned(f"{kind.__name__}.{name}: nested rows of an unknown relation.")
    cells: list[JsonCellSpec] = []
    for field_ in child._readable_fields:  # type: ignore[union-attr]
        label = f"{type(child).__name__}.{field_.field_name}"
        if isinstance(field_, drf_serializers.SerializerMethodField) or field_.source == "*":
            raise NotPlanned(f"{label}: not a column.")
        source = field_.source_attrs
        if len(source) > 2:
            raise NotPlanned(f"{label}: a column further than one key away.")
        try:
            column = child_model._meta.get_field(source[0])
        except FieldDoesNotExist:
            raise NotPlanned(f"{label}: not a column.") from None
        if not getattr(column, "concrete", False) or column.many_to_many:
            raise NotPlanned(f"{label}: not a column.")
        convert = _converter(field_)
        if len(source) == 1:
            cells.append(JsonCellSpec(field_.field_name, column.attname, convert, field_))  # type: ignore[union-attr]
            continue
        if not isinstance(column, (ForeignKey, OneToOneField)):
            raise NotPlanned(f"{label}: {source[0]!r} is not a foreign key.")
        target = column.related_model._meta.get_field(source[1])  # type: ignore[union-attr]
        absent = _absent(field_) if column.null else _SKIP
        path = f"{column.name}.{target.attname}"  # type: ignore[union-attr]
        cells.append(JsonCellSpec(field_.field_name, path, convert, field_, column.attname, absent))
    return RelatedRowsSpec(name, attrs[0], tuple(cells))


# --- The plan, and reading a page with it -------------------------------------------------------------------


_Prepare = tuple[str, list[int], Callable[..., object]]
_Bound = tuple[list[str], Callable[[Row, "Page"], dict[str, object]], list[_Prepare]]


@dataclass
class ListPlan:
    """A serializer class compiled for lists: ``rows(queryset, context)`` is the page's queryset yielding
    each row as that serializer writes it."""

    serializer_class: type
    specs: tuple[FieldSpec, ...]
    _bound: dict[tuple[object, ...], _Bound | NotPlanned] = field(default_factory=dict)

    def lookups(self) -> list[str]:
        seen: dict[str, None] = {}
        for spec in self.specs:
            for lookup in spec.lookups():
                seen.setdefault(lookup, None)
        return list(seen)

    def _bind(self, queryset: QuerySet[Model]) -> _Bound:
        rows = getattr(queryset._iterable_class, "rows", ())
        key = (
            queryset.model,
            tuple(sorted(queryset.query.annotations)),
            tuple((r.relation, r.queryset.model, r.fields, tuple(sorted(r.joined.items()))) for r in rows),
        )
        bound = self._bound.get(key)
        if bound is None:
            lookups = self.lookups()
            binder = _Binder(lookups, queryset)
            try:
                writers = [spec.bind(binder) for spec in self.specs]
            except NotPlanned as reason:
                bound = reason  # the same queryset shape lacks the same column next time too
            else:
                selected = [_selectable(queryset.model, lookup) for lookup in lookups]
                bound = (selected, _row_writer(writers, self.specs), binder.prepares)
            self._bound[key] = bound
        if isinstance(bound, NotPlanned):
            raise NotPlanned(str(bound))
        return bound

    def rows(self, queryset: QuerySet[Model], context: Mapping[str, object]) -> QuerySet[Model, PlannedRow]:
        """The queryset's rows as this plan writes them (a queryset still: the paginator slices and counts
        it as any other). Raises ``NotPlanned`` when the queryset lacks a column the plan reads."""
        if not issubclass(queryset._iterable_class, ModelIterable):
            raise NotPlanned("the list's queryset does not yield model instances.")
        lookups, writer, prepares = self._bind(queryset)
        # Prefetches fill model instances, which a plan never reads (a ``Computed`` reads what it needs).
        planned = queryset.prefetch_related(None).values_list(*lookups)
        planned._iterable_class = type(
            "PlannedRowsIterable",
            (_PlannedIterable,),
            {"width": len(lookups), "writer": staticmethod(writer), "prepares": prepares, "context": context},
        )
        return planned


def _selectable(model: type[Model], lookup: str) -> str:
    """``lookup`` as the plan selects it: a foreign key by its column (``group_id``,
    ``request__requester_id``), so that the list's ``order_by("group")`` still follows the related model's
    ordering (an ordering by a name the values select sorts by that selected column instead)."""
    parts = lookup.split("__")
    current = model
    for position, part in enumerate(parts):
        try:
            model_field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return lookup
        if position == len(parts) - 1:
            if isinstance(model_field, (ForeignKey, OneToOneField)) and model_field.concrete:
                parts[position] = model_field.attname
            return "__".join(parts)
        related = getattr(model_field, "related_model", None)
        if related is None:
            return lookup
        current = related
    return lookup


class _PlannedIterable(ValuesListIterable):  # type: ignore[type-arg]
    width: ClassVar[int]
    writer: ClassVar[Callable[[Row, Page], dict[str, object]]]
    prepares: ClassVar[list[tuple[str, list[int], Callable[..., object]]]]
    context: ClassVar[Mapping[str, object]]

    def __iter__(self) -> Iterator[PlannedRow]:  # type: ignore[override]
        queryset = self.queryset
        writer = type(self).writer
        recorder = shapes.active_recorder()
        compiled = None
        if recorder is not None:
            compiler = queryset.query.get_compiler(queryset.db)
            compiled = recorder.record(compiler, queryset.db, self.width, writer, self.prepares)
        # The page a request records is read from its recorded SQL already: as every later request reads it.
        fetched = compiled.fetch() if compiled is not None else list(super().__iter__())
        yield from write_page(fetched, self.width, writer, self.prepares, self.context)


def write_page(
    fetched: Sequence[Row],
    width: int,
    writer: Callable[[Row, Page], dict[str, object]],
    prepares: list[tuple[str, list[int], Callable[..., object]]],
    context: Mapping[str, object],
) -> list[PlannedRow]:
    """A page's rows (``values_list`` tuples, perhaps with the list's total beside each) as the plan
    writes them."""
    page = Page(context, timezone.get_current_timezone())
    for name, indexes, prepare in prepares:
        page.prepared[name] = prepare([tuple(row[i] for i in indexes) for row in fetched], context)
    written_rows = []
    for row in fetched:
        written = PlannedRow(writer(row, page))
        if len(row) > width:
            written._rows_in_list = row[width]  # the total the paginator read beside the row
        written_rows.append(written)
    return written_rows


# Per serializer class: its plan, or why it has none. Weak keys, as for the serializers' field prototypes.
_PLANS: weakref.WeakKeyDictionary[type, ListPlan | NotPlanned] = weakref.WeakKeyDictionary()


def plan_for(serializer_class: type) -> ListPlan:
    """The class's plan, compiled on first use; raises ``NotPlanned`` (the same reason every time) when the
    class cannot be written by a plan."""
    plan = _PLANS.get(serializer_class)
    if plan is None:
        try:
            serializer = serializer_class(context={})
            model = serializer.Meta.model
            plan = ListPlan(serializer_class, _compile_serializer(serializer, model, ""))
        except NotPlanned as reason:
            plan = NotPlanned(f"{serializer_class.__name__}: {reason}")
        except AttributeError as missing:  # no Meta.model: not a model serializer
            plan = NotPlanned(f"{serializer_class.__name__}: {missing}")
        _PLANS[serializer_class] = plan
    if isinstance(plan, NotPlanned):
        raise NotPlanned(str(plan))  # a fresh one: a kept exception would gather every traceback
    return plan


class ListModelMixin(mixins.ListModelMixin):
    """DRF's list, with the page read as tuples and written by the serializer's plan (``plan_for``). A
    list whose serializer or queryset has no plan is DRF's list as before; the reason is logged."""

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        key = self._shape_key(request)
        if key is None:
            return self._list()
        # The whole answer, when the list keeps it and nothing it shows has changed (``answers``).
        answer = answers.answer_for(self, request, key)
        if answer is not None:
            stored = answer.lookup()
            if stored is not None:
                return stored
        response = self._shaped_list(key)
        if answer is not None:
            answer.keep(response)
        return response

    def _shaped_list(self, key: tuple[object, ...]) -> Response:
        compiled = shapes.lookup(key, DEFAULT_DB_ALIAS)
        if compiled is not None:
            context = self.get_serializer_context()  # type: ignore[attr-defined]
            rows = shapes.ShapedRows(
                compiled,
                lambda fetched: write_page(
                    fetched, compiled.width, compiled.writer, compiled.prepares, context
                ),
            )
            page = self.paginate_queryset(rows)  # type: ignore[attr-defined]
            return self.get_paginated_response(page)  # type: ignore[attr-defined,no-any-return]
        with shapes.recording(DEFAULT_DB_ALIAS) as recorder:
            response = self._list()
        shapes.store(key, DEFAULT_DB_ALIAS, recorder)
        return response

    def _shape_key(self, request: Request) -> tuple[object, ...] | None:
        """The key of this request's compiled first page (``coordinator.core.shapes``), or ``None`` when it
        is read the usual way (plans or shapes off, another paginator, a later page, no reader)."""
        if not (settings.API_LIST_PLANS and settings.API_LIST_SHAPES):
            return None
        paginator = getattr(self, "paginator", None)
        actor = getattr(self, "actor", None)
        if (
            actor is None
            or getattr(paginator, "django_paginator_class", None) is not CountingPaginator
            or getattr(paginator, "page_query_param", None) in request.query_params
        ):
            return None
        renderer = getattr(getattr(request, "accepted_renderer", None), "format", None)
        return shapes.shape_key(
            self,
            request.META.get("QUERY_STRING", ""),
            self.kwargs,  # type: ignore[attr-defined]
            actor,
            (renderer, getattr(request, "version", None)),
        )

    def _list(self) -> Response:
        queryset = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        try:
            if not settings.API_LIST_PLANS:
                raise NotPlanned("API_LIST_PLANS is off.")
            rows = plan_for(self.get_serializer_class()).rows(  # type: ignore[attr-defined]
                queryset,
                self.get_serializer_context(),  # type: ignore[attr-defined]
            )
        except NotPlanned as reason:
            logger.debug("List on DRF's path: %s", reason)
            page = self.paginate_queryset(queryset)  # type: ignore[attr-defined]
            if page is not None:
                serializer = self.get_serializer(page, many=True)  # type: ignore[attr-defined]
                return self.get_paginated_response(serializer.data)  # type: ignore[attr-defined,no-any-return]
            serializer = self.get_serializer(queryset, many=True)  # type: ignore[attr-defined]
            return Response(serializer.data)
        page = self.paginate_queryset(rows)  # type: ignore[attr-defined]
        if page is not None:
            return self.get_paginated_response(list(page))  # type: ignore[attr-defined,no-any-return]
        return Response(list(rows))
