"""The admin's organisation pages refuse what ``organisations.services`` refuse, and leave read-only what
the services never change; a refusal is a form error (status 200, nothing saved), never a 500."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User

from organisations.models import (
    Funder,
    Membership,
    Organisation,
    Participation,
    Person,
    PlatformRole,
    RoleAssignment,
    Unit,
)
from tests.factories import FunderFactory, UnitFactory, WorkRoleFactory, make_member


def _post_data(page: Any, **changes: Any) -> dict[str, Any]:
    """What the change page would post back unchanged (main form and inlines), with ``changes`` on top."""
    data: dict[str, Any] = {"_save": "Save"}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({formset.add_prefix(k): v for k, v in formset.management_form.initial.items()})
        forms.extend(formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is True:
                data[form.add_prefix(name)] = "on"
            elif value not in (None, False):
                data[form.add_prefix(name)] = value
    data.update(changes)
    return data


def _change(client: Any, model: str, pk: int, **changes: Any) -> Any:
    url = f"/admin/organisations/{model}/{pk}/change/"
    return client.post(url, _post_data(client.get(url), **changes))


def _errors(response: Any) -> list[str]:
    assert response.status_code == 200, response.status_code
    adminform = response.context["adminform"]
    messages = [str(m) for errors in adminform.form.errors.values() for m in errors]
    for inline in response.context["inline_admin_formsets"]:
        messages += [str(m) for m in inline.formset.non_form_errors()]
        messages += [str(m) for form in inline.formset.forms for errs in form.errors.values() for m in errs]
    return messages


def test_admin_programme_admin_cannot_unlink_an_organisation_from_the_programme(
    web, programme_admin, programme, org_b
):
    participation = Participation.unscoped_objects.get(programme=programme, organisation=org_b)
    response = _change(web(programme_admin), "organisation", org_b.pk, **{"participations-0-DELETE": "on"})
    assert response.status_code == 302
    assert Participation.unscoped_objects.filter(pk=participation.pk).count() == 1


def test_admin_programme_admin_cannot_link_an_organisation_to_another_programme(
    web, programme_admin, programme, org_b, other_programme
):
    client = web(programme_admin)
    page = client.get(f"/admin/organisations/organisation/{org_b.pk}/change/")
    prefix = "participations"
    data = _post_data(page)
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": "2",
            f"{prefix}-1-programme": str(other_programme.pk),
            f"{prefix}-1-organisation": str(org_b.pk),
        }
    )
    client.post(f"/admin/organisations/organisation/{org_b.pk}/change/", data)
    assert list(
        Participation.unscoped_objects.filter(organisation=org_b).values_list("programme_id", flat=True)
    ) == [programme.pk]


def test_admin_organisation_name_with_a_line_break_is_refused(web, programme_admin, org_b):
    response = _change(web(programme_admin), "organisation", org_b.pk, name="Malmö\r\nstad")
    assert _errors(response) == ["Write this on one line, without control characters."]
    assert Organisation.unscoped_objects.get(pk=org_b.pk).name == "Malmö stad"


def test_admin_organisation_name_taken_in_another_programme_is_a_form_error(
    web, programme_admin, org_b, org_other
):
    response = _change(web(programme_admin), "organisation", org_b.pk, name="Jobcenter København")
    assert _errors(response) == ["Organisation with this Name already exists."]
    assert Organisation.unscoped_objects.get(pk=org_b.pk).name == "Malmö stad"


def test_admin_unit_cannot_be_moved_under_its_own_sub_unit(web, programme_admin, org_b, unit_b):
    child = UnitFactory(organisation=org_b, name="Rosengård norr", parent=unit_b)
    response = _change(web(programme_admin), "unit", unit_b.pk, parent=str(child.pk))
    assert _errors(response) == ["A unit cannot be part of itself."]
    assert Unit.unscoped_objects.get(pk=unit_b.pk).parent_id is None


def test_admin_unit_cannot_be_part_of_another_organisations_unit(web, programme_admin, unit_a, unit_b):
    response = _change(web(programme_admin), "unit", unit_b.pk, parent=str(unit_a.pk))
    assert _errors(response) == ["A unit can only be part of a unit of the same organisation."]


def test_admin_unit_keeps_its_organisation(web, programme_admin, org_a, unit_b):
    response = _change(web(programme_admin), "unit", unit_b.pk, organisation=str(org_a.pk))
    assert response.status_code == 302
    assert Unit.unscoped_objects.get(pk=unit_b.pk).organisation_id == unit_b.organisation_id


def test_admin_line_manager_circle_is_refused(web, programme_admin, programme, org_b, staff_b):
    manager = make_member(programme, org_b, PlatformRole.LINE_MANAGER, line_manager=staff_b)
    response = _change(web(programme_admin), "person", staff_b.pk, line_manager=str(manager.pk))
    assert _errors(response) == ["This would make a circle of line managers."]
    assert Person.unscoped_objects.get(pk=staff_b.pk).line_manager_id is None


def test_admin_line_manager_from_another_organisation_is_refused(web, programme_admin, staff_a, staff_b):
    response = _change(web(programme_admin), "person", staff_b.pk, line_manager=str(staff_a.pk))
    assert _errors(response) == ["The line manager must work in the same organisation."]


def test_admin_person_unit_of_another_organisation_is_refused(web, programme_admin, unit_a, staff_b):
    response = _change(web(programme_admin), "person", staff_b.pk, unit=str(unit_a.pk))
    assert _errors(response) == ["The unit must belong to the person's organisation."]
    assert Person.unscoped_objects.get(pk=staff_b.pk).unit_id == staff_b.unit_id


def test_admin_person_keeps_their_sign_in_and_organisation(web, programme_admin, org_a, staff_b):
    stranger = User.objects.create(username="obunden")
    response = _change(
        web(programme_admin), "person", staff_b.pk, user=str(stranger.pk), organisation=str(org_a.pk)
    )
    assert response.status_code == 302
    person = Person.unscoped_objects.get(pk=staff_b.pk)
    assert (person.user_id, person.organisation_id) == (staff_b.user_id, staff_b.organisation_id)


@pytest.mark.parametrize("model", ["organisation", "person"])
def test_admin_programme_admin_adds_organisations_and_people_on_the_pages_only(web, programme_admin, model):
    client = web(programme_admin)
    assert client.get(f"/admin/organisations/{model}/add/").status_code == 403


def test_admin_funders_over_one_hundred_percent_are_refused(web, programme_admin, programme):
    FunderFactory(programme=programme, name="Malmö stad", share_percent=Decimal("75"))
    response = _change(
        web(programme_admin),
        "programme",
        programme.pk,
        **{"funders-TOTAL_FORMS": "2", "funders-1-name": "Equal", "funders-1-share_percent": "30"},
    )
    assert _errors(response) == ["The funders' shares add up to 105 %; at most 100 % is possible."]
    assert list(Funder.unscoped_objects.filter(programme=programme).values_list("name", flat=True)) == [
        "Malmö stad"
    ]


def test_admin_programme_address_is_read_only_for_programme_admins(web, programme_admin, programme):
    response = _change(web(programme_admin), "programme", programme.pk, slug="annan")
    assert response.status_code == 302
    assert type(programme).unscoped_objects.get(pk=programme.pk).slug == "malmo"


def test_admin_membership_role_at_work_of_another_programme_is_refused(
    web, programme_admin, other_programme, staff_b
):
    foreign_role = WorkRoleFactory(programme=other_programme, code="raadgiver", name="Rådgiver")
    membership = Membership.unscoped_objects.get(person=staff_b)
    response = _change(web(programme_admin), "membership", membership.pk, work_role=str(foreign_role.pk))
    # The other programme's role is not even offered: the choice is refused before the service's rule.
    assert _errors(response) == ["Select a valid choice. That choice is not one of the available choices."]
    assert Membership.unscoped_objects.get(pk=membership.pk).work_role_id is None


def test_admin_membership_in_a_programme_the_organisation_is_not_in_is_refused(
    web, programme_admin, programme, other_programme, org_b, staff_b
):
    # An admin of both programmes; staff_b's organisation takes part in the first only.
    membership = Membership.unscoped_objects.create(programme=other_programme, person=programme_admin)
    RoleAssignment.unscoped_objects.create(membership=membership, role=PlatformRole.PROGRAMME_ADMIN)
    response = web(programme_admin).post(
        "/admin/organisations/membership/add/",
        {
            "programme": str(other_programme.pk),
            "person": str(staff_b.pk),
            "is_active": "on",
            "role_assignments-TOTAL_FORMS": "0",
            "role_assignments-INITIAL_FORMS": "0",
            "_save": "Save",
        },
    )
    assert _errors(response) == ["This organisation does not take part in the programme."]
    assert Membership.unscoped_objects.filter(programme=other_programme, person=staff_b).count() == 0
