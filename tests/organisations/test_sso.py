"""Single sign-on against a real OpenID Connect provider (django-oauth-toolkit in a second process): the
whole round trip (redirect, the provider's sign-in, code, token, ID token, userinfo, session) and who may
come in: a linked subject, an invited person, or someone who already uses their account; never a stranger."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client

from coordinator.core.models import OutboundEmail
from organisations.models import ExternalIdentity, IdentityProvider, Invitation, Person
from organisations.models import PlatformRole as R
from organisations.services import sso
from tests.factories import make_member
from tests.oidc_provider.process import Provider, running_provider

PASSWORD = "provider-pass-1"
CALLBACK = "http://127.0.0.1/login/organisation/callback/"
USERS = [
    ("amina", PASSWORD, "amina.hassan@migrationsverket.example"),
    ("karl", PASSWORD, "karl.berg@migrationsverket.example"),
    ("stranger", PASSWORD, "stranger@migrationsverket.example"),
    ("unverified.karl", PASSWORD, "karl.berg@migrationsverket.example"),
]


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    try:
        with running_provider(users=USERS, redirect_uris=[CALLBACK]) as running:
            yield running
    except RuntimeError as exc:  # the provider could not start on this machine
        pytest.skip(f"the OpenID Connect test provider did not start: {exc}")


@pytest.fixture
def org_admin(programme, org_a):
    return make_member(programme, org_a, R.ORGANISATION_ADMIN, R.STAFF)


@pytest.fixture
def configured(api, provider, org_admin, org_a) -> IdentityProvider:
    response = api(org_admin).put(
        f"/api/v1/organisations/{org_a.pk}/identity-provider/",
        {
            "issuer": provider.issuer,
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
            "email_domains": ["Migrationsverket.example"],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    return IdentityProvider.objects.get(organisation=org_a)


@pytest.fixture
def karl(staff_a):
    User.objects.filter(pk=staff_a.user_id).update(email="karl.berg@migrationsverket.example")
    staff_a.user.refresh_from_db()
    return staff_a


def _browser() -> Client:
    # The platform answers on the loopback address, the redirect address registered at the provider.
    return Client(HTTP_HOST="127.0.0.1")


def _sign_in_at_provider(authorize_url: str, username: str) -> str:
    """What a person does at their agency's provider: open the page, sign in; returns where it sends them
    back to (the platform's callback with the code and state)."""
    session = requests.Session()
    url = authorize_url
    for _hop in range(10):
        answer = session.get(url, allow_redirects=False, timeout=10)
        if answer.status_code in (301, 302):
            url = requests.compat.urljoin(url, answer.headers["Location"])
            if url.startswith(CALLBACK):
                return url
            continue
        assert answer.status_code == 200, answer.text[:500]
        assert "Myndighetens inloggning" in answer.text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.text).group(1)
        next_url = re.search(r'name="next" value="([^"]*)"', answer.text).group(1).replace("&amp;", "&")
        posted = session.post(
            url,
            data={"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD, "next": next_url},
            allow_redirects=False,
            timeout=10,
            headers={"Referer": url},
        )
        assert posted.status_code == 302, posted.text[:500]
        url = requests.compat.urljoin(url, posted.headers["Location"])
    raise AssertionError("the provider never sent the browser back")


def _round_trip(client: Client, configured: IdentityProvider, username: str):
    start = client.get(f"/login/organisation/{configured.pk}/")
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(configured.issuer + "/authorize/")
    assert "code_challenge_method=S256" in authorize
    back = urlsplit(_sign_in_at_provider(authorize, username))
    return client.get(back.path, {k: v for k, v in (p.split("=", 1) for p in back.query.split("&"))})


def test_invited_person_signs_in_with_the_provider_and_spends_the_invitation(
    api, programme_admin, programme, org_a, configured, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = api(programme_admin).post(
            "/api/v1/people/",
            {
                "programme": programme.pk,
                "organisation": org_a.pk,
                "username": "amina.h",
                "email": "amina.hassan@migrationsverket.example",
                "first_name": "Amina",
                "last_name": "Hassan",
                "preferred_language": "en",
                "invite": True,
            },
            format="json",
        )
    person = Person.unscoped_objects.get(pk=created.json()["id"])
    outbound = OutboundEmail.unscoped_objects.get(recipient=person)
    assert "sign in with your organisation's account or to choose a password" in outbound.body_text
    link = re.search(r"http://[^/\s]+(/invitation/[^/\s]+/)", outbound.body_text).group(1)
    client = _browser()
    assert f'href="/login/organisation/{configured.pk}/"' in client.get(link).content.decode()

    response = _round_trip(client, configured, "amina")

    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.session["_auth_user_id"] == str(person.user_id)
    identity = ExternalIdentity.objects.get(provider=configured)
    assert (identity.person_id, identity.email) == (person.pk, "amina.hassan@migrationsverket.example")
    assert Invitation.unscoped_objects.get(person=person).status == Invitation.Status.ACCEPTED
    assert client.get("/me/").status_code == 200
    # The invitation is spent: its link says so.
    assert "This invitation has already been used." in _browser().get(link).content.decode()
    # Next time the subject alone identifies the person, with no invitation.
    again = _browser()
    assert _round_trip(again, configured, "amina").status_code == 302
    assert again.session["_auth_user_id"] == str(person.user_id)
    assert ExternalIdentity.objects.count() == 1


def test_someone_who_already_uses_their_account_is_linked_by_verified_email(karl, configured):
    client = _browser()
    response = _round_trip(client, configured, "karl")
    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.session["_auth_user_id"] == str(karl.user_id)
    assert list(ExternalIdentity.objects.values_list("person_id", flat=True)) == [karl.pk]


def test_an_unknown_identity_is_refused_and_nothing_is_created(configured, staff_a):
    people, users = Person.unscoped_objects.count(), User.objects.count()
    client = _browser()
    response = _round_trip(client, configured, "stranger")
    assert response.status_code == 403
    assert "There is no invitation or account here for the identity" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert (Person.unscoped_objects.count(), User.objects.count()) == (people, users)
    assert ExternalIdentity.objects.count() == 0


def test_an_unconfirmed_address_is_not_linked(karl, configured):
    client = _browser()
    response = _round_trip(client, configured, "unverified.karl")
    assert response.status_code == 403
    assert "did not confirm your email address" in response.content.decode()
    assert ExternalIdentity.objects.count() == 0


def test_a_person_of_another_organisation_is_not_matched(karl, configured, org_b):
    Person.unscoped_objects.filter(pk=karl.pk).update(organisation=org_b)
    response = _round_trip(_browser(), configured, "karl")
    assert response.status_code == 403
    assert ExternalIdentity.objects.count() == 0


def test_an_ended_account_cannot_sign_in_by_its_link(karl, configured):
    assert _round_trip(_browser(), configured, "karl").status_code == 302
    User.objects.filter(pk=karl.user_id).update(is_active=False)
    client = _browser()
    response = _round_trip(client, configured, "karl")
    assert response.status_code == 403
    assert "Your account here has ended." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_callback_that_was_not_started_here_is_refused(configured):
    response = _browser().get("/login/organisation/callback/", {"code": "forged", "state": "forged"})
    assert response.status_code == 400
    assert "This sign-in has expired or was not started here." in response.content.decode()


def test_a_forged_state_is_refused(configured, karl):
    client = _browser()
    client.get(f"/login/organisation/{configured.pk}/")
    response = client.get("/login/organisation/callback/", {"code": "forged", "state": "forged"})
    assert response.status_code == 403
    assert "The sign-in at your organisation did not succeed." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_email_domain_chooses_the_provider(configured):
    client = _browser()
    response = client.post("/login/organisation/", {"email": "someone@MIGRATIONSVERKET.example"})
    assert (response.status_code, response["Location"]) == (302, f"/login/organisation/{configured.pk}/")
    elsewhere = client.post("/login/organisation/", {"email": "someone@malmo.example"})
    assert (elsewhere.status_code, elsewhere["Location"]) == (302, "/login/")
    assert client.post("/login/organisation/", {"email": "no address"}).status_code == 400
    page = client.get("/login/").content.decode()
    assert f'href="/login/organisation/{configured.pk}/"' in page


# --- Configuring the provider ---------------------------------------------------------------------------


def test_the_client_secret_is_stored_encrypted_and_never_shown(api, org_admin, org_a, configured, provider):
    assert configured.client_secret_encrypted != provider.client_secret
    assert sso.decrypt_secret(configured.client_secret_encrypted) == provider.client_secret
    shown = api(org_admin).get(f"/api/v1/organisations/{org_a.pk}/identity-provider/").json()
    assert shown == {
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "has_client_secret": True,
        "email_domains": ["migrationsverket.example"],
        "is_enabled": True,
        "redirect_uri": "http://127.0.0.1:8000/login/organisation/callback/",
        "updated_at": shown["updated_at"],
    }
    kept = api(org_admin).put(
        f"/api/v1/organisations/{org_a.pk}/identity-provider/",
        {"issuer": provider.issuer, "client_id": provider.client_id, "email_domains": []},
        format="json",
    )
    assert kept.status_code == 200
    configured.refresh_from_db()
    assert sso.decrypt_secret(configured.client_secret_encrypted) == provider.client_secret


def test_only_the_organisations_own_admins_configure_it(api, programme_admin, org_a, outsider, staff_a):
    body = {"issuer": "https://login.example", "client_id": "x", "client_secret": "y"}
    url = f"/api/v1/organisations/{org_a.pk}/identity-provider/"
    assert api(programme_admin).put(url, body, format="json").status_code == 403
    assert api(staff_a).put(url, body, format="json").status_code == 403
    assert api(outsider).put(url, body, format="json").status_code == 404
    assert api(None).get(url).status_code == 401
    assert IdentityProvider.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"issuer": "http://login.example", "client_id": "x", "client_secret": "y"}, "issuer"),
        ({"issuer": "https://login.example?x=1", "client_id": "x", "client_secret": "y"}, "issuer"),
        ({"issuer": "https://login.example", "client_id": "x"}, "client_secret"),
        (
            {
                "issuer": "https://login.example",
                "client_id": "x",
                "client_secret": "y",
                "email_domains": ["a b"],
            },
            "email_domains",
        ),
        ({"issuer": "https://login.example", "client_id": "x", "client_secret": "y", "extra": 1}, "extra"),
        ({"issuer": "not a url", "client_id": "x", "client_secret": "y"}, "issuer"),
    ],
)
def test_bad_settings_are_refused(api, org_admin, org_a, body, field):
    response = api(org_admin).put(f"/api/v1/organisations/{org_a.pk}/identity-provider/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert IdentityProvider.objects.count() == 0


def test_a_domain_belongs_to_one_organisation(api, configured, programme, org_b):
    admin_b = make_member(programme, org_b, R.ORGANISATION_ADMIN)
    response = api(admin_b).put(
        f"/api/v1/organisations/{org_b.pk}/identity-provider/",
        {
            "issuer": "https://login.malmo.example",
            "client_id": "x",
            "client_secret": "y",
            "email_domains": ["migrationsverket.example"],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "email_domains": ["migrationsverket.example already signs in with another organisation's provider."]
    }
