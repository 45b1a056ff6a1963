"""The first page of a list reads its rows and the number of rows of the whole list in one query: the count is
a window over the page's own query, written as its SQL, and right for grouped and reordered lists too."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from focusgroups.models import GroupMembership
from organisations.models import PlatformRole
from tests.factories import make_member
from tests.factories.focusgroups import FocusGroupFactory, make_group_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(programme, org_a):
    return make_member(programme, org_a, PlatformRole.COORDINATOR, PlatformRole.STAFF)


def _page(client, path):
    client.get(path)  # warm the actor cache of the client's user
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content
    windows = [query["sql"] for query in queries.captured_queries if " OVER (" in query["sql"]]
    return response.json(), windows


def test_the_first_page_counts_a_grouped_list_with_a_plain_window(api, programme, coordinator):
    for name in ("Alfa", "Beta", "Gamma"):
        group = FocusGroupFactory(programme=programme, name=name)
        make_group_member(group, coordinator, GroupMembership.Role.MEMBER)

    answer, windows = _page(api(coordinator), "/api/v1/focusgroups/groups/?page_size=2")

    assert (answer["count"], [row["name"] for row in answer["results"]]) == (3, ["Alfa", "Beta"])
    assert [row["member_count"] for row in answer["results"]] == [1, 1]
    assert len(windows) == 1
    assert windows[0].count("COUNT(*) OVER ()") == 1


def test_the_first_page_counts_an_ordered_list_and_later_pages_count_first(api, programme, coordinator):
    for name in ("Alfa", "Beta", "Gamma"):
        FocusGroupFactory(programme=programme, name=name, code=name.lower())

    first, first_windows = _page(api(coordinator), "/api/v1/focusgroups/groups/?page_size=1&ordering=-name")
    last, last_windows = _page(api(coordinator), "/api/v1/focusgroups/groups/?page_size=1&page=3")

    assert (first["count"], [row["name"] for row in first["results"]], len(first_windows)) == (
        3,
        ["Gamma"],
        1,
    )
    assert (last["count"], [row["name"] for row in last["results"]], last_windows) == (3, ["Gamma"], [])


# --- The first page of a list read as values: from a derived table ------------------------------------------


def _first_page(queryset, size=2):
    from coordinator.core.drf import _counted

    counted = _counted(queryset)
    return list(counted[:size]), str(counted.query)


def test_a_first_page_of_values_is_read_from_a_derived_table(programme, other_programme):
    from organisations.models import Programme

    # Ordered by a selected column (the name): Django wraps the query without a mask.
    queryset = Programme.unscoped_objects.values_list("pk", "id", "name").order_by("-name")

    rows, sql = _first_page(queryset, size=1)

    assert rows == [(programme.pk, programme.pk, "Lokalt kompetensutvecklingsprogram Malmö", 2)]
    assert sql.startswith("SELECT * FROM (")
    assert sql.endswith('"qualify" WHERE "_rows_in_list" > 0 ORDER BY 3 DESC')


def test_a_first_page_of_values_ordered_by_a_column_not_selected_is_read_as_it_is(programme, other_programme):
    from organisations.models import Programme

    # Django 5.2 would need a mask over the derived table, and its mask drops the id selected twice.
    queryset = Programme.unscoped_objects.values_list("pk", "id", "name").order_by("slug")

    rows, sql = _first_page(queryset)

    assert rows == [
        (other_programme.pk, other_programme.pk, "Kompetenceløft København", 2),
        (programme.pk, programme.pk, "Lokalt kompetensutvecklingsprogram Malmö", 2),
    ]
    assert "qualify" not in sql
