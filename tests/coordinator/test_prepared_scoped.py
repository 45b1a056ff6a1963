"""The personal feed's reads (``ScopedPreparedQuery``) are compiled to SQL once per connection and scope,
give what their querysets give in that scope, keep within it, and read the database every time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from coordinator.core.prepared import ScopedPreparedQuery
from coordinator.core.tenancy import ScopeError, programme_scope, unscoped
from seminars import invites as seminar_invites
from seminars.models import Session
from shadowing import invites as shadowing_invites
from tests.factories import OrganisationFactory
from tests.factories.seminars import CourseFactory, RoundFactory, SessionFactory, make_enrolment

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def compilations(monkeypatch):
    """How often Django turns a query into SQL (its own compiler, counted)."""
    calls: list[str] = []
    compile_sql = SQLCompiler.as_sql

    def counted(self, *args, **kwargs):
        calls.append(self.query.model._meta.label)
        return compile_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counted)
    return calls


@pytest.fixture
def booked(programme, other_programme, org_a, staff_a, staff_b):
    """``staff_a`` is booked on a round of ``programme`` and, as a member of ``other_programme`` too, on one
    of it (a row the first programme's scope must not give); ``staff_b`` on the first round as well."""
    round_ = RoundFactory(course=CourseFactory(programme=programme))
    sessions = [SessionFactory(round=round_), SessionFactory(round=round_, place="Sal 2")]
    make_enrolment(round_, staff_a)
    make_enrolment(round_, staff_b)
    OrganisationFactory(programmes=[other_programme])
    from organisations.models import Membership

    Membership.unscoped_objects.create(programme=other_programme, person=staff_a)
    elsewhere = SessionFactory(round=RoundFactory(course=CourseFactory(programme=other_programme)))
    make_enrolment(elsewhere.round, staff_a)
    return {"sessions": sessions, "elsewhere": elsewhere}


def _since() -> datetime:
    return timezone.now() - timedelta(days=30)


def test_compiled_once_per_scope_and_gives_what_the_queryset_gives(
    programme, other_programme, booked, staff_a, staff_b, compilations, django_assert_num_queries
):
    query = seminar_invites._FEED_SESSIONS
    since = _since()
    with programme_scope([programme.pk]):
        expected_a = list(query.build(staff_a.pk, since))
        expected_b = list(query.build(staff_b.pk, since))
        query.fetch(staff_a.pk, since)  # this connection's first use in this scope compiles
        compilations.clear()
        with django_assert_num_queries(2):
            found_a = query.fetch(staff_a.pk, since)
            found_b = query.fetch(staff_b.pk, since)
        assert compilations == []
    with programme_scope([programme.pk, other_programme.pk]):
        both = query.fetch(staff_a.pk, since)
    compiled = list(compilations)

    assert found_a == expected_a and found_b == expected_b
    assert [row[0] for row in found_a] == [s.pk for s in booked["sessions"]]
    assert [row[0] for row in both] == sorted(
        [s.pk for s in booked["sessions"]] + [booked["elsewhere"].pk],
        key=lambda pk: (Session.unscoped_objects.get(pk=pk).starts_at, pk),
    )
    assert compiled == ["seminars.Session"]  # the second scope compiled its own


def test_instances_come_with_their_related_rows(programme, booked, staff_a, compilations):
    since = _since()
    with programme_scope([programme.pk]):
        seminar_invites._FEED_ROUNDS.fetch(staff_a.pk, since)
        compilations.clear()
        (round_,) = seminar_invites._FEED_ROUNDS.fetch(staff_a.pk, since)
        compiled = list(compilations)
        expected = list(seminar_invites._FEED_ROUNDS.build(staff_a.pk, since))

    assert compiled == []
    assert [round_] == expected
    assert (round_.course.title, round_.course.programme.name) == (
        booked["sessions"][0].round.course.title,
        programme.name,
    )


def test_a_change_counts_on_the_next_read(programme, booked, staff_a):
    since = _since()
    with programme_scope([programme.pk]):
        before = seminar_invites._FEED_SESSIONS.fetch(staff_a.pk, since)
        Session.unscoped_objects.filter(pk=booked["sessions"][1].pk).update(place="Sal 9")
        after = seminar_invites._FEED_SESSIONS.fetch(staff_a.pk, since)

    assert [row[5] for row in before] == ["Röda korsets behandlingscenter, Fredsgatan 3, Malmö", "Sal 2"]
    assert [row[5] for row in after] == ["Röda korsets behandlingscenter, Fredsgatan 3, Malmö", "Sal 9"]


def test_the_date_reaches_the_sql_as_a_value(programme, booked, staff_a):
    with programme_scope([programme.pk]):
        now = seminar_invites._FEED_SESSIONS.fetch(staff_a.pk, _since())
        later = seminar_invites._FEED_SESSIONS.fetch(staff_a.pk, timezone.now() + timedelta(days=400))
        visits = shadowing_invites._FEED_PLACEMENTS.fetch(staff_a.pk, date(2000, 1, 1))

    assert (len(now), later, visits) == (2, [], [])


def test_without_a_scope_the_queryset_is_read_as_usual(booked, staff_a, compilations):
    since = _since()
    with pytest.raises(ScopeError):
        seminar_invites._FEED_SESSIONS.fetch(staff_a.pk, since)
    with unscoped():
        everything = seminar_invites._FEED_SESSIONS.fetch(staff_a.pk, since)
    with programme_scope([]):
        nothing = seminar_invites._FEED_SESSIONS.fetch(staff_a.pk, since)

    assert (len(everything), nothing) == (3, [])


def test_a_stand_in_that_never_reaches_the_sql_is_refused(programme):
    unused = ScopedPreparedQuery(
        lambda person_id, since: Session.objects.filter(round__enrolments__person_id=person_id).values_list(
            "pk"
        ),
        stand_ins=(-(2**62) + 1, datetime(1901, 1, 1, tzinfo=UTC)),
    )

    with programme_scope([programme.pk]), pytest.raises(ValueError, match="Every stand-in"):
        unused.fetch(1, timezone.now())


def test_prefetched_relations_are_refused(programme):
    prefetching = ScopedPreparedQuery(
        lambda person_id: Session.objects.filter(round__enrolments__person_id=person_id).prefetch_related(
            "round"
        ),
        stand_ins=(-(2**62) + 1,),
    )

    with programme_scope([programme.pk]), pytest.raises(ValueError, match="prefetched"):
        prefetching.fetch(1)


# --- Text stand-ins: a booking's calendar copies, read by their source ----------------------------------

TRICKY_SOURCE = "seminars.round:1' OR '1'='1 \"x\" 100% %s %% \\' \\\\ åäö ÆØ €; --"


def _copy(programme, person, source: str, uid: str):
    from coordinator.core.models import CalendarCopy

    return CalendarCopy.unscoped_objects.create(
        programme=programme,
        person=person,
        source=source,
        key="seminars.session:1",
        uid=uid,
        address="a@example.org",
        language="sv",
        organizer="samordnare@example.org",
        fingerprint="x",
        sequence=3,
        method=CalendarCopy.Method.REQUEST,
        content={"summary": "Kurs – dag 1"},
        ends_at=datetime(2030, 3, 4, 14, tzinfo=UTC),
        changed_at=datetime(2030, 1, 20, 8, tzinfo=UTC),
    )


def test_a_text_value_reaches_the_sql_as_a_parameter_never_as_text(
    programme, other_programme, staff_a, staff_b, compilations
):
    from django.db import connection

    from coordinator.core import itip

    wanted = _copy(programme, staff_a, TRICKY_SOURCE, "one")
    _copy(programme, staff_a, "seminars.round:1", "plain")  # what the text would match if it were SQL
    _copy(programme, staff_b, TRICKY_SOURCE, "someone else's")
    _copy(other_programme, staff_a, TRICKY_SOURCE, "another programme's")
    executed: list[tuple[str, tuple[object, ...]]] = []

    def record(execute, sql, params, many, context):
        executed.append((sql, tuple(params)))
        return execute(sql, params, many, context)

    with programme_scope([programme.pk]):
        itip._HELD.fetch(programme.pk, "seminars.round:1", staff_a.pk)  # compiled with the stand-in
        compilations.clear()
        with connection.execute_wrapper(record):
            found = itip._HELD.fetch(programme.pk, TRICKY_SOURCE, staff_a.pk)
            other = itip._HELD.fetch(programme.pk, "seminars.round:1", staff_a.pk)
        compiled = list(compilations)
        expected = list(itip._held(programme.pk, TRICKY_SOURCE, [staff_a.pk]))

    [(sql, params)] = executed[:1]
    assert compiled == []
    assert [copy.uid for copy in found] == ["one"] and found == expected == [wanted]
    assert (found[0].content, found[0].person.user.email) == ({"summary": "Kurs – dag 1"}, staff_a.user.email)
    assert [copy.uid for copy in other] == ["plain"]
    assert TRICKY_SOURCE in params and params.count(TRICKY_SOURCE) == 1
    assert "OR '1'" not in sql and "åäö" not in sql and "100%" not in sql and "seminars.round" not in sql
    assert executed[1][0] == sql  # the same SQL for another text


def test_a_text_stand_in_turned_into_a_pattern_is_refused(programme):
    from coordinator.core.models import CalendarCopy

    pattern = ScopedPreparedQuery(
        lambda source: CalendarCopy.objects.filter(source__startswith=source),
        stand_ins=("itip.held:stand-in",),
    )

    with programme_scope([programme.pk]), pytest.raises(ValueError, match="Every stand-in"):
        pattern.fetch("seminars.round:")
