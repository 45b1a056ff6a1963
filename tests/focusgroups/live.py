"""Opening live-notes sockets and document replicas in the focus-group tests."""

from __future__ import annotations

from typing import Any

from channels.testing import WebsocketCommunicator
from django.conf import settings

from coordinator.asgi import application
from coordinator.core.tenancy import programme_scope
from focusgroups.consumers import NotesConsumer
from focusgroups.models import Note
from focusgroups.services import documents
from organisations.permissions import actor_for
from tests.focusgroups.replica import Replica


def notes_path(group_id: int) -> str:
    return f"/ws/focusgroups/{group_id}/notes/"


def notes_socket(person: Any, group_id: int) -> WebsocketCommunicator:
    """A socket through the whole application (routing, origin check) with the person in its scope and no
    session, not yet connected."""
    communicator = WebsocketCommunicator(
        application, notes_path(group_id), headers=[(b"origin", settings.SITE_URL.encode())]
    )
    communicator.scope["user"] = person.user
    communicator.scope["url_route"] = {"kwargs": {"group_id": group_id}}
    return communicator


async def open_notes_socket(person: Any, group_id: int) -> WebsocketCommunicator:
    """The notes consumer's socket for the person, connected and past its ``hello``."""
    communicator = WebsocketCommunicator(NotesConsumer.as_asgi(), notes_path(group_id))
    communicator.scope["user"] = person.user
    communicator.scope["url_route"] = {"kwargs": {"group_id": group_id}}
    connected, code = await communicator.connect()
    assert connected, code
    assert (await communicator.receive_json_from(timeout=3))["type"] == "hello"
    return communicator


def replica_of(note: Note, person: Any) -> Replica:
    """A client's copy of the note's live document, synced as the person."""
    replica = Replica()
    with programme_scope([note.group.programme_id]):
        update, _sv, _edit = documents.document_sync(
            actor=actor_for(person.user), note=note, state_vector=b"\x00"
        )
    replica.doc.apply_update(update)
    return replica


async def next_frame(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    """The next frame of a kind, skipping presence updates and the live document's frames that a whole-text
    save also sends."""
    while True:
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == kind:
            return message  # type: ignore[no-any-return]
        assert message["type"] in ("presence", "doc.update", "doc.versioned"), message
