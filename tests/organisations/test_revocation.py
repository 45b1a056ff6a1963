"""Every loss of a right held by the organisations app tells the person's sockets, after the commit only."""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from coordinator.core.tenancy import programme_scope
from organisations.access.revocation import person_group, user_group
from organisations.models import PlatformRole, RoleAssignment
from organisations.permissions import actor_for, forget_actor
from organisations.services.people import membership_grant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def _listen(group: str) -> tuple[Any, str]:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return layer, channel


async def _heard(layer: Any, channel: str) -> list[dict[str, Any]]:
    heard = []
    while True:
        try:
            heard.append(await asyncio.wait_for(layer.receive(channel), timeout=0.3))
        except TimeoutError:
            return heard


def _take_coordinator_role(programme_admin: Any, person: Any, programme: Any, *, roll_back: bool) -> None:
    forget_actor(programme_admin.user)
    actor = actor_for(programme_admin.user)
    refused = pytest.raises(RuntimeError) if roll_back else nullcontext()
    with refused, programme_scope([programme.pk]), transaction.atomic():
        membership_grant(actor=actor, programme=programme, person=person, roles=[PlatformRole.STAFF])
        if roll_back:
            raise RuntimeError("rolled back")


async def test_a_removed_role_tells_the_persons_sockets_after_the_commit(
    programme, programme_admin, coordinator
):
    layer, channel = await _listen(person_group(coordinator.pk))

    await sync_to_async(_take_coordinator_role)(programme_admin, coordinator, programme, roll_back=False)

    assert await _heard(layer, channel) == [{"type": "access.recheck", "reason": "role removed"}]
    roles = await sync_to_async(
        lambda: sorted(
            RoleAssignment.unscoped_objects.filter(membership__person=coordinator).values_list(
                "role", flat=True
            )
        )
    )()
    assert roles == [PlatformRole.STAFF]


async def test_a_rolled_back_role_removal_tells_nobody(programme, programme_admin, coordinator):
    layer, channel = await _listen(person_group(coordinator.pk))

    await sync_to_async(_take_coordinator_role)(programme_admin, coordinator, programme, roll_back=True)

    assert await _heard(layer, channel) == []


async def test_a_logout_sends_no_session_key_over_the_channel_layer(programme, staff_a, web):
    client = await sync_to_async(web)(staff_a)
    key = client.cookies["sessionid"].value
    layer, channel = await _listen(user_group(staff_a.user.pk))

    await sync_to_async(client.post)("/logout/")

    heard = await _heard(layer, channel)
    assert [(m["type"], m["reason"], len(m["session"])) for m in heard] == [
        ("access.session_ended", "logout", 64)
    ]
    assert key not in str(heard)
