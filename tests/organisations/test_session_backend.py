"""The session backend (``organisations.access.backends.SessionIdentityBackend``): a signed-in page reads its
user joined to the person's identity, one query fewer than ``ModelBackend``, and shows and allows exactly
what it did."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client

from coordinator.core.models import Notification
from coordinator.pages.views.signin import BACKEND
from organisations.models import Membership
from organisations.models import PlatformRole as R
from tests.factories.organisations import UserFactory, WorkRoleFactory, make_member

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
SESSION_BACKEND = "organisations.access.backends.SessionIdentityBackend"


def signed_in(person, backend: str = SESSION_BACKEND) -> Client:
    client = Client()
    client.force_login(person.user, backend=backend)
    return client


def _without_tokens(html: str) -> str:
    """The page with the per-request CSRF tokens and nonces written as placeholders."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="-"', html)
    html = re.sub(r'content="[A-Za-z0-9]{64}" name="csrf', 'content="-" name="csrf', html)
    return re.sub(r'nonce="[^"]+"', 'nonce="-"', html)


@pytest.fixture
def manager_world(programme, other_programme, org_a, org_other, unit_a):
    manager = make_member(programme, org_a, R.LINE_MANAGER, R.STAFF, unit=unit_a)
    manager.user.first_name, manager.user.last_name = "Karin", "Lund"
    manager.user.save()
    nurse = WorkRoleFactory(programme=programme, name="Sjuksköterska")
    person = make_member(programme, org_a, R.STAFF, unit=unit_a, line_manager=manager, work_role=nurse)
    # The manager is in another programme too (it sorts after this one: the page shows this one).
    Membership.unscoped_objects.create(programme=other_programme, person=manager)
    for title in ("Ny plats", "Påminnelse"):
        Notification.unscoped_objects.create(programme=programme, recipient=person, kind="test", title=title)
    Notification.unscoped_objects.create(programme=other_programme, recipient=person, kind="test", title="X")
    return {"person": person, "manager": manager}


def test_sign_in_remembers_the_session_backend(programme, org_a):
    person = make_member(programme, org_a, R.STAFF)
    person.user.set_password("a-long-password-1")
    person.user.save()
    client = Client()

    response = client.post("/login/", {"username": person.user.username, "password": "a-long-password-1"})

    assert response.status_code == 302
    session = Session.objects.get()
    assert session.get_decoded()[BACKEND_SESSION_KEY] == SESSION_BACKEND == BACKEND
    assert client.get("/me/").status_code == 200


def test_a_wrong_password_is_refused(programme, org_a):
    person = make_member(programme, org_a, R.STAFF)
    person.user.set_password("a-long-password-1")
    person.user.save()

    response = Client().post("/login/", {"username": person.user.username, "password": "wrong-one-2"})

    assert response.status_code == 200  # the form again, with its error
    assert Session.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("person", "/me/"),
        ("person", "/seminars/"),
        ("person", "/shadowing/"),
        ("person", "/"),
        ("manager", "/shadowing/approvals/"),
        ("manager", "/me/"),
    ],
)
def test_pages_are_the_same_with_either_backend(manager_world, who, path):
    person = manager_world[who]

    before = signed_in(person, MODEL_BACKEND).get(path)
    after = signed_in(person, SESSION_BACKEND).get(path)

    assert (after.status_code, after.get("Location")) == (before.status_code, before.get("Location"))
    assert _without_tokens(after.content.decode()) == _without_tokens(before.content.decode())


def test_my_page_reads_one_query_fewer(manager_world, django_assert_num_queries):
    old, new = signed_in(manager_world["person"], MODEL_BACKEND), signed_in(manager_world["person"])
    old.get("/me/"), new.get("/me/")

    with django_assert_num_queries(5):  # the session, the user, the identity, ...
        old.get("/me/")
    # The session, the identity with its user and the role at work's name; the person's stamp with the line
    # manager and their name (the history is kept under it); the competence profile's competences with their
    # sources.
    with django_assert_num_queries(4):
        response = new.get("/me/")

    content = response.content.decode()
    assert "<dt>Line manager</dt><dd>Karin Lund</dd>" in content
    assert "Profile of the role at work: Sjuksköterska." in content
    assert '<span class="badge" id="notification-count" data-count="2">2</span>' in content


@pytest.mark.parametrize("path", ["/seminars/", "/shadowing/"])
def test_the_catalogue_and_the_workplaces_read_one_query_fewer(
    manager_world, path, django_assert_num_queries
):
    client = signed_in(manager_world["person"])
    old = signed_in(manager_world["person"], MODEL_BACKEND)
    client.get(path), old.get(path)

    # The session (a table in the tests; the cache in production), the identity with its user, the page's
    # own rows with the content stamp.
    with django_assert_num_queries(3):
        response = client.get(path)
    # Signed in with ModelBackend: the session, the user, the identity, the page's own rows.
    with django_assert_num_queries(4):
        before = old.get(path)

    assert response.status_code == 200
    assert _without_tokens(response.content.decode()) == _without_tokens(before.content.decode())


def test_a_deactivated_account_is_signed_out_on_its_next_request(manager_world):
    person = manager_world["person"]
    client = signed_in(person)
    assert client.get("/me/").status_code == 200

    type(person.user).objects.filter(pk=person.user.pk).update(is_active=False)

    response = client.get("/me/")
    assert (response.status_code, response["Location"]) == (302, "/login/?next=/me/")


def test_a_changed_password_signs_the_session_out(manager_world):
    person = manager_world["person"]
    client = signed_in(person)
    assert client.get("/me/").status_code == 200

    person.user.set_password("another-password-3")
    person.user.save()

    response = client.get("/me/")
    assert (response.status_code, response["Location"]) == (302, "/login/?next=/me/")


def test_an_ended_membership_counts_on_the_next_request(manager_world):
    person = manager_world["person"]
    client = signed_in(person)
    assert client.get("/seminars/").status_code == 200

    Membership.unscoped_objects.filter(person=person).update(is_active=False)

    # Signed in still (the account is active), but a member of no programme: refused, as with ModelBackend.
    response = client.get("/seminars/")
    before = signed_in(person, MODEL_BACKEND).get("/seminars/")
    assert (response.status_code, before.status_code) == (403, 403)
    assert _without_tokens(response.content.decode()) == _without_tokens(before.content.decode())


def test_an_account_without_a_person_stays_signed_in(db):
    user = UserFactory(username="admin-only")
    client = Client()
    client.force_login(user, backend=SESSION_BACKEND)
    old = Client()
    old.force_login(user, backend=MODEL_BACKEND)

    new_page, old_page = client.get("/"), old.get("/")

    assert (new_page.status_code, new_page.get("Location")) == (
        old_page.status_code,
        old_page.get("Location"),
    )
    assert _without_tokens(new_page.content.decode()) == _without_tokens(old_page.content.decode())


def test_my_page_never_names_a_role_of_another_programme(
    manager_world, other_programme, django_assert_num_queries
):
    """A membership pointing at another programme's role (no constraint forbids it) shows no role, as
    the programme-scoped read of the role showed none."""
    person = manager_world["person"]
    elsewhere = WorkRoleFactory(programme=other_programme, name="Hemlig roll")
    Membership.unscoped_objects.filter(person=person).update(work_role=elsewhere)
    client = signed_in(person)
    client.get("/me/")

    with django_assert_num_queries(5):  # the role's name read in the programme's scope: none
        content = client.get("/me/").content.decode()

    assert "Hemlig roll" not in content
    assert "No role at work is recorded in this programme, so no profile applies." in content
