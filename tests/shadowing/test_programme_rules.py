"""The own-organisation rule at the level the programme chooses, requests filed on someone's behalf, the
topics list and reciprocal pairs through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from coordinator.core.models import Notification
from organisations.models import PlatformRole, Programme
from shadowing.matching.options import RequestSpec, WorkplaceSpec, build_problem
from shadowing.matching.options import SlotSpec as MatcherSlot
from shadowing.models import ShadowingRequest, Topic
from tests.factories import UnitFactory, make_member
from tests.factories.shadowing import (
    SlotFactory,
    TopicFactory,
    WorkplaceFactory,
    future_weekday,
    make_request,
)

R = PlatformRole
BASE = "/api/v1/shadowing"


def _body(programme, **changes) -> dict:
    start = future_weekday(0)
    body = {
        "programme": programme.pk,
        "learning_goals": "Förstå sfi.",
        "days": 1,
        "windows": [{"starts_on": start.isoformat(), "ends_on": (start + timedelta(days=14)).isoformat()}],
        "preferences": [],
    }
    body.update(changes)
    return body


@pytest.fixture
def sfi(programme, org_b):
    """Malmö stad's sfi unit with a published workplace; the shadower works at Malmö stad's unit_b."""
    unit = UnitFactory(organisation=org_b, name="Sfi Malmö")
    teacher = make_member(programme, org_b, R.STAFF, R.HOST_CONTACT, unit=unit)
    return WorkplaceFactory(programme=programme, organisation=org_b, unit=unit, contact=teacher)


# --- Own organisation or own unit -----------------------------------------------------------------------


def test_own_organisation_rule_refuses_another_unit_of_the_same_organisation(api, programme, shadower, sfi):
    response = api(shadower).post(
        f"{BASE}/requests/", _body(programme, preferences=[{"rank": 1, "workplace": sfi.pk}]), format="json"
    )
    assert (response.status_code, response.json()) == (
        400,
        {"preferences": ["Shadowing is always at another organisation than your own."]},
    )


def test_unit_rule_allows_another_unit_of_the_same_organisation_but_not_ones_own(
    api, programme, shadower, sfi, workplace_b
):
    Programme.unscoped_objects.filter(pk=programme.pk).update(own_rule="unit")
    at_sfi = api(shadower).post(
        f"{BASE}/requests/", _body(programme, preferences=[{"rank": 1, "workplace": sfi.pk}]), format="json"
    )
    # workplace_b belongs to the shadower's own unit.
    at_own_unit = api(shadower).post(
        f"{BASE}/requests/",
        _body(programme, preferences=[{"rank": 1, "workplace": workplace_b.pk}]),
        format="json",
    )
    assert at_sfi.status_code == 201, at_sfi.content
    assert at_own_unit.status_code == 400


def _spec(own: int | None = None, organisation: int = 1) -> RequestSpec:
    start = future_weekday(0)
    return RequestSpec(
        id=1,
        organisation=organisation,
        days=1,
        consecutive=False,
        windows=((start, start + timedelta(days=7)),),
        topics=frozenset(),
        languages=frozenset(),
        preferred_workplaces={},
        preferred_organisations={},
        partner=None,
        submitted_at=None,  # type: ignore[arg-type]
        own=own,
    )


def test_matcher_offers_another_unit_only_where_the_own_keys_differ():
    day = future_weekday(0)
    workplaces = [
        WorkplaceSpec(
            id=10, organisation=1, topics=frozenset(), languages=frozenset(), max_per_day=1, own=-7
        ),
        WorkplaceSpec(
            id=11, organisation=1, topics=frozenset(), languages=frozenset(), max_per_day=1, own=-8
        ),
    ]
    slots = [
        MatcherSlot(id=100, workplace=10, organisation=1, day=day, free=1),
        MatcherSlot(id=101, workplace=11, organisation=1, day=day, free=1),
    ]
    by_unit = build_problem([_spec(own=-8)], workplaces, slots)
    by_organisation = build_problem(
        [_spec()],
        [WorkplaceSpec(w.id, w.organisation, w.topics, w.languages, w.max_per_day) for w in workplaces],
        slots,
    )
    assert [o.workplace for o in by_unit.options] == [10]
    assert by_organisation.options == []
    assert by_organisation.unplaced == {1: "only_own_organisation"}


def test_matching_run_places_at_another_unit_under_the_unit_rule(api, programme, coordinator, shadower, sfi):
    Programme.unscoped_objects.filter(pk=programme.pk).update(own_rule="unit")
    SlotFactory(workplace=sfi, date=future_weekday(1))
    make_request(programme, shadower)
    run = api(coordinator).post(f"{BASE}/matching-runs/", {"programme": programme.pk}, format="json")
    assert run.status_code == 202, run.content
    placements = api(coordinator).get(f"{BASE}/placements/", {"run": run.json()["id"]}).json()["results"]
    assert [p["workplace"] for p in placements] == [sfi.pk]


# --- A request filed on someone's behalf ----------------------------------------------------------------


def test_coordinator_files_a_request_for_a_staff_member_who_is_told(
    api, programme, coordinator, shadower, workplace_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # told by the task queue after the commit
        response = api(coordinator).post(
            f"{BASE}/requests/",
            _body(programme, person=shadower.pk, preferences=[{"rank": 1, "workplace": workplace_a.pk}]),
            format="json",
        )
    assert response.status_code == 201, response.content
    assert (response.json()["requester"], response.json()["filed_by"]) == (shadower.pk, coordinator.pk)
    assert list(Notification.unscoped_objects.filter(recipient=shadower).values_list("title", flat=True)) == [
        f"{coordinator.full_name} asked for a shadowing visit on your behalf"
    ]


def test_only_coordinators_file_for_others_and_only_for_staff_of_the_programme(
    api, programme, staff_a, shadower, coordinator, outsider
):
    by_staff = api(staff_a).post(f"{BASE}/requests/", _body(programme, person=shadower.pk), format="json")
    for_outsider = api(coordinator).post(
        f"{BASE}/requests/", _body(programme, person=outsider.pk), format="json"
    )
    for_coordinator_only = make_member(programme, shadower.organisation, R.COORDINATOR)
    not_staff = api(coordinator).post(
        f"{BASE}/requests/", _body(programme, person=for_coordinator_only.pk), format="json"
    )
    assert (by_staff.status_code, by_staff.json()) == (
        403,
        {"detail": "Only the programme's coordinators may ask on someone's behalf."},
    )
    assert (for_outsider.status_code, list(for_outsider.json())) == (400, ["person"])
    assert (not_staff.status_code, not_staff.json()) == (
        400,
        {"person": ["Choose a staff member of this programme."]},
    )
    assert ShadowingRequest.unscoped_objects.count() == 0


def test_request_on_behalf_page(web, programme, coordinator, shadower, workplace_a):
    page = web(coordinator).get(f"/shadowing/requests/new/for/{shadower.pk}/")
    assert page.status_code == 200
    start = future_weekday(0)
    response = web(coordinator).post(
        f"/shadowing/requests/new/for/{shadower.pk}/",
        {
            "learning_goals": "Förstå mottagandet.",
            "days": "1",
            "window_1_starts_on": start.isoformat(),
            "window_1_ends_on": (start + timedelta(days=14)).isoformat(),
            "preference_1": f"w{workplace_a.pk}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    request = ShadowingRequest.unscoped_objects.get()
    assert (request.requester, request.filed_by) == (shadower, coordinator)
    assert web(shadower).get(f"/shadowing/requests/new/for/{coordinator.pk}/").status_code == 403


# --- Topics and reciprocal pairs ------------------------------------------------------------------------


def test_coordinators_manage_topics_members_read_them(api, programme, coordinator, staff_a, outsider):
    created = api(coordinator).post(
        f"{BASE}/topics/", {"programme": programme.pk, "name": "Asylprocessen"}, format="json"
    )
    assert created.status_code == 201
    topic_id = created.json()["id"]
    duplicate = api(coordinator).post(
        f"{BASE}/topics/", {"programme": programme.pk, "name": "asylprocessen"}, format="json"
    )
    by_staff = api(staff_a).post(f"{BASE}/topics/", {"programme": programme.pk, "name": "Sfi"}, format="json")
    renamed = api(coordinator).patch(f"{BASE}/topics/{topic_id}/", {"name": "Asyl"}, format="json")

    assert (duplicate.status_code, duplicate.json()) == (
        400,
        {"name": ["The programme already has a topic with this name."]},
    )
    assert by_staff.status_code == 403
    assert renamed.json() == {"id": topic_id, "programme": programme.pk, "name": "Asyl"}
    assert [t["name"] for t in api(staff_a).get(f"{BASE}/topics/").json()["results"]] == ["Asyl"]
    assert api(outsider).get(f"{BASE}/topics/{topic_id}/").status_code == 404
    assert api(coordinator).delete(f"{BASE}/topics/{topic_id}/").status_code == 204
    assert not Topic.unscoped_objects.filter(pk=topic_id).exists()


def test_topic_offered_by_a_workplace_is_not_removed(api, coordinator, workplace_a, topic):
    response = api(coordinator).delete(f"{BASE}/topics/{topic.pk}/")
    assert response.status_code == 400
    assert Topic.unscoped_objects.filter(pk=topic.pk).exists()


def test_coordinator_pairs_and_unpairs_requests(
    api, programme, coordinator, shadower, host_a, org_a, org_b, staff_a
):
    first = make_request(programme, shadower, preferences=[org_a])
    second = make_request(programme, staff_a, preferences=[org_b])
    paired = api(coordinator).post(f"{BASE}/requests/{first.pk}/pair/", {"partner": second.pk}, format="json")
    listed = api(coordinator).get(f"{BASE}/requests/", {"paired": "true"}).json()["results"]
    by_staff = api(shadower).post(f"{BASE}/requests/{first.pk}/unpair/")
    unpaired = api(coordinator).post(f"{BASE}/requests/{first.pk}/unpair/")

    assert (paired.status_code, paired.json()["partner"]) == (200, second.pk)
    assert sorted(r["id"] for r in listed) == sorted([first.pk, second.pk])
    assert by_staff.status_code == 403
    assert (unpaired.status_code, unpaired.json()["partner"]) == (200, None)
    assert ShadowingRequest.unscoped_objects.get(pk=second.pk).partner_id is None


def test_pairing_a_foreign_request_is_400(api, programme, coordinator, shadower, other_programme, outsider):
    first = make_request(programme, shadower)
    foreign = make_request(other_programme, outsider)
    response = api(coordinator).post(
        f"{BASE}/requests/{first.pk}/pair/", {"partner": foreign.pk}, format="json"
    )
    assert (response.status_code, list(response.json())) == (400, ["partner"])


def test_topics_list_query_count(api, programme, staff_a, django_assert_num_queries):
    for n in range(3):
        TopicFactory(programme=programme, name=f"Ämne {n}")
    with django_assert_num_queries(2):
        assert api(staff_a).get(f"{BASE}/topics/").json()["count"] == 3
