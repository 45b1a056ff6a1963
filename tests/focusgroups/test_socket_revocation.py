"""Sockets follow rights: a live-notes socket closes when its person loses the right to it, and a save that
arrives after the right is gone is refused, whether or not the socket has been told yet."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import F
from django.test import Client

from coordinator.asgi import application
from coordinator.core.tenancy import programme_scope
from coordinator.pages.views.signin import BACKEND as SIGN_IN_BACKEND
from focusgroups.models import GroupMembership, Note
from focusgroups.services import groups
from organisations.access.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, ScopedConsumer
from organisations.access.revocation import close_sockets_of_programme
from organisations.models import Membership
from organisations.permissions import actor_for, forget_actor
from tests.focusgroups.live import next_frame, notes_path, notes_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

SIGNED_OUT = {"type": "error", "code": "unauthenticated", "message": "You are signed out. Sign in again."}
FORBIDDEN = {"type": "error", "code": "forbidden", "message": "You no longer have access here."}


def _sign_in(person: Any) -> Client:
    client = Client()
    # As the sign-in views sign in (the session backend that reads the user with the identity); the other
    # socket tests' sessions are ModelBackend's, as sessions signed in before it were.
    client.force_login(person.user, backend=SIGN_IN_BACKEND)
    return client


async def _signed_in_socket(person: Any, group_id: int) -> tuple[Client, WebsocketCommunicator]:
    """A socket opened the way a browser opens it: the session cookie through the project's ASGI stack."""
    client = await sync_to_async(_sign_in)(person)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"origin", settings.SITE_URL.encode()), (b"cookie", cookie)]
    return client, WebsocketCommunicator(application, notes_path(group_id), headers=headers)


async def _open(communicator: WebsocketCommunicator) -> dict[str, Any]:
    connected, code = await communicator.connect()
    assert connected, code
    hello = await communicator.receive_json_from(timeout=3)
    assert hello["type"] == "hello"
    return hello


async def _closed_with(communicator: WebsocketCommunicator, error: dict[str, Any], code: int) -> None:
    assert await next_frame(communicator, "error") == error
    assert await communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": code}
    await communicator.disconnect()


async def _still_open(communicator: WebsocketCommunicator) -> None:
    await communicator.send_json_to({"type": "ping"})
    assert await next_frame(communicator, "pong") == {"type": "pong"}


def _save(note: Note, base_version: int, body: str) -> dict[str, Any]:
    return {"type": "save", "note": note.pk, "base_version": base_version, "body": body}


def _note_now(note: Note) -> tuple[int, str]:
    row = Note.unscoped_objects.values_list("version", "body").get(pk=note.pk)
    return row[0], row[1]


async def test_logout_closes_the_sockets_of_that_session_only(group, member_a, note):
    client, tab = await _signed_in_socket(member_a, group.pk)
    _other_device, phone = await _signed_in_socket(member_a, group.pk)
    await _open(tab)
    await _open(phone)

    await sync_to_async(client.post)("/logout/")

    await _closed_with(tab, SIGNED_OUT, CLOSE_UNAUTHENTICATED)
    # The person's other session still holds: its socket stays and saves.
    await phone.send_json_to(_save(note, 1, "Från telefonen"))
    assert (await next_frame(phone, "saved"))["version"] == 2
    await phone.disconnect()


async def test_a_session_ended_without_being_told_refuses_the_next_save(group, member_a, note):
    # As when the logout ran on a process whose message never arrived, or the session expired.
    client, tab = await _signed_in_socket(member_a, group.pk)
    await _open(tab)
    key = client.cookies["sessionid"].value
    await sync_to_async(lambda: Session.objects.filter(session_key=key).delete())()

    await tab.send_json_to(_save(note, 1, "Efter utloggning"))

    await _closed_with(tab, SIGNED_OUT, CLOSE_UNAUTHENTICATED)
    assert await sync_to_async(_note_now)(note) == (1, "Rad ett.\n")


async def test_a_password_changed_elsewhere_ends_the_sockets_session(group, member_a, note):
    _client, tab = await _signed_in_socket(member_a, group.pk)
    await _open(tab)

    def change_password() -> None:
        member_a.user.set_password("ett-helt-nytt-losenord")
        member_a.user.save(update_fields=["password"])

    await sync_to_async(change_password)()
    await tab.send_json_to(_save(note, 1, "Med gammalt lösenord"))

    await _closed_with(tab, SIGNED_OUT, CLOSE_UNAUTHENTICATED)
    assert await sync_to_async(_note_now)(note) == (1, "Rad ett.\n")


async def test_deactivating_the_account_closes_the_socket(group, member_a, member_b, note):
    a = notes_socket(member_a, group.pk)
    b = notes_socket(member_b, group.pk)
    await _open(a)
    await _open(b)

    def deactivate() -> None:
        member_a.user.is_active = False
        member_a.user.save(update_fields=["is_active"])

    await sync_to_async(deactivate)()

    await _closed_with(a, SIGNED_OUT, CLOSE_UNAUTHENTICATED)
    await _still_open(b)
    await b.disconnect()


async def test_a_rolled_back_deactivation_closes_nothing(group, member_a, note):
    a = notes_socket(member_a, group.pk)
    await _open(a)

    def deactivate_and_roll_back() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            member_a.user.is_active = False
            member_a.user.save(update_fields=["is_active"])
            raise RuntimeError("rolled back")
        member_a.user.is_active = True

    await sync_to_async(deactivate_and_roll_back)()

    await _still_open(a)
    await a.disconnect()


async def test_ending_the_programme_membership_closes_the_socket(group, member_a, note):
    a = notes_socket(member_a, group.pk)
    await _open(a)

    def end_membership() -> None:
        membership = Membership.unscoped_objects.get(person=member_a, programme=group.programme)
        membership.is_active = False
        membership.save(update_fields=["is_active"])

    await sync_to_async(end_membership)()

    await _closed_with(a, FORBIDDEN, CLOSE_FORBIDDEN)


async def test_a_reader_whose_programme_membership_ends_is_closed(group, nonmember, member_a, note):
    reader = notes_socket(nonmember, group.pk)
    await _open(reader)

    def delete_membership() -> None:
        Membership.unscoped_objects.get(person=nonmember, programme=group.programme).delete()

    await sync_to_async(delete_membership)()

    await _closed_with(reader, FORBIDDEN, CLOSE_FORBIDDEN)


async def test_a_save_in_flight_when_the_membership_ends_is_refused(group, member_a, note):
    # The change is written without signals, so the socket has not been told: the save itself finds out.
    a = notes_socket(member_a, group.pk)
    await _open(a)
    await sync_to_async(
        lambda: Membership.unscoped_objects.filter(person=member_a, programme=group.programme).update(
            is_active=False
        )
    )()

    await a.send_json_to(_save(note, 1, "Sparad efter att medlemskapet tog slut"))

    await _closed_with(a, FORBIDDEN, CLOSE_FORBIDDEN)
    assert await sync_to_async(_note_now)(note) == (1, "Rad ett.\n")


@pytest.fixture
def every_delivery_rechecks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A delivery re-checks when the last check is older than the window; here every one is."""
    monkeypatch.setattr(ScopedConsumer, "delivery_recheck_seconds", 0.0)


async def test_a_delivery_after_the_right_is_gone_is_not_sent(
    group, member_a, member_b, note, every_delivery_rechecks
):
    a = notes_socket(member_a, group.pk)
    b = notes_socket(member_b, group.pk)
    await _open(a)
    await _open(b)
    await sync_to_async(
        lambda: GroupMembership.unscoped_objects.filter(person=member_a, group=group).update(
            is_active=False, left_at=F("joined_at")
        )
    )()

    await b.send_json_to(_save(note, 1, "Bara för gruppen"))

    assert (await next_frame(b, "saved"))["body"] == "Bara för gruppen"
    await _closed_with(a, FORBIDDEN, CLOSE_FORBIDDEN)
    await b.disconnect()


async def test_a_group_membership_ended_outside_the_services_closes_the_socket(group, member_a, note):
    # The admin site ends a membership by saving the row, without notes' own broadcast.
    a = notes_socket(member_a, group.pk)
    await _open(a)

    def end() -> None:
        membership = GroupMembership.unscoped_objects.get(person=member_a, group=group, is_active=True)
        membership.is_active = False
        membership.left_at = membership.joined_at
        membership.save(update_fields=["is_active", "left_at"])

    await sync_to_async(end)()

    await _closed_with(a, FORBIDDEN, CLOSE_FORBIDDEN)


async def test_a_member_made_observer_keeps_reading_and_no_longer_saves(
    group, convener, member_a, member_b, note
):
    a = notes_socket(member_a, group.pk)
    b = notes_socket(member_b, group.pk)
    await _open(a)
    await _open(b)

    def make_observer() -> None:
        forget_actor(convener.user)
        with programme_scope([group.programme_id]):
            membership = GroupMembership.objects.get(group=group, person=member_a, is_active=True)
            groups.membership_update(
                actor=actor_for(convener.user), membership=membership, values={"role": "observer"}
            )

    await sync_to_async(make_observer)()
    await _still_open(a)
    await b.send_json_to(_save(note, 1, "Omars text"))
    seen_by_a = await next_frame(a, "saved")
    await a.send_json_to(_save(note, 2, "Annas text"))

    assert (seen_by_a["version"], seen_by_a["can_edit"]) == (2, False)
    assert await next_frame(a, "error") == {"type": "error", "code": "forbidden", "note": note.pk}
    assert await sync_to_async(_note_now)(note) == (2, "Omars text")
    await a.disconnect()
    await b.disconnect()


async def test_closing_a_programmes_sockets_leaves_other_programmes_alone(
    group, member_a, foreign_group, outsider
):
    a = notes_socket(member_a, group.pk)
    foreign = notes_socket(outsider, foreign_group.pk)
    await _open(a)
    await _open(foreign)

    def close() -> None:
        with transaction.atomic():
            close_sockets_of_programme(group.programme_id, "archived")

    await sync_to_async(close)()

    await _closed_with(a, FORBIDDEN, CLOSE_FORBIDDEN)
    await _still_open(foreign)
    await foreign.disconnect()


async def test_archiving_the_programme_closes_its_sockets_and_refuses_new_ones(
    group, member_a, programme_admin
):
    from organisations.models import Programme
    from organisations.services import programmes

    a = notes_socket(member_a, group.pk)
    await _open(a)

    def archive() -> None:
        programme = Programme.unscoped_objects.get(pk=group.programme_id)
        forget_actor(programme_admin.user)
        programmes.programme_archive(actor=actor_for(programme_admin.user), programme=programme)

    await sync_to_async(archive)()

    await _closed_with(a, FORBIDDEN, CLOSE_FORBIDDEN)
    again = notes_socket(member_a, group.pk)
    connected, code = await again.connect()
    assert (connected, code) == (False, CLOSE_FORBIDDEN)


async def test_a_cached_session_ended_without_being_told_refuses_the_next_save(
    group, member_a, note, settings
):
    # Sessions read from the cache (production's default with Redis): the socket's re-check asks the row.
    settings.SESSION_ENGINE = "coordinator.core.sessions"
    client, tab = await _signed_in_socket(member_a, group.pk)
    await _open(tab)
    key = client.cookies["sessionid"].value
    await sync_to_async(lambda: Session.objects.filter(session_key=key).delete())()

    await tab.send_json_to(_save(note, 1, "Efter utloggning"))

    await _closed_with(tab, SIGNED_OUT, CLOSE_UNAUTHENTICATED)
    assert await sync_to_async(_note_now)(note) == (1, "Rad ett.\n")
