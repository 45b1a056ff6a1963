"""The shadowing API: isolation between programmes, bad input, role checks, the matching-run proposal and
the placement actions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from coordinator.core.tenancy import unscoped
from organisations.models import PlatformRole
from shadowing.invites import reconcile_placements
from shadowing.models import MatchingRun, Placement, Reflection, ShadowingRequest, Slot, Workplace
from tests.coordinator.test_prepared_writes import count_compilations
from tests.factories import make_member
from tests.factories.shadowing import SlotFactory, WorkplaceFactory, future_weekday, make_request

pytestmark = pytest.mark.django_db
R = PlatformRole
P = Placement.Status
RS = ShadowingRequest.Status
BASE = "/api/v1/shadowing"


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- Isolation ------------------------------------------------------------------------------------------


def test_lists_show_nothing_of_another_programme(
    api, programme, coordinator, workplace_a, slot_a, shadower, foreign
):
    mine = make_request(programme, shadower)
    client = api(coordinator)
    assert _ids(client.get(f"{BASE}/workplaces/")) == {workplace_a.pk}
    assert _ids(client.get(f"{BASE}/slots/")) == {slot_a.pk}
    assert _ids(client.get(f"{BASE}/requests/")) == {mine.pk}
    assert _ids(client.get(f"{BASE}/placements/")) == set()
    assert _ids(client.get(f"{BASE}/matching-runs/")) == set()


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("workplaces", "workplace"),
        ("slots", "slot"),
        ("requests", "request"),
        ("placements", "placement"),
    ],
)
def test_objects_of_another_programme_answer_404_like_missing_ones(api, coordinator, foreign, path, key):
    client = api(coordinator)
    foreign_response = client.get(f"{BASE}/{path}/{foreign[key].pk}/")
    missing_response = client.get(f"{BASE}/{path}/999999/")
    assert foreign_response.status_code == 404
    assert foreign_response.json() == missing_response.json()


@pytest.mark.parametrize(
    ("path", "action", "body"),
    [
        ("placements", "accept", {}),
        ("placements", "cancel", {"reason": "x"}),
        ("requests", "approve", {}),
        ("workplaces", "publish", {}),
    ],
)
def test_actions_on_another_programmes_objects_answer_404(api, coordinator, foreign, path, action, body):
    key = {"placements": "placement", "requests": "request", "workplaces": "workplace"}[path]
    response = api(coordinator).post(f"{BASE}/{path}/{foreign[key].pk}/{action}/", body, format="json")
    assert response.status_code == 404
    assert Placement.unscoped_objects.get(pk=foreign["placement"].pk).status == P.AWAITING_HOST


def test_outsider_sees_nothing_of_ours(api, outsider, workplace_a, slot_a, shadower, programme, foreign):
    make_request(programme, shadower)
    client = api(outsider)
    assert _ids(client.get(f"{BASE}/workplaces/")) == {foreign["workplace"].pk}
    assert client.get(f"{BASE}/workplaces/{workplace_a.pk}/").status_code == 404
    assert client.get(f"{BASE}/slots/{slot_a.pk}/").status_code == 404


def test_anonymous_is_refused(api):
    assert api(None).get(f"{BASE}/workplaces/").status_code == 401


def test_unpublished_workplace_is_seen_by_its_organisation_and_coordinators_only(
    api, programme, org_a, host_a, coordinator, shadower
):
    draft = WorkplaceFactory(programme=programme, organisation=org_a, contact=host_a, is_published=False)
    assert api(shadower).get(f"{BASE}/workplaces/{draft.pk}/").status_code == 404
    assert api(host_a).get(f"{BASE}/workplaces/{draft.pk}/").status_code == 200
    assert api(coordinator).get(f"{BASE}/workplaces/{draft.pk}/").status_code == 200


def test_proposals_are_only_seen_by_coordinators(
    api, programme, slot_a, shadower, host_a, coordinator, make_placement
):
    placement = make_placement(make_request(programme, shadower), [slot_a], P.PROPOSED)
    assert api(shadower).get(f"{BASE}/placements/{placement.pk}/").status_code == 404
    assert api(host_a).get(f"{BASE}/placements/{placement.pk}/").status_code == 404
    assert api(coordinator).get(f"{BASE}/placements/{placement.pk}/").status_code == 200


# --- Bad input ------------------------------------------------------------------------------------------


def _request_body(**changes) -> dict:
    start = future_weekday(0)
    body = {
        "programme": None,
        "learning_goals": "Förstå mottagandet.",
        "days": 1,
        "consecutive": False,
        "languages": ["sv"],
        "windows": [{"starts_on": start.isoformat(), "ends_on": (start + timedelta(days=14)).isoformat()}],
        "preferences": [],
    }
    body.update(changes)
    return body


def test_request_create_through_the_api(api, programme, shadower, workplace_a, org_a):
    body = _request_body(
        programme=programme.pk,
        preferences=[{"rank": 1, "workplace": workplace_a.pk}, {"rank": 2, "organisation": org_a.pk}],
    )
    response = api(shadower).post(f"{BASE}/requests/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["status"], data["requester"], data["days"]) == ("pending_approval", shadower.pk, 1)
    assert data["preferences"] == [
        {"rank": 1, "organisation": None, "workplace": workplace_a.pk},
        {"rank": 2, "organisation": org_a.pk, "workplace": None},
    ]


@pytest.fixture
def compilations(monkeypatch):
    return count_compilations(monkeypatch)


def test_request_create_compiles_nothing_the_second_time(
    api, programme, shadower, workplace_a, compilations, django_capture_on_commit_callbacks
):
    # The request, its audit entry and the entry's filing under its programme, its windows and wishes are
    # SQL written once per connection: a second request compiles no query.
    body = _request_body(programme=programme.pk, preferences=[{"rank": 1, "workplace": workplace_a.pk}])
    client = api(shadower)
    assert client.post(f"{BASE}/requests/", body, format="json").status_code == 201
    compilations.clear()

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"{BASE}/requests/", body, format="json")

    assert (response.status_code, compilations) == (201, [])


def test_request_create_query_count_and_what_it_writes(
    api,
    programme,
    shadower,
    manager_b,
    workplace_a,
    workplace_b,
    topic,
    database_queue,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    from django.contrib.contenttypes.models import ContentType
    from django_tasks_db.models import DBTaskResult

    from coordinator.core.models import Notification, OutboundEmail
    from shadowing.models import AvailabilityWindow, Preference

    body = _request_body(
        programme=programme.pk,
        topics=[topic.pk],
        preferences=[{"rank": 1, "workplace": workplace_a.pk}],
    )
    client = api(shadower)
    client.get(f"{BASE}/requests/")
    ContentType.objects.get_for_model(ShadowingRequest)  # cached in a running server

    # The programme with the workplace named (one query); the topic; the service's savepoint; the archive
    # check, the insert and its audit trail (entry, programme); the topic, window and wish inserts; after
    # the commit, the line manager's notice queued. The answer is written from the rows in hand. Only a
    # wish for an organisation reads the programme's organisations and hosts.
    with django_assert_num_queries(12), django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{BASE}/requests/", body, format="json")

    assert response.status_code == 201, response.content
    created = ShadowingRequest.unscoped_objects.get()
    assert response.json()["id"] == created.pk
    assert list(created.topics.through.objects.values_list("topic_id", flat=True)) == [topic.pk]
    with unscoped():
        windows = list(AvailabilityWindow.objects.filter(request=created).values_list("starts_on", "ends_on"))
    assert windows == [(future_weekday(0), future_weekday(0) + timedelta(days=14))]
    assert list(
        Preference.unscoped_objects.filter(request=created).values_list("rank", "organisation", "workplace")
    ) == [(1, None, workplace_a.pk)]
    # The request told nobody itself: the queue does, once.
    assert Notification.unscoped_objects.count() == 0
    assert list(DBTaskResult.objects.values_list("task_path", "args_kwargs")) == [
        (
            "shadowing.services.request_notices.request_notices",
            {"args": [created.pk, "submitted"], "kwargs": {}},
        )
    ]
    database_queue()
    assert list(Notification.unscoped_objects.values_list("recipient", "title")) == [
        (manager_b.pk, f"{shadower.full_name} asks to go shadowing for 1 day")
    ]
    assert list(OutboundEmail.unscoped_objects.values_list("recipient", "to_address")) == [
        (manager_b.pk, manager_b.user.email)
    ]


@pytest.mark.parametrize("by", ["themselves", "coordinator"])
def test_request_create_answers_what_the_following_read_shows_byte_for_byte(
    api, programme, shadower, coordinator, workplace_a, org_a, topic, by
):
    # The answer is written from the rows the service wrote, not read back: topics (given twice and out
    # of name order), windows (out of date order) and wishes (out of rank order) must come out as a read
    # gives them, and the requester's name also when a coordinator files the request.
    from tests.factories.shadowing import TopicFactory

    first = TopicFactory(programme=programme, name="Arbetsmiljö")
    start = future_weekday(0)
    windows = [
        {
            "starts_on": (start + timedelta(days=21)).isoformat(),
            "ends_on": (start + timedelta(days=28)).isoformat(),
        },
        {"starts_on": start.isoformat(), "ends_on": (start + timedelta(days=14)).isoformat()},
    ]
    body = _request_body(
        programme=programme.pk,
        topics=[topic.pk, first.pk, topic.pk],
        languages=["sv", "en"],
        windows=windows,
        preferences=[{"rank": 2, "organisation": org_a.pk}, {"rank": 1, "workplace": workplace_a.pk}],
    )
    if by == "coordinator":
        body["person"] = shadower.pk
    client = api(coordinator if by == "coordinator" else shadower)

    response = client.post(f"{BASE}/requests/", body, format="json")
    read = client.get(f"{BASE}/requests/{response.json()['id']}/")

    assert (response.status_code, read.status_code) == (201, 200)
    assert response.json()["topics"] == [first.pk, topic.pk]
    assert [w["starts_on"] for w in response.json()["windows"]] == [w["starts_on"] for w in reversed(windows)]
    assert [p["rank"] for p in response.json()["preferences"]] == [1, 2]
    assert response.json()["requester_name"] == shadower.full_name
    assert response.content == read.content


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("programme", "other", 'Invalid pk "{value}" - object does not exist.'),
        ("programme", "9223372036854775808", 'Invalid pk "{value}" - object does not exist.'),
        ("programme", "första", "Incorrect type. Expected pk value, received str."),
        ("programme", True, "Incorrect type. Expected pk value, received bool."),
        ("programme", [1], "Incorrect type. Expected pk value, received list."),
        ("topics", "other", 'Invalid pk "{value}" - object does not exist.'),
        ("workplace", "other", 'Invalid pk "{value}" - object does not exist.'),
        ("workplace", "-1", 'Invalid pk "{value}" - object does not exist.'),
    ],
)
def test_request_create_refuses_foreign_missing_and_malformed_ids_alike(
    api, programme, other_programme, org_other, shadower, workplace_a, field, value, error
):
    # A foreign id is read by its key and its programme checked on the row: it must answer exactly as a
    # missing one, and a malformed one as DRF does, with nothing written.
    from tests.factories.shadowing import TopicFactory

    with unscoped():
        foreign = {
            "programme": other_programme.pk,
            "topics": TopicFactory(programme=other_programme, name="Beskæftigelse").pk,
            "workplace": WorkplaceFactory(
                programme=other_programme,
                organisation=org_other,
                contact=make_member(other_programme, org_other, R.HOST_CONTACT),
            ).pk,
        }[field]
    value = foreign if value == "other" else value
    body = _request_body(programme=programme.pk, preferences=[{"rank": 1, "workplace": workplace_a.pk}])
    if field == "programme":
        body["programme"] = value
    elif field == "topics":
        body["topics"] = [value]
    else:
        body["preferences"] = [{"rank": 1, "workplace": value}]

    response = api(shadower).post(f"{BASE}/requests/", body, format="json")

    message = [error.format(value=value)]
    expected = {"preferences": {"0": {"workplace": message}}} if field == "workplace" else {field: message}
    assert (response.status_code, response.json()) == (400, expected)
    assert ShadowingRequest.unscoped_objects.count() == 0


def test_request_create_takes_an_id_written_as_a_string(api, programme, shadower, workplace_a):
    body = _request_body(
        programme=str(programme.pk), preferences=[{"rank": 1, "workplace": str(workplace_a.pk)}]
    )

    response = api(shadower).post(f"{BASE}/requests/", body, format="json")

    assert response.status_code == 201, response.content
    assert (response.json()["programme"], response.json()["preferences"][0]["workplace"]) == (
        programme.pk,
        workplace_a.pk,
    )


def test_approve_query_count(
    api,
    programme,
    shadower,
    manager_b,
    database_queue,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    from coordinator.core.models import Notification, OutboundEmail

    waiting = make_request(programme, shadower, status=RS.PENDING_APPROVAL)
    client = api(manager_b)
    client.get(f"{BASE}/requests/")

    # The request; the savepoint and its release; the compare-and-set and its audit trail (entry,
    # programme); after the commit, the requester's notice queued. The answer is the request in hand.
    with django_assert_num_queries(7), django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{BASE}/requests/{waiting.pk}/approve/", {"note": "OK"}, format="json")

    assert (response.status_code, response.json()["status"]) == (200, "approved")
    assert Notification.unscoped_objects.count() == 0
    database_queue()
    assert list(Notification.unscoped_objects.values_list("recipient", "title", "body")) == [
        (
            shadower.pk,
            "Your shadowing request was approved",
            "The coordinator will match it with a workplace; you will hear from us.\n\nOK",
        )
    ]
    assert OutboundEmail.unscoped_objects.filter(recipient=shadower).count() == 1


@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_decision_answers_what_the_following_read_shows_byte_for_byte(
    api, programme, shadower, manager_b, workplace_a, org_a, topic, decision
):
    # The decision answers with the request it read and changed, not read back: it must be the request as
    # a read shows it (topics, windows and wishes included).
    with unscoped():
        waiting = make_request(
            programme,
            shadower,
            status=RS.PENDING_APPROVAL,
            preferences=[workplace_a, org_a],
            topics=[topic],
            languages=["sv", "en"],
        )
    client = api(manager_b)

    response = client.post(f"{BASE}/requests/{waiting.pk}/{decision}/", {"note": " Inte nu "}, format="json")
    read = client.get(f"{BASE}/requests/{waiting.pk}/")

    expected = {"approve": ("approved", "Inte nu"), "decline": ("declined", "Inte nu")}[decision]
    assert (response.status_code, read.status_code) == (200, 200)
    assert (response.json()["status"], response.json()["decision_note"]) == expected
    assert response.json()["approved_by"] == manager_b.pk
    assert len(response.json()["preferences"]) == 2
    assert response.content == read.content


def test_decisions_read_their_request_by_sql_compiled_once_per_reader(
    api, programme, shadower, manager_b, workplace_a, org_a, topic, django_assert_num_queries
):
    # The second decision of the same reader runs the SQL compiled for the first (one key), with the same
    # queries and an answer byte for byte the following read's; the first as well.
    from shadowing.api._decided import DECIDED

    with unscoped():
        first, second = (
            make_request(
                programme,
                shadower,
                status=RS.PENDING_APPROVAL,
                preferences=[workplace_a, org_a],
                topics=[topic],
                languages=["sv", "en"],
            )
            for _ in range(2)
        )
    client = api(manager_b)
    client.get(f"{BASE}/requests/")

    answers = [client.post(f"{BASE}/requests/{first.pk}/approve/", {"note": "Ja"}, format="json")]
    assert DECIDED.compiled_keys() == 1
    # The request; the savepoint and its release; the compare-and-set and its audit trail (entry, programme).
    # The requester's notice is queued after the commit (not run here).
    with django_assert_num_queries(6):
        answers.append(client.post(f"{BASE}/requests/{second.pk}/decline/", {"note": "Nej"}, format="json"))
    # Each action is a key of its own (its permissions may differ).
    assert DECIDED.compiled_keys() == 2
    answers.append(client.post(f"{BASE}/requests/{first.pk}/approve/", {"note": "Ja"}, format="json"))

    reads = [client.get(f"{BASE}/requests/{request.pk}/") for request in (first, second)]
    assert [answer.status_code for answer in answers] == [200, 200, 409]
    assert [answer.content for answer in answers[:2]] == [read.content for read in reads]
    assert [answer.json()["status"] for answer in answers[:2]] == ["approved", "declined"]
    assert DECIDED.compiled_keys() == 2


def test_decisions_by_compiled_sql_refuse_what_get_object_refuses(
    api, programme, shadower, manager_b, foreign, org_a
):
    # With the reader's SQL compiled, another programme's request, a request of someone else's staff, a
    # missing, malformed or too large id answer as ``get_object()`` does, and nothing changes.
    from shadowing.api._decided import DECIDED

    with unscoped():
        mine = make_request(programme, shadower, status=RS.PENDING_APPROVAL)
        not_my_staff = make_request(
            programme, make_member(programme, org_a, R.STAFF), status=RS.PENDING_APPROVAL
        )
        foreign["request"].status = RS.PENDING_APPROVAL
        foreign["request"].save()
    client = api(manager_b)
    assert client.post(f"{BASE}/requests/{mine.pk}/approve/", {}, format="json").status_code == 200
    assert DECIDED.compiled_keys() == 1

    answers = [
        client.post(f"{BASE}/requests/{pk}/approve/", {}, format="json")
        for pk in (foreign["request"].pk, not_my_staff.pk, 99_999_999, "12x", 2**31, "٣")
    ]

    assert [answer.status_code for answer in answers] == [404, 404, 404, 404, 404, 404]
    assert {answer.json()["detail"] for answer in answers} == {"Not found."}
    with unscoped():
        statuses = ShadowingRequest.objects.filter(
            pk__in=[foreign["request"].pk, not_my_staff.pk]
        ).values_list("status", flat=True)
        assert list(statuses) == [RS.PENDING_APPROVAL, RS.PENDING_APPROVAL]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"learning_goals": "x" * 3001}, "learning_goals"),
        ({"days": 4}, "days"),
        ({"days": "many"}, "days"),
        ({"languages": ["svenska"]}, "languages"),
        ({"windows": []}, "windows"),
        ({"windows": [{"starts_on": "not a date", "ends_on": "2030-01-01"}]}, "windows"),
        ({"preferences": [{"rank": 1, "organisation": 999999}]}, "preferences"),
    ],
)
def test_request_create_bad_input_is_400_and_saves_nothing(api, programme, shadower, changes, field):
    response = api(shadower).post(
        f"{BASE}/requests/", _request_body(programme=programme.pk, **changes), format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert ShadowingRequest.unscoped_objects.count() == 0


def test_request_preferring_a_foreign_workplace_or_programme_is_400(
    api, programme, shadower, foreign, other_programme
):
    client = api(shadower)
    response = client.post(
        f"{BASE}/requests/",
        _request_body(
            programme=programme.pk, preferences=[{"rank": 1, "workplace": foreign["workplace"].pk}]
        ),
        format="json",
    )
    assert response.status_code == 400
    assert "preferences" in response.json()
    response = client.post(f"{BASE}/requests/", _request_body(programme=other_programme.pk), format="json")
    assert response.status_code == 400
    assert "programme" in response.json()
    assert ShadowingRequest.unscoped_objects.filter(requester=shadower).count() == 0


def test_request_preferring_own_organisation_is_400(api, programme, shadower, org_b):
    response = api(shadower).post(
        f"{BASE}/requests/",
        _request_body(programme=programme.pk, preferences=[{"rank": 1, "organisation": org_b.pk}]),
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"preferences": ["Shadowing is always at another organisation than your own."]}


def test_malformed_json_is_400(api, programme, shadower, coordinator):
    for person, path in ((shadower, "requests/"), (coordinator, "matching-runs/"), (shadower, "slots/bulk/")):
        response = api(person).post(f"{BASE}/{path}", data="{not json", content_type="application/json")
        assert response.status_code == 400
    assert ShadowingRequest.unscoped_objects.count() == 0


def test_slots_bulk_through_the_api_and_its_errors(api, workplace_a, host_a, host_b, foreign):
    monday = future_weekday(0)
    body = {
        "workplace": workplace_a.pk,
        "starts_on": monday.isoformat(),
        "ends_on": (monday + timedelta(days=13)).isoformat(),
        "weekdays": [1, 3],
        "starts_at": "09:00",
        "ends_at": "15:00",
        "capacity": 2,
    }
    response = api(host_a).post(f"{BASE}/slots/bulk/", body, format="json")
    assert response.status_code == 201, response.content
    assert [row["date"] for row in response.json()] == [
        (monday + timedelta(days=d)).isoformat() for d in (1, 3, 8, 10)
    ]
    assert api(host_b).post(f"{BASE}/slots/bulk/", body, format="json").status_code == 403
    foreign_body = {**body, "workplace": foreign["workplace"].pk}
    response = api(host_a).post(f"{BASE}/slots/bulk/", foreign_body, format="json")
    assert response.status_code == 400
    assert "workplace" in response.json()
    response = api(host_a).post(
        f"{BASE}/slots/bulk/", {**body, "capacity": 9, "notes": "x" * 600}, format="json"
    )
    assert set(response.json()) == {"capacity", "notes"}
    assert Slot.unscoped_objects.filter(workplace=workplace_a).count() == 4


def test_workplace_edit_only_by_its_organisation(api, workplace_a, host_a, host_b, coordinator):
    for person in (host_b, coordinator):
        response = api(person).patch(f"{BASE}/workplaces/{workplace_a.pk}/", {"city": "Lund"}, format="json")
        assert response.status_code == 403
    response = api(host_a).patch(f"{BASE}/workplaces/{workplace_a.pk}/", {"city": "Lund"}, format="json")
    assert (response.status_code, response.json()["city"]) == (200, "Lund")
    response = api(host_a).patch(
        f"{BASE}/workplaces/{workplace_a.pk}/", {"max_visitors_per_day": 11, "owner": 1}, format="json"
    )
    assert response.status_code == 400
    assert Workplace.unscoped_objects.get(pk=workplace_a.pk).max_visitors_per_day == 3


# --- Requests, matching and placements ------------------------------------------------------------------


def test_approve_and_decline_actions(api, programme, shadower, manager_b, coordinator):
    first = make_request(programme, shadower, status=RS.PENDING_APPROVAL)
    second = make_request(programme, shadower, status=RS.PENDING_APPROVAL)
    assert api(coordinator).post(f"{BASE}/requests/{first.pk}/approve/", {}, format="json").status_code == 403
    response = api(manager_b).post(f"{BASE}/requests/{first.pk}/approve/", {"note": "OK"}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "approved")
    again = api(manager_b).post(f"{BASE}/requests/{first.pk}/approve/", {}, format="json")
    assert again.status_code == 409
    assert api(manager_b).post(f"{BASE}/requests/{second.pk}/decline/", {}, format="json").status_code == 400
    response = api(manager_b).post(
        f"{BASE}/requests/{second.pk}/decline/", {"note": "Inte nu"}, format="json"
    )
    assert response.json()["status"] == "declined"


def test_matching_run_returns_the_proposal_with_bound_gap_and_reasons(
    api, programme, org_a, workplace_a, slot_a, shadower, coordinator
):
    placed = make_request(programme, shadower)
    own = make_request(programme, make_member(programme, org_a, R.STAFF))
    response = api(coordinator).post(f"{BASE}/matching-runs/", {"programme": programme.pk}, format="json")
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["status"] == "proposed"
    assert (data["placed"], data["requests_considered"]) == (1, 2)
    assert data["bound"] >= data["objective"] > 0
    assert 0 <= data["gap"] <= 0.005
    assert [(p["request"], p["workplace"], p["status"]) for p in data["placements"]] == [
        (placed.pk, workplace_a.pk, "proposed")
    ]
    assert [p["slot"] for p in data["placements"][0]["days"]] == [slot_a.pk]
    assert data["unplaced"] == [
        {
            "request": own.pk,
            "reason": "only_own_organisation",
            "reason_text": (
                "Only your own organisation offers what you asked for, and shadowing is always elsewhere."
            ),
        }
    ]


def test_matching_run_is_for_coordinators_only(api, programme, shadower, host_a):
    for person in (shadower, host_a):
        assert (
            api(person).post(f"{BASE}/matching-runs/", {"programme": programme.pk}, format="json").status_code
            == 403
        )
    assert MatchingRun.unscoped_objects.count() == 0


def test_matching_run_bad_input(api, programme, coordinator, other_programme):
    client = api(coordinator)
    assert (
        client.post(f"{BASE}/matching-runs/", {"programme": other_programme.pk}, format="json").status_code
        == 400
    )
    response = client.post(
        f"{BASE}/matching-runs/", {"programme": programme.pk, "fairness_weight": -1}, format="json"
    )
    assert (response.status_code, list(response.json())) == (400, ["fairness_weight"])
    response = client.post(
        f"{BASE}/matching-runs/", {"programme": programme.pk, "speed": "fast"}, format="json"
    )
    assert (response.status_code, list(response.json())) == (400, ["speed"])
    assert MatchingRun.unscoped_objects.count() == 0


def test_confirm_twice_is_409_and_hand_edits(
    api, programme, org_b, workplace_a, slot_a, shadower, coordinator, foreign
):
    request = make_request(programme, shadower)
    client = api(coordinator)
    run = client.post(f"{BASE}/matching-runs/", {"programme": programme.pk}, format="json").json()
    placement_id = run["placements"][0]["id"]
    response = client.post(
        f"{BASE}/matching-runs/{run['id']}/remove/", {"placement": placement_id}, format="json"
    )
    assert (response.status_code, response.json()["placed"], response.json()["placements"]) == (200, 0, [])
    bad = client.post(
        f"{BASE}/matching-runs/{run['id']}/assign/",
        {"request": request.pk, "workplace": workplace_a.pk, "slots": [foreign["slot"].pk]},
        format="json",
    )
    assert (bad.status_code, list(bad.json())) == (400, ["slots"])
    response = client.post(
        f"{BASE}/matching-runs/{run['id']}/assign/",
        {"request": request.pk, "workplace": workplace_a.pk, "slots": [slot_a.pk]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert [p["request"] for p in response.json()["placements"]] == [request.pk]
    assert client.post(f"{BASE}/matching-runs/{run['id']}/confirm/").status_code == 200
    second = client.post(f"{BASE}/matching-runs/{run['id']}/confirm/")
    assert second.status_code == 409
    assert Slot.unscoped_objects.get(pk=slot_a.pk).booked == 1


def test_placement_actions_by_role(api, programme, slot_a, shadower, host_a, coordinator, make_placement):
    placement = make_placement(make_request(programme, shadower), [slot_a], P.AWAITING_HOST)
    url = f"{BASE}/placements/{placement.pk}"
    assert api(shadower).post(f"{url}/accept/").status_code == 403
    assert api(coordinator).post(f"{url}/accept/").status_code == 403
    response = api(host_a).post(f"{url}/accept/")
    assert (response.status_code, response.json()["status"]) == (200, "host_accepted")
    assert api(host_a).post(f"{url}/accept/").status_code == 409
    assert (
        api(host_a).post(f"{url}/confirm/", {"accept_confidentiality": True}, format="json").status_code
        == 403
    )
    refused = api(shadower).post(f"{url}/confirm/", {"accept_confidentiality": False}, format="json")
    assert (refused.status_code, list(refused.json())) == (400, ["accept_confidentiality"])
    assert api(shadower).post(f"{url}/confirm/", {}, format="json").status_code == 400
    response = api(shadower).post(f"{url}/confirm/", {"accept_confidentiality": True}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "confirmed")
    assert api(shadower).post(f"{url}/cancel/", {"reason": "x" * 1001}, format="json").status_code == 400
    response = api(coordinator).post(f"{url}/cancel/", {"reason": "Sjuk"}, format="json")
    assert (response.status_code, response.json()["status"], response.json()["cancel_reason"]) == (
        200,
        "cancelled",
        "Sjuk",
    )
    assert [e["to_status"] for e in response.json()["events"]] == [
        "awaiting_host",
        "host_accepted",
        "confirmed",
        "cancelled",
    ]


def test_reflection_and_feedback_through_the_api(
    api, programme, workplace_a, shadower, host_a, make_placement, foreign
):
    from django.utils import timezone

    slot = SlotFactory(workplace=workplace_a, date=timezone.localdate() - timedelta(days=1))
    placement = make_placement(make_request(programme, shadower), [slot], P.VISITED)
    body = {"placement": placement.pk, "learned": "Hur mottagandet fungerar", "how_used": "I kartläggningen"}
    assert api(host_a).post(f"{BASE}/reflections/", body, format="json").status_code == 403
    response = api(shadower).post(f"{BASE}/reflections/", {**body, "extra": 1}, format="json")
    assert response.status_code == 400
    response = api(shadower).post(
        f"{BASE}/reflections/", {**body, "placement": foreign["placement"].pk}, format="json"
    )
    assert (response.status_code, list(response.json())) == (400, ["placement"])
    response = api(shadower).post(f"{BASE}/reflections/", body, format="json")
    assert response.status_code == 201, response.content
    assert Placement.unscoped_objects.get(pk=placement.pk).status == P.REFLECTED
    response = api(host_a).post(
        f"{BASE}/host-feedback/", {"placement": placement.pk, "feedback": "Bra"}, format="json"
    )
    assert (response.status_code, response.json()["author"]) == (201, host_a.pk)
    feedback_id = response.json()["id"]
    reflection_id = Reflection.unscoped_objects.get(placement=placement).pk
    assert _ids(api(shadower).get(f"{BASE}/reflections/")) == {reflection_id}
    assert _ids(api(host_a).get(f"{BASE}/reflections/")) == set()
    assert _ids(api(shadower).get(f"{BASE}/host-feedback/")) == {feedback_id}


# --- Query counts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_placement_list_query_count(
    api, programme, workplace_a, org_b, coordinator, make_placement, n, django_assert_num_queries
):
    for i in range(n):
        person = make_member(programme, org_b, R.STAFF)
        make_placement(
            make_request(programme, person),
            [SlotFactory(workplace=workplace_a, date=future_weekday(i))],
            P.AWAITING_HOST,
        )
    client = api(coordinator)
    client.get(f"{BASE}/placements/")  # warm the actor and content-type caches
    # The placements with their days and steps in one query (the actor is cached after the first request).
    with django_assert_num_queries(1):
        response = client.get(f"{BASE}/placements/")
    assert len(response.json()["results"]) == n


@pytest.mark.parametrize("n", [1, 3])
def test_request_list_query_count(api, programme, org_b, coordinator, n, django_assert_num_queries):
    for _i in range(n):
        make_request(programme, make_member(programme, org_b, R.STAFF))
    client = api(coordinator)
    client.get(f"{BASE}/requests/")
    # The requests with their topics, windows and preferences in one query.
    with django_assert_num_queries(1):
        response = client.get(f"{BASE}/requests/")
    assert len(response.json()["results"]) == n


@pytest.mark.parametrize("n", [1, 3])
def test_workplace_list_query_count(api, programme, org_a, host_a, shadower, n, django_assert_num_queries):
    for i in range(n):
        WorkplaceFactory(programme=programme, organisation=org_a, contact=host_a, name=f"Plats {i}")
    client = api(shadower)
    client.get(f"{BASE}/workplaces/")
    # The page with its total and each workplace's topics, after the first request's token and actor.
    with django_assert_num_queries(1):
        response = client.get(f"{BASE}/workplaces/")
    assert len(response.json()["results"]) == n


@pytest.mark.parametrize("n", [1, 3])
def test_slot_and_run_list_query_counts(
    api, programme, workplace_a, coordinator, n, django_assert_num_queries
):
    from shadowing.models import MatchingRun as Run

    for i in range(n):
        SlotFactory(workplace=workplace_a, date=future_weekday(i))
        Run.unscoped_objects.create(programme=programme)
    client = api(coordinator)
    client.get(f"{BASE}/slots/")
    client.get(f"{BASE}/matching-runs/")
    with django_assert_num_queries(1):
        slots = client.get(f"{BASE}/slots/")
    with django_assert_num_queries(2):
        runs = client.get(f"{BASE}/matching-runs/")
    assert (len(slots.json()["results"]), len(runs.json()["results"])) == (n, n)


# --- More writes ----------------------------------------------------------------------------------------


def test_workplace_create_through_the_api(api, programme, host_a, topic, org_a, foreign):
    body = {
        "programme": programme.pk,
        "name": "Förvar Malmö",
        "street_address": "Industrigatan 5",
        "city": "Malmö",
        "description": "Följ arbetet på förvaret.",
        "topics": [topic.pk],
        "languages": ["sv", "ar"],
    }
    response = api(host_a).post(f"{BASE}/workplaces/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["organisation"], data["contact"], data["topics"], data["is_published"]) == (
        org_a.pk,
        host_a.pk,
        [topic.pk],
        False,
    )
    bad = api(host_a).post(
        f"{BASE}/workplaces/", {**body, "name": "Annan", "contact": foreign["host"].pk}, format="json"
    )
    assert (bad.status_code, list(bad.json())) == (400, ["contact"])
    assert Workplace.unscoped_objects.filter(programme=programme).count() == 1


def test_request_update_through_the_api(api, programme, shadower, staff_b, org_a, workplace_a):
    request = make_request(programme, shadower, status=RS.PENDING_APPROVAL)
    url = f"{BASE}/requests/{request.pk}/"
    assert api(staff_b).patch(url, {"days": 2}, format="json").status_code == 404
    response = api(shadower).patch(
        url, {"days": 2, "preferences": [{"rank": 1, "organisation": org_a.pk}]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["days"], response.json()["preferences"]) == (
        2,
        [{"rank": 1, "organisation": org_a.pk, "workplace": None}],
    )
    assert (
        api(shadower).patch(url, {"status": "approved"}, format="json").json()["status"] == "pending_approval"
    )


def test_slot_delete_through_the_api_tells_the_visitor(
    api, programme, slot_a, shadower, host_a, host_b, make_placement
):
    from coordinator.core.models import Notification

    placement = make_placement(make_request(programme, shadower), [slot_a], P.AWAITING_HOST)
    assert api(host_b).delete(f"{BASE}/slots/{slot_a.pk}/").status_code == 403
    assert api(host_a).delete(f"{BASE}/slots/{slot_a.pk}/").status_code == 204
    assert Placement.unscoped_objects.get(pk=placement.pk).status == P.CANCELLED
    assert Notification.unscoped_objects.filter(recipient=shadower, kind="shadowing.placement").count() == 1


def test_runs_of_another_programme_answer_404(api, coordinator, outsider, other_programme, programme):
    foreign_run = MatchingRun.unscoped_objects.create(programme=other_programme)
    own_run = MatchingRun.unscoped_objects.create(programme=programme)
    assert api(coordinator).get(f"{BASE}/matching-runs/{foreign_run.pk}/").status_code == 404
    assert api(coordinator).post(f"{BASE}/matching-runs/{foreign_run.pk}/confirm/").status_code == 404
    assert api(outsider).get(f"{BASE}/matching-runs/{own_run.pk}/").status_code == 404
    assert _ids(api(outsider).get(f"{BASE}/matching-runs/")) == {foreign_run.pk}
    assert MatchingRun.unscoped_objects.get(pk=foreign_run.pk).status == MatchingRun.Status.PROPOSED


def test_slot_patch_moves_the_visit_and_refuses_bad_changes(
    api, programme, slot_a, shadower, host_a, make_placement
):
    from coordinator.core.models import OutboundEmail

    placement = make_placement(make_request(programme, shadower), [slot_a], P.CONFIRMED)
    with unscoped():
        reconcile_placements([placement])  # what the confirmation sent
    url = f"{BASE}/slots/{slot_a.pk}/"
    for body, field in (
        ({"date": future_weekday(3).isoformat()}, "date"),
        ({"capacity": 4}, "capacity"),
        ({"capacity": 0}, "capacity"),
        ({"ends_at": "08:00"}, "ends_at"),
        ({"notes": "x" * 501}, "notes"),
    ):
        response = api(host_a).patch(url, body, format="json")
        assert (response.status_code, list(response.json())) == (400, [field])
    response = api(host_a).patch(url, {"starts_at": "10:00", "ends_at": "14:00"}, format="json")
    assert (response.status_code, response.json()["starts_at"]) == (200, "10:00:00")
    updates = OutboundEmail.unscoped_objects.filter(ics_method="REQUEST", subject__contains="Updated:")
    assert sorted(updates.values_list("to_address", flat=True)) == sorted(
        [shadower.user.email, host_a.user.email]
    )


def test_decline_note_too_long_is_400_and_nothing_changes(api, programme, shadower, manager_b):
    request = make_request(programme, shadower, status=RS.PENDING_APPROVAL)
    response = api(manager_b).post(
        f"{BASE}/requests/{request.pk}/decline/", {"note": "x" * 1001}, format="json"
    )
    assert (response.status_code, list(response.json())) == (400, ["note"])
    assert ShadowingRequest.unscoped_objects.get(pk=request.pk).status == RS.PENDING_APPROVAL


def test_single_slot_create_and_its_errors(api, workplace_a, host_a):
    from django.utils import timezone

    body = {
        "workplace": workplace_a.pk,
        "date": future_weekday(1).isoformat(),
        "starts_at": "09:00",
        "ends_at": "12:00",
    }
    response = api(host_a).post(f"{BASE}/slots/", body, format="json")
    assert (response.status_code, response.json()["capacity"], response.json()["free"]) == (201, 1, 1)
    again = api(host_a).post(f"{BASE}/slots/", body, format="json")
    assert (again.status_code, list(again.json())) == (400, ["starts_at"])
    past = api(host_a).post(
        f"{BASE}/slots/",
        {**body, "date": (timezone.localdate() - timedelta(days=1)).isoformat()},
        format="json",
    )
    assert (past.status_code, list(past.json())) == (400, ["date"])
    assert Slot.unscoped_objects.count() == 1


def test_request_preferring_an_organisation_without_a_published_workplace_is_400(
    api, programme, shadower, workplace_a, org_a
):
    workplace_a.is_published = False
    workplace_a.save(update_fields=["is_published"])
    response = api(shadower).post(
        f"{BASE}/requests/",
        _request_body(programme=programme.pk, preferences=[{"rank": 1, "organisation": org_a.pk}]),
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"preferences": [f"{org_a.name} has no published workplace to visit yet."]}
    assert ShadowingRequest.unscoped_objects.filter(requester=shadower).count() == 0
