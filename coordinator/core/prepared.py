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
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import AutoField, Expression, Field, Model, QuerySet, signals
from django.db.models.query import RelatedPopulator, get_related_populators
from django.db.models.sql.compiler import SQLCompiler

if TYPE_CHECKING:
    from coordinator.core.rows import Rows

ModelT = TypeVar("ModelT", bound=Model)
RowT = TypeVar("RowT", bound=tuple)  # type: ignore[type-arg]

_CACHE_ATTRIBUTE = "_samverkan_prepared_queries"
_ROWS_ATTRIBUTE = "_samverkan_prepared_rows"
_KEYED_ATTRIBUTE = "_samverkan_prepared_keyed"
_INSERT_ATTRIBUTE = "_samverkan_prepared_inserts"
_UPDATE_ATTRIBUTE = "_samverkan_prepared_updates"


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


setting_changed.connect(_settings_changed)


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
        adapted = [self._adapt(connection, value) for value in self.stand_ins]
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
        if sorted({n for _index, n in positions}) != list(range(len(self.stand_ins))):
            raise ValueError("Every stand-in value must reach the SQL as a parameter.")
        fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
        return _CompiledRows(sql, tuple(params), tuple(positions), compiler, compiler.get_converters(fields))

    def fetch(self, *values: int | date, using: str = "default") -> list[RowT]:
        connection = connections[using]
        cache: dict[int, _CompiledRows] = connection.__dict__.setdefault(_ROWS_ATTRIBUTE, {})
        compiled = cache.get(id(self))
        if compiled is None:
            compiled = cache[id(self)] = self._compile(connection)
        params: list[object] = list(compiled.params)
        for index, n in compiled.positions:
            value = self._adapt(connection, values[n])
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


# --- The insert of one new row --------------------------------------------------------------------------


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    fields: tuple[Field[object, object], ...]
    returning: tuple[Field[object, object], ...]
    returning_params: tuple[object, ...]


class PreparedInsert(Generic[ModelT]):
    """The ``INSERT`` of one new row of ``model``, its SQL written once per connection: ``insert(instance)``
    does what ``instance.save()`` does for a new row of a model without parent models, as Django 5.2's
    ``Model.save_base`` does it (the related objects' keys taken over, ``pre_save``, each field's
    ``pre_save`` (``auto_now_add``) and database value, the insert returning the primary key, the instance
    marked saved, ``post_save`` with ``created``), without building an insert query and compiling it.

    The SQL is what Django writes for that insert (``INSERT INTO t (columns) VALUES (%s, ...) RETURNING``
    the database-returned columns), so PostgreSQL keeps one prepared statement for it as for the ORM's. A
    model's own ``save()`` is not called: a caller whose model adds something there does it first (a
    ``DeepTenantModel``'s ``fill_programme``). A value that is an expression (``F()``, a database default)
    is refused: such an insert goes through ``save()``.
    """

    def __init__(self, model: type[ModelT]) -> None:
        meta = model._meta
        if meta.parents or meta.proxy:
            raise ValueError("A prepared insert writes one table: no parent models, no proxies.")
        self.model = model

    def _compile(self, connection: BaseDatabaseWrapper, rows: int = 1) -> _CompiledInsert:
        meta = self.model._meta
        # What Model._save_table inserts for a row without a primary key: its concrete fields but the
        # database-made key and generated columns.
        fields = tuple(
            field
            for field in meta.local_concrete_fields
            if field is not meta.auto_field and not field.generated
        )
        if any(getattr(field, "get_placeholder", None) is not None for field in fields):
            raise ValueError("A prepared insert writes plain values (no field with a placeholder of its own)")
        returning = tuple(meta.db_returning_fields)
        quote = connection.ops.quote_name
        placeholders = ["%s"] * len(fields)
        values = (
            f"VALUES ({', '.join(placeholders)})"
            if rows == 1
            else connection.ops.bulk_insert_sql(fields, [placeholders] * rows)  # type: ignore[list-item]
        )
        sql = (
            f"{connection.ops.insert_statement(on_conflict=None)} {quote(meta.db_table)} "
            f"({', '.join(quote(str(field.column)) for field in fields)}) {values}"
        )
        returning_params: tuple[object, ...] = ()
        if returning and connection.features.can_return_columns_from_insert:
            # Not in django-stubs, a backend's method since Django 3.0 (what SQLInsertCompiler calls).
            returning_sql, params = connection.ops.return_insert_columns(list(returning))  # type: ignore[attr-defined]
            if returning_sql:
                sql = f"{sql} {returning_sql}"
                returning_params = tuple(params)
        return _CompiledInsert(sql, fields, returning, returning_params)

    def compiled(self, using: str = "default", rows: int = 1) -> _CompiledInsert:
        connection = connections[using]
        cache: dict[tuple[int, int], _CompiledInsert] = connection.__dict__.setdefault(_INSERT_ATTRIBUTE, {})
        compiled = cache.get((id(self), rows))
        if compiled is None:
            compiled = cache[(id(self), rows)] = self._compile(connection, rows)
        return compiled

    def insert_rows(self, instances: list[ModelT], using: str | None = None) -> list[ModelT]:
        """What ``bulk_create(instances)`` does for new rows of the model, in one ``INSERT`` whose SQL is
        written once per connection and number of rows: no signals and no ``save()``, each field's
        ``pre_save`` and database value, the returned keys set on the instances, which are marked saved.
        More rows than the database takes in one statement, or a database that returns no keys from a
        multi-row insert, go through ``bulk_create`` itself."""
        if not instances:
            return instances
        using = using or router.db_for_write(self.model, instance=instances[0])
        connection = connections[using]
        compiled = self.compiled(using)
        if (
            len(instances) > max(connection.ops.bulk_batch_size(list(compiled.fields), instances), 1)
            or not connection.features.can_return_rows_from_bulk_insert
        ):
            return self.model._base_manager.db_manager(using).bulk_create(instances)
        for instance in instances:
            if type(instance) is not self.model or instance.pk is not None or not instance._state.adding:
                raise ValueError(f"A prepared insert of {self.model.__name__} writes new rows of its own.")
            instance._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
        compiled = self.compiled(using, len(instances))
        with transaction.atomic(using=using, savepoint=False):
            values = [
                self._value(field, instance, connection)
                for instance in instances
                for field in compiled.fields
            ]
            with connection.cursor() as cursor:
                cursor.execute(compiled.sql, values)  # type: ignore[arg-type]
                returned = (
                    connection.ops.fetch_returned_insert_rows(cursor)  # type: ignore[attr-defined]
                    if compiled.returning
                    else []
                )
            for instance, row in zip(instances, returned, strict=True):
                self._set_returned(instance, row, compiled, connection)
        for instance in instances:
            instance._state.adding = False
            instance._state.db = using
        return instances

    @staticmethod
    def _value(field: Field[object, object], instance: Model, connection: BaseDatabaseWrapper) -> object:
        value = field.pre_save(instance, add=True)
        if hasattr(value, "resolve_expression"):
            raise ValueError(f"{field.name}: an expression is inserted through save().")
        return field.get_db_prep_save(value, connection=connection)

    def _set_returned(
        self,
        instance: Model,
        row: Sequence[object],
        compiled: _CompiledInsert,
        connection: BaseDatabaseWrapper,
    ) -> None:
        # What Model._save_table and bulk_create do with the returned columns (their converters included).
        for value, field in zip(row, compiled.returning, strict=False):
            column = field.get_col(self.model._meta.db_table)
            converters = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]
            for converter in converters:
                value = converter(value, column, connection)
            setattr(instance, field.attname, value)

    def insert(self, instance: ModelT, using: str | None = None) -> ModelT:
        if not isinstance(instance, self.model) or instance._meta.concrete_model is not self.model:
            raise TypeError(f"A prepared insert of {self.model.__name__} saves only its own rows.")
        if instance.pk is not None or not instance._state.adding:
            raise ValueError("A prepared insert saves a new row without a primary key.")
        instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
        using = using or router.db_for_write(self.model, instance=instance)
        compiled = self.compiled(using)
        connection = connections[using]
        origin = type(instance)
        signals.pre_save.send(sender=origin, instance=instance, raw=False, using=using, update_fields=None)
        with transaction.mark_for_rollback_on_error(using):
            values = [self._value(field, instance, connection) for field in compiled.fields]
            with connection.cursor() as cursor:
                cursor.execute(compiled.sql, values)  # type: ignore[arg-type]
                if compiled.returning and connection.features.can_return_columns_from_insert:
                    returned = connection.ops.fetch_returned_insert_columns(  # type: ignore[attr-defined]
                        cursor, compiled.returning_params
                    )
                elif compiled.returning and isinstance(compiled.returning[0], AutoField):
                    returned = [
                        connection.ops.last_insert_id(
                            cursor, self.model._meta.db_table, str(compiled.returning[0].column)
                        )
                    ]
                else:
                    returned = []
            self._set_returned(instance, returned, compiled, connection)
        instance._state.db = using
        instance._state.adding = False
        signals.post_save.send(
            sender=origin, instance=instance, created=True, update_fields=None, raw=False, using=using
        )
        return instance


# --- An update of rows by a fixed query -----------------------------------------------------------------


@dataclass(frozen=True)
class _CompiledUpdate:
    sql: str
    params: tuple[object, ...]
    positions: tuple[tuple[int, int], ...]  # (parameter, stand-in) pairs


class PreparedUpdate(Generic[ModelT]):
    """An ``UPDATE`` whose SQL is written once per connection: ``build(*values)`` gives the queryset and
    the ``update()`` keyword arguments for one set of values (integers), ``stand_ins`` integers that no real
    call uses, each reaching the SQL as parameters of its own. ``update(*values)`` runs what
    ``queryset.update(**changes)`` runs and returns the number of rows it changed, without building the
    update query and compiling it again. An update Django would split into several statements (a parent
    model's columns) is refused. Like ``PreparedRows``, the queryset is compiled outside the tenant scope:
    it must name its rows itself (by key), and each use is listed in the architecture test's escape hatches.
    """

    def __init__(
        self, build: Callable[..., tuple[QuerySet[ModelT], dict[str, object]]], stand_ins: tuple[int, ...]
    ) -> None:
        self.build = build
        self.stand_ins = stand_ins

    def _compile(self, connection: BaseDatabaseWrapper) -> _CompiledUpdate:
        from django.db.models.sql import UpdateQuery

        from coordinator.core.tenancy import unscoped

        with unscoped():
            queryset, changes = self.build(*self.stand_ins)
            query: UpdateQuery = queryset.query.chain(UpdateQuery)  # type: ignore[assignment]
            query.add_update_values(changes)
            if query.get_related_updates() or query.order_by:
                raise ValueError("A prepared update writes one table, in no order.")
            query.clear_select_clause()
            sql, params = query.get_compiler(connection=connection).as_sql()
        positions = []
        for index, param in enumerate(params):
            matches = [
                n for n, value in enumerate(self.stand_ins) if isinstance(param, int) and param == value
            ]
            if matches:
                positions.append((index, matches[0]))
        if sorted({n for _index, n in positions}) != list(range(len(self.stand_ins))):
            raise ValueError("Every stand-in value must reach the SQL as a parameter.")
        return _CompiledUpdate(sql, tuple(params), tuple(positions))

    def update(self, *values: int, using: str = "default") -> int:
        connection = connections[using]
        cache: dict[int, _CompiledUpdate] = connection.__dict__.setdefault(_UPDATE_ATTRIBUTE, {})
        compiled = cache.get(id(self))
        if compiled is None:
            compiled = cache[id(self)] = self._compile(connection)
        params: list[object] = list(compiled.params)
        for index, n in compiled.positions:
            original = compiled.params[index]
            # The driver's wrapper (Int8) for a big integer column, as Django passed it.
            params[index] = values[n] if type(original) is int else type(original)(values[n])  # type: ignore[call-arg]
        # What QuerySet.update() does around its statement.
        with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)  # type: ignore[arg-type]
            return cursor.rowcount if cursor.rowcount is not None else 0
