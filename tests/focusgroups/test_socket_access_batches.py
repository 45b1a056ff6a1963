"""The sockets of one group that fall due for their access re-check on the same delivery are asked of the
database together, and each is still judged on its own rows: one whose right is gone among many is closed
at once, the others receive."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import F
from django.test import Client
from prometheus_client import REGISTRY

from coordinator.asgi import application
from focusgroups.models import GroupMembership, Note
from focusgroups.services import documents
from organisations.access.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, ScopedConsumer
from tests.focusgroups.live import next_frame, notes_path, notes_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

SIGNED_OUT = {"type": "error", "code": "unauthenticated", "message": "You are signed out. Sign in again."}
FORBIDDEN = {"type": "error", "code": "forbidden", "message": "You no longer have access here."}
PRESENCE = {"type": "presence.update", "presence": []}


@pytest.fixture(autouse=True)
def every_delivery_rechecks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A delivery re-checks when the last check is older than the window; here every one is."""
    monkeypatch.setattr(ScopedConsumer, "delivery_recheck_seconds", 0.0)


def _session_key(person: Any) -> str:
    client = Client()
    client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")
    return str(client.cookies["sessionid"].value)


async def _signed_in_socket(person: Any, group_id: int) -> tuple[str, WebsocketCommunicator]:
    """A socket opened the way a browser opens it, with its own session; returns the session's key too."""
    key = await sync_to_async(_session_key)(person)
    headers = [(b"origin", settings.SITE_URL.encode()), (b"cookie", f"sessionid={key}".encode())]
    return key, WebsocketCommunicator(application, notes_path(group_id), headers=headers)


async def _open(*communicators: WebsocketCommunicator) -> None:
    for communicator in communicators:
        connected, code = await communicator.connect()
        assert connected, code
        assert (await communicator.receive_json_from(timeout=3))["type"] == "hello"
    # Each arrival tells the room: read those presence updates so that only what the test sends is left.
    for communicator in communicators:
        while not await communicator.receive_nothing(timeout=0.2):
            assert (await communicator.receive_json_from(timeout=3))["type"] == "presence"


async def _closed_with(communicator: WebsocketCommunicator, error: dict[str, Any], code: int) -> None:
    assert await next_frame(communicator, "error") == error
    assert await communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": code}


def _counted() -> tuple[float, float]:
    checks = REGISTRY.get_sample_value("samverkan_websocket_access_checks_total") or 0.0
    batches = REGISTRY.get_sample_value("samverkan_websocket_access_batches_total") or 0.0
    return checks, batches


async def test_sockets_due_on_one_delivery_are_asked_of_the_database_together(
    group, convener, member_a, member_b, observer
):
    sockets = [notes_socket(person, group.pk) for person in (convener, member_a, member_b, observer)]
    await _open(*sockets)
    checks, batches = _counted()

    await get_channel_layer().group_send(documents.notes_group(group.pk), PRESENCE)

    for communicator in sockets:
        assert await communicator.receive_json_from(timeout=3) == {"type": "presence", "presence": []}
    assert _counted() == (checks + 4, batches + 1)
    for communicator in sockets:
        await communicator.disconnect()


async def test_a_right_gone_among_sockets_asked_together_closes_that_socket_alone(
    group, convener, member_a, member_b, observer, note
):
    # Two devices of one person, each with its own session, and three more people's sockets; the changes
    # are written without signals, so only the re-check before the next delivery can find them.
    tab_key, tab = await _signed_in_socket(member_a, group.pk)
    _phone_key, phone = await _signed_in_socket(member_a, group.pk)
    others = {person.pk: notes_socket(person, group.pk) for person in (convener, member_b, observer)}
    await _open(tab, phone, *others.values())

    def take_rights_away() -> None:
        Session.objects.filter(session_key=tab_key).delete()
        GroupMembership.unscoped_objects.filter(person=member_b, group=group).update(
            is_active=False, left_at=F("joined_at")
        )
        GroupMembership.unscoped_objects.filter(person=observer, group=group).update(
            role=GroupMembership.Role.MEMBER
        )
        GroupMembership.unscoped_objects.filter(person=member_a, group=group).update(
            role=GroupMembership.Role.OBSERVER
        )

    await sync_to_async(take_rights_away)()

    convener_socket = others[convener.pk]
    await convener_socket.send_json_to(
        {"type": "save", "note": note.pk, "base_version": 1, "body": "Efter ändringarna"}
    )

    await _closed_with(tab, SIGNED_OUT, CLOSE_UNAUTHENTICATED)
    await _closed_with(others[member_b.pk], FORBIDDEN, CLOSE_FORBIDDEN)
    saved_on_phone = await next_frame(phone, "saved")
    # Each socket's fresh role reached it: the member made an observer no longer edits, the observer made
    # a member does.
    assert (saved_on_phone["body"], saved_on_phone["can_edit"]) == ("Efter ändringarna", False)
    saved_for_observer = await next_frame(others[observer.pk], "saved")
    assert (saved_for_observer["body"], saved_for_observer["can_edit"]) == ("Efter ändringarna", True)
    saved_for_convener = await next_frame(convener_socket, "saved")
    assert (saved_for_convener["version"], saved_for_convener["can_edit"]) == (2, True)
    version, body = await sync_to_async(
        lambda: Note.unscoped_objects.values_list("version", "body").get(pk=note.pk)
    )()
    assert (version, body) == (2, "Efter ändringarna")
    for communicator in (phone, convener_socket, others[observer.pk]):
        await communicator.disconnect()
