"""A kept rounds list through bookings (``coordinator.core.answers.Live``): a booking renews the ``seats``
stamp only, the seats and the queue are read anew and filled into the kept bytes, which are then exactly
the bytes built anew; every other change of a round builds the list anew."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from rest_framework.response import Response

from coordinator.core import answers
from coordinator.core.models import AnswerStamp
from organisations.models import PlatformRole as R
from seminars.models import Enrolment, Round
from tests.coordinator import test_answers
from tests.coordinator.test_answers import (
    ROUNDS,
    _enrolled_through_the_api,
    _queued_by_bulk_create,
    _raw,
    fresh,
    kept,
    statement,
)
from tests.factories import make_member
from tests.factories.seminars import CourseFactory, RoundFactory

# The fixtures of the kept answers' tests: the programme's world and an API client per person.
world = test_answers.world
api = test_answers.api

FILLED = ["identity with stamps", '"seminars_round"']


def _tables(queries: Any) -> list[str]:
    return [statement(q["sql"]) for q in queries]


def _stamps(programme_id: int) -> dict[str, int]:
    return dict(AnswerStamp.objects.filter(programme_id=programme_id).values_list("topic", "version"))


def _seats(response: Any) -> list[tuple[str, int, int, int]]:
    return [
        (row["label"], row["seats_taken"], row["seats_free"], row["waiting_count"])
        for row in response.json()["results"]
    ]


@pytest.mark.parametrize(
    "book",
    [
        _enrolled_through_the_api,
        _queued_by_bulk_create,
        lambda w, api, web: Round.unscoped_objects.filter(pk=w.round.pk).update(
            seats_taken=F("seats_taken") + 2
        ),
        lambda w, api, web: _raw("UPDATE seminars_round SET seats_taken = 4 WHERE id = %s", w.round.pk),
    ],
    ids=["enrolled through the API", "queued by bulk_create", "seats taken by update", "seats by raw SQL"],
)
def test_a_booking_keeps_the_entry_and_fills_in_the_seats_read_anew(world, api, book):
    client = api(world.staff_a)
    before = kept(client, ROUNDS)
    stamps = _stamps(world.programme.pk)

    book(world, api, None)

    after_stamps = _stamps(world.programme.pk)
    assert after_stamps.get("rounds") == stamps.get("rounds")
    assert after_stamps["seats"] != stamps.get("seats")
    with CaptureQueriesContext(connection) as queries:
        filled = client.get(ROUNDS)
    assert _tables(queries) == FILLED  # the seats of the kept rows, in one query; no list built
    assert filled.content == fresh(client, ROUNDS).content
    assert _seats(filled) != _seats(before)
    # Kept again under the new stamps: the next reader is served the bytes as they are.
    assert kept(client, ROUNDS).content == filled.content


def test_the_seats_values_are_those_of_the_rounds_now(world, api):
    client = api(world.staff_a)
    assert _seats(kept(client, ROUNDS)) == [("Vår", 0, 5, 0)]

    Round.unscoped_objects.filter(pk=world.round.pk).update(seats_taken=5)
    _queued_by_bulk_create(world, api, None)

    assert _seats(client.get(ROUNDS)) == [("Vår", 5, 0, 1)]


def test_any_other_change_of_a_round_builds_the_list_anew(world, api, django_assert_num_queries):
    client = api(world.staff_a)
    kept(client, ROUNDS)
    stamps = _stamps(world.programme.pk)

    Round.unscoped_objects.filter(pk=world.round.pk).update(capacity=9)

    assert _stamps(world.programme.pk)["rounds"] != stamps.get("rounds")
    with django_assert_num_queries(2):  # the token with memberships and stamps, the page (not the seats)
        after = client.get(ROUNDS)
    assert _seats(after) == [("Vår", 0, 9, 0)]
    assert after.content == fresh(client, ROUNDS).content


def test_a_deleted_round_is_never_filled_in(world, api):
    client = api(world.staff_a)
    extra = RoundFactory(course=world.course, label="Höst", capacity=3)
    assert [row["label"] for row in kept(client, ROUNDS).json()["results"]] == ["Vår", "Höst"]

    Enrolment.unscoped_objects.all().delete()
    Round.unscoped_objects.filter(pk=extra.pk).delete()

    after = client.get(ROUNDS)
    assert [row["label"] for row in after.json()["results"]] == ["Vår"]
    assert after.content == fresh(client, ROUNDS).content


def test_a_booking_in_another_programme_leaves_this_programmes_entry_alone(
    world, api, other_programme, org_other
):
    outsider = make_member(other_programme, org_other, R.STAFF)
    theirs = RoundFactory(course=CourseFactory(programme=other_programme, title="Kursus"), label="Forår")
    mine_client, their_client = api(world.staff_a), api(outsider)
    mine, their_before = kept(mine_client, ROUNDS), kept(their_client, ROUNDS)

    Round.unscoped_objects.filter(pk=theirs.pk).update(seats_taken=F("seats_taken") + 1)

    with CaptureQueriesContext(connection) as queries:
        mine_after = mine_client.get(ROUNDS)
    # No seats read: its stamps are current.
    assert (_tables(queries), mine_after.content) == (["identity with stamps"], mine.content)
    their_after = their_client.get(ROUNDS)
    assert [row["label"] for row in their_after.json()["results"]] == ["Forår"]
    assert _seats(their_after)[0][1] == _seats(their_before)[0][1] + 1
    assert their_after.content == fresh(their_client, ROUNDS).content


def test_a_label_that_reads_like_a_marker_is_kept_as_written(world, api):
    Round.unscoped_objects.filter(pk=world.round.pk).update(label='"live0x0" live0x1')
    client = api(world.staff_a)
    kept(client, ROUNDS)
    _enrolled_through_the_api(world, api, None)

    after = client.get(ROUNDS)

    assert after.json()["results"][0]["label"] == '"live0x0" live0x1'
    assert after.content == fresh(client, ROUNDS).content


def test_a_page_without_the_live_fields_is_not_cut():
    live = answers.Live("seats", ("seats_taken",), lambda ids: {})
    response = Response({"count": 1, "results": [{"id": 1, "label": "Vår"}]})
    assert answers._cut(response, b"", live, ()) is None


def test_the_trigger_watches_every_column_of_a_round_but_its_seats():
    migration = importlib.import_module("seminars.migrations.0010_answer_seats_topic")
    columns = {field.column for field in Round._meta.concrete_fields} - {"id", "seats_taken"}
    assert set(migration.ROUND_COLUMNS) == columns


def _book_in_another_connection(round_id: int) -> None:
    from django.db import connections

    try:
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "UPDATE seminars_round SET seats_taken = seats_taken + 3 WHERE id = %s", [round_id]
            )
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_seats_taken_by_another_connection_are_filled_in_on_the_next_request(postgres_only, world, api):
    import threading

    client = api(world.staff_a)
    assert _seats(kept(client, ROUNDS)) == [("Vår", 0, 5, 0)]

    writer = threading.Thread(target=_book_in_another_connection, args=(world.round.pk,))
    writer.start()
    writer.join()

    with CaptureQueriesContext(connection) as queries:
        after = client.get(ROUNDS)
    assert _tables(queries) == FILLED
    assert _seats(after) == [("Vår", 3, 2, 0)]
    assert after.content == fresh(client, ROUNDS).content
