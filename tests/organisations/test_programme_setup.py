"""A whole programme set up from nothing through the public API alone: no shell, no admin site, no direct
database writes (the platform administrator's account is the one thing that exists beforehand). Everyone
else signs in as a new user would: the invitation mail's link, a password of their own, an API token."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.test import APIClient

from coordinator.core.models import Notification, OutboundEmail
from focusgroups.models import FocusGroup
from organisations.models import Person, Programme
from organisations.services.invitations import INVITATION_KIND
from tests.factories.shadowing import future_weekday

API = "/api/v1"


def platform_admin_client() -> APIClient:
    operator = User.objects.create_superuser("operator", "operator@samverkan.example", "x-unused-x")
    client = APIClient()
    client.force_authenticate(user=operator)
    return client


PASSWORD = "Rosengard-sfi-2027"


def sign_in(username: str, email: str, *, token: bool = False) -> APIClient:
    """The person opens the invitation mailed to them (read from the outbox, as their mail program would)
    and chooses a password on the invitation page, which signs them in: the client goes on with that
    session, or, with ``token``, with an API token obtained with the new password."""
    mail = OutboundEmail.unscoped_objects.filter(to_address=email, kind=INVITATION_KIND).latest("pk")
    match = re.search(r"https?://[^/\s]+(/invitation/[^/\s]+/)", mail.body_text)
    assert match is not None, mail.body_text
    client = APIClient()
    form = {"new_password1": PASSWORD, "new_password2": PASSWORD}
    accepted = client.post(match.group(1), form, format="multipart")
    assert accepted.status_code == 302, accepted.content[:3000]
    assert accepted["Location"] == "/"
    if token:
        # Other tests in this process asked for tokens from the same address within the minute.
        cache.clear()
        key = ok(APIClient().post(f"{API}/auth/token/", {"username": username, "password": PASSWORD}))[
            "token"
        ]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def test_a_programme_is_set_up_from_nothing_through_the_api_alone(db, django_capture_on_commit_callbacks):
    operator = platform_admin_client()
    # Mail leaves the outbox after each commit, as it does outside a test.
    committed = partial(django_capture_on_commit_callbacks, execute=True)

    # 1. The platform administrator starts the programme and names its first admin.
    with committed():
        response = operator.post(
            f"{API}/programmes/",
            {
                "name": "Lokalt kompetensutvecklingsprogram Malmö",
                "slug": "malmo-2027",
                "language": "sv",
                "time_zone": "Europe/Stockholm",
                "coordinator_email": "samordnare@malmo.example",
                "own_rule": "unit",
                "first_admin": {
                    "username": "eva.lindqvist",
                    "email": "eva.lindqvist@malmo.example",
                    "first_name": "Eva",
                    "last_name": "Lindqvist",
                    "new_organisation": {
                        "name": "Malmö stad",
                        "short_name": "Malmö stad",
                        "kind": "municipality",
                    },
                },
            },
            format="json",
        )
    programme = ok(response, 201)
    pid = programme["id"]
    admin = sign_in("eva.lindqvist", "eva.lindqvist@malmo.example")
    assert ok(admin.get(f"{API}/programmes/{pid}/"))["my_roles"] == [
        "organisation_admin",
        "programme_admin",
        "staff",
    ]

    # 2. What every programme starts with, in its language.
    groups = ok(admin.get(f"{API}/focusgroups/groups/", {"programme": pid}))["results"]
    assert sorted(g["name"] for g in groups) == [
        "Hälsoperspektivet/empowerment",
        "Informationsflödet",
        "Kartläggningsmetodik",
        "Målgruppskännedom",
        "Organisationskännedom",
        "Samarbete/samverkan",
    ]
    roles = {r["code"]: r for r in ok(admin.get(f"{API}/work-roles/", {"page_size": 100}))["results"]}
    assert roles["introduction_secretary"]["name"] == "Introduktionssekreterare"
    sfi_teacher = ok(
        admin.post(
            f"{API}/work-roles/",
            {"programme": pid, "code": "sfi_teacher", "name": "Sfi-lärare"},
            format="json",
        ),
        201,
    )

    # 3. Agencies and their units.
    malmo = ok(admin.get(f"{API}/organisations/"))["results"][0]
    migrationsverket = ok(
        admin.post(
            f"{API}/organisations/",
            {"programme": pid, "name": "Migrationsverket", "short_name": "MV", "kind": "state_agency"},
            format="json",
        ),
        201,
    )
    units = {}
    for organisation, name in (
        (malmo, "Introduktion Rosengård"),
        (malmo, "Sfi Malmö"),
        (migrationsverket, "Mottagningsenheten Malmö"),
    ):
        units[name] = ok(
            admin.post(
                f"{API}/units/",
                {"organisation": organisation["id"], "name": name, "programme": pid},
                format="json",
            ),
            201,
        )["id"]

    # 4. People with line managers (the manager first, then the people they manage).
    def person(
        username: str,
        organisation: dict,
        unit: str,
        *,
        roles: list[str],
        manager: int | None = None,
        work_role: int | None = None,
    ) -> int:
        first, last = username.split(".")
        body = {
            "programme": pid,
            "organisation": organisation["id"],
            "unit": units[unit],
            "username": username,
            "email": f"{username}@example.org",
            "first_name": first.title(),
            "last_name": last.title(),
            "roles": roles,
        }
        if manager is not None:
            body["line_manager"] = manager
        if work_role is not None:
            body["work_role"] = work_role
        with committed():
            response = admin.post(f"{API}/people/", {**body, "invite": True}, format="json")
        return ok(response, 201)["id"]

    chef = person(
        "karin.svensson",
        malmo,
        "Introduktion Rosengård",
        roles=["staff", "line_manager"],
        work_role=roles["manager"]["id"],
    )
    secretary = person(
        "amina.hassan",
        malmo,
        "Introduktion Rosengård",
        roles=["staff"],
        manager=chef,
        work_role=roles["introduction_secretary"]["id"],
    )
    teacher = person(
        "omar.khalil",
        malmo,
        "Sfi Malmö",
        roles=["staff", "host_contact", "course_provider"],
        work_role=sfi_teacher["id"],
    )
    mv_chef = person(
        "johan.berg",
        migrationsverket,
        "Mottagningsenheten Malmö",
        roles=["staff", "line_manager", "host_contact"],
    )
    coordinator = person(
        "sara.nilsson", malmo, "Introduktion Rosengård", roles=["staff", "coordinator"], manager=chef
    )
    assert ok(admin.get(f"{API}/people/{secretary}/"))["line_manager"] == chef

    # 5. Focus groups staffed.
    first_group = sorted(groups, key=lambda g: g["name"])[0]
    ok(
        admin.post(
            f"{API}/focusgroups/memberships/",
            {"group": first_group["id"], "person": mv_chef, "role": "convener", "mandate": "Sammankallande."},
            format="json",
        ),
        201,
    )

    # 6. A course, given by the sfi unit's organisation.
    coordinator_client = sign_in("sara.nilsson", "sara.nilsson@example.org")
    ok(
        coordinator_client.post(
            f"{API}/seminars/courses/",
            {"programme": pid, "title": "Svenska myndigheter för nyanlända", "providers": [malmo["id"]]},
            format="json",
        ),
        201,
    )

    # 7. A workplace with a topic and open days, at the sfi unit.
    topic = ok(
        coordinator_client.post(f"{API}/shadowing/topics/", {"programme": pid, "name": "Sfi"}, format="json"),
        201,
    )
    host = sign_in("omar.khalil", "omar.khalil@example.org")
    workplace = ok(
        host.post(
            f"{API}/shadowing/workplaces/",
            {
                "programme": pid,
                "unit": units["Sfi Malmö"],
                "name": "Sfi Malmö, Södervärn",
                "description": "Svenska för invandrare: mottagning, nivåtest och undervisning.",
                "street_address": "Södervärnsgatan 1",
                "city": "Malmö",
                "topics": [topic["id"]],
                "languages": ["sv"],
                "max_visitors_per_day": 2,
                "is_published": True,
            },
            format="json",
        ),
        201,
    )

    # 8. The staff member exists; a coordinator files a request on their behalf, at another unit of the
    # same organisation (the programme applies the own-organisation rule at unit level).
    start = future_weekday(0)
    with committed():  # the person asked for is told by the task queue after the commit
        request = ok(
            coordinator_client.post(
                f"{API}/shadowing/requests/",
                {
                    "programme": pid,
                    "person": secretary,
                    "learning_goals": "Förstå hur sfi tar emot nyanlända.",
                    "days": 1,
                    "topics": [topic["id"]],
                    "languages": ["sv"],
                    "windows": [
                        {"starts_on": start.isoformat(), "ends_on": (start + timedelta(days=14)).isoformat()}
                    ],
                    "preferences": [{"rank": 1, "workplace": workplace["id"]}],
                },
                format="json",
            ),
            201,
        )
    assert (request["requester"], request["filed_by"], request["status"]) == (
        secretary,
        coordinator,
        "pending_approval",
    )
    the_secretary = Person.unscoped_objects.get(pk=secretary)
    assert list(
        Notification.unscoped_objects.filter(recipient=the_secretary).values_list("title", flat=True)
    ) == ["Sara Nilsson har begärt ett skuggningsbesök för din räkning"]

    # 9. The staff member signs in for the first time from their invitation and files a request of their own.
    staff = sign_in("amina.hassan", "amina.hassan@example.org", token=True)
    own = ok(
        staff.post(
            f"{API}/shadowing/requests/",
            {
                "programme": pid,
                "learning_goals": "Lära mig hur Migrationsverkets mottagning arbetar.",
                "days": 1,
                "languages": ["sv"],
                "windows": [
                    {
                        "starts_on": (start + timedelta(days=7)).isoformat(),
                        "ends_on": (start + timedelta(days=21)).isoformat(),
                    }
                ],
                # Migrationsverket has no published workplace yet, so it is no preference to give.
                "preferences": [{"rank": 1, "workplace": workplace["id"]}],
            },
            format="json",
        ),
        201,
    )
    assert (own["requester"], own["filed_by"], own["status"]) == (secretary, None, "pending_approval")
    mine = ok(staff.get(f"{API}/shadowing/requests/"))
    assert sorted(r["id"] for r in mine["results"]) == sorted([request["id"], own["id"]])

    # The programme's admin sees the programme's state on the onboarding checklist.
    assert Programme.unscoped_objects.get(pk=pid).own_rule == "unit"
    assert FocusGroup.unscoped_objects.filter(programme_id=pid).count() == 6
    assert teacher and mv_chef
