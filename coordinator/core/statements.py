"""Prepared statements that outlive a change of the schema (docs/deployment.md "Prepared statements").

With server-side binding psycopg prepares the SQL a connection runs often. When a migration then changes
the type of a column such a statement returns (a longer ``max_length``, a wider number), PostgreSQL refuses
to run it again ("cached plan must not change result type") and psycopg keeps it: every later run of that
query on that connection would fail until the connection is closed. Inside a transaction the rollback that
follows the error releases the connection's statements (psycopg does so on every rollback); outside one
(autocommit, most reads) nothing would. So each PostgreSQL connection gets an execute wrapper that, on that
error outside a transaction, releases the connection's statements and runs the query once more: the failed
run did nothing, so running it again is safe, and it is then planned afresh.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper

# Where PostgreSQL raises the error (its message may be translated; the function's name is not).
_REVALIDATION = "RevalidateCachedQuery"


def _changed_result_type(error: NotSupportedError) -> bool:
    diagnostics = getattr(error.__cause__, "diag", None)
    return getattr(diagnostics, "source_function", None) == _REVALIDATION


Execute = Callable[[str, object, bool, dict[str, object]], object]


def replan_after_schema_change(
    execute: Execute, sql: str, params: object, many: bool, context: dict[str, object]
) -> object:
    try:
        return execute(sql, params, many, context)
    except NotSupportedError as error:
        connection = context["connection"]
        if (
            not _changed_result_type(error)
            or not isinstance(connection, BaseDatabaseWrapper)
            or connection.in_atomic_block
            or not connection.get_autocommit()
        ):
            raise  # in a transaction: its rollback releases the statements
        # psycopg forgets its own statements when it sees this command succeed.
        connection.connection.execute("DEALLOCATE ALL")
        return execute(sql, params, many, context)


def install(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    """``connection_created`` receiver: wraps each PostgreSQL connection that prepares statements."""
    if (
        connection.vendor == "postgresql"
        and connection.settings_dict["OPTIONS"].get("server_side_binding") is True
        and replan_after_schema_change not in connection.execute_wrappers
    ):
        # First in the list: the outermost wrapper, around any a caller adds for a while.
        connection.execute_wrappers.insert(0, replan_after_schema_change)
