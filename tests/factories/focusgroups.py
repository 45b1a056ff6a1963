"""Factories of the focus-groups app. ``make_group_member`` seats a person (their rights follow from the
membership), and ``make_note`` writes version 1, so tests start from consistent data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from focusgroups.models import (
    ActionItem,
    Concept,
    ConceptTerm,
    FocusGroup,
    GroupMembership,
    Meeting,
    Note,
    NoteVersion,
)
from organisations.models import Person
from tests.factories import TenantFactory
from tests.factories.organisations import ProgrammeFactory

__all__ = [
    "ActionFactory",
    "ConceptFactory",
    "ConceptTermFactory",
    "FocusGroupFactory",
    "MeetingFactory",
    "make_group_member",
    "make_note",
]


class FocusGroupFactory(TenantFactory):
    class Meta:
        model = FocusGroup

    programme = factory.SubFactory(ProgrammeFactory)
    code = factory.Sequence(lambda n: f"grupp-{n}")
    name = factory.Sequence(lambda n: f"Fokusgrupp {n}")
    purpose = "Hur informationen om en person flödar mellan myndigheterna."


def make_group_member(
    group: FocusGroup, person: Person, role: str = GroupMembership.Role.MEMBER, **kwargs: Any
) -> GroupMembership:
    membership = GroupMembership.unscoped_objects.create(
        group=group, person=person, organisation_id=person.organisation_id, role=role, **kwargs
    )
    if role == GroupMembership.Role.CONVENER:
        group.convener = person
        group.save(update_fields=["convener"])
    return membership


def make_note(
    group: FocusGroup,
    *,
    title: str = "Anteckningar",
    body: str = "Första utkastet.",
    visibility: str = Note.Visibility.GROUP,
    author: Person | None = None,
) -> Note:
    note = Note.unscoped_objects.create(
        group=group, title=title, body=body, visibility=visibility, updated_by=author
    )
    NoteVersion.unscoped_objects.create(note=note, version=1, title=title, body=body, author=author)
    return note


class MeetingFactory(TenantFactory):
    class Meta:
        model = Meeting

    group = factory.SubFactory(FocusGroupFactory)
    title = factory.Sequence(lambda n: f"Möte {n}")
    starts_at = factory.LazyFunction(lambda: (timezone.now() + timedelta(days=7)).replace(microsecond=0))
    ends_at = factory.LazyAttribute(lambda m: m.starts_at + timedelta(hours=2))
    place = "Stadshuset, rum 3"


class ActionFactory(TenantFactory):
    class Meta:
        model = ActionItem

    group = factory.SubFactory(FocusGroupFactory)
    title = factory.Sequence(lambda n: f"Åtgärd {n}")
    owner: Any = None
    organisation = factory.LazyAttribute(lambda a: a.owner.organisation)
    due_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=14))


class ConceptFactory(TenantFactory):
    class Meta:
        model = Concept

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"begrepp-{n}")
    description = "Den person som myndigheten arbetar med."


class ConceptTermFactory(TenantFactory):
    class Meta:
        model = ConceptTerm

    concept = factory.SubFactory(ConceptFactory)
    organisation: Any = None
    term = "kund"
    definition = "En person som är inskriven hos myndigheten."
