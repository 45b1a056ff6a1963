"""Shared notes and their versions, and the live-notes broadcast.

A note carries a ``version``. A save names the version it was based on; ``note_update`` moves the note from
that version to the next with one compare-and-set ``UPDATE ... WHERE id = %s AND version = %s`` through
``Note.unscoped_objects`` (the tenant check is the caller's scoped read of the note; a CAS through the
scoped manager would become ``id IN (subquery)``, which is not safe under concurrency on PostgreSQL). When
no row matches, someone else saved first: ``Conflict`` carries the current note and nothing is written,
so the caller can show both texts and let the person merge and save again. Each successful save writes a
``NoteVersion`` (never changed afterwards); a restore is a new version whose text equals an old one. After
the commit the save is broadcast to the group's live-notes sockets (``notes_group``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from asgiref.sync import async_to_sync
from auditlog.models import LogEntry
from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coordinator.core.exceptions import Conflict
from coordinator.core.services import validate
from focusgroups import permissions
from focusgroups.models import FocusGroup, Note, NoteVersion
from focusgroups.services._shared import require_person
from organisations.permissions import Actor

logger = logging.getLogger(__name__)


# Switched off only by the race-control test, to show that without the compare-and-set a read-then-write
# lets several saves of the same version through.
_compare_and_set_enabled = True


@contextlib.contextmanager
def compare_and_set_disabled() -> Iterator[None]:
    """Check the version with a read before the write instead of in the UPDATE (race-control test only)."""
    global _compare_and_set_enabled
    _compare_and_set_enabled = False
    try:
        yield
    finally:
        _compare_and_set_enabled = True


def notes_group(group_id: int) -> str:
    """The channel-layer group of a focus group's live-notes sockets."""
    return f"focusgroup.{group_id}.notes"


def readers_group(group_id: int) -> str:
    """The channel-layer group of the sockets of programme members outside the focus group, who follow
    its notes shared with the programme."""
    return f"focusgroup.{group_id}.notes.readers"


def broadcast(group_id: int, event: dict[str, Any], *, members: bool = True, readers: bool = False) -> None:
    """Send an event to the live-notes sockets of a group's members and, with `readers`, to those of the
    programme's readers of its shared notes (call after the commit)."""
    layer = get_channel_layer()
    if layer is None:
        return
    rooms = ([notes_group(group_id)] if members else []) + ([readers_group(group_id)] if readers else [])
    for room in rooms:
        try:
            async_to_sync(layer.group_send)(room, event)
        except Exception:  # the save is stored; a live push is a convenience
            logger.exception("Could not broadcast to focus group %s", group_id)


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
    """Start a note in a group (members and the convener). Version 1 is kept; the sockets hear of it."""
    person = require_person(actor)
    if not permissions.can_edit_notes(actor, group):
        raise PermissionDenied(_("Only the group's members may write its notes."))
    now = timezone.now()
    note = Note(group=group, title=title, body=body, visibility=visibility, updated_by=person, updated_at=now)
    validate(note)
    note.save()
    NoteVersion.objects.create(note=note, version=1, title=title, body=body, author=person, created_at=now)
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
    base_version: int,
    title: str | None = None,
    body: str | None = None,
    visibility: str | None = None,
) -> Note:
    """Change a note based on ``base_version``: its text (a new version), who may read it, or both, in one
    transaction (members and the convener; ``None`` leaves a part as it is).

    Compare-and-set: the note changes only if it is still at ``base_version``; otherwise ``Conflict`` is
    raised with the current note and nothing at all is written (neither the text nor the visibility).
    Sending the current version unchanged writes nothing. A new text is kept as a version and broadcast
    after the commit; a note made group-only again is withdrawn from the programme's readers.
    """
    return _update(
        actor=actor, note=note, base_version=base_version, title=title, body=body, visibility=visibility
    )


@transaction.atomic
def _update(
    *,
    actor: Actor,
    note: Note,
    base_version: int,
    title: str | None,
    body: str | None,
    visibility: str | None,
    restored_from: int | None = None,
) -> Note:
    person = require_person(actor)
    if not permissions.can_edit_note(actor, note):
        raise PermissionDenied(_("Only the group's members may change its notes."))
    base_version = _as_version(base_version, "base_version")
    if (body is not None and not isinstance(body, str)) or (title is not None and not isinstance(title, str)):
        raise ValidationError(_("Give the text as a string."))
    new_title = note.title if title is None else title
    new_body = note.body if body is None else body
    new_visibility = note.visibility if visibility is None else visibility
    _check_note(new_title, new_body, new_visibility)
    text_changed = new_title != note.title or new_body != note.body or restored_from is not None
    if base_version == note.version and not text_changed and new_visibility == note.visibility:
        return note
    was_shared = note.is_shared
    audited = {
        name: [str(old), str(new)]
        for name, old, new in (
            ("title", note.title, new_title),
            ("visibility", note.visibility, new_visibility),
        )
        if old != new
    }
    now = timezone.now()
    changes: dict[str, object] = {"visibility": new_visibility}
    new_version = base_version + 1 if text_changed else base_version
    if text_changed:
        changes.update(body=new_body, title=new_title, version=new_version, updated_by=person, updated_at=now)
    # Compare-and-set by pk through the plain manager: the tenant check was the caller's scoped read of
    # ``note``, and a scoped UPDATE would become ``id IN (subquery)``, not atomic under concurrency.
    row = Note.unscoped_objects.filter(pk=note.pk)
    if _compare_and_set_enabled:
        row = row.filter(version=base_version)
    elif row.values_list("version", flat=True).get() != base_version:  # the race-control's read-then-write
        row = row.none()
    if row.update(**changes) != 1:
        current = Note.objects.select_related("updated_by__user", "group").get(pk=note.pk)
        raise Conflict(
            _("The note has changed since you read it; merge with the current version."), current=current
        )
    note.visibility = new_visibility
    group_id, note_id = note.group_id, note.pk
    if was_shared and not note.is_shared:
        # Readers outside the group following the note live are told it is no longer theirs to read.
        withdrawn = {"type": "note.withdrawn", "note": note_id}
        transaction.on_commit(lambda: broadcast(group_id, withdrawn, members=False, readers=True))
    if text_changed:
        NoteVersion.objects.create(
            note=note,
            version=new_version,
            title=new_title,
            body=new_body,
            author=person,
            restored_from=restored_from,
            created_at=now,
        )
        note.body, note.title, note.version = new_body, new_title, new_version
        note.updated_by, note.updated_at = person, now
        _broadcast_saved_on_commit(note, person.full_name)
    if audited:
        # The compare-and-set UPDATE sends no model signals, so the audit entry is written here. Only the
        # title and who may read the note are audited: the text has its own version history and may hold
        # sensitive minutes.
        LogEntry.objects.log_create(note, action=LogEntry.Action.UPDATE, changes=audited)
    return note


def note_restore(*, actor: Actor, note: Note, version: int, base_version: int) -> Note:
    """Make an old version the current text again, as a new version (members and the convener)."""
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
