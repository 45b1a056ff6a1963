"""The live-notes websocket: who may connect, edits seen by the others, conflicts, presence."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from coordinator.asgi import application
from coordinator.core.tenancy import programme_scope
from focusgroups.consumers import CLOSE_NOT_FOUND, NotesConsumer
from focusgroups.models import LivePresence, Note, NoteVersion
from focusgroups.services import groups, notes
from organisations.access.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from organisations.permissions import actor_for, forget_actor
from tests.factories.focusgroups import make_note

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _socket(person: Any, group_id: int) -> WebsocketCommunicator:
    path = f"/ws/focusgroups/{group_id}/notes/"
    communicator = WebsocketCommunicator(NotesConsumer.as_asgi(), path)
    communicator.scope["user"] = person.user if person is not None else None
    communicator.scope["url_route"] = {"kwargs": {"group_id": group_id}}
    return communicator


async def _open(
    person: Any, group_id: int, *, expect_presence: bool = True
) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    communicator = _socket(person, group_id)
    connected, code = await communicator.connect()
    assert connected, code
    hello = await communicator.receive_json_from(timeout=3)
    assert hello["type"] == "hello"
    if expect_presence:
        presence = await communicator.receive_json_from(timeout=3)
        assert presence["type"] == "presence"
    return communicator, hello


async def _next(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    """The next message of a kind, skipping presence updates caused by other sockets and the live
    document's frames that a whole-text save also sends (``doc.update``, ``doc.versioned``)."""
    while True:
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == kind:
            return message  # type: ignore[no-any-return]
        assert message["type"] in ("presence", "doc.update", "doc.versioned"), message


def _who(presence: list[dict[str, Any]]) -> list[str]:
    return [entry["name"] for entry in presence]


async def test_two_members_see_each_others_edits(group, member_a, member_b, note):
    a, hello_a = await _open(member_a, group.pk)
    b, hello_b = await _open(member_b, group.pk)
    assert hello_b["notes"] == [
        {
            "id": note.pk,
            "title": "Rutin för överlämning",
            "version": 1,
            "body": "Rad ett.\n",
            "visibility": "group",
            "can_edit": True,
        }
    ]

    await a.send_json_to(
        {"type": "save", "note": note.pk, "base_version": 1, "body": "Rad ett.\nRad två.\n", "title": "Rutin"}
    )
    seen_by_b = await _next(b, "saved")
    seen_by_a = await _next(a, "saved")
    assert (seen_by_b["note"], seen_by_b["version"], seen_by_b["body"], seen_by_b["title"]) == (
        note.pk,
        2,
        "Rad ett.\nRad två.\n",
        "Rutin",
    )
    assert seen_by_b["author"] == "Anna Berg"
    assert seen_by_a["version"] == 2

    await b.send_json_to(
        {"type": "save", "note": note.pk, "base_version": 2, "body": "Rad ett.\nRad två.\nRad tre.\n"}
    )
    seen_by_a = await _next(a, "saved")
    assert (seen_by_a["version"], seen_by_a["author"], seen_by_a["title"]) == (3, "Omar Said", "Rutin")
    await _next(b, "saved")
    versions = await sync_to_async(
        lambda: list(
            NoteVersion.unscoped_objects.filter(note=note)
            .order_by("version")
            .values_list("version", "author__user__last_name")
        )
    )()
    assert versions == [(1, "Berg"), (2, "Berg"), (3, "Said")]
    await a.disconnect()
    await b.disconnect()


async def test_stale_version_is_refused_and_nothing_is_lost(group, member_a, member_b, note):
    a, _ = await _open(member_a, group.pk)
    b, _ = await _open(member_b, group.pk)
    await a.send_json_to({"type": "save", "note": note.pk, "base_version": 1, "body": "Annas text"})
    await _next(a, "saved")
    await _next(b, "saved")

    # Omar still edits on version 1.
    await b.send_json_to(
        {"type": "save", "note": note.pk, "base_version": 1, "body": "Omars text", "title": "Ny"}
    )
    conflict = await _next(b, "conflict")
    assert conflict == {
        "type": "conflict",
        "note": note.pk,
        "current": {
            "version": 2,
            "body": "Annas text",
            "title": "Rutin för överlämning",
            "author": "Anna Berg",
        },
        "yours": {"body": "Omars text", "title": "Ny"},
    }
    assert await a.receive_nothing(timeout=0.2)
    stored = await sync_to_async(
        lambda: Note.unscoped_objects.values_list("version", "body").get(pk=note.pk)
    )()
    assert stored == (2, "Annas text")

    # He merges and saves on the current version: both texts survive.
    await b.send_json_to(
        {"type": "save", "note": note.pk, "base_version": 2, "body": "Annas text\nOmars text"}
    )
    assert (await _next(a, "saved"))["version"] == 3
    bodies = await sync_to_async(
        lambda: list(
            NoteVersion.unscoped_objects.filter(note=note).order_by("version").values_list("body", flat=True)
        )
    )()
    assert bodies == ["Rad ett.\n", "Annas text", "Annas text\nOmars text"]
    await a.disconnect()
    await b.disconnect()


async def test_presence_updates_on_connect_and_disconnect(group, member_a, member_b):
    a, hello_a = await _open(member_a, group.pk)
    assert _who(hello_a["presence"]) == ["Anna Berg"]
    b, hello_b = await _open(member_b, group.pk)
    assert _who(hello_b["presence"]) == ["Anna Berg", "Omar Said"]
    joined = await a.receive_json_from(timeout=3)
    assert joined == {
        "type": "presence",
        "presence": [
            {"person": member_a.pk, "name": "Anna Berg"},
            {"person": member_b.pk, "name": "Omar Said"},
        ],
    }

    await b.disconnect()
    left = await a.receive_json_from(timeout=3)
    assert left == {"type": "presence", "presence": [{"person": member_a.pk, "name": "Anna Berg"}]}
    await a.disconnect()
    assert await sync_to_async(LivePresence.unscoped_objects.count)() == 0


async def test_a_second_tab_of_the_same_person_changes_no_presence(group, member_a):
    first, _ = await _open(member_a, group.pk)
    second, hello = await _open(member_a, group.pk, expect_presence=False)
    assert _who(hello["presence"]) == ["Anna Berg"]
    assert await first.receive_nothing(timeout=0.3)
    await second.disconnect()
    assert await first.receive_nothing(timeout=0.3)
    assert await sync_to_async(LivePresence.unscoped_objects.count)() == 1
    await first.disconnect()


async def test_stale_presence_is_dropped(group, member_a, member_b, settings):
    from datetime import timedelta

    from django.utils import timezone

    # A socket of a process that died: its row was never deleted and stopped being refreshed.
    await sync_to_async(LivePresence.unscoped_objects.create)(
        group=group,
        person=member_b,
        channel_name="dead-process.channel",
        seen_at=timezone.now() - timedelta(seconds=settings.FOCUSGROUPS_PRESENCE_TTL_SECONDS + 1),
    )
    a, hello = await _open(member_a, group.pk)
    assert _who(hello["presence"]) == ["Anna Berg"]
    assert (
        await sync_to_async(
            LivePresence.unscoped_objects.filter(channel_name="dead-process.channel").exists
        )()
        is False
    )
    await a.send_json_to({"type": "ping"})
    assert await a.receive_json_from(timeout=3) == {"type": "pong"}
    await a.disconnect()


def _share(note: Note) -> None:
    Note.unscoped_objects.filter(pk=note.pk).update(visibility=Note.Visibility.PROGRAMME)


async def test_programme_member_outside_the_group_follows_only_its_shared_notes(
    group, nonmember, member_a, note
):
    shared = await sync_to_async(make_note)(group, title="Delad rutin", body="För alla.\n", author=member_a)
    await sync_to_async(Note.unscoped_objects.filter(pk=shared.pk).update)(
        visibility=Note.Visibility.PROGRAMME
    )
    a, _ = await _open(member_a, group.pk)
    r, hello = await _open(nonmember, group.pk, expect_presence=False)
    assert hello == {
        "type": "hello",
        "notes": [
            {
                "id": shared.pk,
                "title": "Delad rutin",
                "version": 1,
                "body": "För alla.\n",
                "visibility": "programme",
                "can_edit": False,
            }
        ],
        "presence": [],
    }
    # A reader is never on the roster, and the members hear of no arrival.
    assert await sync_to_async(LivePresence.unscoped_objects.filter(person=nonmember).exists)() is False
    assert await a.receive_nothing(timeout=0.3)

    # The group-only note's save reaches the members only; the shared note's reaches the reader too.
    await a.send_json_to({"type": "save", "note": note.pk, "base_version": 1, "body": "Internt.\n"})
    assert (await _next(a, "saved"))["note"] == note.pk
    await a.send_json_to({"type": "save", "note": shared.pk, "base_version": 1, "body": "För alla, v2.\n"})
    assert (await _next(a, "saved"))["note"] == shared.pk
    live = [await r.receive_json_from(timeout=3) for _ in range(2)]
    assert [(m["type"], m["note"]) for m in live] == [("doc.update", shared.pk), ("doc.versioned", shared.pk)]
    seen = await r.receive_json_from(timeout=3)
    assert (seen["type"], seen["note"], seen["version"], seen["body"], seen["can_edit"]) == (
        "saved",
        shared.pk,
        2,
        "För alla, v2.\n",
        False,
    )
    assert await r.receive_nothing(timeout=0.3)

    # A reader may not save, and is not told whether another id exists.
    for note_id in (shared.pk, note.pk, 999_999):
        await r.send_json_to({"type": "save", "note": note_id, "base_version": 2, "body": "x"})
        assert await r.receive_json_from(timeout=3) == {"type": "error", "code": "forbidden", "note": note_id}
    assert await sync_to_async(lambda: Note.unscoped_objects.get(pk=shared.pk).body)() == "För alla, v2.\n"
    await r.disconnect()
    assert await a.receive_nothing(timeout=0.3)  # leaving is not broadcast either
    await a.disconnect()


async def test_reader_is_told_when_a_shared_note_becomes_group_only(group, nonmember, member_a):
    shared = await sync_to_async(make_note)(group, title="Delad", body="Text.\n", author=member_a)
    await sync_to_async(Note.unscoped_objects.filter(pk=shared.pk).update)(
        visibility=Note.Visibility.PROGRAMME
    )
    r, hello = await _open(nonmember, group.pk, expect_presence=False)
    assert [n["id"] for n in hello["notes"]] == [shared.pk]

    def make_group_only() -> None:
        with programme_scope([group.programme_id]):
            note = Note.objects.get(pk=shared.pk)
            notes.note_update(
                actor=actor_for(member_a.user), note=note, base_version=note.version, visibility="group"
            )

    await sync_to_async(make_group_only)()
    assert await r.receive_json_from(timeout=3) == {"type": "withdrawn", "note": shared.pk}
    # Later saves of the note no longer reach the reader.
    a, _ = await _open(member_a, group.pk)
    await a.send_json_to({"type": "save", "note": shared.pk, "base_version": 1, "body": "Nu internt.\n"})
    assert (await _next(a, "saved"))["body"] == "Nu internt.\n"
    assert await r.receive_nothing(timeout=0.3)
    await r.disconnect()
    await a.disconnect()


async def test_anonymous_socket_is_closed(group):
    from django.contrib.auth.models import AnonymousUser

    communicator = _socket(None, group.pk)
    communicator.scope["user"] = AnonymousUser()
    assert await communicator.connect() == (False, CLOSE_UNAUTHENTICATED)


async def test_foreign_programme_group_is_not_found(group, member_a, foreign_group, outsider):
    # A member of this programme asking for the other programme's group: not found, like a missing one.
    assert await _socket(member_a, foreign_group.pk).connect() == (False, CLOSE_NOT_FOUND)
    assert await _socket(member_a, 999_999).connect() == (False, CLOSE_NOT_FOUND)
    # And the other programme's member cannot reach this one.
    assert await _socket(outsider, group.pk).connect() == (False, CLOSE_NOT_FOUND)


async def test_routing_serves_the_notes_socket(group, member_a):
    communicator = WebsocketCommunicator(
        application, f"/ws/focusgroups/{group.pk}/notes/", headers=[(b"origin", settings.SITE_URL.encode())]
    )
    communicator.scope["user"] = member_a.user
    connected, _code = await communicator.connect()
    assert connected is True
    assert (await communicator.receive_json_from(timeout=3))["type"] == "hello"
    await communicator.disconnect()


async def test_observer_reads_but_may_not_save(group, observer, member_a, note):
    o, hello = await _open(observer, group.pk)
    assert [n["can_edit"] for n in hello["notes"]] == [False]
    await o.send_json_to({"type": "save", "note": note.pk, "base_version": 1, "body": "Ändrat"})
    assert await o.receive_json_from(timeout=3) == {"type": "error", "code": "forbidden", "note": note.pk}
    stored = await sync_to_async(
        lambda: Note.unscoped_objects.values_list("version", "body").get(pk=note.pk)
    )()
    assert stored == (1, "Rad ett.\n")
    await o.disconnect()


async def test_group_only_notes_of_other_groups_never_reach_the_socket(group, programme, member_a, note):
    from tests.factories.focusgroups import FocusGroupFactory

    other = await sync_to_async(FocusGroupFactory)(programme=programme, code="halsa", name="Hälsa")
    secret = await sync_to_async(make_note)(other, title="Intern", body="bara för gruppen")
    a, hello = await _open(member_a, group.pk)
    assert [n["id"] for n in hello["notes"]] == [note.pk]
    # A save naming another group's note is not found, and nothing changes.
    await a.send_json_to({"type": "save", "note": secret.pk, "base_version": 1, "body": "x"})
    assert await a.receive_json_from(timeout=3) == {"type": "error", "code": "not_found", "note": secret.pk}
    assert await sync_to_async(lambda: Note.unscoped_objects.get(pk=secret.pk).version)() == 1
    await a.disconnect()


async def test_bad_messages_get_an_error_not_a_crash(group, member_a, note):
    a, _ = await _open(member_a, group.pk)
    await a.send_to(text_data="{not json")
    assert (await a.receive_json_from(timeout=3))["code"] == "invalid"
    await a.send_json_to(["a list"])
    assert (await a.receive_json_from(timeout=3))["code"] == "invalid"
    await a.send_json_to({"type": "save", "note": note.pk, "base_version": "1", "body": "x"})
    reply = await a.receive_json_from(timeout=3)
    assert (reply["code"], list(reply["errors"])) == ("invalid", ["base_version"])
    await a.send_json_to({"type": "save", "note": note.pk, "base_version": 1, "body": "x" * 100_001})
    reply = await a.receive_json_from(timeout=3)
    assert (reply["code"], list(reply["errors"])) == ("invalid", ["body"])
    await a.send_json_to({"type": "dance"})
    assert (await a.receive_json_from(timeout=3))["code"] == "invalid"
    assert await sync_to_async(lambda: Note.unscoped_objects.get(pk=note.pk).version)() == 1
    await a.disconnect()


async def test_removed_member_is_disconnected(group, convener, member_a, note):
    a, _ = await _open(member_a, group.pk)

    def remove() -> None:
        from focusgroups.models import GroupMembership

        forget_actor(convener.user)
        with programme_scope([group.programme_id]):
            membership = GroupMembership.objects.get(group=group, person=member_a, is_active=True)
            groups.membership_remove(actor=actor_for(convener.user), membership=membership)

    await sync_to_async(remove)()
    assert await a.receive_json_from(timeout=3) == {
        "type": "error",
        "code": "forbidden",
        "message": "You no longer have access here.",
    }
    assert await a.receive_output(timeout=3) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


async def test_rest_and_service_saves_reach_the_socket(group, member_a, member_b, note):
    a, _ = await _open(member_a, group.pk)

    def save() -> None:
        forget_actor(member_b.user)
        with programme_scope([group.programme_id]):
            current = Note.objects.get(pk=note.pk)
            notes.note_update(actor=actor_for(member_b.user), note=current, body="Från API:t", base_version=1)

    await sync_to_async(save)()
    saved = await _next(a, "saved")
    assert (saved["version"], saved["body"], saved["author"]) == (2, "Från API:t", "Omar Said")
    await a.disconnect()


async def test_a_deeply_nested_frame_is_answered_not_a_crash(group, member_a, note):
    a, _ = await _open(member_a, group.pk)

    await a.send_to(text_data='{"type": "save", "note": ' + "[" * 50_000 + "]" * 50_000 + "}")
    reply = await a.receive_json_from(timeout=3)
    await a.send_json_to({"type": "ping"})
    pong = await _next(a, "pong")

    assert reply == {"type": "error", "code": "invalid", "message": "Message nested too deeply."}
    assert pong == {"type": "pong"}
    assert await sync_to_async(lambda: Note.unscoped_objects.get(pk=note.pk).version)() == 1
    await a.disconnect()
