"""A fixed query compiled to SQL once per database connection, for the reads every request makes.

Turning a queryset into SQL (joins, columns, ordering) costs more processor time than the database takes to
answer a small query by key, and the API reads the same two queries on every call (the token with its user
and person; the person's memberships with their roles and programmes). ``PreparedQuery`` compiles its
queryset once per connection, with a stand-in for the one value that changes, and afterwards only runs
the SQL with that value and builds the instances from the rows as the queryset would (its
``select_related`` objects and annotations included).

Nothing is cached but the SQL text: every call reads the database, so a revoked token or an ended
membership counts on the very next request. The query goes through Django's cursor (query logging,
execute wrappers and errors as for any other query).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from django.core.signals import setting_changed
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression, Model, QuerySet
from django.db.models.query import RelatedPopulator, get_related_populators
from django.db.models.sql.compiler import SQLCompiler

if TYPE_CHECKING:
    from coordinator.core.rows import Rows

ModelT = TypeVar("ModelT", bound=Model)
RowT = TypeVar("RowT", bound=tuple)  # type: ignore[type-arg]
ResultT = TypeVar("ResultT")  # a model instance or a values_list() row

_CACHE_ATTRIBUTE = "_samverkan_prepared_queries"
_ROWS_ATTRIBUTE = "_samverkan_prepared_rows"
_KEYED_ATTRIBUTE = "_samverkan_prepared_keyed"
_SCOPED_ATTRIBUTE = "_samverkan_prepared_scoped"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[object, ...]
    position: int  # of the stand-in value among the parameters
    compiler: SQLCompiler
    model: type[Model]
    init_list: list[str]
    start: int
    end: int
    # What turns a row into instances, worked out once as well (neither holds anything of a row).
    converters: dict[int, tuple[list[Callable[..., object]], Expression]]
    populators: list[RelatedPopulator]
    annotations: list[tuple[str, int]]
    # The nested rows of ``coordinator.core.rows.with_rows``, attached to each instance as its iterable does.
    rows: tuple[Rows, ...] = ()


def _compile_instances(
    queryset: QuerySet[Model], stand_in: int | str, connection: BaseDatabaseWrapper
) -> _Compiled:
    compiler = queryset.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    positions = [index for index, param in enumerate(params) if param == stand_in]
    if len(positions) != 1:
        raise ValueError(f"The stand-in value must be one parameter of the query, not {len(positions)}.")
    if compiler.klass_info is None or compiler.has_extra_select:
        raise ValueError("A prepared query reads model instances without extra columns.")
    select_fields = compiler.klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    init_list = [column[0].target.attname for column in compiler.select[start:end]]
    return _Compiled(
        sql,
        tuple(params),
        positions[0],
        compiler,
        compiler.klass_info["model"],
        init_list,
        start,
        end,
        compiler.get_converters([column[0] for column in compiler.select]),
        # django-stubs describe a later Django's signature (with fetch_mode); 5.2's takes three.
        get_related_populators(compiler.klass_info, compiler.select, connection.alias),  # type: ignore[call-arg]
        list(compiler.annotation_col_map.items()),
        tuple(getattr(queryset._iterable_class, "rows", ())),
    )


def _run(compiled: _Compiled, value: int | str, using: str) -> list[ModelT]:
    connection = connections[using]
    params: list[object] = list(compiled.params)
    params[compiled.position] = value
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)  # type: ignore[arg-type]
        rows = cursor.fetchall()
    # What django.db.models.query.ModelIterable does with the rows of a compiled query.
    if compiled.converters:
        rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
    return _instances(compiled, rows, using)


def _instances(compiled: _Compiled, rows: Sequence[Sequence[object]], using: str) -> list[ModelT]:
    model: type[ModelT] = compiled.model  # type: ignore[assignment]
    instances = []
    for row in rows:
        instance = model.from_db(using, compiled.init_list, row[compiled.start : compiled.end])
        for populator in compiled.populators:
            populator.populate(row, instance)
        for name, position in compiled.annotations:
            setattr(instance, name, row[position])
        instances.append(instance)
    if compiled.rows:
        attachers = [relation.attacher() for relation in compiled.rows]
        for instance in instances:
            for attacher in attachers:
                attacher.attach(instance)
    return instances


class PreparedQuery(Generic[ModelT]):
    """``build(value)`` is the queryset for one value (a key, a person's id); ``stand_in`` a value of the
    same type that no real call uses, which must reach the SQL as exactly one parameter. ``fetch(value)``
    returns what ``list(build(value))`` would, without compiling the queryset again."""

    def __init__(self, build: Callable[[int | str], QuerySet[ModelT]], stand_in: int | str) -> None:
        self.build = build
        self.stand_in = stand_in

    def _compile(self, connection: BaseDatabaseWrapper) -> _Compiled:
        return _compile_instances(self.build(self.stand_in), self.stand_in, connection)

    def fetch(self, value: int | str, using: str = "default") -> list[ModelT]:
        connection = connections[using]
        # Kept on the connection object: one per thread and database, as Django keeps connections, and
        # gone with it.
        cache: dict[int, _Compiled] = connection.__dict__.setdefault(_CACHE_ATTRIBUTE, {})
        compiled = cache.get(id(self))
        if compiled is None:
            compiled = cache[id(self)] = self._compile(connection)
        return _run(compiled, value, using)


class KeyedPreparedQuery(Generic[ModelT]):
    """A ``PreparedQuery`` whose queryset depends on more than its one value (the reader's rights, the
    programme scope): ``fetch(key, build, value)`` compiles ``build(stand_in)`` once per connection and
    ``key``, which must hold everything ``build`` reads but the value (``coordinator.core.shapes.shape_key``
    for a reader), and afterwards only runs its SQL with ``value``. Its answer is what ``list(build(value))``
    would be (nested ``with_rows`` rows included), or ``None`` when the SQL may not be kept for the key
    (building the queryset ran a query, a parameter is a date or a time, or it does not compile to one
    query with the stand-in as one parameter): the caller then reads as usual, and the key is remembered
    as refused so that it is not built twice again.

    Nothing but the SQL text is kept: every call reads the database. At most ``max_keys`` keys per
    connection, the least recently used going first."""

    def __init__(self, stand_in: int | str, max_keys: int = 256) -> None:
        self.stand_in = stand_in
        self.max_keys = max_keys

    def _entries(self, using: str) -> OrderedDict[Hashable, _Compiled | None]:
        caches: dict[int, OrderedDict[Hashable, _Compiled | None]] = connections[using].__dict__.setdefault(
            _KEYED_ATTRIBUTE, {}
        )
        return caches.setdefault(id(self), OrderedDict())

    def _compile(
        self, build: Callable[[int | str], QuerySet[ModelT]], connection: BaseDatabaseWrapper
    ) -> _Compiled | None:
        from coordinator.core.shapes import _TEMPORAL, _holds_time

        built: list[str] = []

        def count(execute: Callable[..., object], sql: str, *args: object) -> object:
            built.append(sql)
            return execute(sql, *args)

        with connection.execute_wrapper(count):
            queryset = build(self.stand_in)
        if built or queryset.db != connection.alias or _holds_time(queryset.query):
            return None
        try:
            compiled = _compile_instances(queryset, self.stand_in, connection)
        except Exception:  # an empty filter (EmptyResultSet), the stand-in twice and the like
            return None
        if any(isinstance(param, _TEMPORAL) for param in compiled.params):
            return None
        return compiled

    def fetch(
        self,
        key: Hashable,
        build: Callable[[int | str], QuerySet[ModelT]],
        value: int | str,
        using: str = "default",
    ) -> list[ModelT] | None:
        entries = self._entries(using)
        if key in entries:
            entries.move_to_end(key)
            compiled = entries[key]
        else:
            compiled = entries[key] = self._compile(build, connections[using])
            while len(entries) > self.max_keys:
                entries.popitem(last=False)
        if compiled is None:
            return None
        return _run(compiled, value, using)

    def compiled_keys(self, using: str = "default") -> int:
        """How many keys this connection holds compiled (for the tests and the benchmarks)."""
        return sum(1 for compiled in self._entries(using).values() if compiled is not None)


def _settings_changed(**kwargs: object) -> None:
    # A setting may change what a key's queryset compiles to (the tests override settings).
    for connection in connections.all(initialized_only=True):
        connection.__dict__.pop(_KEYED_ATTRIBUTE, None)
        connection.__dict__.pop(_SCOPED_ATTRIBUTE, None)


setting_changed.connect(_settings_changed)


def _stand_in_positions(params: Sequence[object], adapted: list[object]) -> tuple[tuple[int, int], ...]:
    """(parameter, stand-in) pairs: where each stand-in value reached the compiled SQL's parameters."""
    positions = []
    for index, param in enumerate(params):
        # An integer may reach the parameters wrapped (psycopg's ``Int8`` for a big integer column).
        matches = [
            n
            for n, value in enumerate(adapted)
            if param == value
            and (isinstance(param, int) if isinstance(value, int) else type(param) is type(value))
        ]
        if matches:
            positions.append((index, matches[0]))
    if sorted({n for _index, n in positions}) != list(range(len(adapted))):
        raise ValueError("Every stand-in value must reach the SQL as a parameter.")
    return tuple(positions)


def _run_rows(
    connection: BaseDatabaseWrapper, compiled: _CompiledRows, values: tuple[int | date | str, ...]
) -> list[tuple[object, ...]]:
    """The compiled SQL run with ``values`` in the stand-ins' places, its rows converted as the queryset's."""
    params: list[object] = list(compiled.params)
    for index, n in compiled.positions:
        value = PreparedRows._adapt(connection, values[n])
        original = compiled.params[index]
        if isinstance(value, int) and isinstance(original, int) and type(original) is not int:
            value = type(original)(value)  # the driver's wrapper (Int8), as Django passed it
        params[index] = value
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)  # type: ignore[arg-type]
        rows = cursor.fetchall()
    if compiled.converters:
        rows = [tuple(row) for row in compiled.compiler.apply_converters(rows, compiled.converters)]
    return rows  # type: ignore[no-any-return]


# --- Rows of a values query with several values -----------------------------------------------------------


@dataclass(frozen=True)
class _CompiledRows:
    sql: str
    params: tuple[object, ...]
    positions: tuple[tuple[int, int], ...]  # (parameter, stand-in) pairs
    compiler: SQLCompiler
    converters: dict[int, tuple[list[Callable[..., object]], Expression]]


class PreparedRows(Generic[ModelT, RowT]):
    """A ``values_list()`` query (``union()`` of such queries included) compiled to SQL once per connection.

    ``build(*values)`` is the queryset for one set of values; ``stand_ins`` are values of the same types
    that no real call uses, each reaching the SQL as parameters of its own (as often as the query names it).
    ``fetch(*values)`` returns the rows ``list(build(*values))`` would, as tuples, without compiling again.

    The queryset is compiled outside the tenant scope (the scope's filter would freeze the first reader's
    programmes into the SQL): every branch must name its programme itself, and each use is listed in the
    architecture test's escape hatches with its reason. Datetimes are passed as the database expects them
    (``adapt_datetimefield_value``, ``adapt_datefield_value``), as Django passes them.
    """

    def __init__(
        self, build: Callable[..., QuerySet[ModelT, RowT]], stand_ins: tuple[int | date, ...]
    ) -> None:
        self.build = build
        self.stand_ins = stand_ins

    @staticmethod
    def _adapt(connection: BaseDatabaseWrapper, value: object) -> object:
        if isinstance(value, datetime):
            return connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, date):
            return connection.ops.adapt_datefield_value(value)
        return value

    def _compile(self, connection: BaseDatabaseWrapper) -> _CompiledRows:
        from coordinator.core.tenancy import unscoped

        with unscoped():
            queryset = self.build(*self.stand_ins)
            compiler = queryset.query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
        positions = _stand_in_positions(params, [self._adapt(connection, value) for value in self.stand_ins])
        fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
        return _CompiledRows(sql, tuple(params), positions, compiler, compiler.get_converters(fields))

    def fetch(self, *values: int | date, using: str = "default") -> list[RowT]:
        connection = connections[using]
        cache: dict[int, _CompiledRows] = connection.__dict__.setdefault(_ROWS_ATTRIBUTE, {})
        compiled = cache.get(id(self))
        if compiled is None:
            compiled = cache[id(self)] = self._compile(connection)
        return _run_rows(connection, compiled, values)  # type: ignore[return-value]


# --- A person's reads in their own scope, with several values -------------------------------------------


@dataclass(frozen=True)
class _CompiledScoped(_CompiledRows):
    # For model instances (``None``: the rows of a ``values_list()``), as ``_Compiled`` holds them.
    instances: _Compiled | None


class ScopedPreparedQuery(Generic[ModelT, ResultT]):
    """A queryset of a tenant model read on every request in the reader's own programme scope (the personal
    feed's reads), compiled to SQL once per connection and active scope.

    ``build(*values)`` is the queryset for one set of values (a person's key, a date or a moment from which
    rows count, a text such as a calendar source); ``stand_ins`` are values of the same types that no real
    call uses, each reaching the SQL as parameters of its own (as often as the query names it): a text
    stand-in must reach the SQL as itself (an exact match, not a pattern built from it such as
    ``startswith``'s), else the query is refused. Every value, a text's quotes, ``%`` and backslashes
    included, is passed to the database as a parameter, never written into the SQL. ``fetch(*values)``
    returns what ``list(build(*values))`` would: model instances (``select_related`` objects and
    annotations included) or a ``values_list()``'s tuples, without building or compiling the queryset
    again.

    The queryset is built and compiled inside the active scope, so its SQL names the scope's programmes as
    the scoped managers wrote them, and it is kept under that scope: another scope compiles its own. Without
    an active scope (or with the scope lifted) the queryset is built and read as usual, as it is when the
    scope filters out everything (no SQL to keep). At most ``max_keys`` scopes per connection, the least
    recently used going first. Nothing but the SQL text is kept: every call reads the database."""

    def __init__(
        self,
        build: Callable[..., QuerySet[ModelT, ResultT]],
        stand_ins: tuple[int | date | str, ...],
        max_keys: int = 256,
    ) -> None:
        self.build = build
        self.stand_ins = stand_ins
        self.max_keys = max_keys

    def _entries(self, using: str) -> OrderedDict[frozenset[int], _CompiledScoped | None]:
        caches: dict[int, OrderedDict[frozenset[int], _CompiledScoped | None]] = connections[
            using
        ].__dict__.setdefault(_SCOPED_ATTRIBUTE, {})
        return caches.setdefault(id(self), OrderedDict())

    def _compile(self, connection: BaseDatabaseWrapper) -> _CompiledScoped | None:
        from django.core.exceptions import EmptyResultSet
        from django.db.models.query import ModelIterable, ValuesListIterable

        queryset = self.build(*self.stand_ins)
        if getattr(queryset, "_prefetch_related_lookups", ()):
            raise ValueError("A scoped prepared query reads no prefetched relations.")
        kind = queryset._iterable_class
        if kind is not ModelIterable and kind is not ValuesListIterable:
            raise ValueError("A scoped prepared query reads model instances or a values_list()'s tuples.")
        compiler = queryset.query.get_compiler(connection=connection)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # the scope or a filter leaves nothing to read: no SQL to keep
            return None
        positions = _stand_in_positions(
            params, [PreparedRows._adapt(connection, value) for value in self.stand_ins]
        )
        instances = None
        if kind is ModelIterable:
            if compiler.klass_info is None or compiler.has_extra_select:
                raise ValueError("A prepared query reads model instances without extra columns.")
            select_fields = compiler.klass_info["select_fields"]
            start, end = select_fields[0], select_fields[-1] + 1
            instances = _Compiled(
                sql,
                tuple(params),
                -1,
                compiler,
                compiler.klass_info["model"],
                [column[0].target.attname for column in compiler.select[start:end]],
                start,
                end,
                compiler.get_converters([column[0] for column in compiler.select]),
                get_related_populators(compiler.klass_info, compiler.select, connection.alias),  # type: ignore[call-arg]
                list(compiler.annotation_col_map.items()),
            )
            converters = instances.converters
        else:
            fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
            converters = compiler.get_converters(fields)
        return _CompiledScoped(sql, tuple(params), positions, compiler, converters, instances)

    def fetch(self, *values: int | date | str, using: str = "default") -> list[ResultT]:
        from coordinator.core.tenancy import active_programme_ids

        scope = active_programme_ids()
        if scope is None:
            return list(self.build(*values))
        entries = self._entries(using)
        connection = connections[using]
        if scope in entries:
            entries.move_to_end(scope)
            compiled = entries[scope]
        else:
            compiled = entries[scope] = self._compile(connection)
            while len(entries) > self.max_keys:
                entries.popitem(last=False)
        if compiled is None:
            return list(self.build(*values))
        rows = _run_rows(connection, compiled, values)
        if compiled.instances is None:
            return rows  # type: ignore[return-value]  # a values_list()'s tuples
        return _instances(compiled.instances, rows, using)
