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
from datetime import datetime, tzinfo
from typing import Any, ClassVar

from django.core.exceptions import FieldDoesNotExist
from django.db.models import ForeignKey, Model, OneToOneField, QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable
from django.utils import timezone
from rest_framework import fields as drf_fields
from rest_framework import mixins, relations
from rest_framework import serializers as drf_serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from coordinator.core.rows import Rows, _reader

logger = logging.getLogger(__name__)

SKIP = _SKIP = object()  # a key DRF leaves out of the row (a ``Computed`` function may return it)
Row = Sequence[object]
Writer = Callable[[Row, "Page"], object]


class NotPlanned(Exception):
    """Why a serializer, or a list's queryset, stays on DRF's path."""


@dataclass(frozen=True)
class Computed:
    """A field written from columns of the row by a function, where the plan cannot read the field itself.

    ``columns`` are lookups from the serializer's model (``"pk"``, ``"person__user__first_name"``);
    ``write(values, page)`` gets their values in that order and returns the field's value. ``prepare``, if
    given, is called once per page with every row's values and the serializer context, before any row is
    written; what it returns is ``page.prepared[name]`` (e.g. queue positions of the page's rounds)."""

    columns: tuple[str, ...]
    write: Callable[[tuple[object, ...], Page], object]
    prepare: Callable[[list[tuple[object, ...]], Mapping[str, Any]], object] | None = None


@dataclass
class Page:
    """What the writers of one page share: the serializer context, the active time zone (looked up once per
    page), and what each ``Computed.prepare`` returned."""

    context: Mapping[str, Any]
    timezone: tzinfo | None
    prepared: dict[str, object] = field(default_factory=dict)


class PlannedRow(dict[str, object]):
    """A written row; carries the list's total when the paginator read it beside the row."""

    __slots__ = ("_rows_in_list",)


# --- Converters: how DRF writes a non-null value of each kind of field -------------------------------------


def _identity(value: object) -> object:
    return value


def _text(value: object) -> object:
    return value if type(value) is str else str(value)


def _integer(value: object) -> object:
    return value if type(value) is int else int(value)  # type: ignore[call-overload]


_TIMEZONE_AWARE = object()  # marks the converter that takes the page's time zone


def _datetime_converter(bound: drf_fields.DateTimeField) -> Callable[..., object] | object:
    output_format = getattr(bound, "format", api_settings.DATETIME_FORMAT)
    if hasattr(bound, "timezone") or output_format is None or output_format.lower() != drf_fields.ISO_8601:
        return bound.to_representation
    return _TIMEZONE_AWARE


def _write_datetime(value: object, zone: tzinfo | None, bound: drf_fields.DateTimeField) -> object:
    # DateTimeField.to_representation with its zone looked up once per page instead of once per value.
    if zone is None or not isinstance(value, datetime) or not timezone.is_aware(value):
        return bound.to_representation(value)
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def write_datetime(value: object, page: Page) -> object:
    """A date-time as ``serializers.DateTimeField()`` writes it (``None`` stays ``None``), in the page's zone:
    for a ``Computed`` hook that writes nested rows of its own."""
    return None if value is None else _write_datetime(value, page.timezone, _DATETIME)


_DATETIME = drf_fields.DateTimeField()

# Per ``to_representation`` function: the converter of a field of that kind, given the bound field.
_CONVERTERS: dict[Callable[..., object], Callable[[Any], object]] = {
    drf_fields.CharField.to_representation: lambda bound: _text,
    drf_fields.IntegerField.to_representation: lambda bound: _integer,
    drf_fields.BigIntegerField.to_representation: lambda bound: (
        bound.to_representation
        if getattr(bound, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING)
        else _integer
    ),
    drf_fields.FloatField.to_representation: lambda bound: bound.to_representation,
    drf_fields.BooleanField.to_representation: lambda bound: bound.to_representation,
    drf_fields.DecimalField.to_representation: lambda bound: bound.to_representation,
    drf_fields.DateField.to_representation: lambda bound: bound.to_representation,
    drf_fields.TimeField.to_representation: lambda bound: bound.to_representation,
    drf_fields.ChoiceField.to_representation: lambda bound: bound.to_representation,
    drf_fields.ListField.to_representation: lambda bound: bound.to_representation,
    drf_fields.JSONField.to_representation: lambda bound: bound.to_representation,
    drf_fields.ReadOnlyField.to_representation: lambda bound: _identity,
    drf_fields.DateTimeField.to_representation: _datetime_converter,
}

# --- Field specs: what a field reads, compiled once per serializer class -----------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One field of a compiled serializer. ``bind`` turns it into a writer for one list's queryset."""

    name: str

    def lookups(self) -> tuple[str, ...]:
        return ()

    def bind(self, binder: _Binder) -> Writer:
        raise NotImplementedError


@dataclass(frozen=True)
class ColumnSpec(FieldSpec):
    """A column through forward foreign keys; ``nullable`` are the keys on the way that may be empty, where
    DRF's ``get_attribute`` fails and ``absent`` decides (a default, ``None``, or the key left out)."""

    lookup: str
    convert: Callable[..., object] | object
    bound: drf_fields.Field  # type: ignore[type-arg]
    nullable: tuple[str, ...] = ()
    absent: object = _SKIP

    def lookups(self) -> tuple[str, ...]:
        return (self.lookup, *self.nullable)

    def bind(self, binder: _Binder) -> Writer:
        index = binder.index(self.lookup)
        checks = [binder.index(key) for key in self.nullable]
        absent, bound = self.absent, self.bound
        convert = self.convert
        if convert is _TIMEZONE_AWARE:

            def convert_value(value: object, page: Page) -> object:
                return _write_datetime(value, page.timezone, bound)  # type: ignore[arg-type]
        else:
            plain = convert

            def convert_value(value: object, page: Page) -> object:
                return plain(value)  # type: ignore[operator]

        if not checks:

            def write(row: Row, page: Page) -> object:
                value = row[index]
                return None if value is None else convert_value(value, page)

            return write

        def write_through(row: Row, page: Page) -> object:
            for check in checks:
                if row[check] is None:
                    return absent() if callable(absent) else absent
            value = row[index]
            return None if value is None else convert_value(value, page)

        return write_through


@dataclass(frozen=True)
class AnnotationSpec(FieldSpec):
    """A value the list's queryset annotates (``attribute``); without that annotation the list is not
    planned (DRF would read a property or an attribute set elsewhere)."""

    attribute: str
    convert: Callable[..., object] | object
    bound: drf_fields.Field  # type: ignore[type-arg]

    def lookups(self) -> tuple[str, ...]:
        return (self.attribute,)

    def bind(self, binder: _Binder) -> Writer:
        if self.attribute not in binder.annotations:
            raise NotPlanned(f"{self.name}: the list's queryset has no column {self.attribute!r}.")
        return ColumnSpec(self.name, self.attribute, self.convert, self.bound).bind(binder)


@dataclass(frozen=True)
class ComputedSpec(FieldSpec):
    hook: Computed

    def lookups(self) -> tuple[str, ...]:
        return self.hook.columns

    def bind(self, binder: _Binder) -> Writer:
        indexes = [binder.index(column) for column in self.hook.columns]
        write, name = self.hook.write, self.name
        if self.hook.prepare is not None:
            binder.prepares.append((name, indexes, self.hook.prepare))

        def write_computed(row: Row, page: Page) -> object:
            return write(tuple(row[i] for i in indexes), page)

        return write_computed


@dataclass(frozen=True)
class OmitSpec(ComputedSpec):
    """A serializer's ``plan_omit`` hook: the names its ``to_representation`` leaves out of a row (fields
    some readers may not see), as a function of the row's columns."""


@dataclass(frozen=True)
class NestedSpec(FieldSpec):
    """A nested serializer on a forward foreign key: its own plan over the key's columns; ``None`` when the
    key is empty."""

    key: str
    children: tuple[FieldSpec, ...]

    def lookups(self) -> tuple[str, ...]:
        return (self.key, *(lookup for child in self.children for lookup in child.lookups()))

    def bind(self, binder: _Binder) -> Writer:
        index = binder.index(self.key)
        writer = _row_writer([child.bind(binder) for child in self.children], self.children)

        def write(row: Row, page: Page) -> object:
            return None if row[index] is None else writer(row, page)

        return write


@dataclass(frozen=True)
class RelatedRowsSpec(FieldSpec):
    """A to-many relation read by ``with_rows`` (the queryset's ``_rows_<relation>`` column): either the
    related ids (``children`` empty: a ``many=True`` primary-key field) or each related row written by the
    nested serializer's plan over the JSON row's cells."""

    relation: str
    children: tuple[JsonCellSpec, ...] = ()

    def lookups(self) -> tuple[str, ...]:
        return (f"_rows_{self.relation}",)

    def bind(self, binder: _Binder) -> Writer:
        rows = binder.rows.get(self.relation)
        if rows is None:
            raise NotPlanned(f"{self.name}: the list does not read {self.relation!r} with its rows.")
        index = binder.index(rows.attribute)
        cells = _cell_positions(rows)
        if not self.children:
            pk = cells[rows.queryset.model._meta.pk.attname][0]

            def write_ids(row: Row, page: Page) -> object:
                return [values[pk] for values in row[index] or ()]  # type: ignore[union-attr]

            return write_ids
        writers: list[tuple[str, int, int | None, Callable[[object], object] | None, JsonCellSpec]] = []
        for child in self.children:
            if child.path not in cells:
                raise NotPlanned(f"{self.name}.{child.name}: the rows of {self.relation!r} lack that column.")
            position, reader = cells[child.path]
            key = cells[child.key][0] if child.key else None
            writers.append((child.name, position, key, reader, child))

        def write_rows(row: Row, page: Page) -> object:
            written = []
            for values in row[index] or ():  # type: ignore[union-attr]
                item: dict[str, object] = {}
                for name, position, key, reader, child in writers:
                    if key is not None and values[key] is None:
                        absent = child.absent
                        if absent is not _SKIP:
                            item[name] = absent() if callable(absent) else absent
                        continue
                    value = values[position]
                    if value is None:
                        item[name] = None
                        continue
                    if reader is not None:
                        value = reader(value)
                    if child.convert is _TIMEZONE_AWARE:
                        item[name] = _write_datetime(value, page.timezone, child.bound)  # type: ignore[arg-type]
                    else:
                        item[name] = child.convert(value)  # type: ignore[operator]
                written.append(item)
            return written

        return write_rows


@dataclass(frozen=True)
class RelatedColumn:
    """A ``plan_fields`` hook for a field that lists one column of a relation read by ``with_rows`` (the
    relation's rows in their order), e.g. a meeting's decisions' texts."""

    relation: str
    column: str


@dataclass(frozen=True)
class RelatedColumnSpec(FieldSpec):
    hook: RelatedColumn

    def lookups(self) -> tuple[str, ...]:
        return (f"_rows_{self.hook.relation}",)

    def bind(self, binder: _Binder) -> Writer:
        rows = binder.rows.get(self.hook.relation)
        if rows is None:
            raise NotPlanned(f"{self.name}: the list does not read {self.hook.relation!r} with its rows.")
        index = binder.index(rows.attribute)
        position, reader = _cell_positions(rows)[self.hook.column]

        def write(row: Row, page: Page) -> object:
            cells = row[index] or ()
            if reader is None:
                return [values[position] for values in cells]  # type: ignore[union-attr]
            return [None if v[position] is None else reader(v[position]) for v in cells]  # type: ignore[union-attr]

        return write


_Cells = dict[str, tuple[int, Callable[[object], object] | None]]


def _cell_positions(rows: Rows) -> _Cells:
    """Where each column sits in a JSON row of ``rows``, with its reader: the row's own columns by attname
    (and by name), the joined rows' columns as ``key.attname``."""
    columns = rows.columns()
    cells: _Cells = {}
    for position, column in enumerate(columns):
        cells[column.attname] = cells[column.name] = (position, _reader(column))  # type: ignore[assignment]
    position = len(columns)
    for key, targets in rows.joined_columns():
        for column in targets:
            cells[f"{key.name}.{column.attname}"] = (position, _reader(column))  # type: ignore[assignment]
            position += 1
    return cells


@dataclass(frozen=True)
class JsonCellSpec:
    """A field of a nested row, read from one cell of the JSON row (``path``: a column's attname, or
    ``key.attname`` of a joined row, whose key ``key`` may be empty: then ``absent``, as DRF decides)."""

    name: str
    path: str
    convert: Callable[..., object] | object
    bound: drf_fields.Field  # type: ignore[type-arg]
    key: str = ""
    absent: object = _SKIP


def _row_writer(
    writers: list[Writer], specs: Sequence[FieldSpec]
) -> Callable[[Row, Page], dict[str, object]]:
    pairs = list(zip(specs, writers, strict=True))
    named = [(spec.name, writer) for spec, writer in pairs if not isinstance(spec, OmitSpec)]
    omits = [writer for spec, writer in pairs if isinstance(spec, OmitSpec)]

    def write(row: Row, page: Page) -> dict[str, object]:
        written: dict[str, object] = {}
        for name, writer in named:
            value = writer(row, page)
            if value is not _SKIP:
                written[name] = value
        for omit in omits:
            for name in omit(row, page):  # type: ignore[attr-defined]
                written.pop(name, None)
        return written

    return write


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
            steps.append(attr if attr == model_field.attname else model_field.name)
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
        name = bound.field_name
        if name in hooks and isinstance(hooks[name], RelatedColumn):
            specs.append(RelatedColumnSpec(name, hooks[name]))  # type: ignore[arg-type]
            continue
        if name in hooks:
            hook = hooks[name]
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
    if type(child).to_representation is not drf_serializers.Serializer.to_representation:
        raise NotPlanned(f"{type(child).__name__} writes its rows with its own to_representation().")
    related = getattr(getattr(model, attrs[0], None), "rel", None)
    child_model: type[Model] | None = getattr(related, "related_model", None)
    if child_model is None:
        raise NotPlanned(f"{kind.__name__}.{name}: nested rows of an unknown relation.")
    cells: list[JsonCellSpec] = []
    for field_ in child._readable_fields:
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
            cells.append(JsonCellSpec(field_.field_name, column.attname, convert, field_))
            continue
        if not isinstance(column, (ForeignKey, OneToOneField)):
            raise NotPlanned(f"{label}: {source[0]!r} is not a foreign key.")
        target = column.related_model._meta.get_field(source[1])  # type: ignore[union-attr]
        absent = _absent(field_) if column.null else _SKIP
        path = f"{column.name}.{target.attname}"  # type: ignore[union-attr]
        cells.append(JsonCellSpec(field_.field_name, path, convert, field_, column.attname, absent))
    return RelatedRowsSpec(name, attrs[0], tuple(cells))


# --- The plan, and reading a page with it -------------------------------------------------------------------


class _Binder:
    """Positions of the lookups of one plan in one list's row, and that list's annotations and rows."""

    def __init__(self, lookups: list[str], queryset: QuerySet[Any]) -> None:
        self.positions = {lookup: position for position, lookup in enumerate(lookups)}
        self.annotations = set(queryset.query.annotations)
        self.rows: dict[str, Rows] = {
            rows.relation: rows for rows in getattr(queryset._iterable_class, "rows", ())
        }
        self.prepares: list[tuple[str, list[int], Callable[..., object]]] = []

    def index(self, lookup: str) -> int:
        return self.positions[lookup]


_Prepare = tuple[str, list[int], Callable[..., object]]
_Bound = tuple[list[str], Callable[[Row, "Page"], dict[str, object]], list[_Prepare]]


@dataclass
class ListPlan:
    """A serializer class compiled for lists: ``rows(queryset, context)`` is the page's queryset yielding
    each row as that serializer writes it."""

    serializer_class: type
    specs: tuple[FieldSpec, ...]
    _bound: dict[tuple[object, ...], _Bound] = field(default_factory=dict)

    def lookups(self) -> list[str]:
        seen: dict[str, None] = {}
        for spec in self.specs:
            for lookup in spec.lookups():
                seen.setdefault(lookup, None)
        return list(seen)

    def _bind(self, queryset: QuerySet[Any]) -> _Bound:
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
            writers = [spec.bind(binder) for spec in self.specs]
            selected = [_selectable(queryset.model, lookup) for lookup in lookups]
            bound = (selected, _row_writer(writers, self.specs), binder.prepares)
            self._bound[key] = bound
        return bound

    def rows(self, queryset: QuerySet[Any], context: Mapping[str, Any]) -> QuerySet[Any]:
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


class _PlannedIterable(ValuesListIterable):
    width: ClassVar[int]
    writer: ClassVar[Callable[[Row, Page], dict[str, object]]]
    prepares: ClassVar[list[tuple[str, list[int], Callable[..., object]]]]
    context: ClassVar[Mapping[str, Any]]

    def __iter__(self) -> Iterator[PlannedRow]:  # type: ignore[override]
        fetched = list(super().__iter__())
        page = Page(self.context, timezone.get_current_timezone())
        for name, indexes, prepare in self.prepares:
            page.prepared[name] = prepare([tuple(row[i] for i in indexes) for row in fetched], self.context)
        width, writer = self.width, self.writer
        for row in fetched:
            written = PlannedRow(writer(row, page))
            if len(row) > width:
                written._rows_in_list = row[width]  # the total the paginator read beside the row
            yield written


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
        raise plan
    return plan


class ListModelMixin(mixins.ListModelMixin):
    """DRF's list, with the page read as tuples and written by the serializer's plan (``plan_for``). A
    list whose serializer or queryset has no plan is DRF's list as before; the reason is logged."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        try:
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
