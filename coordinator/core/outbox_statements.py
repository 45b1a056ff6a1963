"""The statements a notice and its mail run each time, as SQL written once: the outbox's claim
(compare-and-set) just before a message is handed to the mail server and its marking sent just after
(``notifications.deliver``), and whether people were told something already (``notify(once=...)``).

Compiled by the ORM each time (``filter(...).update(...)``, ``values_list``), they cost the task worker more
processor time than the rest of a small task's delivery. The statements are the ones the ORM wrote. The
outbox is sent outside any request (after the commit, or by the periodic sweep), by the message's id, so
unscoped by design; the people told are the ones the caller identified.
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.db import transaction

from coordinator.core.models import Notification, OutboundEmail

_CLAIM = (
    'UPDATE "{table}" SET "{status}" = %s, "{claimed_until}" = %s WHERE "{pk}" = %s AND "{status}" = %s '
    'AND ("{claimed_until}" IS NULL OR "{claimed_until}" < %s)'
)
_SENT = (
    'UPDATE "{table}" SET "{status}" = %s, "{sent_at}" = %s, "{attempts}" = "{attempts}" + 1, '
    '"{claimed_until}" = NULL, "{last_error}" = %s WHERE "{pk}" = %s'
)


_TOLD = 'SELECT "{recipient}" FROM "{table}" WHERE "{once_key}" = %s AND "{recipient}" IN ({people})'


@functools.lru_cache(maxsize=64)  # one statement per number of people told at once
def _told_sql(people: int) -> str:
    meta = Notification._meta
    names = {field.name: field.column for field in meta.concrete_fields}
    return _TOLD.format(**names, table=meta.db_table, people=", ".join(["%s"] * people))


def told_already(once: str, person_ids: list[int]) -> set[int]:
    """Which of ``person_ids`` have the notification named ``once`` already (in any programme)."""
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(_told_sql(len(person_ids)), [once, *person_ids])
        return {row[0] for row in cursor.fetchall()}


@functools.cache
def _statements() -> tuple[str, str]:
    meta = OutboundEmail._meta
    names = {field.name: field.column for field in meta.concrete_fields}
    names.update(table=meta.db_table, pk=meta.pk.column)  # type: ignore[union-attr]
    # Table and column names from the model's own metadata; every value is a parameter.
    return _CLAIM.format(**names), _SENT.format(**names)


def claim(pk: int, *, now: datetime, until: datetime) -> bool:
    """Claim a pending message whose claim is not held (or has lapsed) until ``until``; whether it was."""
    connection = transaction.get_connection()
    adapt = connection.ops.adapt_datetimefield_value
    parameters = [OutboundEmail.Status.SENDING, adapt(until), pk, OutboundEmail.Status.PENDING, adapt(now)]
    with connection.cursor() as cursor:
        cursor.execute(_statements()[0], parameters)
        return cursor.rowcount == 1


def mark_sent(pk: int, *, now: datetime) -> None:
    """Mark a claimed message sent at ``now``, its attempt counted and its claim and last error cleared."""
    connection = transaction.get_connection()
    parameters = [OutboundEmail.Status.SENT, connection.ops.adapt_datetimefield_value(now), "", pk]
    with connection.cursor() as cursor:
        cursor.execute(_statements()[1], parameters)
