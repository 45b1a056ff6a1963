"""What visits cost: the programme's standard cost of a visit day and the costs recorded on visits, in the
cost report with exact figures; who may record them; bad input; other programmes' costs never shown."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from coordinator.core import registry
from coordinator.core.tenancy import programme_scope
from organisations.models import PlatformRole, Programme
from organisations.permissions import actor_for
from organisations.reports.costs import costs
from shadowing.models import Placement, PlacementCost, PlacementDay
from shadowing.services import costs as cost_services
from tests.factories.outcomes import visit
from tests.factories.shadowing import SlotFactory, WorkplaceFactory

R = PlatformRole
K = PlacementCost.Kind


def _record(placement: Placement, kind: str, amount: str) -> PlacementCost:
    return PlacementCost.unscoped_objects.create(
        programme_id=placement.programme_id, placement=placement, kind=kind, amount=Decimal(amount)
    )


def _add_day(placement: Placement, day: date) -> None:
    slot = SlotFactory(workplace=placement.workplace, date=day)
    PlacementDay.unscoped_objects.create(
        placement=placement, slot=slot, date=day, starts_at=slot.starts_at, ends_at=slot.ends_at
    )


@pytest.fixture
def visits(programme, other_programme, org_a, org_b, org_other, staff_a, staff_b, outsider, member):
    """In the period (the last 30 days): a two-day visit (travel 640.00, substitute cover 2 400.00) and a
    one-day visit (interpreter 1 200.50), three visit days. Not in it: a visit whose first day was 40 days
    ago (travel 500), a cancelled visit (999), a visit still to come (300), and another programme's visit
    (5 000, its standard cost 9 999)."""
    today = timezone.localdate()
    host = WorkplaceFactory(programme=programme, organisation=org_a, contact=staff_a)
    two_days = visit(programme, host, staff_b, today - timedelta(days=10))
    _add_day(two_days, today - timedelta(days=9))
    _record(two_days, K.TRAVEL, "640.00")
    _record(two_days, K.SUBSTITUTE_COVER, "2400.00")
    one_day = visit(programme, host, member(programme, org_b, R.STAFF), today - timedelta(days=3))
    _record(one_day, K.INTERPRETER, "1200.50")
    before = visit(programme, host, staff_b, today - timedelta(days=40))
    _record(before, K.TRAVEL, "500")
    cancelled = visit(programme, host, staff_b, today - timedelta(days=5), status=Placement.Status.CANCELLED)
    _record(cancelled, K.OTHER, "999")
    coming = visit(programme, host, staff_b, today + timedelta(days=5), status=Placement.Status.CONFIRMED)
    _record(coming, K.TRAVEL, "300")
    foreign_host = WorkplaceFactory(programme=other_programme, organisation=org_other, contact=outsider)
    foreign = visit(other_programme, foreign_host, outsider, today - timedelta(days=4))
    _record(foreign, K.TRAVEL, "5000")
    Programme.unscoped_objects.filter(pk=other_programme.pk).update(visit_day_cost=Decimal("9999"))
    return {"start": today - timedelta(days=30), "end": today, "two_days": two_days, "coming": coming}


def _set_rate(programme: Programme, rate: str | None) -> None:
    programme.visit_day_cost = None if rate is None else Decimal(rate)
    Programme.unscoped_objects.filter(pk=programme.pk).update(visit_day_cost=programme.visit_day_cost)


def _line(programme: Programme, period: dict, key: str = "shadowing"):
    with programme_scope([programme.pk]):
        return {line.key: line for line in costs(programme, period["start"], period["end"])}[key]


def test_cost_per_visit_day_adds_the_standard_cost_of_each_day_to_the_recorded_costs(programme, visits):
    _set_rate(programme, "1500")
    line = _line(programme, visits)
    # 3 days × 1 500.00 = 4 500.00; recorded 640.00 + 2 400.00 + 1 200.50 = 4 240.50.
    assert (line.amount, line.units, line.per_unit) == (Decimal("8740.50"), 3, Decimal("2913.50"))
    assert [(str(p.label), p.amount, p.rate, p.units) for p in line.parts] == [
        ("Staff time at the standard cost of a visit day", Decimal("4500.00"), Decimal("1500.00"), 3),
        (
            "Costs recorded on the visits (travel, substitute cover, interpreter, other)",
            Decimal("4240.50"),
            None,
            None,
        ),
    ]


def test_cost_per_visit_day_without_a_standard_cost_counts_the_recorded_costs(programme, visits):
    line = _line(programme, visits)
    assert (line.amount, line.units, line.per_unit) == (Decimal("4240.50"), 3, Decimal("1413.50"))
    assert [p.amount for p in line.parts] == [None, Decimal("4240.50")]


def test_cost_per_visit_day_with_a_standard_cost_and_nothing_recorded(programme, org_a, staff_a, staff_b):
    today = timezone.localdate()
    host = WorkplaceFactory(programme=programme, organisation=org_a, contact=staff_a)
    placement = visit(programme, host, staff_b, today - timedelta(days=6))
    _add_day(placement, today - timedelta(days=5))
    _set_rate(programme, "1250.25")
    line = _line(programme, {"start": today - timedelta(days=7), "end": today})
    assert (line.amount, line.units, line.per_unit) == (Decimal("2500.50"), 2, Decimal("1250.25"))
    assert [p.amount for p in line.parts] == [Decimal("2500.50"), None]


def test_cost_per_visit_day_unknown_with_no_rate_and_no_records(programme, org_a, staff_a, staff_b):
    today = timezone.localdate()
    host = WorkplaceFactory(programme=programme, organisation=org_a, contact=staff_a)
    visit(programme, host, staff_b, today - timedelta(days=6))
    line = _line(programme, {"start": today - timedelta(days=7), "end": today})
    assert (line.amount, line.units, line.per_unit) == (None, 1, None)


def test_cost_per_competence_gained_includes_the_visits(programme, visits):
    _set_rate(programme, "1500")
    registry.competence_gain_counters.register("test-costs", lambda programme, start, end: 4)
    try:
        line = _line(programme, visits, "competences")
    finally:
        registry.competence_gain_counters._entries.pop("test-costs")
    # No course costs: 8 740.50 over 4 competences gained.
    assert (line.amount, line.units, line.per_unit) == (Decimal("8740.50"), 4, Decimal("2185.13"))


def test_effect_page_says_which_part_is_the_standard_rate_and_which_recorded(
    web, programme, programme_admin, visits
):
    _set_rate(programme, "1500")
    page = web(programme_admin).get(
        "/organisations/effect/", {"start": visits["start"].isoformat(), "end": visits["end"].isoformat()}
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert "Staff time at the standard cost of a visit day: SEK\xa04,500 (3 × SEK\xa01,500)" in text
    assert (
        "Costs recorded on the visits (travel, substitute cover, interpreter, other): SEK\xa04,240.50" in text
    )
    assert "SEK\xa08,740.50" in text and "SEK\xa02,913.50" in text


def test_costs_api_report_lists_the_parts(api, programme, programme_admin, visits):
    _set_rate(programme, "1500")
    response = api(programme_admin).get(
        "/api/v1/reports/costs/",
        {"programme": programme.pk, "from": visits["start"].isoformat(), "to": visits["end"].isoformat()},
    )
    line = {line["key"]: line for line in response.json()["lines"]}["shadowing"]
    assert line == {
        "key": "shadowing",
        "label": "Job shadowing",
        "amount": "8740.50",
        "units": 3,
        "unit": "visit day",
        "per_unit": "2913.50",
        "currency": "SEK",
        "parts": [
            {
                "label": "Staff time at the standard cost of a visit day",
                "amount": "4500.00",
                "rate": "1500.00",
                "units": 3,
            },
            {
                "label": "Costs recorded on the visits (travel, substitute cover, interpreter, other)",
                "amount": "4240.50",
                "rate": None,
                "units": None,
            },
        ],
    }


# --- The service: who may record, what is refused -----------------------------------------------------


def test_coordinator_records_a_cost_on_the_audit_trail(programme, coordinator, visits, in_programme):
    with in_programme(programme):
        cost = cost_services.placement_cost_add(
            actor=actor_for(coordinator.user),
            placement=visits["coming"],
            kind=K.SUBSTITUTE_COVER,
            amount=Decimal("1800"),
            note="Vikarie en dag",
        )
        entries = list(LogEntry.objects.get_for_object(cost).values_list("action", "actor_id", "changes"))
    assert (cost.programme_id, cost.created_by_id, cost.amount) == (
        programme.pk,
        coordinator.pk,
        Decimal("1800"),
    )
    assert len(entries) == 1
    assert entries[0][0] == LogEntry.Action.CREATE
    assert entries[0][2]["amount"] == ["None", "1800"]


@pytest.mark.parametrize("who", ["staff_a", "staff_b", "host_admin", "visitor_admin"])
def test_others_may_not_record_costs(request, programme, org_a, org_b, member, visits, in_programme, who):
    people = {
        "host_admin": lambda: member(programme, org_a, R.ORGANISATION_ADMIN, R.HOST_CONTACT),
        "visitor_admin": lambda: member(programme, org_b, R.ORGANISATION_ADMIN),
    }
    person = people[who]() if who in people else request.getfixturevalue(who)
    with in_programme(programme), pytest.raises(PermissionDenied):
        cost_services.placement_cost_add(
            actor=actor_for(person.user), placement=visits["coming"], kind=K.TRAVEL, amount=Decimal("1")
        )
    with in_programme(programme):
        assert PlacementCost.objects.filter(placement=visits["coming"]).count() == 1


@pytest.mark.parametrize(
    ("kind", "amount", "note", "field"),
    [
        ("travel", "-0.01", "", "amount"),
        ("travel", "10000000000", "", "amount"),
        ("travel", "NaN", "", "amount"),
        ("taxi", "10", "", "kind"),
        ("travel", "10", "x" * 301, "note"),
    ],
)
def test_bad_costs_are_refused_with_the_field(
    programme, coordinator, visits, in_programme, kind, amount, note, field
):
    with in_programme(programme), pytest.raises(ValidationError) as refused:
        cost_services.placement_cost_add(
            actor=actor_for(coordinator.user),
            placement=visits["coming"],
            kind=kind,
            amount=Decimal(amount),
            note=note,
        )
    assert list(refused.value.message_dict) == [field]


def test_no_costs_on_a_cancelled_visit(programme, coordinator, org_a, staff_a, staff_b, in_programme):
    host = WorkplaceFactory(programme=programme, organisation=org_a, contact=staff_a)
    cancelled = visit(programme, host, staff_b, timezone.localdate(), status=Placement.Status.CANCELLED)
    with in_programme(programme), pytest.raises(ValidationError) as refused:
        cost_services.placement_cost_add(
            actor=actor_for(coordinator.user), placement=cancelled, kind=K.TRAVEL, amount=Decimal("10")
        )
    assert refused.value.message_dict == {
        "placement": ["Costs are recorded on visits that are arranged or made."]
    }


# --- API ----------------------------------------------------------------------------------------------

URL = "/api/v1/shadowing/costs/"


def test_api_coordinator_records_corrects_and_removes_a_cost(
    api, programme, coordinator, visits, in_programme
):
    client = api(coordinator)
    created = client.post(
        URL,
        {"placement": visits["coming"].pk, "kind": "interpreter", "amount": "1450.75", "note": "Arabiska"},
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in ("placement", "kind", "amount", "note")} == {
        "placement": visits["coming"].pk,
        "kind": "interpreter",
        "amount": "1450.75",
        "note": "Arabiska",
    }
    changed = client.patch(f"{URL}{body['id']}/", {"amount": "1500"}, format="json")
    assert (changed.status_code, changed.json()["amount"]) == (200, "1500.00")
    assert client.delete(f"{URL}{body['id']}/").status_code == 204
    with in_programme(programme):
        assert list(
            PlacementCost.objects.filter(placement=visits["coming"]).values_list("kind", "amount")
        ) == [("travel", Decimal("300.00"))]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "travel", "amount": "-1"}, "amount"),
        ({"kind": "travel", "amount": "abc"}, "amount"),
        ({"kind": "travel", "amount": "1e20"}, "amount"),
        ({"kind": "travel", "amount": "1.001"}, "amount"),
        ({"kind": "travel", "amount": ["1"]}, "amount"),
        ({"kind": "taxi", "amount": "1"}, "kind"),
        ({"kind": "travel", "amount": "1", "note": "x" * 301}, "note"),
        ({"kind": "travel", "amount": "1", "colour": "red"}, "colour"),
        ({"kind": "travel", "amount": "1", "placement": "1; DROP TABLE"}, "placement"),
        ({"kind": "travel", "amount": "1", "placement": 2**70}, "placement"),
    ],
)
def test_api_bad_input_is_400_with_the_field_and_saves_nothing(
    api, programme, coordinator, visits, in_programme, payload, field
):
    data = {"placement": visits["coming"].pk, **payload}
    response = api(coordinator).post(URL, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    with in_programme(programme):
        assert PlacementCost.objects.filter(placement=visits["coming"]).count() == 1


def test_api_malformed_json_is_400(api, coordinator, visits):
    response = api(coordinator).post(URL, '{"kind": "travel",', content_type="application/json")
    assert response.status_code == 400


def test_api_a_cost_cannot_move_to_another_visit(api, programme, coordinator, visits, in_programme):
    with in_programme(programme):
        cost = PlacementCost.objects.get(placement=visits["coming"])
    response = api(coordinator).patch(f"{URL}{cost.pk}/", {"placement": visits["two_days"].pk}, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {"placement": ["A cost cannot move to another visit."]},
    )


def test_api_staff_and_hosts_are_refused(api, programme, org_a, member, staff_a, staff_b, visits):
    host_admin = member(programme, org_a, R.ORGANISATION_ADMIN, R.HOST_CONTACT)
    for person in (staff_a, staff_b, host_admin):
        assert api(person).get(URL).status_code == 403
        assert (
            api(person)
            .post(URL, {"placement": visits["coming"].pk, "kind": "travel", "amount": "1"}, format="json")
            .status_code
            == 403
        )
    assert api(None).get(URL).status_code in (401, 403)


def test_api_other_programme_costs_are_missing(
    api, programme, outsider, visits, in_programme, other_programme
):
    with in_programme(programme):
        ours = PlacementCost.objects.get(placement=visits["coming"])
    client = api(outsider)  # a coordinator of the other programme
    listed = client.get(URL).json()["results"]
    assert [(row["kind"], row["amount"]) for row in listed] == [("travel", "5000.00")]
    assert client.get(f"{URL}{ours.pk}/").status_code == 404
    assert client.patch(f"{URL}{ours.pk}/", {"amount": "0"}, format="json").status_code == 404
    assert client.delete(f"{URL}{ours.pk}/").status_code == 404
    refused = client.post(
        URL, {"placement": visits["coming"].pk, "kind": "travel", "amount": "1"}, format="json"
    )
    assert refused.status_code == 400
    assert list(refused.json()) == ["placement"]
    with in_programme(programme):
        assert PlacementCost.objects.get(pk=ours.pk).amount == Decimal("300.00")


def test_api_list_filters_by_visit(api, coordinator, visits):
    listed = api(coordinator).get(URL, {"placement": visits["two_days"].pk}).json()["results"]
    assert [(row["kind"], row["amount"]) for row in listed] == [
        ("substitute_cover", "2400.00"),
        ("travel", "640.00"),
    ]


@pytest.mark.parametrize("extra", [0, 2])
def test_api_list_query_count(api, coordinator, visits, django_assert_num_queries, extra):
    for _ in range(extra):
        _record(visits["coming"], K.OTHER, "1")
    client = api(coordinator)
    client.get(URL)  # the first request reads the person's roles, kept on the signed-in user
    with django_assert_num_queries(1):
        response = client.get(URL, {"placement": visits["coming"].pk})
    assert len(response.json()["results"]) == 1 + extra


# --- Pages --------------------------------------------------------------------------------------------


def _page(placement: Placement) -> str:
    return f"/shadowing/placements/{placement.pk}/costs/"


def test_page_coordinator_sees_the_standard_cost_and_adds_a_cost(
    web, programme, coordinator, visits, in_programme
):
    _set_rate(programme, "1500")
    client = web(coordinator)
    page = client.get(_page(visits["two_days"]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "2 visit days" in text
    assert (
        "At the programme's standard cost of a visit day, SEK\xa01,500, this visit's staff time counts as "
        "SEK\xa03,000 in the reports" in text
    )
    assert "SEK\xa03,040" in text  # the recorded total
    added = client.post(_page(visits["two_days"]), {"kind": "travel", "amount": "99.50", "note": "Tåg"})
    assert (added.status_code, added["Location"]) == (302, _page(visits["two_days"]))
    with in_programme(programme):
        assert PlacementCost.objects.filter(placement=visits["two_days"], note="Tåg").get().amount == Decimal(
            "99.50"
        )


def test_page_bad_amount_is_a_form_error(web, programme, coordinator, visits, in_programme):
    response = web(coordinator).post(_page(visits["two_days"]), {"kind": "travel", "amount": "-5"})
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 0." in response.content.decode()
    with in_programme(programme):
        assert PlacementCost.objects.filter(placement=visits["two_days"]).count() == 2


def test_page_remove_a_cost(web, programme, coordinator, visits, in_programme):
    with in_programme(programme):
        cost = PlacementCost.objects.get(placement=visits["two_days"], kind=K.TRAVEL)
    response = web(coordinator).post(f"/shadowing/costs/{cost.pk}/delete/")
    assert (response.status_code, response["Location"]) == (302, _page(visits["two_days"]))
    with in_programme(programme):
        assert list(
            PlacementCost.objects.filter(placement=visits["two_days"]).values_list("kind", flat=True)
        ) == ["substitute_cover"]


def test_page_is_for_coordinators_only(web, programme, org_b, member, staff_a, staff_b, visits, outsider):
    visitor_admin = member(programme, org_b, R.ORGANISATION_ADMIN)
    for person in (staff_a, staff_b, visitor_admin):
        assert web(person).get(_page(visits["two_days"])).status_code == 403
    assert web(outsider).get(_page(visits["two_days"])).status_code == 404
    assert web(None).get(_page(visits["two_days"])).status_code == 302


def test_placement_page_links_to_costs_for_coordinators_only(web, coordinator, staff_b, visits):
    link = f'href="{_page(visits["two_days"])}"'
    assert link in web(coordinator).get(f"/shadowing/placements/{visits['two_days'].pk}/").content.decode()
    assert link not in web(staff_b).get(f"/shadowing/placements/{visits['two_days'].pk}/").content.decode()


# --- The programme setting ----------------------------------------------------------------------------


def test_programme_admin_sets_the_standard_cost_of_a_visit_day(api, programme, programme_admin):
    client = api(programme_admin)
    url = f"/api/v1/programmes/{programme.pk}/"
    set_ = client.patch(url, {"visit_day_cost": "1500.00"}, format="json")
    assert (set_.status_code, set_.json()["visit_day_cost"]) == (200, "1500.00")
    for bad in ("-1", "abc", "1e20"):
        refused = client.patch(url, {"visit_day_cost": bad}, format="json")
        assert (refused.status_code, list(refused.json())) == (400, ["visit_day_cost"])
    cleared = client.patch(url, {"visit_day_cost": None}, format="json")
    assert (cleared.status_code, cleared.json()["visit_day_cost"]) == (200, None)
    assert Programme.unscoped_objects.get(pk=programme.pk).visit_day_cost is None


def test_coordinator_may_not_set_the_standard_cost(api, programme, coordinator):
    response = api(coordinator).patch(
        f"/api/v1/programmes/{programme.pk}/", {"visit_day_cost": "1"}, format="json"
    )
    assert response.status_code in (403, 404)
    assert Programme.unscoped_objects.get(pk=programme.pk).visit_day_cost is None


# The session, its user, the person with their roles and programmes, the visit with its days, its costs.
QUERIES_OF_THE_COSTS_PAGE = 6


@pytest.mark.parametrize("extra", [0, 2])
def test_page_query_count(web, coordinator, visits, django_assert_num_queries, extra):
    for _ in range(extra):
        _record(visits["two_days"], K.OTHER, "1")
    client = web(coordinator)
    with django_assert_num_queries(QUERIES_OF_THE_COSTS_PAGE):
        response = client.get(_page(visits["two_days"]))
    assert response.content.decode().count('data-confirm="Remove this cost?"') == 2 + extra
    assert response.status_code == 200


def test_settings_page_sets_and_clears_the_standard_cost(web, programme, programme_admin):
    client = web(programme_admin)
    values = {
        "name": programme.name,
        "language": "sv",
        "time_zone": "Europe/Stockholm",
        "coordinator_email": "samordnare@malmo.example",
        "own_rule": "organisation",
    }
    assert "Standard cost of a visit day" in client.get("/organisations/programme/").content.decode()
    saved = client.post("/organisations/programme/", {**values, "visit_day_cost": "1850.50"})
    assert saved.status_code == 302
    assert Programme.unscoped_objects.get(pk=programme.pk).visit_day_cost == Decimal("1850.50")
    refused = client.post("/organisations/programme/", {**values, "visit_day_cost": "-1"})
    assert refused.status_code == 400
    assert Programme.unscoped_objects.get(pk=programme.pk).visit_day_cost == Decimal("1850.50")
    assert client.post("/organisations/programme/", {**values, "visit_day_cost": ""}).status_code == 302
    assert Programme.unscoped_objects.get(pk=programme.pk).visit_day_cost is None
