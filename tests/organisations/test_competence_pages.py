"""Competence pages: who sees a person's gaps (the person, their line manager, the coordinators; nobody
else), who sees the gap tables and what they show, the downloads, the admins' forms and my page."""

from __future__ import annotations

import io
import re

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from openpyxl import load_workbook

from organisations.models import Competence, CompetenceConfirmation, CompetenceSource, ProfileCompetence
from organisations.models import PlatformRole as R
from tests.factories import WorkRoleFactory, make_member
from tests.organisations import competence_data

pytestmark = pytest.mark.django_db

LACKING = "Hur Arbetsförmedlingen arbetar"


@pytest.fixture
def data(programme, org_a, org_b):
    return competence_data.build(programme, org_a, org_b)


@pytest.fixture
def viewers(data, programme, org_a, org_b, coordinator, programme_admin, outsider):
    b = data.secretaries
    return {
        "self": (b[0], 200),
        "line manager": (data.manager_b, 200),
        "coordinator": (coordinator, 200),
        "programme admin": (programme_admin, 200),
        "organisation admin": (make_member(programme, org_b, R.ORGANISATION_ADMIN, R.STAFF), 404),
        "colleague": (b[1], 404),
        "another line manager": (make_member(programme, org_b, R.LINE_MANAGER, R.STAFF), 404),
        "other organisation": (data.case_officers[0], 404),
        "other programme": (outsider, 404),
    }


@pytest.mark.parametrize(
    "who",
    [
        "self",
        "line manager",
        "coordinator",
        "programme admin",
        "organisation admin",
        "colleague",
        "another line manager",
        "other organisation",
        "other programme",
    ],
)
def test_a_persons_gaps_are_seen_by_them_their_manager_and_coordinators_only(web, data, viewers, who):
    viewer, expected = viewers[who]
    response = web(viewer).get(reverse("organisations:person-competences", args=[data.secretaries[0].pk]))
    assert response.status_code == expected
    content = response.content.decode()
    assert (LACKING in content) is (expected == 200)
    assert ("Lacking" in content) is (expected == 200)


def test_my_page_shows_my_gaps_and_how_to_close_them(web, data):
    response = web(data.secretaries[0]).get(reverse("my-page"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "My competences" in content
    assert LACKING in content
    assert "Member of the focus group: Informationsflödet" in content
    assert reverse("focusgroups:group", args=[data.group.pk]) in content


def test_line_manager_confirms_a_competence_gained_elsewhere_on_the_audit_trail(web, data):
    subject = data.secretaries[0]
    response = web(data.manager_b).post(
        reverse("organisations:person-competences", args=[subject.pk]),
        {"competence": data.job_centre.id, "gained_on": "2026-01-15", "note": "Tre år på Arbetsförmedlingen"},
    )
    assert response.status_code == 302
    confirmation = CompetenceConfirmation.unscoped_objects.get(person=subject)
    assert (str(confirmation.gained_on), confirmation.note, confirmation.confirmed_by_id) == (
        "2026-01-15",
        "Tre år på Arbetsförmedlingen",
        data.manager_b.pk,
    )
    entry = LogEntry.objects.get_for_object(confirmation).get()
    assert entry.actor_id == data.manager_b.user_id
    assert entry.changes_dict["note"] == ["None", "Tre år på Arbetsförmedlingen"]


def test_only_the_line_manager_may_confirm(web, data, coordinator):
    response = web(coordinator).post(
        reverse("organisations:person-competences", args=[data.secretaries[0].pk]),
        {"competence": data.job_centre.id, "gained_on": "2026-01-15"},
    )
    assert response.status_code == 403
    assert CompetenceConfirmation.unscoped_objects.filter(person=data.secretaries[0]).count() == 0


def test_confirmation_in_the_future_or_of_another_programmes_competence_is_a_form_error(
    web, data, other_programme
):
    foreign = Competence.unscoped_objects.create(programme=other_programme, name="Främmande")
    url = reverse("organisations:person-competences", args=[data.secretaries[0].pk])
    future = web(data.manager_b).post(url, {"competence": data.job_centre.id, "gained_on": "2099-01-01"})
    other = web(data.manager_b).post(url, {"competence": foreign.pk, "gained_on": "2026-01-01"})
    assert (future.status_code, other.status_code) == (400, 400)
    assert "Give a day that has passed." in future.content.decode()
    assert CompetenceConfirmation.unscoped_objects.filter(person=data.secretaries[0]).count() == 0


def test_coordinator_reads_the_gap_table_with_its_heat_map(web, data, coordinator):
    response = web(coordinator).get(reverse("organisations:competence-gaps"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "3 of 5 (60 %)" in content
    assert "5 of 6 (83 %)" in content
    assert "<svg" in content
    assert "<caption>People lacking each competence" in content


def test_small_groups_are_not_on_the_page_or_in_the_download(web, data, coordinator):
    competence_data.small_organisation(data.programme, data)
    client = web(coordinator)
    content = client.get(reverse("organisations:competence-gaps")).content.decode()
    csv = client.get(reverse("organisations:competence-gaps") + "?format=csv").content.decode("utf-8-sig")
    assert "2 of 2" not in content and "3 of 5" not in content and "3 of 6" not in content
    assert "13 of 13" not in content
    assert "8 of 13 (62 %)" in content
    assert "Region Skåne;Asylprocessen;;;" in csv
    assert "Malmö stad;Asylprocessen;;;" in csv


@pytest.mark.parametrize(
    ("who", "query", "expected"),
    [
        ("coordinator", "", 200),
        ("organisation admin of A", "", 200),
        ("organisation admin of A", "organisation=B", 403),
        ("organisation admin of A", "organisation=A", 200),
        ("line manager", "", 200),
        ("staff", "", 403),
        ("coordinator", "organisation=999999", 404),
        ("coordinator", "organisation=x", 404),
    ],
)
def test_who_reads_the_gap_tables(web, data, coordinator, programme, org_a, who, query, expected):
    people = {
        "coordinator": coordinator,
        "organisation admin of A": make_member(programme, org_a, R.ORGANISATION_ADMIN),
        "line manager": data.manager_b,
        "staff": data.secretaries[1],
    }
    query = query.replace("=A", f"={data.org_a.pk}").replace("=B", f"={data.org_b.pk}")
    response = web(people[who]).get(reverse("organisations:competence-gaps") + (f"?{query}" if query else ""))
    assert response.status_code == expected


def test_line_manager_without_programme_view_sees_their_organisation_by_unit(web, data):
    content = web(data.manager_b).get(reverse("organisations:competence-gaps")).content.decode()
    assert "Competence gaps: Malmö stad" in content
    assert "Rosengård" in content
    assert "Migrationsverket" not in content


def test_gap_downloads_open_in_swedish_excel(web, data, coordinator):
    client = web(coordinator)
    csv = client.get(reverse("organisations:competence-gaps") + "?format=csv")
    xlsx = client.get(reverse("organisations:competence-gaps") + "?format=xlsx")
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv.content.startswith(b"\xef\xbb\xbf")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Organisation;Competence;People asked;Lacking;Share lacking (%)"
    assert "Malmö stad;Asylprocessen;5;3;60" in lines
    assert "All;Traumamedvetet samtal;6;5;83" in lines
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert ["Migrationsverket", "Traumamedvetet samtal", 6, 5, 83] in rows


def test_team_page_lists_the_managers_people(web, data):
    content = web(data.manager_b).get(reverse("organisations:team-competences")).content.decode()
    assert content.count("<strong>Lacks</strong>") == 6
    assert data.secretaries[4].full_name in content
    assert data.case_officers[0].full_name not in content


def test_programme_admin_defines_a_competence_and_a_profile(web, data, programme, programme_admin):
    work_role = WorkRoleFactory(programme=programme, code="counsellor", name="Kurator")
    client = web(programme_admin)
    response = client.post(
        reverse("organisations:competence-create"),
        {
            "name": "Kartläggningsmetodik",
            "description": "En gemensam syn på kartläggning och handlingsplan.",
            "manager_sign_off": "on",
            "source_course": [str(data.course_trauma.pk)],
            "source_agency_kind": ["employment_service"],
        },
    )
    assert response.status_code == 302
    competence = Competence.unscoped_objects.get(name="Kartläggningsmetodik")
    assert sorted(
        CompetenceSource.unscoped_objects.filter(competence=competence).values_list("kind", "value")
    ) == [
        ("agency_kind", "employment_service"),
        ("course", str(data.course_trauma.pk)),
    ]
    response = client.post(
        reverse("organisations:role-profile", args=[work_role.pk]),
        {f"c{competence.pk}": "professional", f"c{data.asylum.id}": "basic"},
    )
    assert response.status_code == 302
    assert sorted(
        ProfileCompetence.unscoped_objects.filter(work_role=work_role).values_list(
            "competence__name", "level"
        )
    ) == [("Asylprocessen", "basic"), ("Kartläggningsmetodik", "professional")]


def test_competence_form_refuses_a_foreign_course_and_a_taken_name(
    web, data, programme_admin, other_programme
):
    from tests.factories.seminars import CourseFactory

    foreign = CourseFactory(programme=other_programme, title="Dansk kursus")
    client = web(programme_admin)
    foreign_course = client.post(
        reverse("organisations:competence-create"), {"name": "Ny", "source_course": [str(foreign.pk)]}
    )
    taken = client.post(reverse("organisations:competence-create"), {"name": "Asylprocessen"})
    assert (foreign_course.status_code, taken.status_code) == (400, 400)
    assert "The programme already has a competence with this name." in taken.content.decode()
    assert Competence.unscoped_objects.filter(programme=data.programme).count() == 3


def test_competence_pages_are_for_programme_admins(web, data, coordinator):
    assert web(coordinator).get(reverse("organisations:competences")).status_code == 403
    assert web(coordinator).get(reverse("organisations:competence-create")).status_code == 403


def test_programme_admin_turns_on_the_matchers_gap_setting(web, data, programme_admin):
    from organisations.models import Programme

    assert Programme.unscoped_objects.get(pk=data.programme.pk).matching_closes_gaps is False
    response = web(programme_admin).post(reverse("organisations:competences"), {"matching_closes_gaps": "on"})
    assert response.status_code == 302
    assert Programme.unscoped_objects.get(pk=data.programme.pk).matching_closes_gaps is True


def test_removing_a_competence_takes_it_out_of_profiles_and_is_audited(web, data, programme_admin):
    response = web(programme_admin).post(reverse("organisations:competence-delete", args=[data.trauma.id]))
    assert response.status_code == 302
    assert not Competence.unscoped_objects.filter(pk=data.trauma.id).exists()
    assert not ProfileCompetence.unscoped_objects.filter(competence_id=data.trauma.id).exists()
    assert (
        LogEntry.objects.filter(
            content_type__model="competence", object_pk=str(data.trauma.id), action=LogEntry.Action.DELETE
        ).count()
        == 1
    )


def test_another_programmes_competence_answers_404(web, data, programme_admin, other_programme):
    foreign = Competence.unscoped_objects.create(programme=other_programme, name="Dansk")
    client = web(programme_admin)
    assert client.get(reverse("organisations:competence-edit", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("organisations:competence-delete", args=[foreign.pk])).status_code == 404
    assert Competence.unscoped_objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize("extra", [0, 3])
def test_gap_page_costs_a_fixed_number_of_queries(web, data, coordinator, extra, django_assert_num_queries):
    for _ in range(extra):
        make_member(data.programme, data.org_a, R.STAFF, work_role=None)
    if extra:
        competence_data.small_organisation(data.programme, data)
    client = web(coordinator)
    client.get(reverse("organisations:competence-gaps"))  # the session and the actor are warm
    with django_assert_num_queries(12):
        response = client.get(reverse("organisations:competence-gaps"))
    assert response.status_code == 200


def test_person_page_and_team_cost_a_fixed_number_of_queries(web, data, django_assert_num_queries):
    client = web(data.manager_b)
    url = reverse("organisations:person-competences", args=[data.secretaries[0].pk])
    client.get(url)
    # The line manager's confirmations are read once for the profile (gained and confirmed alike).
    with django_assert_num_queries(15):
        assert client.get(url).status_code == 200
    client.get(reverse("organisations:team-competences"))
    with django_assert_num_queries(10):
        assert client.get(reverse("organisations:team-competences")).status_code == 200


def test_my_page_reads_the_profile_with_the_role_from_the_actor_and_the_confirmations_once(
    web, data, django_assert_num_queries
):
    confirmed = data.secretaries[3]  # b4: their line manager confirmed how the job centre works
    client = web(confirmed)
    client.get(reverse("my-page"))

    # Session, user, the identity (with the role's name); the person's stamp with the line manager (the
    # history kept under it); the profile: the competences with their sources (1), the role's profile,
    # the evidence of the three kinds in use and the confirmations (the membership and the role's name are
    # the actor's, the confirmations are read once), the names of the sources (2) and what is open now for
    # what is lacking (2).
    with django_assert_num_queries(14):
        response = client.get(reverse("my-page"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Profile of the role at work: Introduktionssekreterare." in content
    assert content.count("(confirmed by a line manager)") == 1
    assert content.count("<strong>Lacking</strong>") == 1


def _row_headings(content: str) -> list[str]:
    return re.findall(r'<tr><th scope="row">(.*?)</th>', content)


def _choices(content: str) -> list[str]:
    return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', content)


def test_coordinator_opens_every_organisation_by_unit(web, data, coordinator):
    client = web(coordinator)
    content = client.get(reverse("organisations:competence-gaps")).content.decode()
    assert _row_headings(content) == [
        f'<a href="?organisation={data.org_b.pk}">Malmö stad</a>',
        f'<a href="?organisation={data.org_a.pk}">Migrationsverket</a>',
        "All",
    ]
    assert _choices(content) == ["Malmö stad", "Migrationsverket"]


def test_organisation_admin_is_linked_to_their_own_organisation_only(web, data, programme, org_a):
    client = web(make_member(programme, org_a, R.ORGANISATION_ADMIN))
    content = client.get(reverse("organisations:competence-gaps")).content.decode()
    assert _row_headings(content) == [
        "Malmö stad",
        f'<a href="?organisation={data.org_a.pk}">Migrationsverket</a>',
        "All",
    ]
    assert _choices(content) == ["Migrationsverket"]
    own = client.get(reverse("organisations:competence-gaps") + f"?organisation={data.org_a.pk}")
    assert own.status_code == 200
    assert (
        f'<a href="{reverse("organisations:competence-gaps")}">All organisations</a>' in own.content.decode()
    )
