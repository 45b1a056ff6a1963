"""The queries of a booking's invites task (``booking_invites``, one per enrolment), counted exactly."""

from __future__ import annotations

from typing import Any

import pytest

from coordinator.core.models import CalendarCopy, OutboundEmail
from seminars.models import Enrolment, Round
from seminars.services.enrolments import _booking_invites
from tests.factories.seminars import SessionFactory, make_enrolment
from tests.support.notices import notice_writes

pytestmark = pytest.mark.usefixtures("scope")


@pytest.fixture
def three_days(round_: Round) -> Round:
    for _ in range(3):
        SessionFactory(round=round_)
    return round_


def _reads(queries: Any) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]


def test_a_new_booking_is_read_in_a_fixed_number_of_queries(
    three_days: Round, people_a: Any, django_assert_num_queries: Any
) -> None:
    first, second = people_a(2)
    make_enrolment(three_days, first)
    make_enrolment(three_days, second)
    assert _booking_invites(three_days.pk, [first.pk]) == 3  # compiles the prepared reads

    # Six reads (the round's programme, the locked round, its sessions, the booking with its person, the
    # SEQUENCEs sent before, the calendar copies), an outbox row and a notice per invite (one statement
    # on PostgreSQL), the copies in one insert, and the transaction's savepoint and its release.
    with django_assert_num_queries(9 + notice_writes(3)) as queries:
        assert _booking_invites(three_days.pk, [second.pk]) == 3

    assert len(_reads(queries)) == 6
    assert OutboundEmail.unscoped_objects.filter(recipient=second, ics_method="REQUEST").count() == 3
    assert CalendarCopy.objects.filter(person=second, method="REQUEST").count() == 3


def test_an_unchanged_booking_sends_nothing_after_the_same_reads(
    three_days: Round, people_a: Any, django_assert_num_queries: Any
) -> None:
    [person] = people_a(1)
    make_enrolment(three_days, person)
    assert _booking_invites(three_days.pk, [person.pk]) == 3

    with django_assert_num_queries(8) as queries:
        assert _booking_invites(three_days.pk, [person.pk]) == 0

    assert len(_reads(queries)) == 6


def test_an_ended_booking_is_read_without_its_person_and_cancelled(
    three_days: Round, people_a: Any, django_assert_num_queries: Any
) -> None:
    [person] = people_a(1)
    make_enrolment(three_days, person)
    assert _booking_invites(three_days.pk, [person.pk]) == 3
    Enrolment.objects.filter(person=person).update(status=Enrolment.Status.CANCELLED)

    # Five reads (no booking: no SEQUENCEs to read), an outbox row and a notice per cancellation (one
    # statement on PostgreSQL), the copies in one update, the savepoint and its release.
    with django_assert_num_queries(8 + notice_writes(3)) as queries:
        assert _booking_invites(three_days.pk, [person.pk]) == 3

    assert len(_reads(queries)) == 5
    assert list(CalendarCopy.objects.filter(person=person).values_list("method", flat=True)) == ["CANCEL"] * 3


def test_the_calendar_copies_are_read_without_compiling_a_query(
    three_days: Round, people_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db.models.sql.compiler import SQLCompiler

    first, second = people_a(2)
    make_enrolment(three_days, first)
    make_enrolment(three_days, second)
    assert _booking_invites(three_days.pk, [first.pk]) == 3  # compiles the prepared reads
    compiled: list[str] = []
    compile_sql = SQLCompiler.as_sql

    def counted(self: SQLCompiler, *args: Any, **kwargs: Any) -> Any:
        compiled.append(self.query.model._meta.label)
        return compile_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counted)

    assert _booking_invites(three_days.pk, [second.pk]) == 3

    assert sorted(compiled) == ["seminars.Round", "seminars.Round"]
