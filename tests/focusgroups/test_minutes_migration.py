"""The minutes recorded before they were live notes become each meeting's minutes note, text unchanged,
as version 1 by the meeting's author; the live document is built from that text when first opened."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from coordinator.core.tenancy import programme_scope
from focusgroups.models import Meeting, Note, NoteVersion
from focusgroups.services import documents
from organisations.permissions import actor_for
from tests.focusgroups.replica import Replica

BEFORE = [("focusgroups", "0006_action_from_note_line")]
AFTER = [("focusgroups", "0007_meeting_minutes_live_note")]
TEXT = "Närvarande: alla.\n\n# Beslut\n- [x] Anta rutinen\n"


@pytest.mark.django_db(transaction=True)
def test_existing_minutes_become_the_meeting_s_live_note_with_their_text(programme, org_a, member):
    author = member(programme, org_a)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    group = old.get_model("focusgroups", "FocusGroup").objects.create(
        programme_id=programme.pk, code="samarbete", name="Samarbete/samverkan"
    )
    start = timezone.now() - timedelta(days=7)
    OldMeeting = old.get_model("focusgroups", "Meeting")
    held = OldMeeting.objects.create(
        group=group,
        title="Uppstart",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="A",
        status="held",
        minutes=TEXT,
        created_by_id=author.pk,
    )
    planned = OldMeeting.objects.create(
        group=group,
        title="Nästa",
        starts_at=start + timedelta(days=30),
        ends_at=start + timedelta(days=30, hours=2),
        place="A",
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    notes = {n.meeting_id: n for n in Note.unscoped_objects.filter(meeting__isnull=False)}
    assert {k: (n.title, n.body, n.visibility, n.version) for k, n in notes.items()} == {
        held.pk: ("Minnesanteckningar: Uppstart", TEXT, "programme", 1),
        planned.pk: ("Minnesanteckningar: Nästa", "", "programme", 1),
    }
    version = NoteVersion.unscoped_objects.get(note=notes[held.pk])
    with programme_scope([programme.pk]):
        authors = list(version.authors.values_list("pk", flat=True))
    assert (version.version, version.body, authors) == (1, TEXT, [author.pk])
    assert Meeting.unscoped_objects.get(pk=held.pk).minutes == TEXT
    with programme_scope([programme.pk]):
        update, _vector, _can_edit = documents.document_sync(
            actor=actor_for(author.user), note=notes[held.pk], state_vector=b"\x00"
        )
    replica = Replica()
    replica.apply(documents.encode(update))
    assert str(replica) == TEXT
