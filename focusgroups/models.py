"""Focus groups: the programme's collaboration areas, their members, meetings, shared notes, actions and the
shared glossary.

The shape of the data:

- A ``FocusGroup`` belongs to a programme. Every programme has the six default areas
  (``services.ensure_default_groups``); coordinators may add more. Its ``convener`` leads it.
- A ``GroupMembership`` puts a person in a group as a member, the convener or an observer, with their
  mandate. At most one *active* membership per person and group; ended ones stay as history. Rights are
  derived from it whenever they are checked (``focusgroups.permissions``; nothing is stored).
- A ``Meeting`` has ``AgendaItem`` rows, ``Decision`` rows and its minutes, a live ``Note`` of its own
  (``Note.meeting``). ``sequence`` is the iCalendar SEQUENCE of its invites, raised on each change.
- A ``Note`` is a shared text of a group, edited live as a Yjs document (``NoteDocument``: the compacted
  state, ``NoteUpdate``: the log since). ``version`` is raised by one on every accepted change; named
  ``NoteVersion`` rows (with their authors) are written when editing pauses, on demand, on a whole-text save
  and when a meeting ends (``services.documents``).
- An ``ActionItem`` is something someone promised to do, with an owner, an organisation and a due date.
- A ``Concept`` of the shared glossary ("customer") has one ``ConceptTerm`` per organisation (what that
  organisation calls it and how it defines it) and ``ConceptComment`` rows from members.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel

NOTE_BODY_MAX_LENGTH = 100_000


class FocusGroup(TenantModel):
    """One collaboration area of a programme and the people working on it."""

    programme = models.ForeignKey(
        "organisations.Programme",
        on_delete=models.CASCADE,
        related_name="focus_groups",
        verbose_name=_("programme"),
    )
    code = models.SlugField(
        _("code"),
        max_length=60,
        help_text=_("A short identifier, unique in the programme, e.g. informationsflodet"),
    )
    name = models.CharField(_("name"), max_length=200)
    purpose = models.TextField(_("purpose"), max_length=5000, blank=True)
    convener = models.ForeignKey(
        "organisations.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="convened_focus_groups",
        verbose_name=_("convener"),
    )
    is_default = models.BooleanField(
        _("default area"), default=False, help_text=_("One of the programme's six priority areas.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("focus group")
        verbose_name_plural = _("focus groups")
        permissions = [("edit_notes", _("Can edit the group's shared notes"))]
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="focusgroup_unique_code"),
            models.UniqueConstraint(fields=["programme", "name"], name="focusgroup_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class GroupMembership(TenantModel):
    """A person's seat in a focus group, with the mandate their organisation gave them."""

    tenant_path: ClassVar[str] = "group__programme"

    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        CONVENER = "convener", _("Convener")
        OBSERVER = "observer", _("Observer")

    # The roles that represent the person's organisation in the group (an observer does not).
    REPRESENTING_ROLES: ClassVar[tuple[str, ...]] = (Role.MEMBER, Role.CONVENER)

    group = models.ForeignKey(
        FocusGroup, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("focus group")
    )
    person = models.ForeignKey(
        "organisations.Person",
        on_delete=models.CASCADE,
        related_name="focus_group_memberships",
        verbose_name=_("person"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    # The person's organisation when they joined (denormalised): "which organisations are represented"
    # counts it, even if the person later moves.
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisation"),
    )
    mandate = models.TextField(
        _("mandate"),
        max_length=2000,
        blank=True,
        help_text=_("What the representative may decide on behalf of their organisation."),
    )
    sent_by = models.CharField(
        _("sent by"),
        max_length=200,
        blank=True,
        help_text=_("Who in the organisation appointed the representative, e.g. the head of unit."),
    )
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["group", "person__user__last_name", "person__user__first_name", "pk"]
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "person"], condition=Q(is_active=True), name="groupmembership_one_active"
            ),
            models.CheckConstraint(
                condition=Q(is_active=True) | Q(left_at__isnull=False), name="groupmembership_left_when_ended"
            ),
        ]
        indexes = [models.Index(fields=["person", "is_active"], name="groupmembership_person_idx")]

    def __str__(self) -> str:
        names = {"person": self.person, "group": self.group, "role": self.get_role_display()}
        return _("%(person)s in %(group)s (%(role)s)") % names


class Meeting(TenantModel):
    """A meeting of a focus group; members receive calendar invites, updates and cancellations."""

    tenant_path: ClassVar[str] = "group__programme"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")
        HELD = "held", _("Held")

    group = models.ForeignKey(
        FocusGroup, on_delete=models.CASCADE, related_name="meetings", verbose_name=_("focus group")
    )
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=300, blank=True, help_text=_("Room and street address."))
    online_link = models.URLField(_("online link"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    # The iCalendar SEQUENCE of the invites: raised on every update and on the cancellation.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the group's notes edited in the meeting were written down as versions after it ended.
    notes_versioned_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="meeting_ends_after_start"),
            models.CheckConstraint(
                condition=~Q(place="") | ~Q(online_link=""), name="meeting_has_place_or_link"
            ),
        ]
        indexes = [models.Index(fields=["group", "status", "starts_at"], name="meeting_group_start_idx")]

    def __str__(self) -> str:
        return f"{self.group}: {self.title}"

    @property
    def where(self) -> str:
        return self.place or self.online_link

    @property
    def minutes(self) -> str:
        """The text of the meeting's live minutes (its ``minutes_note``); empty before they are started."""
        note = getattr(self, "minutes_note", None)  # a missing reverse one-to-one raises AttributeError
        return note.body if note is not None else ""


class AgendaItem(TenantModel):
    """One point on a meeting's agenda."""

    tenant_path: ClassVar[str] = "programme"

    # The meeting's programme on the row, so that scoping needs no join (filled when saved or bulk-created).
    programme = models.ForeignKey(
        "organisations.Programme", on_delete=models.CASCADE, related_name="+", editable=False
    )

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    note = models.TextField(_("note"), max_length=2000, blank=True)

    class Meta:
        ordering = ["meeting", "position", "pk"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "position"], name="agendaitem_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.programme_id is None:
            self.programme_id = self.meeting.group.programme_id
        super().save(*args, **kwargs)


class Decision(TenantModel):
    """A decision recorded in a meeting's minutes."""

    tenant_path: ClassVar[str] = "programme"

    # The meeting's programme on the row, so that scoping needs no join (filled when saved or bulk-created).
    programme = models.ForeignKey(
        "organisations.Programme", on_delete=models.CASCADE, related_name="+", editable=False
    )

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    position = models.PositiveSmallIntegerField(_("position"))
    text = models.TextField(_("decision"), max_length=2000)

    class Meta:
        ordering = ["meeting", "position", "pk"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "position"], name="decision_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.text[:60]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.programme_id is None:
            self.programme_id = self.meeting.group.programme_id
        super().save(*args, **kwargs)


class Note(TenantModel):
    """A shared text of a focus group, edited live by its members; every save is kept as a version.

    Who may read it depends on ``visibility``; only active members and the convener of the group may edit
    it, whatever the visibility (observers read only):

    - ``group``: the group's members, convener and observers only;
    - ``programme``: every member of the programme may read it (found from the group's page);
    - ``public``: the same readers, and listed among the programme's shared notes on everyone's start page.

    ``version`` starts at 1 and is raised by exactly one on each accepted change (a live edit or a save),
    under the note's row lock (``services.documents``); a whole-text save based on an older version is
    refused, never silently overwritten. ``body`` is always the plain text of the live document.
    """

    tenant_path: ClassVar[str] = "group__programme"

    class Visibility(models.TextChoices):
        GROUP = "group", _("Only the group")
        PROGRAMME = "programme", _("Everyone in the programme")
        PUBLIC = "public", _("Everyone in the programme, listed on the start page")

    # Visibilities that let every member of the programme read the note.
    SHARED_VISIBILITIES: ClassVar[tuple[str, ...]] = (Visibility.PROGRAMME, Visibility.PUBLIC)

    group = models.ForeignKey(
        FocusGroup, on_delete=models.CASCADE, related_name="notes", verbose_name=_("focus group")
    )
    # Set on the minutes of a meeting of the group (read like the meeting: by the whole programme).
    meeting = models.OneToOneField(
        Meeting, on_delete=models.CASCADE, null=True, blank=True, editable=False, related_name="minutes_note"
    )
    title = models.CharField(_("title"), max_length=200)
    visibility = models.CharField(
        _("who may read it"), max_length=16, choices=Visibility.choices, default=Visibility.GROUP
    )
    body = models.TextField(_("text"), max_length=NOTE_BODY_MAX_LENGTH, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["group", "title", "pk"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        constraints = [models.CheckConstraint(condition=Q(version__gte=1), name="note_version_positive")]
        indexes = [models.Index(fields=["visibility", "-updated_at"], name="note_visibility_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_shared(self) -> bool:
        """Whether every member of the programme may read it (not only the group)."""
        return self.visibility in self.SHARED_VISIBILITIES

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class NoteVersion(TenantModel):
    """One saved state of a note: its text and title, who saved it and when. Never changed or deleted."""

    tenant_path: ClassVar[str] = "programme"

    # The note's programme on the row, so that scoping needs no join (filled when saved or bulk-created).
    programme = models.ForeignKey(
        "organisations.Programme", on_delete=models.CASCADE, related_name="+", editable=False
    )

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=NOTE_BODY_MAX_LENGTH, blank=True)
    author = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The version this one was restored from, when it is a restore.
    restored_from = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Everyone whose edits are in this version since the one before (``author`` wrote it down).
    authors = models.ManyToManyField("organisations.Person", blank=True, related_name="+")

    class Meta:
        ordering = ["note", "-version"]
        verbose_name = _("note version")
        verbose_name_plural = _("note versions")
        constraints = [
            models.UniqueConstraint(fields=["note", "version"], name="noteversion_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="noteversion_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.note_id} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.programme_id is None:
            self.programme_id = self.note.group.programme_id
        super().save(*args, **kwargs)


class NoteDocument(TenantModel):
    """The live Yjs document of a note: its compacted state (every update up to ``compacted_through``) and
    what the next named version needs. Locked through its note's row (``services.documents``)."""

    tenant_path: ClassVar[str] = "programme"

    programme = models.ForeignKey(
        "organisations.Programme", on_delete=models.CASCADE, related_name="+", editable=False
    )
    note = models.OneToOneField(Note, on_delete=models.CASCADE, primary_key=True, related_name="document")
    # Tells a process's cached copy of this document from one of an earlier row with the same note id.
    epoch = models.UUIDField(default=uuid.uuid4, editable=False)
    # A Yjs update (v1 encoding) holding the whole document as of ``compacted_through``.
    state = models.BinaryField(default=b"")
    # The id of the last ``NoteUpdate`` merged into ``state`` (those rows are deleted).
    compacted_through = models.BigIntegerField(default=0)
    log_length = models.PositiveIntegerField(default=0)
    edited_at = models.DateTimeField(null=True, blank=True)
    # The note's version when the last named version was written, and the people who edited since.
    versioned_at_version = models.PositiveIntegerField(default=1)
    editors = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("live note document")
        verbose_name_plural = _("live note documents")

    def __str__(self) -> str:
        return f"{self.note_id}"


class NoteUpdate(TenantModel):
    """One accepted Yjs update of a note, kept until compaction merges it into ``NoteDocument.state``."""

    tenant_path: ClassVar[str] = "programme"

    id = models.BigAutoField(primary_key=True)
    programme = models.ForeignKey(
        "organisations.Programme", on_delete=models.CASCADE, related_name="+", editable=False
    )
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="+")
    update = models.BinaryField()
    author = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("note update")
        verbose_name_plural = _("note updates")
        indexes = [models.Index(fields=["note", "id"], name="noteupdate_note_idx")]

    def __str__(self) -> str:
        return f"{self.note_id} #{self.pk}"


class ActionItem(TenantModel):
    """Something a person promised to do for the group, with its organisation, due date and status."""

    tenant_path: ClassVar[str] = "group__programme"

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    OPEN_STATUSES: ClassVar[tuple[str, ...]] = (Status.OPEN, Status.IN_PROGRESS)

    group = models.ForeignKey(
        FocusGroup, on_delete=models.CASCADE, related_name="actions", verbose_name=_("focus group")
    )
    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("agreed at meeting"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    # The line of a note (often a meeting's minutes) the action was made from: the line's text, since lines
    # of a document written together move.
    note = models.ForeignKey(
        Note,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("from note"),
    )
    note_line = models.CharField(_("from the line"), max_length=500, blank=True)
    owner = models.ForeignKey(
        "organisations.Person",
        on_delete=models.PROTECT,
        related_name="focus_group_actions",
        verbose_name=_("owner"),
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisation"),
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        indexes = [
            models.Index(fields=["owner", "status", "due_on"], name="actionitem_owner_idx"),
            models.Index(fields=["group", "status"], name="actionitem_group_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Concept(TenantModel):
    """A concept of the shared glossary ("customer"), with each organisation's own term side by side."""

    programme = models.ForeignKey(
        "organisations.Programme",
        on_delete=models.CASCADE,
        related_name="concepts",
        verbose_name=_("programme"),
    )
    name = models.CharField(_("concept"), max_length=120)
    description = models.TextField(_("description"), max_length=3000, blank=True)
    created_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("concept")
        verbose_name_plural = _("concepts")
        constraints = [models.UniqueConstraint(fields=["programme", "name"], name="concept_unique_name")]

    def __str__(self) -> str:
        return self.name


class ConceptTerm(TenantModel):
    """What one organisation calls a concept and how it defines it."""

    tenant_path: ClassVar[str] = "concept__programme"

    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="terms")
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organisation"),
    )
    term = models.CharField(_("term"), max_length=120)
    definition = models.TextField(_("definition"), max_length=3000, blank=True)
    updated_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["concept", "organisation__name"]
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        constraints = [
            models.UniqueConstraint(
                fields=["concept", "organisation"], name="conceptterm_one_per_organisation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.concept}: {self.term}"


class ConceptComment(TenantModel):
    """A member's comment on a glossary concept."""

    tenant_path: ClassVar[str] = "concept__programme"

    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("comment"), max_length=3000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["concept", "created_at", "pk"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:40]}"


class LivePresence(TenantModel):
    """One open live-notes socket: who is looking at a group's notes right now.

    In the database, so every ASGI process sees the same roster; pings refresh ``seen_at``, and a row older
    than ``FOCUSGROUPS_PRESENCE_TTL_SECONDS`` (a dead process's) is dropped when the roster is read.
    """

    tenant_path: ClassVar[str] = "group__programme"

    group = models.ForeignKey(FocusGroup, on_delete=models.CASCADE, related_name="presence")
    person = models.ForeignKey("organisations.Person", on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    connected_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("presence")
        verbose_name_plural = _("presence")
        indexes = [models.Index(fields=["group", "seen_at"], name="livepresence_group_idx")]

    def __str__(self) -> str:
        return f"{self.person} @ {self.group}"
