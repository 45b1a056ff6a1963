"""The platform's own socket: a person's notifications, pushed to every open tab."""

from __future__ import annotations

from typing import Any

from coordinator.core.notifications import person_group
from organisations.access.consumers import ScopedConsumer


class NotificationConsumer(ScopedConsumer):
    """Pushes a person's new notifications to every open tab (the bell in the header)."""

    async def authorise(self) -> bool:
        return self.actor.person is not None

    async def on_accepted(self) -> None:
        assert self.actor.person is not None
        self.group = person_group(self.actor.person.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    # Before each notification is pushed, ScopedConsumer asks again whether the session and the account
    # still hold (signed out, deactivated: nothing is delivered and the socket closes).

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The socket is one-way; anything sent by the client is ignored.
        return None

    async def notification_created(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "notification",
                "id": event["id"],
                "kind": event["kind"],
                "title": event["title"],
                "url": event["url"],
            }
        )
