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
