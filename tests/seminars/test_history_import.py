"""Importing past course completions: recorded as history, nothing sent, errors naming row and column."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from coordinator.core.models import Notification, OutboundEmail
from organisations.models import Person, Programme
from organisations.permissions import actor_for
from seminars.models import Completion
from seminars.services.history import completions_import
from tests.factories.seminars import CourseFactory, RoundFactory, SessionFactory

HEADER = "E-post;Kurs;Omgång;Slutförd;Anteckning\r\n"


def csv_file(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\r\n" for line in lines)).encode("utf-8")


@pytest.fixture
def ptsd(programme: Programme) -> Any:
    return CourseFactory(programme=programme, title="PTSD – grundkurs")


def test_completions_import_records_history_and_sends_nothing(
    programme: Programme,
    coordinator: Person,
    staff_a: Person,
    staff_b: Person,
    ptsd: Any,
    in_programme: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    round_ = RoundFactory(course=ptsd, label="Våren 2025")
    SessionFactory(round=round_, starts_at=dt.datetime(2025, 3, 4, 8, tzinfo=dt.UTC))
    data = csv_file(
        f"{staff_a.user.email};ptsd – grundkurs;2025-03-04;4/3/2025;Omgång 1",
        f"{staff_b.user.email};PTSD – grundkurs;;45719;",
    )

    with in_programme(programme), django_capture_on_commit_callbacks(execute=True):
        dry = completions_import(
            actor=actor_for(coordinator.user), programme=programme, data=data, dry_run=True
        )
        assert Completion.unscoped_objects.count() == 0
        report = completions_import(
            actor=actor_for(coordinator.user), programme=programme, data=data, dry_run=False
        )

    assert [row.outcome for row in dry.rows] == ["create", "create"]
    assert report.committed is True
    assert list(
        Completion.unscoped_objects.order_by("person_id").values_list(
            "person_id", "course_id", "round_id", "completed_on", "method", "note", "recorded_by_id"
        )
    ) == [
        (staff_a.pk, ptsd.pk, round_.pk, dt.date(2025, 3, 4), "attendance", "Omgång 1", coordinator.pk),
        (staff_b.pk, ptsd.pk, None, dt.date(2025, 3, 3), "attendance", "", coordinator.pk),
    ]
    assert (
        OutboundEmail.unscoped_objects.count(),
        Notification.unscoped_objects.count(),
        len(mail.outbox),
    ) == (0, 0, 0)

    with in_programme(programme):
        again = completions_import(
            actor=actor_for(coordinator.user), programme=programme, data=data, dry_run=True
        )
    assert [row.outcome for row in again.rows] == ["unchanged", "unchanged"]


def test_completions_import_errors_name_row_and_column(
    programme: Programme, coordinator: Person, staff_a: Person, outsider: Person, ptsd: Any, in_programme: Any
) -> None:
    tomorrow = (timezone.now() + dt.timedelta(days=2)).date().isoformat()
    data = csv_file(
        f"{outsider.user.email};PTSD – grundkurs;;2025-01-10;",
        f"{staff_a.user.email};Okänd kurs;;2025-01-10;",
        f"{staff_a.user.email};PTSD – grundkurs;Hösten 1999;10/1/25;",
        f"{staff_a.user.email};PTSD – grundkurs;;{tomorrow};",
        f"{staff_a.user.email};PTSD – grundkurs;;2025-01-10;",
        f"{staff_a.user.email};PTSD – grundkurs;;2025-01-11;",
    )

    with in_programme(programme):
        report = completions_import(
            actor=actor_for(coordinator.user), programme=programme, data=data, dry_run=False
        )

    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (2, "E-post", "No member of this programme has this email address."),
        (3, "Kurs", "This programme has no course with this title."),
        (4, "Omgång", "This course has no round with this name or start date."),
        (4, "Slutförd", "Enter a date such as 2026-12-04, 4/12/2026 or an Excel date."),
        (5, "Slutförd", "History is in the past: this date has not come yet."),
        (7, "Kurs", "This completion is also on row 6."),
    ]
    assert Completion.unscoped_objects.count() == 0


def test_completions_import_is_for_coordinators(
    programme: Programme, staff_a: Person, in_programme: Any
) -> None:
    from django.core.exceptions import PermissionDenied

    with in_programme(programme), pytest.raises(PermissionDenied):
        completions_import(actor=actor_for(staff_a.user), programme=programme, data=csv_file(), dry_run=True)


def test_history_page_checks_then_imports_and_refuses_staff(
    programme: Programme, coordinator: Person, staff_a: Person, ptsd: Any, web: Any
) -> None:
    import io

    upload = io.BytesIO(csv_file(f"{staff_a.user.email};PTSD – grundkurs;;2025-01-10;"))
    upload.name = "kurser.csv"
    client = web(coordinator)

    checked = client.post("/imports/history/seminars.completions/", {"file": upload})
    assert (checked.status_code, Completion.unscoped_objects.count()) == (200, 0)
    imported = client.post("/imports/history/seminars.completions/", {"digest": checked.context["digest"]})

    assert (imported.status_code, imported.context["report"].committed) == (200, True)
    assert list(Completion.unscoped_objects.values_list("person_id", "completed_on")) == [
        (staff_a.pk, dt.date(2025, 1, 10))
    ]
    assert web(staff_a).get("/imports/history/seminars.completions/").status_code == 403
    assert web(staff_a).get("/imports/history/shadowing.visits/").status_code == 403


def test_api_imports_completions_and_refuses_staff_and_outsiders(
    programme: Programme, coordinator: Person, staff_a: Person, outsider: Person, ptsd: Any, api: Any
) -> None:
    data = csv_file(f"{staff_a.user.email};PTSD – grundkurs;;2025-01-10;")
    url = f"/api/v1/seminars/completions/import/?programme={programme.pk}"

    dry = api(coordinator).post(url + "&dry_run=1", data, content_type="text/csv")
    assert (dry.status_code, dry.json()["counts"], Completion.unscoped_objects.count()) == (
        200,
        {"create": 1, "update": 0, "unchanged": 0, "error": 0},
        0,
    )
    assert api(staff_a).post(url, data, content_type="text/csv").status_code == 403
    assert api(outsider).post(url, data, content_type="text/csv").status_code == 400
    done = api(coordinator).post(url, data, content_type="text/csv")

    assert (done.status_code, done.json()["committed"], Completion.unscoped_objects.count()) == (200, True, 1)
