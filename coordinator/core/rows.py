"""To-many relations read in the parent's own query.

A list page's fixed cost is its queries (compiling SQL costs more than running it at our sizes), and Django's
``prefetch_related`` spends one query per relation. ``with_rows`` reads a relation's rows instead as a
correlated subquery of the parent's query: one JSON array per parent, in the relation's order, built by the
database (``TO_JSONB(ARRAY(...))`` on PostgreSQL, ``JSON_GROUP_ARRAY`` over the ordered subquery on SQLite).
Each parent the queryset yields then holds its related rows exactly as a prefetch leaves them (model
instances behind ``parent.<relation>.all()``), so serializers, templates and services read them unchanged.
Fields left out of a relation's row are deferred: reading one loads it, as for ``only()``.

The subquery is built from the related model's own manager, so the tenant scope applies to it as to any query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import TypeVar

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BooleanField,
    DateField,
    DateTimeField,
    DecimalField,
    Field,
    ForeignKey,
    JSONField,
    Model,
    QuerySet,
    Subquery,
    TimeField,
)
from django.db.models.functions import JSONArray
from django.db.models.query import ModelIterable
from django.db.models.sql.compiler import SQLCompiler
from django.utils.dateparse import parse_datetime

ModelT = TypeVar("ModelT", bound=Model)
_Field = Field[object, object]
_Key = ForeignKey[object, object]
_Sql = tuple[str, tuple[str | int, ...]]

_CELLS = "rows_cells"  # the subquery's one column, named in the SQLite template


class JSONRows(Subquery):
    """The rows of a correlated queryset (filtered on ``OuterRef``) as one JSON array, each row an array of
    the given fields' values, in the queryset's order; ``[]`` for none. PostgreSQL and SQLite only."""

    def __init__(self, queryset: QuerySet[Model], fields: Sequence[str]) -> None:
        super().__init__(queryset.values(**{_CELLS: JSONArray(*fields)}), output_field=JSONField())

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: object) -> _Sql:
        # ARRAY(subquery) keeps the subquery's order (an aggregate over it would not promise to).
        return super().as_sql(compiler, connection, template="TO_JSONB(ARRAY(%(subquery)s))", **extra)

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: object) -> _Sql:
        # SQLite feeds an aggregate a FROM-subquery's rows in its ORDER BY (it drops that ORDER BY only
        # under an outer ORDER BY or join); JSON() makes each row JSON again after the subquery returned it
        # as text. The template holds no value, only the compiled subquery and a constant column name.
        template = '(SELECT JSON_GROUP_ARRAY(JSON(_rows."rows_cells")) FROM (%(subquery)s) AS _rows)'
        return super().as_sql(compiler, connection, template=template, **extra)


def _reader(field: _Field) -> Callable[[str], object] | None:
    """How a value of ``field`` comes back from the JSON: as the Python value the field holds."""
    if isinstance(field, DateTimeField):
        # PostgreSQL writes an ISO time with its offset; SQLite the stored UTC time without one.
        def read_datetime(value: str) -> object:
            parsed = parse_datetime(value)
            return parsed.replace(tzinfo=UTC) if parsed is not None and parsed.tzinfo is None else parsed

        return read_datetime
    if isinstance(field, (DateField, TimeField, BooleanField)):
        return field.to_python
    if isinstance(field, (DecimalField, JSONField)):
        # JSON numbers lose a decimal's exactness, and a JSON column comes back differently per database.
        raise TypeError(f"{field.name}: {type(field).__name__} cannot be read through JSONRows.")
    return None


@dataclass(frozen=True)
class Rows:
    """One to-many relation of the parent (``relation``, the accessor on the parent) read in the parent's
    query: ``queryset`` is the related model's rows of one parent (filtered on ``OuterRef("pk")``), in the
    order the relation shows them; ``fields`` are what the readers need (the primary key always comes)."""

    relation: str
    queryset: QuerySet[Model]
    fields: tuple[str, ...]
    # Foreign keys of the row whose target the readers need too, with the target's fields: each row's target
    # is built from the same JSON and cached on it, as ``select_related`` would (e.g. a term's organisation
    # name).
    joined: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def attribute(self) -> str:
        return f"_rows_{self.relation}"

    def columns(self) -> list[_Field]:
        # In the model's own field order, which ``Model.from_db`` expects of a partial row.
        meta = self.queryset.model._meta
        wanted = {meta.pk.name, *self.fields}
        unknown = wanted - {field.name for field in meta.concrete_fields}
        if unknown:
            raise ValueError(f"{meta.label} has no column {', '.join(sorted(unknown))}.")
        return [field for field in meta.concrete_fields if field.name in wanted]

    def joined_columns(self) -> list[tuple[_Key, list[_Field]]]:
        """Per joined foreign key: the key and the target's fields (its primary key comes from the key)."""
        meta = self.queryset.model._meta
        joins: list[tuple[_Key, list[_Field]]] = []
        for name, names in self.joined.items():
            key = meta.get_field(name)
            if not isinstance(key, ForeignKey) or key not in self.columns():
                raise ValueError(
                    f"{meta.label}.{name} is joined but not a foreign key among the row's fields."
                )
            target = key.related_model._meta
            joins.append(
                (
                    key,
                    [
                        column
                        for column in target.concrete_fields
                        if column.name in names and not column.primary_key
                    ],
                )
            )
        return joins

    def expression(self) -> JSONRows:
        paths = [column.attname for column in self.columns()]
        for key, columns in self.joined_columns():
            paths.extend(f"{key.name}__{column.attname}" for column in columns)
        return JSONRows(self.queryset, paths)

    def attacher(self) -> _Attacher:
        """What attaching this relation's rows needs, worked out once per page (not once per row)."""
        return _Attacher(self)


class _Attacher:
    """Attaches one relation's rows to each parent of one page.

    Everything that does not depend on the parent is worked out once: the columns and how to read them, and
    the related model's queryset as the relation's manager starts from it (the default manager's, so with
    the tenant scope applied). Each parent's relation then holds that queryset narrowed to the parent by the
    manager itself, as Django's prefetch of a ``Prefetch`` queryset does (``prefetch_one_level``); a later
    ``.filter()`` on it still queries within the scope.
    """

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        self.attribute = rows.attribute
        columns = rows.columns()
        self.attnames = [column.attname for column in columns]
        self.width = len(self.attnames)
        joined = rows.joined_columns()
        self.readers = [_reader(column) for column in columns]
        self.readers += [_reader(column) for _key, targets in joined for column in targets]
        self.plain = all(reader is None for reader in self.readers)
        self.joins = [
            (key, [key.target_field.attname, *(column.attname for column in targets)])
            for key, targets in joined
        ]
        self.model = rows.queryset.model
        self.db = rows.queryset.db
        self.base: QuerySet[Model] | None = None
        self.reverse_fk: _Key | None = None
        self.cache_name = ""

    def _start(self, manager: object) -> QuerySet[Model]:
        # The manager's own ``get_queryset`` would scope the related model's rows again for every parent;
        # its parent class (the related model's default manager) gives the same unfiltered-by-parent start.
        base: QuerySet[Model] = super(type(manager), manager).get_queryset()  # type: ignore[misc, arg-type]
        if hasattr(manager, "prefetch_cache_name"):
            self.cache_name = manager.prefetch_cache_name
        else:
            self.reverse_fk = manager.field  # type: ignore[attr-defined]
            self.cache_name = manager.field.remote_field.cache_name  # type: ignore[attr-defined]
        self.base = base
        return base

    def attach(self, parent: Model) -> None:
        """Put the rows read for ``parent`` where a prefetch of the relation would have put them."""
        cells = parent.__dict__.pop(self.attribute)
        manager = getattr(parent, self.rows.relation)
        base = self.base if self.base is not None else self._start(manager)
        model, db, attnames, width = self.model, self.db, self.attnames, self.width
        reverse_fk = self.reverse_fk
        instances = []
        for row in cells or []:
            if self.plain:
                values = row
            else:
                values = [
                    reader(value) if reader is not None and value is not None else value
                    for reader, value in zip(self.readers, row, strict=True)
                ]
            instance = model.from_db(db, attnames, values[:width])
            if self.joins:
                rest = iter(values[width:])
                for key, target_attnames in self.joins:
                    target_values = [next(rest) for _ in target_attnames[1:]]
                    key_value = getattr(instance, key.attname)
                    if key_value is not None:
                        target = key.related_model.from_db(db, target_attnames, [key_value, *target_values])
                        key.set_cached_value(instance, target)
            if reverse_fk is not None:
                # As a prefetch does: each row knows its parent without a query.
                reverse_fk.set_cached_value(instance, parent)
            instances.append(instance)
        # What Django's own prefetch stores (django.db.models.query.prefetch_one_level): the relation's
        # queryset with its result already in place, which ``parent.<relation>.all()`` then returns.
        related = manager._apply_rel_filters(base)
        related._result_cache = instances
        related._prefetch_done = True
        parent.__dict__.setdefault("_prefetched_objects_cache", {})[self.cache_name] = related


class _RowsIterable(ModelIterable):  # type: ignore[type-arg]
    rows: tuple[Rows, ...] = ()

    def __iter__(self) -> Iterator[Model]:
        attachers = [rows.attacher() for rows in self.rows]
        for instance in super().__iter__():
            for attacher in attachers:
                attacher.attach(instance)
            yield instance


def with_rows(queryset: QuerySet[ModelT], *rows: Rows) -> QuerySet[ModelT]:
    """``queryset`` reading each of ``rows``' relations in its own query; every instance it yields holds them
    as a prefetch would. Composes with ``select_related``, ``prefetch_related`` (also as a ``Prefetch``'s
    queryset), pagination and further filters."""
    annotated = queryset.annotate(**{relation.attribute: relation.expression() for relation in rows})
    earlier = getattr(annotated._iterable_class, "rows", ())
    # The iterable is how a queryset turns rows into instances; ours attaches each relation's rows on the way.
    annotated._iterable_class = type("RowsIterable", (_RowsIterable,), {"rows": (*earlier, *rows)})
    return annotated


def hold_written(parent: Model, relation: str, instances: Sequence[Model]) -> None:
    """Put rows a service has just written for ``parent`` where a prefetch (or ``with_rows``) would, so that
    ``parent.<relation>.all()`` gives them without a query: the answer to a write, written from the rows in
    hand. ``instances`` must be all of the relation's rows, in the order the reads give them.

    The relation's queryset starts from the related model's base manager, as a related object's own
    manager does: it reads nothing here, and these rows are the parent's own, just written."""
    manager = getattr(parent, relation)
    if hasattr(manager, "prefetch_cache_name"):  # many-to-many
        cache_name = manager.prefetch_cache_name
    else:  # the reverse side of a foreign key
        cache_name = manager.field.remote_field.cache_name
    related = manager._apply_rel_filters(manager.model._base_manager.all())
    related._result_cache = list(instances)
    related._prefetch_done = True
    parent.__dict__.setdefault("_prefetched_objects_cache", {})[cache_name] = related
