"""Importing past visits: completed placements with their days and reflections, nothing booked or sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail

from coordinator.core.models import Notification, OutboundEmail
from organisations.models import Person, Programme
from organisations.permissions import actor_for
from shadowing.models import Placement, PlacementDay, PlacementEvent, Reflection, ShadowingRequest
from shadowing.services.history import visits_import
from tests.factories.shadowing import WorkplaceFactory

HEADER = "E-post;Arbetsplats;Första dag;Sista dag;Lärdomar;Användning\r\n"


def csv_file(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\r\n" for line in lines)).encode("utf-8")


@pytest.fixture
def mottagningen(programme: Programme, org_a: Any, member: Any) -> Any:
    contact = member(programme, org_a, "host_contact")
    return WorkplaceFactory(programme=programme, organisation=org_a, contact=contact, name="Mottagningen")


def test_visits_import_records_completed_placements_and_sends_nothing(
    programme: Programme,
    coordinator: Person,
    staff_b: Person,
    mottagningen: Any,
    in_programme: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    data = csv_file(
        f"{staff_b.user.email};MV / Mottagningen;2025-03-06;2025-03-10;"
        "Hur asylprövningen går till;I mina samtal",
        f"{staff_b.user.email};Mottagningen;14/4/2025;;;",
    )

    with in_programme(programme), django_capture_on_commit_callbacks(execute=True):
        report = visits_import(
            actor=actor_for(coordinator.user), programme=programme, data=data, dry_run=False
        )

    assert report.committed is True
    placements = list(
        Placement.unscoped_objects.order_by("pk").values_list("status", "workplace_id", "run_id")
    )
    assert placements == [("reflected", mottagningen.pk, None), ("visited", mottagningen.pk, None)]
    assert list(PlacementDay.unscoped_objects.order_by("date").values_list("date", "slot_id")) == [
        (dt.date(2025, 3, 6), None),
        (dt.date(2025, 3, 7), None),
        (dt.date(2025, 3, 10), None),
        (dt.date(2025, 4, 14), None),
    ]
    assert list(ShadowingRequest.unscoped_objects.values_list("status", flat=True)) == ["placed", "placed"]
    assert list(Reflection.unscoped_objects.values_list("learned", "how_used")) == [
        ("Hur asylprövningen går till", "I mina samtal")
    ]
    assert list(PlacementEvent.unscoped_objects.order_by("pk").values_list("to_status", "actor_id")) == [
        ("reflected", coordinator.pk),
        ("visited", coordinator.pk),
    ]
    assert (
        OutboundEmail.unscoped_objects.count(),
        Notification.unscoped_objects.count(),
        len(mail.outbox),
    ) == (0, 0, 0)

    with in_programme(programme):
        again = visits_import(
            actor=actor_for(coordinator.user), programme=programme, data=data, dry_run=False
        )
    assert [row.outcome for row in again.rows] == ["unchanged", "unchanged"]
    assert Placement.unscoped_objects.count() == 2


def test_visits_import_errors_name_row_and_column(
    programme: Programme,
    coordinator: Person,
    staff_a: Person,
    staff_b: Person,
    mottagningen: Any,
    in_programme: Any,
) -> None:
    data = csv_file(
        f"{staff_a.user.email};Mottagningen;2025-03-06;;;",
        f"{staff_b.user.email};Okänd;2025-03-06;;;",
        f"{staff_b.user.email};Mottagningen;2025-03-06;2025-03-04;;",
        f"{staff_b.user.email};Mottagningen;2025-03-03;2025-03-07;;",
        f"{staff_b.user.email};Mottagningen;2099-01-05;;;",
        f"{staff_b.user.email};Mottagningen;igår;;;",
        f"{staff_b.user.email};Mottagningen;2025-03-06;;;Användning utan lärdom",
    )

    with in_programme(programme):
        report = visits_import(
            actor=actor_for(coordinator.user), programme=programme, data=data, dry_run=False
        )

    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (2, "Arbetsplats", "Shadowing is at another organisation than one's own."),
        (3, "Arbetsplats", "This programme has no workplace with this name."),
        (4, "Sista dag", "The last day comes before the first."),
        (5, "Första dag", "A visit lasts one to three working days."),
        (6, "Första dag", "History is in the past: this visit has not ended yet."),
        (7, "Första dag", "Enter a date such as 2026-12-04, 4/12/2026 or an Excel date."),
        (8, "Lärdomar", "Write what was learned, or leave the reflection out."),
    ]
    assert Placement.unscoped_objects.count() == 0


def test_api_imports_visits_with_errors_naming_row_and_column(
    programme: Programme, coordinator: Person, staff_b: Person, mottagningen: Any, api: Any
) -> None:
    data = csv_file(
        f"{staff_b.user.email};Mottagningen;2025-03-06;;;", f"{staff_b.user.email};Okänd;2025-03-06;;;"
    )

    response = api(coordinator).post(
        f"/api/v1/shadowing/placements/import/?programme={programme.pk}", data, content_type="text/csv"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": 3, "column": "Arbetsplats", "message": "This programme has no workplace with this name."}
    ]
    assert Placement.unscoped_objects.count() == 0
