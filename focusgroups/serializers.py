"""API shapes of focus groups, memberships, meetings, notes, actions and the glossary.

Writes go through ``focusgroups.services``; these serializers only parse and validate shapes. Foreign ids are
``ScopedPrimaryKeyRelatedField``s, so an id from another programme is "does not exist" (400).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import F, Model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from coordinator.core.plans import Computed, Page, RelatedColumn, write_datetime
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
from organisations.access.api import ScopedPrimaryKeyRelatedField, full_name_from
from organisations.models import FORMER_MEMBER, Organisation, Person, Programme

# The order of a concept's comments in the glossary.
COMMENT_ORDER = ("created_at", "pk")


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
    plan_fields = {"convener_name": full_name_from("convener", absent="")}

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
    plan_fields = {
        "person_name": full_name_from("person", absent=""),
        "organisation_name": Computed(("organisation__name",), lambda values, page: values[0]),
    }

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
    # The list's plan (``coordinator.core.plans``): the minutes from the joined note's columns.
    plan_fields = {
        "decisions": RelatedColumn("decisions", "text"),
        "minutes": Computed(
            ("minutes_note__pk", "minutes_note__body"),
            lambda values, page: values[1] if values[0] is not None else "",
        ),
        "minutes_note": Computed(("minutes_note__pk",), lambda values, page: values[0]),
        "minutes_version": Computed(
            ("minutes_note__pk", "minutes_note__version"),
            lambda values, page: values[1] if values[0] is not None else None,
        ),
    }

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


def _can_edit(context: Mapping[str, object], group_id: object) -> bool:
    editable = context.get("editable_group_ids")
    return editable is not None and group_id in editable  # type: ignore[operator]


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
    plan_fields = {
        "updated_by_name": full_name_from("updated_by", absent=""),
        "can_edit": Computed(("group",), lambda values, page: _can_edit(page.context, values[0])),
    }

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
        return _can_edit(self.context, obj.group_id)

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
    plan_fields = {"owner_name": full_name_from("owner", absent="")}

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


_AUTHOR_NAME = full_name_from("author", absent="")


def comment_rows(concepts: list[tuple[object, ...]]) -> dict[object, list[tuple[object, ...]]]:
    """The comments of these concepts (one-tuples of their ids) as values, in the glossary's order."""
    by_concept: dict[object, list[tuple[object, ...]]] = {pk: [] for (pk,) in concepts}
    rows = (
        ConceptComment.objects.filter(concept_id__in=list(by_concept))
        .order_by(*COMMENT_ORDER)
        .values_list("concept", "pk", "body", "created_at", *_AUTHOR_NAME.columns)
    )
    for concept, *comment in rows:
        by_concept[concept].append(tuple(comment))
    return by_concept


def _comments(page: Page, concept: object) -> list[dict[str, object]]:
    # As ``CommentSerializer`` writes them.
    return [
        {
            "id": pk,
            "author": name[0],
            "author_name": _AUTHOR_NAME.write(tuple(name), page),
            "body": body,
            "created_at": write_datetime(created_at, page),
        }
        for pk, body, created_at, *name in page.prepared["comments"][concept]  # type: ignore[index]
    ]


class ConceptSerializer(StrictModelSerializer):
    programme = ScopedPrimaryKeyRelatedField(
        model=Programme, help_text=_("The programme (set on creation only).")
    )
    terms = TermSerializer(many=True, read_only=True)
    comments = CommentSerializer(many=True, read_only=True)
    # The list's plan: the comments of the page's concepts in one query of values (``comment_rows``).
    plan_fields = {
        "comments": Computed(
            ("pk",), lambda values, page: _comments(page, values[0]), lambda rows, context: comment_rows(rows)
        )
    }

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
