"""The live document of a note: a Yjs document (``pycrdt`` on the server) that every editor changes at once.

The server holds the truth. A note's document is its ``NoteDocument.state`` (a compacted Yjs update) plus
the ``NoteUpdate`` rows accepted since (the append-only log). Every change (a client's ``doc.update``, a
whole-text save from a form, the REST API or the old ``save`` frame, a restore) runs in one transaction
under the note's row lock (``SELECT ... FOR UPDATE`` by pk after the caller's scoped read), so two
processes applying updates to one note queue up and neither loses the other's: the update is applied to
the document, appended to the log, the note's plain ``body`` (search, exports, REST, the page without
JavaScript) is set to the document's text and ``version`` raised by one, all before the commit; the
update is broadcast to the group's sockets only after it (``transaction.on_commit``). Updates that
arrive together are applied as one such change (``document_apply_many``): one lock, one log row with
their merge, one text write and version step, one broadcast; each is checked on its own. Once the log holds
``COMPACT_AFTER`` updates it is merged into the state and trimmed, in the same transaction; the periodic
job compacts idle documents too.

Each process keeps the documents it has read per thread (pycrdt documents are not shared between threads)
together with the last log row it applied; a read brings it up to date with the rows written since (by
any process), and a compaction it has not seen makes it start again from the stored state. A failed
change forgets the cached document, so the cache never holds what the database does not.

Named versions (``NoteVersion`` with the people who edited since the previous one) are written when
editing pauses for ``NOTE_VERSION_PAUSE_SECONDS`` (by the next change, the socket's timer or the periodic
job, whichever comes first), on demand (``version_write``), on a whole-text save and when a meeting ends.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from pycrdt import Doc, Text, merge_updates

from focusgroups import permissions
from focusgroups.models import (
    NOTE_BODY_MAX_LENGTH,
    GroupMembership,
    Meeting,
    Note,
    NoteDocument,
    NoteUpdate,
    NoteVersion,
)
from focusgroups.services import _broadcast
from focusgroups.services._broadcast import Broadcast as Broadcast
from focusgroups.services._broadcast import _announce as _announce
from focusgroups.services._broadcast import broadcast as broadcast
from focusgroups.services._broadcast import decode as decode
from focusgroups.services._broadcast import encode as encode
from focusgroups.services._broadcast import hear as hear
from focusgroups.services._broadcast import notes_group as notes_group
from focusgroups.services._broadcast import person_payload as person_payload
from focusgroups.services._broadcast import readers_group as readers_group
from focusgroups.services._broadcast import update_event as update_event
from focusgroups.services.textdiff import text_edits
from organisations.models import Person
from organisations.permissions import Actor

logger = logging.getLogger(__name__)

BODY = "body"
# Updates kept in the log before they are merged into the stored state.
COMPACT_AFTER = 200

# Switched off only by the race-control tests, to show what the row lock prevents.
_lock_enabled = True


# --- The per-thread cache of documents ------------------------------------------------------------------


@dataclass
class _Cached:
    doc: Doc[Text]
    epoch: uuid.UUID
    # The id of the last log row applied to ``doc`` (or the compaction point it was loaded from).
    through: int
    # The note's version that ``doc`` holds, when known (read or written under the row lock).
    version: int | None = None
    # Changed by a transaction that has not committed yet: read afresh until it has.
    dirty: bool = False


_local = threading.local()


def _cache() -> dict[int, _Cached]:
    docs: dict[int, _Cached] | None = getattr(_local, "docs", None)
    if docs is None:
        docs = _local.docs = {}
    return docs


def forget(note_id: int) -> None:
    """Drop this thread's copy of a note's document (it is read from the database next time)."""
    _cache().pop(note_id, None)


def _changing(cached: _Cached) -> None:
    """Mark the copy as holding what is not committed yet; it is trusted again once the commit is done (a
    rolled-back change leaves it marked, so it is read afresh)."""
    cached.dirty = True

    def committed() -> None:
        cached.dirty = False

    transaction.on_commit(committed)


def body_of(doc: Doc[Text]) -> Text:
    text: Text = doc.get(BODY, type=Text)
    return text


def _catch_up(cached: _Cached, note_id: int, version: int) -> bool:
    """Bring the copy to ``version`` with the changes the channel layer brought (``_broadcast.heard``),
    without reading the log; False, with the copy untouched, when one of the steps did not arrive."""
    if cached.version is None or cached.version > version:
        return False
    steps = _broadcast.heard_steps(note_id, str(cached.epoch), cached.version, version)
    if steps is None:
        return False
    for row_id, update in steps:
        cached.doc.apply_update(update)
        cached.through = row_id
    cached.version = version
    return True


def _load(document: NoteDocument, version: int | None = None) -> _Cached:
    """The note's document as stored now: the cached copy brought up to date, or read afresh.

    ``version``: the note's version read under its row lock. Then the copy is caught up with the changes
    of other processes that their broadcasts brought, each the step from one version to the next; only
    when a step is missing (a broadcast late or lost, a save that changed only the title) is the log
    read."""
    cached = _cache().get(document.note_id)
    if (
        cached is None
        or cached.dirty
        or cached.epoch != document.epoch
        or cached.through < document.compacted_through
    ):
        doc: Doc[Text] = Doc()
        if document.state:
            doc.apply_update(bytes(document.state))
        cached = _Cached(doc, document.epoch, document.compacted_through)
    elif version is not None and _catch_up(cached, document.note_id, version):
        _cache()[document.note_id] = cached
        return cached
    # Log rows of one note are written under its row lock, so their ids rise in commit order. By the note
    # id through the plain manager: the caller's scoped read of the note came first (the scoped manager's
    # programme filter cost a fifth of each update).
    rows = NoteUpdate.unscoped_objects.filter(note_id=document.note_id, id__gt=cached.through).order_by("id")
    for row_id, update in rows.values_list("id", "update"):
        cached.doc.apply_update(bytes(update))
        cached.through = row_id
    cached.version = version
    _cache()[document.note_id] = cached
    return cached


def _new_document(note: Note) -> NoteDocument:
    """The document of a note that has none yet (a note from before live editing): its current text."""
    doc: Doc[Text] = Doc()
    body_of(doc).insert(0, note.body)
    return NoteDocument.objects.create(
        note=note,
        programme_id=note.group.programme_id,
        state=doc.get_update(),
        versioned_at_version=note.version,
    )


def _lock(note: Note) -> Note:
    """Re-read the note locked by pk, with its document (the caller's read of it was the scoped one)."""
    # By pk through the plain manager right after the caller's scoped read: the lock takes the one row.
    rows = Note.unscoped_objects.select_related("group")
    if _lock_enabled:
        rows = rows.select_for_update(of=("self",))
    locked: Note = rows.get(pk=note.pk)
    # A statement of its own, after the lock is granted: a join in the locking statement would show the
    # document as it was before the transaction that held the lock committed.
    existing = NoteDocument.unscoped_objects.filter(note_id=locked.pk).first()
    locked.document = existing if existing is not None else _new_document(locked)
    return locked


def _document_for_reading(note: Note) -> NoteDocument:
    document = NoteDocument.objects.filter(note_id=note.pk).first()
    if document is None:
        with transaction.atomic():
            document = _lock(note).document
    return document


# --- Reading ----------------------------------------------------------------------------------------------


def document_sync(*, actor: Actor, note: Note, state_vector: bytes) -> tuple[bytes, bytes, bool]:
    """What a reader of the note lacks, given its state vector: ``(update, server state vector,
    can_edit)``. Anyone who may read the note may ask; a state vector that is not one is a
    ``ValidationError``."""
    if not permissions.can_read_note(actor, note):
        raise PermissionDenied(_("You may not read this note."))
    cached = _load(_document_for_reading(note))
    try:
        update = cached.doc.get_update(state_vector)
    except ValueError as exc:
        raise ValidationError(_("This is not a Yjs state vector.")) from exc
    return update, cached.doc.get_state(), permissions.can_edit_note(actor, note)


# --- Changing ---------------------------------------------------------------------------------------------


def _paused(document: NoteDocument, now: datetime) -> bool:
    pause = timedelta(seconds=settings.NOTE_VERSION_PAUSE_SECONDS)
    return document.edited_at is not None and document.edited_at <= now - pause


def _store(
    note: Note, doc: Doc[Text], update: bytes, people: list[Person], now: datetime, body: str | None = None
) -> NoteUpdate:
    """Append the applied update to the log and bring the note's text, version and document row in step
    (the caller holds the row lock; nothing is broadcast here). ``body``: the document's text, when the
    caller has it already."""
    document = note.document
    if document.versioned_at_version < note.version and _paused(document, now):
        # The previous burst of editing ended long ago: it becomes a version before this one starts.
        _write_version(note, by=None, now=now)
    person = people[-1]
    row = NoteUpdate.objects.create(
        note=note, programme_id=note.group.programme_id, update=update, author=person, created_at=now
    )
    body = str(body_of(doc)) if body is None else body
    note.version += 1
    note.body, note.updated_by, note.updated_at = body, person, now
    Note.unscoped_objects.filter(pk=note.pk).update(
        body=body, version=F("version") + 1, updated_by=person, updated_at=now
    )
    new = [p.pk for p in people if p.pk not in document.editors]
    if new:
        document.editors = [*document.editors, *new]
    document.edited_at = now
    document.log_length += 1
    fields = ["editors", "edited_at", "log_length"]
    if document.log_length >= COMPACT_AFTER:
        fields += _compact(document, doc, through=row.pk)
    # By pk under the row lock; the log row written above already passed the archived-programme guard of
    # this transaction's writes (a second ``save`` would ask it again).
    NoteDocument.unscoped_objects.filter(pk=document.pk).update(
        **{name: getattr(document, name) for name in fields}
    )
    return row


def _compact(document: NoteDocument, doc: Doc[Text], *, through: int) -> list[str]:
    """Merge the log up to ``through`` into the stored state and trim it (under the row lock)."""
    document.state = doc.get_update()
    document.compacted_through = through
    document.log_length = 0
    NoteUpdate.objects.filter(note_id=document.note_id, id__lte=through).delete()
    return ["state", "compacted_through", "log_length"]


def _check_document(doc: Doc[Text]) -> str:
    """The document's text, when the document is a valid note; else a ``ValidationError``."""
    if set(doc.keys()) - {BODY}:
        raise ValidationError(_("A note's document holds only its text."))
    body = str(body_of(doc))
    if len(body) > NOTE_BODY_MAX_LENGTH:
        raise ValidationError(
            _("A note may hold at most %(limit)s characters.") % {"limit": NOTE_BODY_MAX_LENGTH}
        )
    return body


@dataclass(frozen=True)
class Edit:
    """One client's Yjs update of a note as it reached the server (``sender``: the socket's channel)."""

    actor: Actor
    update: bytes
    sender: str | None = None


class _Spoiled(Exception):
    """An edit of a batch that is no Yjs update or leaves the document invalid (applied again without it);
    ``index`` None: the batch as a whole leaves it invalid (applied again, each edit checked on its own)."""

    def __init__(self, index: int | None, error: ValidationError) -> None:
        super().__init__(index)
        self.index, self.error = index, error


def _editors(note: Note, edits: Sequence[Edit]) -> list[Person | PermissionDenied]:
    """Per edit, its author when the actor may edit the note, else the refusal: one query for all."""
    persons = {edit.actor.person.pk for edit in edits if edit.actor.person is not None}
    roles = dict(
        GroupMembership.objects.filter(
            group_id=note.group_id, person_id__in=persons, is_active=True
        ).values_list("person_id", "role")
    )
    answers: list[Person | PermissionDenied] = []
    for edit in edits:
        person = edit.actor.person
        rights = (
            frozenset()
            if person is None
            else permissions.role_rights(edit.actor, note.group.programme_id, roles.get(person.pk))
        )
        if person is None or not permissions.can_edit_note(edit.actor, note, rights):
            answers.append(PermissionDenied(_("Only the group's members may change its notes.")))
        else:
            answers.append(person)
    return answers


def _apply_all(cached: _Cached, edits: Sequence[Edit], indexes: list[int], *, check_each: bool) -> str:
    """Apply the edits and return the text they leave (the last check reads it)."""
    # The document is checked once after the batch (reading the whole text per keystroke is what a batch
    # saves); only a batch that fails it is applied again with a check after each edit, to find the one.
    body = ""
    for index in indexes:
        try:
            cached.doc.apply_update(edits[index].update)
        except ValueError as exc:
            raise _Spoiled(index, ValidationError(_("This is not a Yjs update."))) from exc
        if check_each or len(indexes) == 1:
            try:
                body = _check_document(cached.doc)
            except ValidationError as exc:
                raise _Spoiled(index, exc) from exc
    if not check_each and len(indexes) > 1:
        try:
            body = _check_document(cached.doc)
        except ValidationError as exc:
            raise _Spoiled(None, exc) from exc
    return body


def document_apply_many(
    *, note: Note, edits: Sequence[Edit], deliveries: list[Broadcast] | None = None
) -> tuple[Note | None, list[PermissionDenied | ValidationError | None]]:
    """Apply the updates that editors sent for one note at about the same time, as one change: one row
    lock, one log row holding their merge, one text write and version step and, after the commit, one
    broadcast of the merged update (to every socket of the group but ``sender`` when a single socket sent
    them all). Each edit is checked on its own (the same rules as ``document_apply``): a refused one is
    left out and the others are stored. Returns the note as changed (None when nothing changed) and, per
    edit, None or its refusal (``PermissionDenied``, ``ValidationError``).

    With ``deliveries`` (the live-notes socket, which runs the change in a database thread) the broadcast
    is appended there instead, for the caller to send from its event loop once this has returned (and so
    committed): the database thread then never waits for the event loop."""
    refusals: list[PermissionDenied | ValidationError | None] = [None] * len(edits)
    authors: dict[int, Person] = {}
    pending: list[int] = []
    for index, answer in enumerate(_editors(note, edits)):
        if isinstance(answer, PermissionDenied):
            refusals[index] = answer
        else:
            pending.append(index)
            authors[index] = answer
    if not pending:
        return None, refusals
    with transaction.atomic():
        locked = _lock(note)
        try:
            check_each = False
            while True:
                cached = _load(locked.document, locked.version)
                _changing(cached)
                # An insertion moves the state vector, a deletion shortens the text: unchanged both, the
                # batch changed nothing (without reading the whole text).
                before = (cached.doc.get_state(), len(body_of(cached.doc)))
                try:
                    body = _apply_all(cached, edits, pending, check_each=check_each)
                    break
                except _Spoiled as spoiled:
                    # The copy holds part of the batch: read it afresh and apply the others again.
                    forget(note.pk)
                    if spoiled.index is None:
                        check_each = True
                        continue
                    refusals[spoiled.index] = spoiled.error
                    pending.remove(spoiled.index)
            if not pending or (cached.doc.get_state(), len(body_of(cached.doc))) == before:
                # Known already (a client sending its edits again) or waiting for what it builds on.
                forget(note.pk)
                return None, refusals
            updates = [edits[index].update for index in pending]
            merged = updates[0] if len(updates) == 1 else merge_updates(*updates)
            people = list({authors[index].pk: authors[index] for index in pending}.values())
            row = _store(locked, cached.doc, merged, people, timezone.now(), body)
            cached.through, cached.version = row.pk, locked.version
        except BaseException:
            forget(note.pk)
            raise
        senders = {edits[index].sender for index in pending}
        sender = senders.pop() if len(senders) == 1 else None
        _announce(update_event(locked, merged, people, sender, row.pk), deliveries)
        return locked, refusals


def document_apply(*, actor: Actor, note: Note, update: bytes, sender: str | None = None) -> Note | None:
    """Apply a client's Yjs update to a note's document (members and the convener), store it and, after
    the commit, send it to every other socket of the group (``sender``: the channel that sent it, which
    is left out). Returns the note as changed, or None when the update changed nothing (nothing stored).

    Refused with ``PermissionDenied`` without the right to edit, and with ``ValidationError`` for bytes
    that are no Yjs update, an update that adds anything but the note's text, or a text over the limit;
    nothing is stored then."""
    changed, (refusal,) = document_apply_many(note=note, edits=[Edit(actor, update, sender)])
    if refusal is not None:
        raise refusal
    return changed


def _editor(actor: Actor, note: Note) -> Person:
    if actor.person is None or not permissions.can_edit_note(actor, note):
        raise PermissionDenied(_("Only the group's members may change its notes."))
    return actor.person


def replace_text(doc: Doc[Text], new: str) -> bytes:
    """Change the document's text into ``new`` by a minimal edit; returns the Yjs update of that edit."""
    text = body_of(doc)
    old = str(text)
    before = doc.get_state()
    edits = text_edits(old, new)
    if not edits:
        return b""
    with doc.transaction():
        # From the end backwards, so that the offsets of the edits before stay valid; Y.Text positions
        # in pycrdt count UTF-8 bytes.
        for start, end, replacement in reversed(edits):
            offset = len(old[:start].encode())
            length = len(old[start:end].encode())
            if length:
                del text[offset : offset + length]
            if replacement:
                text.insert(offset, replacement)
    update: bytes = doc.get_update(before)
    return update


def text_apply(*, note: Note, person: Person, body: str) -> Note:
    """Turn a whole-text save into an edit of the live document (the caller holds the row lock from
    ``lock_for_save`` and has checked the right): the difference to the current text is applied, stored
    and broadcast like a client's update."""
    cached = _load(note.document, note.version)
    _changing(cached)
    try:
        update = replace_text(cached.doc, body)
        if update:
            row = _store(note, cached.doc, update, [person], timezone.now())
            cached.through, cached.version = row.pk, note.version
    except BaseException:
        forget(note.pk)
        raise
    if update:
        _announce(update_event(note, update, [person], None, row.pk), None)
    return note


def lock_for_save(note: Note) -> Note:
    """The note locked by pk with its document, for a whole-text save (inside the caller's transaction)."""
    return _lock(note)


# --- Named versions ---------------------------------------------------------------------------------------


def _write_version(
    note: Note, *, by: Person | None, now: datetime, restored_from: int | None = None
) -> NoteVersion | None:
    """Write the note as it is now as a named version with the people who edited since the last one (the
    caller holds the row lock); None when nothing changed since the last version."""
    document = note.document
    if note.version <= document.versioned_at_version and restored_from is None:
        return None
    version = NoteVersion.objects.create(
        note=note,
        programme_id=note.group.programme_id,
        version=note.version,
        title=note.title,
        body=note.body,
        author=by if by is not None else note.updated_by,
        restored_from=restored_from,
        created_at=now,
    )
    authors = set(document.editors) | ({by.pk} if by is not None else set())
    if authors:
        version.authors.set(Person.objects.filter(pk__in=authors))
    document.versioned_at_version = note.version
    document.editors = []
    document.save(update_fields=["versioned_at_version", "editors"])
    event = {
        "type": "note.versioned",
        "note": note.pk,
        "version": version.version,
        "by": person_payload(by),
        "at": now.isoformat(),
    }
    group_id, shared = note.group_id, note.is_shared
    transaction.on_commit(lambda: broadcast(group_id, event, readers=shared))
    return version


def version_record(note: Note, *, by: Person | None, restored_from: int | None = None) -> NoteVersion | None:
    """``_write_version`` for a whole-text save (the caller holds the row lock)."""
    return _write_version(note, by=by, now=timezone.now(), restored_from=restored_from)


def version_write(*, actor: Actor, note: Note) -> NoteVersion:
    """Write the note's current text as a named version now (members and the convener), with the people
    who edited since the last version; every socket of the group hears ``doc.versioned``. With no change
    since the last version, that version is the answer and nothing is written."""
    person = _editor(actor, note)
    with transaction.atomic():
        locked = _lock(note)
        written = _write_version(locked, by=person, now=timezone.now())
        if written is not None:
            return written
        latest: NoteVersion = NoteVersion.objects.filter(note_id=note.pk).order_by("-version")[0]
        return latest


def version_if_paused(note_id: int) -> NoteVersion | None:
    """Write the version of a note whose editing has paused (the socket's timer; idempotent)."""
    with transaction.atomic():
        note = Note.objects.filter(pk=note_id).first()
        if note is None:
            return None
        locked = _lock(note)
        now = timezone.now()
        if not _paused(locked.document, now):
            return None
        return _write_version(locked, by=None, now=now)


def versions_write_paused() -> int:
    """Periodic job: a named version of every note whose editing paused, a version of the notes edited
    in each meeting that has ended, and the compaction of idle logs. Returns the versions written."""
    now = timezone.now()
    pause = timedelta(seconds=settings.NOTE_VERSION_PAUSE_SECONDS)
    written = 0
    paused = NoteDocument.objects.filter(
        Q(versioned_at_version__lt=F("note__version")) | Q(log_length__gt=0), edited_at__lte=now - pause
    )
    for note_id in paused.values_list("note_id", flat=True):
        with transaction.atomic():
            locked = _lock(Note(pk=note_id))
            if not _paused(locked.document, now):
                continue
            written += _write_version(locked, by=None, now=now) is not None
            if locked.document.log_length:
                cached = _load(locked.document, locked.version)
                fields = _compact(locked.document, cached.doc, through=cached.through)
                locked.document.save(update_fields=fields)
    ended = Meeting.objects.filter(
        ends_at__lte=now,
        notes_versioned_at__isnull=True,
        status__in=[Meeting.Status.SCHEDULED, Meeting.Status.HELD],
    )
    for meeting in ended.order_by("pk"):
        written += meeting_ended(meeting, now=now)
    return written


def meeting_ended(meeting: Meeting, *, now: datetime | None = None) -> int:
    """Write a version of every note of the meeting's group changed since its last version (when the
    meeting ends, or its minutes are recorded); returns how many were written."""
    now = now or timezone.now()
    written = 0
    note_ids = NoteDocument.objects.filter(
        note__group_id=meeting.group_id, versioned_at_version__lt=F("note__version")
    ).values_list("note_id", flat=True)
    for note_id in list(note_ids):
        with transaction.atomic():
            written += _write_version(_lock(Note(pk=note_id)), by=None, now=now) is not None
    if meeting.ends_at <= now:
        Meeting.objects.filter(pk=meeting.pk).update(notes_versioned_at=now)
    return written
