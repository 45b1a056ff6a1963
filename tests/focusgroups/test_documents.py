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
from focusgroups.models import GroupMembership, Note, NoteUpdate, NoteVersion
from focusgroups.services import groups
from organisations.access.consumers import CLOSE_FORBIDDEN
from organisations.permissions import actor_for, forget_actor
from tests.focusgroups.live import open_notes_socket
from tests.focusgroups.replica import Replica

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


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
    while True:
        answer = await communicator.receive_json_from(timeout=3)
        if answer["type"] == "doc.update":
            # An edit broadcast while the socket was joining the group: a client applies it as it comes.
            replica.apply(answer["update"])
            continue
        if answer["type"] == "doc.sync":
            replica.apply(answer["update"])
            return answer  # type: ignore[no-any-return]
        assert answer["type"] == "presence", answer


def _stored(note_id: int) -> tuple[str, int, int]:
    note = Note.unscoped_objects.get(pk=note_id)
    return note.body, note.version, NoteUpdate.unscoped_objects.filter(note_id=note_id).count()


async def test_an_update_reaches_the_others_and_is_stored(group, note, member_a, member_b):
    a, b = await open_notes_socket(member_a, group.pk), await open_notes_socket(member_b, group.pk)
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
    a, b = await open_notes_socket(member_a, group.pk), await open_notes_socket(member_b, group.pk)
    ra, rb = Replica(), Replica()
    await _sync(a, note.pk, ra)
    await _sync(b, note.pk, rb)
    await b.disconnect()
    offline = rb.edit(0, "B: ")  # typed while offline
    await a.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(ra.edit(len(str(ra)), "A"))})
    b = await open_notes_socket(member_b, group.pk)
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
    a, b = await open_notes_socket(member_a, group.pk), await open_notes_socket(member_b, group.pk)
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
    a = await open_notes_socket(member_a, group.pk)
    other = Doc()
    other.get("secrets", type=Text).insert(0, "x" * 100)
    await a.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(other.get_update())})
    error = await _next(a, "error")
    assert (error["code"], error["message"]) == ("invalid", "A note's document holds only its text.")
    assert await sync_to_async(_stored)(note.pk) == ("Rad ett.\n", 1, 0)
    await a.disconnect()


async def test_observer_sees_the_live_text_but_its_updates_are_refused(group, note, member_a, observer):
    o = await open_notes_socket(observer, group.pk)
    ro = Replica()
    answer = await _sync(o, note.pk, ro)
    assert (answer["can_edit"], str(ro)) == (False, "Rad ett.\n")
    await o.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(ro.edit(0, "X"))})
    error = await _next(o, "error")
    assert (error["code"], error["note"]) == ("forbidden", note.pk)
    assert await sync_to_async(_stored)(note.pk) == ("Rad ett.\n", 1, 0)
    # The member's edits reach the observer live.
    a = await open_notes_socket(member_a, group.pk)
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
    r = await open_notes_socket(nonmember, group.pk)
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
    a, b = await open_notes_socket(member_a, group.pk), await open_notes_socket(member_b, group.pk)
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
    a = await open_notes_socket(member_a, group.pk)
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
    a, b = await open_notes_socket(member_a, group.pk), await open_notes_socket(member_b, group.pk)
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
    a, b = await open_notes_socket(member_a, group.pk), await open_notes_socket(member_b, group.pk)
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


async def test_rest_write_reaches_open_editors_as_a_merged_edit(api, group, note, member_a, member_b):
    a = await open_notes_socket(member_a, group.pk)
    ra = Replica()
    await _sync(a, note.pk, ra)
    # Typed in the browser at the end, not yet sent when the REST write lands.
    pending = ra.edit(len(str(ra)), "Skrivs nu.")

    def write() -> tuple[int, str]:
        response = api(member_b).patch(
            f"/api/v1/focusgroups/notes/{note.pk}/", {"body": "Rad 1.\n"}, format="json"
        )
        return response.status_code, response["ETag"]

    assert await sync_to_async(write)() == (200, '"2"')
    seen = await _next(a, "doc.update")
    assert seen["by"] == {"id": member_b.pk, "name": "Omar Said"}
    ra.apply(seen["update"])
    # The whole-text save is kept as a version, and old clients still hear ``saved``.
    assert (await _next(a, "doc.versioned"))["version"] == 2
    assert (await _next(a, "saved"))["body"] == "Rad 1.\n"
    await a.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(pending)})
    assert await _nothing(a)
    assert str(ra) == "Rad 1.\nSkrivs nu."
    assert (await sync_to_async(_stored)(note.pk))[0] == "Rad 1.\nSkrivs nu."
    await a.disconnect()


async def test_rest_write_with_a_stale_if_match_is_412_and_sends_nothing(
    api, group, note, member_a, member_b
):
    a = await open_notes_socket(member_a, group.pk)
    ra = Replica()
    await _sync(a, note.pk, ra)
    await a.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(ra.edit(0, "Live "))})

    def write() -> int:
        return (
            api(member_b)
            .patch(  # type: ignore[no-any-return]
                f"/api/v1/focusgroups/notes/{note.pk}/",
                {"body": "Gammal"},
                format="json",
                HTTP_IF_MATCH='"1"',
            )
            .status_code
        )

    await _nothing(a)
    assert await sync_to_async(write)() == 412
    assert await sync_to_async(_stored)(note.pk) == ("Live Rad ett.\n", 2, 1)
    assert await _nothing(a)
    await a.disconnect()


async def test_restore_is_seen_by_every_editor_at_once(api, group, note, member_a, member_b):
    a, b = await open_notes_socket(member_a, group.pk), await open_notes_socket(member_b, group.pk)
    ra, rb = Replica(), Replica()
    await _sync(a, note.pk, ra)
    await _sync(b, note.pk, rb)
    await a.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(ra.edit(0, "Fel. "))})
    rb.apply((await _next(b, "doc.update"))["update"])

    def restore() -> int:
        return (
            api(member_b)
            .post(  # type: ignore[no-any-return]
                f"/api/v1/focusgroups/notes/{note.pk}/restore/", {"version": 1}, format="json"
            )
            .status_code
        )

    assert await sync_to_async(restore)() == 200
    for socket, replica in ((a, ra), (b, rb)):
        seen = await _next(socket, "doc.update")
        replica.apply(seen["update"])
        assert str(replica) == "Rad ett.\n"
    await a.disconnect()
    await b.disconnect()


async def test_a_pause_in_typing_writes_a_version_without_another_edit(settings, group, note, member_a):
    settings.NOTE_VERSION_PAUSE_SECONDS = 1
    a = await open_notes_socket(member_a, group.pk)
    ra = Replica()
    await _sync(a, note.pk, ra)
    await a.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(ra.edit(0, "Paus. "))})
    while True:
        message = await a.receive_json_from(timeout=10)
        if message["type"] == "doc.versioned":
            break
    assert (message["note"], message["version"], message["by"]) == (note.pk, 2, None)
    versions = await sync_to_async(
        lambda: list(NoteVersion.unscoped_objects.filter(note=note).values_list("version", "body"))
    )()
    assert sorted(versions) == [(1, "Rad ett.\n"), (2, "Paus. Rad ett.\n")]
    await a.disconnect()


async def test_another_programmes_note_answers_like_a_missing_one(group, note, member_a, foreign_group):
    foreign = await sync_to_async(
        lambda: list(Note.unscoped_objects.filter(group=foreign_group).values_list("pk", flat=True))
    )()
    a = await open_notes_socket(member_a, group.pk)
    update = b64(Replica().edit(0, "x"))
    for note_id in foreign:
        for frame in (
            {"type": "doc.sync", "note": note_id, "sv": b64(b"\x00")},
            {"type": "doc.update", "note": note_id, "update": update},
            {"type": "doc.version", "note": note_id},
            {"type": "doc.awareness", "note": note_id, "client": 1, "update": update},
        ):
            await a.send_json_to(frame)
            error = await _next(a, "error")
            assert (error["code"], error["note"]) == ("not_found", note_id)
    stored = await sync_to_async(
        lambda: sorted(Note.unscoped_objects.filter(group=foreign_group).values_list("body", "version"))
    )()
    assert stored == [("hemmelig", 1)] * 3
    assert await sync_to_async(NoteUpdate.unscoped_objects.count)() == 0
    await a.disconnect()
