from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from coordinator.asgi import application
from coordinator.core import notifications
from coordinator.pages.consumers import NotificationConsumer
from organisations.access.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED


def _communicator(user):
    communicator = WebsocketCommunicator(NotificationConsumer.as_asgi(), "/ws/notifications/")
    communicator.scope["user"] = user
    return communicator


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_anonymous_socket_is_closed():
    communicator = _communicator(AnonymousUser())
    connected, code = await communicator.connect()
    assert (connected, code) == (False, CLOSE_UNAUTHENTICATED)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_user_without_profile_is_closed(django_user_model):
    user = await sync_to_async(django_user_model.objects.create_user)("noprofile", password="x" * 12)
    connected, code = await _communicator(user).connect()
    assert (connected, code) == (False, CLOSE_FORBIDDEN)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_notification_is_pushed_to_the_recipient_only(programme, staff_a, staff_b):
    mine = _communicator(staff_a.user)
    theirs = _communicator(staff_b.user)
    assert (await mine.connect())[0] and (await theirs.connect())[0]

    def notify():
        with transaction.atomic():
            return notifications.notify(
                programme=programme,
                recipients=[staff_a],
                kind="test.kind",
                title="Ny förfrågan",
                url="/shadowing/",
            )[0]

    created = await sync_to_async(notify)()
    message = await mine.receive_json_from(timeout=2)
    assert message == {
        "type": "notification",
        "id": created.pk,
        "kind": "test.kind",
        "title": "Ny förfrågan",
        "url": "/shadowing/",
    }
    assert await theirs.receive_nothing(timeout=0.2)
    await mine.disconnect()
    await theirs.disconnect()


def test_routing_uses_origin_and_auth_stack():
    from channels.security.websocket import OriginValidator

    assert isinstance(application.application_mapping["websocket"], OriginValidator)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "Message nested too deeply."),
        ('{"a":' * 17 + "1" + "}" * 17, "Message nested too deeply."),
        ('"' + "x" * 200_000 + '"', "Message too large."),
        ("{not json", "Malformed JSON."),
    ],
)
async def test_a_bad_frame_is_answered_with_an_error_and_the_socket_stays_open(
    programme, staff_a, frame, message
):
    communicator = _communicator(staff_a.user)
    assert (await communicator.connect())[0]

    await communicator.send_to(text_data=frame)
    reply = await communicator.receive_json_from(timeout=3)
    await communicator.send_to(bytes_data=b"\x00")
    binary_reply = await communicator.receive_json_from(timeout=3)

    assert reply == {"type": "error", "code": "invalid", "message": message}
    assert binary_reply == {"type": "error", "code": "invalid", "message": "Send JSON text messages."}
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_frame_at_the_nesting_limit_is_read(programme, staff_a):
    communicator = _communicator(staff_a.user)
    assert (await communicator.connect())[0]

    # Brackets inside strings do not count; sixteen levels are fine (the one-way socket then ignores it).
    await communicator.send_to(text_data='{"a":' * 16 + '"[[[[{{{{"' + "}" * 16)

    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()
