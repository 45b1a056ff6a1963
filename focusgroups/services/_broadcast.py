"""What a note's live document sends to the sockets: the channel-layer groups, the events and their frames."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from focusgroups.models import Note
from organisations.models import Person

logger = logging.getLogger("focusgroups.services.documents")


# --- Broadcast ------------------------------------------------------------------------------------------


def notes_group(group_id: int) -> str:
    """The channel-layer group of a focus group's live-notes sockets."""
    return f"focusgroup.{group_id}.notes"


def readers_group(group_id: int) -> str:
    """The channel-layer group of the sockets of programme members outside the focus group, who follow
    its notes shared with the programme."""
    return f"focusgroup.{group_id}.notes.readers"


def broadcast(group_id: int, event: dict[str, Any], *, members: bool = True, readers: bool = False) -> None:
    """Send an event to the live-notes sockets of a group's members and, with `readers`, to those of the
    programme's readers of its shared notes (call after the commit)."""
    layer = get_channel_layer()
    if layer is None:
        return
    rooms = ([notes_group(group_id)] if members else []) + ([readers_group(group_id)] if readers else [])
    for room in rooms:
        try:
            async_to_sync(layer.group_send)(room, event)
        except Exception:  # the change is stored; a live push is a convenience
            logger.exception("Could not broadcast to focus group %s", group_id)


def person_payload(person: Person | None) -> dict[str, object] | None:
    return None if person is None else {"id": person.pk, "name": person.full_name}


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode(value: object) -> bytes:
    """Standard base64 text to bytes; anything else is a ``ValidationError``."""
    if not isinstance(value, str) or not value:
        raise ValidationError(_("Send the update as base64 text."))
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError(_("Send the update as base64 text.")) from exc


@dataclass(frozen=True)
class Broadcast:
    """An event for a focus group's live-notes sockets, to be sent once the change is committed."""

    group_id: int
    event: dict[str, object]
    readers: bool

    def rooms(self) -> list[str]:
        return [notes_group(self.group_id)] + ([readers_group(self.group_id)] if self.readers else [])


def update_event(note: Note, update: bytes, people: list[Person], sender: str | None, row: int) -> Broadcast:
    """The ``doc.update`` of a stored change for every socket of the note's group but ``sender``'s. The
    frame the sockets send is encoded here, once, not once per socket. The event also carries the change
    itself (``update``, the log row ``row``, the note's ``version`` after it and the document's
    ``epoch``), so that another process brings its copy of the document up to date without reading the
    log (``hear``)."""
    encoded = encode(update)
    # The last to type; ``authors`` names everyone whose edits the update holds.
    by, authors = person_payload(people[-1]), [person_payload(person) for person in people]
    frame = json.dumps(
        {"type": "doc.update", "note": note.pk, "update": encoded, "by": by, "authors": authors},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    # Flat and small: the in-memory layer copies the event for every socket, Redis carries it per process.
    event = {
        "type": "note.doc_update",
        "note": note.pk,
        "version": note.version,
        "row": row,
        "epoch": str(note.document.epoch),
        "update": update,
        "sender": sender,
        "frame": frame,
    }
    return Broadcast(note.group_id, event, note.is_shared)


def _announce(broadcast_: Broadcast, deliveries: list[Broadcast] | None) -> None:
    """Hand the event to the caller (``deliveries``: it sends them after the commit), else broadcast it
    from here after the commit."""
    if deliveries is not None:
        deliveries.append(broadcast_)
        return
    group_id, event, readers = broadcast_.group_id, broadcast_.event, broadcast_.readers
    transaction.on_commit(lambda: broadcast(group_id, event, readers=readers))


# --- Changes heard from other processes ---------------------------------------------------------------

# Per process and note: the stored changes the channel layer brought, by the note's version before each,
# as (log row, update). A process catches its copy of a note's document up with them instead of reading
# the log (``documents._load``); a version step missing here (a broadcast late or lost, a save of the
# title alone) makes it read the log as before. Written by the event loop, read by the database thread:
# single dictionary operations, which the interpreter keeps whole.
# By note and document epoch: a note id used again (a database restored) never mixes two documents.
_heard: dict[tuple[int, str], dict[int, tuple[int, bytes]]] = {}
# Steps kept per note (a copy further behind reads the log), and notes kept (the least recently heard go).
HEARD_STEPS = 256
HEARD_NOTES = 1_000


def hear(event: dict[str, object]) -> None:
    """Keep the change a ``note.doc_update`` event carries (every socket of the process hears the same
    event: the first keeps it)."""
    note_id, version, row, epoch, update = (
        event.get("note"),
        event.get("version"),
        event.get("row"),
        event.get("epoch"),
        event.get("update"),
    )
    if not (isinstance(note_id, int) and isinstance(version, int) and isinstance(row, int)):
        return
    if not (isinstance(epoch, str) and isinstance(update, bytes)):
        return
    steps = _heard.get((note_id, epoch))
    if steps is None:
        if len(_heard) >= HEARD_NOTES:
            _heard.pop(next(iter(_heard)), None)
        steps = _heard[note_id, epoch] = {}
    elif version - 1 in steps:
        return
    steps[version - 1] = (row, update)
    if len(steps) > HEARD_STEPS:
        steps.pop(min(steps), None)


def heard_steps(note_id: int, epoch: str, since: int, until: int) -> list[tuple[int, bytes]] | None:
    """The changes that take a note's document (of ``epoch``) from version ``since`` to ``until``, in order;
    None when one of them was not heard."""
    steps = _heard.get((note_id, epoch), {})
    found: list[tuple[int, bytes]] = []
    for version in range(since, until):
        step = steps.get(version)
        if step is None:
            return None
        found.append(step)
    return found
