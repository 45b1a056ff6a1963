"""The people list reads only the columns it shows of a person and the rows it joins (user, organisation,
unit, line manager), never the sign-in's password hash or the calendar tokens; a workflow's answer still
shows the person as the list does."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from organisations.models import PlatformRole as R
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def _sql_from(queries: CaptureQueriesContext, table: str, marker: str = "") -> str:
    (sql,) = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith("SELECT") and f'FROM "{table}"' in query["sql"] and marker in query["sql"]
    ]
    return sql


def test_people_list_reads_only_the_columns_it_shows(api, programme, org_a, unit_a, staff_a):
    colleague = make_member(
        programme, org_a, R.STAFF, unit=unit_a, line_manager=staff_a, user__first_name="Amina", phone="0701"
    )
    client = api(staff_a)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/people/", {"ordering": "user__last_name"})

    page = _sql_from(queries, "organisations_person")
    # The memberships of the page's people (not the reader's own, which the API reads to know their rights).
    memberships = _sql_from(queries, "organisations_membership", '"person_id" IN (')
    assert [
        name in page for name in ('"password"', '"last_login"', '"calendar_token_hash"', '"website"')
    ] == [
        False,
        False,
        False,
        False,
    ]
    assert ('"email"' in page, '"phone"' in page, '"erased_at"' in page) == (True, True, True)
    assert ('"joined_at"' in memberships, '"ended_at"' in memberships) == (False, False)
    row = next(row for row in response.json()["results"] if row["id"] == colleague.pk)
    assert (
        row["first_name"],
        row["phone"],
        row["organisation"]["name"],
        row["unit_name"],
        row["line_manager_name"],
        [m["programme"] for m in row["programmes"]],
    ) == ("Amina", "0701", "Migrationsverket", unit_a.name, staff_a.full_name, [programme.pk])


def test_a_workflows_answer_shows_the_person_as_the_trimmed_detail_does(api, programme, staff_a):
    client = api(staff_a)

    changed = client.patch(f"/api/v1/people/{staff_a.pk}/", {"job_title": "Utredare"}, format="json")
    detail = client.get(f"/api/v1/people/{staff_a.pk}/")

    assert (changed.status_code, changed.json()["job_title"]) == (200, "Utredare")
    assert detail.json() == changed.json()


def test_people_list_is_written_without_drfs_field_loop(api, staff_a, staff_b, monkeypatch):
    from rest_framework.fields import Field

    seen: set[str] = set()
    original = Field.get_attribute

    def get_attribute(field, instance):
        seen.add(type(field.parent).__name__)
        return original(field, instance)

    monkeypatch.setattr(Field, "get_attribute", get_attribute)

    response = api(staff_a).get("/api/v1/people/")

    # Written by its plan (``coordinator.core.plans``), the organisation as a nested row of its columns.
    assert sorted(seen) == []
    assert sorted(row["organisation"]["short_name"] for row in response.json()["results"]) == sorted(
        [staff_a.organisation.short_name, staff_b.organisation.short_name]
    )


def test_organisation_brief_is_written_as_drfs_field_loop_writes_it(org_a):
    from rest_framework import serializers as drf

    from organisations.serializers import OrganisationBriefSerializer

    serializer = OrganisationBriefSerializer()

    assert serializer.to_representation(org_a) == drf.ModelSerializer.to_representation(serializer, org_a)
    assert list(serializer.to_representation(org_a)) == ["id", "name", "short_name", "kind"]
