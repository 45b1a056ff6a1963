"""The stored changes of a note reach each socket of a process as at most one frame per interval: a lone
change at once, the changes that arrive within the interval after it (from this process's batches and
from other processes' alike) merged into one ``doc.update``."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from coordinator.core.tenancy import programme_scope
from focusgroups.models import LivePresence, Note
from focusgroups.services import documents
from organisations.permissions import actor_for
from tests.focusgroups.live import open_notes_socket
from tests.focusgroups.replica import Replica

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def _updates(communicator: WebsocketCommunicator) -> list[dict[str, Any]]:
    """The ``doc.update`` frames waiting for the socket (presence frames left out)."""
    frames = []
    while not await communicator.receive_nothing(timeout=0.5):
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == "doc.update":
            frames.append(message)
        else:
            assert message["type"] == "presence", message
    return frames


def _initial(note: Note, person: Any) -> bytes:
    with programme_scope([note.group.programme_id]):
        update, _sv, _edit = documents.document_sync(
            actor=actor_for(person.user), note=note, state_vector=b"\x00"
        )
    return update


def _store(note: Note, person: Any, update: bytes, sender: str) -> dict[str, Any]:
    """A change stored as a process's batch stores it; the event its broadcast carries."""
    deliveries: list[documents.Broadcast] = []
    with programme_scope([note.group.programme_id]):
        changed, refusals = documents.document_apply_many(
            note=note, edits=[documents.Edit(actor_for(person.user), update, sender)], deliveries=deliveries
        )
    assert (changed is not None, refusals) == (True, [None])
    return deliveries[0].event


async def test_changes_within_an_interval_reach_a_socket_as_one_frame(
    settings, group, note, member_a, member_b
):
    settings.NOTE_UPDATE_INTERVAL_MS = 300
    reader = await open_notes_socket(member_a, group.pk)
    writer, base = Replica(), Replica()
    initial = await sync_to_async(_initial)(note, member_b)
    writer.doc.apply_update(initial)
    base.doc.apply_update(initial)
    events = [
        await sync_to_async(_store)(note, member_b, writer.edit(0, text), "elsewhere")
        for text in ("Ett ", "Två ", "Tre ")
    ]
    layer = get_channel_layer()
    assert layer is not None

    for event in events:  # as the channel layer brings them: one right after the other
        await layer.group_send(documents.notes_group(group.pk), event)
    frames = await _updates(reader)

    # The first at once, the two that came within the interval after it as one merged update.
    assert len(frames) == 2
    for frame in frames:
        base.doc.apply_update(base64.b64decode(frame["update"]))
    stored = await sync_to_async(lambda: Note.unscoped_objects.get(pk=note.pk).body)()
    assert str(base) == stored == "Tre Två Ett Rad ett.\n"
    assert (frames[1]["by"], frames[1]["authors"]) == (
        {"id": member_b.pk, "name": "Omar Said"},
        [{"id": member_b.pk, "name": "Omar Said"}],
    )
    await reader.disconnect()


async def test_a_socket_is_not_sent_its_own_changes_merged(settings, group, note, member_a, member_b):
    settings.NOTE_UPDATE_INTERVAL_MS = 300
    own = await open_notes_socket(member_a, group.pk)
    other = await open_notes_socket(member_b, group.pk)
    await _updates(own)
    replica = Replica()
    replica.doc.apply_update(await sync_to_async(_initial)(note, member_a))
    channel = await sync_to_async(
        lambda: LivePresence.unscoped_objects.get(person=member_a, group=group).channel_name
    )()
    events = [await sync_to_async(_store)(note, member_a, replica.edit(0, text), channel) for text in "abc"]
    layer = get_channel_layer()
    assert layer is not None

    for event in events:
        await layer.group_send(documents.notes_group(group.pk), event)

    assert await _updates(own) == []
    assert [frame["authors"] for frame in await _updates(other)] == [
        [{"id": member_a.pk, "name": "Anna Berg"}]
    ] * 2
    await own.disconnect()
    await other.disconnect()


async def test_changes_held_back_for_a_reader_are_dropped_when_the_note_is_withdrawn(
    settings, group, note, member_b, nonmember
):
    settings.NOTE_UPDATE_INTERVAL_MS = 300
    await sync_to_async(Note.unscoped_objects.filter(pk=note.pk).update)(visibility=Note.Visibility.PROGRAMME)
    reader = await open_notes_socket(nonmember, group.pk)
    writer = Replica()
    writer.doc.apply_update(await sync_to_async(_initial)(note, member_b))
    events = [
        await sync_to_async(_store)(note, member_b, writer.edit(0, text), "elsewhere")
        for text in ("Ett ", "Två ")
    ]
    layer = get_channel_layer()
    assert layer is not None

    for event in events:  # the first goes out at once, the second waits for the end of the interval
        await layer.group_send(documents.readers_group(group.pk), event)
    await layer.group_send(documents.readers_group(group.pk), {"type": "note.withdrawn", "note": note.pk})

    assert (await reader.receive_json_from(timeout=3))["type"] == "doc.update"
    assert await reader.receive_json_from(timeout=3) == {"type": "withdrawn", "note": note.pk}
    assert await reader.receive_nothing(timeout=0.6)
    await reader.disconnect()
