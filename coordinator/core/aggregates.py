"""Aggregates the lists need that Django has no portable form of (before Django 6's ``StringAgg``)."""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Aggregate, TextField
from django.db.models.sql.compiler import SQLCompiler


class JoinedText(Aggregate):
    """The group's text values joined with commas (``STRING_AGG`` on PostgreSQL, ``GROUP_CONCAT`` on SQLite),
    ``None`` for a group with none: a to-many relation's few short codes read in the parent's own query
    instead of a prefetch query of their own."""

    function = "STRING_AGG"
    template = "%(function)s(%(distinct)s%(expressions)s, ',')"
    output_field = TextField()

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: object
    ) -> tuple[str, tuple[str | int, ...]]:
        sql, params = super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)
        return sql, tuple(params)


def split_joined(value: str | None) -> list[str]:
    """The sorted values of a ``JoinedText``."""
    return sorted(part for part in (value or "").split(",") if part)
