"""Updates that arrive together are stored together: ``documents.document_apply_many`` (one row lock, one
log row, one version step, one broadcast of the merged update, each edit checked on its own) and the
socket's queue of a note's updates, which must store and deliver a burst from several editors whole."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.exceptions import PermissionDenied, ValidationError

from coordinator.core.tenancy import programme_scope
from focusgroups import consumers
from focusgroups.models import NOTE_BODY_MAX_LENGTH, Note, NoteDocument, NoteUpdate
from focusgroups.services import documents
from organisations.permissions import actor_for
from tests.focusgroups.live import open_notes_socket, replica_of
from tests.focusgroups.replica import Replica


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _listen(group_id: int) -> tuple[Any, str]:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(documents.notes_group(group_id), channel)
    return layer, channel


def _events(layer: Any, channel: str) -> list[dict[str, Any]]:
    async def drain() -> list[dict[str, Any]]:
        events = []
        while True:
            try:
                events.append(await asyncio.wait_for(layer.receive(channel), timeout=0.3))
            except TimeoutError:
                return events

    return async_to_sync(drain)()


@pytest.mark.django_db(transaction=True)
def test_apply_many_stores_a_batch_as_one_change(programme, group, note, member_a, member_b):
    replicas = {person.pk: replica_of(note, person) for person in (member_a, member_b)}
    reader = replica_of(note, member_a)  # a third client, which hears the batch as one update
    edits, tokens = [], []
    for turn in range(3):
        for person in (member_a, member_b):
            tokens.append(f"<{person.pk}:{turn}>")
            update = replicas[person.pk].edit(0, tokens[-1])
            edits.append(documents.Edit(actor_for(person.user), update, f"socket-{person.pk}"))
    layer, channel = _listen(group.pk)

    with programme_scope([programme.pk]):
        changed, refusals = documents.document_apply_many(note=note, edits=edits)

    assert refusals == [None] * 6
    stored = Note.unscoped_objects.get(pk=note.pk)
    assert changed is not None and changed.version == stored.version == 2
    assert [token for token in tokens if token not in stored.body] == []
    assert len(stored.body) == len("Rad ett.\n") + sum(len(token) for token in tokens)
    assert NoteUpdate.unscoped_objects.filter(note=note).count() == 1
    document = NoteDocument.unscoped_objects.get(note=note)
    assert (document.log_length, document.editors) == (1, [member_a.pk, member_b.pk])
    (event,) = _events(layer, channel)
    frame = json.loads(event["frame"])  # encoded once, sent as it is to every socket
    assert (event["type"], event["sender"], frame["type"], frame["note"], frame["by"], frame["authors"]) == (
        "note.doc_update",
        None,  # two sockets sent the batch: both hear the merged update
        "doc.update",
        note.pk,
        {"id": member_b.pk, "name": "Omar Said"},
        [{"id": member_a.pk, "name": "Anna Berg"}, {"id": member_b.pk, "name": "Omar Said"}],
    )
    reader.apply(frame["update"])
    assert str(reader) == stored.body


@pytest.mark.django_db(transaction=True)
def test_apply_many_leaves_out_each_refused_edit_and_stores_the_rest(
    programme, group, note, member_a, observer
):
    replica = replica_of(note, member_a)
    first = replica.edit(0, "Först ")
    second = replica.edit(0, "Sedan ")
    too_long = replica_of(note, member_a).edit(0, "x" * NOTE_BODY_MAX_LENGTH)
    a, o = actor_for(member_a.user), actor_for(observer.user)
    edits = [
        documents.Edit(a, first, "socket-a"),
        documents.Edit(o, replica_of(note, observer).edit(0, "Obs "), "socket-o"),
        documents.Edit(a, b"\x07garbage", "socket-a"),
        documents.Edit(a, too_long, "socket-a"),
        documents.Edit(a, second, "socket-a"),
    ]
    layer, channel = _listen(group.pk)

    with programme_scope([programme.pk]):
        changed, refusals = documents.document_apply_many(note=note, edits=edits)

    assert [type(refusal) for refusal in refusals] == [
        type(None),
        PermissionDenied,
        ValidationError,
        ValidationError,
        type(None),
    ]
    stored = Note.unscoped_objects.get(pk=note.pk)
    assert (stored.body, stored.version) == ("Sedan Först Rad ett.\n", 2)
    assert NoteUpdate.unscoped_objects.filter(note=note).count() == 1
    (event,) = _events(layer, channel)
    assert event["sender"] == "socket-a"  # the one socket whose edits were stored is not sent them back


@pytest.mark.django_db(transaction=True)
def test_apply_many_with_nothing_allowed_stores_nothing(programme, group, note, observer):
    update = replica_of(note, observer).edit(0, "Obs ")
    with programme_scope([programme.pk]):
        changed, refusals = documents.document_apply_many(
            note=note, edits=[documents.Edit(actor_for(observer.user), update, "socket-o")]
        )
    assert (changed, [type(r) for r in refusals]) == (None, [PermissionDenied])
    assert (Note.unscoped_objects.get(pk=note.pk).version, NoteUpdate.unscoped_objects.count()) == (1, 0)


async def _synced(communicator: WebsocketCommunicator, note_id: int) -> Replica:
    replica = Replica()
    await communicator.send_json_to({"type": "doc.sync", "note": note_id, "sv": b64(b"\x00")})
    while True:
        answer = await communicator.receive_json_from(timeout=3)
        if answer["type"] in ("doc.sync", "doc.update"):
            replica.apply(answer["update"])
        if answer["type"] == "doc.sync":
            return replica


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_burst_from_several_editors_is_stored_and_delivered_whole(
    group, note, member_a, member_b, convener
):
    people = [member_a, member_b, convener]
    sockets = [await open_notes_socket(person, group.pk) for person in people]
    replicas = [await _synced(socket, note.pk) for socket in sockets]
    burst = 12

    # Every editor types its burst without waiting for anything in between.
    tokens = {index: [f"<{index}.{n}>" for n in range(burst)] for index in range(len(people))}
    for n in range(burst):
        for index, socket in enumerate(sockets):
            update = replicas[index].edit(0, tokens[index][n])
            await socket.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(update)})

    received = [0] * len(sockets)
    everything = sorted(token for own in tokens.values() for token in own)
    for index, socket in enumerate(sockets):
        while sorted(t for t in everything if t in str(replicas[index])) != everything:
            message = await socket.receive_json_from(timeout=5)
            if message["type"] == "doc.update":
                replicas[index].apply(message["update"])
                received[index] += 1
            else:
                assert message["type"] == "presence", message

    stored = await sync_to_async(Note.unscoped_objects.get)(pk=note.pk)
    rows = await sync_to_async(NoteUpdate.unscoped_objects.filter(note=note).count)()
    assert sorted(t for t in everything if t in stored.body) == everything
    assert len(stored.body) == len("Rad ett.\n") + sum(len(t) for t in everything)
    assert [str(replica) for replica in replicas] == [stored.body] * len(sockets)
    # One version step and one log row per stored batch, and every socket heard each batch once at most.
    assert stored.version == 1 + rows
    assert all(0 < count <= rows for count in received)
    for socket in sockets:
        while not await socket.receive_nothing(timeout=0.3):
            left = await socket.receive_json_from(timeout=3)
            assert left["type"] == "presence", left
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_burst_within_one_interval_goes_out_as_one_merged_frame_to_every_other_socket(
    settings, group, note, member_a, member_b, convener
):
    # An interval far longer than the burst takes to arrive, so that it falls in one interval for certain.
    settings.NOTE_UPDATE_INTERVAL_MS = 2000
    people = [member_a, member_b, convener]
    sockets = [await open_notes_socket(person, group.pk) for person in people]
    replicas = [await _synced(socket, note.pk) for socket in sockets]

    async def next_update(index: int) -> None:
        while True:
            message = await sockets[index].receive_json_from(timeout=5)
            if message["type"] == "doc.update":
                replicas[index].apply(message["update"])
                return
            assert message["type"] == "presence", message

    # A lone keystroke is stored and sent at once; the interval starts with it.
    first = replicas[0].edit(0, "<first>")
    await sockets[0].send_json_to({"type": "doc.update", "note": note.pk, "update": b64(first)})
    await next_update(1)
    await next_update(2)
    # Within the interval every editor types; all of it waits for the interval's end.
    tokens = [f"<{index}.{n}>" for n in range(8) for index in range(len(people))]
    for n in range(8):
        for index, socket in enumerate(sockets):
            update = replicas[index].edit(0, f"<{index}.{n}>")
            await socket.send_json_to({"type": "doc.update", "note": note.pk, "update": b64(update)})
    for index in range(len(sockets)):
        await next_update(index)  # one merged frame each, the senders' own edits included
    while consumers_background():
        await asyncio.sleep(0.05)  # the interval after the last batch ends

    stored = await sync_to_async(Note.unscoped_objects.get)(pk=note.pk)
    rows = await sync_to_async(NoteUpdate.unscoped_objects.filter(note=note).count)()
    everything = sorted(["<first>", *tokens])
    assert sorted(t for t in everything if t in stored.body) == everything
    assert len(stored.body) == len("Rad ett.\n") + sum(len(t) for t in everything)
    assert [str(replica) for replica in replicas] == [stored.body] * 3
    assert (rows, stored.version) == (2, 3)  # the lone keystroke, then the whole burst as one change
    for socket in sockets:
        while not await socket.receive_nothing(timeout=0.3):
            left = await socket.receive_json_from(timeout=3)
            assert left["type"] == "presence", left  # no further doc.update: each heard the burst once
        await socket.disconnect()


def consumers_background() -> bool:
    """Whether a note's queue is still at work (storing, or waiting for its interval to end)."""
    return bool(consumers._background)
