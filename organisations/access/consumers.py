"""The base that authorises every websocket consumer and runs its database work in the person's scope."""

from __future__ import annotations

import json
import re
from typing import Any

from auditlog.context import set_actor
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from coordinator.core.tenancy import programme_scope
from coordinator.core.validators import WEBSOCKET_FRAME_MAX_CHARS
from organisations.permissions import Actor, actor_for

# Close codes in the application range (4000-4999): the client should not reconnect on these.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403

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


class ScopedConsumer(AsyncJsonWebsocketConsumer):
    """Base of every consumer: an anonymous or unauthorised socket is closed, not just ignored.

    Subclasses implement ``authorise()`` (called in ``connect()`` with ``self.actor`` set; return False to
    close with 4403) and run database work through ``self.in_scope(func, ...)``, which executes it in a
    thread inside the person's tenant scope, with the person as the audit trail's actor. A client frame
    that is binary, larger than ``MAX_FRAME_CHARS``, nested deeper than ``MAX_FRAME_DEPTH`` or not JSON is
    answered with ``{"type": "error", "code": "invalid", "message": ...}`` and the socket stays open;
    ``receive_json`` sees only decoded frames.
    """

    actor: Actor

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.actor = await database_sync_to_async(actor_for)(user)
        if not await self.authorise():
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.accept()
        await self.on_accepted()

    async def authorise(self) -> bool:
        return True

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
