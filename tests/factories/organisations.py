from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import User
from factory.django import DjangoModelFactory

from organisations.models import (
    Funder,
    Membership,
    Organisation,
    OrganisationKind,
    Participation,
    Person,
    PlatformRole,
    Programme,
    RoleAssignment,
    Unit,
    WorkRole,
)
from tests.factories import TenantFactory

__all__ = [
    "FunderFactory",
    "OrganisationFactory",
    "PersonFactory",
    "ProgrammeFactory",
    "UnitFactory",
    "UserFactory",
    "WorkRoleFactory",
    "make_member",
]


class ProgrammeFactory(TenantFactory):
    class Meta:
        model = Programme

    name = factory.Sequence(lambda n: f"Programme {n}")
    slug = factory.Sequence(lambda n: f"programme-{n}")
    time_zone = "Europe/Stockholm"
    # Tests build dates from today: without a holiday calendar, a test week is never cut short by a day
    # off. The tests of days off choose a country.
    country = ""
    language = "sv"
    coordinator_email = factory.Sequence(lambda n: f"coordinator{n}@programme.example")


class FunderFactory(TenantFactory):
    class Meta:
        model = Funder

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Funder {n}")
    share_percent = Decimal("50.00")


class OrganisationFactory(TenantFactory):
    """An organisation; pass ``programmes=[...]`` to make it take part in them."""

    class Meta:
        model = Organisation
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Agency {n}")
    short_name = factory.Sequence(lambda n: f"AG{n}")
    kind = OrganisationKind.STATE_AGENCY

    @factory.post_generation
    def programmes(self, create: bool, extracted: Iterable[Programme] | None, **kwargs: Any) -> None:
        for programme in extracted or ():
            Participation.unscoped_objects.create(programme=programme, organisation=self)


class UnitFactory(TenantFactory):
    class Meta:
        model = Unit

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Unit {n}")
    street_address = "Storgatan 1"
    postal_code = "211 00"
    city = "Malmö"


class WorkRoleFactory(TenantFactory):
    class Meta:
        model = WorkRole

    programme = factory.SubFactory(ProgrammeFactory)
    code = factory.Sequence(lambda n: f"role_{n}")
    name = factory.Sequence(lambda n: f"Role {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    # Hashed when the user is built, so the saved row has it (a post-generation call was never saved, which
    # made force_login's session hash disagree with the database and every web request anonymous).
    password = factory.django.Password("correct-horse-battery")


class PersonFactory(TenantFactory):
    class Meta:
        model = Person

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    job_title = "Handläggare"
    languages = factory.LazyFunction(lambda: ["sv", "en"])
    # Tests read the English texts; tests of the translations choose another language explicitly.
    preferred_language = "en"


def make_member(
    programme: Programme,
    organisation: Organisation,
    *roles: str,
    work_role: WorkRole | None = None,
    unit: Unit | None = None,
    line_manager: Person | None = None,
    **person_kwargs: Any,
) -> Person:
    """A person of ``organisation`` who is a member of ``programme`` with the given platform roles
    (staff if none are given)."""
    person = PersonFactory(organisation=organisation, unit=unit, line_manager=line_manager, **person_kwargs)
    membership = Membership.unscoped_objects.create(programme=programme, person=person, work_role=work_role)
    for role in roles or (PlatformRole.STAFF,):
        RoleAssignment.unscoped_objects.create(membership=membership, role=role)
    return person
