"""Shared notes and their versions, and the live-notes broadcast.

A note carries a ``version``. A save names the version it was based on; ``note_save`` moves the note from
that version to the next with one compare-and-set ``UPDATE ... WHERE id = %s AND version = %s`` through
``Note.unscoped_objects`` (the tenant check is the caller's scoped read of the note; a CAS through the
scoped manager would become ``id IN (subquery)``, which is not safe under concurrency on PostgreSQL). When
no row matches, someone else saved first: ``StaleVersion`` carries the current note and nothing is written,
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
from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from focusgroups import permissions as perms
from focusgroups.models import FocusGroup, Note, NoteVersion
from focusgroups.services._shared import full_clean, require_person
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


class StaleVersion(Exception):  # noqa: N818 (the domain name of the condition, not an error class)
    """A note was saved on a version that is no longer the current one; ``current`` is the note as it is."""

    def __init__(self, current: Note) -> None:
        super().__init__(f"note {current.pk} is at version {current.version}")
        self.current = current


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
    shared = note.visibility != Note.Visibility.GROUP
    transaction.on_commit(lambda: broadcast(group_id, event, readers=shared))


def _check_note_text(title: str, body: str) -> None:
    probe = Note(title=title, body=body)
    full_clean(probe, exclude=["group", "updated_by", "visibility"])


@transaction.atomic
def note_create(
    *, actor: Actor, group: FocusGroup, title: str, body: str = "", visibility: str = Note.Visibility.GROUP
) -> Note:
    """Start a note in a group (members and the convener). Version 1 is kept; the sockets hear of it."""
    person = require_person(actor)
    if not perms.can_edit_notes(actor, group):
        raise PermissionDenied(_("Only the group's members may write its notes."))
    now = timezone.now()
    note = Note(group=group, title=title, body=body, visibility=visibility, updated_by=person, updated_at=now)
    full_clean(note)
    note.save()
    NoteVersion.objects.create(note=note, version=1, title=title, body=body, author=person, created_at=now)
    _broadcast_saved_on_commit(note, person.full_name)
    return note


@transaction.atomic
def note_set_visibility(*, actor: Actor, note: Note, visibility: str) -> Note:
    """Change who may read a note (members and the convener); the text and version are unchanged."""
    require_person(actor)
    if not perms.can_edit_note(actor, note):
        raise PermissionDenied(_("Only the group's members may change its notes."))
    was_shared = note.visibility != Note.Visibility.GROUP
    note.visibility = visibility
    full_clean(note, exclude=["group", "updated_by"])
    Note.unscoped_objects.filter(pk=note.pk).update(visibility=visibility)
    if was_shared and visibility == Note.Visibility.GROUP:
        # Readers outside the group following the note live are told it is no longer theirs to read.
        group_id, note_id = note.group_id, note.pk
        withdrawn = {"type": "note.withdrawn", "note": note_id}
        transaction.on_commit(lambda: broadcast(group_id, withdrawn, members=False, readers=True))
    return note


def _as_version(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError({field: _("Give the version number the text was based on.")})
    return value


@transaction.atomic
def note_save(
    *,
    actor: Actor,
    note: Note,
    body: str,
    title: str | None = None,
    base_version: int,
    restored_from: int | None = None,
) -> Note:
    """Save a new text of a note, based on ``base_version`` (members and the convener).

    Compare-and-set: the note moves from ``base_version`` to ``base_version + 1`` only if nobody saved in
    between; otherwise ``StaleVersion(current)`` is raised and nothing is written. Saving the unchanged text
    of the current version writes nothing. The new version is kept and broadcast after the commit.
    """
    person = require_person(actor)
    if not perms.can_edit_note(actor, note):
        raise PermissionDenied(_("Only the group's members may change its notes."))
    base_version = _as_version(base_version, "base_version")
    if not isinstance(body, str) or (title is not None and not isinstance(title, str)):
        raise ValidationError(_("Give the text as a string."))
    title = note.title if title is None else title
    _check_note_text(title, body)
    now = timezone.now()
    if base_version == note.version and body == note.body and title == note.title and restored_from is None:
        return note
    # The tenant check was the caller's scoped read of ``note``; the CAS goes through the plain manager by pk.
    row = Note.unscoped_objects.filter(pk=note.pk)
    if _compare_and_set_enabled:
        row = row.filter(version=base_version)
    elif row.values_list("version", flat=True).get() != base_version:  # the race-control's read-then-write
        row = row.none()
    updated = row.update(body=body, title=title, version=base_version + 1, updated_by=person, updated_at=now)
    if updated != 1:
        current = Note.unscoped_objects.select_related("updated_by__user", "group").get(pk=note.pk)
        raise StaleVersion(current)
    NoteVersion.objects.create(
        note=note,
        version=base_version + 1,
        title=title,
        body=body,
        author=person,
        restored_from=restored_from,
        created_at=now,
    )
    note.body, note.title, note.version = body, title, base_version + 1
    note.updated_by, note.updated_at = person, now
    _broadcast_saved_on_commit(note, person.full_name)
    return note


def note_restore(*, actor: Actor, note: Note, version: int, base_version: int) -> Note:
    """Make an old version the current text again, as a new version (members and the convener)."""
    version = _as_version(version, "version")
    old = NoteVersion.objects.filter(note=note, version=version).first()
    if old is None:
        raise ValidationError({"version": _("This note has no such version.")})
    return note_save(
        actor=actor,
        note=note,
        body=old.body,
        title=old.title,
        base_version=base_version,
        restored_from=version,
    )
