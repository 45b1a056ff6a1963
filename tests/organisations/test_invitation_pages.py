"""The invitations page: admins see who has not started using their account, and send, send again or
withdraw their invitations; nobody else may, and nothing of another programme shows."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from coordinator.core.models import OutboundEmail
from organisations.models import IdentityProvider, Invitation
from organisations.models import PlatformRole as R
from organisations.services import sso
from tests.factories import make_member


def _new(programme, organisation, **kwargs):
    person = make_member(programme, organisation, R.STAFF, **kwargs)
    User.objects.filter(pk=person.user_id).update(password="!unusable", last_login=None)
    person.user.refresh_from_db()
    return person


def test_admin_sees_who_has_not_started_and_invites_them(web, programme_admin, programme, org_a, staff_a):
    newcomer = _new(programme, org_a, user__first_name="Leila", user__last_name="Haddad")
    client = web(programme_admin)
    page = client.get("/organisations/people/invitations/")
    assert page.status_code == 200
    rows = [row["person"].pk for row in page.context["rows"]]
    assert rows == [newcomer.pk]  # staff_a and the admin use their accounts
    assert "Not invited" in page.content.decode()

    sent = client.post("/organisations/people/invitations/send/", {"person": newcomer.pk, "action": "invite"})
    assert (sent.status_code, sent["Location"]) == (302, "/organisations/people/invitations/")
    invitation = Invitation.unscoped_objects.get(person=newcomer)
    assert invitation.status == Invitation.Status.PENDING
    assert OutboundEmail.unscoped_objects.filter(recipient=newcomer).count() == 1
    again = client.post(
        "/organisations/people/invitations/send/", {"person": newcomer.pk, "action": "invite"}, follow=True
    )
    assert "An invitation was sent to this person less than 10 minutes ago." in again.content.decode()
    assert OutboundEmail.unscoped_objects.filter(recipient=newcomer).count() == 1

    client.post("/organisations/people/invitations/send/", {"person": newcomer.pk, "action": "revoke"})
    assert Invitation.unscoped_objects.get(person=newcomer).status == Invitation.Status.REVOKED
    Invitation.unscoped_objects.update(created_at=timezone.now() - timedelta(minutes=11))
    listed = client.get("/organisations/people/invitations/")
    assert listed.context["rows"][0]["state"] == "Withdrawn"


def test_organisation_admin_sees_only_their_own_people(web, programme, org_a, org_b):
    own = _new(programme, org_a)
    other = _new(programme, org_b)
    admin = make_member(programme, org_a, R.ORGANISATION_ADMIN)
    client = web(admin)
    assert [row["person"].pk for row in client.get("/organisations/people/invitations/").context["rows"]] == [
        own.pk
    ]
    refused = client.post("/organisations/people/invitations/send/", {"person": other.pk, "action": "invite"})
    assert refused.status_code == 403
    assert Invitation.unscoped_objects.count() == 0


def test_staff_and_other_programmes_cannot_use_the_page(web, staff_a, outsider, programme, org_a):
    newcomer = _new(programme, org_a)
    assert web(staff_a).get("/organisations/people/invitations/").status_code == 403
    assert (
        web(staff_a)
        .post("/organisations/people/invitations/send/", {"person": newcomer.pk, "action": "invite"})
        .status_code
        == 403
    )
    # The other programme's admin: their own programme has no such person (404, like a missing one).
    response = web(outsider).post(
        "/organisations/people/invitations/send/", {"person": newcomer.pk, "action": "invite"}
    )
    assert response.status_code == 404
    assert web(None).get("/organisations/people/invitations/").status_code == 302
    assert Invitation.unscoped_objects.count() == 0


def test_bad_input_is_refused(web, programme_admin, programme, org_a):
    newcomer = _new(programme, org_a)
    client = web(programme_admin)
    assert (
        client.post(
            "/organisations/people/invitations/send/", {"person": "x", "action": "invite"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/organisations/people/invitations/send/", {"person": "9" * 30, "action": "invite"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/organisations/people/invitations/send/", {"person": newcomer.pk, "action": "delete"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/organisations/people/invitations/send/", {"person": newcomer.pk, "action": "revoke"}
        ).status_code
        == 400
    )


def test_invitations_page_query_count(web, programme_admin, programme, org_a, django_assert_num_queries):
    client = web(programme_admin)
    _new(programme, org_a)
    client.get("/organisations/people/invitations/")  # warm the session and the actor
    with django_assert_num_queries(5):
        assert len(client.get("/organisations/people/invitations/").context["rows"]) == 1
    _new(programme, org_a)
    _new(programme, org_a)
    with django_assert_num_queries(5):
        assert len(client.get("/organisations/people/invitations/").context["rows"]) == 3


# --- The organisation's sign-in settings page ---------------------------------------------------------------


def test_organisation_admin_sets_the_provider_and_the_secret_is_never_shown(web, programme, org_a):
    admin = make_member(programme, org_a, R.ORGANISATION_ADMIN)
    client = web(admin)
    url = f"/organisations/{org_a.pk}/sign-in/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'id="redirect-uri">http://testserver/login/organisation/callback/<' in page.content.decode()
    saved = client.post(
        url,
        {
            "issuer": "https://login.migrationsverket.example/",
            "client_id": "samverkan",
            "client_secret": "top-secret-value",
            "email_domains": "migrationsverket.example, MV.example",
            "is_enabled": "on",
        },
    )
    assert (saved.status_code, saved["Location"]) == (302, url)
    provider = IdentityProvider.objects.get(organisation=org_a)
    assert (provider.issuer, provider.email_domains) == (
        "https://login.migrationsverket.example",
        ["migrationsverket.example", "mv.example"],
    )
    assert sso.decrypt_secret(provider.client_secret_encrypted) == "top-secret-value"
    again = client.get(url).content.decode()
    assert "top-secret-value" not in again
    assert "A client secret is stored. It is never shown." in again


def test_sign_in_settings_refuse_bad_input_and_other_admins(web, programme, org_a, programme_admin, outsider):
    admin = make_member(programme, org_a, R.ORGANISATION_ADMIN)
    url = f"/organisations/{org_a.pk}/sign-in/"
    bad = web(admin).post(url, {"issuer": "http://login.example", "client_id": "x", "client_secret": "y"})
    assert bad.status_code == 400
    assert "The issuer must be an https address." in bad.content.decode()
    body = {"issuer": "https://login.example", "client_id": "x", "client_secret": "y"}
    assert web(programme_admin).post(url, body).status_code == 403
    assert web(outsider).post(url, body).status_code == 404
    assert IdentityProvider.objects.count() == 0
