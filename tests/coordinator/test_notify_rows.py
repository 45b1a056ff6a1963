"""The rows ``notify`` writes (notifications and their outbox mail), field by field, and the statements it
runs: written in one statement per table and read in one, whatever the number of recipients, with the
same values as when each row was inserted on its own."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext_noop, ngettext_lazy

from coordinator.core import notifications
from coordinator.core.models import Notification, NotificationPreference, OutboundEmail
from organisations.models import PlatformRole as R
from tests.factories.organisations import make_member
from tests.support.notices import notice_writes

pytestmark = pytest.mark.django_db

NOTIFICATION_FIELDS = ("programme_id", "recipient_id", "kind", "title", "body", "url", "read_at", "once_key")
EMAIL_FIELDS = (
    "programme_id",
    "recipient_id",
    "to_address",
    "subject",
    "body_text",
    "body_html",
    "ics_method",
    "ics_content",
    "kind",
    "status",
    "attempts",
    "last_error",
    "claimed_until",
    "sent_at",
)


def _written() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    notices = [
        (*(getattr(n, f) for f in NOTIFICATION_FIELDS), n.email.to_address if n.email else None)
        for n in Notification.unscoped_objects.select_related("email").order_by("pk")
    ]
    mails = [
        tuple(getattr(m, f) for f in EMAIL_FIELDS) for m in OutboundEmail.unscoped_objects.order_by("pk")
    ]
    return notices, mails


@pytest.fixture
def people(programme, org_a, org_b, unit_a, unit_b):
    """Four recipients: Swedish, Danish (email off for the kind), English, and one without an address."""
    swede = make_member(programme, org_a, R.STAFF, unit=unit_a)
    dane = make_member(programme, org_b, R.STAFF, unit=unit_b)
    briton = make_member(programme, org_a, R.STAFF, unit=unit_a)
    silent = make_member(programme, org_b, R.STAFF, unit=unit_b)
    swede.preferred_language, dane.preferred_language, briton.preferred_language = "sv", "da", "en"
    silent.user.email = ""
    NotificationPreference.unscoped_objects.create(person=dane, kind="test.kind", email_enabled=False)
    NotificationPreference.unscoped_objects.create(person=swede, kind="other.kind", email_enabled=False)
    return swede, dane, briton, silent


def _tell(programme, people, once=""):
    swede, dane, briton, silent = people
    return notifications.notify(
        programme=programme,
        # The Swede twice: told once.
        recipients=[swede, dane, briton, silent, swede],
        kind="test.kind",
        title=ngettext_lazy(
            "%(person)s asks to go shadowing for %(days)s day",
            "%(person)s asks to go shadowing for %(days)s days",
            "days",
        ),
        body=gettext_noop("Approve or decline the time away under Shadowing → Approvals."),
        params={"person": "Åsa Öberg", "days": 2},
        detail="Förstå mottagandet.",
        url="/shadowing/approvals/",
        once=once,
    )


def test_notify_writes_the_same_rows_as_one_insert_each(programme, people):
    swede, dane, briton, silent = people

    created = _tell(programme, people, once="test.once.1")

    notices, mails = _written()
    assert [n.pk for n in created] == list(
        Notification.unscoped_objects.order_by("pk").values_list("pk", flat=True)
    )
    assert [n.recipient_id for n in created] == [swede.pk, dane.pk, briton.pk, silent.pk]
    assert notices == expected_notices(programme, people)
    assert mails == expected_mails(programme, people)


def test_notify_reads_once_and_writes_once_per_table(programme, people, django_assert_num_queries):
    # Whether they were told and their mail preferences (1), the mail and the notifications.
    with django_assert_num_queries(1 + notice_writes()):
        created = _tell(programme, people, once="test.once.2")
    assert len(created) == 4
    # Run again (a task run twice): the told are read, nobody is written.
    with django_assert_num_queries(1):
        assert _tell(programme, people, once="test.once.2") == []


def test_notify_without_once_reads_only_the_preferences(programme, people, django_assert_num_queries):
    with django_assert_num_queries(1 + notice_writes()):
        _tell(programme, people)
    assert Notification.unscoped_objects.count() == 4
    assert OutboundEmail.unscoped_objects.count() == 2


def test_an_invite_reads_nothing_before_writing(programme, staff_a, django_assert_num_queries):
    with django_assert_num_queries(notice_writes()):
        notifications.send_invite(
            programme=programme,
            person=staff_a,
            title="Inbjudan",
            body="Dag 1",
            url="/x/",
            calendar=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            method="REQUEST",
        )
    assert list(OutboundEmail.unscoped_objects.values_list("ics_method", "ics_content")) == [
        ("REQUEST", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    ]


def test_many_mails_take_one_insert_per_table_with_the_same_rows(
    programme, people, monkeypatch, django_assert_num_queries
):
    from coordinator.core import outbox_statements

    monkeypatch.setattr(outbox_statements, "TOLD_WITH_MAIL_MAX", 1)  # the two mails are more than that

    with django_assert_num_queries(3):
        created = _tell(programme, people, once="test.once.1")  # as the expected rows name it

    assert [n.email.to_address if n.email else None for n in created] == [
        people[0].user.email,
        None,
        people[2].user.email,
        None,
    ]
    assert _written() == (expected_notices(programme, people), expected_mails(programme, people))


def test_a_notice_the_database_refuses_takes_its_mail_with_it(programme, people):
    from coordinator.core import outbox_statements

    swede = people[0]
    Notification.unscoped_objects.create(
        programme=programme, recipient=swede, kind="test.kind", title="Före", once_key="test.once.4"
    )
    notice = Notification(
        programme=programme, recipient=swede, kind="test.kind", title="T", once_key="test.once.4"
    )
    mail = notifications._queue_email(
        programme=programme,
        person=swede,
        kind="test.kind",
        subject="T",
        body="",
        url="",
        invite=None,
        save=False,
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        outbox_statements.insert_told([notice], {swede.pk: mail})

    assert (Notification.unscoped_objects.count(), OutboundEmail.unscoped_objects.count()) == (1, 0)


def test_the_rows_have_no_save_signal_receivers():
    # The rows are inserted without ``save()``; a receiver added to either model would not run.
    for model in (Notification, OutboundEmail):
        assert not pre_save.has_listeners(model)
        assert not post_save.has_listeners(model)


def expected_notices(programme, people):
    swede, dane, briton, silent = people
    return [
        (
            programme.pk,
            swede.pk,
            "test.kind",
            "Åsa Öberg vill auskultera i 2 dagar",
            ("Godkänn eller avslå frånvaron under Auskultation → Godkännanden.\n\nFörstå mottagandet."),
            "/shadowing/approvals/",
            None,
            "test.once.1",
            swede.user.email,
        ),
        (
            programme.pk,
            dane.pk,
            "test.kind",
            "Åsa Öberg anmoder om jobskygning i 2 dage",
            ("Godkend eller afvis fraværet under Jobskygning → Godkendelser.\n\nFörstå mottagandet."),
            "/shadowing/approvals/",
            None,
            "test.once.1",
            None,
        ),
        (
            programme.pk,
            briton.pk,
            "test.kind",
            "Åsa Öberg asks to go shadowing for 2 days",
            ("Approve or decline the time away under Shadowing → Approvals.\n\nFörstå mottagandet."),
            "/shadowing/approvals/",
            None,
            "test.once.1",
            briton.user.email,
        ),
        (
            programme.pk,
            silent.pk,
            "test.kind",
            "Åsa Öberg asks to go shadowing for 2 days",
            ("Approve or decline the time away under Shadowing → Approvals.\n\nFörstå mottagandet."),
            "/shadowing/approvals/",
            None,
            "test.once.1",
            None,
        ),
    ]


def expected_mails(programme, people):
    swede, dane, briton, silent = people
    return [
        (
            programme.pk,
            swede.pk,
            swede.user.email,
            ("[Lokalt kompetensutvecklingsprogram Malmö] Åsa Öberg vill auskultera i 2 dagar"),
            (
                "Åsa Öberg vill auskultera i 2 dagar\n"
                "\n"
                "Godkänn eller avslå frånvaron under Auskultation → Godkännanden.\n"
                "\n"
                "Förstå mottagandet.\n"
                "\n"
                "Öppna i Samverkan: http://127.0.0.1:8000/shadowing/approvals/\n"
                "\n"
                "--\n"
                "Lokalt kompetensutvecklingsprogram Malmö\n"
                "Du får det här meddelandet från Samverkan. Välj vilka meddelanden som "
                "kommer via e-post under Min sida → Inställningar.\n"
                "\n"
            ),
            (
                "<!DOCTYPE html>\n"
                '<html><body style="font-family: Arial, sans-serif; color: #1d2733;">\n'
                '<h1 style="font-size: 18px;">Åsa Öberg vill auskultera i 2 dagar</h1>\n'
                '<p style="white-space: pre-line;">Godkänn eller avslå frånvaron under '
                "Auskultation → Godkännanden.\n"
                "\n"
                "Förstå mottagandet.</p>\n"
                '<p><a href="http://127.0.0.1:8000/shadowing/approvals/">Öppna i '
                "Samverkan</a></p>\n"
                "<hr>\n"
                '<p style="font-size: 12px; color: #55606e;">Lokalt '
                "kompetensutvecklingsprogram Malmö<br>Du får det här meddelandet från "
                "Samverkan. Välj vilka meddelanden som kommer via e-post under Min "
                "sida → Inställningar.</p>\n"
                "</body></html>\n"
            ),
            silent.user.email,
            silent.user.email,
            "test.kind",
            "pending",
            0,
            silent.user.email,
            None,
            None,
        ),
        (
            programme.pk,
            briton.pk,
            briton.user.email,
            ("[Lokalt kompetensutvecklingsprogram Malmö] Åsa Öberg asks to go shadowing for 2 days"),
            (
                "Åsa Öberg asks to go shadowing for 2 days\n"
                "\n"
                "Approve or decline the time away under Shadowing → Approvals.\n"
                "\n"
                "Förstå mottagandet.\n"
                "\n"
                "Open in Samverkan: http://127.0.0.1:8000/shadowing/approvals/\n"
                "\n"
                "--\n"
                "Lokalt kompetensutvecklingsprogram Malmö\n"
                "You get this message from Samverkan. Choose which messages come by "
                "email under My page → Settings.\n"
                "\n"
            ),
            (
                "<!DOCTYPE html>\n"
                '<html><body style="font-family: Arial, sans-serif; color: #1d2733;">\n'
                '<h1 style="font-size: 18px;">Åsa Öberg asks to go shadowing for 2 '
                "days</h1>\n"
                '<p style="white-space: pre-line;">Approve or decline the time away '
                "under Shadowing → Approvals.\n"
                "\n"
                "Förstå mottagandet.</p>\n"
                '<p><a href="http://127.0.0.1:8000/shadowing/approvals/">Open in '
                "Samverkan</a></p>\n"
                "<hr>\n"
                '<p style="font-size: 12px; color: #55606e;">Lokalt '
                "kompetensutvecklingsprogram Malmö<br>You get this message from "
                "Samverkan. Choose which messages come by email under My page → "
                "Settings.</p>\n"
                "</body></html>\n"
            ),
            silent.user.email,
            silent.user.email,
            "test.kind",
            "pending",
            0,
            silent.user.email,
            None,
            None,
        ),
    ]
