from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.test import Client

from coordinator.asgi import application
from coordinator.core import notifications
from coordinator.pages.consumers import NotificationConsumer
from organisations.access.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, ScopedConsumer


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


SIGNED_OUT = {"type": "error", "code": "unauthenticated", "message": "You are signed out. Sign in again."}


async def _signed_in_bell(person):
    """The notifications socket opened as a browser opens it: the session cookie through the ASGI stack."""

    def sign_in():
        client = Client()
        client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    client = await sync_to_async(sign_in)()
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"origin", settings.SITE_URL.encode()), (b"cookie", cookie)]
    return client, WebsocketCommunicator(application, "/ws/notifications/", headers=headers)


def _notify_in_transaction(programme, person):
    with transaction.atomic():
        return notifications.notify(
            programme=programme,
            recipients=[person],
            kind="test.kind",
            title="Ny förfrågan",
            url="/shadowing/",
        )[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_logout_closes_the_notifications_socket(programme, staff_a):
    client, bell = await _signed_in_bell(staff_a)
    assert (await bell.connect())[0]

    await sync_to_async(client.post)("/logout/")

    assert await bell.receive_json_from(timeout=3) == SIGNED_OUT
    assert await bell.receive_output(timeout=3) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
    await bell.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_no_notification_reaches_a_deactivated_account(
    programme, staff_a, django_user_model, monkeypatch
):
    # A delivery re-checks when the last check is older than the window; here every one is.
    monkeypatch.setattr(ScopedConsumer, "delivery_recheck_seconds", 0.0)
    bell = _communicator(staff_a.user)
    assert (await bell.connect())[0]
    # Written without signals: the socket has not been told, and the delivery asks for itself.
    await sync_to_async(
        lambda: django_user_model.objects.filter(pk=staff_a.user.pk).update(is_active=False)
    )()

    await sync_to_async(_notify_in_transaction)(programme, staff_a)

    assert await bell.receive_json_from(timeout=3) == SIGNED_OUT
    assert await bell.receive_output(timeout=3) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
    await bell.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_deleting_the_account_closes_its_sockets(programme, staff_a, staff_b):
    gone = _communicator(staff_a.user)
    stays = _communicator(staff_b.user)
    assert (await gone.connect())[0] and (await stays.connect())[0]

    await sync_to_async(staff_a.user.delete)()

    assert await gone.receive_json_from(timeout=3) == SIGNED_OUT
    assert await gone.receive_output(timeout=3) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
    assert await stays.receive_nothing(timeout=0.3)
    await gone.disconnect()
    await stays.disconnect()
