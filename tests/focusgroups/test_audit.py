"""The audit trail of notes: who made a note shared or renamed it, never what it says."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from auditlog.models import LogEntry
from channels.testing import WebsocketCommunicator
from django.contrib.contenttypes.models import ContentType

from focusgroups.consumers import NotesConsumer
from focusgroups.models import Note
from focusgroups.services import notes
from organisations.models import AuditEntryProgramme
from organisations.permissions import actor_for

URL = "/api/v1/focusgroups"
SECRET = "Konfidentiellt: namn på den enskilde"


def note_entries(note: Note) -> list[LogEntry]:
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Note), object_pk=str(note.pk)
        ).order_by("pk")
    )


def test_note_visibility_and_title_changes_are_on_the_trail_with_the_person(api, member_a, note, programme):
    response = api(member_a).patch(
        f"{URL}/notes/{note.pk}/",
        {"title": "Överlämning", "visibility": "programme", "body": SECRET},
        format="json",
        HTTP_IF_MATCH='"1"',
    )

    assert response.status_code == 200
    update = note_entries(note)[-1]
    assert (update.action, update.actor_id, update.changes_dict) == (
        LogEntry.Action.UPDATE,
        member_a.user_id,
        {"title": ["Rutin för överlämning", "Överlämning"], "visibility": ["group", "programme"]},
    )
    assert list(
        AuditEntryProgramme.unscoped_objects.filter(log_entry=update).values_list("programme_id")
    ) == [(programme.pk,)]


def test_note_body_never_reaches_the_trail(api, member_a, group, programme, in_programme):
    with in_programme(programme):
        note = notes.note_create(actor=actor_for(member_a.user), group=group, title="Möte", body=SECRET)
    api(member_a).patch(
        f"{URL}/notes/{note.pk}/", {"body": SECRET + " och mer"}, format="json", HTTP_IF_MATCH='"1"'
    )
    api(member_a).patch(
        f"{URL}/notes/{note.pk}/", {"visibility": "programme"}, format="json", HTTP_IF_MATCH='"2"'
    )

    entries = list(LogEntry.objects.all())
    assert [(entry.action, entry.changes_dict) for entry in note_entries(note)] == [
        (LogEntry.Action.CREATE, {"title": ["None", "Möte"], "visibility": ["None", "group"]}),
        (LogEntry.Action.UPDATE, {"visibility": ["group", "programme"]}),
    ]
    dumped = json.dumps(
        [[e.changes, e.changes_text, e.serialized_data, e.additional_data, e.object_repr] for e in entries],
        ensure_ascii=False,
    )
    assert "Konfidentiellt" not in dumped


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_note_renamed_over_the_socket_is_recorded_with_the_person(group, member_a, note):
    socket = WebsocketCommunicator(NotesConsumer.as_asgi(), f"/ws/focusgroups/{group.pk}/notes/")
    socket.scope["user"] = member_a.user
    socket.scope["url_route"] = {"kwargs": {"group_id": group.pk}}
    assert (await socket.connect())[0] is True
    await socket.send_json_to(
        {"type": "save", "note": note.pk, "base_version": 1, "body": SECRET, "title": "Rutin"}
    )
    while (await socket.receive_json_from(timeout=3))["type"] != "saved":
        pass
    await socket.disconnect()

    update = (await sync_to_async(note_entries)(note))[-1]
    assert (update.actor_id, update.changes_dict) == (
        member_a.user_id,
        {"title": ["Rutin för överlämning", "Rutin"]},
    )
