"""API shapes of focus groups, memberships, meetings, notes, actions and the glossary.

Writes go through ``focusgroups.services``; these serializers only parse and validate shapes. Foreign ids are
``ScopedPrimaryKeyRelatedField``s, so an id from another programme is "does not exist" (400).
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from coordinator.core.serializers import ModelSerializer, StrictModelSerializer, StrictSerializer
from focusgroups.models import (
    NOTE_BODY_MAX_LENGTH,
    ActionItem,
    Concept,
    ConceptComment,
    ConceptTerm,
    FocusGroup,
    GroupMembership,
    Meeting,
    Note,
    NoteVersion,
)
from organisations.access.api import ScopedPrimaryKeyRelatedField
from organisations.models import FORMER_MEMBER, Organisation, Person, Programme


def _name(person: Person | None) -> str:
    return person.full_name if person is not None else ""


def name_columns(person: str) -> dict[str, F]:
    """For a list's ``annotate()``: the columns the name of ``<person>`` (a foreign key to a ``Person``) is
    made of, read in the list's own query instead of a person and a user instance per row."""
    return {
        f"_{person}_named": F(person),
        f"_{person}_erased_at": F(f"{person}__erased_at"),
        f"_{person}_first_name": F(f"{person}__user__first_name"),
        f"_{person}_last_name": F(f"{person}__user__last_name"),
        f"_{person}_username": F(f"{person}__user__username"),
    }


def _shown_name(row: Model, person: str) -> str:
    """The name of ``row.<person>``: from the columns ``name_columns`` read with the row, else (a row read
    without them, or whose person changed since) from the person."""
    values = row.__dict__
    named = values.get(f"_{person}_named", False)
    if named is False or named != getattr(row, f"{person}_id"):
        return _name(getattr(row, person))
    if named is None:
        return ""
    # What Person.full_name gives (with django.contrib.auth's get_full_name() and get_username()).
    if values[f"_{person}_erased_at"] is not None:
        return str(FORMER_MEMBER)
    full_name = f"{values[f'_{person}_first_name']} {values[f'_{person}_last_name']}".strip()
    return full_name or values[f"_{person}_username"]  # type: ignore[no-any-return]


class FocusGroupSerializer(StrictModelSerializer):
    programme = ScopedPrimaryKeyRelatedField(
        model=Programme, help_text=_("The programme (set on creation only).")
    )
    convener = ScopedPrimaryKeyRelatedField(model=Person, required=False, allow_null=True)
    convener_name = serializers.SerializerMethodField()
    member_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = FocusGroup
        fields = [
            "id",
            "programme",
            "code",
            "name",
            "purpose",
            "convener",
            "convener_name",
            "is_default",
            "member_count",
            "created_at",
        ]
        read_only_fields = ["is_default", "created_at"]
        validators: list[Any] = []  # the service checks code and name within the programme

    def get_convener_name(self, obj: FocusGroup) -> str:
        return _shown_name(obj, "convener")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            self.instance is not None
            and "programme" in attrs
            and attrs["programme"] != self.instance.programme
        ):
            raise serializers.ValidationError({"programme": _("A group cannot move to another programme.")})
        return attrs


class MembershipSerializer(StrictModelSerializer):
    group = ScopedPrimaryKeyRelatedField(model=FocusGroup)
    person = ScopedPrimaryKeyRelatedField(model=Person)
    person_name = serializers.SerializerMethodField()
    organisation_name = serializers.SerializerMethodField()

    class Meta:
        model = GroupMembership
        fields = [
            "id",
            "group",
            "person",
            "person_name",
            "role",
            "organisation",
            "organisation_name",
            "mandate",
            "sent_by",
            "joined_at",
            "left_at",
            "is_active",
        ]
        read_only_fields = ["organisation", "joined_at", "left_at", "is_active"]
        validators: list[Any] = []

    def get_person_name(self, obj: GroupMembership) -> str:
        return _shown_name(obj, "person")

    def get_organisation_name(self, obj: GroupMembership) -> str:
        # Read with the list's rows (``organisation_name`` annotated) where it was.
        name = obj.__dict__.get("_organisation_name")
        return name if isinstance(name, str) else obj.organisation.name

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            for field in ("group", "person"):
                if field in attrs and attrs[field] != getattr(self.instance, field):
                    raise serializers.ValidationError({field: _("Add a new membership instead.")})
        return attrs


class AgendaItemSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class MeetingSerializer(StrictModelSerializer):
    group = ScopedPrimaryKeyRelatedField(model=FocusGroup)
    agenda = AgendaItemSerializer(many=True, required=False, source="agenda_items")
    decisions = serializers.SerializerMethodField()
    # The text of the live minutes note (``minutes_note``: its id, ``minutes_version``: its version, the
    # ETag that ``If-Match`` on ``POST .../minutes/`` names).
    minutes = serializers.CharField(read_only=True)
    minutes_note = serializers.SerializerMethodField()
    minutes_version = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = [
            "id",
            "group",
            "title",
            "starts_at",
            "ends_at",
            "place",
            "online_link",
            "status",
            "sequence",
            "agenda",
            "minutes",
            "minutes_note",
            "minutes_version",
            "decisions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "sequence", "created_at", "updated_at"]

    def get_decisions(self, obj: Meeting) -> list[str]:
        return [d.text for d in obj.decisions.all()]

    def get_minutes_note(self, obj: Meeting) -> int | None:
        note = getattr(obj, "minutes_note", None)
        return note.pk if note is not None else None

    def get_minutes_version(self, obj: Meeting) -> int | None:
        note = getattr(obj, "minutes_note", None)
        return note.version if note is not None else None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "group" in attrs and attrs["group"] != self.instance.group:
            raise serializers.ValidationError({"group": _("A meeting cannot move to another group.")})
        return attrs


class MinutesSerializer(StrictSerializer):
    # Left out: the live minutes are recorded as they stand. Kept exactly as typed, like a note's text.
    minutes = serializers.CharField(
        max_length=NOTE_BODY_MAX_LENGTH, allow_blank=True, required=False, trim_whitespace=False
    )
    decisions = serializers.ListField(
        child=serializers.CharField(max_length=2000), max_length=100, required=False, default=list
    )


class NoteSerializer(StrictModelSerializer):
    group = ScopedPrimaryKeyRelatedField(model=FocusGroup)
    # A note's text is kept exactly as typed (DRF would strip leading and trailing whitespace).
    body = serializers.CharField(
        max_length=NOTE_BODY_MAX_LENGTH, allow_blank=True, required=False, default="", trim_whitespace=False
    )
    updated_by_name = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()
    # Set on a meeting's minutes (read by the whole programme; their visibility does not change).
    meeting = serializers.IntegerField(source="meeting_id", read_only=True, allow_null=True)

    class Meta:
        model = Note
        fields = [
            "id",
            "group",
            "meeting",
            "title",
            "visibility",
            "body",
            "version",
            "updated_by",
            "updated_by_name",
            "updated_at",
            "can_edit",
        ]
        read_only_fields = ["version", "updated_by", "updated_at"]

    def get_updated_by_name(self, obj: Note) -> str:
        return _shown_name(obj, "updated_by")

    def get_can_edit(self, obj: Note) -> bool:
        editable = self.context.get("editable_group_ids")
        return editable is not None and obj.group_id in editable

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "group" in attrs and attrs["group"] != self.instance.group:
            raise serializers.ValidationError({"group": _("A note cannot move to another group.")})
        return attrs


class NoteVersionSerializer(ModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = NoteVersion
        fields = ["version", "title", "body", "author", "author_name", "restored_from", "created_at"]
        read_only_fields = fields

    def get_author_name(self, obj: NoteVersion) -> str:
        return _name(obj.author)


class RestoreSerializer(StrictSerializer):
    version = serializers.IntegerField(min_value=1)


class CompareSerializer(StrictSerializer):
    old = serializers.IntegerField(min_value=1)
    new = serializers.IntegerField(min_value=1)


class ActionSerializer(StrictModelSerializer):
    group = ScopedPrimaryKeyRelatedField(model=FocusGroup)
    owner = ScopedPrimaryKeyRelatedField(model=Person)
    meeting = ScopedPrimaryKeyRelatedField(model=Meeting, required=False, allow_null=True)
    organisation = ScopedPrimaryKeyRelatedField(model=Organisation, required=False)
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "group",
            "meeting",
            "title",
            "description",
            "owner",
            "owner_name",
            "organisation",
            "due_on",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_owner_name(self, obj: ActionItem) -> str:
        return _shown_name(obj, "owner")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "group" in attrs and attrs["group"] != self.instance.group:
            raise serializers.ValidationError({"group": _("An action cannot move to another group.")})
        return attrs


class TermSerializer(StrictModelSerializer):
    organisation = ScopedPrimaryKeyRelatedField(model=Organisation)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = ConceptTerm
        fields = ["id", "organisation", "organisation_name", "term", "definition", "updated_at"]
        read_only_fields = ["updated_at"]
        validators: list[Any] = []


class CommentSerializer(StrictModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = ConceptComment
        fields = ["id", "author", "author_name", "body", "created_at"]
        read_only_fields = ["author", "created_at"]

    def get_author_name(self, obj: ConceptComment) -> str:
        return _shown_name(obj, "author")


class ConceptSerializer(StrictModelSerializer):
    programme = ScopedPrimaryKeyRelatedField(
        model=Programme, help_text=_("The programme (set on creation only).")
    )
    terms = TermSerializer(many=True, read_only=True)
    comments = CommentSerializer(many=True, read_only=True)

    class Meta:
        model = Concept
        fields = ["id", "programme", "name", "description", "terms", "comments", "created_by", "created_at"]
        read_only_fields = ["created_by", "created_at"]
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            self.instance is not None
            and "programme" in attrs
            and attrs["programme"] != self.instance.programme
        ):
            raise serializers.ValidationError({"programme": _("A concept cannot move to another programme.")})
        return attrs
