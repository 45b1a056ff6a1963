"""Notifications (in-app, live over the websocket, and email) and the email outbox.

Feature services call ``notify`` or ``send_invite`` inside their transaction. The notification and its
email are written in that transaction; the email is sent and the websocket event pushed only after the
commit (``transaction.on_commit``), so a rolled-back change never sends anything, and a committed change
always has its message, which the outbox retries until it is sent or visibly failed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from coordinator.core import outbox_statements, pushing, registry
from coordinator.core.calendar import Method, mail_address
from coordinator.core.models import Notification, OutboundEmail
from coordinator.core.notifications.delivery import CLAIM_SECONDS as CLAIM_SECONDS
from coordinator.core.notifications.delivery import IN_DOUBT, _alert_coordinators, deliver
from coordinator.core.notifications.delivery import build_message as build_message
from coordinator.core.notifications.delivery import message_id as message_id
from coordinator.core.tasks import after_batch, enqueue, in_task, on_commit_enqueue, retry_later
from coordinator.core.tenancy import unscoped
from coordinator.core.validators import one_line

logger = logging.getLogger(__name__)

# Calendar invites, updates and cancellations are no kind a person may switch the mail of off: an invite is
# the booking itself, and a calendar that misses one update keeps a session on a day it no longer is (see
# ``notify``). So the kind is not registered among the choices (the settings page lists only those), and a
# stored choice for it is ignored.
INVITE_KIND = "calendar.invite"
registry.notification_kinds.register(
    "outbox.failed",
    registry.NotificationKind("outbox.failed", _("Messages that could not be delivered (coordinators)")),
)


def person_group(person_id: int) -> str:
    """The channel-layer group that reaches every open tab of one person."""
    return f"person.{person_id}"


@dataclass(frozen=True)
class Invite:
    """A calendar attachment for one recipient: the serialised VCALENDAR and its iTIP method."""

    calendar: bytes
    method: Method


def _email_by_default(kind: str) -> bool:
    """Whether a person who has set no preference for ``kind`` gets its mail."""
    declared = registry.notification_kinds.get(kind)
    return declared.default_email if declared else True


def wants_email(person: Any, kind: str) -> bool:
    """Whether ``person`` gets the mail of notifications of ``kind`` (their preference, else the kind's)."""
    _told, wanted = outbox_statements.told_and_wanted([person.pk], kind=kind)
    return wanted.get(person.pk, _email_by_default(kind))


def notify(
    *,
    programme: Any,
    recipients: Iterable[Any],
    kind: str,
    title: str | Promise,
    body: str | Promise = "",
    params: Mapping[str, object] | None = None,
    detail: str = "",
    url: str = "",
    invite: Invite | None = None,
    email: bool | None = None,
    once: str = "",
) -> list[Notification]:
    """Tell people something: an in-app notification each, an email where they want one.

    Call it inside the service's transaction; each person is told once, however often they are listed.
    ``title`` and ``body`` are English source texts (marked with ``gettext_noop``) or lazy texts, written
    here in each recipient's own language (``Person.language_in``) and filled with ``params``; ``detail``
    is text someone typed (a reason, a note), added below the body untranslated. With ``invite`` the email
    carries the calendar and is always sent: an invite is the booking itself, not a reminder.
    ``email=False`` suppresses email. The email is written in the outbox in this transaction and sent, and
    the live notification pushed, after the commit.

    ``once`` names what is told (``"shadowing.request.12.approved"``) for a task that may run twice: a
    person who already has a notification of that name is not told again (nor mailed), and the database
    refuses a second one written at the same time (``IntegrityError``: the task's transaction rolls back
    and its retry finds the first).

    At most three statements, whatever the number of recipients: whether they were told and the mail they
    want (one read, none for an invite without ``once``), then their mail and their notifications (one
    insert each; one statement for both on PostgreSQL, ``outbox_statements.insert_told``). Texts and mail
    bodies are written once per language.
    """
    # Each person once, where first listed.
    listed = list(recipients)
    first = {person.pk: n for n, person in reversed(list(enumerate(listed)))}
    people = [person for n, person in enumerate(listed) if first[person.pk] == n]
    if not people:
        return []
    asks_preference = email is not False and invite is None
    told, wanted = outbox_statements.told_and_wanted(
        list(first), once=once, kind=kind if asks_preference else None
    )
    by_default = _email_by_default(kind) if asks_preference else True
    # Per language: the title and the body, and the mail's two bodies (the same for every reader of it).
    texts: dict[str, tuple[str, str]] = {}
    bodies: dict[str, tuple[str, str]] = {}
    created: list[Notification] = []
    mailed: list[tuple[Notification, OutboundEmail]] = []
    for person in people:
        if person.pk in told:
            continue
        language = person.language_in(programme)
        if language not in texts:
            with translation.override(language):
                # One line: the title is a mail subject too (a line break there makes the mail unsendable).
                rendered_title = one_line(_render(title, params))[:255]
                rendered_body = _render(body, params)
                if detail:
                    rendered_body = f"{rendered_body}\n\n{detail}".strip()
            texts[language] = (rendered_title, rendered_body)
        subject, text = texts[language]
        notification = Notification(
            programme=programme,
            recipient=person,
            kind=kind,
            title=subject,
            body=text,
            url=url,
            once_key=once,
        )
        created.append(notification)
        send_email = email is not False and (invite is not None or wanted.get(person.pk, by_default))
        if send_email and person.user.email:
            if language not in bodies:
                with translation.override(language):
                    bodies[language] = _mail_bodies(programme, subject=subject, body=text, url=url)
            outbound = _queue_email(
                programme=programme,
                person=person,
                kind=kind,
                subject=subject,
                body=text,
                url=url,
                invite=invite,
                bodies=bodies[language],
                save=False,
            )
            mailed.append((notification, outbound))
    # The mail and the notifications, each naming its mail's id (one statement on PostgreSQL).
    outbox_statements.insert_told(created, {n.recipient_id: outbound for n, outbound in mailed})
    if created:
        _after_commit_batch().extend(created)
    return created


# A task that tells at most this many people pushes and mails them itself after its commit; a larger batch
# (a confirmed match telling thousands) is handed to the queue in tasks of OUTBOX_BATCH_SIZE, which several
# workers can share.
INLINE_AFTER_TASK = 20


class _CommitBatch(list[Notification]):
    """The notifications written in one transaction, handed on in one step after its commit: to the queue
    (``after_commit`` tasks) when written by a request; pushed and mailed by the worker itself when written
    by a task (a visit request's notices, a booking's invites), which saves a second task per write: with
    the other tasks of its batch once the batch has run (``tasks.after_batch``), else at once. Either way
    the mail is in the outbox from the commit on, so a worker that dies before sending it loses nothing:
    the periodic ``outbox.deliver_due`` sends it."""

    savepoints: list[str]
    written_by_task: bool

    def flush(self) -> None:
        if self.written_by_task and len(self) <= INLINE_AFTER_TASK:
            # In a worker's batch: sent with the other tasks' notifications when the batch is done.
            if after_batch(_send_batch_waiting):
                _batch_waiting().extend(self)
                return
            if _send_now(self):
                return
        _hand_to_queue(self)


def _send_now(notifications: list[Notification]) -> bool:
    """Push and mail notifications this process wrote (one push, one mail connection); False when that
    failed in a way the queue may fare better with (their mail is in the outbox: nothing is lost)."""
    try:
        _push_live([_live_row(n) for n in notifications])
        _deliver_or_retry(
            [n.email_id for n in notifications if n.email_id],
            attempt=0,
            known={n.email.pk: n.email for n in notifications if n.email is not None},
        )
        return True
    except Exception:  # noqa: BLE001 (whatever went wrong, the queue is the way that never loses)
        logger.exception("Notifications %s: sent through the queue instead", [n.pk for n in notifications])
        return False


def _hand_to_queue(notifications: list[Notification]) -> None:
    size = settings.OUTBOX_BATCH_SIZE
    ids = [n.pk for n in notifications]
    for start in range(0, len(ids), size):
        enqueue(after_commit, ids[start : start + size])


# The notifications that the tasks of this thread's current batch wrote and committed, not sent yet.
_waiting = threading.local()


def _batch_waiting() -> list[Notification]:
    waiting: list[Notification] | None = getattr(_waiting, "notifications", None)
    if waiting is None:
        waiting = _waiting.notifications = []
    return waiting


def _send_batch_waiting() -> None:
    notifications = _batch_waiting()
    _waiting.notifications = []
    if notifications and not _send_now(notifications):
        _hand_to_queue(notifications)


class LiveRow(TypedDict):
    """What a live push says of a notification."""

    pk: int
    recipient_id: int
    kind: str
    title: str
    url: str


def _live_row(notification: Notification) -> LiveRow:
    return {
        "pk": notification.pk,
        "recipient_id": notification.recipient_id,
        "kind": notification.kind,
        "title": notification.title,
        "url": notification.url,
    }


def _after_commit_batch() -> _CommitBatch:
    """This transaction's batch (a new one, registered with ``on_commit``, if it has none yet or if the
    savepoint that registered it was rolled back): a confirmation that tells 10,000 people queues 50 tasks,
    not 10,000 callbacks."""
    connection = transaction.get_connection()
    batch: _CommitBatch | None = getattr(connection, "_samverkan_notification_batch", None)
    # The same atomic block (savepoints) as the batch's registration, and its callback still pending.
    if (
        batch is None
        or batch.savepoints != list(connection.savepoint_ids)
        or not any(entry[1] == batch.flush for entry in connection.run_on_commit)
    ):
        batch = _CommitBatch()
        batch.savepoints = list(connection.savepoint_ids)
        batch.written_by_task = in_task()
        connection._samverkan_notification_batch = batch  # type: ignore[attr-defined]
        transaction.on_commit(batch.flush)
    return batch


def _render(text: object, params: Mapping[str, object] | None) -> str:
    """A source text in the active language, filled with its parameters (which may be lazy texts too, such
    as ``formatting.lazy_day``: a date is then written as the recipient's language writes it)."""
    if not text:
        return ""
    values = {
        key: str(value) if isinstance(value, Promise) else value for key, value in (params or {}).items()
    }
    if isinstance(text, Promise) and params is not None:
        # A lazy text translates now; one from ``ngettext_lazy(singular, plural, "count")`` also picks the
        # plural form the language has for the count it finds among the parameters.
        return str(text % values)
    translated = gettext(str(text))
    return translated if params is None else translated % values


def send_invite(
    *, programme: Any, person: Any, title: str, body: str, url: str, calendar: bytes, method: Method
) -> Notification:
    """Send one person a calendar invite, update or cancellation (iTIP) by email, with a notification."""
    return notify(
        programme=programme,
        recipients=[person],
        kind=INVITE_KIND,
        title=title,
        body=body,
        url=url,
        invite=Invite(calendar=calendar, method=method),
    )[0]


def send_email(
    *,
    programme: Any,
    person: Any,
    kind: str,
    subject: str | Promise,
    body: str | Promise,
    params: Mapping[str, object] | None = None,
    url: str = "",
) -> OutboundEmail | None:
    """Mail one person through the outbox, with no in-app notification: for what concerns their account
    (an invitation, a password reset), which they read before they can sign in and which must not wait in
    the bell for whoever signs in next.

    ``subject`` and ``body`` are English source texts written in the person's language and filled with
    ``params``; the mail is always sent (no preference turns account mail off). Call it inside the
    transaction: the message is written there and sent after the commit. Returns None for a person with
    no address.
    """
    if not person.user.email:
        return None
    with translation.override(person.language_in(programme)):
        outbound = _queue_email(
            programme=programme,
            person=person,
            kind=kind,
            subject=one_line(_render(subject, params))[:255],
            body=_render(body, params),
            url=url,
            invite=None,
        )
    on_commit_enqueue(deliver_outbox, [outbound.pk])
    return outbound


def absolute_url(path: str) -> str:
    if not path or path.startswith(("http://", "https://")):
        return path
    return f"{settings.SITE_URL}{path}"


def _mail_bodies(programme: object, *, subject: str, body: str, url: str) -> tuple[str, str]:
    """The mail's text and HTML bodies in the active language. They name no recipient (the templates read
    the subject, the body, the link and the programme), so one rendering serves every reader of a language."""
    context = {"programme": programme, "subject": subject, "body": body, "url": absolute_url(url)}
    return (
        render_to_string("email/notification.txt", context),
        render_to_string("email/notification.html", context),
    )


def _queue_email(
    *,
    programme: Any,
    person: Any,
    kind: str,
    subject: str,
    body: str,
    url: str,
    invite: Invite | None,
    bodies: tuple[str, str] | None = None,
    save: bool = True,
) -> OutboundEmail:
    """The outbox row of one mail (``bodies``: its text and HTML bodies when already written), saved unless
    ``save`` is False (the caller inserts it with others)."""
    text, html = bodies or _mail_bodies(programme, subject=subject, body=body, url=url)
    outbound = OutboundEmail(
        programme=programme,
        recipient=person,
        # The same form of the address as the invite's ATTENDEE (``mail_address``), byte for byte.
        to_address=mail_address(person.user.email),
        subject=one_line(f"[{programme.name}] {subject}")[:255],
        body_text=text,
        body_html=html,
        ics_method=invite.method if invite else "",
        ics_content=invite.calendar.decode("utf-8") if invite else "",
        kind=kind,
        next_attempt_at=timezone.now(),
    )
    if save:
        outbound.save(force_insert=True)
    return outbound


@task()
def after_commit(notification_ids: list[int]) -> int:
    """Push committed notifications to their people's open tabs and send their mail (one batch)."""
    with unscoped():  # runs after the request's scope is gone; the ids come from a committed transaction
        rows = list(
            Notification.unscoped_objects.filter(pk__in=notification_ids).values(
                "pk", "recipient_id", "kind", "title", "url", "email_id"
            )
        )
    _push_live(rows)
    return _deliver_or_retry([r["email_id"] for r in rows if r["email_id"]], attempt=0)


def _push_live(rows: list[Any]) -> None:
    layer = get_channel_layer()
    if layer is None or not rows:
        return
    try:
        # On the process's one loop for pushes: one Redis connection for them all (``async_to_sync``
        # started a loop, and the layer a connection, for each call).
        pushing.run(_send_live(layer, rows))
    except Exception:  # a live push is a convenience; the notifications themselves are stored
        logger.exception("Could not push notifications %s live", [row["pk"] for row in rows])


async def _send_live(layer: BaseChannelLayer, rows: list[LiveRow]) -> None:
    for row in rows:
        try:
            await layer.group_send(
                person_group(row["recipient_id"]),
                {
                    "type": "notification.created",
                    "id": row["pk"],
                    "kind": row["kind"],
                    "title": row["title"],
                    "url": row["url"],
                },
            )
        except Exception:  # a live push is a convenience; the notification itself is stored
            logger.exception("Could not push notification %s live", row["pk"])


# --- Outbox delivery (coordinator.core.notifications.delivery) ------------------------------------------


@task()
def deliver_outbox(outbound_ids: list[int], attempt: int = 0) -> int:
    """Send a batch of outbox messages over one SMTP connection (a task; see ``deliver``)."""
    return _deliver_or_retry(outbound_ids, attempt=attempt)


def _deliver_or_retry(
    outbound_ids: list[int], *, attempt: int, known: Mapping[int, OutboundEmail] | None = None
) -> int:
    """Deliver; when the mail server cannot be reached at all, try the batch again after the back-off (the
    messages stay pending, and ``outbox.deliver_due`` is the backstop)."""
    try:
        return deliver(outbound_ids, known=known)
    except OSError:
        logger.warning("The mail server could not be reached (attempt %s)", attempt + 1, exc_info=True)
        retry_later(deliver_outbox, attempt, outbound_ids)
        return 0


def deliver_due() -> int:
    """Periodic job: queue the messages whose next attempt is due (in batches); returns how many. The
    messages a crashed sender left in doubt (claimed, never marked sent) are reported as failed rather
    than risk sending them twice."""
    now = timezone.now()
    # The whole outbox, every programme's.
    stale = list(
        OutboundEmail.unscoped_objects.filter(
            status=OutboundEmail.Status.SENDING, claimed_until__lt=now
        ).select_related("programme")
    )
    for outbound in stale:
        if OutboundEmail.unscoped_objects.filter(
            pk=outbound.pk, status=OutboundEmail.Status.SENDING, claimed_until__lt=now
        ).update(status=OutboundEmail.Status.FAILED, claimed_until=None, last_error=IN_DOUBT):
            outbound.last_error = IN_DOUBT
            _alert_coordinators(outbound)
    due = list(
        OutboundEmail.unscoped_objects.filter(
            status=OutboundEmail.Status.PENDING, next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:5000]
    )
    size = settings.OUTBOX_BATCH_SIZE
    for start in range(0, len(due), size):
        enqueue(deliver_outbox, due[start : start + size])
    return len(due)


registry.periodic_jobs.register(
    "outbox.deliver_due", registry.PeriodicJob("outbox.deliver_due", deliver_due, every_seconds=60)
)
