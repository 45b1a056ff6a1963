"""The queue of a note's live updates in one socket process: what arrives while the previous batch is being
stored (and within ``NOTE_UPDATE_INTERVAL_MS`` of its start) is stored and sent on as one change."""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from coordinator.core.tenancy import programme_scope
from focusgroups.models import Note
from focusgroups.services import documents

if TYPE_CHECKING:
    from focusgroups.consumers import NotesConsumer

logger = logging.getLogger("focusgroups.consumers")

# A JSON frame or channel-layer event of the live document.
Frame = dict[str, object]


@dataclass
class _Waiting:
    """A member's ``doc.update`` frame waiting in this process to be stored with the others of its note."""

    consumer: NotesConsumer
    update: bytes


@dataclass
class _NoteQueue:
    waiting: list[_Waiting] = field(default_factory=list)
    draining: bool = False


# Per event loop (one per server process) and note: the updates that arrived while the previous ones were
# being stored. They are stored together as one change (``documents.document_apply_many``): one
# transaction, one row lock, one log row and one broadcast instead of one each per keystroke.
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _NoteQueue]] = (
    weakref.WeakKeyDictionary()
)


def _refusal(code: str, note_id: int, message: str) -> Frame:
    return {"type": "error", "code": code, "note": note_id, "message": message}


def _store_batch(
    note_id: int, batch: list[_Waiting], deliveries: list[documents.Broadcast]
) -> list[Frame | None]:
    """Store a batch of one note's updates (in the database thread); per update, the refusal or None. The
    broadcast of the stored change lands in ``deliveries``, for the event loop to send."""
    group_id = batch[0].consumer.group_id
    note = Note.objects.select_related("group").filter(pk=note_id, group_id=group_id).first()
    if note is None:
        return [_refusal("not_found", note_id, _("There is no such note."))] * len(batch)
    edits = [documents.Edit(w.consumer.actor, w.update, w.consumer.channel_name) for w in batch]
    _changed, refusals = documents.document_apply_many(note=note, edits=edits, deliveries=deliveries)
    return [
        None
        if refusal is None
        else _refusal("forbidden", note_id, _("You may read this note but not change it."))
        if isinstance(refusal, PermissionDenied)
        else _refusal("invalid", note_id, " ".join(refusal.messages))
        for refusal in refusals
    ]


async def _send(deliveries: list[documents.Broadcast], channel_layer: BaseChannelLayer) -> None:
    for delivery in deliveries:
        for room in delivery.rooms():
            try:
                await channel_layer.group_send(room, delivery.event)
            except Exception:  # the change is stored; a client that missed it gets it on its next sync
                logger.exception("Could not broadcast to focus group %s", delivery.group_id)


async def _drain(notes_here: dict[int, _NoteQueue], note_id: int, programme_id: int) -> None:
    """Store what waits for a note, batch after batch, until nothing is left; then answer the senders.

    A batch is taken at most once per ``NOTE_UPDATE_INTERVAL_MS``: a lone keystroke is stored and sent at
    once, and the keystrokes that arrive in the interval after it (from every editor of the note on this
    process) are stored and sent together, as one merged frame per socket instead of one per keystroke."""
    queue = notes_here[note_id]
    loop = asyncio.get_running_loop()
    interval = settings.NOTE_UPDATE_INTERVAL_MS / 1000

    def store(batch: list[_Waiting], deliveries: list[documents.Broadcast]) -> list[Frame | None]:
        with programme_scope([programme_id]):
            return _store_batch(note_id, batch, deliveries)

    try:
        while queue.waiting:
            started = loop.time()
            batch, queue.waiting = queue.waiting, []
            deliveries: list[documents.Broadcast] = []
            try:
                answers = await database_sync_to_async(store)(batch, deliveries)
                # Committed: the merged update goes out from here, not from the database thread.
                await _send(deliveries, batch[0].consumer.channel_layer)
            except Exception:
                # Not stored: the client syncs again on this answer and sends what the server lacks.
                logger.exception("Could not store the live updates of note %s", note_id)
                failed = _refusal("invalid", note_id, _("The change could not be stored; it is sent again."))
                answers = [failed] * len(batch)
            for waiting, answer in zip(batch, answers, strict=True):
                consumer = waiting.consumer
                if consumer.room is None or consumer.access_closed:
                    continue
                if answer is None:
                    consumer._schedule_pause_check(note_id)
                    continue
                if answer["code"] == "forbidden":
                    # The edit right is gone: ask about the rest too, and close if the socket's went with it.
                    code = await consumer.access_refusal()
                    if code is not None:
                        await consumer.refuse_access(code)
                        continue
                await consumer.send_json(answer)
            # What arrives until the interval is over waits for the next batch.
            rest = started + interval - loop.time()
            if rest > 0:
                await asyncio.sleep(rest)
    finally:
        queue.draining = False
        if not queue.waiting:
            notes_here.pop(note_id, None)
