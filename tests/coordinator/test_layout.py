"""The shared layout of every signed-in page: the unread badge and the programme switcher come with the
person's memberships (``actor_for``), read afresh on every request."""

from __future__ import annotations

import re

from django.utils import timezone

from coordinator.core.models import Notification
from organisations.models import Membership, RoleAssignment
from tests.factories import ProgrammeFactory, make_member


def _badge(content: bytes) -> str:
    badge = rb'<span class="badge" id="notification-count" data-count="(\d+)">(\d+)</span>'
    found = re.search(badge, content)
    assert found is not None
    assert found.group(1) == found.group(2)
    return found.group(1).decode()


def _switcher(content: bytes) -> list[str]:
    found = re.search(rb'<select id="programme-switch" name="programme">(.*?)</select>', content, re.S)
    return [] if found is None else re.findall(r"<option [^>]*>([^<]*)</option>", found.group(1).decode())


def test_badge_counts_my_unread_notifications_of_the_current_programme(
    web, programme, other_programme, org_a, org_b
):
    person = make_member(programme, org_a)
    membership = Membership.unscoped_objects.create(programme=other_programme, person=person)
    RoleAssignment.unscoped_objects.create(membership=membership, role="staff")
    someone_else = make_member(programme, org_b)
    for title in ("one", "two", "three"):
        Notification.unscoped_objects.create(programme=programme, recipient=person, kind="x", title=title)
    Notification.unscoped_objects.create(
        programme=programme, recipient=person, kind="x", title="read", read_at=timezone.now()
    )
    Notification.unscoped_objects.create(programme=other_programme, recipient=person, kind="x", title="da")
    Notification.unscoped_objects.create(programme=programme, recipient=someone_else, kind="x", title="s")
    client = web(person)
    client.post("/programme/", {"programme": str(programme.pk)})

    here = client.get("/organisations/")
    client.post("/programme/", {"programme": str(other_programme.pk)})
    there = client.get("/organisations/")

    assert _badge(here.content) == "3"
    assert _badge(there.content) == "1"


def test_badge_shows_a_new_and_a_read_notification_on_the_next_page(web, programme, staff_a):
    client = web(staff_a)
    assert _badge(client.get("/organisations/").content) == "0"

    first = Notification.unscoped_objects.create(programme=programme, recipient=staff_a, kind="x", title="1")
    Notification.unscoped_objects.create(programme=programme, recipient=staff_a, kind="x", title="2")
    assert _badge(client.get("/organisations/").content) == "2"

    client.post("/notifications/read/", {"id": str(first.pk)})
    assert _badge(client.get("/organisations/").content) == "1"


def test_switcher_lists_my_other_programmes_by_name(web, programme, other_programme, org_a, org_other):
    person = make_member(programme, org_a)
    for other in (other_programme, ProgrammeFactory(name="Aaa första programmet", slug="aaa")):
        membership = Membership.unscoped_objects.create(programme=other, person=person)
        RoleAssignment.unscoped_objects.create(membership=membership, role="staff")
    ended = ProgrammeFactory(name="Avslutat program", slug="avslutat")
    Membership.unscoped_objects.create(programme=ended, person=person, is_active=False)
    make_member(ProgrammeFactory(name="Någon annans program", slug="annan"), org_other)
    client = web(person)
    client.post("/programme/", {"programme": str(programme.pk)})

    page = client.get("/organisations/")

    assert _switcher(page.content) == [programme.name, "Aaa första programmet", other_programme.name]


def test_switcher_is_absent_for_a_member_of_one_programme(web, staff_a):
    assert _switcher(web(staff_a).get("/organisations/").content) == []


def test_signed_in_page_reads_session_user_and_identity_before_its_content(
    web, staff_a, django_assert_num_queries
):
    client = web(staff_a)
    client.get("/notifications/")

    # The session, its user, then the person with organisation, unit, memberships, roles, programmes and
    # unread count in one query; the page's own content: its notifications.
    with django_assert_num_queries(4):
        response = client.get("/notifications/")

    assert response.status_code == 200
    assert _badge(response.content) == "0"
