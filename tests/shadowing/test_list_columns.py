"""The request, placement and matching-run lists read only the columns they show of the rows they join (the
requester's name, the workplace's name), not the whole person, user and workplace rows; their answers stay
as a workflow's answer shows the same object."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from organisations.models import PlatformRole
from shadowing.models import MatchingRun, Placement
from tests.factories import make_member
from tests.factories.shadowing import SlotFactory, future_weekday, make_request

pytestmark = pytest.mark.django_db
BASE = "/api/v1/shadowing"

# Columns of the joined rows that no list shows: the user's password hash, the person's calendar token, the
# request's learning goals (a placement shows only its requester) and the workplace's address.
UNSHOWN = ('"password"', '"calendar_token_hash"', '"learning_goals"', '"street_address"')


def _page_sql(queries: CaptureQueriesContext, table: str) -> str:
    (sql,) = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith("SELECT") and f'FROM "{table}"' in query["sql"]
    ]
    return sql


@pytest.fixture
def placed(programme, org_b, workplace_a, make_placement):
    requester = make_member(
        programme, org_b, PlatformRole.STAFF, user__first_name="Amina", user__last_name="Hassan"
    )
    run = MatchingRun.unscoped_objects.create(programme=programme)
    request = make_request(programme, requester)
    slot = SlotFactory(workplace=workplace_a, date=future_weekday(3))
    return make_placement(request, [slot], Placement.Status.PROPOSED, run=run)


def test_placement_list_reads_only_the_requester_and_workplace_names(api, coordinator, placed):
    client = api(coordinator)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{BASE}/placements/")

    columns = _page_sql(queries, "shadowing_placement")
    assert [name in columns for name in UNSHOWN] == [False, False, False, False]
    assert ('"first_name"' in columns, '"erased_at"' in columns, '"name"' in columns) == (True, True, True)
    (row,) = response.json()["results"]
    assert (row["requester"], row["requester_name"], row["workplace_name"]) == (
        placed.request.requester_id,
        "Amina Hassan",
        "Mottagningsenheten",
    )


def test_matching_run_list_reads_only_the_names_its_proposals_show(api, coordinator, placed):
    client = api(coordinator)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{BASE}/matching-runs/")

    columns = _page_sql(queries, "shadowing_placement")
    assert [name in columns for name in UNSHOWN] == [False, False, False, False]
    (run,) = response.json()["results"]
    assert [(p["id"], p["requester_name"], p["workplace_name"]) for p in run["placements"]] == [
        (placed.pk, "Amina Hassan", "Mottagningsenheten")
    ]


def test_request_list_reads_only_the_requesters_name(api, programme, org_b, coordinator):
    requester = make_member(
        programme, org_b, PlatformRole.STAFF, user__first_name="Amina", user__last_name="Hassan"
    )
    request = make_request(programme, requester)
    client = api(coordinator)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{BASE}/requests/")

    columns = _page_sql(queries, "shadowing_shadowingrequest")
    assert ('"password"' in columns, '"calendar_token_hash"' in columns, '"phone"' in columns) == (
        False,
        False,
        False,
    )
    assert ('"learning_goals"' in columns, '"first_name"' in columns) == (True, True)
    assert [(row["id"], row["requester_name"]) for row in response.json()["results"]] == [
        (request.pk, "Amina Hassan")
    ]


def test_a_workflows_answer_shows_the_request_as_the_trimmed_detail_does(api, programme, org_b):
    requester = make_member(
        programme, org_b, PlatformRole.STAFF, user__first_name="Amina", user__last_name="Hassan"
    )
    request = make_request(programme, requester)
    client = api(requester)

    withdrawn = client.post(f"{BASE}/requests/{request.pk}/withdraw/")
    detail = client.get(f"{BASE}/requests/{request.pk}/")

    assert (withdrawn.status_code, withdrawn.json()["status"], withdrawn.json()["requester_name"]) == (
        200,
        "withdrawn",
        "Amina Hassan",
    )
    assert detail.json() == withdrawn.json()


# --- Nested rows written straight from their columns ----------------------------------------------------


@pytest.fixture
def fields_read(monkeypatch):
    """The serializer classes whose fields DRF read one by one (``Field.get_attribute``) during the test."""
    from rest_framework.fields import Field

    seen: set[str] = set()
    original = Field.get_attribute

    def get_attribute(field, instance):
        seen.add(type(field.parent).__name__)
        return original(field, instance)

    monkeypatch.setattr(Field, "get_attribute", get_attribute)
    return seen


def test_placement_request_and_run_lists_write_rows_without_drfs_field_loop(
    api, coordinator, placed, fields_read
):
    client = api(coordinator)

    placements = client.get(f"{BASE}/placements/")
    runs = client.get(f"{BASE}/matching-runs/")
    requests = client.get(f"{BASE}/requests/")

    # Written by their plans (``coordinator.core.plans``): no serializer field reads an attribute.
    assert sorted(fields_read) == []
    (row,) = placements.json()["results"]
    assert (len(row["days"]), runs.json()["results"][0]["placements"] == [row]) == (1, True)
    assert [len(r["windows"]) for r in requests.json()["results"]] == [1]


def test_nested_rows_are_written_as_drfs_field_loop_writes_them(placed):
    """Every value kind of the nested rows, nulls and a time in UTC read in another zone included."""
    from datetime import UTC, date, datetime, time

    from django.utils import timezone
    from rest_framework import serializers as drf

    from shadowing import serializers
    from shadowing.models import AvailabilityWindow, PlacementDay, PlacementEvent, Preference

    rows = [
        (
            serializers.PlacementDaySerializer,
            PlacementDay(
                pk=5, slot_id=None, date=date(2026, 3, 2), starts_at=time(8, 30), ends_at=time(16, 0, 15)
            ),
        ),
        (
            serializers.PlacementDaySerializer,
            PlacementDay(pk=6, slot_id=41, date=date(2026, 3, 3), starts_at=time(9), ends_at=time(12)),
        ),
        (
            serializers.PlacementEventSerializer,
            PlacementEvent(
                from_status="",
                to_status="proposed",
                actor_id=None,
                at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
                note="",
            ),
        ),
        (
            serializers.PlacementEventSerializer,
            PlacementEvent(
                from_status="proposed",
                to_status="awaiting_host",
                actor_id=7,
                at=datetime(2026, 7, 1, 10, 0, 0, 123456, tzinfo=UTC),
                note="Åter",
            ),
        ),
        (
            serializers.WindowSerializer,
            AvailabilityWindow(starts_on=date(2026, 1, 5), ends_on=date(2026, 2, 27)),
        ),
        (serializers.PreferenceSerializer, Preference(rank=1, organisation_id=None, workplace_id=3)),
        (serializers.PreferenceSerializer, Preference(rank=2, organisation_id=4, workplace_id=None)),
    ]
    for zone in ("Europe/Stockholm", "UTC"):
        with timezone.override(zone):
            for serializer_class, row in rows:
                serializer = serializer_class()
                assert serializer.to_representation(row) == drf.ModelSerializer.to_representation(
                    serializer, row
                ), (zone, serializer_class.__name__)
