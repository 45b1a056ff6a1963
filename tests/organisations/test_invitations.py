"""Invitations: sent through the outbox when a person is created or invited, used once to set a password,
refused clearly when expired, used, withdrawn, replaced or forged, and resent at most so often."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone

from coordinator.core.models import Notification, OutboundEmail
from organisations.models import Invitation, Person
from organisations.models import PlatformRole as R
from organisations.permissions import actor_for
from organisations.services import invitations
from tests.factories import make_member

PASSWORD = "Kockums-dagarna-2026"


def _link(outbound: OutboundEmail) -> str:
    match = re.search(r"http://[^/\s]+(/invitation/[^/\s]+/)", outbound.body_text)
    assert match is not None, outbound.body_text
    return match.group(1)


def _new_person(api, programme_admin, programme, org_a, **extra):
    response = api(programme_admin).post(
        "/api/v1/people/",
        {
            "programme": programme.pk,
            "organisation": org_a.pk,
            "username": "amina.h",
            "email": "amina.hassan@migrationsverket.example",
            "first_name": "Amina",
            "last_name": "Hassan",
            "preferred_language": "en",
            **extra,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return Person.unscoped_objects.select_related("user").get(pk=response.json()["id"])


@pytest.fixture
def invited(api, programme_admin, programme, org_a, django_capture_on_commit_callbacks):
    """A person created through the API with an invitation; returns (person, link path)."""
    with django_capture_on_commit_callbacks(execute=True):
        person = _new_person(api, programme_admin, programme, org_a, invite=True)
    outbound = OutboundEmail.unscoped_objects.get(recipient=person, kind=invitations.INVITATION_KIND)
    return person, _link(outbound)


def test_person_created_with_invite_is_mailed_a_link_through_the_outbox(invited, programme_admin, programme):
    person, link = invited
    outbound = OutboundEmail.unscoped_objects.get(recipient=person)
    assert outbound.status == OutboundEmail.Status.SENT
    assert outbound.subject == f"[{programme.name}] You are invited to {programme.name}"
    assert outbound.to_address == "amina.hassan@migrationsverket.example"
    assert [m.to for m in mail.outbox] == [["amina.hassan@migrationsverket.example"]]
    assert f"{programme_admin.full_name} has invited you to {programme.name}" in mail.outbox[0].body
    assert "The link works once, for 14 days." in mail.outbox[0].body
    # Only the digest is stored, and no in-app notification carries the link.
    invitation = Invitation.unscoped_objects.get(person=person)
    token = link.split("/")[2]
    assert invitation.token_hash != token and token not in invitation.token_hash
    assert Notification.unscoped_objects.filter(recipient=person).count() == 0


def test_person_created_without_invite_gets_no_mail(api, programme_admin, programme, org_a):
    person = _new_person(api, programme_admin, programme, org_a)
    assert Invitation.unscoped_objects.filter(person=person).count() == 0
    assert OutboundEmail.unscoped_objects.filter(recipient=person).count() == 0


def test_invitation_mail_is_in_the_persons_language(api, programme_admin, programme, org_a):
    person = _new_person(api, programme_admin, programme, org_a, preferred_language="sv")
    response = api(programme_admin).post(
        "/api/v1/invitations/", {"programme": programme.pk, "person": person.pk}, format="json"
    )
    assert response.status_code == 201
    outbound = OutboundEmail.unscoped_objects.get(recipient=person)
    assert outbound.subject == f"[{programme.name}] Du är inbjuden till {programme.name}"


def test_accepting_sets_the_password_and_signs_in(invited):
    person, link = invited
    client = Client()
    page = client.get(link)
    assert page.status_code == 200
    assert "Your username is <strong>amina.h</strong>" in page.content.decode()
    response = client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/")
    user = User.objects.get(pk=person.user_id)
    assert user.check_password(PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)
    invitation = Invitation.unscoped_objects.get(person=person)
    assert invitation.status == Invitation.Status.ACCEPTED
    # The password works on the ordinary sign-in too.
    assert Client().post("/login/", {"username": "amina.h", "password": PASSWORD}).status_code == 302


def test_a_used_link_says_so_and_changes_nothing(invited):
    person, link = invited
    Client().post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    again = Client().post(
        link, {"new_password1": "Another-long-pass-99", "new_password2": "Another-long-pass-99"}
    )
    assert again.status_code == 410
    assert "This invitation has already been used." in again.content.decode()
    assert User.objects.get(pk=person.user_id).check_password(PASSWORD)


def test_an_expired_link_says_so_and_changes_nothing(invited):
    person, link = invited
    Invitation.unscoped_objects.filter(person=person).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 410
    assert "This invitation has expired." in response.content.decode()
    user = User.objects.get(pk=person.user_id)
    assert user.has_usable_password() is False
    assert Invitation.unscoped_objects.get(person=person).status == Invitation.Status.PENDING


def test_a_forged_link_says_so(invited):
    person, link = invited
    forged = link[:-5] + "AAAA/"
    response = Client().post(forged, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 404
    assert "This invitation link is not valid." in response.content.decode()
    assert User.objects.get(pk=person.user_id).has_usable_password() is False
    assert Client().get("/invitation/" + "x" * 300 + "/").status_code == 404


def test_a_weak_password_is_refused_on_the_form_and_the_link_still_works(invited):
    person, link = invited
    response = Client().post(link, {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 400
    assert "This password is too short. It must contain at least 10 characters." in response.content.decode()
    assert Invitation.unscoped_objects.get(person=person).status == Invitation.Status.PENDING


def test_revoked_link_says_it_was_withdrawn(invited, api, programme_admin):
    person, link = invited
    invitation = Invitation.unscoped_objects.get(person=person)
    response = api(programme_admin).post(f"/api/v1/invitations/{invitation.pk}/revoke/")
    assert (response.status_code, response.json()["state"]) == (200, "revoked")
    page = Client().get(link)
    assert page.status_code == 410
    assert "This invitation was withdrawn." in page.content.decode()
    again = api(programme_admin).post(f"/api/v1/invitations/{invitation.pk}/revoke/")
    assert again.status_code == 400


def test_resend_replaces_the_link_and_is_rate_limited(invited, api, programme_admin, settings):
    person, old_link = invited
    invitation = Invitation.unscoped_objects.get(person=person)
    too_soon = api(programme_admin).post(f"/api/v1/invitations/{invitation.pk}/resend/")
    assert too_soon.status_code == 400
    assert too_soon.json() == {"person": ["An invitation was sent to this person less than 10 minutes ago."]}
    Invitation.unscoped_objects.filter(pk=invitation.pk).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    resent = api(programme_admin).post(f"/api/v1/invitations/{invitation.pk}/resend/")
    assert (resent.status_code, resent.json()["state"]) == (201, "pending")
    assert Client().get(old_link).status_code == 410
    assert "A newer invitation has been sent to you" in Client().get(old_link).content.decode()
    newest = OutboundEmail.unscoped_objects.filter(recipient=person).order_by("-pk").first()
    assert Client().get(_link(newest)).status_code == 200
    states = sorted(Invitation.unscoped_objects.filter(person=person).values_list("status", flat=True))
    assert states == ["pending", "replaced"]


def test_someone_who_already_uses_their_account_is_not_invited(api, programme_admin, programme, staff_a):
    response = api(programme_admin).post(
        "/api/v1/invitations/", {"programme": programme.pk, "person": staff_a.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "person": ["This person already has an account; they can reset their password if it is lost."]
    }


def test_only_admins_invite(api, staff_b, programme, org_a, programme_admin):
    person = _new_person(api, programme_admin, programme, org_a)
    response = api(staff_b).post(
        "/api/v1/invitations/", {"programme": programme.pk, "person": person.pk}, format="json"
    )
    assert response.status_code == 403
    assert Invitation.unscoped_objects.count() == 0


def test_organisation_admin_invites_own_people_only(api, programme, org_a, org_b, programme_admin):
    own = _new_person(api, programme_admin, programme, org_a)
    org_admin = make_member(programme, org_a, R.ORGANISATION_ADMIN)
    other_admin = make_member(programme, org_b, R.ORGANISATION_ADMIN)
    refused = api(other_admin).post(
        "/api/v1/invitations/", {"programme": programme.pk, "person": own.pk}, format="json"
    )
    assert refused.status_code == 403
    accepted = api(org_admin).post(
        "/api/v1/invitations/", {"programme": programme.pk, "person": own.pk}, format="json"
    )
    assert accepted.status_code == 201
    assert [row["id"] for row in api(other_admin).get("/api/v1/invitations/").json()["results"]] == []
    assert [row["person"] for row in api(org_admin).get("/api/v1/invitations/").json()["results"]] == [own.pk]


def test_invitations_of_another_programme_are_invisible(invited, api, outsider):
    person, _link_path = invited
    invitation = Invitation.unscoped_objects.get(person=person)
    assert api(outsider).get("/api/v1/invitations/").json()["results"] == []
    assert api(outsider).get(f"/api/v1/invitations/{invitation.pk}/").status_code == 404
    assert api(outsider).post(f"/api/v1/invitations/{invitation.pk}/revoke/").status_code == 404
    assert api(None).get("/api/v1/invitations/").status_code == 401


def test_foreign_person_cannot_be_invited(api, programme_admin, programme, outsider):
    response = api(programme_admin).post(
        "/api/v1/invitations/", {"programme": programme.pk, "person": outsider.pk}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["person"]


def test_invitation_list_query_count(
    api, programme_admin, programme, org_a, in_programme, django_assert_num_queries
):
    def invite_one(n: int) -> None:
        person = make_member(programme, org_a, R.STAFF)
        User.objects.filter(pk=person.user_id).update(password="!unusable")
        person.user.refresh_from_db()
        with in_programme(programme):
            invitations.invite(actor=actor_for(programme_admin.user), programme=programme, person=person)

    client = api(programme_admin)
    invite_one(1)
    with django_assert_num_queries(1):
        assert len(client.get("/api/v1/invitations/").json()["results"]) == 1
    invite_one(2)
    invite_one(3)
    with django_assert_num_queries(1):
        assert len(client.get("/api/v1/invitations/").json()["results"]) == 3
