"""The live document over the websocket: ``doc.sync``, ``doc.update``, ``doc.awareness``, ``doc.version``;
who may change it, checked on every update; garbage refused with nothing stored; whole-text saves merged."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from pycrdt import Doc, Text

from coordinator.core.tenancy import programme_scope
from focusgroups.consumers import NotesConsumer
from focusgroups.models import GroupMembership, Note, NoteUpdate, NoteVersion
from focusgroups.services import groups
from organisations.access.consumers import CLOSE_FORBIDDEN
from organisations.permissions import actor_for, forget_actor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Replica:
    """A client's copy of the note's document, as the browser's Yjs holds it."""

    def __init__(self) -> None:
        self.doc = Doc()
        self.text = self.doc.get("body", type=Text)

    def edit(self, index: int, insert: str = "", delete: int = 0) -> bytes:
        before = self.doc.get_state()
        with self.doc.transaction():
            if delete:
                del self.text[index : index + delete]
            if insert:
                self.text.insert(index, insert)
        update: bytes = self.doc.get_update(before)
        return update

    def apply(self, encoded: str) -> None:
        self.doc.apply_update(base64.b64decode(encoded))

    def __str__(self) -> str:
        return str(self.text)


async def _open(person: Any, group_id: int) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(NotesConsumer.as_asgi(), f"/ws/focusgroups/{group_id}/notes/")
    communicator.scope["user"] = person.user
    communicator.scope["url_route"] = {"kwargs": {"group_id": group_id}}
    connected, code = await communicator.connect()
    assert connected, code
    assert (await communicator.receive_json_from(timeout=3))["type"] == "hello"
    return communicator


async def _next(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    while True:
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == kind:
            return message  # type: ignore[no-any-return]
        assert message["type"] == "presence", message


async def _nothing(communicator: WebsocketCommunicator) -> bool:
    """Whether nothing but presence updates is waiting for the socket."""
    while not await communicator.receive_nothing(timeout=0.3):
        message = await communicator.receive_json_from(timeout=3)
        assert message["type"] == "presence", message
    return True


async def _sync(communicator: WebsocketCommunicator, note_id: int, replica: Replica) -> dict[str, Any]:
    await communicator.send_json_to({"type": "doc.sync", "note": note_id, "sv": b64(replica.doc.get_state())})
    answer = await _next(communicator, "doc.sync")
    replica.apply(answer["update"])
    return answer


def _stored(note_id: int) -> tuple[str, int, int]:
    note = Note.unscoped_objects.get(pk=note_id)
    return note.body, note.version, NoteUpdate.unscoped_objects.filter(note_id=note_id).count()


async def test_an_update_reaches_the_others_and_is_stored(group, note, member_a, member_b):
    a, b = await _open(member_a, group.pk), await _open(member_b, group.pk)
    ra, rb = Replica(), Replica()
    answer = await _sync(a, note.pk, ra)
    await _sync(b, note.pk, rb)
    assert (answer["can_edit"], str(ra), str(rb)) == (True, "Rad ett.\n", "Rad ett.\n")

    update = ra.edit(len("Rad ett."), " Och mer")
    await a.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(update)})

    seen = await _next(b, "doc.update")
    assert (seen["note"], seen["update"], seen["by"]) == (
        note.pk,
        b64(update),
        {"id": member_a.pk, "name": "Anna Berg"},
    )
    rb.apply(seen["update"])
    assert str(rb) == "Rad ett. Och mer\n"
    assert await sync_to_async(_stored)(note.pk) == ("Rad ett. Och mer\n", 2, 1)
    assert await _nothing(a)  # the sender is not sent its own update
    await a.disconnect()
    await b.disconnect()


async def test_offline_edits_merge_on_reconnect(group, note, member_a, member_b):
    a, b = await _open(member_a, group.pk), await _open(member_b, group.pk)
    ra, rb = Replica(), Replica()
    await _sync(a, note.pk, ra)
    await _sync(b, note.pk, rb)
    await b.disconnect()
    offline = rb.edit(0, "B: ")  # typed while offline
    await a.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(ra.edit(len(str(ra)), "A"))})
    b = await _open(member_b, group.pk)
    await _sync(b, note.pk, rb)
    await b.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(offline)})
    ra.apply((await _next(a, "doc.update"))["update"])
    assert str(ra) == str(rb) == "B: Rad ett.\nA"
    assert (await sync_to_async(_stored)(note.pk))[0] == "B: Rad ett.\nA"
    await a.disconnect()
    await b.disconnect()


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ("not base64!", "Send the update as base64 text."),
        (b64(b"\x01\x01\x01"), "This is not a Yjs update."),
        (12, "Send the update as base64 text."),
        (None, "Send the update as base64 text."),
    ],
)
async def test_garbage_is_refused_and_nothing_stored(group, note, member_a, member_b, update, message):
    a, b = await _open(member_a, group.pk), await _open(member_b, group.pk)
    await a.send_json_to({"type": "doc.update", "note": note.pk, "update": update})
    assert await _next(a, "error") == {
        "type": "error",
        "code": "invalid",
        "note": note.pk,
        "message": message,
    }
    assert await sync_to_async(_stored)(note.pk) == ("Rad ett.\n", 1, 0)
    assert await _nothing(b)
    # The socket stays usable.
    ra = Replica()
    await _sync(a, note.pk, ra)
    assert str(ra) == "Rad ett.\n"
    await a.disconnect()
    await b.disconnect()


async def test_an_update_adding_anything_but_the_text_is_refused(group, note, member_a):
    a = await _open(member_a, group.pk)
    other = Doc()
    other.get("secrets", type=Text).insert(0, "x" * 100)
    await a.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(other.get_update())})
    error = await _next(a, "error")
    assert (error["code"], error["message"]) == ("invalid", "A note's document holds only its text.")
    assert await sync_to_async(_stored)(note.pk) == ("Rad ett.\n", 1, 0)
    await a.disconnect()


async def test_observer_sees_the_live_text_but_its_updates_are_refused(group, note, member_a, observer):
    o = await _open(observer, group.pk)
    ro = Replica()
    answer = await _sync(o, note.pk, ro)
    assert (answer["can_edit"], str(ro)) == (False, "Rad ett.\n")
    await o.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(ro.edit(0, "X"))})
    error = await _next(o, "error")
    assert (error["code"], error["note"]) == ("forbidden", note.pk)
    assert await sync_to_async(_stored)(note.pk) == ("Rad ett.\n", 1, 0)
    # The member's edits reach the observer live.
    a = await _open(member_a, group.pk)
    ra = Replica()
    await _sync(a, note.pk, ra)
    await a.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(ra.edit(0, "Ny "))})
    assert (await _next(o, "doc.update"))["by"]["id"] == member_a.pk
    await o.disconnect()
    await a.disconnect()


async def test_programme_reader_cannot_change_a_shared_note(group, member_a, nonmember, programme):
    from tests.factories.focusgroups import make_note

    shared = await sync_to_async(make_note)(
        group, title="Delad", body="För alla.\n", visibility=Note.Visibility.PROGRAMME
    )
    hidden = await sync_to_async(make_note)(group, title="Intern", body="Hemligt.\n")
    r = await _open(nonmember, group.pk)
    rr = Replica()
    answer = await _sync(r, shared.pk, rr)
    assert (answer["can_edit"], str(rr)) == (False, "För alla.\n")
    await r.send_json_to({"type": "doc.update", "note": shared.pk, "update": b64(rr.edit(0, "X"))})
    assert (await _next(r, "error"))["code"] == "forbidden"
    # A group-only note answers like a missing one.
    for note_id in (hidden.pk, 999_999):
        await r.send_json_to({"type": "doc.sync", "note": note_id, "sv": b64(b"\x00")})
        error = await _next(r, "error")
        assert (error["code"], error["note"]) == ("not_found", note_id)
    assert await sync_to_async(_stored)(shared.pk) == ("För alla.\n", 1, 0)
    await r.disconnect()


async def test_member_removed_mid_session_cannot_update(group, note, member_a, member_b, convener):
    a, b = await _open(member_a, group.pk), await _open(member_b, group.pk)
    rb = Replica()
    await _sync(b, note.pk, rb)

    def remove() -> None:
        forget_actor(convener.user)
        with programme_scope([group.programme_id]):
            membership = GroupMembership.objects.get(group=group, person=member_b, is_active=True)
            # Written without the service and its signals: the per-frame check alone must refuse.
            GroupMembership.objects.filter(pk=membership.pk).update(is_active=False, left_at=timezone.now())

    await sync_to_async(remove)()
    await b.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(rb.edit(0, "Sent "))})
    error = await b.receive_json_from(timeout=3)
    while error["type"] == "presence":
        error = await b.receive_json_from(timeout=3)
    assert error["code"] == "forbidden"
    assert (await b.receive_output(timeout=3))["code"] == CLOSE_FORBIDDEN
    assert await sync_to_async(_stored)(note.pk) == ("Rad ett.\n", 1, 0)
    await a.disconnect()


async def test_member_made_observer_mid_session_gets_forbidden(group, note, member_a, convener):
    a = await _open(member_a, group.pk)
    ra = Replica()
    await _sync(a, note.pk, ra)

    def demote() -> None:
        with programme_scope([group.programme_id]):
            membership = GroupMembership.objects.get(group=group, person=member_a, is_active=True)
            groups.membership_update(
                actor=actor_for(convener.user), membership=membership, values={"role": "observer"}
            )

    await sync_to_async(demote)()
    await a.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(ra.edit(0, "Sent "))})
    error = await _next(a, "error")
    assert (error["code"], error["note"]) == ("forbidden", note.pk)
    assert await sync_to_async(_stored)(note.pk) == ("Rad ett.\n", 1, 0)
    await a.disconnect()


async def test_awareness_is_relayed_with_the_server_known_name(group, note, member_a, member_b):
    a, b = await _open(member_a, group.pk), await _open(member_b, group.pk)
    await a.send_json_to(
        {
            "type": "doc.awareness",
            "note": note.pk,
            "client": 42,
            "update": b64(b"\x01\x02"),
            "name": "Mallory",
        }
    )
    seen = await _next(b, "doc.awareness")
    assert seen == {
        "type": "doc.awareness",
        "note": note.pk,
        "client": 42,
        "update": b64(b"\x01\x02"),
        "user": {"id": member_a.pk, "name": "Anna Berg"},
    }
    assert await _nothing(a)
    await a.disconnect()
    await b.disconnect()


async def test_version_on_demand_names_the_authors(group, note, member_a, member_b):
    a, b = await _open(member_a, group.pk), await _open(member_b, group.pk)
    ra, rb = Replica(), Replica()
    await _sync(a, note.pk, ra)
    await _sync(b, note.pk, rb)
    await a.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(ra.edit(0, "A "))})
    rb.apply((await _next(b, "doc.update"))["update"])
    await b.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(rb.edit(0, "B "))})
    await _next(a, "doc.update")
    await a.send_json_to({"type": "doc.version", "note": note.pk})
    for socket in (a, b):
        versioned = await _next(socket, "doc.versioned")
        assert (versioned["note"], versioned["version"], versioned["by"]) == (
            note.pk,
            3,
            {"id": member_a.pk, "name": "Anna Berg"},
        )

    def history() -> list[tuple[int, str, list[str]]]:
        with programme_scope([group.programme_id]):
            rows = NoteVersion.objects.filter(note=note).order_by("version")
            return [(v.version, v.body, sorted(p.full_name for p in v.authors.all())) for v in rows]

    assert await sync_to_async(history)() == [
        (1, "Rad ett.\n", []),
        (3, "B A Rad ett.\n", ["Anna Berg", "Omar Said"]),
    ]
    await a.disconnect()
    await b.disconnect()
