"""The people, organisations and units lists carry their programme filter once (the scoped manager's), and
still show a reader of one programme nothing of another: a person in both programmes once, with only the
reader's memberships; a person only in the other programme never; another programme's ids in a filter
give an empty list, a malformed one 400. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coordinator.core import shapes
from organisations.models import Membership, RoleAssignment
from organisations.models import PlatformRole as R
from tests.factories import OrganisationFactory, UnitFactory, WorkRoleFactory, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_shapes_of_earlier_tests() -> None:
    shapes.clear()


@pytest.fixture
def shared_world(programme, other_programme, org_a, org_other):
    """A reader of programme A, a person in both programmes (with a role at work and roles in each), people
    and a unit only in B, and an organisation taking part in both."""
    shared_org = OrganisationFactory(name="Röda korset", programmes=[programme, other_programme])
    reader = make_member(programme, org_a, R.STAFF)
    both = make_member(
        programme,
        shared_org,
        R.STAFF,
        work_role=WorkRoleFactory(programme=programme, code="a", name="Handläggare"),
    )
    elsewhere = Membership.unscoped_objects.create(
        programme=other_programme,
        person=both,
        work_role=WorkRoleFactory(programme=other_programme, code="b", name="Sagsbehandler"),
    )
    RoleAssignment.unscoped_objects.create(membership=elsewhere, role=R.COORDINATOR)
    unit_b = UnitFactory(organisation=org_other, name="Jobcenter Integration")
    only_b = make_member(other_programme, org_other, R.PROGRAMME_ADMIN, unit=unit_b)
    # In B only, of the shared organisation, with the shared person as line manager: each filter below
    # would find this person if the list looked past programme A.
    make_member(other_programme, shared_org, line_manager=both)
    return {"reader": reader, "both": both, "only_b": only_b, "unit_b": unit_b, "shared_org": shared_org}


@pytest.mark.parametrize("plans", [True, False])
def test_people_list_shows_a_shared_person_once_with_only_the_readers_memberships(
    api, settings, programme, shared_world, plans
):
    settings.API_LIST_PLANS = plans
    reader, both = shared_world["reader"], shared_world["both"]

    rows = api(reader).get("/api/v1/people/?page_size=200").json()["results"]

    assert sorted(row["id"] for row in rows) == sorted([reader.pk, both.pk])
    shown = next(row for row in rows if row["id"] == both.pk)
    work_role = Membership.unscoped_objects.get(person=both, programme=programme).work_role
    assert shown["programmes"] == [
        {
            "programme": programme.pk,
            "work_role": work_role.pk,
            "work_role_name": "Handläggare",
            "roles": ["staff"],
        }
    ]


def test_a_person_only_in_another_programme_is_not_found(api, shared_world):
    response = api(shared_world["reader"]).get(f"/api/v1/people/{shared_world['only_b'].pk}/")
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("organisation={org_other}", 0),
        ("unit={unit_b}", 0),
        ("line_manager={both}", 0),
        ("organisation={shared_org}", 1),
    ],
)
def test_people_filters_with_another_programmes_ids_find_nothing_of_it(
    api, org_other, shared_world, query, count
):
    ids = {
        "org_other": org_other.pk,
        "unit_b": shared_world["unit_b"].pk,
        "both": shared_world["both"].pk,
        "shared_org": shared_world["shared_org"].pk,
    }
    body = api(shared_world["reader"]).get("/api/v1/people/?" + query.format(**ids)).json()
    assert body["count"] == count
    assert [row["id"] for row in body["results"]] == ([shared_world["both"].pk] if count else [])


def test_people_filter_with_a_malformed_id_is_400(api, shared_world):
    response = api(shared_world["reader"]).get("/api/v1/people/?organisation=abc")
    assert response.status_code == 400
    assert list(response.json()) == ["organisation"]


def _page_sql(client, path: str) -> tuple[str, list[str]]:
    """The list page's query (the one that counts the list beside its rows) and every query's SQL."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    queries = [query["sql"] for query in captured.captured_queries]
    return next(sql for sql in queries if "OVER ()" in sql), queries


def test_people_page_query_filters_on_the_programme_once(api, shared_world):
    page, queries = _page_sql(api(shared_world["reader"]), "/api/v1/people/")
    # Read from a derived table (``coordinator.core.drf._counted``): its joins planned for all rows.
    assert page.startswith("SELECT * FROM (")
    # One subquery of memberships (the scope), read on its own: no second copy, no join back to people.
    assert page.count('"organisations_membership"') == 1
    assert page.count('"organisations_person" U0') == 0
    memberships = next(sql for sql in queries if "STRING_AGG" in sql or "GROUP_CONCAT" in sql)
    assert memberships.count('"organisations_membership"."programme_id" IN') == 1


@pytest.mark.parametrize(
    ("path", "table"), [("/api/v1/organisations/", "organisation"), ("/api/v1/units/", "unit")]
)
def test_organisation_and_unit_pages_filter_on_the_programme_once(api, shared_world, path, table):
    page, _queries = _page_sql(api(shared_world["reader"]), path)
    scope = page.split(" WHERE ", 1)[1]
    assert scope.count('FROM "organisations_participation" U0 WHERE U0."programme_id" IN') == 1
    assert f'"organisations_{table}" U0' not in page
