from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coordinator.core.aggregates import split_joined
from coordinator.core.plans import Computed
from coordinator.core.serializers import ModelSerializer, StrictModelSerializer, StrictSerializer
from organisations import selectors
from organisations.access.api import ScopedPrimaryKeyRelatedField, full_name_from
from organisations.models import (
    UI_LANGUAGES,
    Funder,
    IdentityProvider,
    Invitation,
    Organisation,
    OrganisationKind,
    Participation,
    ParticipationInvitation,
    Person,
    PlatformRole,
    Programme,
    Unit,
    WorkRole,
    validate_language_codes,
)
from organisations.permissions import can_see_contact_details, memberships_of
from organisations.selectors import people_plan


class FunderSerializer(StrictModelSerializer):
    class Meta:
        model = Funder
        fields = ["name", "share_percent"]
        # Uniqueness of names within the programme is checked by the service, over the whole list.
        validators: list[Any] = []


class ProgrammeSerializer(StrictModelSerializer):
    funders = FunderSerializer(many=True, required=False)
    my_roles = serializers.SerializerMethodField()
    # The list's plan (``coordinator.core.plans``): the reader's roles from the row's id; the funders of the
    # page's programmes in one query, each written by the funder serializer's own fields.
    plan_fields = {
        "funders": Computed(
            ("pk",),
            lambda values, page: page.prepared["funders"][values[0]],  # type: ignore[index]
            lambda rows, context: _funders_written(row[0] for row in rows),  # type: ignore[misc]
        ),
        "my_roles": Computed(("pk",), lambda values, page: _my_roles(page.context, values[0])),
    }

    class Meta:
        model = Programme
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "time_zone",
            "country",
            "language",
            "coordinator_email",
            "own_rule",
            "matching_closes_gaps",
            "visit_day_cost",
            "archived_at",
            "funders",
            "my_roles",
        ]
        read_only_fields = ["slug", "archived_at"]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=PlatformRole.choices)))
    def get_my_roles(self, programme: Programme) -> list[str]:
        return _my_roles(self.context, programme.pk)


def _funders_written(programme_ids: Iterable[int]) -> dict[int, list[dict[str, object]]]:
    share = _funder_share()
    return {
        programme_id: [{"name": name, "share_percent": share(value)} for name, value in funders]
        for programme_id, funders in selectors.funder_rows(programme_ids).items()
    }


@functools.cache
def _funder_share() -> Callable[[object], object]:
    # The serializer's own field (its digits and places), built once.
    return FunderSerializer().fields["share_percent"].to_representation  # type: ignore[no-any-return]


def _my_roles(context: Mapping[str, object], programme_id: object) -> list[str]:
    actor = context.get("actor")
    return sorted(actor.roles_in(programme_id)) if actor else []  # type: ignore[attr-defined]


class NewOrganisationSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    short_name = serializers.CharField(max_length=40)
    kind = serializers.ChoiceField(choices=OrganisationKind.choices)


class FirstAdminSerializer(StrictSerializer):
    """The programme's first admin: an existing person by username, or a new person of an organisation
    already on the platform (``organisation``, an id from the agency directory) or of a new one."""

    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    email = serializers.EmailField(max_length=254, required=False, default="")
    first_name = serializers.CharField(max_length=150, required=False, default="")
    last_name = serializers.CharField(max_length=150, required=False, default="")
    organisation = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    new_organisation = NewOrganisationSerializer(required=False)


class ProgrammeCreateSerializer(StrictModelSerializer):
    first_admin = FirstAdminSerializer()

    class Meta:
        model = Programme
        fields = [
            "name",
            "slug",
            "description",
            "time_zone",
            "language",
            "coordinator_email",
            "own_rule",
            "first_admin",
        ]
        extra_kwargs: dict[str, dict[str, object]] = {
            "slug": {"validators": []},
            "coordinator_email": {"required": True},
        }


class AgencySerializer(ModelSerializer):
    """An agency as the platform's directory shows it: never the programmes it takes part in."""

    class Meta:
        model = Organisation
        fields = ["id", "name", "short_name", "kind"]
        read_only_fields = fields


class ParticipationInvitationSerializer(ModelSerializer):
    programme_name = serializers.CharField(source="programme.name", read_only=True)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = ParticipationInvitation
        fields = [
            "id",
            "programme",
            "programme_name",
            "organisation",
            "organisation_name",
            "status",
            "message",
            "created_at",
            "answered_at",
        ]
        read_only_fields = fields


class InviteAgencySerializer(StrictSerializer):
    organisation = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="An agency's id from the directory."
    )
    message = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


@functools.cache
def _participation_programme_cell() -> int:
    # Where the programme sits in a participation's JSON row (``Rows.columns``: the model's field order).
    shown = [
        column.attname for column in Participation._meta.concrete_fields if column.name in ("id", "programme")
    ]
    return shown.index("programme_id")


def _visible_participations(context: Mapping[str, object], cells: list[list[object]] | None) -> list[int]:
    # As ``get_programmes``: the programmes of the reader's among the organisation's, by id.
    actor = context.get("actor")
    visible = actor.programme_ids if actor else frozenset()  # type: ignore[attr-defined]
    position = _participation_programme_cell()
    return sorted(row[position] for row in cells or () if row[position] in visible)  # type: ignore[misc]


class OrganisationSerializer(StrictModelSerializer):
    programmes = serializers.SerializerMethodField()
    programme = ScopedPrimaryKeyRelatedField(
        model=Programme,
        write_only=True,
        required=False,
        help_text="On creation: the programme the new organisation joins.",
    )

    # The list's plan (``coordinator.core.plans``): the programmes from the participations read with the row.
    plan_fields = {
        "programmes": Computed(
            ("_rows_participations",),
            lambda values, page: _visible_participations(page.context, values[0]),  # type: ignore[arg-type]
        )
    }

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


def _visible_programme(context: Mapping[str, object], programme_id: object) -> object:
    """``programme_id`` when it is one of the reader's programmes, else ``None``."""
    actor = context.get("actor")
    visible = actor.programme_ids if actor else frozenset()  # type: ignore[attr-defined]
    return programme_id if programme_id in visible else None


class UnitSerializer(StrictModelSerializer):
    organisation = ScopedPrimaryKeyRelatedField(model=Organisation)
    programme = ScopedPrimaryKeyRelatedField(
        model=Programme,
        write_only=True,
        required=False,
        help_text="On creation by a programme's admins: the programme whose work the unit is for.",
    )
    created_in = serializers.SerializerMethodField()
    parent = ScopedPrimaryKeyRelatedField(model=Unit, required=False, allow_null=True)  # type: ignore[assignment]
    address = serializers.CharField(read_only=True)
    # The list's plan (``coordinator.core.plans``): the address and the programme from their columns.
    plan_fields = {
        "address": Computed(
            ("street_address", "postal_code", "city"),
            lambda values, page: Unit.address_of(*values),  # type: ignore[arg-type]
        ),
        "created_in": Computed(
            ("created_in",), lambda values, page: _visible_programme(page.context, values[0])
        ),
    }

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
            "programme",
            "created_in",
        ]
        validators: list[Any] = []  # uniqueness within the organisation is checked by the service

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_created_in(self, unit: Unit) -> int | None:
        """The programme the unit was created for, when it is one the reader belongs to."""
        return _visible_programme(self.context, unit.created_in_id)  # type: ignore[return-value]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            self.instance is not None
            and "organisation" in attrs
            and attrs["organisation"] != self.instance.organisation
        ):
            raise serializers.ValidationError({"organisation": "A unit cannot move to another organisation."})
        if self.instance is not None and "programme" in attrs:
            raise serializers.ValidationError({"programme": "A unit's programme is set on creation only."})
        return attrs


class WorkRoleSerializer(StrictModelSerializer):
    programme = ScopedPrimaryKeyRelatedField(model=Programme)

    class Meta:
        model = WorkRole
        fields = ["id", "programme", "code", "name"]
        validators: list[object] = []  # uniqueness within the programme is checked by the service

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if (
            self.instance is not None
            and "programme" in attrs
            and attrs["programme"] != self.instance.programme
        ):
            raise serializers.ValidationError(
                {"programme": "A role at work cannot move to another programme."}
            )
        return attrs


class OrganisationBriefSerializer(ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "short_name", "kind"]


class ProgrammeMembershipSerializer(serializers.Serializer):  # type: ignore[type-arg]
    programme = serializers.IntegerField()
    work_role = serializers.IntegerField(allow_null=True)
    work_role_name = serializers.CharField(allow_null=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=PlatformRole.choices))


class PersonSerializer(ModelSerializer):
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
    omitted_for_some_readers = people_plan.CONTACT_FIELDS_AND_LANGUAGE
    # The list's plan (``coordinator.core.plans``): the names from their columns, the memberships of the
    # page's people in one query of values, and the contact fields left out as ``to_representation`` does.
    plan_fields = {
        "full_name": full_name_from(""),
        "line_manager_name": full_name_from("line_manager", absent=None),
        "programmes": Computed(("pk",), people_plan.programmes, people_plan.page_memberships),
    }
    plan_omit = Computed(("pk", "organisation"), people_plan.omitted)

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
                "roles": (
                    split_joined(m.role_names)
                    if hasattr(m, "role_names")
                    else sorted(ra.role for ra in m.role_assignments.all())
                ),
            }
            for m in memberships_of(person)
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
    invite = serializers.BooleanField(
        required=False, default=False, help_text="Send the person an invitation to set their password."
    )


def _invitation_state(status: str, expires_at: datetime) -> str:
    if status == Invitation.Status.PENDING and expires_at <= timezone.now():
        return "expired"
    return str(status)


class InvitationSerializer(StrictModelSerializer):
    state = serializers.SerializerMethodField(
        help_text="pending, expired, accepted, revoked (withdrawn) or replaced (a newer one was sent)"
    )
    # The list's plan (``coordinator.core.plans``): the state from the row's status and expiry, at the time
    # each page is written (the page's SQL holds no time).
    plan_fields = {
        "state": Computed(
            ("status", "expires_at"),
            lambda values, page: _invitation_state(*values),  # type: ignore[arg-type]
        )
    }

    class Meta:
        model = Invitation
        fields = [
            "id",
            "programme",
            "person",
            "invited_by",
            "state",
            "created_at",
            "expires_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ChoiceField(choices=["pending", "expired", "accepted", "revoked", "replaced"])
    )
    def get_state(self, invitation: Invitation) -> str:
        return _invitation_state(invitation.status, invitation.expires_at)


class InvitationCreateSerializer(StrictSerializer):
    programme = ScopedPrimaryKeyRelatedField(model=Programme)
    person = ScopedPrimaryKeyRelatedField(model=Person)


class MembershipEndSerializer(StrictSerializer):
    programme = ScopedPrimaryKeyRelatedField(model=Programme)


class IdentityProviderSerializer(StrictModelSerializer):
    """An organisation's OpenID Connect provider. The client secret is written, never read back."""

    client_secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=2000, trim_whitespace=False
    )
    has_client_secret = serializers.SerializerMethodField()
    email_domains = serializers.ListField(
        child=serializers.CharField(max_length=253), max_length=20, required=False
    )
    redirect_uri = serializers.SerializerMethodField(
        help_text="The address to register at the provider as this client's redirect URI."
    )

    class Meta:
        model = IdentityProvider
        fields = [
            "issuer",
            "client_id",
            "client_secret",
            "has_client_secret",
            "email_domains",
            "is_enabled",
            "redirect_uri",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    def get_has_client_secret(self, provider: IdentityProvider) -> bool:
        return bool(provider.client_secret_encrypted)

    def get_redirect_uri(self, provider: IdentityProvider) -> str:
        return f"{settings.SITE_URL}{reverse('sso-callback')}"


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField()


class PersonEraseSerializer(StrictSerializer):
    """A programme admin's erasure of a person, in one of the admin's programmes."""

    programme = ScopedPrimaryKeyRelatedField(model=Programme)
    confirm = serializers.BooleanField()

    def validate_confirm(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(_("Set confirm to true to erase the person's data."))
        return value


class ErasureOutcomeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    outcome = serializers.ChoiceField(choices=["erased", "withdrawn"])
    programmes = serializers.ListField(child=serializers.IntegerField())
