"""Fixtures of the seminars tests: a provider organisation, a course given by it, a round with one session,
people in the programme with work roles, and helpers to call services as a person."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail

from coordinator.core.tenancy import programme_scope
from organisations.models import OrganisationKind, Person, PlatformRole, Programme
from organisations.permissions import Actor, actor_for, forget_actor
from seminars.models import Enrolment, Round
from tests.factories import OrganisationFactory, WorkRoleFactory
from tests.factories.seminars import CourseFactory, RoundFactory, SessionFactory

R = PlatformRole


@pytest.fixture
def scope(programme: Programme) -> Iterator[None]:
    """Run the test body inside the programme's tenant scope, as a request would."""
    with programme_scope([programme.pk]):
        yield


@pytest.fixture
def as_actor() -> Callable[[Person], Actor]:
    """``as_actor(person)``: the person's actor, freshly read (roles may have changed in the test)."""

    def make(person: Person) -> Actor:
        forget_actor(person.user)
        return actor_for(person.user)

    return make


@pytest.fixture
def enrol(
    as_actor: Callable[[Person], Actor], django_capture_on_commit_callbacks: Any
) -> Callable[..., Enrolment]:
    """``enrol(person, round_, **kwargs)``: ``enrolment_create`` by the person, committed as a request's is,
    so that what it queues for after the commit (the calendar invites) runs too."""
    from seminars.services import enrolments

    def make(person: Person, round_: Round, **kwargs: Any) -> Enrolment:
        with django_capture_on_commit_callbacks(execute=True):
            return enrolments.enrolment_create(actor=as_actor(person), round=round_, **kwargs)

    return make


@pytest.fixture
def provider_org(programme: Programme) -> Any:
    return OrganisationFactory(
        name="Röda korset", short_name="RK", kind=OrganisationKind.NGO, programmes=[programme]
    )


@pytest.fixture
def provider(programme: Programme, provider_org: Any, member: Callable[..., Person]) -> Person:
    return member(programme, provider_org, R.COURSE_PROVIDER, R.STAFF)


@pytest.fixture
def case_officer(programme: Programme) -> Any:
    return WorkRoleFactory(programme=programme, code="case_officer", name="Handläggare")


@pytest.fixture
def counsellor(programme: Programme) -> Any:
    return WorkRoleFactory(programme=programme, code="counsellor", name="Kurator")


@pytest.fixture
def course(programme: Programme, provider_org: Any) -> Any:
    return CourseFactory(programme=programme, title="PTSD – grundkurs", providers=[provider_org])


@pytest.fixture
def round_(course: Any) -> Round:
    return RoundFactory(course=course, capacity=3, label="Omgång 1")


@pytest.fixture
def session(round_: Round) -> Any:
    return SessionFactory(round=round_, title="Dag 1")


@pytest.fixture
def manager(programme: Programme, org_a: Any, member: Callable[..., Person]) -> Person:
    return member(programme, org_a, R.LINE_MANAGER, R.STAFF)


@pytest.fixture
def people_a(
    programme: Programme, org_a: Any, member: Callable[..., Person]
) -> Callable[[int], list[Person]]:
    """``people_a(n)``: n staff members of organisation A."""

    def make(n: int, **kwargs: Any) -> list[Person]:
        return [member(programme, org_a, R.STAFF, **kwargs) for _ in range(n)]

    return make


@pytest.fixture
def people_b(
    programme: Programme, org_b: Any, member: Callable[..., Person]
) -> Callable[[int], list[Person]]:
    def make(n: int, **kwargs: Any) -> list[Person]:
        return [member(programme, org_b, R.STAFF, **kwargs) for _ in range(n)]

    return make


@pytest.fixture
def other_round(other_programme: Programme, org_other: Any) -> Round:
    """A round of the other programme, which must never be visible from ``programme``."""
    course = CourseFactory(programme=other_programme, title="Traumebevidst arbejde", providers=[org_other])
    round_ = RoundFactory(course=course, label="Hold 1")
    SessionFactory(round=round_, title="Dag 1")
    return round_


def seats_consistent(round_: Round) -> bool:
    """The seat counter equals the number of seat-holding enrolments, within capacity."""
    round_.refresh_from_db()
    holding = Enrolment.unscoped_objects.filter(round=round_, status__in=Enrolment.SEAT_HOLDING).count()
    return round_.seats_taken == holding <= round_.capacity


@pytest.fixture(autouse=True)
def _empty_outbox() -> None:
    mail.outbox = []
