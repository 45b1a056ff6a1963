"""``/api/v1/competence/``: competences, profiles, confirmations, a person's profile, a team and the gap
table; refusals of bad input, rights per role and isolation between programmes."""

from __future__ import annotations

import pytest

from organisations.models import Competence, CompetenceConfirmation, ProfileCompetence
from organisations.models import PlatformRole as R
from tests.factories import make_member
from tests.factories.seminars import CourseFactory
from tests.organisations import competence_data

pytestmark = pytest.mark.django_db
BASE = "/api/v1/competence/"


@pytest.fixture
def data(programme, org_a, org_b):
    return competence_data.build(programme, org_a, org_b)


def test_gap_table_as_json(api, data, coordinator):
    response = api(coordinator).get(f"{BASE}gaps/", {"programme": data.programme.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["min_group"] == 5
    assert [c["name"] for c in body["competences"]] == [
        "Asylprocessen",
        "Hur Arbetsförmedlingen arbetar",
        "Traumamedvetet samtal",
    ]
    malmo = next(row for row in body["rows"] if row["name"] == "Malmö stad")
    assert malmo["cells"][0] == {
        "competence": data.asylum.id,
        "hidden": False,
        "asked": 5,
        "lacking": 3,
        "share": 60,
    }
    assert body["totals"][2] == {
        "competence": data.trauma.id,
        "hidden": False,
        "asked": 6,
        "lacking": 5,
        "share": 83,
    }


def test_gap_table_hides_small_groups(api, data, coordinator):
    competence_data.small_organisation(data.programme, data)
    body = api(coordinator).get(f"{BASE}gaps/", {"programme": data.programme.pk}).json()
    region = next(row for row in body["rows"] if row["name"] == "Region Skåne")
    assert region["cells"][0] == {
        "competence": data.asylum.id,
        "hidden": True,
        "asked": None,
        "lacking": None,
        "share": None,
    }
    assert region["total"]["hidden"] is True


def test_gap_table_csv(api, data, coordinator):
    response = api(coordinator).get(f"{BASE}gaps/", {"programme": data.programme.pk, "format": "csv"})
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert "Migrationsverket;Traumamedvetet samtal;6;5;83" in response.content.decode("utf-8-sig")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"format": "pdf"}, 400),
        ({"organisation": "abc"}, 400),
        ({"organisation": "99999999999999999999999"}, 400),
        ({"organisation": "999999"}, 400),
    ],
)
def test_gap_table_refuses_bad_input(api, data, coordinator, params, expected):
    response = api(coordinator).get(f"{BASE}gaps/", {"programme": data.programme.pk, **params})
    assert response.status_code == expected


def test_gap_table_rights(api, data, outsider, org_other):
    staff = api(data.secretaries[1]).get(f"{BASE}gaps/", {"programme": data.programme.pk})
    foreign = api(outsider).get(f"{BASE}gaps/", {"programme": data.programme.pk})
    foreign_org = api(outsider).get(f"{BASE}gaps/", {"organisation": data.org_a.pk})
    anonymous = api(None).get(f"{BASE}gaps/", {"programme": data.programme.pk})
    assert (staff.status_code, foreign.status_code, foreign_org.status_code) == (403, 400, 400)
    assert anonymous.status_code in (401, 403)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("self", 200),
        ("manager", 200),
        ("coordinator", 200),
        ("org admin", 404),
        ("colleague", 404),
        ("outsider", 400),
    ],
)
def test_person_profile_rights(api, data, coordinator, outsider, programme, org_b, who, expected):
    people = {
        "self": data.secretaries[0],
        "manager": data.manager_b,
        "coordinator": coordinator,
        "org admin": make_member(programme, org_b, R.ORGANISATION_ADMIN),
        "colleague": data.secretaries[1],
        "outsider": outsider,
    }
    response = api(people[who]).get(
        f"{BASE}people/{data.secretaries[0].pk}/", {"programme": data.programme.pk}
    )
    assert response.status_code == expected
    if expected == 200:
        lines = response.json()["lines"]
        assert [(x["competence"]["name"], x["has"], x["gained_on"]) for x in lines] == [
            ("Asylprocessen", True, "2026-03-06"),
            ("Hur Arbetsförmedlingen arbetar", False, None),
        ]
    else:
        assert "Arbetsförmedlingen" not in response.content.decode()


def test_team(api, data):
    body = api(data.manager_b).get(f"{BASE}team/", {"programme": data.programme.pk}).json()
    assert [p["marks"] for p in body["people"]][0:1] != []
    assert sorted(sum(p["marks"].count("lacks") for p in body["people"]) for _ in [0]) == [6]
    assert api(data.secretaries[0]).get(f"{BASE}team/", {"programme": data.programme.pk}).status_code == 403


def test_programme_admin_creates_a_competence_with_sources(api, data, programme_admin):
    response = api(programme_admin).post(
        f"{BASE}competences/",
        {
            "programme": data.programme.pk,
            "name": "Kartläggningsmetodik",
            "description": "Fyra heldagar.",
            "sources": [
                {"kind": "course", "value": str(data.course_trauma.pk)},
                {"kind": "agency_kind", "value": "employment_service"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["sources"] == [
        {"kind": "agency_kind", "value": "employment_service"},
        {"kind": "course", "value": str(data.course_trauma.pk)},
    ]
    assert body["manager_sign_off"] is True


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "x" * 201},
        {"name": "Två\nrader"},
        {"name": "Asylprocessen"},
        {"name": "Ny", "sources": [{"kind": "unknown", "value": "1"}]},
        {"name": "Ny", "sources": [{"kind": "course", "value": "FOREIGN"}]},
        {"name": "Ny", "sources": [{"kind": "agency_kind", "value": "army"}]},
        {"name": "Ny", "sources": "course"},
        {"name": "Ny", "colour": "red"},
        {"name": "Ny", "description": "x" * 2001},
        {"name": ["Ny"]},
    ],
)
def test_competence_bad_input_is_a_400_and_saves_nothing(
    api, data, programme_admin, other_programme, payload
):
    foreign = CourseFactory(programme=other_programme, title="Dansk kursus")
    if "sources" in payload and isinstance(payload["sources"], list):
        payload["sources"] = [
            {**s, "value": str(foreign.pk) if s["value"] == "FOREIGN" else s["value"]}
            for s in payload["sources"]
        ]
    response = api(programme_admin).post(
        f"{BASE}competences/", {"programme": data.programme.pk, **payload}, format="json"
    )
    assert response.status_code == 400
    assert Competence.unscoped_objects.filter(programme=data.programme).count() == 3


def test_competences_are_isolated_between_programmes(api, data, outsider, other_programme):
    Competence.unscoped_objects.create(programme=other_programme, name="Dansk kompetence")
    ours = api(outsider).get(f"{BASE}competences/").json()
    assert [c["name"] for c in ours["results"]] == ["Dansk kompetence"]
    assert api(outsider).get(f"{BASE}competences/{data.asylum.id}/").status_code == 404
    assert api(outsider).delete(f"{BASE}competences/{data.asylum.id}/").status_code == 404
    created = api(outsider).post(
        f"{BASE}competences/", {"programme": data.programme.pk, "name": "Intrång"}, format="json"
    )
    assert created.status_code == 400


def test_staff_may_not_define_competences(api, data):
    response = api(data.secretaries[0]).post(
        f"{BASE}competences/", {"programme": data.programme.pk, "name": "Ny"}, format="json"
    )
    assert response.status_code == 403


def test_profile_is_set_whole(api, data, programme_admin, other_programme):
    role = ProfileCompetence.unscoped_objects.filter(competence=data.trauma).get().work_role
    url = f"{BASE}profiles/{role.pk}/"
    response = api(programme_admin).put(
        url, {"competences": [{"competence": data.job_centre.id, "level": "professional"}]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {
        "work_role": role.pk,
        "name": "Handläggare",
        "competences": [{"competence": data.job_centre.id, "level": "professional"}],
    }
    foreign = Competence.unscoped_objects.create(programme=other_programme, name="Dansk")
    for bad in (
        {"competences": [{"competence": foreign.pk, "level": "basic"}]},
        {"competences": [{"competence": data.asylum.id, "level": "expert"}]},
        {"competences": [{"competence": data.asylum.id, "level": "basic"}] * 2},
        {"competences": "all"},
    ):
        assert api(programme_admin).put(url, bad, format="json").status_code == 400
    assert list(
        ProfileCompetence.unscoped_objects.filter(work_role=role).values_list("competence_id", "level")
    ) == [(data.job_centre.id, "professional")]


def test_line_manager_confirms_through_the_api(api, data, coordinator):
    subject = data.secretaries[0]
    payload = {
        "person": subject.pk,
        "competence": data.job_centre.id,
        "gained_on": "2026-02-01",
        "note": "Praktik",
    }
    refused = api(coordinator).post(
        f"{BASE}confirmations/?programme={data.programme.pk}", payload, format="json"
    )
    response = api(data.manager_b).post(
        f"{BASE}confirmations/?programme={data.programme.pk}", payload, format="json"
    )
    future = api(data.manager_b).post(
        f"{BASE}confirmations/?programme={data.programme.pk}",
        {**payload, "gained_on": "2999-01-01"},
        format="json",
    )
    assert (refused.status_code, response.status_code, future.status_code) == (403, 201, 400)
    assert response.json()["confirmed_by"] == data.manager_b.pk
    assert CompetenceConfirmation.unscoped_objects.get(person=subject).note == "Praktik"
    mine = api(subject).get(f"{BASE}confirmations/").json()["results"]
    colleague = api(data.secretaries[1]).get(f"{BASE}confirmations/").json()["results"]
    assert [c["competence"] for c in mine] == [data.job_centre.id]
    assert colleague == []
