"""A new visit request's answers, recorded from the code before its fields were copied shallow and its
programme and workplaces read in one query: every refusal (malformed JSON, wrong types, foreign, missing
and too large ids, over-long text, unknown fields, a workplace of another programme of the reader) answers
byte for byte as recorded, and writes nothing."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from coordinator.core.tenancy import unscoped
from organisations.models import Membership, PlatformRole
from shadowing.models import ShadowingRequest
from tests.factories import make_member
from tests.factories.shadowing import WorkplaceFactory, future_weekday

BASE = "/api/v1/shadowing/requests/"
RECORD = os.environ.get("RECORD_ANSWERS") == "1"


def _body(ids: dict[str, int], **changes: object) -> dict[str, object]:
    start = future_weekday(0)
    body: dict[str, object] = {
        "programme": ids["programme"],
        "learning_goals": "Förstå mottagandet.",
        "days": 1,
        "windows": [{"starts_on": start.isoformat(), "ends_on": (start + timedelta(days=14)).isoformat()}],
        "preferences": [{"rank": 1, "workplace": ids["a"]}, {"rank": 2, "workplace": ids["c"]}],
    }
    body.update(changes)
    return body


# Each case: the body (from the ids of the test world), or raw bytes for malformed JSON.
CASES = {
    "malformed json": lambda ids: b'{"programme": ',
    "not an object": lambda ids: [1, 2],
    "programme a string": lambda ids: _body(ids, programme="x"),
    "programme a bool": lambda ids: _body(ids, programme=True),
    "programme missing": lambda ids: {k: v for k, v in _body(ids).items() if k != "programme"},
    "programme foreign": lambda ids: _body(ids, programme=ids["foreign_programme"]),
    "programme too large": lambda ids: _body(ids, programme=2**63),
    "programme zero": lambda ids: _body(ids, programme=0),
    "workplace foreign": lambda ids: _body(
        ids, preferences=[{"rank": 1, "workplace": ids["foreign_workplace"]}]
    ),
    "workplace missing": lambda ids: _body(ids, preferences=[{"rank": 1, "workplace": 999_999}]),
    "workplace too large": lambda ids: _body(ids, preferences=[{"rank": 1, "workplace": 2**40}]),
    "workplace negative": lambda ids: _body(ids, preferences=[{"rank": 1, "workplace": -3}]),
    "workplace a string": lambda ids: _body(ids, preferences=[{"rank": 1, "workplace": "Lund"}]),
    "workplace of the reader's other programme": lambda ids: _body(
        ids, preferences=[{"rank": 1, "workplace": ids["second_workplace"]}]
    ),
    "workplace at home": lambda ids: _body(ids, preferences=[{"rank": 1, "workplace": ids["b"]}]),
    "workplace twice": lambda ids: _body(
        ids, preferences=[{"rank": 1, "workplace": ids["a"]}, {"rank": 2, "workplace": ids["a"]}]
    ),
    "six wishes": lambda ids: _body(
        ids, preferences=[{"rank": n, "workplace": ids["a"]} for n in range(1, 7)]
    ),
    "wishes not a list": lambda ids: _body(ids, preferences={"rank": 1}),
    "a wish not an object": lambda ids: _body(ids, preferences=[7]),
    "unknown field": lambda ids: _body(ids, colour="blå"),
    "unknown field in a wish": lambda ids: _body(
        ids, preferences=[{"rank": 1, "workplace": ids["a"], "note": "x"}]
    ),
    "learning goals too long": lambda ids: _body(ids, learning_goals="å" * 5001),
    "days a string": lambda ids: _body(ids, days="två"),
    "days too many": lambda ids: _body(ids, days=99),
    "window malformed date": lambda ids: _body(ids, windows=[{"starts_on": "2026-13-01", "ends_on": "x"}]),
    "windows empty": lambda ids: _body(ids, windows=[]),
    "window in the past": lambda ids: _body(
        ids, windows=[{"starts_on": "2020-01-01", "ends_on": "2020-01-02"}]
    ),
    "topics foreign": lambda ids: _body(ids, topics=[ids["foreign_topic"]]),
    "languages malformed": lambda ids: _body(ids, languages=["svenska"]),
    "rank zero": lambda ids: _body(ids, preferences=[{"rank": 0, "workplace": ids["a"]}]),
}


@pytest.fixture
def world(programme, other_programme, org_a, org_b, org_other, shadower, workplace_a, workplace_b, topic):
    from tests.factories.shadowing import TopicFactory

    with unscoped():
        third = WorkplaceFactory(
            programme=programme,
            organisation=org_a,
            name="Kontor Lund",
            contact=make_member(programme, org_a, PlatformRole.HOST_CONTACT),
        )
        foreign = WorkplaceFactory(
            programme=other_programme,
            organisation=org_other,
            contact=make_member(other_programme, org_other, PlatformRole.HOST_CONTACT),
        )
        # The shadower takes part in the other programme too: its workplaces are in their scope.
        second = WorkplaceFactory(
            programme=other_programme,
            organisation=org_a,
            contact=make_member(other_programme, org_a, PlatformRole.HOST_CONTACT),
        )
        Membership.unscoped_objects.create(programme=other_programme, person=shadower)
        foreign_topic = TopicFactory(programme=other_programme, name="Beskæftigelse")
    return {
        "programme": programme.pk,
        "a": workplace_a.pk,
        "b": workplace_b.pk,
        "c": third.pk,
        "foreign_programme": 424_242,
        "foreign_workplace": foreign.pk,
        "second_workplace": second.pk,
        "foreign_topic": foreign_topic.pk,
    }


@pytest.mark.parametrize("case", list(CASES))
def test_a_refused_request_answers_as_recorded_and_writes_nothing(api, shadower, world, case):
    body = CASES[case](world)
    client = api(shadower)
    if isinstance(body, bytes):
        response = client.post(BASE, body, content_type="application/json")
    else:
        response = client.post(BASE, body, format="json")

    # No answer names an id of the test world (those differ between runs), only the literal ones above.
    answer = (response.status_code, response.content.decode())
    if RECORD:
        print(f"RECORDED {json.dumps([case, *answer], ensure_ascii=False)}")
    else:
        assert answer == tuple(RECORDED[case])
    assert ShadowingRequest.unscoped_objects.count() == 0


RECORDED: dict[str, list[object]] = {
    "malformed json": [
        400,
        '{"detail":"JSON parse error - Expecting value: line 1 column 15 (char 14)"}',
    ],
    "not an object": [
        400,
        '{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}',
    ],
    "programme a string": [
        400,
        '{"programme":["Incorrect type. Expected pk value, received str."]}',
    ],
    "programme a bool": [
        400,
        '{"programme":["Incorrect type. Expected pk value, received bool."]}',
    ],
    "programme missing": [
        400,
        '{"programme":["This field is required."]}',
    ],
    "programme foreign": [
        400,
        '{"programme":["Invalid pk \\"424242\\" - object does not exist."]}',
    ],
    "programme too large": [
        400,
        '{"programme":["Invalid pk \\"9223372036854775808\\" - object does not exist."]}',
    ],
    "programme zero": [
        400,
        '{"programme":["Invalid pk \\"0\\" - object does not exist."]}',
    ],
    "workplace foreign": [
        400,
        '{"preferences":["Choose a published workplace of this programme."]}',
    ],
    "workplace missing": [
        400,
        '{"preferences":{"0":{"workplace":["Invalid pk \\"999999\\" - object does not exist."]}}}',
    ],
    "workplace too large": [
        400,
        '{"preferences":{"0":{"workplace":["Invalid pk \\"1099511627776\\" - object does not exist."]}}}',
    ],
    "workplace negative": [
        400,
        '{"preferences":{"0":{"workplace":["Invalid pk \\"-3\\" - object does not exist."]}}}',
    ],
    "workplace a string": [
        400,
        '{"preferences":{"0":{"workplace":["Incorrect type. Expected pk value, received str."]}}}',
    ],
    "workplace of the reader's other programme": [
        400,
        '{"preferences":["Choose a published workplace of this programme."]}',
    ],
    "workplace at home": [
        400,
        '{"preferences":["Shadowing is always at another organisation than your own."]}',
    ],
    "workplace twice": [
        400,
        '{"preferences":["Each preference may be given once."]}',
    ],
    "six wishes": [
        400,
        '{"preferences":{"5":{"rank":["Ensure this value is less than or equal to 5."]}}}',
    ],
    "wishes not a list": [
        400,
        '{"preferences":{"non_field_errors":["Expected a list of items but got type \\"dict\\"."]}}',
    ],
    "a wish not an object": [
        400,
        '{"preferences":{"0":{"non_field_errors":["Invalid data. Expected a dictionary, but got int."]}}}',
    ],
    "unknown field": [
        400,
        '{"colour":["Unknown field."]}',
    ],
    "unknown field in a wish": [
        400,
        '{"preferences":{"0":{"note":["Unknown field."]}}}',
    ],
    "learning goals too long": [
        400,
        '{"learning_goals":["Ensure this field has no more than 3000 characters."]}',
    ],
    "days a string": [
        400,
        '{"days":["A valid integer is required."]}',
    ],
    "days too many": [
        400,
        '{"days":["Ensure this value is less than or equal to 3."]}',
    ],
    "window malformed date": [
        400,
        '{"windows":{"0":{"starts_on":'
        '["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],'
        '"ends_on":["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}}}',
    ],
    "windows empty": [
        400,
        '{"windows":["Give at least one period in which you can go."]}',
    ],
    "window in the past": [
        400,
        '{"windows":["A period must reach into the future."]}',
    ],
    "topics foreign": [
        400,
        '{"topics":["Choose topics from this programme\'s list."]}',
    ],
    "languages malformed": [
        400,
        '{"languages":{"0":["Ensure this field has no more than 3 characters.",'
        '"This value does not match the required pattern."]}}',
    ],
    "rank zero": [
        400,
        '{"preferences":{"0":{"rank":["Ensure this value is greater than or equal to 1."]}}}',
    ],
}


def test_the_programme_and_two_workplaces_are_read_in_one_query(
    api, shadower, world, django_assert_num_queries
):
    # The programme and the two workplaces named, one query (three before); the service's savepoint; the
    # archive check, the insert and its audit trail (entry, programme); the window and wish inserts; the
    # savepoint's release. The answer is the following read's, byte for byte.
    from django.contrib.contenttypes.models import ContentType

    client = api(shadower)
    client.get(BASE)
    ContentType.objects.get_for_model(ShadowingRequest)  # cached in a running server

    with django_assert_num_queries(9):
        response = client.post(BASE, _body(world), format="json")

    read = client.get(f"{BASE}{response.json()['id']}/")
    assert (response.status_code, response.content) == (201, read.content)
    assert [wish["workplace"] for wish in response.json()["preferences"]] == [world["a"], world["c"]]
