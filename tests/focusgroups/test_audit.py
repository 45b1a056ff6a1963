"""The audit trail of notes: who made a note shared or renamed it, never what it says."""

from __future__ import annotations

import json

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

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
