"""``actor_for``: who a signed-in user is, read once per request in a fixed number of queries."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from coordinator.core.models import Notification
from organisations.models import Membership, PlatformRole, RoleAssignment
from organisations.permissions import actor_for
from tests.factories import ProgrammeFactory, make_member

R = PlatformRole


def test_actor_reads_person_and_memberships_with_their_programmes_in_one_query(
    programme, other_programme, org_a, django_assert_num_queries
):
    person = make_member(programme, org_a, R.STAFF, R.LINE_MANAGER)
    third = ProgrammeFactory(name="Aaa första programmet", slug="aaa")
    Membership.unscoped_objects.create(programme=third, person=person)  # a membership without any role
    ended = ProgrammeFactory(name="Avslutat program", slug="avslutat")
    Membership.unscoped_objects.create(programme=ended, person=person, is_active=False)
    make_member(other_programme, org_a)  # someone else's membership of another programme
    user = User.objects.get(pk=person.user_id)

    with django_assert_num_queries(1):
        actor = actor_for(user)
        name = actor.person.full_name
        organisation = actor.person.organisation.name

    assert name == person.full_name
    assert organisation == org_a.name
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

    # The session, its user, the person with the memberships, their programmes and the unread count in one
    # query; the page's notifications.
    with django_assert_num_queries(4):
        response = client.get("/notifications/")

    assert response.status_code == 200
    assert response.wsgi_request.programme == programme
    assert response.wsgi_request.programme.name == programme.name


def test_actor_reads_unread_notifications_per_programme_with_the_memberships(
    programme, other_programme, org_a, org_b
):
    person = make_member(programme, org_a)
    Membership.unscoped_objects.create(programme=other_programme, person=person)
    someone_else = make_member(programme, org_b)
    for title in ("one", "two"):
        Notification.unscoped_objects.create(programme=programme, recipient=person, kind="x", title=title)
    Notification.unscoped_objects.create(
        programme=programme, recipient=person, kind="x", title="read", read_at=timezone.now()
    )
    Notification.unscoped_objects.create(programme=other_programme, recipient=person, kind="x", title="t")
    Notification.unscoped_objects.create(programme=programme, recipient=someone_else, kind="x", title="s")

    actor = actor_for(User.objects.get(pk=person.user_id))

    assert actor.unread == {programme.pk: 2, other_programme.pk: 1}


def test_actor_of_a_person_without_memberships_reads_the_person_alone(
    programme, org_a, django_assert_num_queries
):
    person = make_member(programme, org_a)
    Membership.unscoped_objects.filter(person=person).update(is_active=False)
    user = User.objects.get(pk=person.user_id)

    with django_assert_num_queries(2):
        actor = actor_for(user)
        organisation = actor.person.organisation.name

    assert actor.person == person
    assert organisation == org_a.name
    assert actor.memberships == {}
    assert actor.programmes == {}
    assert actor.unread == {}


def test_actor_of_a_user_without_person_has_no_memberships(db, django_assert_num_queries):
    user = User.objects.create_user("operator", password="x" * 12)

    with django_assert_num_queries(2):
        actor = actor_for(user)

    assert actor.person is None
    assert actor.memberships == {}


def test_actor_sees_a_role_removed_on_the_next_request(programme, org_a):
    person = make_member(programme, org_a, R.STAFF, R.COORDINATOR)
    assert actor_for(User.objects.get(pk=person.user_id)).roles_in(programme) == {R.STAFF, R.COORDINATOR}

    RoleAssignment.unscoped_objects.filter(membership__person=person, role=R.COORDINATOR).delete()

    assert actor_for(User.objects.get(pk=person.user_id)).roles_in(programme) == {R.STAFF}
