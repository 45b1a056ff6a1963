"""Every API list answers in a fixed, small number of queries, measured on the demo programmes (dozens of
rows per list, with the relations each row shows), through real token authentication as a coordinator."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coordinator.core.tenancy import unscoped

# The token with its user and person and the actor's memberships with their roles (one query,
# organisations.permissions.token_identity), and the page with its total are two queries; each list may add
# one for its rows' to-many relations (most read them in the page's own query, coordinator.core.rows). A list
# that keeps its answers in the cache reads its topics' stamps in the token's query too
# (coordinator.core.answers): no more on the request that builds the answer; the next reads no page.
QUERIES = {
    "/api/v1/competence/competences/": 2,  # the sources in the page's query
    "/api/v1/focusgroups/actions/": 2,
    "/api/v1/focusgroups/glossary/": 3,
    "/api/v1/focusgroups/groups/": 2,
    "/api/v1/focusgroups/meetings/": 2,
    "/api/v1/focusgroups/memberships/": 2,
    "/api/v1/focusgroups/notes/": 3,
    "/api/v1/organisations/": 2,
    "/api/v1/people/": 3,
    "/api/v1/programmes/": 3,
    "/api/v1/seminars/completions/": 2,
    "/api/v1/seminars/costs/": 2,
    "/api/v1/seminars/courses/": 2,
    "/api/v1/seminars/enrolments/": 3,
    "/api/v1/seminars/groups/": 3,
    "/api/v1/seminars/quotas/": 2,
    "/api/v1/seminars/rounds/": 2,
    "/api/v1/seminars/sessions/": 2,
    "/api/v1/seminars/waitlist/": 3,
    "/api/v1/shadowing/host-feedback/": 2,
    "/api/v1/shadowing/matching-runs/": 3,
    "/api/v1/shadowing/placements/": 2,
    "/api/v1/shadowing/reflections/": 2,
    "/api/v1/shadowing/requests/": 2,  # never kept: no stamps (shadowing.api.ShadowingRequestViewSet)
    "/api/v1/shadowing/slots/": 2,
    "/api/v1/shadowing/topics/": 2,
    "/api/v1/shadowing/workplaces/": 2,
    "/api/v1/units/": 2,
    "/api/v1/work-roles/": 2,
}

# Lists whose rows carry several to-many relations: each has several rows on the demo programme (with
# _more_related_rows), so that a query per row would show.
WITH_RELATIONS = [
    "/api/v1/focusgroups/glossary/",
    "/api/v1/focusgroups/meetings/",
    "/api/v1/seminars/courses/",
    "/api/v1/shadowing/matching-runs/",
    "/api/v1/shadowing/placements/",
    "/api/v1/shadowing/requests/",
]


@pytest.fixture
def coordinator_client(db) -> APIClient:
    call_command("seed_demo", "--quiet")
    token = Token.objects.create(user=User.objects.get(username="johan.bergstrom"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _more_related_rows() -> None:
    """What the demo leaves thin: units giving courses, a second prerequisite and a second matching run with
    its own placements (with their days and steps), so that a query per row or per relation would show."""
    from organisations.models import Unit
    from seminars.models import Course
    from shadowing.models import MatchingRun, Placement

    with unscoped():
        courses = list(Course.objects.order_by("pk"))
        for course in courses[:2]:
            course.provider_units.set(Unit.objects.filter(organisation__in=course.providers.all())[:2])
        courses[2].prerequisites.add(courses[0])
        first = MatchingRun.objects.get()
        second = MatchingRun.objects.create(
            programme=first.programme, created_by=first.created_by, status=first.status
        )
        moved = list(Placement.objects.filter(run=first).order_by("pk").values_list("pk", flat=True))[::2]
        Placement.objects.filter(pk__in=moved).update(run=second)


def _counts(client: APIClient, **query: int) -> tuple[dict[str, int], dict[str, int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, int] = {}
    rows: dict[str, int] = {}
    for path in QUERIES:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, query)
        assert response.status_code == 200, path
        counts[path] = len(queries)
        rows[path] = len(response.json()["results"])
    return counts, rows


def test_list_query_counts_on_the_demo_programmes(coordinator_client):
    _more_related_rows()

    counts, rows = _counts(coordinator_client)

    assert counts == QUERIES
    assert all(number >= 1 for number in rows.values())


def test_list_query_counts_do_not_grow_with_the_rows_of_a_page(coordinator_client):
    _more_related_rows()

    one_row, _ = _counts(coordinator_client, page_size=1)
    full_page, rows = _counts(coordinator_client)

    assert full_page == QUERIES
    assert {path: one_row[path] for path in WITH_RELATIONS} == {
        path: QUERIES[path] for path in WITH_RELATIONS
    }
    assert {path: rows[path] >= 2 for path in WITH_RELATIONS} == dict.fromkeys(WITH_RELATIONS, True)


def test_related_rows_read_in_the_page_query_are_the_relations_in_their_order(coordinator_client):
    from organisations.models import Unit
    from seminars.models import Course
    from shadowing.models import MatchingRun, Placement, PlacementDay, PlacementEvent

    _more_related_rows()
    with unscoped():
        expected_units = {
            course.pk: [u.pk for u in course.provider_units.order_by("organisation__name", "name", "pk")]
            for course in Course.objects.all()
        }
        expected_runs = {
            run.pk: [
                (
                    p.pk,
                    [
                        d.pk
                        for d in PlacementDay.objects.filter(placement=p).order_by("date", "starts_at", "pk")
                    ],
                    [
                        (e.to_status, e.at)
                        for e in PlacementEvent.objects.filter(placement=p).order_by("at", "pk")
                    ],
                )
                for p in Placement.objects.filter(run=run).order_by("pk")
            ]
            for run in MatchingRun.objects.all()
        }
        units_named = set(Unit.objects.filter(provided_courses__isnull=False).values_list("pk", flat=True))

    courses = coordinator_client.get("/api/v1/seminars/courses/").json()["results"]
    runs = coordinator_client.get("/api/v1/shadowing/matching-runs/").json()["results"]

    from rest_framework.fields import DateTimeField

    assert {course["id"]: course["provider_units"] for course in courses} == expected_units
    assert {u for course in courses for u in course["provider_units"]} == units_named
    assert {
        run["id"]: [
            (p["id"], [d["id"] for d in p["days"]], [(e["to_status"], e["at"]) for e in p["events"]])
            for p in run["placements"]
        ]
        for run in runs
    } == {
        pk: [
            (p, days, [(status, DateTimeField().to_representation(at)) for status, at in events])
            for p, days, events in rows
        ]
        for pk, rows in expected_runs.items()
    }
    assert len(runs) == 2
