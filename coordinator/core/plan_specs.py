"""The parts a list's plan is made of (``coordinator.core.plans``): the hooks a serializer declares, the
converters that write a value as DRF's fields write it, and one spec per field that reads its column from a
row of values."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from django.db.models import Model, QuerySet
from django.utils import timezone
from rest_framework import ISO_8601
from rest_framework import fields as drf_fields
from rest_framework.settings import api_settings

from coordinator.core.rows import Rows, _reader

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
    prepare: Callable[[list[tuple[object, ...]], Mapping[str, object]], object] | None = None


@dataclass
class Page:
    """What the writers of one page share: the serializer context, the active time zone (looked up once per
    page), and what each ``Computed.prepare`` returned."""

    context: Mapping[str, object]
    timezone: tzinfo | None
    prepared: dict[str, object] = field(default_factory=dict)


class PlannedRow(dict[str, object]):
    """A written row; carries the list's total when the paginator read it beside the row."""

    __slots__ = ("_rows_in_list",)
    _rows_in_list: object


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
    if hasattr(bound, "timezone") or output_format is None or output_format.lower() != ISO_8601:
        return bound.to_representation
    return _TIMEZONE_AWARE


def _write_datetime(value: object, zone: tzinfo | None, bound: drf_fields.DateTimeField) -> object:
    # DateTimeField.to_representation with its zone looked up once per page instead of once per value.
    if zone is None or not isinstance(value, datetime) or not timezone.is_aware(value):
        return bound.to_representation(value)  # type: ignore[arg-type]
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def write_datetime(value: object, page: Page) -> object:
    """A date-time as ``serializers.DateTimeField()`` writes it (``None`` stays ``None``), in the page's zone:
    for a ``Computed`` hook that writes nested rows of its own."""
    return None if value is None else _write_datetime(value, page.timezone, _DATETIME)


_DATETIME = drf_fields.DateTimeField()

# Per ``to_representation`` function: the converter of a field of that kind, given the bound field.
_CONVERTERS: dict[Callable[..., object], Callable[..., object]] = {
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
class FieldSpec(ABC):
    """One field of a compiled serializer. ``bind`` turns it into a writer for one list's queryset."""

    name: str

    def lookups(self) -> tuple[str, ...]:
        return ()

    @abstractmethod
    def bind(self, binder: _Binder) -> Writer:
        """The writer of this field's value from one row of the list's queryset."""


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
                return [values[pk] for values in row[index] or ()]  # type: ignore[attr-defined]

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
            for values in row[index] or ():  # type: ignore[attr-defined]
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
            cells: list[list[object]] = row[index] or []  # type: ignore[assignment]
            if reader is None:
                return [values[position] for values in cells]
            return [None if v[position] is None else reader(v[position]) for v in cells]

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


class _Binder:
    """Positions of the lookups of one plan in one list's row, and that list's annotations and rows."""

    def __init__(self, lookups: list[str], queryset: QuerySet[Model]) -> None:
        self.positions = {lookup: position for position, lookup in enumerate(lookups)}
        self.annotations = set(queryset.query.annotations)
        self.rows: dict[str, Rows] = {
            rows.relation: rows for rows in getattr(queryset._iterable_class, "rows", ())
        }
        self.prepares: list[tuple[str, list[int], Callable[..., object]]] = []

    def index(self, lookup: str) -> int:
        return self.positions[lookup]
