from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from coordinator.core import notifications
from coordinator.core.calendar import CalendarEvent, Participant, build_calendar
from coordinator.core.models import Notification, NotificationPreference, OutboundEmail


def _invite_body():
    tz = ZoneInfo("Europe/Stockholm")
    event = CalendarEvent(
        uid="x-1@samverkan.example",
        summary="Besök",
        start=datetime(2026, 12, 1, 9, tzinfo=tz),
        end=datetime(2026, 12, 1, 15, tzinfo=tz),
        organizer=Participant("o@example.org"),
        attendees=(Participant("a@example.org"),),
    )
    return build_calendar([event], time_zone="Europe/Stockholm", method="REQUEST")


def test_notify_sends_nothing_until_commit(programme, staff_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notifications.notify(programme=programme, recipients=[staff_a], kind="test.kind", title="Hej")
    assert len(mail.outbox) == 0
    assert OutboundEmail.unscoped_objects.get().status == OutboundEmail.Status.PENDING

    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [staff_a.user.email]
    assert mail.outbox[0].subject == f"[{programme.name}] Hej"
    assert OutboundEmail.unscoped_objects.get().status == OutboundEmail.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_notify_in_rolled_back_transaction_leaves_nothing(programme, staff_a):
    with pytest.raises(RuntimeError), transaction.atomic():
        notifications.notify(programme=programme, recipients=[staff_a], kind="test.kind", title="Hej")
        raise RuntimeError("the service failed after notifying")
    assert len(mail.outbox) == 0
    assert Notification.unscoped_objects.count() == 0
    assert OutboundEmail.unscoped_objects.count() == 0


def test_notify_respects_email_preference_but_keeps_notification(
    programme, staff_a, django_capture_on_commit_callbacks
):
    NotificationPreference.unscoped_objects.create(person=staff_a, kind="test.kind", email_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(programme=programme, recipients=[staff_a], kind="test.kind", title="Hej")
    assert len(mail.outbox) == 0
    assert Notification.unscoped_objects.get().title == "Hej"


def test_send_invite_ignores_preference_and_carries_calendar(
    programme, staff_a, django_capture_on_commit_callbacks
):
    NotificationPreference.unscoped_objects.create(
        person=staff_a, kind=notifications.INVITE_KIND, email_enabled=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        notifications.send_invite(
            programme=programme,
            person=staff_a,
            title="Inbjudan",
            body="Besök",
            url="/x/",
            calendar=_invite_body(),
            method="REQUEST",
        )
    [message] = mail.outbox
    [(content, mimetype)] = [a for a in message.alternatives if a[1] == "text/calendar"]
    assert icalendar.Calendar.from_ical(content)["METHOD"] == "REQUEST"
    raw = message.message().as_string()
    assert 'text/calendar; charset="utf-8"; method="REQUEST"' in raw


def test_failed_delivery_is_retried_then_reported(
    programme, staff_a, coordinator, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.coordinator.failing_backend.FailingBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 2
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(programme=programme, recipients=[staff_a], kind="test.kind", title="Hej")
    outbound = OutboundEmail.unscoped_objects.get(recipient=staff_a)
    assert (outbound.status, outbound.attempts) == (OutboundEmail.Status.PENDING, 1)
    assert "SMTP server unreachable" in outbound.last_error

    OutboundEmail.unscoped_objects.filter(pk=outbound.pk).update(
        next_attempt_at=timezone.now() - timedelta(1)
    )
    assert notifications.deliver_due() == 1  # queued for its second attempt, which fails too
    outbound.refresh_from_db()
    assert (outbound.status, outbound.attempts) == (OutboundEmail.Status.FAILED, 2)
    alert = Notification.unscoped_objects.get(recipient=coordinator, kind="outbox.failed")
    assert staff_a.user.email in alert.title

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications.deliver_due() == 0  # failed for good: not retried any more


def test_deliver_claims_each_message_once(programme, staff_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        notifications.notify(programme=programme, recipients=[staff_a], kind="test.kind", title="Hej")
    pk = OutboundEmail.unscoped_objects.get().pk
    assert notifications.deliver([pk]) == 1
    assert notifications.deliver([pk]) == 0
    assert len(mail.outbox) == 1


def test_a_title_with_line_breaks_is_sent_on_one_line(programme, staff_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(
            programme=programme, recipients=[staff_a], kind="test.kind", title="Möte\r\nBcc: evil@example.org"
        )

    outbound = OutboundEmail.unscoped_objects.get(recipient=staff_a)
    assert (outbound.status, outbound.attempts, outbound.last_error) == (OutboundEmail.Status.SENT, 1, "")
    assert mail.outbox[0].subject == f"[{programme.name}] Möte Bcc: evil@example.org"
    assert mail.outbox[0].bcc == []
    assert Notification.unscoped_objects.get(recipient=staff_a).title == "Möte Bcc: evil@example.org"


def test_a_queued_message_whose_subject_has_a_line_break_is_still_sent(
    programme, staff_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        notifications.notify(programme=programme, recipients=[staff_a], kind="test.kind", title="Hej")
    # A row queued before subjects were made one line (or written by hand): the outbox still sends it.
    OutboundEmail.unscoped_objects.update(subject="[Programme] Hej\nda")

    assert notifications.deliver_due() == 1

    outbound = OutboundEmail.unscoped_objects.get()
    assert (outbound.status, outbound.attempts) == (OutboundEmail.Status.SENT, 1)
    assert mail.outbox[0].subject == "[Programme] Hej da"


def test_days_and_counts_are_written_in_each_recipients_language(programme, staff_a, staff_b):
    from datetime import date

    from django.utils.translation import ngettext_lazy

    from coordinator.core.formatting import lazy_days

    staff_a.preferred_language, staff_b.preferred_language = "sv", "da"
    for count in (1, 3):
        notifications.notify(
            programme=programme,
            recipients=[staff_a, staff_b],
            kind="test.kind",
            title="%(days)s",
            body=ngettext_lazy(
                "%(count)s placement was cancelled; the request waits for the next match.",
                "%(count)s placements were cancelled; the requests wait for the next match.",
                "count",
            ),
            params={"days": lazy_days([date(2026, 12, 7), date(2026, 12, 8)]), "count": count},
        )
    written = [(n.recipient_id, n.title, n.body) for n in Notification.unscoped_objects.order_by("pk")]
    assert written == [
        (
            staff_a.pk,
            "7 dec. 2026 och 8 dec. 2026",
            "1 placering ställdes in; förfrågan väntar på nästa matchning.",
        ),
        (
            staff_b.pk,
            "7. dec. 2026 og 8. dec. 2026",
            "1 placering blev aflyst; anmodningen venter på den næste matchning.",
        ),
        (
            staff_a.pk,
            "7 dec. 2026 och 8 dec. 2026",
            "3 placeringar ställdes in; förfrågningarna väntar på nästa matchning.",
        ),
        (
            staff_b.pk,
            "7. dec. 2026 og 8. dec. 2026",
            "3 placeringer blev aflyst; anmodningerne venter på den næste matchning.",
        ),
    ]
