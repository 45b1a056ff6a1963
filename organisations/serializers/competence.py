"""The competence API's serializers: competences with their sources, role profiles, confirmations, the gap
table and a person's or a team's profile."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from coordinator.core.serializers import StrictModelSerializer, StrictSerializer
from organisations.access.api import ScopedPrimaryKeyRelatedField
from organisations.models import Competence, CompetenceConfirmation, Person, ProfileLevel, Programme


class CompetenceSourceSerializer(StrictSerializer):
    kind = serializers.CharField(max_length=40, help_text=_("course, agency_kind or focus_group"))
    value = serializers.CharField(
        max_length=60, help_text=_("A course id, an agency kind, a focus group id.")
    )


class CompetenceSerializer(StrictModelSerializer):
    programme = ScopedPrimaryKeyRelatedField(model=Programme)
    sources = CompetenceSourceSerializer(many=True, required=False, max_length=50)  # type: ignore[call-arg]

    class Meta:
        model = Competence
        fields = ["id", "programme", "name", "description", "manager_sign_off", "sources"]
        validators: list[object] = []  # uniqueness within the programme is checked by the service

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if (
            self.instance is not None
            and "programme" in attrs
            and attrs["programme"] != self.instance.programme
        ):
            raise serializers.ValidationError(
                {"programme": _("A competence cannot move to another programme.")}
            )
        return attrs


class ProfileEntrySerializer(StrictSerializer):
    competence = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    level = serializers.ChoiceField(choices=ProfileLevel.choices)


class RoleProfileSerializer(StrictSerializer):
    """A role at work's profile: its competences, each basic or professional."""

    work_role = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    competences = ProfileEntrySerializer(many=True, max_length=500)  # type: ignore[call-arg]


class CompetenceConfirmationSerializer(StrictModelSerializer):
    person = ScopedPrimaryKeyRelatedField(model=Person)
    competence = ScopedPrimaryKeyRelatedField(model=Competence)
    confirmed_by = serializers.IntegerField(source="confirmed_by_id", read_only=True, allow_null=True)

    class Meta:
        model = CompetenceConfirmation
        fields = [
            "id",
            "programme",
            "person",
            "competence",
            "gained_on",
            "note",
            "confirmed_by",
            "confirmed_at",
        ]
        read_only_fields = ["programme", "confirmed_by", "confirmed_at"]
        validators: list[object] = []


class GapCellSerializer(serializers.Serializer):  # type: ignore[type-arg]
    competence = serializers.IntegerField()
    hidden = serializers.BooleanField(help_text=_("A group under five people, or one a total would reveal."))
    asked = serializers.IntegerField(allow_null=True, help_text=_("People whose profile asks for it."))
    lacking = serializers.IntegerField(allow_null=True)
    share = serializers.IntegerField(allow_null=True, help_text=_("Share lacking, whole per cent."))


class GapRowSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
    cells = GapCellSerializer(many=True)
    total = GapCellSerializer()


class NamedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()


class GapTableSerializer(serializers.Serializer):  # type: ignore[type-arg]
    min_group = serializers.IntegerField()
    row_heading = serializers.CharField()
    competences = NamedSerializer(many=True)
    rows = GapRowSerializer(many=True)
    totals = GapCellSerializer(many=True)


class ProfileLineSerializer(serializers.Serializer):  # type: ignore[type-arg]
    competence = NamedSerializer()
    level = serializers.CharField(help_text=_("basic, professional, or empty (gained, not in the profile)"))
    has = serializers.BooleanField()
    gained_on = serializers.DateField(allow_null=True)
    confirmed = serializers.BooleanField()
    ways = serializers.ListField(child=serializers.CharField())
    suggestions = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class PersonProfileSerializer(serializers.Serializer):  # type: ignore[type-arg]
    person = serializers.IntegerField()
    work_role = serializers.CharField()
    lines = ProfileLineSerializer(many=True)


class TeamPersonSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
    marks = serializers.ListField(
        child=serializers.ChoiceField(choices=["has", "lacks", ""]),
        help_text=_("Per competence, in the order of competences: has, lacks, or empty (not asked for)."),
    )


class TeamSerializer(serializers.Serializer):  # type: ignore[type-arg]
    competences = NamedSerializer(many=True)
    people = TeamPersonSerializer(many=True)
