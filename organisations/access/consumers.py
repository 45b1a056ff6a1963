"""The base that authorises every websocket consumer and runs its database work in the person's scope."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from auditlog.context import set_actor
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db.models import Subquery

from coordinator.core import metrics
from coordinator.core.tenancy import programme_scope
from coordinator.core.validators import WEBSOCKET_FRAME_MAX_CHARS
from organisations.access import revocation
from organisations.access.rights import Access, current_access, current_access_many
from organisations.permissions import Actor, actor_for

# Close codes in the application range (4000-4999): the client should not reconnect on these.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403

# The error frame sent before a socket is closed for a right it no longer has.
REFUSALS = {
    CLOSE_UNAUTHENTICATED: ("unauthenticated", "You are signed out. Sign in again."),
    CLOSE_FORBIDDEN: ("forbidden", "You no longer have access here."),
}

# What one client frame may be (the servers refuse larger ones before reading them); no message of ours nests
# deeper than a few levels, and Python's parser dies of recursion on a frame nested some thousand levels deep.
MAX_FRAME_CHARS = WEBSOCKET_FRAME_MAX_CHARS
MAX_FRAME_DEPTH = 16

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


class FrameRefused(ValueError):
    """A client frame that is not the JSON the consumer reads: ``message`` says why (sent back to it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _nesting_exceeds(text: str, limit: int) -> bool:
    """Whether JSON text opens more than ``limit`` arrays/objects inside one another (strings skipped)."""
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limit:
            return True
    return False


@dataclass
class _AccessBatch:
    """The sockets of one process and one ``access_batch_key`` waiting for their delivery re-check."""

    waiting: list[tuple[ScopedConsumer, asyncio.Future[int | None]]] = field(default_factory=list)
    draining: bool = False


# Per event loop (one per server process; tests run several): the batches being gathered or asked.
_access_batches: dict[asyncio.AbstractEventLoop, dict[Hashable, _AccessBatch]] = {}
_background: set[asyncio.Task[None]] = set()


def _check_access_of(sockets: list[ScopedConsumer]) -> list[int | None]:
    """The close code (or None) of each socket, from one ``current_access_many`` for all of them.

    The query runs in the programmes every socket of the batch is scoped to (the rows that each of them
    could read alone); each socket's own rule (``access_holds``) then runs in its own scope, with its
    person as the audit trail's actor, as ``in_scope`` would run it.
    """
    shared = frozenset.intersection(*(frozenset(s.actor.programme_ids) for s in sockets))
    with programme_scope(shared):
        answers = current_access_many(
            [(s.scope["user"], s._session_key()) for s in sockets], sockets[0].access_annotations()
        )
    codes: list[int | None] = []
    for socket, fresh in zip(sockets, answers, strict=True):
        host, port = (socket.scope.get("client") or (None, None))[:2]
        with (
            programme_scope(socket.actor.programme_ids),
            set_actor(socket.scope.get("user"), remote_addr=host, remote_port=port),
        ):
            codes.append(socket._apply_access(fresh))
    return codes


async def _drain_access(batches: dict[Hashable, _AccessBatch], key: Hashable) -> None:
    batch = batches[key]
    try:
        # The message that makes these sockets due reaches every socket of the process in the same turn of
        # the loop: let them all join before asking.
        await asyncio.sleep(0)
        while batch.waiting:
            sockets, batch.waiting = batch.waiting, []
            try:
                codes = await database_sync_to_async(_check_access_of)([s for s, _ in sockets])
            except Exception as exc:  # each socket fails as its own query would have made it fail
                for _socket, future in sockets:
                    if not future.done():
                        future.set_exception(exc)
                continue
            metrics.WEBSOCKET_ACCESS_BATCHES.inc()
            metrics.WEBSOCKET_ACCESS_CHECKS.inc(len(sockets))
            for (_socket, future), code in zip(sockets, codes, strict=True):
                if not future.done():
                    future.set_result(code)
    finally:
        batch.draining = False
        if not batch.waiting and batches.get(key) is batch:
            del batches[key]


class ScopedConsumer(AsyncJsonWebsocketConsumer):
    """Base of every consumer: an anonymous or unauthorised socket is closed, not just ignored.

    Subclasses implement ``authorise()`` (called in ``connect()`` with ``self.actor`` set; return False to
    close with 4403) and run database work through ``self.in_scope(func, ...)``, which executes it in a
    thread inside the person's tenant scope, with the person as the audit trail's actor. A client frame
    that is binary, larger than ``MAX_FRAME_CHARS``, nested deeper than ``MAX_FRAME_DEPTH`` or not JSON is
    answered with ``{"type": "error", "code": "invalid", "message": ...}`` and the socket stays open;
    ``receive_json`` sees only decoded frames.

    Sockets follow rights (``organisations.access.revocation``): an accepted socket joins its user's, its
    person's and its programmes' groups and closes when told that a right is gone. Besides, before every
    frame it receives, it asks the database again in one query (the session, the account, the person, the
    programme memberships and roles, and what ``access_annotations`` adds; unless ``recent_access_suffices``
    lets a young answer stand) and refreshes ``self.actor``;
    when ``access_holds`` says no, the frame is answered with ``{"type": "error", "code": "forbidden" |
    "unauthenticated", "message": ...}`` and the socket closes with 4403 or 4401. A delivery asks the same
    when the last answer is older than ``delivery_recheck_seconds``: being told closes a socket at once,
    and this is the backstop for a message lost on the way or a change written without signals, without a
    query per socket for every broadcast (a save fanned out to 200 sockets took 15 times as long with one).
    The sockets of a process that fall due on the same message and share an ``access_batch_key`` are asked
    together (``current_access_many``: two queries for all of them instead of one per socket), each still
    judged on its own rows.
    """

    actor: Actor
    groups: list[str]
    # Set once the socket is being closed for a lost right: nothing more is read or delivered.
    access_closed: bool = False
    accepted: bool = False
    delivery_recheck_seconds: float = 5.0
    _access_checked_at: float = 0.0

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.actor = await database_sync_to_async(actor_for)(user)
        if not await self.authorise():
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # The same fresh check every frame gets (it also leaves out memberships of archived programmes).
        code = await self.access_refusal()
        if code is not None:
            await self.close(code=code)
            return
        await self._join_access_groups()
        await self.accept()
        self.accepted = True
        self._counted_open = True
        metrics.WEBSOCKETS_OPEN.inc()
        self._access_checked_at = time.monotonic()  # connect() has just asked
        await self.on_accepted()

    async def authorise(self) -> bool:
        return True

    async def websocket_disconnect(self, message: dict[str, object]) -> None:
        if getattr(self, "_counted_open", False):
            self._counted_open = False
            metrics.WEBSOCKETS_OPEN.dec()
        await super().websocket_disconnect(message)

    # --- Sockets follow rights ----------------------------------------------------------------------------

    def socket_programmes(self) -> Iterable[int]:
        """The programmes whose programme-wide close reaches this socket: by default all of the person's."""
        return self.actor.programme_ids

    def access_annotations(self) -> dict[str, Subquery]:
        """Extra expressions on the user row for ``access_holds`` (run in the person's scope)."""
        return {}

    def access_holds(self, values: dict[str, object]) -> bool:
        """Whether the socket's own right still holds, given the fresh ``self.actor`` and the values of
        ``access_annotations`` (runs in a thread, in the person's scope)."""
        return True

    def _session_key(self) -> str | None:
        session = self.scope.get("session")
        return getattr(session, "session_key", None) if session is not None else None

    async def _join_access_groups(self) -> None:
        user = self.scope["user"]
        names = [revocation.user_group(user.pk)]
        if self.actor.person is not None:
            names.append(revocation.person_group(self.actor.person.pk))
        names += [revocation.programme_group(pid) for pid in sorted(self.socket_programmes())]
        for name in names:
            await self.channel_layer.group_add(name, self.channel_name)
        # channels leaves the groups in ``self.groups`` when the socket disconnects.
        self.groups = [*(self.groups or []), *names]

    def access_batch_key(self) -> Hashable | None:
        """Sockets whose delivery re-checks may be asked of the database together: those with the same key
        have the same ``access_annotations`` (the same expressions, e.g. of the same group). None: this
        socket asks alone. By default the sockets of a class that adds no annotations share a key."""
        if type(self).access_annotations is ScopedConsumer.access_annotations:
            return (ScopedConsumer,)
        return None

    def _check_access(self) -> int | None:
        return self._apply_access(
            current_access(self.scope["user"], self._session_key(), self.access_annotations())
        )

    def _apply_access(self, fresh: Access) -> int | None:
        """The close code for this fresh answer (None: the right holds); refreshes ``self.actor``."""
        if fresh.signed_out:
            return CLOSE_UNAUTHENTICATED
        if self.actor.person is None or fresh.person_id != self.actor.person.pk:
            return CLOSE_FORBIDDEN
        if fresh.memberships != self.actor.memberships:
            self.actor = Actor(user=self.actor.user, person=self.actor.person, memberships=fresh.memberships)
            # Whatever asks ``actor_for`` later on this socket (rules predicates) sees the fresh roles too.
            self.actor.user._samverkan_actor = self.actor  # type: ignore[union-attr]
        return None if self.access_holds(fresh.values) else CLOSE_FORBIDDEN

    async def access_refusal(self) -> int | None:
        """The close code when this socket has lost its right (asked of the database now), else None."""
        code: int | None = await self.in_scope(self._check_access)
        self._access_checked_at = time.monotonic()
        return code

    async def delivery_access_refusal(self) -> int | None:
        """``access_refusal`` for a delivery, asked together with the other sockets of this process that are
        due on the same message and share this socket's ``access_batch_key``."""
        key = self.access_batch_key()
        if key is None:
            metrics.WEBSOCKET_ACCESS_CHECKS.inc()
            metrics.WEBSOCKET_ACCESS_BATCHES.inc()
            return await self.access_refusal()
        loop = asyncio.get_running_loop()
        batches = _access_batches.setdefault(loop, {})
        batch = batches.setdefault(key, _AccessBatch())
        future: asyncio.Future[int | None] = loop.create_future()
        batch.waiting.append((self, future))
        if not batch.draining:
            batch.draining = True
            task = loop.create_task(_drain_access(batches, key))
            _background.add(task)
            task.add_done_callback(_background.discard)
        code = await future
        self._access_checked_at = time.monotonic()
        return code

    async def refuse_access(self, code: int) -> None:
        """Send the error frame and close (once)."""
        if self.access_closed:
            return
        self.access_closed = True
        error, message = REFUSALS[code]
        await self.send_json({"type": "error", "code": error, "message": message})
        await self.close(code=code)

    async def dispatch(self, message: dict[str, object]) -> None:
        kind = str(message.get("type", ""))
        if self.access_closed and kind != "websocket.disconnect":
            return
        incoming = kind == "websocket.receive" and not self.recent_access_suffices(message)
        delivery = (
            self.accepted
            and not kind.startswith(("websocket.", "access."))
            and time.monotonic() - self._access_checked_at >= self.delivery_recheck_seconds
        )
        if incoming or delivery:
            code = await (self.access_refusal() if incoming else self.delivery_access_refusal())
            if code is not None:
                await self.refuse_access(code)
                return
        if self.database_free(message):
            handler = getattr(self, get_handler_name(message), None)
            if handler is not None:
                await handler(message)
                return
        await super().dispatch(message)

    def database_free(self, message: dict[str, object]) -> bool:
        """Whether this message's handler reaches the database only through ``in_scope`` (whose thread
        closes stale connections before and after): then channels' own clean-up before each message, a
        hop to the database thread for every delivery to every socket, is left out. By default never."""
        return False

    def recent_access_suffices(self, message: dict[str, object]) -> bool:
        """Whether this client frame may be answered on the last access answer instead of asking again (by
        default never). A consumer whose frames come several times a second (keystrokes, carets) may say
        yes while the answer is young: being told of a lost right re-asks at once, and it checks the right
        the frame needs itself."""
        return False

    async def access_recheck(self, event: dict[str, object]) -> None:
        code = await self.access_refusal()
        if code is not None:
            await self.refuse_access(code)

    async def access_session_ended(self, event: dict[str, object]) -> None:
        key = self._session_key()
        if key and revocation.session_digest(key) == event["session"]:
            await self.refuse_access(CLOSE_UNAUTHENTICATED)
        else:
            await self.access_recheck(event)

    async def access_revoked(self, event: dict[str, object]) -> None:
        await self.refuse_access(CLOSE_FORBIDDEN)

    # --- Frames -------------------------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            content = await self.decode_json(text_data)
        except FrameRefused as refused:
            await self.send_json({"type": "error", "code": "invalid", "message": refused.message})
            return
        await self.receive_json(content)

    @classmethod
    async def decode_json(cls, text_data: str | None) -> Any:
        if text_data is None:
            raise FrameRefused("Send JSON text messages.")
        if len(text_data) > MAX_FRAME_CHARS:
            raise FrameRefused("Message too large.")
        if _nesting_exceeds(text_data, MAX_FRAME_DEPTH):
            raise FrameRefused("Message nested too deeply.")
        try:
            return json.loads(text_data)
        except (ValueError, RecursionError) as exc:
            raise FrameRefused("Malformed JSON.") from exc

    async def on_accepted(self) -> None:
        return None

    async def in_scope(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        programme_ids = self.actor.programme_ids
        user = self.scope.get("user")
        host, port = (self.scope.get("client") or (None, None))[:2]

        def run() -> Any:
            # The person is also the actor of whatever reaches the audit trail (no middleware runs here).
            with programme_scope(programme_ids), set_actor(user, remote_addr=host, remote_port=port):
                return func(*args, **kwargs)

        return await database_sync_to_async(run)()
