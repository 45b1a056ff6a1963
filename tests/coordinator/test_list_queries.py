"""Every API list answers in a fixed, small number of queries, measured on the demo programmes (dozens of
rows per list, with the relations each row shows), through real token authentication as a coordinator."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

# The token with its user and person, the actor's memberships with their roles, and the page with its total
# are three queries; each list may add one for its rows' to-many relations. Lists still above four read
# several to-many relations in a query each.
QUERIES = {
    "/api/v1/focusgroups/actions/": 3,
    "/api/v1/focusgroups/glossary/": 5,
    "/api/v1/focusgroups/groups/": 3,
    "/api/v1/focusgroups/meetings/": 5,
    "/api/v1/focusgroups/memberships/": 3,
    "/api/v1/focusgroups/notes/": 4,
    "/api/v1/organisations/": 4,
    "/api/v1/people/": 4,
    "/api/v1/programmes/": 4,
    "/api/v1/seminars/completions/": 3,
    "/api/v1/seminars/costs/": 3,
    "/api/v1/seminars/courses/": 7,
    "/api/v1/seminars/enrolments/": 4,
    "/api/v1/seminars/groups/": 4,
    "/api/v1/seminars/quotas/": 3,
    "/api/v1/seminars/rounds/": 3,
    "/api/v1/seminars/sessions/": 3,
    "/api/v1/seminars/waitlist/": 4,
    "/api/v1/shadowing/host-feedback/": 3,
    "/api/v1/shadowing/matching-runs/": 6,
    "/api/v1/shadowing/placements/": 5,
    "/api/v1/shadowing/reflections/": 3,
    "/api/v1/shadowing/requests/": 6,
    "/api/v1/shadowing/slots/": 3,
    "/api/v1/shadowing/topics/": 3,
    "/api/v1/shadowing/workplaces/": 4,
    "/api/v1/units/": 3,
    "/api/v1/work-roles/": 3,
}


@pytest.fixture
def coordinator_client(db) -> APIClient:
    call_command("seed_demo", "--quiet")
    token = Token.objects.create(user=User.objects.get(username="johan.bergstrom"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_list_query_counts_on_the_demo_programmes(coordinator_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, int] = {}
    totals: dict[str, int] = {}
    for path in QUERIES:
        with CaptureQueriesContext(connection) as queries:
            response = coordinator_client.get(path)
        assert response.status_code == 200, path
        counts[path] = len(queries)
        totals[path] = response.json()["count"]

    assert counts == QUERIES
    assert all(total >= 1 for total in totals.values())
