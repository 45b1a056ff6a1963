"""Matching runs on the task queue: the start answers with a queued run, a database worker works it out
(queued → solving → proposed | failed) with live progress over the socket, a second run of the programme
is refused, and a confirmation tells its people from a task that never tells anyone twice."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import IntegrityError, connection, transaction

from coordinator.core.exceptions import Conflict
from coordinator.core.models import Notification
from coordinator.core.tenancy import programme_scope, unscoped
from organisations.models import PlatformRole, RoleAssignment
from shadowing.consumers import RunProgressConsumer
from shadowing.models import MatchingRun, Placement
from shadowing.services import matching_queue, matching_runs
from tests.factories.shadowing import make_request
from tests.support import queue

BASE = "/api/v1/shadowing"
S = MatchingRun.Status


def run_worker() -> None:
    queue.run_worker()


def _status(run_id: int) -> tuple[str, int]:
    with unscoped():
        run = MatchingRun.unscoped_objects.get(pk=run_id)
    return run.status, run.placed


@pytest.mark.django_db
def test_starting_a_match_answers_with_a_queued_run_that_the_worker_works_out(
    database_queue, api, programme, workplace_a, slot_a, shadower, coordinator
):
    request = make_request(programme, shadower)
    response = api(coordinator).post(f"{BASE}/matching-runs/", {"programme": programme.pk}, format="json")
    assert response.status_code == 202, response.content
    data = response.json()
    assert (data["status"], data["placed"], data["placements"], data["phase"]) == ("queued", 0, [], "")

    run_worker()

    assert _status(data["id"]) == (S.PROPOSED, 1)
    with unscoped():
        assert list(
            Placement.unscoped_objects.filter(run_id=data["id"]).values_list("request_id", "status")
        ) == [(request.pk, "proposed")]
    again = api(coordinator).get(f"{BASE}/matching-runs/{data['id']}/").json()
    assert (again["status"], again["placed"], again["phase"], again["error"]) == ("proposed", 1, "", "")


@pytest.mark.django_db
def test_a_second_match_while_one_is_queued_is_refused(
    database_queue, api, web, programme, workplace_a, slot_a, shadower, coordinator
):
    make_request(programme, shadower)
    first = api(coordinator).post(f"{BASE}/matching-runs/", {"programme": programme.pk}, format="json")
    assert first.status_code == 202

    second = api(coordinator).post(f"{BASE}/matching-runs/", {"programme": programme.pk}, format="json")
    page = web(coordinator).post("/shadowing/coordinate/runs/new/", {"fairness_weight": "1"}, follow=True)

    assert second.status_code == 409
    assert second.json() == [
        "A match is already being worked out for this programme. Wait for it to finish, then start another."
    ]
    assert (
        "A match is already being worked out for this programme. Wait for it to finish, then start another."
        in page.content.decode()
    )
    with unscoped():
        assert MatchingRun.unscoped_objects.filter(programme=programme).count() == 1
    run_worker()
    third = api(coordinator).post(f"{BASE}/matching-runs/", {"programme": programme.pk}, format="json")
    assert third.status_code == 202  # the first one is finished: another may start


@pytest.mark.django_db
def test_the_run_page_refreshes_itself_until_the_run_is_finished(
    database_queue, web, programme, workplace_a, slot_a, shadower, coordinator
):
    make_request(programme, shadower)
    response = web(coordinator).post("/shadowing/coordinate/runs/new/", {"fairness_weight": "1"}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page
    assert "The match is being worked out" in page
    assert '<dd id="progress-phase">Waiting to start</dd>' in page

    run_worker()
    finished = web(coordinator).get(response.redirect_chain[-1][0]).content.decode()
    assert 'http-equiv="refresh"' not in finished
    assert "The match is being worked out" not in finished
    assert '<dd id="run-placed">1 of 1</dd>' in finished


@pytest.mark.django_db
def test_a_run_whose_coordinator_lost_the_role_fails_visibly(
    database_queue, api, web, programme, workplace_a, slot_a, shadower, coordinator
):
    make_request(programme, shadower)
    run_id = (
        api(coordinator)
        .post(f"{BASE}/matching-runs/", {"programme": programme.pk}, format="json")
        .json()["id"]
    )
    with unscoped():
        RoleAssignment.unscoped_objects.filter(
            membership__person=coordinator, role=PlatformRole.COORDINATOR
        ).delete()

    run_worker()

    with unscoped():
        run = MatchingRun.unscoped_objects.get(pk=run_id)
    assert (run.status, run.placed, run.error) == (
        S.FAILED,
        0,
        "PermissionDenied: Only the programme's coordinators may do this.",
    )


def _socket(run_id: int, person) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(RunProgressConsumer.as_asgi(), f"/ws/shadowing/runs/{run_id}/")
    communicator.scope["user"] = person.user
    communicator.scope["url_route"] = {"kwargs": {"run_id": run_id}}
    return communicator


@pytest.mark.django_db(transaction=True)
def test_the_socket_shows_each_phase_and_the_finished_run(
    database_queue, scope, programme, workplace_a, slot_a, shadower, coordinator, as_actor
):
    make_request(programme, shadower)
    run = matching_queue.matching_run_start(actor=as_actor(coordinator), programme=programme)

    async def watch() -> list[dict[str, object]]:
        communicator = _socket(run.pk, coordinator)
        connected, _code = await communicator.connect()
        assert connected
        frames = [await communicator.receive_json_from(timeout=5)]
        await sync_to_async(run_worker)()
        while not frames[-1]["finished"]:
            frames.append(await communicator.receive_json_from(timeout=10))
        await communicator.disconnect()
        return frames

    frames = asyncio.run(watch())
    assert frames[0] == {
        "type": "progress",
        "status": "queued",
        "status_label": "Waiting to start",
        "phase": "",
        "phase_label": "",
        "placed": 0,
        "gap": None,
        "finished": False,
    }
    phases = [frame["phase"] for frame in frames[1:-1]]
    assert phases[0] == "loading"
    assert phases[-1] == "saving"
    assert {"bound", "done"} <= set(phases)
    assert "Saving the proposal" in [frame["phase_label"] for frame in frames]
    assert (frames[-1]["status"], frames[-1]["placed"], frames[-1]["finished"]) == ("proposed", 1, True)


@pytest.mark.django_db(transaction=True)
def test_the_progress_socket_is_for_the_programmes_coordinators(programme, outsider, shadower, coordinator):
    with unscoped():
        run = MatchingRun.unscoped_objects.create(programme=programme, status=S.QUEUED)

    async def connect(person) -> tuple[bool, int | None]:
        communicator = _socket(run.pk, person)
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    assert asyncio.run(connect(shadower)) == (False, 4403)
    assert asyncio.run(connect(outsider)) == (False, 4404)
    assert asyncio.run(connect(coordinator))[0] is True


@pytest.mark.django_db
def test_confirming_queues_the_messages_and_a_second_run_of_the_task_tells_nobody_twice(
    database_queue, programme, workplace_a, slot_a, shadower, coordinator, host_a, as_actor, scope
):
    make_request(programme, shadower)
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)  # at once

    matching_runs.matching_run_confirm(actor=as_actor(coordinator), run=run)
    assert Notification.objects.filter(recipient__in=[host_a, shadower]).count() == 0  # queued, not yet told

    run_worker()
    assert matching_queue.notify_confirmed_run.call(run.pk) == 0  # run again (after a crash): nothing new
    assert sorted(Notification.objects.values_list("recipient_id", "kind")) == sorted(
        [(host_a.pk, "shadowing.hosting"), (shadower.pk, "shadowing.placement")]
    )


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_starting_at_once_start_one_run(
    postgres_only, programme, workplace_a, slot_a, shadower, coordinator, programme_admin
):
    from organisations.permissions import actor_for

    make_request(programme, shadower)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def start(person) -> None:
        try:
            barrier.wait()
            with programme_scope([programme.pk]), transaction.atomic():
                matching_queue.matching_run_start(
                    actor=actor_for(person.user), programme=programme, fairness_weight=None
                )
            outcomes.append("started")
        except Conflict:
            outcomes.append("refused")
        except Exception as exc:  # shown in the assertion below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    people = [coordinator, programme_admin] * 4
    from django.test.utils import override_settings

    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        threads = [threading.Thread(target=start, args=(person,)) for person in people]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["started"]
    with unscoped():
        assert MatchingRun.unscoped_objects.filter(programme=programme, status=S.QUEUED).count() == 1
        # The constraint, not the check before it, is what holds: a second active run cannot be written.
        with pytest.raises(IntegrityError), transaction.atomic():
            MatchingRun.unscoped_objects.create(programme=programme, status=S.SOLVING)
