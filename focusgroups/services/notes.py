"""Shared notes and their versions: creating a note and the whole-text saves (the page's form, the REST API,
the old ``save`` socket frame, a restore).

A note's text is a live document (``services.documents``) that editors change keystroke by keystroke. A
whole-text save names the version it was based on: under the note's row lock, ``note_update`` refuses it
with ``Conflict`` (carrying the current note, nothing written) when the note has changed since, else turns
the new text into a minimal edit of the live document (the difference to the current text), which is
stored and broadcast to the sockets as ``doc.update`` like a client's edit, and keeps the result as a named
``NoteVersion``. A restore is such a save of an old version's text. After the commit the old ``saved``
event still reaches the sockets (``notes_group``) for clients that follow whole texts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pycrdt import Doc, Text

from coordinator.core.exceptions import Conflict
from coordinator.core.services import validate
from focusgroups import permissions
from focusgroups.models import FocusGroup, Note, NoteDocument, NoteVersion
from focusgroups.services import documents
from focusgroups.services._shared import require_person
from focusgroups.services.documents import broadcast
from organisations.permissions import Actor


@contextlib.contextmanager
def compare_and_set_disabled() -> Iterator[None]:
    """Take no row lock, so the version is checked by a read that races the write (race-control tests)."""
    documents._lock_enabled = False
    try:
        yield
    finally:
        documents._lock_enabled = True


def saved_event(note: Note, author_name: str) -> dict[str, Any]:
    return {
        "type": "note.saved",
        "note": note.pk,
        "version": note.version,
        "title": note.title,
        "body": note.body,
        "visibility": note.visibility,
        "author": author_name,
        "at": note.updated_at.isoformat(),
    }


def _broadcast_saved_on_commit(note: Note, author_name: str) -> None:
    event = saved_event(note, author_name)
    group_id = note.group_id
    shared = note.is_shared
    transaction.on_commit(lambda: broadcast(group_id, event, readers=shared))


def _check_note(title: str, body: str, visibility: str) -> None:
    probe = Note(title=title, body=body, visibility=visibility)
    validate(probe, exclude=["group", "updated_by"])


@transaction.atomic
def note_create(
    *, actor: Actor, group: FocusGroup, title: str, body: str = "", visibility: str = Note.Visibility.GROUP
) -> Note:
    """Start a note in a group (members and the convener), with its live document. Version 1 is kept; the
    sockets hear of it."""
    person = require_person(actor)
    if not permissions.can_edit_notes(actor, group):
        raise PermissionDenied(_("Only the group's members may write its notes."))
    now = timezone.now()
    note = Note(group=group, title=title, body=body, visibility=visibility, updated_by=person, updated_at=now)
    validate(note)
    note.save()
    doc: Doc[Text] = Doc()
    documents.body_of(doc).insert(0, body)
    NoteDocument.objects.create(note=note, programme_id=group.programme_id, state=doc.get_update())
    version = NoteVersion.objects.create(
        note=note, version=1, title=title, body=body, author=person, created_at=now
    )
    version.authors.set([person])
    _broadcast_saved_on_commit(note, person.full_name)
    return note


def _as_version(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError({field: _("Give the version number the text was based on.")})
    return value


def note_update(
    *,
    actor: Actor,
    note: Note,
    base_version: int | None,
    title: str | None = None,
    body: str | None = None,
    visibility: str | None = None,
) -> Note:
    """Change a note based on ``base_version``: its text, who may read it, or both, in one transaction
    (members and the convener; ``None`` leaves a part as it is).

    Under the note's row lock: when the note is no longer at ``base_version``, ``Conflict`` is raised with
    the current note and nothing at all is written (neither the text nor the visibility); ``None`` (a REST
    write without ``If-Match``) merges into whatever the note holds now. A new text is
    applied to the live document as the minimal edit from the current text (broadcast as ``doc.update``)
    and kept as a named version with everyone who edited since the last one; sending the current text
    unchanged writes nothing. A note made group-only again is withdrawn from the programme's readers.
    """
    return _update(
        actor=actor, note=note, base_version=base_version, title=title, body=body, visibility=visibility
    )


@transaction.atomic
def _update(
    *,
    actor: Actor,
    note: Note,
    base_version: int | None,
    title: str | None,
    body: str | None,
    visibility: str | None,
    restored_from: int | None = None,
) -> Note:
    person = require_person(actor)
    if not permissions.can_edit_note(actor, note):
        raise PermissionDenied(_("Only the group's members may change its notes."))
    if base_version is not None:
        base_version = _as_version(base_version, "base_version")
    if (body is not None and not isinstance(body, str)) or (title is not None and not isinstance(title, str)):
        raise ValidationError(_("Give the text as a string."))
    new_title = note.title if title is None else title
    new_body = note.body if body is None else body
    new_visibility = note.visibility if visibility is None else visibility
    if note.meeting_id is not None and new_visibility != note.visibility:
        # The whole programme reads a meeting, so it reads its minutes too.
        raise ValidationError(
            {"visibility": _("A meeting's minutes are read by everyone in the programme, as the meeting is.")}
        )
    _check_note(new_title, new_body, new_visibility)
    locked = documents.lock_for_save(note)
    if base_version is not None and locked.version != base_version:
        current = Note.objects.select_related("updated_by__user", "group").get(pk=note.pk)
        raise Conflict(
            _("The note has changed since you read it; merge with the current version."), current=current
        )
    was_shared = locked.is_shared
    text_changed = new_body != locked.body or restored_from is not None
    title_changed = new_title != locked.title
    if not text_changed and not title_changed and new_visibility == locked.visibility:
        return locked
    audited = {
        name: [str(old), str(new)]
        for name, old, new in (
            ("title", locked.title, new_title),
            ("visibility", locked.visibility, new_visibility),
        )
        if old != new
    }
    unchanged_text = new_body == locked.body
    if title_changed or new_visibility != locked.visibility or (text_changed and unchanged_text):
        locked.title, locked.visibility = new_title, new_visibility
        changes: dict[str, object] = {"title": new_title, "visibility": new_visibility}
        if (title_changed or text_changed) and unchanged_text:
            # A new title alone, or a restore of the text it has, is a new version with no edit of the text.
            locked.version += 1
            locked.updated_by, locked.updated_at = person, timezone.now()
            changes.update(version=locked.version, updated_by=person, updated_at=locked.updated_at)
        # By pk under the row lock just taken (the tenant check was the caller's scoped read).
        Note.unscoped_objects.filter(pk=locked.pk).update(**changes)
    if new_body != locked.body:
        documents.text_apply(note=locked, person=person, body=new_body)
    if text_changed or title_changed:
        documents.version_record(locked, by=person, restored_from=restored_from)
        _broadcast_saved_on_commit(locked, person.full_name)
    note.title, note.body, note.visibility, note.version = (
        locked.title,
        locked.body,
        locked.visibility,
        locked.version,
    )
    note.updated_by, note.updated_at = locked.updated_by, locked.updated_at
    group_id, note_id = locked.group_id, locked.pk
    if was_shared and not locked.is_shared:
        # Readers outside the group following the note live are told it is no longer theirs to read.
        withdrawn = {"type": "note.withdrawn", "note": note_id}
        transaction.on_commit(lambda: broadcast(group_id, withdrawn, members=False, readers=True))
    if audited:
        # The UPDATE by pk sends no model signals, so the audit entry is written here. Only the title and
        # who may read the note are audited: the text has its own version history and may hold sensitive
        # minutes.
        LogEntry.objects.log_create(locked, action=LogEntry.Action.UPDATE, changes=audited)
    return note


def note_restore(*, actor: Actor, note: Note, version: int, base_version: int | None) -> Note:
    """Make an old version the current text again (members and the convener): an ordinary edit of the live
    document that every open editor sees at once, kept as a new version that names the one restored."""
    version = _as_version(version, "version")
    old = NoteVersion.objects.filter(note=note, version=version).first()
    if old is None:
        raise ValidationError({"version": _("This note has no such version.")})
    return _update(
        actor=actor,
        note=note,
        title=old.title,
        body=old.body,
        visibility=None,
        base_version=base_version,
        restored_from=version,
    )
