"""Adding one person on a page: the programme's admins and the organisation's own admins register a member
of staff in the programme and, by default, invite them; nobody else may, and bad input saves nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from coordinator.core.models import OutboundEmail
from organisations.models import Invitation, Membership, Person, PlatformRole, RoleAssignment
from organisations.services.invitations import INVITATION_KIND

pytestmark = [pytest.mark.django_db]
R = PlatformRole


def url(organisation):
    return reverse("organisations:person-create", args=[organisation.pk])


def body(**changes):
    return {
        "first_name": "Anna",
        "last_name": "Berg",
        "email": "anna.berg@mv.example",
        "username": "anna.berg",
        "job_title": "Handläggare",
        "roles": ["staff", "host_contact"],
        "invite": "on",
        **changes,
    }


def test_programme_admin_adds_and_invites_a_person(
    web, programme, org_a, unit_a, staff_a, programme_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = web(programme_admin).post(
            url(org_a), body(unit=unit_a.pk, line_manager=staff_a.pk), follow=True
        )
    assert response.redirect_chain[-1][0] == reverse("organisations:detail", args=[org_a.pk])
    assert "Anna Berg was added and invited to sign in." in response.content.decode()
    person = Person.unscoped_objects.select_related("user").get(user__username="anna.berg")
    assert (person.organisation, person.unit, person.line_manager, person.job_title) == (
        org_a,
        unit_a,
        staff_a,
        "Handläggare",
    )
    membership = Membership.unscoped_objects.get(person=person, programme=programme)
    roles = RoleAssignment.unscoped_objects.filter(membership=membership).values_list("role", flat=True)
    assert sorted(roles) == ["host_contact", "staff"]
    assert Invitation.unscoped_objects.filter(person=person, status=Invitation.Status.PENDING).count() == 1
    assert OutboundEmail.unscoped_objects.filter(recipient=person, kind=INVITATION_KIND).count() == 1


def test_without_the_invitation_box_nobody_is_mailed(
    web, org_a, programme_admin, django_capture_on_commit_callbacks
):
    data = body()
    del data["invite"]
    with django_capture_on_commit_callbacks(execute=True):
        response = web(programme_admin).post(url(org_a), data)
    assert response.status_code == 302
    person = Person.unscoped_objects.get(user__username="anna.berg")
    assert not Invitation.unscoped_objects.filter(person=person).exists()
    assert not OutboundEmail.unscoped_objects.filter(recipient=person).exists()


def test_only_admins_add_people_and_only_to_their_own_organisation(
    web, programme, org_a, org_b, member, staff_a
):
    admin_of_b = member(programme, org_b, R.ORGANISATION_ADMIN, R.STAFF)
    assert web(staff_a).get(url(org_a)).status_code == 403
    assert web(admin_of_b).get(url(org_a)).status_code == 403
    assert web(admin_of_b).post(url(org_a), body()).status_code == 403
    assert web(admin_of_b).get(url(org_b)).status_code == 200
    assert not User.objects.filter(username="anna.berg").exists()


def test_another_programmes_organisation_is_not_found(web, org_other, programme_admin):
    assert web(programme_admin).get(url(org_other)).status_code == 404
    assert web(programme_admin).post(url(org_other), body()).status_code == 404
    assert not User.objects.filter(username="anna.berg").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": "taken.name"}, "This username is taken."),
        ({"email": "not an address"}, "Enter a valid email address."),
        ({"first_name": "Anna\nBerg"}, "Write this on one line, without control characters."),
        ({"line_manager": "999999"}, "Select a valid choice."),
        ({"roles": ["emperor"]}, "Select a valid choice."),
    ],
)
def test_bad_input_is_a_form_error_and_saves_nothing(
    web, org_a, org_b, programme_admin, member, programme, changes, field
):
    member(programme, org_a, R.STAFF, user__username="taken.name")
    users = User.objects.count()
    response = web(programme_admin).post(url(org_a), body(**changes))
    assert response.status_code == 400
    assert field in response.content.decode()
    assert User.objects.count() == users


def test_a_line_manager_of_another_organisation_is_not_offered(web, org_a, staff_b, programme_admin):
    response = web(programme_admin).post(url(org_a), body(line_manager=staff_b.pk))
    assert response.status_code == 400
    assert not User.objects.filter(username="anna.berg").exists()
