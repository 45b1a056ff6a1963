"""The reads every API call makes (token, actor) are compiled to SQL once per connection, give what the
queryset gives, and read the database every time: a revoked token or an ended membership counts at once."""

from __future__ import annotations

import pytest
from django.db.models.sql.compiler import SQLCompiler
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coordinator.core.tenancy import programme_scope
from organisations.access.authentication import TOKEN_QUERY
from organisations.models import Membership, PlatformRole
from organisations.permissions import MEMBERSHIPS_QUERY, _memberships_of, actor_for, token_identity
from tests.factories import make_member


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


@pytest.mark.django_db
def test_token_query_compiles_once_and_reads_the_database_each_time(
    programme, org_a, unit_a, compilations, django_assert_num_queries
):
    person = make_member(programme, org_a, unit=unit_a)
    token = Token.objects.create(user=person.user)
    TOKEN_QUERY.fetch("warm-up")  # this connection's first use compiles
    compilations.clear()

    with django_assert_num_queries(1):
        (found,) = TOKEN_QUERY.fetch(token.key)

    assert compilations == []
    assert (found.key, found.user_id) == (token.key, person.user_id)
    assert found.user.username == person.user.username
    # The user's person, organisation and unit came in the same row, as select_related leaves them.
    assert (found.user.person.pk, found.user.person.organisation.name, found.user.person.unit.name) == (
        person.pk,
        "Migrationsverket",
        "Mottagningsenheten Malmö",
    )
    token.delete()
    with django_assert_num_queries(1):
        assert TOKEN_QUERY.fetch(token.key) == []


@pytest.mark.django_db
def test_token_query_leaves_a_user_without_person_as_the_orm_does(db):
    from django.contrib.auth.models import User

    token = Token.objects.create(user=User.objects.create(username="platform.admin"))

    (found,) = TOKEN_QUERY.fetch(token.key)

    assert found.user.username == "platform.admin"
    assert not hasattr(found.user, "person")


@pytest.mark.django_db
def test_memberships_query_gives_what_the_queryset_gives(
    programme, other_programme, org_a, compilations, django_assert_num_queries
):
    person = make_member(programme, org_a, PlatformRole.COORDINATOR, PlatformRole.STAFF)
    Membership.unscoped_objects.create(programme=other_programme, person=person)
    MEMBERSHIPS_QUERY.fetch(-1)
    compilations.clear()

    with django_assert_num_queries(1):
        rows = MEMBERSHIPS_QUERY.fetch(person.pk)

    assert compilations == []
    expected = list(_memberships_of(person.pk))
    assert [(row.pk, row.programme.name, row.role) for row in rows] == [
        (row.pk, row.programme.name, row.role) for row in expected
    ]
    assert sorted((row.programme.slug, row.role or "") for row in rows) == [
        ("kobenhavn", ""),
        ("malmo", "coordinator"),
        ("malmo", "staff"),
    ]


@pytest.mark.django_db
def test_an_ended_membership_counts_on_the_next_api_call(programme, org_a):
    person = make_member(programme, org_a, PlatformRole.STAFF)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=person.user).key}")
    assert [row["id"] for row in client.get("/api/v1/programmes/").json()["results"]] == [programme.pk]

    Membership.unscoped_objects.filter(person=person).update(is_active=False)

    assert client.get("/api/v1/programmes/").json()["results"] == []
    person.user.refresh_from_db()
    assert actor_for(person.user).memberships == {}


@pytest.mark.django_db
def test_a_revoked_token_is_refused_on_the_next_api_call(programme, org_a):
    person = make_member(programme, org_a, PlatformRole.STAFF)
    token = Token.objects.create(user=person.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/programmes/").status_code == 200

    token.delete()

    response = client.get("/api/v1/programmes/")
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid token."})


@pytest.mark.django_db
def test_token_identity_compiles_once_and_gives_the_actor_of_the_token_and_memberships_queries(
    programme, other_programme, org_a, unit_a, compilations, django_assert_num_queries
):
    person = make_member(programme, org_a, PlatformRole.COORDINATOR, PlatformRole.STAFF, unit=unit_a)
    Membership.unscoped_objects.create(programme=other_programme, person=person)
    Membership.unscoped_objects.create(programme=other_programme, person=make_member(programme, org_a))
    token = Token.objects.create(user=person.user)
    token_identity("warm-up", ("courses",))  # this connection's first use compiles
    compilations.clear()

    with django_assert_num_queries(1):
        user, created = token_identity(token.key, ("courses",))

    assert compilations == []
    assert (user.pk, created) == (person.user_id, token.created)
    actor = actor_for(user)
    (found,) = TOKEN_QUERY.fetch(token.key)
    expected = actor_for(found.user)  # the token's query, then the memberships' query
    assert actor == expected
    assert (actor.person.pk, actor.person.organisation.name, actor.person.unit.name) == (
        person.pk,
        "Migrationsverket",
        "Mottagningsenheten Malmö",
    )
    assert {pid: p.slug for pid, p in actor.programmes.items()} == {
        programme.pk: "malmo",
        other_programme.pk: "kobenhavn",
    }
    assert actor.memberships[programme.pk].roles == {PlatformRole.COORDINATOR, PlatformRole.STAFF}
    assert actor.stamps.topics == ("courses",)
    assert actor.stamps.programme_ids == {programme.pk, other_programme.pk}
    token.delete()
    with django_assert_num_queries(1):
        assert token_identity(token.key, ("courses",)) is None


@pytest.mark.django_db
def test_a_token_without_an_active_membership_reads_the_token_alone_after_the_identity(
    programme, org_a, django_assert_num_queries
):
    person = make_member(programme, org_a, PlatformRole.STAFF)
    Membership.unscoped_objects.filter(person=person).update(is_active=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=person.user).key}")

    with django_assert_num_queries(2) as queries:  # the identity finds no row; the token with the person
        response = client.get("/api/v1/seminars/courses/")

    assert (response.status_code, response.json()["results"]) == (200, [])
    assert '"authtoken_token"."key" = ' in queries[0]["sql"]
    assert queries[1]["sql"].startswith('SELECT "authtoken_token"."key"')


# --- Values queries with several values (``PreparedRows``): the catalogue's and the workplaces' viewer rows


@pytest.mark.django_db
def test_catalogue_viewer_rows_compile_once_and_give_what_the_queryset_gives(
    programme, other_programme, org_a, org_other, compilations, django_assert_num_queries
):
    from django.utils import timezone

    from coordinator.core.tenancy import programme_scope, unscoped
    from organisations.models import Participation
    from seminars.selectors.catalogue import _VIEWER_ROWS, _viewer_rows
    from tests.factories.seminars import CourseFactory, RoundFactory, make_enrolment

    person = make_member(programme, org_a, PlatformRole.STAFF)
    outsider = make_member(other_programme, org_other, PlatformRole.STAFF)
    now = timezone.now()
    later = now + timezone.timedelta(days=30)
    mine = RoundFactory(course=CourseFactory(programme=programme), starts_at=later)
    started = RoundFactory(
        course=CourseFactory(programme=programme), starts_at=now - timezone.timedelta(days=1)
    )
    theirs = RoundFactory(course=CourseFactory(programme=other_programme), starts_at=later)
    with unscoped():
        make_enrolment(mine, person)
        make_enrolment(theirs, outsider)
    _VIEWER_ROWS.fetch(-1, -1, -1, now)  # this connection's first use compiles
    compilations.clear()

    with django_assert_num_queries(1):
        rows = _VIEWER_ROWS.fetch(programme.pk, person.pk, org_a.pk, now)

    assert compilations == []
    with programme_scope([programme.pk]):
        expected = list(_viewer_rows(programme.pk, person.pk, org_a.pk, now))
    assert sorted(rows, key=repr) == sorted(expected, key=repr)
    kinds = sorted((kind, first) for kind, first, _second, _status in rows if kind != "version")
    # The round still to start and my booking on it; not the started round, nor the other programme's.
    with unscoped():
        participation = Participation.objects.get(programme=programme, organisation=org_a).pk
    assert kinds == [("booking", mine.pk), ("participates", participation), ("seats", mine.pk)]
    assert started.pk not in [first for _kind, first, _second, _status in rows]


@pytest.mark.django_db
def test_free_slot_rows_take_the_day_as_the_queryset_does(programme, org_a, django_assert_num_queries):
    from datetime import date, timedelta

    from coordinator.core.tenancy import programme_scope
    from shadowing.selectors import _FREE_SLOT_ROWS, _free_slot_rows
    from tests.factories.shadowing import SlotFactory, WorkplaceFactory

    host = make_member(programme, org_a, PlatformRole.STAFF)
    workplace = WorkplaceFactory(programme=programme, organisation=org_a, contact=host, is_published=True)
    today = date(2031, 3, 4)
    for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
        SlotFactory(workplace=workplace, date=day, capacity=1)

    with django_assert_num_queries(1):
        rows = _FREE_SLOT_ROWS.fetch(programme.pk, today)

    with programme_scope([programme.pk]):
        expected = list(_free_slot_rows(programme.pk, today))
    assert sorted(rows, key=repr) == sorted(expected, key=repr)
    assert [row for row in rows if row[0] == "free"] == [("free", workplace.pk, 2, "")]


def test_a_stand_in_that_never_reaches_the_sql_is_refused(db):
    from coordinator.core.prepared import PreparedRows
    from organisations.models import Programme

    unused = PreparedRows(
        lambda pk, other: Programme.objects.filter(pk=pk).values_list("pk"), stand_ins=(-7, -8)
    )

    with pytest.raises(ValueError, match="Every stand-in value must reach the SQL"):
        unused.fetch(1, 2)


@pytest.mark.django_db
def test_keyed_query_compiles_once_per_key_and_gives_what_the_queryset_gives(programme, org_a, compilations):
    from coordinator.core.prepared import KeyedPreparedQuery

    people = [make_member(programme, org_a, PlatformRole.STAFF) for _ in range(2)]
    keyed = KeyedPreparedQuery[Membership](stand_in=-1)

    def build_for(person_id):
        def build(programme_id):
            return Membership.objects.filter(programme_id=programme_id, person_id=person_id).select_related(
                "programme"
            )

        return build

    compilations.clear()
    with programme_scope([programme.pk]):
        found = [keyed.fetch(("person", p.pk), build_for(p.pk), programme.pk) for p in (*people, people[0])]

    assert compilations == ["organisations.Membership", "organisations.Membership"]
    assert keyed.compiled_keys() == 2
    with programme_scope([programme.pk]):
        expected = [list(build_for(p.pk)(programme.pk)) for p in (*people, people[0])]
    assert [[(m.pk, m.person_id, m.programme.name) for m in rows] for rows in found] == [
        [(m.pk, m.person_id, m.programme.name) for m in rows] for rows in expected
    ]


@pytest.mark.django_db
def test_keyed_query_refuses_a_build_that_reads_the_database_and_remembers_it(programme):
    from coordinator.core.prepared import KeyedPreparedQuery

    keyed = KeyedPreparedQuery[Membership](stand_in=-1)
    builds: list[int] = []

    def build(programme_id):
        builds.append(programme_id)
        people = list(Membership.objects.values_list("person_id", flat=True))  # its SQL depends on data
        return Membership.objects.filter(programme_id=programme_id, person_id__in=people)

    with programme_scope([programme.pk]):
        assert [keyed.fetch("key", build, programme.pk) for _ in range(2)] == [None, None]
    assert (builds, keyed.compiled_keys()) == ([-1], 0)
