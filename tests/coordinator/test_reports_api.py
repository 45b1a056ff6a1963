"""``/api/v1/reports/``: targets set through the API, progress, costs per result with the currency, and the
files Nordic Excel opens (CSV with semicolons, decimal commas and a byte-order mark; XLSX)."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from coordinator.core import registry
from organisations.models import PlatformRole, Target
from seminars.models import Completion, Round, RoundCost
from tests.factories import make_member
from tests.factories.outcomes import make_ptsd_data, target_for, visit
from tests.factories.seminars import CourseFactory, RoundFactory, SessionFactory
from tests.factories.shadowing import WorkplaceFactory

R = PlatformRole


@pytest.fixture
def costs_data(programme, other_programme, org_a, org_b, staff_a, staff_b, outsider, org_other):
    """A round that started 20 days ago: 20 000.00 in costs, 8 completed. A cancelled round's costs and
    another programme's do not count. Three visit days."""
    today = timezone.localdate()
    course = CourseFactory(programme=programme, title="PTSD – grundkurs")
    round_ = RoundFactory(course=course)
    SessionFactory(round=round_, starts_at=timezone.now() - timedelta(days=20))
    RoundCost.unscoped_objects.create(
        round=round_, programme=programme, kind="venue", amount=Decimal("12000.50")
    )
    RoundCost.unscoped_objects.create(
        round=round_, programme=programme, kind="lecture_fees", amount=Decimal("7999.50")
    )
    for _ in range(8):
        person = make_member(programme, org_a, R.STAFF)
        Completion.unscoped_objects.create(
            person=person, course=course, round=round_, method="attendance", completed_on=today
        )
    cancelled = RoundFactory(course=course, status=Round.Status.CANCELLED)
    SessionFactory(round=cancelled, starts_at=timezone.now() - timedelta(days=10))
    RoundCost.unscoped_objects.create(
        round=cancelled, programme=programme, kind="venue", amount=Decimal("999")
    )
    foreign = RoundFactory(course=CourseFactory(programme=other_programme))
    SessionFactory(round=foreign, starts_at=timezone.now() - timedelta(days=20))
    RoundCost.unscoped_objects.create(
        round=foreign, programme=other_programme, kind="venue", amount=Decimal("5000")
    )
    host = WorkplaceFactory(programme=programme, organisation=org_a, contact=staff_a)
    for days_ago in (2, 3, 4):
        visit(programme, host, staff_b, today - timedelta(days=days_ago))
    return {"from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat()}


@pytest.fixture
def competence_counter():
    registry.competence_gain_counters.register("test", lambda programme, start, end: 4)
    yield
    registry.competence_gain_counters._entries.pop("test")


def _costs(api, person, programme, period, fmt=""):
    return api(person).get(
        f"/api/v1/reports/costs/?programme={programme.pk}&from={period['from']}&to={period['to']}{fmt}"
    )


def test_costs_per_completed_participant_and_visit_day(api, web, programme, programme_admin, costs_data):
    response = _costs(api, programme_admin, programme, costs_data)
    assert response.status_code == 200
    lines = {line["key"]: line for line in response.json()["lines"]}
    assert lines["seminars"] == {
        "key": "seminars",
        "label": "Courses",
        "amount": "20000.00",
        "units": 8,
        "unit": "completed participant",
        "per_unit": "2500.00",
        "currency": "SEK",
        "parts": [],
    }
    assert (lines["shadowing"]["amount"], lines["shadowing"]["units"], lines["shadowing"]["per_unit"]) == (
        None,
        3,
        None,
    )
    # No competence profiles connected: no number, and the page says so.
    assert (
        lines["competences"]["amount"],
        lines["competences"]["units"],
        lines["competences"]["per_unit"],
    ) == ("20000.00", 0, None)
    page = web(programme_admin).get(
        "/organisations/effect/", {"start": costs_data["from"], "end": costs_data["to"]}
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert "SEK\xa020,000" in text and "SEK\xa02,500" in text


def test_cost_per_competence_gained_through_the_seam(
    api, programme, programme_admin, costs_data, competence_counter
):
    lines = {
        line["key"]: line for line in _costs(api, programme_admin, programme, costs_data).json()["lines"]
    }
    assert (lines["competences"]["units"], lines["competences"]["per_unit"]) == (4, "5000.00")


def test_costs_csv_opens_in_nordic_excel(api, programme, programme_admin, costs_data):
    response = _costs(api, programme_admin, programme, costs_data, "&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Activity;Cost;Currency;Result;Unit;Cost per result"
    assert lines[1] == "Courses;20000,00;SEK;8;completed participant;2500,00"
    assert lines[2] == "Job shadowing;;SEK;3;visit day;"


def test_costs_xlsx_keeps_amounts_as_numbers(api, programme, programme_admin, costs_data):
    response = _costs(api, programme_admin, programme, costs_data, "&format=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == ("Courses", 20000.0, "SEK", 8, "completed participant", 2500.0)


def test_costs_refuse_bad_input(api, programme, programme_admin, costs_data):
    client = api(programme_admin)
    assert client.get(f"/api/v1/reports/costs/?programme={programme.pk}&from=2026-13-01").status_code == 400
    assert (
        client.get(
            f"/api/v1/reports/costs/?programme={programme.pk}&from=2026-05-01&to=2026-01-01"
        ).status_code
        == 400
    )
    assert client.get("/api/v1/reports/costs/?programme=abc").status_code == 400
    assert client.get(f"/api/v1/reports/costs/?programme={programme.pk}&format=pdf").status_code == 400
    assert client.get(f"/api/v1/reports/costs/?programme={programme.pk}&colour=red").status_code == 400


def test_another_programmes_costs_answer_like_a_missing_programme(api, programme, outsider, costs_data):
    assert _costs(api, outsider, programme, costs_data).status_code == 400
    assert api(None).get(f"/api/v1/reports/costs/?programme={programme.pk}").status_code in (401, 403)


# --- Targets through the API ---------------------------------------------------------------------------


def _target_body(programme, course, **change):
    return {
        "programme": programme.pk,
        "title": "Alla handläggare har grundkursen",
        "measure": "seminars.completed_course",
        "subject_id": course.pk,
        "goal": 100,
        "starts_on": "2026-01-01",
        "deadline": "2026-06-30",
        **change,
    }


def test_programme_admin_sets_a_target_through_the_api(api, programme, programme_admin, work_role):
    course = CourseFactory(programme=programme)
    response = api(programme_admin).post(
        "/api/v1/reports/targets/", _target_body(programme, course, work_role=work_role.pk), format="json"
    )
    assert response.status_code == 201
    target = Target.unscoped_objects.get()
    assert response.json() == {
        "id": target.pk,
        "programme": programme.pk,
        "title": "Alla handläggare har grundkursen",
        "measure": "seminars.completed_course",
        "subject_id": course.pk,
        "work_role": work_role.pk,
        "goal": 100,
        "starts_on": "2026-01-01",
        "deadline": "2026-06-30",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"goal": 101},
        {"goal": "ten"},
        {"measure": "x"},
        {"deadline": "2025-01-01"},
        {"title": ""},
        {"extra": 1},
        {"subject_id": 2**63},
        {"title": "a\nb"},
        {"starts_on": "0001-01-01"},  # (progress counts weeks back from its deadline to its start)
    ],
)
def test_the_api_refuses_a_bad_target(api, programme, programme_admin, change):
    course = CourseFactory(programme=programme)
    response = api(programme_admin).post(
        "/api/v1/reports/targets/", _target_body(programme, course, **change), format="json"
    )
    assert response.status_code == 400
    assert Target.unscoped_objects.count() == 0


def test_the_api_refuses_another_programmes_rows(api, programme, other_programme, programme_admin, outsider):
    course = CourseFactory(programme=programme)
    foreign_course = CourseFactory(programme=other_programme)
    admin = api(programme_admin)
    assert (
        admin.post(
            "/api/v1/reports/targets/", _target_body(programme, foreign_course), format="json"
        ).status_code
        == 400
    )
    assert (
        admin.post(
            "/api/v1/reports/targets/", _target_body(other_programme, course), format="json"
        ).status_code
        == 400
    )
    assert (
        api(outsider)
        .post("/api/v1/reports/targets/", _target_body(programme, course), format="json")
        .status_code
        == 400
    )
    foreign = target_for(other_programme)
    assert admin.get(f"/api/v1/reports/targets/{foreign.pk}/").status_code == 404
    assert admin.delete(f"/api/v1/reports/targets/{foreign.pk}/").status_code == 404
    assert [row["id"] for row in admin.get("/api/v1/reports/targets/").json()["results"]] == []


def test_staff_neither_read_nor_set_targets(api, programme, staff_a, coordinator):
    course = CourseFactory(programme=programme)
    target_for(programme)
    assert api(staff_a).get("/api/v1/reports/targets/").json()["results"] == []
    assert (
        api(coordinator)
        .post("/api/v1/reports/targets/", _target_body(programme, course), format="json")
        .status_code
        == 403
    )
    assert len(api(coordinator).get("/api/v1/reports/targets/").json()["results"]) == 1


def test_progress_api_gives_the_hand_made_figures(api, programme, other_programme):
    data = make_ptsd_data(programme, other_programme, timezone.localdate())
    admin = make_member(programme, data.orgs["MV"], R.PROGRAMME_ADMIN)
    body = api(admin).get(f"/api/v1/reports/progress/?programme={programme.pk}").json()
    (target,) = body["targets"]
    assert (target["done"], target["needed"], target["percent"], target["status"]) == (
        12,
        26,
        46,
        "projected",
    )
    assert target["projected_on"] == (data.today + timedelta(days=49)).isoformat()
    assert target["behind"] == [data.orgs["AF"].pk]
    organisations = {row["name"]: row for row in target["organisations"]}
    assert organisations["RK"] == {
        "organisation": data.orgs["RK"].pk,
        "name": "RK",
        "hidden": True,
        "done": None,
        "needed": None,
        "percent": None,
        "series": None,
    }
    csv_text = (
        api(admin)
        .get(f"/api/v1/reports/progress/?programme={programme.pk}&format=csv")
        .content.decode("utf-8-sig")
    )
    assert csv_text.splitlines()[0] == "Target;Date;Organisation;Per cent of the goal"
    assert f"Alla handläggare har grundkursen i PTSD;{data.today.isoformat()};MV;60" in csv_text
    assert f"Alla handläggare har grundkursen i PTSD;{data.today.isoformat()};RK;" in csv_text.splitlines()


def test_measures_api_lists_what_targets_can_measure(api, programme, programme_admin, other_programme):
    course = CourseFactory(programme=programme, title="PTSD – grundkurs")
    CourseFactory(programme=other_programme, title="Andet kursus")
    body = api(programme_admin).get(f"/api/v1/reports/measures/?programme={programme.pk}").json()
    assert body["programme"] == programme.pk
    by_key = {row["key"]: row for row in body["measures"]}
    assert by_key["seminars.completed_course"]["subjects"] == [{"id": course.pk, "title": "PTSD – grundkurs"}]
    assert set(by_key) == {
        "seminars.completed_course",
        "shadowing.days_hosted",
        "shadowing.days_sent",
        "shadowing.days_hosted_and_sent",
        "focusgroups.every_organisation",
    }
