from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coordinator.core.serializers import StrictModelSerializer, StrictSerializer
from organisations.access.api import ScopedPrimaryKeyRelatedField
from organisations.models import (
    UI_LANGUAGES,
    Funder,
    Organisation,
    Person,
    PlatformRole,
    Programme,
    Unit,
    WorkRole,
    validate_language_codes,
)
from organisations.permissions import can_see_contact_details


class FunderSerializer(StrictModelSerializer):
    class Meta:
        model = Funder
        fields = ["name", "share_percent"]
        # Uniqueness of names within the programme is checked by the service, over the whole list.
        validators: list[Any] = []


class ProgrammeSerializer(StrictModelSerializer):
    funders = FunderSerializer(many=True, required=False)
    my_roles = serializers.SerializerMethodField()

    class Meta:
        model = Programme
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "time_zone",
            "language",
            "coordinator_email",
            "funders",
            "my_roles",
        ]
        read_only_fields = ["slug"]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=PlatformRole.choices)))
    def get_my_roles(self, programme: Programme) -> list[str]:
        actor = self.context.get("actor")
        return sorted(actor.roles_in(programme)) if actor else []


class OrganisationSerializer(StrictModelSerializer):
    programmes = serializers.SerializerMethodField()
    programme = ScopedPrimaryKeyRelatedField(
        model=Programme,
        write_only=True,
        required=False,
        help_text="On creation: the programme the new organisation joins.",
    )

    class Meta:
        model = Organisation
        fields = ["id", "name", "short_name", "kind", "website", "programmes", "programme"]
        extra_kwargs: dict[str, Any] = {"name": {"validators": []}}

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_programmes(self, organisation: Organisation) -> list[int]:
        actor = self.context.get("actor")
        visible = actor.programme_ids if actor else frozenset()
        return sorted(p.programme_id for p in organisation.participations.all() if p.programme_id in visible)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and "programme" not in attrs:
            raise serializers.ValidationError({"programme": "This field is required."})
        if self.instance is not None and "programme" in attrs:
            raise serializers.ValidationError(
                {"programme": "An organisation's programmes cannot be changed here."}
            )
        return attrs


class UnitSerializer(StrictModelSerializer):
    organisation = ScopedPrimaryKeyRelatedField(model=Organisation)
    parent = ScopedPrimaryKeyRelatedField(model=Unit, required=False, allow_null=True)  # type: ignore[assignment]
    address = serializers.CharField(read_only=True)

    class Meta:
        model = Unit
        fields = [
            "id",
            "organisation",
            "parent",
            "name",
            "description",
            "street_address",
            "postal_code",
            "city",
            "address",
        ]
        validators: list[Any] = []  # uniqueness within the organisation is checked by the service

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            self.instance is not None
            and "organisation" in attrs
            and attrs["organisation"] != self.instance.organisation
        ):
            raise serializers.ValidationError({"organisation": "A unit cannot move to another organisation."})
        return attrs


class WorkRoleSerializer(StrictModelSerializer):
    class Meta:
        model = WorkRole
        fields = ["id", "programme", "code", "name"]


class OrganisationBriefSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Organisation
        fields = ["id", "name", "short_name", "kind"]


class ProgrammeMembershipSerializer(serializers.Serializer):  # type: ignore[type-arg]
    programme = serializers.IntegerField()
    work_role = serializers.IntegerField(allow_null=True)
    work_role_name = serializers.CharField(allow_null=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=PlatformRole.choices))


CONTACT_FIELDS = ("email", "phone", "line_manager", "line_manager_name", "languages")


class PersonSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A person as another member sees them; contact details only where the viewer may see them."""

    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
    full_name = serializers.CharField(read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    organisation = OrganisationBriefSerializer(read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True, default=None, allow_null=True)
    line_manager_name = serializers.CharField(
        source="line_manager.full_name", read_only=True, default=None, allow_null=True
    )
    programmes = serializers.SerializerMethodField()
    # Left out where the reader may not see them (documented as optional in the API schema).
    omitted_for_some_readers = CONTACT_FIELDS + ("preferred_language",)

    class Meta:
        model = Person
        fields = [
            "id",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "phone",
            "organisation",
            "unit",
            "unit_name",
            "job_title",
            "line_manager",
            "line_manager_name",
            "languages",
            "preferred_language",
            "programmes",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgrammeMembershipSerializer(many=True))
    def get_programmes(self, person: Person) -> list[dict[str, Any]]:
        actor = self.context.get("actor")
        visible = actor.programme_ids if actor else frozenset()
        return [
            {
                "programme": m.programme_id,
                "work_role": m.work_role_id,
                "work_role_name": m.work_role.name if m.work_role else None,
                "roles": sorted(ra.role for ra in m.role_assignments.all()),
            }
            for m in person.memberships.all()
            if m.programme_id in visible and m.is_active
        ]

    def to_representation(self, person: Person) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(person)
        actor = self.context.get("actor")
        if actor is None or not can_see_contact_details(actor, person):
            for name in self.omitted_for_some_readers:
                data.pop(name, None)
        return data


class PersonUpdateSerializer(StrictSerializer):
    """The fields of a profile that can be changed; who may change which is decided by the service."""

    unit = ScopedPrimaryKeyRelatedField(model=Unit, required=False, allow_null=True)
    line_manager = ScopedPrimaryKeyRelatedField(model=Person, required=False, allow_null=True)
    job_title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    languages = serializers.ListField(
        child=serializers.CharField(max_length=3),
        max_length=20,
        required=False,
        validators=[validate_language_codes],
    )
    preferred_language = serializers.ChoiceField(choices=UI_LANGUAGES + [("", "")], required=False)


class PersonCreateSerializer(PersonUpdateSerializer):
    programme = ScopedPrimaryKeyRelatedField(model=Programme)
    organisation = ScopedPrimaryKeyRelatedField(model=Organisation)  # type: ignore[assignment]
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    work_role = ScopedPrimaryKeyRelatedField(model=WorkRole, required=False, allow_null=True)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=PlatformRole.choices), required=False, max_length=8
    )


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField()
