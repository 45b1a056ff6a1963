"""Statement counts that depend on the database: on PostgreSQL a notice's mail and notification are
written in one statement (``coordinator.core.outbox_statements.insert_told``), elsewhere in one each."""

from __future__ import annotations

from django.db import connection


def notice_writes(notices: int = 1) -> int:
    """The statements writing ``notices`` calls of ``notify`` (each with mail): one each on PostgreSQL,
    two each elsewhere."""
    return notices if connection.vendor == "postgresql" else 2 * notices
