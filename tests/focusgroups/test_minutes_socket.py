"""The live minutes over the group's notes socket: a member's keystrokes reach the programme's readers, a
reader's update is refused and nothing is stored."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from coordinator.core.tenancy import programme_scope
from focusgroups.models import Meeting, Note
from focusgroups.services import meetings
from tests.factories.focusgroups import MeetingFactory
from tests.focusgroups.live import open_notes_socket
from tests.focusgroups.replica import Replica

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def _next(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    while True:
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == kind:
            return message  # type: ignore[no-any-return]
        assert message["type"] == "presence", message


def _minutes_of(group: Any) -> Note:
    start = timezone.now() - timedelta(minutes=30)
    meeting: Meeting = MeetingFactory(group=group, starts_at=start, ends_at=start + timedelta(hours=2))
    with programme_scope([group.programme_id]):
        return meetings.minutes_note(meeting)


async def test_members_write_the_minutes_live_and_readers_follow_read_only(group, member_a, nonmember):
    note = await sync_to_async(_minutes_of)(group)
    writer, reader = await open_notes_socket(member_a, group.pk), await open_notes_socket(nonmember, group.pk)
    replica = Replica()
    for socket in (writer, reader):
        await socket.send_json_to(
            {"type": "doc.sync", "note": note.pk, "sv": base64.b64encode(b"\x00").decode()}
        )
        answer = await _next(socket, "doc.sync")
        replica.apply(answer["update"])

    edit = replica.edit(0, "Närvarande: alla.\n")
    await writer.send_json_to(
        {"type": "doc.update", "note": note.pk, "update": base64.b64encode(edit).decode()}
    )
    seen = await _next(reader, "doc.update")
    refused_edit = replica.edit(0, "Läsaren skriver.\n")
    await reader.send_json_to(
        {"type": "doc.update", "note": note.pk, "update": base64.b64encode(refused_edit).decode()}
    )
    refused = await _next(reader, "error")

    stored = await sync_to_async(lambda: Meeting.unscoped_objects.get(pk=note.meeting_id).minutes)()
    assert (seen["note"], seen["by"]["name"]) == (note.pk, "Anna Berg")
    assert (refused["code"], refused["note"]) == ("forbidden", note.pk)
    assert stored == "Närvarande: alla.\n"
    await writer.disconnect()
    await reader.disconnect()
