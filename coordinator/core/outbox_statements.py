"""The statements a notice and its mail run each time, as SQL written once: the outbox's claim
(compare-and-set) just before a message is handed to the mail server and its marking sent just after
(``notifications.deliver``); whether people were told something already (``notify(once=...)``) and whether
they want its mail, read together; and the notifications and their mail inserted, one statement per table
for all the recipients of a notice.

Compiled by the ORM each time (``filter(...).update(...)``, ``values_list``), they cost the task worker more
processor time than the rest of a small task's delivery. The statements are the ones the ORM wrote. The
outbox is sent outside any request (after the commit, or by the periodic sweep), by the message's id, so
unscoped by design; the people told are the ones the caller identified.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Model

from coordinator.core.models import Notification, NotificationPreference, OutboundEmail
from coordinator.core.prepared_writes import PreparedInsert

_CLAIM = (
    'UPDATE "{table}" SET "{status}" = %s, "{claimed_until}" = %s WHERE "{pk}" = %s AND "{status}" = %s '
    'AND ("{claimed_until}" IS NULL OR "{claimed_until}" < %s)'
)
_SENT = (
    'UPDATE "{table}" SET "{status}" = %s, "{sent_at}" = %s, "{attempts}" = "{attempts}" + 1, '
    '"{claimed_until}" = NULL, "{last_error}" = %s WHERE "{pk}" = %s'
)
# The two above in one statement, for two messages sent one after the other: the first marked sent (as
# _SENT), the next claimed (as _CLAIM); RETURNING tells whether the claim was had.
_SENT_AND_CLAIM = (
    'UPDATE "{table}" SET '
    '"{status}" = CASE WHEN "{pk}" = %s THEN %s ELSE %s END, '
    '"{sent_at}" = CASE WHEN "{pk}" = %s THEN %s ELSE "{sent_at}" END, '
    '"{attempts}" = CASE WHEN "{pk}" = %s THEN "{attempts}" + 1 ELSE "{attempts}" END, '
    '"{claimed_until}" = CASE WHEN "{pk}" = %s THEN NULL ELSE %s END, '
    '"{last_error}" = CASE WHEN "{pk}" = %s THEN %s ELSE "{last_error}" END '
    'WHERE "{pk}" = %s OR ("{pk}" = %s AND "{status}" = %s '
    'AND ("{claimed_until}" IS NULL OR "{claimed_until}" < %s)) RETURNING "{pk}"'
)


# A told person's row has no preference (NULL); a preference row always has one (the column is NOT NULL).
_TOLD = 'SELECT "{recipient}", NULL FROM "{table}" WHERE "{once_key}" = %s AND "{recipient}" IN ({people})'
_WANTS = (
    'SELECT "{person}", "{email_enabled}" FROM "{table}" WHERE "{kind}" = %s AND "{person}" IN ({people})'
)


@functools.lru_cache(maxsize=128)  # one statement per number of people and the parts asked for
def _recipients_sql(people: int, told: bool, wants: bool) -> str:
    parts = []
    placeholders = ", ".join(["%s"] * people)
    for asked, template, meta in (
        (told, _TOLD, Notification._meta),
        (wants, _WANTS, NotificationPreference._meta),
    ):
        if asked:
            names = {field.name: field.column for field in meta.concrete_fields}
            parts.append(template.format(**names, table=meta.db_table, people=placeholders))
    return " UNION ALL ".join(parts)


def told_and_wanted(
    person_ids: Sequence[int], *, once: str = "", kind: str | None = None
) -> tuple[set[int], dict[int, bool]]:
    """In one statement: which of ``person_ids`` have the notification named ``once`` already (in any
    programme; not asked without ``once``), and the mail preference each has set for ``kind`` (not asked
    without ``kind``). Nothing is read when neither is asked."""
    told: set[int] = set()
    wanted: dict[int, bool] = {}
    if not person_ids or not (once or kind):
        return told, wanted
    parameters: list[object] = []
    if once:
        parameters += [once, *person_ids]
    if kind:
        parameters += [kind, *person_ids]
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(_recipients_sql(len(person_ids), bool(once), bool(kind)), parameters)
        for person_id, email_enabled in cursor.fetchall():
            if email_enabled is None:
                told.add(person_id)
            else:
                wanted[person_id] = bool(email_enabled)
    return told, wanted


# --- Inserts -------------------------------------------------------------------------------------------

_INSERTS: dict[type[Model], PreparedInsert[Model]] = {}


def insert(objects: Sequence[Model]) -> None:
    """Insert new rows of one model in one statement and set their primary keys, as ``bulk_create`` would
    (no ``save()``, no signals), with the SQL written once per connection and number of rows
    (``PreparedInsert.insert_rows``): compiling the insert cost the task worker more than the database's
    work."""
    if not objects:
        return
    _prepared_insert(type(objects[0])).insert_rows(list(objects))


def _prepared_insert(model: type[Model]) -> PreparedInsert[Model]:
    prepared = _INSERTS.get(model)
    if prepared is None:
        prepared = _INSERTS[model] = PreparedInsert(model)
    return prepared


# --- A notice and its mail in one statement ------------------------------------------------------------

# At most this many mails in one statement: each notice finds its mail's id among the statement's own new
# mail rows by its recipient (a scan of them per notice); a larger notice takes the two inserts.
TOLD_WITH_MAIL_MAX = 50
_MAIL_ROWS = "told_mail"


def insert_told(notifications: Sequence[Notification], mail: Mapping[int, OutboundEmail]) -> None:
    """Insert new notifications and the mail of those mailed (``mail``: by the recipient's id; a person is
    told once per call), each notification naming its mail's id: what ``insert(mail)`` then, with each
    notification's ``email`` set, ``insert(notifications)`` write, row for row.

    On PostgreSQL in one statement: the mail inserted in a ``WITH`` whose returned rows (id, recipient)
    give each notification its mail's id, the notifications inserted in the same statement (atomic: a
    notification the database refuses, ``once``, takes its mail with it); the SQL written once per
    connection and number of rows. Elsewhere, and for more than ``TOLD_WITH_MAIL_MAX`` mails, the two
    inserts."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql" or not mail or len(mail) > TOLD_WITH_MAIL_MAX or not notifications:
        insert(list(mail.values()))
        for notification in notifications:
            outbound = mail.get(notification.recipient_id)
            if outbound is not None:
                notification.email = outbound
        insert(list(notifications))
        return
    mails = list(mail.values())
    notices = list(notifications)
    mail_insert = _prepared_insert(OutboundEmail)
    notice_insert = _prepared_insert(Notification)
    mail_compiled = mail_insert.compiled(connection.alias)
    notice_compiled = notice_insert.compiled(connection.alias)
    for instance in [*mails, *notices]:
        if instance.pk is not None or not instance._state.adding:
            raise ValueError("insert_told writes new rows of its own.")
        instance._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
    email_field = Notification._meta.get_field("email")
    parameters: list[object] = [
        PreparedInsert._value(field, outbound, connection)
        for outbound in mails
        for field in mail_compiled.fields
    ]
    for notification in notices:
        parameters += [
            notification.recipient_id
            if field is email_field
            else PreparedInsert._value(field, notification, connection)
            for field in notice_compiled.fields
        ]
    with connection.cursor() as cursor:
        cursor.execute(_told_with_mail_sql(connection.alias, len(mails), len(notices)), parameters)
        returned = cursor.fetchall()
    for notification, (notification_pk, email_pk) in zip(notices, returned, strict=True):
        PreparedInsert._set_returned(notification, (notification_pk,), notice_compiled, connection)
        outbound = mail.get(notification.recipient_id)
        if (email_pk is None) != (outbound is None):
            raise RuntimeError(f"Notification {notification_pk}: its mail was not matched ({email_pk}).")
        if outbound is not None:
            PreparedInsert._set_returned(outbound, (email_pk,), mail_compiled, connection)
            notification.email = outbound
    for instance in [*mails, *notices]:
        instance._state.adding = False
        instance._state.db = connection.alias


# Table and column names from the models' own metadata; every value is a parameter.
_MAIL_OF = "(SELECT {id} FROM {rows} WHERE {recipient} = %s)"  # a notification's mail: its recipient's
_INSERT_RETURNING = "INSERT INTO {table} ({columns}) VALUES {values} RETURNING {returning}"
_MAIL_THEN_NOTICES = "WITH {rows} AS ({mail}) {notices}"


@functools.lru_cache(maxsize=128)  # per database, number of mails and number of notices
def _told_with_mail_sql(using: str, mails: int, notices: int) -> str:
    from django.db import connections

    quote = connections[using].ops.quote_name
    mail_columns = {field.name: quote(str(field.column)) for field in OutboundEmail._meta.concrete_fields}
    mail_id = _MAIL_OF.format(**mail_columns, rows=quote(_MAIL_ROWS))
    parts = []
    for model, rows, returning in (
        (OutboundEmail, mails, ("id", "recipient")),
        (Notification, notices, ("id", "email")),
    ):
        meta = model._meta
        columns = {field.name: quote(str(field.column)) for field in meta.concrete_fields}
        fields = _prepared_insert(model).compiled(using).fields
        row = ", ".join(
            mail_id if model is Notification and field.name == "email" else "%s" for field in fields
        )
        parts.append(
            _INSERT_RETURNING.format(
                table=quote(meta.db_table),
                columns=", ".join(columns[field.name] for field in fields),
                values=", ".join([f"({row})"] * rows),
                returning=", ".join(columns[name] for name in returning),
            )
        )
    return _MAIL_THEN_NOTICES.format(rows=quote(_MAIL_ROWS), mail=parts[0], notices=parts[1])


@functools.cache
def _statements() -> tuple[str, str, str]:
    meta = OutboundEmail._meta
    names = {field.name: field.column for field in meta.concrete_fields}
    names.update(table=meta.db_table, pk=meta.pk.column)  # type: ignore[union-attr]
    # Table and column names from the model's own metadata; every value is a parameter.
    return _CLAIM.format(**names), _SENT.format(**names), _SENT_AND_CLAIM.format(**names)


def claim(pk: int, *, now: datetime, until: datetime) -> bool:
    """Claim a pending message whose claim is not held (or has lapsed) until ``until``; whether it was."""
    connection = transaction.get_connection()
    adapt = connection.ops.adapt_datetimefield_value
    parameters = [OutboundEmail.Status.SENDING, adapt(until), pk, OutboundEmail.Status.PENDING, adapt(now)]
    with connection.cursor() as cursor:
        cursor.execute(_statements()[0], parameters)
        return cursor.rowcount == 1


def mark_sent_and_claim(pk: int, following: int, *, now: datetime, until: datetime) -> bool:
    """``mark_sent(pk)`` and ``claim(following)`` in one statement (atomic: at no moment are both held, or
    neither); whether ``following`` was claimed."""
    connection = transaction.get_connection()
    adapt = connection.ops.adapt_datetimefield_value
    status = OutboundEmail.Status
    parameters = [
        *(pk, status.SENT, status.SENDING),
        *(pk, adapt(now)),
        pk,
        *(pk, adapt(until)),
        *(pk, ""),
        *(pk, following, status.PENDING, adapt(now)),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_statements()[2], parameters)
        return following in {row[0] for row in cursor.fetchall()}


def mark_sent(pk: int, *, now: datetime) -> None:
    """Mark a claimed message sent at ``now``, its attempt counted and its claim and last error cleared."""
    connection = transaction.get_connection()
    parameters = [OutboundEmail.Status.SENT, connection.ops.adapt_datetimefield_value(now), "", pk]
    with connection.cursor() as cursor:
        cursor.execute(_statements()[1], parameters)
