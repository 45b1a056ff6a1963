"""The live shared notes of a focus group over a websocket (``/ws/focusgroups/<group id>/notes/``).

Protocol (JSON):

- On connect a person holding ``view_focusgroup`` on the group (members, the convener, observers) joins
  its room: the server sends ``{"type": "hello", "notes": [...], "presence": [...]}`` and broadcasts the new
  ``{"type": "presence", "presence": [...]}`` to the group. Another member of the programme joins as a
  reader: the hello holds only the notes shared with the programme (and no presence), saves of those notes
  arrive as for members, a note made group-only again arrives as ``{"type": "withdrawn", "note": id}``,
  and a reader is never on the roster and may not save. Anyone else is closed with 4403, a group that
  does not exist or belongs to another programme with 4404.
- Each note's text is a live Yjs document (``services.documents``; Yjs binaries travel as standard
  base64). ``{"type": "doc.sync", "note": id, "sv": "<state vector>"}`` is answered to the sender only with
  ``{"type": "doc.sync", "note": id, "update": "<what it lacks>", "sv": "<the server's state vector>",
  "can_edit": bool}``; the client then sends what the server lacks (its offline edits) as one update.
  ``{"type": "doc.update", "note": id, "update": "..."}`` is checked for the edit right on every frame,
  applied and stored before it goes, after the commit, to every other socket of the group (and, for a
  shared note, to its readers) as ``{"type": "doc.update", "note": id, "update": "...", "by": {"id",
  "name"}, "authors": [{"id", "name"}, ...]}``. The updates of one note that reach a process while the
  previous ones are being stored wait and are then stored together, in the order they came, as one
  change (one transaction, one log row, one version step) and go out as one merged update: ``by`` is the
  last to type and ``authors`` everyone whose edits it holds; a socket whose own edits are all of it is
  not sent it back, one that sent some of them receives it too (applying an edit twice changes nothing).
  A refusal reaches the sender only, and nothing of that update is stored: ``{"type": "error", "code":
  "forbidden" | "not_found" | "invalid", "note": id, "message": "..."}`` (no right to edit; a note not
  this group's or not readable, answered alike; bytes that are no base64 or no Yjs update).
  ``{"type": "doc.awareness", "note": id, "client": n, "update": "..."}`` (caret and selection; readers
  may send it too) is relayed, not stored, to the other sockets with ``"user": {"id", "name"}`` as the
  server knows the sender. ``{"type": "doc.version", "note": id}`` writes a named version now; every
  socket hears ``{"type": "doc.versioned", "note": id, "version": n, "by": {...} | null, "at": "..."}``,
  also for the versions written when editing pauses (this socket's timer, else the periodic job), when
  a meeting ends and on a whole-text save.
- ``{"type": "save", "note": id, "base_version": n, "body": "...", "title": "..."}`` saves the whole text
  through ``notes.note_update``: the difference to the live text is applied as an edit (broadcast as
  ``doc.update``) and kept as a version, then every socket of the group (the sender's too) receives
  ``{"type": "saved", ...}``; on a stale base version only the sender receives ``{"type": "conflict",
  "note": id, "current": {...}, "yours": {...}}`` with both texts, so nothing typed is lost. Without the
  right to edit: ``{"type": "error", "code": "forbidden"}``; bad input: ``{"type": "error", "code":
  "invalid", ...}``.
- ``{"type": "ping"}`` refreshes the person's presence (the client sends one every 30 s) and is answered with
  ``{"type": "pong"}``.
- On disconnect the presence row goes and the new roster is broadcast (arrivals and departures of a person's
  second tab change nothing and broadcast nothing). A socket whose process died without
  closing drops out when its row is older than ``FOCUSGROUPS_PRESENCE_TTL_SECONDS`` (see
  ``selectors.roster``). A member removed from the group is disconnected (4403) at once.
- Sockets follow rights (``ScopedConsumer``): before each frame and each delivery the socket asks the
  database again, in the same one query, for the person's active membership of this group (keystrokes
  and carets within five seconds of the last answer go on it, and each update's edit right is asked again
  when it is stored; a lost right is told to the socket at once); a member whose
  membership ended, or a reader who left the programme, is refused (``{"type": "error", "code":
  "forbidden", ...}``) and closed with 4403, a socket whose session ended with 4401; a member made observer
  stays, but no longer saves or updates (``forbidden`` for each update; the client turns read-only).

Presence lives in the database (``LivePresence``), so every ASGI process sharing the channel layer sees
the same roster.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from coordinator.core.exceptions import Conflict
from focusgroups import permissions, selectors
from focusgroups.models import FocusGroup, GroupMembership, LivePresence, Note
from focusgroups.services import documents, notes
from focusgroups.services._batches import (
    Frame,
    _drain,
    _NoteQueue,
    _queues,
    _refusal,
    _Waiting,
    deliver,
    discard,
    flush,
)
from organisations.access.consumers import CLOSE_FORBIDDEN, ScopedConsumer

logger = logging.getLogger(__name__)

CLOSE_NOT_FOUND = 4404

_DOCUMENT_FRAMES = frozenset({"doc.sync", "doc.update", "doc.awareness", "doc.version"})
# Keystrokes and carets (as the editor sends them: the type first).
_LIVE_FRAME = re.compile(r'\s*\{\s*"type"\s*:\s*"doc\.(?:update|awareness)"')
# The pause timers' tasks, kept so that they are not collected before they finish.
_background: set[asyncio.Task[object]] = set()


def _note_payload(note: Note, can_edit: bool) -> dict[str, Any]:
    return {
        "id": note.pk,
        "title": note.title,
        "version": note.version,
        "body": note.body,
        "visibility": note.visibility,
        "can_edit": can_edit,
    }


class NotesConsumer(ScopedConsumer):
    """One person's live connection to a focus group's notes."""

    group_id: int
    programme_id: int
    room: str | None = None
    can_edit: bool = False
    display_name: str = ""
    # In the group's room (members, the convener, observers); otherwise a programme reader of shared notes.
    in_room: bool = False

    async def connect(self) -> None:
        self.room = None
        await super().connect()

    async def authorise(self) -> bool:
        try:
            self.group_id = int(self.scope["url_route"]["kwargs"]["group_id"])
        except (KeyError, TypeError, ValueError):
            await self.close(code=CLOSE_NOT_FOUND)
            return False
        found = await self.in_scope(self._load_rights)
        if found is None:
            # Missing or another programme's group: the same answer, and not the generic 4403 below.
            await self.close(code=CLOSE_NOT_FOUND)
            return False
        return found

    def _load_rights(self) -> bool | None:
        group = FocusGroup.objects.filter(pk=self.group_id).first()
        if group is None:
            return None
        self.programme_id = group.programme_id
        rights = permissions.group_rights(self.actor, group)
        self.in_room = permissions.can_view_group_room(self.actor, group, rights)
        self.can_edit = self.in_room and permissions.can_edit_notes(self.actor, group, rights)
        # The name others see at this person's caret: the server's, never one taken from a frame.
        self.display_name = self.actor.person.full_name if self.actor.person is not None else ""
        return self.in_room or self.actor.is_member(group.programme_id)

    def socket_programmes(self) -> Iterable[int]:
        return (self.programme_id,)

    # Several keystrokes and caret moves a second per editor: those frames are answered on the socket's
    # access answer while it is younger than this (a lost right re-asks at once through the revocation
    # groups). The edit right itself is asked of the database again for every update, in the transaction
    # that stores it (``documents.document_apply_many``); every other frame asks everything again.
    live_frame_recheck_seconds = 5.0

    def recent_access_suffices(self, message: dict[str, object]) -> bool:
        text = message.get("text")
        return (
            time.monotonic() - self._access_checked_at < self.live_frame_recheck_seconds
            and isinstance(text, str)
            and _LIVE_FRAME.match(text) is not None
        )

    def database_free(self, message: dict[str, object]) -> bool:
        # Frames and deliveries reach the database only through ``in_scope`` and the batches' database
        # thread; a keystroke fanned out to 49 sockets no longer makes 49 hops to that thread first.
        return message.get("type") not in ("websocket.connect", "websocket.disconnect")

    def access_annotations(self) -> dict[str, Subquery]:
        role = GroupMembership.objects.filter(
            group_id=self.group_id, person__user=OuterRef("pk"), is_active=True
        ).values("role")[:1]
        return {"group_role": Subquery(role)}

    def access_batch_key(self) -> Hashable:
        # The annotations are the group's: the sockets of one group are re-checked together.
        return (NotesConsumer, self.group_id)

    def access_holds(self, values: dict[str, object]) -> bool:
        role = values["group_role"]
        rights = permissions.role_rights(
            self.actor, self.programme_id, role if isinstance(role, str) else None
        )
        if not self.in_room:
            return self.actor.is_member(self.programme_id)
        self.can_edit = permissions.EDIT_NOTES in rights
        return permissions.VIEW in rights

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        # ScopedConsumer closes with 4403 after authorise() returns False; a 4404 already sent stands.
        if getattr(self, "_closed_with", None) is not None:
            return
        self._closed_with = code
        await super().close(code=code, reason=reason)

    async def on_accepted(self) -> None:
        if not self.in_room:
            self.room = documents.readers_group(self.group_id)
            await self.channel_layer.group_add(self.room, self.channel_name)
            shared = await self.in_scope(self._shared_notes)
            await self.send_json({"type": "hello", "notes": shared, "presence": []})
            return
        self.room = documents.notes_group(self.group_id)
        await self.channel_layer.group_add(self.room, self.channel_name)
        hello, changed = await self.in_scope(self._join)
        await self.send_json(hello)
        if changed:
            await self._broadcast_presence(hello["presence"])

    def _others_of_mine(self) -> bool:
        """Whether the person has the room open in another tab (then arriving or leaving changes nothing)."""
        return (
            LivePresence.objects.filter(group_id=self.group_id, person=self.actor.person)
            .exclude(channel_name=self.channel_name)
            .exists()
        )

    def _join(self) -> tuple[dict[str, Any], bool]:
        group = FocusGroup.objects.get(pk=self.group_id)
        assert self.actor.person is not None
        already_here = self._others_of_mine()
        LivePresence.objects.update_or_create(
            channel_name=self.channel_name,
            defaults={"group": group, "person": self.actor.person, "seen_at": timezone.now()},
        )
        payloads = [_note_payload(n, self.can_edit) for n in selectors.room_notes(group)]
        hello = {"type": "hello", "notes": payloads, "presence": selectors.roster(self.group_id)}
        return hello, not already_here

    def _shared_notes(self) -> list[dict[str, Any]]:
        # A reader outside the room: the notes the one note-reading rule lets them read (the shared ones).
        return [
            _note_payload(n, False)
            for n in selectors.notes_for(self.actor).filter(group_id=self.group_id).order_by("title", "pk")
        ]

    def _leave(self) -> list[dict[str, Any]] | None:
        LivePresence.objects.filter(channel_name=self.channel_name).delete()
        if self._others_of_mine():
            return None
        return selectors.roster(self.group_id)

    def _touch(self) -> None:
        LivePresence.objects.filter(channel_name=self.channel_name).update(seen_at=timezone.now())

    async def _broadcast_presence(self, presence: list[dict[str, Any]]) -> None:
        assert self.room is not None
        await self.channel_layer.group_send(self.room, {"type": "presence.update", "presence": presence})

    async def disconnect(self, code: int) -> None:
        if self.room is None:
            return
        await self.channel_layer.group_discard(self.room, self.channel_name)
        if self.in_room:
            presence = await self.in_scope(self._leave)
            if presence is not None:
                await self._broadcast_presence(presence)
        self.room = None

    # --- From the client --------------------------------------------------------------------------------

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "code": "invalid", "message": "Send a JSON object."})
            return
        kind = content.get("type")
        if kind == "ping":
            await self.in_scope(self._touch)
            await self.send_json({"type": "pong"})
        elif kind == "save":
            reply = await self.in_scope(self._save, content)
            if reply is not None:
                await self.send_json(reply)
        elif kind in _DOCUMENT_FRAMES:
            await self._document_frame(kind, content)
        else:
            await self.send_json({"type": "error", "code": "invalid", "message": "Unknown message type."})

    def _save(self, content: dict[str, Any]) -> dict[str, Any] | None:
        """Save through the service; returns the reply for the sender only (None: the broadcast answers)."""
        note_id = content.get("note")
        body = content.get("body")
        title = content.get("title")
        base_version = content.get("base_version")
        if isinstance(note_id, bool) or not isinstance(note_id, int):
            return {"type": "error", "code": "invalid", "message": "Give the note's id."}
        if not self.in_room:
            # Only the group edits its notes; a reader learns nothing about which ids exist.
            return {"type": "error", "code": "forbidden", "note": note_id}
        # The scoped read: the note must be this group's (and so inside the actor's programmes).
        note = Note.objects.select_related("group").filter(pk=note_id, group_id=self.group_id).first()
        if note is None:
            return {"type": "error", "code": "not_found", "note": note_id}
        self._touch()
        if not isinstance(body, str):
            return {
                "type": "error",
                "code": "invalid",
                "note": note_id,
                "errors": {"__all__": [_("Give the text as a string.")]},
            }
        try:
            # The client's values go to the service unchecked: it answers bad ones with a ValidationError.
            notes.note_update(
                actor=self.actor,
                note=note,
                body=body,
                title=title,
                # A save frame always names its base (0 is refused as no version at all).
                base_version=0 if base_version is None else base_version,  # type: ignore[arg-type]
            )
        except PermissionDenied:
            return {"type": "error", "code": "forbidden", "note": note_id}
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            return {"type": "error", "code": "invalid", "note": note_id, "errors": errors}
        except Conflict as conflict:
            current: Note | None = conflict.current
            if current is None:
                return {
                    "type": "error",
                    "code": "conflict",
                    "note": note_id,
                    "errors": {"__all__": conflict.messages},
                }
            return {
                "type": "conflict",
                "note": note_id,
                "current": {
                    "version": current.version,
                    "body": current.body,
                    "title": current.title,
                    "author": current.updated_by.full_name if current.updated_by else "",
                },
                "yours": {"body": body, "title": title if title is not None else current.title},
            }
        return None

    # --- The live document ------------------------------------------------------------------------------

    async def _document_frame(self, kind: str, content: Frame) -> None:
        note_id = content.get("note")
        if isinstance(note_id, bool) or not isinstance(note_id, int):
            await self.send_json({"type": "error", "code": "invalid", "message": "Give the note's id."})
            return
        if kind == "doc.awareness":
            await self._relay_awareness(note_id, content)
            return
        if kind == "doc.update" and self.in_room and self.can_edit:
            await self._queue_update(note_id, content)
            return
        handler = {
            "doc.sync": self._doc_sync,
            "doc.update": self._doc_update,
            "doc.version": self._doc_version,
        }
        reply = await self.in_scope(self._document_work, handler[kind], note_id, content)
        if reply is not None:
            await self.send_json(reply)
        if kind == "doc.update" and reply is None:
            self._schedule_pause_check(note_id)

    async def _queue_update(self, note_id: int, content: Frame) -> None:
        """Queue a member's update for its note; it is stored with those that arrive meanwhile, in order."""
        try:
            update = documents.decode(content.get("update"))
        except ValidationError as exc:
            await self.send_json(_refusal("invalid", note_id, " ".join(exc.messages)))
            return
        notes_here = _queues.setdefault(asyncio.get_running_loop(), {})
        queue = notes_here.setdefault(note_id, _NoteQueue())
        queue.waiting.append(_Waiting(self, update))
        if not queue.draining:
            queue.draining = True
            task = asyncio.get_running_loop().create_task(_drain(notes_here, note_id, self.programme_id))
            _background.add(task)
            task.add_done_callback(_background.discard)

    def _readable_note(self, note_id: int) -> Note | None:
        """The note if it is this group's and the person may read it (the one note-reading rule)."""
        rows = Note.objects.select_related("group").filter(pk=note_id, group_id=self.group_id)
        if not self.in_room:
            rows = rows.filter(permissions.readable_notes_filter(self.actor))
        return rows.first()

    def _document_work(
        self, handler: Callable[[Note, Frame], Frame | None], note_id: int, content: Frame
    ) -> Frame | None:
        note = self._readable_note(note_id)
        if note is None:
            return _refusal("not_found", note_id, _("There is no such note."))
        try:
            reply: Frame | None = handler(note, content)
        except PermissionDenied:
            return _refusal("forbidden", note_id, _("You may read this note but not change it."))
        except ValidationError as exc:
            return _refusal("invalid", note_id, " ".join(exc.messages))
        return reply

    def _doc_sync(self, note: Note, content: Frame) -> Frame:
        state_vector = documents.decode(content.get("sv")) if content.get("sv") != "" else b"\x00"
        update, server_vector, can_edit = documents.document_sync(
            actor=self.actor, note=note, state_vector=state_vector
        )
        return {
            "type": "doc.sync",
            "note": note.pk,
            "update": documents.encode(update),
            "sv": documents.encode(server_vector),
            "can_edit": can_edit and self.in_room,
        }

    def _doc_update(self, note: Note, content: Frame) -> None:
        if not (self.in_room and self.can_edit):
            raise PermissionDenied
        update = documents.decode(content.get("update"))
        documents.document_apply(actor=self.actor, note=note, update=update, sender=self.channel_name)

    def _doc_version(self, note: Note, content: Frame) -> None:
        if not self.in_room:
            raise PermissionDenied
        documents.version_write(actor=self.actor, note=note)

    def _schedule_pause_check(self, note_id: int) -> None:
        """Write the version once this note's editing has paused, even if nobody types again (the periodic
        job is the backstop for a process that stops first)."""
        timers: dict[int, asyncio.TimerHandle] = self.__dict__.setdefault("_pause_timers", {})
        if note_id in timers:
            timers[note_id].cancel()
        loop = asyncio.get_running_loop()

        def check() -> None:
            timers.pop(note_id, None)
            task = loop.create_task(self.in_scope(documents.version_if_paused, note_id))
            _background.add(task)
            task.add_done_callback(_background.discard)

        timers[note_id] = loop.call_later(settings.NOTE_VERSION_PAUSE_SECONDS + 0.5, check)

    async def _relay_awareness(self, note_id: int, content: Frame) -> None:
        update, client = content.get("update"), content.get("client")
        if isinstance(client, bool) or not isinstance(client, int) or not (0 <= client < 2**53):
            await self.send_json(_refusal("invalid", note_id, _("Give the editor's client id.")))
            return
        try:
            documents.decode(update)
        except ValidationError as exc:
            await self.send_json(_refusal("invalid", note_id, " ".join(exc.messages)))
            return
        note = await self.in_scope(self._readable_note, note_id)
        if note is None:
            await self.send_json(_refusal("not_found", note_id, _("There is no such note.")))
            return
        person = self.actor.person
        assert person is not None
        event = {
            "type": "note.awareness",
            "note": note_id,
            "client": client,
            "update": update,
            "user": {"id": person.pk, "name": self.display_name},
            "sender": self.channel_name,
        }
        # Carets of a shared note reach the programme's readers too; a group-only note's stay in the room.
        rooms = [documents.notes_group(self.group_id)]
        if note.is_shared:
            rooms.append(documents.readers_group(self.group_id))
        for room in rooms:
            await self.channel_layer.group_send(room, event)

    # --- From the channel layer -------------------------------------------------------------------------

    async def note_doc_update(self, event: Frame) -> None:
        # The change itself, for this process's copy of the document (read back from the log otherwise).
        documents.hear(event)
        # At most one frame of a note per interval: what comes within it is sent merged at its end.
        await deliver(self, event)

    async def note_awareness(self, event: Frame) -> None:
        if event.get("sender") == self.channel_name:
            return
        await self.send_json(
            {key: event[key] for key in ("note", "client", "update", "user")} | {"type": "doc.awareness"}
        )

    async def note_versioned(self, event: Frame) -> None:
        await flush(self, int(str(event["note"])))
        await self.send_json(
            {
                "type": "doc.versioned",
                "note": event["note"],
                "version": event["version"],
                "by": event["by"],
                "at": event["at"],
            }
        )

    async def note_saved(self, event: Frame) -> None:
        await flush(self, int(str(event["note"])))
        await self.send_json(
            {
                "type": "saved",
                "note": event["note"],
                "version": event["version"],
                "title": event["title"],
                "body": event["body"],
                "visibility": event["visibility"],
                "author": event["author"],
                "at": event["at"],
                "can_edit": self.can_edit,
            }
        )

    async def note_withdrawn(self, event: dict[str, Any]) -> None:
        discard(self, int(event["note"]))
        await self.send_json({"type": "withdrawn", "note": event["note"]})

    async def presence_update(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "presence", "presence": event["presence"]})

    async def member_removed(self, event: dict[str, Any]) -> None:
        if self.actor.person is not None and event["person"] == self.actor.person.pk:
            await self.close(code=CLOSE_FORBIDDEN)
