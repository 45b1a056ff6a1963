from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from organisations.models import Funder, Organisation, Person, Programme, Unit
from organisations.models import PlatformRole as R
from tests.factories import OrganisationFactory, UnitFactory, WorkRoleFactory, make_member

NOT_FOUND = {"detail": "Not found."}
ENDPOINTS = ["programmes", "organisations", "units", "work-roles", "people"]


# --- Isolation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_detail_of_other_programme_answers_like_missing(endpoint, api, staff_a, foreign_objects, work_role):
    client = api(staff_a)
    foreign = client.get(f"/api/v1/{endpoint}/{foreign_objects[endpoint].pk}/")
    missing = client.get(f"/api/v1/{endpoint}/987654/")
    assert (foreign.status_code, foreign.json()) == (404, NOT_FOUND)
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_list_never_contains_other_programme(
    endpoint, api, staff_a, staff_b, unit_a, work_role, foreign_objects
):
    response = api(staff_a).get(f"/api/v1/{endpoint}/")
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert foreign_objects[endpoint].pk not in ids
    assert ids  # programme A's own objects are there


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_write_to_other_programme_answers_like_missing(endpoint, api, programme_admin, foreign_objects):
    response = api(programme_admin).patch(
        f"/api/v1/{endpoint}/{foreign_objects[endpoint].pk}/", {"name": "Kapad"}, format="json"
    )
    assert response.status_code in (404, 405)
    if response.status_code == 404:
        assert response.json() == NOT_FOUND
    assert Programme.unscoped_objects.filter(name="Kapad").count() == 0
    assert Organisation.unscoped_objects.filter(name="Kapad").count() == 0
    assert Unit.unscoped_objects.filter(name="Kapad").count() == 0


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_gets_401(endpoint, api, programme):
    response = api(None).get(f"/api/v1/{endpoint}/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_shared_organisation_lists_only_visible_programmes(api, programme, other_programme, staff_a):
    shared = OrganisationFactory(name="Röda korset", programmes=[programme, other_programme])
    response = api(staff_a).get(f"/api/v1/organisations/{shared.pk}/")
    assert response.status_code == 200
    assert response.json()["programmes"] == [programme.pk]


@pytest.mark.parametrize("plans", [True, False])
def test_shared_organisation_in_the_list_shows_only_visible_programmes(
    api, settings, programme, other_programme, staff_a, plans
):
    settings.API_LIST_PLANS = plans
    shared = OrganisationFactory(name="Röda korset", programmes=[programme, other_programme])
    OrganisationFactory(name="Dansk Flygtningehjælp", programmes=[other_programme])

    response = api(staff_a).get("/api/v1/organisations/?page_size=200")

    assert response.status_code == 200
    rows = {row["id"]: row["programmes"] for row in response.json()["results"]}
    assert rows[shared.pk] == [programme.pk]
    assert "Dansk Flygtningehjælp" not in {row["name"] for row in response.json()["results"]}
    assert set(map(tuple, rows.values())) == {(programme.pk,)}


def test_person_of_shared_organisation_in_other_programme_is_invisible(
    api, programme, other_programme, staff_a
):
    shared = OrganisationFactory(name="Röda korset", programmes=[programme, other_programme])
    colleague_elsewhere = make_member(other_programme, shared)
    response = api(staff_a).get(f"/api/v1/people/{colleague_elsewhere.pk}/")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


# --- Who may edit what ----------------------------------------------------------------------------------


def test_staff_cannot_edit_other_organisations_unit(api, staff_a, unit_b):
    response = api(staff_a).patch(f"/api/v1/units/{unit_b.pk}/", {"name": "Omdöpt"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You may not change this unit."}
    assert Unit.unscoped_objects.get(pk=unit_b.pk).name == "Introduktion Rosengård"


def test_staff_cannot_edit_own_organisations_unit_without_admin_role(api, staff_a, unit_a):
    response = api(staff_a).patch(f"/api/v1/units/{unit_a.pk}/", {"name": "Omdöpt"}, format="json")
    assert response.status_code == 403


def test_organisation_admin_edits_own_unit_only(api, org_admin_a, unit_a, unit_b):
    own = api(org_admin_a).patch(f"/api/v1/units/{unit_a.pk}/", {"city": "Lund"}, format="json")
    other = api(org_admin_a).patch(f"/api/v1/units/{unit_b.pk}/", {"city": "Lund"}, format="json")
    assert own.status_code == 200
    assert own.json()["city"] == "Lund"
    assert other.status_code == 403
    assert Unit.unscoped_objects.get(pk=unit_b.pk).city == "Malmö"


def test_organisation_admin_creates_unit_in_own_organisation_only(api, org_admin_a, org_a, org_b):
    own = api(org_admin_a).post(
        "/api/v1/units/", {"organisation": org_a.pk, "name": "Ny enhet"}, format="json"
    )
    other = api(org_admin_a).post(
        "/api/v1/units/", {"organisation": org_b.pk, "name": "Ny enhet"}, format="json"
    )
    assert own.status_code == 201
    assert own.json()["name"] == "Ny enhet"
    assert other.status_code == 403
    assert Unit.unscoped_objects.filter(organisation=org_b, name="Ny enhet").exists() is False


def test_staff_cannot_edit_other_person(api, staff_a, staff_b):
    response = api(staff_a).patch(f"/api/v1/people/{staff_b.pk}/", {"phone": "040-123"}, format="json")
    assert response.status_code == 403
    assert Person.unscoped_objects.get(pk=staff_b.pk).phone == ""


def test_staff_edits_own_contact_details_but_not_employment(api, staff_a, unit_a, org_a):
    other_unit = UnitFactory(organisation=org_a, name="Prövningsenheten")
    ok = api(staff_a).patch(
        "/api/v1/people/me/", {"phone": "040-123 45", "languages": ["sv", "ar"]}, format="json"
    )
    refused = api(staff_a).patch("/api/v1/people/me/", {"unit": other_unit.pk}, format="json")
    assert ok.status_code == 200
    assert (ok.json()["phone"], ok.json()["languages"]) == ("040-123 45", ["sv", "ar"])
    assert refused.status_code == 400
    assert refused.json() == {"unit": ["This field cannot be changed here."]}
    assert Person.unscoped_objects.get(pk=staff_a.pk).unit_id == unit_a.pk


def test_organisation_admin_sets_line_manager_in_own_organisation(
    api, programme, org_a, org_admin_a, staff_a, staff_b
):
    ok = api(org_admin_a).patch(
        f"/api/v1/people/{staff_a.pk}/", {"line_manager": org_admin_a.pk}, format="json"
    )
    foreign_manager = api(org_admin_a).patch(
        f"/api/v1/people/{staff_a.pk}/", {"line_manager": staff_b.pk}, format="json"
    )
    assert ok.status_code == 200
    assert ok.json()["line_manager"] == org_admin_a.pk
    assert foreign_manager.status_code == 400
    assert foreign_manager.json() == {
        "line_manager": ["The line manager must work in the same organisation."]
    }


def test_line_manager_circle_is_refused(api, programme, org_a, org_admin_a, staff_a):
    Person.unscoped_objects.filter(pk=org_admin_a.pk).update(line_manager=staff_a)
    response = api(org_admin_a).patch(
        f"/api/v1/people/{staff_a.pk}/", {"line_manager": org_admin_a.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"line_manager": ["This would make a circle of line managers."]}


def test_contact_details_hidden_across_organisations(api, staff_a, staff_b, coordinator):
    seen_by_other_org = api(staff_a).get(f"/api/v1/people/{staff_b.pk}/").json()
    seen_by_coordinator = api(coordinator).get(f"/api/v1/people/{staff_a.pk}/").json()
    assert "email" not in seen_by_other_org
    assert "phone" not in seen_by_other_org
    assert staff_b.user.email not in json.dumps(seen_by_other_org)
    assert seen_by_other_org["full_name"] == staff_b.full_name
    assert seen_by_coordinator["email"] == staff_a.user.email


def test_programme_admin_creates_person_with_roles(api, programme, programme_admin, org_a, work_role):
    response = api(programme_admin).post(
        "/api/v1/people/",
        {
            "programme": programme.pk,
            "organisation": org_a.pk,
            "username": "ny.handlaggare",
            "email": "ny@mv.example",
            "first_name": "Nils",
            "last_name": "Nyberg",
            "work_role": work_role.pk,
            "roles": ["staff", "host_contact"],
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["full_name"] == "Nils Nyberg"
    assert body["programmes"] == [
        {
            "programme": programme.pk,
            "work_role": work_role.pk,
            "work_role_name": "Handläggare",
            "roles": ["host_contact", "staff"],
        }
    ]


def test_staff_cannot_create_people(api, programme, staff_a, org_a):
    response = api(staff_a).post(
        "/api/v1/people/",
        {
            "programme": programme.pk,
            "organisation": org_a.pk,
            "username": "smyg",
            "email": "s@example.org",
            "first_name": "S",
            "last_name": "M",
        },
        format="json",
    )
    assert response.status_code == 403
    assert User.objects.filter(username="smyg").exists() is False


# --- Programmes and funders -----------------------------------------------------------------------------


def test_programme_admin_replaces_funders(api, programme, programme_admin):
    response = api(programme_admin).patch(
        f"/api/v1/programmes/{programme.pk}/",
        {
            "funders": [
                {"name": "Malmö stad", "share_percent": "75.00"},
                {"name": "Equal", "share_percent": "25.00"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["funders"] == [
        {"name": "Malmö stad", "share_percent": "75.00"},
        {"name": "Equal", "share_percent": "25.00"},
    ]


def test_funders_over_100_percent_save_nothing(api, programme, programme_admin):
    response = api(programme_admin).patch(
        f"/api/v1/programmes/{programme.pk}/",
        {
            "name": "Nytt namn",
            "funders": [
                {"name": "Malmö stad", "share_percent": "80"},
                {"name": "Equal", "share_percent": "25"},
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"funders": ["The funders' shares add up to 105 %; at most 100 % is possible."]}
    assert Programme.unscoped_objects.get(pk=programme.pk).name == "Lokalt kompetensutvecklingsprogram Malmö"
    assert Funder.unscoped_objects.filter(programme=programme).count() == 0


def test_staff_cannot_change_programme(api, programme, staff_a):
    response = api(staff_a).patch(f"/api/v1/programmes/{programme.pk}/", {"name": "X"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only the programme's admins may change it."}


def test_programme_time_zone_is_validated(api, programme, programme_admin):
    response = api(programme_admin).patch(
        f"/api/v1/programmes/{programme.pk}/", {"time_zone": "Mars/Olympus"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"time_zone": ["Mars/Olympus is not a known time zone."]}


@pytest.mark.parametrize("resource", ["programme", "organisation", "unit"])
def test_names_with_a_line_break_are_refused_and_nothing_is_saved(
    api, programme, programme_admin, org_a, resource
):
    # A name ends up in mail subjects and calendar summaries, where a line break would break the message.
    if resource == "programme":
        target, url = programme, f"/api/v1/programmes/{programme.pk}/"
    elif resource == "organisation":
        target, url = org_a, f"/api/v1/organisations/{org_a.pk}/"
    else:
        target = UnitFactory(organisation=org_a, name="Mottagningen")
        url = f"/api/v1/units/{target.pk}/"
    before = type(target).unscoped_objects.get(pk=target.pk).name
    response = api(programme_admin).patch(url, {"name": "Malmö\nBcc: x@example.org"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["Write this on one line, without control characters."]}
    assert type(target).unscoped_objects.get(pk=target.pk).name == before


def test_my_roles_are_listed(api, programme, coordinator):
    response = api(coordinator).get(f"/api/v1/programmes/{programme.pk}/")
    assert response.json()["my_roles"] == ["coordinator", "staff"]


# --- Bad input ------------------------------------------------------------------------------------------


def test_malformed_json_is_400(api, org_admin_a, unit_a):
    response = api(org_admin_a).generic(
        "PATCH", f"/api/v1/units/{unit_a.pk}/", '{"name": "x",', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


@pytest.mark.parametrize(
    ("preferred", "accept", "language", "detail"),
    [
        ("", None, "da", "Ikke fundet."),  # the programme's language, as on the person's pages
        ("en", None, "en", "Not found."),  # the person's own choice before it
        ("en", "da", "da", "Ikke fundet."),  # and the one the call asks for before both
    ],
)
def test_a_token_call_answers_in_the_language_it_asks_for_else_that_of_the_persons_pages(
    outsider, preferred, accept, language, detail
):
    from rest_framework.test import APIClient

    outsider.preferred_language = preferred
    outsider.save(update_fields=["preferred_language"])
    client = APIClient(**({"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}))
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=outsider.user).key}")

    response = client.get("/api/v1/people/999999/")

    assert (response.status_code, response["Content-Language"], response.json()) == (
        404,
        language,
        {"detail": detail},
    )


def test_json_nested_too_deeply_is_400_and_saves_nothing(api, org_admin_a, unit_a):
    body = '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = api(org_admin_a).generic(
        "PATCH", f"/api/v1/units/{unit_a.pk}/", body, content_type="application/json"
    )
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "JSON parse error - nested too deeply."},
    )
    assert Unit.unscoped_objects.get(pk=unit_a.pk).name == "Mottagningsenheten Malmö"


def test_time_zone_name_too_long_for_a_file_is_400(api, programme, programme_admin):
    response = api(programme_admin).patch(
        f"/api/v1/programmes/{programme.pk}/", {"time_zone": "Europe/" + "x" * 300}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["time_zone"]
    programme.refresh_from_db()
    assert programme.time_zone == "Europe/Stockholm"


def test_unknown_fields_are_400(api, org_admin_a, unit_a):
    response = api(org_admin_a).patch(
        f"/api/v1/units/{unit_a.pk}/", {"name": "x", "is_admin": True}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"is_admin": ["Unknown field."]}
    assert Unit.unscoped_objects.get(pk=unit_a.pk).name == "Mottagningsenheten Malmö"


def test_overlong_text_is_400(api, org_admin_a, unit_a):
    response = api(org_admin_a).patch(f"/api/v1/units/{unit_a.pk}/", {"name": "x" * 201}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["Ensure this field has no more than 200 characters."]}


def test_wrong_types_are_400(api, org_admin_a, staff_a):
    response = api(org_admin_a).patch(f"/api/v1/people/{staff_a.pk}/", {"languages": "sv"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"languages": ['Expected a list of items but got type "str".']}


def test_non_object_body_is_400(api, org_admin_a, unit_a):
    response = api(org_admin_a).patch(f"/api/v1/units/{unit_a.pk}/", [1, 2], format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_foreign_id_is_400_like_a_missing_one(api, org_admin_a, org_a, foreign_objects):
    foreign = api(org_admin_a).post(
        "/api/v1/units/", {"organisation": foreign_objects["organisations"].pk, "name": "Smyg"}, format="json"
    )
    missing = api(org_admin_a).post("/api/v1/units/", {"organisation": 987654, "name": "Smyg"}, format="json")
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == {
        "organisation": [f'Invalid pk "{foreign_objects["organisations"].pk}" - object does not exist.']
    }
    assert Unit.unscoped_objects.filter(name="Smyg").exists() is False


def test_null_character_is_400(api, org_admin_a, unit_a):
    response = api(org_admin_a).patch(f"/api/v1/units/{unit_a.pk}/", {"name": "a\x00b"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["Null characters are not allowed."]}


def test_markup_is_stored_verbatim_and_escaped_in_pages(api, web, org_admin_a, unit_a, org_a):
    name = '<script>alert("x")</script>; DROP TABLE units;--'
    response = api(org_admin_a).patch(f"/api/v1/units/{unit_a.pk}/", {"name": name}, format="json")
    assert response.status_code == 200
    assert Unit.unscoped_objects.get(pk=unit_a.pk).name == name
    page = web(org_admin_a).get(f"/organisations/{org_a.pk}/")
    assert b'<script>alert("x")</script>' not in page.content
    assert b"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.content


def test_duplicate_unit_name_is_400_not_500(api, org_admin_a, org_a, unit_a):
    response = api(org_admin_a).post(
        "/api/v1/units/", {"organisation": org_a.pk, "name": unit_a.name}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"name": ["This organisation already has a unit with this name."]}


# --- Lists: pagination, filters, query counts ------------------------------------------------------------


def _people(programme, organisation, count):
    return [make_member(programme, organisation) for _ in range(count)]


@pytest.mark.parametrize("count", [1, 3])
def test_people_list_query_count_does_not_grow(
    count, api, programme, org_a, staff_a, django_assert_num_queries, foreign_objects
):
    _people(programme, org_a, count)
    client = api(staff_a)
    # The reader's memberships, the list's stamps, the page and its people's memberships.
    with django_assert_num_queries(4):
        response = client.get("/api/v1/people/")
    assert response.json()["count"] == count + 1
    # Then the page is kept until something it shows changes: only the stamps are read (the forced user of
    # this client keeps its memberships between requests; with a token they come in the stamps' query).
    with django_assert_num_queries(1):
        again = client.get("/api/v1/people/")
    assert again.content == response.content


@pytest.mark.parametrize("count", [1, 3])
def test_units_list_query_count_does_not_grow(
    count, api, org_a, staff_a, django_assert_num_queries, foreign_objects
):
    for i in range(count):
        UnitFactory(organisation=org_a, name=f"Enhet {i}")
    client = api(staff_a)
    with django_assert_num_queries(2):
        response = client.get("/api/v1/units/")
    assert response.json()["count"] == count + 1  # and staff_a's own unit


@pytest.mark.parametrize("count", [1, 3])
def test_organisations_list_query_count_does_not_grow(
    count, api, programme, staff_a, django_assert_num_queries, foreign_objects
):
    for i in range(count - 1):
        OrganisationFactory(name=f"Byrå {i}", programmes=[programme])
    client = api(staff_a)
    # One query fewer than with a prefetch: the participations come in the page's own query.
    with django_assert_num_queries(2):
        response = client.get("/api/v1/organisations/")
    assert response.json()["count"] == count


@pytest.mark.parametrize("count", [1, 3])
def test_programmes_list_query_count_does_not_grow(count, api, programme, org_a, django_assert_num_queries):
    from organisations.models import Membership, RoleAssignment
    from tests.factories import ProgrammeFactory

    person = make_member(programme, org_a)
    for _ in range(count - 1):
        other = ProgrammeFactory()
        membership = Membership.unscoped_objects.create(programme=other, person=person)
        RoleAssignment.unscoped_objects.create(membership=membership, role=R.STAFF)
    client = api(person)
    with django_assert_num_queries(3):
        response = client.get("/api/v1/programmes/")
    assert response.json()["count"] == count


@pytest.mark.parametrize("count", [1, 3])
def test_work_roles_list_query_count_does_not_grow(count, api, programme, staff_a, django_assert_num_queries):
    for i in range(count):
        WorkRoleFactory(programme=programme, code=f"r{i}")
    client = api(staff_a)
    with django_assert_num_queries(2):
        response = client.get("/api/v1/work-roles/")
    assert response.json()["count"] == count


def test_people_filters(api, programme, org_a, org_b, staff_a, staff_b, coordinator):
    client = api(staff_a)
    by_org = client.get(f"/api/v1/people/?organisation={org_b.pk}").json()
    by_role = client.get("/api/v1/people/?role=coordinator").json()
    by_search = client.get(f"/api/v1/people/?search={staff_b.user.last_name}").json()
    assert sorted(p["id"] for p in by_org["results"]) == sorted([staff_b.pk, coordinator.pk])
    assert [p["id"] for p in by_role["results"]] == [coordinator.pk]
    assert [p["id"] for p in by_search["results"]] == [staff_b.pk]


def test_filter_by_unknown_choice_is_400(api, staff_a):
    response = api(staff_a).get("/api/v1/people/?role=emperor")
    assert response.status_code == 400
    assert response.json() == {
        "role": ["Select a valid choice. emperor is not one of the available choices."]
    }


def test_pagination_limits_page_size(api, programme, org_a, staff_a):
    _people(programme, org_a, 4)
    response = api(staff_a).get("/api/v1/people/?page_size=2")
    body = response.json()
    assert (body["count"], len(body["results"])) == (5, 2)
    assert body["next"].endswith("page=2&page_size=2")


# --- Authentication -------------------------------------------------------------------------------------


def test_token_login_and_use(api, staff_a):
    response = api(None).post(
        "/api/v1/auth/token/",
        {"username": staff_a.user.username, "password": "correct-horse-battery"},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=staff_a.user).key == token
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/people/me/")
    assert (me.status_code, me.json()["id"]) == (200, staff_a.pk)


def test_token_login_with_wrong_password_is_401(api, staff_a):
    response = api(None).post(
        "/api/v1/auth/token/", {"username": staff_a.user.username, "password": "nope"}, format="json"
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Unable to sign in with these credentials."}


def test_repeated_failures_lock_the_account(api, staff_a, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = api(None)
    for _ in range(3):
        client.post(
            "/api/v1/auth/token/", {"username": staff_a.user.username, "password": "nope"}, format="json"
        )
    locked = client.post(
        "/api/v1/auth/token/",
        {"username": staff_a.user.username, "password": "correct-horse-battery"},
        format="json",
    )
    assert locked.status_code == 429
    assert locked.json() == {"detail": "Too many failed sign-in attempts. Try again in 15 minutes."}


def test_token_endpoint_is_throttled(api, staff_a, settings):
    from django.core.cache import cache

    cache.clear()
    client = api(None)
    statuses = [
        client.post(
            "/api/v1/auth/token/", {"username": f"nobody{i}", "password": "x"}, format="json"
        ).status_code
        for i in range(11)
    ]
    assert statuses == [401] * 10 + [429]


def test_web_login_locks_out_after_failures(client, staff_a, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post("/login/", {"username": staff_a.user.username, "password": "wrong"})
    response = client.post(
        "/login/", {"username": staff_a.user.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
