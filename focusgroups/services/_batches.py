"""The queue of a note's live updates in one socket process: what arrives while the previous batch is being
stored (and within ``NOTE_UPDATE_INTERVAL_MS`` of its start) is stored and sent on as one change."""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from pycrdt import merge_updates

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


# --- Deliveries ------------------------------------------------------------------------------------------


@dataclass
class _Outbox:
    """A socket's stored changes of one note waiting to be sent, and when it was last sent one."""

    sent_at: float = float("-inf")
    waiting: list[Frame] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


# With several processes each stores its own batches, so a socket would hear one frame per process per
# interval. A socket sends a change at once when it sent none of the note in the last
# ``NOTE_UPDATE_INTERVAL_MS``; the changes that arrive within that interval go out at its end together, as
# one merged update: at most one frame of a note per interval, however many processes store its changes.
# The merged frames of this process, by the log rows they hold (the sockets of a process mostly wait for
# the same changes, so each merge is encoded once).
_merged: dict[tuple[int, ...], str] = {}
_MERGED_KEPT = 64
_sending: set[asyncio.Task[None]] = set()


def _outbox(consumer: NotesConsumer, note_id: int) -> _Outbox:
    boxes: dict[int, _Outbox] = consumer.__dict__.setdefault("_outboxes", {})
    return boxes.setdefault(note_id, _Outbox())


def merged_frame(events: list[Frame]) -> str:
    """The ``doc.update`` frame of one or several stored changes of a note, in the order they were stored."""
    if len(events) == 1:
        return str(events[0]["frame"])
    key = tuple(sorted(int(str(event["row"])) for event in events))
    frame = _merged.get(key)
    if frame is not None:
        return frame
    ordered = sorted(events, key=lambda event: int(str(event["row"])))
    frames = [json.loads(str(event["frame"])) for event in ordered]
    updates = [event["update"] for event in ordered]
    authors = {author["id"]: author for each in frames for author in each["authors"]}
    frame = json.dumps(
        {
            "type": "doc.update",
            "note": frames[-1]["note"],
            "update": documents.encode(merge_updates(*(u for u in updates if isinstance(u, bytes)))),
            "by": frames[-1]["by"],
            "authors": list(authors.values()),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    if len(_merged) >= _MERGED_KEPT:
        _merged.clear()
    _merged[key] = frame
    return frame


async def _send_frame(consumer: NotesConsumer, box: _Outbox, events: list[Frame]) -> None:
    if consumer.room is None or consumer.access_closed:
        return
    if all(event.get("sender") == consumer.channel_name for event in events):
        return  # its own edits only
    box.sent_at = asyncio.get_running_loop().time()
    await consumer.send(text_data=merged_frame(events))


async def deliver(consumer: NotesConsumer, event: Frame) -> None:
    """Send a stored change (a ``note.doc_update`` event this socket received) to the socket: at once, or
    at the end of the interval after its last frame of the note, merged with the others that came."""
    note_id = event["note"]
    assert isinstance(note_id, int)
    box = _outbox(consumer, note_id)
    loop = asyncio.get_running_loop()
    interval = settings.NOTE_UPDATE_INTERVAL_MS / 1000
    if not box.waiting and loop.time() - box.sent_at >= interval:
        await _send_frame(consumer, box, [event])
        return
    box.waiting.append(event)
    if box.timer is None:

        def due() -> None:
            task = loop.create_task(flush(consumer, note_id))
            _sending.add(task)
            task.add_done_callback(_sending.discard)

        box.timer = loop.call_at(box.sent_at + interval, due)


async def flush(consumer: NotesConsumer, note_id: int) -> None:
    """Send the socket's waiting changes of a note now (before another frame about the note, so that the
    client hears them in the order they happened)."""
    box = _outbox(consumer, note_id)
    if box.timer is not None:
        box.timer.cancel()
        box.timer = None
    events, box.waiting = box.waiting, []
    if events:
        try:
            await _send_frame(consumer, box, events)
        except Exception:  # a socket gone meanwhile; its client syncs again when it comes back
            logger.debug("Could not send the live updates of note %s", note_id)


def discard(consumer: NotesConsumer, note_id: int) -> None:
    """Drop the socket's waiting changes of a note it may no longer read (a shared note made group-only
    again): what was held back for the end of the interval is not sent after the ``withdrawn`` frame."""
    box = _outbox(consumer, note_id)
    if box.timer is not None:
        box.timer.cancel()
        box.timer = None
    box.waiting = []
