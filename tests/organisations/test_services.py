from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from organisations.models import Membership, Organisation, Participation, PlatformRole, RoleAssignment, Unit
from organisations.permissions import actor_for
from organisations.services import agencies, people, programmes
from tests.factories import UnitFactory, WorkRoleFactory


def test_funders_replace_rejects_duplicates(programme, programme_admin):
    with pytest.raises(ValidationError) as error:
        programmes.funders_replace(
            actor=actor_for(programme_admin.user),
            programme=programme,
            funders=[
                programmes.FunderShare("Malmö stad", Decimal("50")),
                programmes.FunderShare("malmö stad", Decimal("10")),
            ],
        )
    assert error.value.message_dict == {"funders": ["Each funder may appear only once."]}


def test_organisation_create_joins_the_programme(programme, programme_admin):
    organisation = agencies.organisation_create(
        actor=actor_for(programme_admin.user),
        programme=programme,
        name="Försäkringskassan",
        short_name="FK",
        kind="state_agency",
    )
    assert Participation.unscoped_objects.filter(programme=programme, organisation=organisation).count() == 1


def test_organisation_create_with_taken_name_is_a_field_error(programme, programme_admin, org_other):
    with pytest.raises(ValidationError) as error:
        agencies.organisation_create(
            actor=actor_for(programme_admin.user),
            programme=programme,
            name=org_other.name,
            short_name="X",
            kind="state_agency",
        )
    assert error.value.message_dict == {"name": ["An organisation with this name is already registered."]}
    assert Organisation.unscoped_objects.filter(name=org_other.name).count() == 1


def test_organisation_create_needs_programme_admin(programme, coordinator):
    with pytest.raises(PermissionDenied):
        agencies.organisation_create(
            actor=actor_for(coordinator.user), programme=programme, name="X", short_name="X", kind="ngo"
        )


def test_unit_cannot_be_part_of_itself(org_a, programme_admin, in_programme, programme):
    parent = UnitFactory(organisation=org_a, name="Region Syd")
    child = UnitFactory(organisation=org_a, name="Malmö", parent=parent)
    with in_programme(programme), pytest.raises(ValidationError) as error:
        agencies.unit_update(actor=actor_for(programme_admin.user), unit=parent, values={"parent": child})
    assert error.value.message_dict == {"parent": ["A unit cannot be part of itself."]}
    assert Unit.unscoped_objects.get(pk=parent.pk).parent_id is None


def test_unit_with_sub_units_cannot_be_removed(org_a, programme_admin, in_programme, programme):
    parent = UnitFactory(organisation=org_a, name="Region Syd")
    UnitFactory(organisation=org_a, name="Malmö", parent=parent)
    with in_programme(programme), pytest.raises(ValidationError):
        agencies.unit_delete(actor=actor_for(programme_admin.user), unit=parent)
    assert Unit.unscoped_objects.filter(pk=parent.pk).exists()


def test_membership_grant_by_organisation_admin_is_limited(programme, org_a, staff_a, member, in_programme):
    org_admin = member(programme, org_a, PlatformRole.ORGANISATION_ADMIN)
    actor = actor_for(org_admin.user)
    with in_programme(programme):
        people.membership_grant(
            actor=actor, programme=programme, person=staff_a, roles=["staff", "host_contact"]
        )
        with pytest.raises(PermissionDenied):
            people.membership_grant(actor=actor, programme=programme, person=staff_a, roles=["coordinator"])
    roles = RoleAssignment.unscoped_objects.filter(membership__person=staff_a).values_list("role", flat=True)
    assert sorted(roles) == ["host_contact", "staff"]


def test_membership_grant_checks_work_role_programme(
    programme, other_programme, programme_admin, staff_a, in_programme
):
    foreign_role = WorkRoleFactory(programme=other_programme)
    with in_programme(programme), pytest.raises(ValidationError) as error:
        people.membership_grant(
            actor=actor_for(programme_admin.user),
            programme=programme,
            person=staff_a,
            roles=["staff"],
            work_role=foreign_role,
        )
    assert error.value.message_dict == {"work_role": ["Choose a role at work from this programme's list."]}
    assert Membership.unscoped_objects.get(person=staff_a).work_role_id is None


def test_calendar_token_rotation_only_by_the_person(staff_a, staff_b):
    old = staff_a.calendar_token
    with pytest.raises(PermissionDenied):
        people.calendar_token_rotate(actor=actor_for(staff_b.user), person=staff_a)
    new = people.calendar_token_rotate(actor=actor_for(staff_a.user), person=staff_a)
    assert new != old and len(new) >= 40
