"""Any input gets a 4xx with a reason, never a 500: over-large integers in every list filter of the API,
in pagination, and in the pages that read a number by hand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import django_filters
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from organisations.models import PlatformRole
from tests.factories import make_member

pytestmark = pytest.mark.django_db

# 2**63: one more than the largest id the database holds; and a number far beyond any integer column.
JUST_TOO_LARGE = "9223372036854775808"
FAR_TOO_LARGE = "99999999999999999999"


def _patterns(patterns: list[Any]) -> Iterator[URLPattern]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            yield entry


def _list_endpoints() -> list[tuple[str, Any]]:
    """Every list action of a registered viewset, found from the URL resolver: (url name, viewset)."""
    found: dict[str, Any] = {}
    for pattern in _patterns(get_resolver().url_patterns):
        viewset = getattr(pattern.callback, "cls", None)
        actions = getattr(pattern.callback, "actions", None) or {}
        if viewset is not None and actions.get("get") == "list" and pattern.name:
            found.setdefault(pattern.name, viewset)
    return sorted(found.items())


def _integer_filters() -> list[tuple[str, str]]:
    cases = []
    for name, viewset in _list_endpoints():
        filterset = getattr(viewset, "filterset_class", None)
        for field, declared in filterset.base_filters.items() if filterset else []:
            if isinstance(declared, django_filters.NumberFilter):
                cases.append((name, field))
    return cases


LIST_ENDPOINTS = [name for name, _viewset in _list_endpoints()]
INTEGER_FILTERS = _integer_filters()


@pytest.fixture
def everyone(programme: Any, org_b: Any) -> Any:
    """A person holding every platform role, so that no list answers 403 before its filters are read."""
    return make_member(programme, org_b, *PlatformRole.values)


def test_the_walk_finds_the_api_lists_and_their_integer_filters():
    assert len(LIST_ENDPOINTS) == 34
    assert ("shadowing-workplace-list", "programme") in INTEGER_FILTERS
    assert ("seminar-round-list", "course") in INTEGER_FILTERS
    assert ("focusgroup-meeting-list", "group") in INTEGER_FILTERS
    assert len(INTEGER_FILTERS) == 64
    assert ("shadowing-cost-list", "placement") in INTEGER_FILTERS


@pytest.mark.parametrize("value", [JUST_TOO_LARGE, FAR_TOO_LARGE, f"-{FAR_TOO_LARGE}", "1.5", "²"])
@pytest.mark.parametrize(("url_name", "field"), INTEGER_FILTERS)
def test_integer_filter_refuses_a_value_the_database_cannot_hold(api, everyone, url_name, field, value):
    response = api(everyone).get(reverse(url_name), {field: value})

    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]


@pytest.mark.parametrize("url_name", LIST_ENDPOINTS)
def test_integer_filter_at_the_limit_matches_nothing(api, everyone, url_name):
    filterset = getattr(dict(_list_endpoints())[url_name], "filterset_class", None)
    fields = [
        f
        for f, d in (filterset.base_filters.items() if filterset else [])
        if isinstance(d, django_filters.NumberFilter)
    ]

    response = api(everyone).get(reverse(url_name), dict.fromkeys(fields, str(2**63 - 1)))

    assert response.status_code == 200, response.content
    if fields:
        assert response.json()["results"] == []


@pytest.mark.parametrize("param", ["page", "page_size"])
@pytest.mark.parametrize("value", [JUST_TOO_LARGE, FAR_TOO_LARGE, "0", "-1", "abc", "²"])
@pytest.mark.parametrize("url_name", LIST_ENDPOINTS)
def test_pagination_refuses_a_number_out_of_range(api, everyone, url_name, param, value):
    response = api(everyone).get(reverse(url_name), {param: value})

    assert response.status_code == 400, response.content
    assert response.json() == {param: ["Give a whole number from 1 up."]}


def test_a_page_past_the_last_is_not_found(api, everyone):
    response = api(everyone).get(reverse("person-list"), {"page": str(2**63 - 1)})

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


# --- Pages and actions that read a number by hand -------------------------------------------------------

NOT_AN_ID = ["²", FAR_TOO_LARGE, JUST_TOO_LARGE, "-1", "1e3"]


@pytest.mark.parametrize("value", NOT_AN_ID)
def test_marking_a_notification_read_with_a_bad_id_is_not_found(web, staff_a, value):
    response = web(staff_a).post(
        reverse("notifications-read"), {"id": value}, headers={"accept": "application/json"}
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("value", NOT_AN_ID)
def test_switching_to_a_bad_programme_id_is_not_found(web, staff_a, value):
    response = web(staff_a).post(reverse("switch-programme"), {"programme": value})

    assert response.status_code == 404


@pytest.mark.parametrize("value", NOT_AN_ID)
def test_demand_for_a_bad_programme_id_is_refused(api, coordinator, value):
    response = api(coordinator).get(reverse("seminar-waitlist-demand"), {"programme": value})

    assert response.status_code == 400
    assert response.json() == {"programme": ["Choose a programme you coordinate."]}


@pytest.mark.parametrize("value", NOT_AN_ID)
def test_asking_to_shadow_a_bad_workplace_id_shows_the_empty_form(web, staff_a, value):
    response = web(staff_a).get(reverse("shadowing:request-create"), {"workplace": value})

    assert response.status_code == 200
    assert response.context["form"].initial.get("preference_1") is None


@pytest.mark.parametrize("raw", [None, "", "²", "-1", "0", "1.0", FAR_TOO_LARGE, JUST_TOO_LARGE])
def test_a_posted_id_that_is_not_one_matches_no_row(raw):
    from seminars.views._base import int_or_missing
    from shadowing.views._common import posted_int

    assert (int_or_missing(raw), posted_int(raw)) == (-1, -1)


def test_a_posted_id_is_read_up_to_the_database_limit():
    from seminars.views._base import int_or_missing
    from shadowing.views._common import posted_int

    assert (int_or_missing(" 42 "), posted_int(str(2**63 - 1))) == (42, 2**63 - 1)


def test_an_unknown_format_is_an_input_error_not_a_missing_page(api, programme_admin):
    export = api(programme_admin).get("/api/v1/people/export/", {"format": "pdf"})
    assert export.status_code == 400
    assert export.content.decode() == "format: Unknown format; this address offers: csv, json, xlsx."
    barometer = api(programme_admin).get("/api/v1/reports/barometer/", {"format": "pdf"})
    assert barometer.status_code == 400
    assert barometer.json() == {"format": ["Unknown format; this address offers: csv, json, xlsx."]}


def test_an_unknown_format_suffix_in_the_path_is_a_missing_address(api, programme_admin):
    person = programme_admin.pk
    client = api(programme_admin)
    assert client.get(f"/api/v1/people/{person}.json/").status_code == 200
    # The router reads "0.0001" as id 0 with the format suffix "0001": no such address, as documented.
    for path in (f"/api/v1/people/{person}.pdf/", "/api/v1/people/0.0001/", "/api/v1/programmes/0.0001/"):
        answer = client.get(path)
        assert (path, answer.status_code) == (path, 404)
