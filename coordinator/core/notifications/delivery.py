"""Sending the outbox: each message claimed (compare-and-set) just before it is handed to the mail server
and marked sent just after, failures retried with back-off and, after the last attempt, reported to the
programme's coordinators. The tasks that call it (``deliver_outbox``, ``after_commit``) and the periodic
sweep are in the package's module."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordinator.core import outbox_statements, registry
from coordinator.core.calendar import SubjectWrittenOnce, invite_message, mail_address
from coordinator.core.models import Notification, OutboundEmail
from coordinator.core.tenancy import unscoped
from coordinator.core.validators import one_line

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 300


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2**attempts, 240))


def message_id(outbound: OutboundEmail) -> str:
    """The message's Message-ID, the same on every attempt: a receiver that got it twice can tell."""
    return f"<outbox-{outbound.pk}@{settings.CALENDAR_UID_DOMAIN}>"


def build_message(outbound: OutboundEmail) -> EmailMultiAlternatives:
    message = _build_message(outbound)
    message.extra_headers["Message-ID"] = message_id(outbound)
    return message


def _build_message(outbound: OutboundEmail) -> EmailMultiAlternatives:
    reply_to = [mail_address(outbound.programme.organizer_email)]
    if outbound.ics_content:
        return invite_message(
            to=[outbound.to_address],
            subject=one_line(outbound.subject),
            body_text=outbound.body_text,
            body_html=outbound.body_html or None,
            calendar=outbound.ics_content.encode("utf-8"),
            method=outbound.ics_method,  # type: ignore[arg-type]
            reply_to=reply_to,
        )
    message = SubjectWrittenOnce(
        subject=one_line(outbound.subject),
        body=outbound.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[outbound.to_address],
        reply_to=reply_to,
    )
    if outbound.body_html:
        message.attach_alternative(outbound.body_html, "text/html")
    return message


def _claim(pk: int) -> bool:
    """Compare-and-set: only one process may send a given message at a time."""
    now = timezone.now()
    return outbox_statements.claim(pk, now=now, until=now + timedelta(seconds=CLAIM_SECONDS))


def deliver(outbound_ids: Iterable[int], *, known: Mapping[int, OutboundEmail] | None = None) -> int:
    """Send the given outbox messages now over one SMTP connection; returns how many were sent.

    Safe to call from several processes, and after a crash: each message is claimed (compare-and-set)
    just before it is handed to the mail server and marked sent just after, so at most the one message in
    flight when a worker dies is in doubt, and ``deliver_due`` never hands that one over again (no
    duplicate): it is reported as failed, for a person to check. A message that failed is retried with
    back-off. Raises ``OSError`` when the mail server cannot be reached at all (nothing is claimed then).

    ``known``: messages this process wrote itself (with their programme), sent as they are once claimed
    instead of read again (what a message says never changes after it is written).
    """
    ids = list(outbound_ids)
    if not ids:
        return 0
    sent = 0
    connection = get_connection(fail_silently=False)
    connection.open()  # raises OSError when the server is down: the batch stays pending
    # Whether the next message was claimed already, by the statement that marked the one before it sent.
    claimed_next = False
    try:
        for index, pk in enumerate(ids):
            claimed, claimed_next = claimed_next or _claim(pk), False
            if not claimed:
                continue
            outbound = (known or {}).get(pk) or _claimed(pk)
            try:
                if connection.send_messages([build_message(outbound)]) != 1:
                    raise RuntimeError("the mail backend accepted no message")
            except Exception as exc:  # any transport error: record it and retry later
                _record_failure(_claimed(pk), exc)  # its attempts as stored, whoever tried it before
                connection.close()
                connection = get_connection(fail_silently=False)
                continue
            now = timezone.now()
            if index + 1 < len(ids):
                claimed_next = outbox_statements.mark_sent_and_claim(
                    pk, ids[index + 1], now=now, until=now + timedelta(seconds=CLAIM_SECONDS)
                )
            else:
                outbox_statements.mark_sent(pk, now=now)
            sent += 1
    finally:
        connection.close()
    return sent


def _claimed(pk: int) -> OutboundEmail:
    # The row this process has just claimed by its id (outbox, outside any request).
    return OutboundEmail.unscoped_objects.select_related("programme").get(pk=pk)


def _record_failure(outbound: OutboundEmail, exc: Exception) -> None:
    outbound.attempts += 1
    outbound.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    outbound.claimed_until = None
    if outbound.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        outbound.status = OutboundEmail.Status.FAILED
    else:
        outbound.status = OutboundEmail.Status.PENDING
        outbound.next_attempt_at = timezone.now() + _backoff(outbound.attempts)
    outbound.save(update_fields=["attempts", "last_error", "claimed_until", "status", "next_attempt_at"])
    logger.warning(
        "Email %s to %s failed (attempt %s): %s",
        outbound.pk,
        outbound.to_address,
        outbound.attempts,
        outbound.last_error,
    )
    if outbound.status == OutboundEmail.Status.FAILED:
        _alert_coordinators(outbound)


def _alert_coordinators(outbound: OutboundEmail) -> None:
    # The failed message's own programme, from the outbox outside any request.
    with unscoped(), transaction.atomic():
        recipients = {
            person.pk: person
            for provider in registry.delivery_failure_recipients
            for person in provider(outbound.programme)
            if person.pk != outbound.recipient_id
        }
        for person in recipients.values():
            Notification.objects.create(
                programme=outbound.programme,
                recipient=person,
                kind="outbox.failed",
                title=str(
                    _("A message could not be delivered to %(address)s") % {"address": outbound.to_address}
                ),
                body=f"{outbound.subject}\n{outbound.last_error}",
                url="",
            )


IN_DOUBT = "The sender stopped while handing this message to the mail server: it may have been delivered."
