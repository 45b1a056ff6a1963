"""The base that authorises every websocket consumer and runs its database work in the person's scope."""

from __future__ import annotations

from typing import Any

from auditlog.context import set_actor
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from coordinator.core.tenancy import programme_scope
from organisations.permissions import Actor, actor_for

# Close codes in the application range (4000-4999): the client should not reconnect on these.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class ScopedConsumer(AsyncJsonWebsocketConsumer):
    """Base of every consumer: an anonymous or unauthorised socket is closed, not just ignored.

    Subclasses implement ``authorise()`` (called in ``connect()`` with ``self.actor`` set; return False to
    close with 4403) and run database work through ``self.in_scope(func, ...)``, which executes it in a
    thread inside the person's tenant scope, with the person as the audit trail's actor.
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
