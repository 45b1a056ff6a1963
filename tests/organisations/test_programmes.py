"""Programme lifecycle: starting a programme, archiving it, roles at work; agencies shared between
programmes and their invitations; the line-manager check on creation."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from coordinator.core.models import Notification
from focusgroups.models import FocusGroup
from organisations.models import (
    Organisation,
    Participation,
    ParticipationInvitation,
    Person,
    PlatformRole,
    Programme,
    Unit,
    WorkRole,
)
from tests.factories import OrganisationFactory, UnitFactory, make_member

R = PlatformRole
API = "/api/v1"


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def operator(db) -> User:
    """A platform administrator: holds Django's ``organisations.add_programme`` permission."""
    user = User.objects.create_user("plattform", "plattform@samverkan.example")
    user.user_permissions.add(Permission.objects.get(codename="add_programme"))
    return user


def _new_programme(**changes) -> dict:
    body = {
        "name": "Kompetenceløft Aarhus",
        "slug": "aarhus",
        "language": "da",
        "time_zone": "Europe/Copenhagen",
        "coordinator_email": "koordinator@aarhus.example",
        "first_admin": {
            "username": "mette.holm",
            "email": "mette.holm@aarhus.example",
            "first_name": "Mette",
            "last_name": "Holm",
            "new_organisation": {"name": "Aarhus Kommune", "short_name": "AAK", "kind": "municipality"},
        },
    }
    body.update(changes)
    return body


# --- Starting a programme -------------------------------------------------------------------------------


def test_platform_admin_starts_a_programme_with_defaults_in_its_language(operator):
    response = client_for(operator).post(f"{API}/programmes/", _new_programme(), format="json")

    assert response.status_code == 201, response.content
    programme = Programme.unscoped_objects.get(slug="aarhus")
    assert response.json()["id"] == programme.pk
    assert (programme.coordinator_email, programme.archived_at, programme.own_rule) == (
        "koordinator@aarhus.example",
        None,
        "organisation",
    )
    assert sorted(FocusGroup.unscoped_objects.filter(programme=programme).values_list("name", flat=True)) == [
        "Informationsflowet",
        "Kortlægningsmetodik",
        "Målgruppekendskab",
        "Organisationskendskab",
        "Samarbejde/samvirke",
        "Sundhedsperspektivet/empowerment",
    ]
    roles = dict(WorkRole.unscoped_objects.filter(programme=programme).values_list("code", "name"))
    assert (len(roles), roles["case_officer"], roles["manager"]) == (10, "Sagsbehandler", "Leder")
    admin = Person.unscoped_objects.get(user__username="mette.holm")
    assert admin.organisation.name == "Aarhus Kommune"
    assert Participation.unscoped_objects.filter(
        programme=programme, organisation=admin.organisation
    ).exists()
    me = client_for(admin.user).get(f"{API}/programmes/{programme.pk}/").json()
    assert me["my_roles"] == ["organisation_admin", "programme_admin", "staff"]


def test_only_platform_admins_start_programmes(programme_admin, api):
    response = api(programme_admin).post(f"{API}/programmes/", _new_programme(), format="json")
    assert (response.status_code, response.json()) == (
        403,
        {"detail": "Only platform administrators may start programmes."},
    )
    assert not Programme.unscoped_objects.filter(slug="aarhus").exists()
    assert not User.objects.filter(username="mette.holm").exists()


def test_programme_start_refuses_bad_input_and_saves_nothing(operator, programme):
    client = client_for(operator)
    taken = client.post(f"{API}/programmes/", _new_programme(slug=programme.slug), format="json")
    no_mailbox = client.post(f"{API}/programmes/", _new_programme(coordinator_email=""), format="json")
    bad_zone = client.post(f"{API}/programmes/", _new_programme(time_zone="Mars/Olympus"), format="json")
    unknown = client.post(f"{API}/programmes/", _new_programme(colour="red"), format="json")

    assert (taken.status_code, taken.json()) == (400, {"slug": ["This short name is taken; choose another."]})
    assert no_mailbox.status_code == 400 and list(no_mailbox.json()) == ["coordinator_email"]
    assert bad_zone.status_code == 400 and list(bad_zone.json()) == ["time_zone"]
    assert unknown.status_code == 400
    assert Programme.unscoped_objects.count() == 1
    assert not User.objects.filter(username="mette.holm").exists()


def test_first_admin_from_an_existing_agency_does_not_reveal_its_programmes(operator, programme, org_a):
    response = client_for(operator).post(
        f"{API}/programmes/",
        _new_programme(
            first_admin={
                "username": "ny.admin",
                "email": "ny.admin@migrationsverket.example",
                "first_name": "Ny",
                "last_name": "Admin",
                "organisation": org_a.pk,
            }
        ),
        format="json",
    )
    assert response.status_code == 201, response.content
    new = Programme.unscoped_objects.get(slug="aarhus")
    assert sorted(
        Participation.unscoped_objects.filter(organisation=org_a).values_list("programme", flat=True)
    ) == [
        programme.pk,
        new.pk,
    ]


# --- Archiving ------------------------------------------------------------------------------------------


def test_archived_programme_refuses_writes_with_a_message_and_stays_readable(
    api, programme, programme_admin, coordinator, work_role, org_a
):
    assert api(programme_admin).post(f"{API}/programmes/{programme.pk}/archive/").status_code == 200

    rename = api(programme_admin).patch(f"{API}/work-roles/{work_role.pk}/", {"name": "X"}, format="json")
    topic = api(coordinator).post(
        f"{API}/shadowing/topics/", {"programme": programme.pk, "name": "Asyl"}, format="json"
    )
    settings = api(programme_admin).patch(f"{API}/programmes/{programme.pk}/", {"name": "Y"}, format="json")
    again = api(programme_admin).post(f"{API}/programmes/{programme.pk}/archive/")

    archived = "This programme is archived: it can be read and exported, but not changed."
    assert (rename.status_code, rename.json()) == (409, [archived])
    assert (topic.status_code, topic.json()) == (409, [archived])
    assert (settings.status_code, settings.json()) == (409, [archived])
    assert (again.status_code, again.json()) == (409, ["This programme is already archived."])
    assert WorkRole.unscoped_objects.get(pk=work_role.pk).name == "Handläggare"
    read = api(coordinator).get(f"{API}/work-roles/{work_role.pk}/")
    assert (read.status_code, read.json()["name"]) == (200, "Handläggare")
    assert api(programme_admin).get(f"{API}/programmes/{programme.pk}/").json()["archived_at"] is not None


def test_archived_programme_pages_refuse_posts_and_say_why(web, programme, programme_admin):
    Programme.unscoped_objects.filter(pk=programme.pk).update(archived_at="2026-01-01T00:00:00Z")
    page = web(programme_admin).get("/organisations/work-roles/")
    post = web(programme_admin).post("/organisations/work-roles/", {"code": "x", "name": "X"})

    assert page.status_code == 200
    assert "This programme is archived" in page.content.decode()
    assert post.status_code == 409
    assert not WorkRole.unscoped_objects.filter(code="x").exists()


def test_staff_cannot_archive_and_other_programmes_answer_404(api, programme, staff_a, outsider):
    assert api(staff_a).post(f"{API}/programmes/{programme.pk}/archive/").status_code == 403
    assert api(outsider).post(f"{API}/programmes/{programme.pk}/archive/").status_code == 404
    assert Programme.unscoped_objects.get(pk=programme.pk).archived_at is None


# --- Roles at work --------------------------------------------------------------------------------------


def test_programme_admin_manages_roles_at_work_and_others_cannot(
    api, programme, other_programme, programme_admin, coordinator, outsider, work_role
):
    created = api(programme_admin).post(
        f"{API}/work-roles/",
        {"programme": programme.pk, "code": "nurse", "name": "Sjuksköterska"},
        format="json",
    )
    duplicate = api(programme_admin).post(
        f"{API}/work-roles/", {"programme": programme.pk, "code": "nurse", "name": "Annan"}, format="json"
    )
    by_coordinator = api(coordinator).post(
        f"{API}/work-roles/", {"programme": programme.pk, "code": "x", "name": "X"}, format="json"
    )
    foreign = api(outsider).post(
        f"{API}/work-roles/", {"programme": programme.pk, "code": "y", "name": "Y"}, format="json"
    )

    assert created.status_code == 201
    assert created.json() == {
        "id": created.json()["id"],
        "programme": programme.pk,
        "code": "nurse",
        "name": "Sjuksköterska",
    }
    assert (duplicate.status_code, duplicate.json()) == (
        400,
        {"code": ["The programme already has a role at work with this code."]},
    )
    assert by_coordinator.status_code == 403
    assert (foreign.status_code, list(foreign.json())) == (400, ["programme"])
    assert (
        api(outsider).patch(f"{API}/work-roles/{work_role.pk}/", {"name": "Z"}, format="json").status_code
        == 404
    )


def test_a_role_at_work_someone_holds_is_not_removed(
    api, programme, programme_admin, member, org_a, work_role
):
    member(programme, org_a, R.STAFF, work_role=work_role)
    response = api(programme_admin).delete(f"{API}/work-roles/{work_role.pk}/")
    assert (response.status_code, response.json()) == (
        409,
        ["Members of the programme hold this role at work; give them another first."],
    )
    assert WorkRole.unscoped_objects.filter(pk=work_role.pk).exists()


# --- Agencies shared between programmes -----------------------------------------------------------------


@pytest.fixture
def shared(programme, other_programme):
    """Röda korset takes part in both programmes; a unit made for each programme's work."""
    agency = OrganisationFactory(name="Röda korset", short_name="RK", programmes=[programme, other_programme])
    return {
        "agency": agency,
        "ours": UnitFactory(organisation=agency, name="Malmökretsen", created_in=programme),
        "theirs": UnitFactory(organisation=agency, name="Københavnskredsen", created_in=other_programme),
    }


def test_no_programme_admin_edits_a_shared_agency_or_another_programmes_units(
    api, programme_admin, outsider, shared
):
    rename = api(programme_admin).patch(
        f"{API}/organisations/{shared['agency'].pk}/", {"name": "Röda Korset Sverige"}, format="json"
    )
    theirs = api(outsider).patch(f"{API}/units/{shared['ours'].pk}/", {"name": "Omdöpt"}, format="json")
    delete_theirs = api(outsider).delete(f"{API}/units/{shared['ours'].pk}/")
    ours = api(programme_admin).patch(f"{API}/units/{shared['ours'].pk}/", {"city": "Malmö"}, format="json")

    assert (rename.status_code, rename.json()) == (403, {"detail": "You may not change this organisation."})
    assert (theirs.status_code, delete_theirs.status_code) == (403, 403)
    assert ours.status_code == 200
    assert Organisation.unscoped_objects.get(pk=shared["agency"].pk).name == "Röda korset"
    assert Unit.unscoped_objects.get(pk=shared["ours"].pk).name == "Malmökretsen"


def test_the_agencys_own_admin_edits_it(api, programme, shared):
    own_admin = make_member(programme, shared["agency"], R.ORGANISATION_ADMIN, R.STAFF)
    response = api(own_admin).patch(
        f"{API}/units/{shared['theirs'].pk}/", {"name": "Københavns kreds"}, format="json"
    )
    assert response.status_code == 200
    assert Unit.unscoped_objects.get(pk=shared["theirs"].pk).name == "Københavns kreds"


def test_shared_agency_shows_no_other_programme_in_the_api(api, programme, programme_admin, shared):
    body = api(programme_admin).get(f"{API}/organisations/{shared['agency'].pk}/").json()
    units = api(programme_admin).get(f"{API}/units/", {"organisation": shared["agency"].pk}).json()["results"]
    assert body["programmes"] == [programme.pk]
    assert sorted((u["name"], u["created_in"]) for u in units) == [
        ("Københavnskredsen", None),
        ("Malmökretsen", programme.pk),
    ]


def test_creating_an_agency_by_a_taken_name_says_the_same_wherever_it_takes_part(
    api, programme, programme_admin, org_other
):
    response = api(programme_admin).post(
        f"{API}/organisations/",
        {"programme": programme.pk, "name": org_other.name, "short_name": "JC", "kind": "municipality"},
        format="json",
    )
    assert (response.status_code, response.json()) == (
        400,
        {"name": ["An organisation with this name is already registered."]},
    )


def test_agency_directory_lists_names_only_for_programme_admins(
    api, programme, programme_admin, staff_a, org_other, org_a
):
    found = api(programme_admin).get(
        f"{API}/programmes/{programme.pk}/agency-directory/", {"search": "Jobcenter"}
    )
    refused = api(staff_a).get(f"{API}/programmes/{programme.pk}/agency-directory/")
    assert found.status_code == 200
    assert found.json()["results"] == [
        {"id": org_other.pk, "name": "Jobcenter København", "short_name": "JC", "kind": "municipality"}
    ]
    assert refused.status_code == 403
    # Agencies already taking part are not offered again.
    mine = api(programme_admin).get(
        f"{API}/programmes/{programme.pk}/agency-directory/", {"search": org_a.name}
    )
    assert mine.json()["results"] == []


def test_invited_agency_joins_when_its_own_admin_accepts(
    api, programme, other_programme, programme_admin, org_other, outsider
):
    agency_admin = make_member(other_programme, org_other, R.ORGANISATION_ADMIN, R.STAFF)
    invited = api(programme_admin).post(
        f"{API}/programmes/{programme.pk}/invitations/",
        {"organisation": org_other.pk, "message": "Välkomna!"},
        format="json",
    )
    assert invited.status_code == 201, invited.content
    invitation_id = invited.json()["id"]
    assert list(
        Notification.unscoped_objects.filter(recipient=agency_admin).values_list("title", flat=True)
    ) == [f"{programme.name} invites Jobcenter København to take part"]

    # Another programme's admin (not the agency's) cannot answer it; the agency's admin sees and accepts it.
    listed = api(agency_admin).get(f"{API}/organisations/{org_other.pk}/invitations/")
    assert [(i["id"], i["programme_name"], i["status"]) for i in listed.json()] == [
        (invitation_id, programme.name, "pending")
    ]
    not_theirs = api(outsider).post(f"{API}/organisations/{org_other.pk}/invitations/{invitation_id}/accept/")
    assert not_theirs.status_code == 403
    accepted = api(agency_admin).post(
        f"{API}/organisations/{org_other.pk}/invitations/{invitation_id}/accept/"
    )
    twice = api(agency_admin).post(f"{API}/organisations/{org_other.pk}/invitations/{invitation_id}/accept/")

    assert (accepted.status_code, accepted.json()["status"]) == (200, "accepted")
    assert (twice.status_code, twice.json()) == (
        409,
        ["This invitation has already been answered or withdrawn."],
    )
    assert Participation.unscoped_objects.filter(programme=programme, organisation=org_other).exists()
    assert ParticipationInvitation.unscoped_objects.get(pk=invitation_id).answered_by == agency_admin


def test_invitations_of_a_programme_are_not_shown_to_other_programmes(
    api, programme, other_programme, programme_admin, outsider, org_other
):
    api(programme_admin).post(
        f"{API}/programmes/{programme.pk}/invitations/", {"organisation": org_other.pk}, format="json"
    )
    assert api(outsider).get(f"{API}/programmes/{programme.pk}/invitations/").status_code == 404
    # The outsider is a programme admin of the other programme, not the agency's admin.
    assert api(outsider).get(f"{API}/organisations/{org_other.pk}/invitations/").status_code == 403


# --- People ---------------------------------------------------------------------------------------------


def test_person_created_with_a_line_manager_who_has_none(api, programme, programme_admin, org_a):
    manager = make_member(programme, org_a, R.STAFF, R.LINE_MANAGER)
    assert manager.line_manager_id is None
    response = api(programme_admin).post(
        f"{API}/people/",
        {
            "programme": programme.pk,
            "organisation": org_a.pk,
            "username": "ny.person",
            "email": "ny.person@migrationsverket.example",
            "first_name": "Ny",
            "last_name": "Person",
            "line_manager": manager.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["line_manager"] == manager.pk
