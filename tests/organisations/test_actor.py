"""``actor_for``: who a signed-in user is, read once per request in a fixed number of queries."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client

from organisations.models import Membership, PlatformRole
from organisations.permissions import actor_for
from tests.factories import ProgrammeFactory, make_member

R = PlatformRole


def test_actor_reads_person_and_memberships_with_their_programmes_in_two_queries(
    programme, other_programme, org_a, django_assert_num_queries
):
    person = make_member(programme, org_a, R.STAFF, R.LINE_MANAGER)
    third = ProgrammeFactory(name="Aaa första programmet", slug="aaa")
    Membership.unscoped_objects.create(programme=third, person=person)  # a membership without any role
    ended = ProgrammeFactory(name="Avslutat program", slug="avslutat")
    Membership.unscoped_objects.create(programme=ended, person=person, is_active=False)
    make_member(other_programme, org_a)  # someone else's membership of another programme
    user = User.objects.get(pk=person.user_id)

    with django_assert_num_queries(2):
        actor = actor_for(user)
        name = actor.person.full_name

    assert name == person.full_name
    assert actor.person.user is user
    assert list(actor.memberships) == [third.pk, programme.pk]
    assert actor.memberships[programme.pk].roles == frozenset({R.STAFF, R.LINE_MANAGER})
    assert actor.memberships[third.pk].roles == frozenset()
    assert {pid: p.name for pid, p in actor.programmes.items()} == {
        third.pk: "Aaa första programmet",
        programme.pk: programme.name,
    }


def test_page_takes_its_programme_from_the_actor(
    programme, other_programme, org_a, django_assert_num_queries
):
    person = make_member(programme, org_a)
    make_member(other_programme, org_a)
    client = Client()
    client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")

    # The session, its user, the person, the memberships with their programmes (no query of the programme
    # on its own); the page's notifications and the unread count.
    with django_assert_num_queries(6):
        response = client.get("/notifications/")

    assert response.status_code == 200
    assert response.wsgi_request.programme == programme
    assert response.wsgi_request.programme.name == programme.name
