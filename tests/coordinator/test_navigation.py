"""The layout's navigation and role names, kept per language, membership and set of roles
(``coordinator.pages.context_processors``): the same items every registered item's own check gives, and a
role granted or removed, a membership ended or an account deactivated seen on the very next request."""

from __future__ import annotations

import itertools
import re

import pytest
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.utils import translation

from coordinator.core import registry
from coordinator.core.tenancy import programme_scope
from coordinator.pages import context_processors
from organisations.models import Membership, PlatformRole, RoleAssignment
from organisations.permissions import actor_for, forget_actor
from tests.factories import make_member

R = PlatformRole


def _nav(content: bytes) -> list[str]:
    found = re.search(rb'<nav[^>]*aria-label="[^"]*"[^>]*>(.*?)</nav>', content, re.S)
    assert found is not None
    return re.findall(r'href="([^"]+)"', found.group(1).decode())


@pytest.mark.parametrize("roles", [(), (R.STAFF,), (R.LINE_MANAGER,), (R.COORDINATOR, R.STAFF)])
@pytest.mark.parametrize("language", ["sv", "da", "en"])
def test_kept_navigation_is_each_items_own_answer(programme, org_a, roles, language):
    person = make_member(programme, org_a, *roles)
    request = RequestFactory().get("/")
    request.user = person.user
    request.programme = programme
    context_processors._NAVIGATION.clear()

    with translation.override(language), programme_scope([programme.pk]):
        first = context_processors.layout(request)
        again = context_processors.layout(request)
        shape = tuple((item.url_name, str(item.label)) for item in first["layout_nav"])
        held = actor_for(person.user).roles_in(programme)
        labels = [str(choice.label) for choice in PlatformRole if choice.value in held]

    assert first["layout_nav"] == [item for item in registry.nav_items if item.visible(request)]
    assert first["layout_roles"] == labels
    assert again["layout_nav_shape"] == shape
    assert (again["layout_nav"], again["layout_roles"]) == (first["layout_nav"], first["layout_roles"])
    assert len(context_processors._NAVIGATION) == 1
    assert held == (frozenset(roles) or {R.STAFF})


def test_every_set_of_roles_gets_the_items_own_answer(programme, org_a):
    person = make_member(programme, org_a)
    membership = Membership.unscoped_objects.get(person=person, programme=programme)
    context_processors._NAVIGATION.clear()
    seen = set()
    for roles in itertools.combinations(list(PlatformRole), 2):
        RoleAssignment.unscoped_objects.filter(membership=membership).delete()
        RoleAssignment.unscoped_objects.bulk_create(
            RoleAssignment(membership=membership, role=r) for r in roles
        )
        user = User.objects.get(pk=person.user_id)
        request = RequestFactory().get("/")
        request.user = user
        request.programme = programme

        with programme_scope([programme.pk]):
            kept = context_processors.layout(request)["layout_nav"]

        assert kept == [item for item in registry.nav_items if item.visible(request)], roles
        seen.add(tuple(item.url_name for item in kept))
    assert len(seen) > 5  # the role sets really show different navigations


def test_a_role_granted_and_removed_is_seen_on_the_next_page(web, programme, org_a):
    person = make_member(programme, org_a, R.STAFF)
    client = web(person)
    before = _nav(client.get("/organisations/").content)
    membership = Membership.unscoped_objects.get(person=person, programme=programme)
    granted = RoleAssignment.unscoped_objects.create(membership=membership, role=R.LINE_MANAGER)

    with_role = _nav(client.get("/organisations/").content)
    granted.delete()
    after = _nav(client.get("/organisations/").content)

    assert sorted(set(with_role) - set(before)) == [
        "/organisations/competences/gaps/",
        "/seminars/approvals/",
        "/shadowing/approvals/",
    ]
    assert after == before


def test_a_deactivated_account_is_refused_on_the_next_page(web, programme, org_a):
    person = make_member(programme, org_a, R.STAFF)
    client = web(person)
    assert client.get("/organisations/").status_code == 200

    User.objects.filter(pk=person.user_id).update(is_active=False)
    response = client.get("/organisations/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/organisations/"


def test_an_ended_membership_loses_the_members_navigation(programme, org_a):
    person = make_member(programme, org_a, R.STAFF)
    request = RequestFactory().get("/")
    request.user = person.user
    request.programme = programme
    with programme_scope([programme.pk]):
        member_nav = context_processors.layout(request)["layout_nav"]
        Membership.unscoped_objects.filter(person=person, programme=programme).delete()
        forget_actor(person.user)
        after = context_processors.layout(request)["layout_nav"]

    assert actor_for(person.user).is_member(programme) is False
    assert after == [item for item in registry.nav_items if item.visible(request)]
    assert [item.url_name for item in after] == ["organisations:list"]
    assert len(member_nav) > len(after)
