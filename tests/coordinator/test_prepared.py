"""The reads every API call makes (token, actor) are compiled to SQL once per connection, give what the
queryset gives, and read the database every time: a revoked token or an ended membership counts at once."""

from __future__ import annotations

import pytest
from django.db.models.sql.compiler import SQLCompiler
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from organisations.access.authentication import TOKEN_QUERY
from organisations.models import Membership, PlatformRole
from organisations.permissions import MEMBERSHIPS_QUERY, _memberships_of, actor_for
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
