"""Pages of the programme lifecycle: platform administrators start and archive programmes; programme
admins change settings and roles at work, invite agencies and follow the onboarding checklist; an agency's
own admins answer invitations."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from organisations.models import Participation, ParticipationInvitation, PlatformRole, Programme, WorkRole
from tests.factories import WorkRoleFactory, make_member

R = PlatformRole


@pytest.fixture
def operator_web(db) -> Client:
    user = User.objects.create_superuser("operator", "operator@samverkan.example", "x-unused-x")
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_platform_admin_starts_a_programme_on_its_page(operator_web, org_a):
    assert operator_web.get("/organisations/platform/programmes/new/").status_code == 200
    response = operator_web.post(
        "/organisations/platform/programmes/new/",
        {
            "name": "Kompetenslyft Lund",
            "slug": "lund",
            "language": "sv",
            "time_zone": "Europe/Stockholm",
            "coordinator_email": "samordnare@lund.example",
            "own_rule": "organisation",
            "admin_username": "lena.ek",
            "admin_email": "lena.ek@migrationsverket.example",
            "admin_first_name": "Lena",
            "admin_last_name": "Ek",
            "admin_organisation": org_a.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    programme = Programme.unscoped_objects.get(slug="lund")
    assert Participation.unscoped_objects.filter(programme=programme, organisation=org_a).exists()
    listing = operator_web.get("/organisations/platform/programmes/").content.decode()
    assert "Kompetenslyft Lund" in listing


def test_platform_pages_are_for_platform_admins_only(web, programme_admin, programme):
    assert web(programme_admin).get("/organisations/platform/programmes/").status_code == 403
    assert web(None).get("/organisations/platform/programmes/").status_code == 302
    refused = web(programme_admin).post(
        "/organisations/platform/programmes/", {"programme": programme.pk, "action": "archive"}
    )
    assert refused.status_code == 403
    assert Programme.unscoped_objects.get(pk=programme.pk).archived_at is None


def test_platform_admin_archives_and_restores(operator_web, programme):
    operator_web.post("/organisations/platform/programmes/", {"programme": programme.pk, "action": "archive"})
    assert Programme.unscoped_objects.get(pk=programme.pk).archived_at is not None
    operator_web.post("/organisations/platform/programmes/", {"programme": programme.pk, "action": "restore"})
    assert Programme.unscoped_objects.get(pk=programme.pk).archived_at is None


def test_programme_admin_changes_settings_and_archives(web, programme, programme_admin, staff_a):
    client = web(programme_admin)
    page = client.get("/organisations/programme/")
    assert page.status_code == 200
    saved = client.post(
        "/organisations/programme/",
        {
            "name": programme.name,
            "description": "",
            "language": "sv",
            "time_zone": "Europe/Stockholm",
            "coordinator_email": "samordnare@malmo.example",
            "own_rule": "unit",
        },
    )
    assert saved.status_code == 302
    assert Programme.unscoped_objects.get(pk=programme.pk).own_rule == "unit"
    assert web(staff_a).get("/organisations/programme/").status_code == 403
    assert client.post("/organisations/programme/archive/").status_code == 302
    assert Programme.unscoped_objects.get(pk=programme.pk).archived_at is not None
    archived_page = client.get("/organisations/programme/").content.decode()
    assert 'href="/organisations/programme/archive/"' not in archived_page


def test_work_roles_page_adds_renames_and_refuses_duplicates(web, programme, programme_admin, work_role):
    client = web(programme_admin)
    added = client.post("/organisations/work-roles/", {"code": "nurse", "name": "Sjuksköterska"})
    duplicate = client.post("/organisations/work-roles/", {"code": "nurse", "name": "Annan"})
    renamed = client.post(
        f"/organisations/work-roles/{work_role.pk}/", {"code": "case_officer", "name": "Utredare"}
    )

    assert added.status_code == 302
    assert duplicate.status_code == 400
    assert "The programme already has a role at work with this code." in duplicate.content.decode()
    assert renamed.status_code == 302
    assert sorted(WorkRole.unscoped_objects.filter(programme=programme).values_list("name", flat=True)) == [
        "Sjuksköterska",
        "Utredare",
    ]


@pytest.mark.parametrize("count", [1, 3])
def test_work_roles_page_query_count(count, web, programme, programme_admin, django_assert_num_queries):
    for n in range(count):
        WorkRoleFactory(programme=programme, code=f"role_{n}", name=f"Roll {n}")
    client = web(programme_admin)
    with django_assert_num_queries(5):
        assert client.get("/organisations/work-roles/").status_code == 200


def test_invite_and_accept_through_the_pages(web, programme, other_programme, programme_admin, org_other):
    agency_admin = make_member(other_programme, org_other, R.ORGANISATION_ADMIN, R.STAFF)
    found = web(programme_admin).get("/organisations/invite/", {"search": "Jobcenter"}).content.decode()
    assert "Jobcenter København" in found
    web(programme_admin).post("/organisations/invite/", {"organisation": org_other.pk})
    invitation = ParticipationInvitation.unscoped_objects.get()

    page = web(agency_admin).get("/organisations/invitations/").content.decode()
    assert programme.name in page
    response = web(agency_admin).post(
        "/organisations/invitations/", {"invitation": invitation.pk, "answer": "accept"}
    )
    assert response.status_code == 302
    assert Participation.unscoped_objects.filter(programme=programme, organisation=org_other).exists()


def test_invitations_page_is_for_the_agencys_admins(web, staff_a):
    assert web(staff_a).get("/organisations/invitations/").status_code == 403


def test_onboarding_checklist_links_each_step(web, programme, programme_admin, staff_a):
    page = web(programme_admin).get("/organisations/programme/checklist/")
    assert page.status_code == 200
    steps = [(str(s.label), s.done, s.url) for s in page.context["steps"]]
    assert steps == [
        ("Agencies taking part", True, "/organisations/invite/"),
        ("Units of the agencies", True, "/organisations/"),
        ("Roles at work", False, "/organisations/work-roles/"),
        ("People registered and signed in", False, "/organisations/"),
        ("Focus groups staffed", False, "/focusgroups/"),
        ("A first course", False, "/seminars/manage/courses/new/"),
        ("A first workplace open for shadowing", False, "/shadowing/"),
    ]
    assert web(staff_a).get("/organisations/programme/checklist/").status_code == 403


def test_organisation_list_links_to_inviting_and_answering(web, programme, programme_admin, org_a, staff_a):
    own_admin = make_member(programme, org_a, R.ORGANISATION_ADMIN, R.STAFF)
    as_admin = web(programme_admin).get("/organisations/").content.decode()
    as_agency_admin = web(own_admin).get("/organisations/").content.decode()
    as_staff = web(staff_a).get("/organisations/").content.decode()
    assert 'href="/organisations/invite/"' in as_admin
    assert 'href="/organisations/invitations/"' in as_agency_admin
    assert 'href="/organisations/invite/"' not in as_staff
    assert 'href="/organisations/invitations/"' not in as_staff
