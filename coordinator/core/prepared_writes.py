"""Writes whose SQL is written once per database connection, for the inserts and updates every write
request makes (see ``coordinator.core.prepared`` for the reads).

Building an insert or update query and compiling it costs more processor time than the database takes to
run it. ``PreparedInsert`` writes a new row as ``save()`` (or ``bulk_create``) would, ``PreparedUpdate``
runs a fixed ``update()`` with new values; both go through Django's cursor (query logging, execute
wrappers and errors as for any other statement).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import AutoField, Field, Model, QuerySet, signals
from django.db.models.expressions import Col

ModelT = TypeVar("ModelT", bound=Model)

_INSERT_ATTRIBUTE = "_samverkan_prepared_inserts"
_UPDATE_ATTRIBUTE = "_samverkan_prepared_updates"


# --- The insert of one new row --------------------------------------------------------------------------


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    fields: tuple[Field[object, object], ...]
    returning: tuple[Field[object, object], ...]
    returning_params: tuple[object, ...]
    # Each returned column's attribute, column and converters (what Model._save_table applies to it).
    returned: tuple[tuple[str, Col, tuple[Callable[..., object], ...]], ...]


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
        returned = []
        for field in returning:
            column = field.get_col(meta.db_table)
            converters = (*connection.ops.get_db_converters(column), *column.get_db_converters(connection))
            returned.append((field.attname, column, converters))
        return _CompiledInsert(sql, fields, returning, returning_params, tuple(returned))

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

    @staticmethod
    def _set_returned(
        instance: Model,
        row: Sequence[object],
        compiled: _CompiledInsert,
        connection: BaseDatabaseWrapper,
    ) -> None:
        # What Model._save_table and bulk_create do with the returned columns (their converters included).
        for value, (attname, column, converters) in zip(row, compiled.returned, strict=False):
            for converter in converters:
                value = converter(value, column, connection)
            setattr(instance, attname, value)

    def insert(self, instance: ModelT, using: str | None = None) -> ModelT:
        if not isinstance(instance, self.model) or instance._meta.concrete_model is not self.model:
            raise TypeError(f"A prepared insert of {self.model.__name__} saves only its own rows.")
        if (
            instance.pk is not None and self.model._meta.auto_field is not None
        ) or not instance._state.adding:
            # A key the database makes is left to it; a model without one (a UUID key with a default, as
            # the task queue's rows) writes the key the row carries, as save() inserts it.
            raise ValueError("A prepared insert saves a new row without a primary key the database makes.")
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
