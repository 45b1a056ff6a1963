"""The course catalogue and the workplaces page signed in with the sign-in views' backend
(``organisations.access.backends.SessionIdentityBackend``, the identity read with the user): each programme
of a reader in two shows its own rows, as signed in with ``ModelBackend``; a right changed or lost and a
session ended count on the very next page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from coordinator.core.tenancy import unscoped
from organisations.models import Membership, Participation, Programme, RoleAssignment
from organisations.models import PlatformRole as R
from tests.factories import make_member
from tests.factories.seminars import CompletionFactory, CourseFactory, RoundFactory, make_enrolment
from tests.factories.shadowing import SlotFactory, WorkplaceFactory

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
SESSION_BACKEND = "organisations.access.backends.SessionIdentityBackend"


def signed_in(person, backend: str = SESSION_BACKEND) -> Client:
    client = Client()
    client.force_login(person.user, backend=backend)
    return client


def _without_tokens(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="-"', html)
    html = re.sub(r'content="[A-Za-z0-9]{64}" name="csrf', 'content="-" name="csrf', html)
    return re.sub(r'nonce="[^"]+"', 'nonce="-"', html)


@pytest.fixture
def two_programmes(programme, other_programme, org_a, org_other):
    """A coordinator of ``programme`` who is staff in ``other_programme`` too (which sorts first by name:
    the default programme), with courses, rounds, a booking, a completion and workplaces in both, and an
    outsider's booking that must never show."""
    Participation.unscoped_objects.create(programme=other_programme, organisation=org_a)
    person = make_member(programme, org_a, R.COORDINATOR, R.STAFF)
    Membership.unscoped_objects.create(programme=other_programme, person=person)
    outsider = make_member(other_programme, org_other, R.STAFF)
    later = timezone.now() + timedelta(days=30)
    here = RoundFactory(course=CourseFactory(programme=programme, title="Bemötande här"), starts_at=later)
    there = RoundFactory(course=CourseFactory(programme=other_programme, title="Kursus der"), starts_at=later)
    done = CourseFactory(programme=other_programme, title="Afsluttet der")
    with unscoped():
        make_enrolment(here, person)
        make_enrolment(there, outsider)
        CompletionFactory(person=person, course=done)
    host = make_member(programme, org_a, R.STAFF)
    for where, name in ((programme, "Rosengård"), (other_programme, "Nørrebro")):
        workplace = WorkplaceFactory(
            programme=where, organisation=org_a, contact=host, is_published=True, name=name
        )
        SlotFactory(workplace=workplace, date=timezone.localdate() + timedelta(days=9), capacity=2)
    return person


PATHS = ["/seminars/", "/shadowing/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PATHS)
def test_each_programme_of_a_reader_shows_its_own_rows(two_programmes, programme, path):
    person = two_programmes
    client, old = signed_in(person), signed_in(person, MODEL_BACKEND)

    default = client.get(path).content.decode()
    assert _without_tokens(default) == _without_tokens(old.get(path).content.decode())
    for chosen in (client, old):
        session = chosen.session
        session["programme_id"] = programme.pk
        session.save()
    chosen_page = client.get(path).content.decode()

    assert _without_tokens(chosen_page) == _without_tokens(old.get(path).content.decode())
    here, there = ("Bemötande här", "Kursus der") if path == "/seminars/" else ("Rosengård", "Nørrebro")
    assert (here in default, there in default) == (False, True)
    assert (here in chosen_page, there in chosen_page) == (True, False)


def _end_membership(person, programme) -> None:
    Membership.unscoped_objects.filter(person=person).update(is_active=False)


def _remove_coordinator(person, programme) -> None:
    RoleAssignment.unscoped_objects.filter(membership__person=person, role=R.COORDINATOR).delete()


def _archive(person, programme) -> None:
    Programme.unscoped_objects.filter(pk=programme.pk).update(archived_at=timezone.now())


CHANGES_SHOWN = {
    "membership ended": _end_membership,
    "role removed": _remove_coordinator,
    "archived": _archive,
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("change", CHANGES_SHOWN)
def test_a_right_changed_shows_on_the_very_next_page(two_programmes, programme, path, change):
    person = two_programmes
    client = signed_in(person)
    session = client.session
    session["programme_id"] = programme.pk
    session.save()
    before = client.get(path)

    CHANGES_SHOWN[change](person, programme)

    after = client.get(path)
    fresh = signed_in(person, MODEL_BACKEND)
    session = fresh.session
    session["programme_id"] = programme.pk
    session.save()
    expected = fresh.get(path)
    assert (after.status_code, _without_tokens(after.content.decode())) == (
        expected.status_code,
        _without_tokens(expected.content.decode()),
    )
    assert _without_tokens(after.content.decode()) != _without_tokens(before.content.decode())
    statuses = {"membership ended": 403, "role removed": 200, "archived": 200}
    assert (before.status_code, after.status_code) == (200, statuses[change])


def _deactivate(client, person) -> None:
    type(person.user).objects.filter(pk=person.user.pk).update(is_active=False)


def _change_password(client, person) -> None:
    person.user.set_password("another-password-3")
    person.user.save()


def _sign_out(client, person) -> None:
    client.post("/logout/")


def _expire(client, person) -> None:
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))


SIGNED_OUT = {
    "deactivated": _deactivate,
    "password changed": _change_password,
    "signed out": _sign_out,
    "expired": _expire,
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("change", SIGNED_OUT)
def test_a_session_ended_counts_on_the_very_next_page(two_programmes, path, change):
    person = two_programmes
    client = signed_in(person)
    assert client.get(path).status_code == 200

    SIGNED_OUT[change](client, person)

    response = client.get(path)
    assert (response.status_code, response["Location"]) == (302, f"/login/?next={path}")
