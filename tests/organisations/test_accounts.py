"""Accounts end with a person's last membership (sign-in, sessions, API token), and a forgotten password is
reset by email through the outbox without revealing whether an address has an account."""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coordinator.core.models import OutboundEmail
from organisations.models import Invitation, Membership
from organisations.models import PlatformRole as R
from organisations.permissions import actor_for
from organisations.services import people
from tests.factories import make_member

PASSWORD = "correct-horse-battery"


def _signed_in(person) -> Client:
    client = Client()
    assert client.post("/login/", {"username": person.user.username, "password": PASSWORD}).status_code == 302
    return client


def test_ending_the_last_membership_ends_sessions_tokens_and_sign_in(
    api, programme_admin, programme, staff_a
):
    browser = _signed_in(staff_a)
    other_browser = _signed_in(programme_admin)
    token = Token.objects.create(user=staff_a.user)
    assert browser.get("/me/").status_code == 200

    response = api(programme_admin).post(
        f"/api/v1/people/{staff_a.pk}/end-membership/", {"programme": programme.pk}, format="json"
    )

    assert (response.status_code, response.json()["id"]) == (200, staff_a.pk)
    user = User.objects.get(pk=staff_a.user_id)
    assert (user.is_active, user.has_usable_password()) == (False, False)
    assert Token.objects.filter(user=user).exists() is False
    assert [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()] == [
        str(programme_admin.user_id)
    ]
    assert browser.get("/me/").status_code == 302  # back to the sign-in page
    assert other_browser.get("/me/").status_code == 200
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert token_client.get("/api/v1/people/me/").status_code == 401
    assert Client().post("/login/", {"username": user.username, "password": PASSWORD}).status_code == 200
    assert Membership.unscoped_objects.get(person=staff_a).is_active is False


def test_a_remaining_membership_keeps_the_account(
    api, programme_admin, programme, other_programme, org_a, staff_a
):
    Membership.unscoped_objects.create(programme=other_programme, person=staff_a)
    browser = _signed_in(staff_a)
    response = api(programme_admin).post(
        f"/api/v1/people/{staff_a.pk}/end-membership/", {"programme": programme.pk}, format="json"
    )
    assert response.status_code == 200
    user = User.objects.get(pk=staff_a.user_id)
    assert (user.is_active, user.check_password(PASSWORD)) == (True, True)
    assert Session.objects.count() == 1
    assert browser.get("/").status_code == 200


def test_ending_a_membership_needs_an_admin_and_withdraws_pending_invitations(
    api, programme_admin, programme, staff_a, staff_b
):
    refused = api(staff_b).post(
        f"/api/v1/people/{staff_a.pk}/end-membership/", {"programme": programme.pk}, format="json"
    )
    assert refused.status_code == 403
    assert User.objects.get(pk=staff_a.user_id).is_active is True
    User.objects.filter(pk=staff_a.user_id).update(password="!", last_login=None)
    invited = api(programme_admin).post(
        "/api/v1/invitations/", {"programme": programme.pk, "person": staff_a.pk}, format="json"
    )
    assert invited.status_code == 201
    api(programme_admin).post(
        f"/api/v1/people/{staff_a.pk}/end-membership/", {"programme": programme.pk}, format="json"
    )
    assert Invitation.unscoped_objects.get(person=staff_a).status == Invitation.Status.REVOKED


def test_ending_a_membership_of_another_programme_is_not_found(api, outsider, programme, staff_a):
    response = api(outsider).post(
        f"/api/v1/people/{staff_a.pk}/end-membership/", {"programme": programme.pk}, format="json"
    )
    assert response.status_code == 404
    assert User.objects.get(pk=staff_a.user_id).is_active is True


def test_admin_site_ending_the_last_membership_ends_the_account(web, programme, org_b, staff_a):
    admin = make_member(programme, org_b, R.PROGRAMME_ADMIN)
    User.objects.filter(pk=admin.user_id).update(is_staff=True)
    admin.user.refresh_from_db()
    membership = Membership.unscoped_objects.get(person=staff_a)
    token = Token.objects.create(user=staff_a.user)
    response = web(admin).post(
        f"/admin/organisations/membership/{membership.pk}/change/",
        {
            "person": staff_a.pk,
            "programme": programme.pk,
            "work_role": "",
            "role_assignments-TOTAL_FORMS": "1",
            "role_assignments-INITIAL_FORMS": "1",
            "role_assignments-MIN_NUM_FORMS": "0",
            "role_assignments-MAX_NUM_FORMS": "1000",
            "role_assignments-0-id": membership.role_assignments.model.unscoped_objects.get(
                membership=membership
            ).pk,
            "role_assignments-0-membership": membership.pk,
            "role_assignments-0-role": "staff",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(pk=staff_a.user_id).is_active is False
    assert Token.objects.filter(pk=token.pk).exists() is False


# --- Password reset -------------------------------------------------------------------------------------


def _reset_link(outbound: OutboundEmail) -> str:
    match = re.search(r"http://[^/\s]+(/password-reset/[^/\s]+/[^/\s]+/)", outbound.body_text)
    assert match is not None, outbound.body_text
    return match.group(1)


def test_password_reset_mails_a_link_through_the_outbox_and_sets_the_password(
    staff_a, programme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/password-reset/", {"email": staff_a.user.email.upper()})
    assert (response.status_code, response["Location"]) == (302, "/password-reset/sent/")
    outbound = OutboundEmail.unscoped_objects.get(recipient=staff_a)
    assert (outbound.subject, outbound.status) == (f"[{programme.name}] Choose a new password", "sent")
    assert [m.to for m in mail.outbox] == [[staff_a.user.email]]
    client = Client()
    form = client.get(_reset_link(outbound), follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    weak = client.post(set_url, {"new_password1": "short", "new_password2": "short"})
    assert "This password is too short." in weak.content.decode()
    done = client.post(
        set_url, {"new_password1": "Rosengard-sfi-2026", "new_password2": "Rosengard-sfi-2026"}
    )
    assert (done.status_code, done["Location"]) == (302, "/password-reset/done/")
    assert User.objects.get(pk=staff_a.user_id).check_password("Rosengard-sfi-2026")
    # Used once: the same link is no longer valid.
    again = Client().get(_reset_link(outbound), follow=True)
    assert "This link is not valid" in again.content.decode()


def test_password_reset_answers_the_same_for_an_unknown_address(staff_a):
    known = Client().post("/password-reset/", {"email": staff_a.user.email})
    unknown = Client().post("/password-reset/", {"email": "nobody@nowhere.example"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert OutboundEmail.unscoped_objects.filter(to_address="nobody@nowhere.example").count() == 0
    page = Client().get(unknown["Location"])
    assert "If an account with a password has this address" in page.content.decode()


def test_password_reset_sends_nothing_to_an_ended_account(staff_a):
    User.objects.filter(pk=staff_a.user_id).update(is_active=False)
    response = Client().post("/password-reset/", {"email": staff_a.user.email})
    assert response.status_code == 302
    assert OutboundEmail.unscoped_objects.count() == 0


def test_password_reset_rejects_a_malformed_address():
    response = Client().post("/password-reset/", {"email": "not an address\n"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()


def test_password_reset_mails_one_person_at_most_every_five_minutes(staff_a):
    for _attempt in range(3):
        assert Client().post("/password-reset/", {"email": staff_a.user.email}).status_code == 302
    assert OutboundEmail.unscoped_objects.filter(recipient=staff_a).count() == 1
    OutboundEmail.unscoped_objects.update(created_at=timezone.now() - timedelta(minutes=6))
    Client().post("/password-reset/", {"email": staff_a.user.email})
    assert OutboundEmail.unscoped_objects.filter(recipient=staff_a).count() == 2


def test_someone_coming_back_is_granted_a_membership_again_and_invited(
    api, programme_admin, programme, staff_a, in_programme, django_capture_on_commit_callbacks
):
    api(programme_admin).post(
        f"/api/v1/people/{staff_a.pk}/end-membership/", {"programme": programme.pk}, format="json"
    )
    assert User.objects.get(pk=staff_a.user_id).is_active is False
    with in_programme(programme):
        people.membership_grant(
            actor=actor_for(programme_admin.user), programme=programme, person=staff_a, roles=[R.STAFF]
        )
    assert Membership.unscoped_objects.get(person=staff_a).is_active is True
    with django_capture_on_commit_callbacks(execute=True):
        invited = api(programme_admin).post(
            "/api/v1/invitations/", {"programme": programme.pk, "person": staff_a.pk}, format="json"
        )
    assert invited.status_code == 201
    outbound = OutboundEmail.unscoped_objects.get(recipient=staff_a, kind="account.invitation")
    link = re.search(r"http://[^/\s]+(/invitation/[^/\s]+/)", outbound.body_text).group(1)
    client = Client()
    accepted = client.post(link, {"new_password1": "Back-again-2027", "new_password2": "Back-again-2027"})
    assert (accepted.status_code, client.get("/me/").status_code) == (302, 200)
    assert User.objects.get(pk=staff_a.user_id).is_active is True
