"""Fixtures of the focus-groups tests: a group of the programme with a convener, two members from different
organisations and an observer; a programme member outside the group; and a group of the other programme
with its own member, whose data must never leak."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from coordinator.core.tenancy import programme_scope
from focusgroups.models import FocusGroup, GroupMembership, Note
from organisations.models import Person, PlatformRole, Programme
from organisations.permissions import Actor, actor_for, forget_actor
from tests.factories import make_member
from tests.factories.focusgroups import FocusGroupFactory, make_group_member, make_note

Role = GroupMembership.Role


@pytest.fixture
def scope(programme: Programme) -> Iterator[None]:
    """Run the test body inside the programme's tenant scope, as a request would."""
    with programme_scope([programme.pk]):
        yield


@pytest.fixture
def as_actor() -> Callable[[Person], Actor]:
    def make(person: Person) -> Actor:
        forget_actor(person.user)
        return actor_for(person.user)

    return make


@pytest.fixture
def group(programme: Programme) -> FocusGroup:
    return FocusGroupFactory(programme=programme, code="informationsflodet", name="Informationsflödet")


@pytest.fixture
def convener(programme: Programme, org_b: Any, group: FocusGroup) -> Person:
    person = make_member(
        programme,
        org_b,
        PlatformRole.FOCUS_GROUP_CONVENER,
        PlatformRole.STAFF,
        user__first_name="Karin",
        user__last_name="Ek",
    )
    make_group_member(group, person, Role.CONVENER, mandate="Får besluta om gemensamma rutiner.")
    return person


@pytest.fixture
def member_a(programme: Programme, org_a: Any, group: FocusGroup) -> Person:
    person = make_member(
        programme, org_a, PlatformRole.STAFF, user__first_name="Anna", user__last_name="Berg"
    )
    make_group_member(group, person, Role.MEMBER, mandate="Får föreslå, inte besluta.")
    return person


@pytest.fixture
def member_b(programme: Programme, org_b: Any, group: FocusGroup) -> Person:
    person = make_member(
        programme, org_b, PlatformRole.STAFF, user__first_name="Omar", user__last_name="Said"
    )
    make_group_member(group, person, Role.MEMBER)
    return person


@pytest.fixture
def observer(programme: Programme, org_a: Any, group: FocusGroup) -> Person:
    person = make_member(
        programme, org_a, PlatformRole.STAFF, user__first_name="Olle", user__last_name="Observatör"
    )
    make_group_member(group, person, Role.OBSERVER)
    return person


@pytest.fixture
def nonmember(programme: Programme, org_a: Any) -> Person:
    """In the programme, not in the group."""
    return make_member(
        programme, org_a, PlatformRole.STAFF, user__first_name="Nils", user__last_name="Utanför"
    )


@pytest.fixture
def foreign_group(other_programme: Programme, outsider: Person) -> FocusGroup:
    """A group of the other programme, with the outsider in it and a note of each visibility."""
    group = FocusGroupFactory(programme=other_programme, code="samarbete", name="Samarbejde")
    make_group_member(group, outsider, Role.CONVENER)
    for visibility in Note.Visibility.values:
        make_note(
            group, title=f"Fremmed {visibility}", body="hemmelig", visibility=visibility, author=outsider
        )
    return group


@pytest.fixture
def note(group: FocusGroup, member_a: Person) -> Note:
    return make_note(group, title="Rutin för överlämning", body="Rad ett.\n", author=member_a)
