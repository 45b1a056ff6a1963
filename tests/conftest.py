"""Fixtures shared by the whole suite: two programmes with their organisations, and clients for people."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from coordinator.core.tenancy import programme_scope
from organisations.models import OrganisationKind, Person, PlatformRole, Programme
from tests.factories import OrganisationFactory, ProgrammeFactory, UnitFactory, WorkRoleFactory, make_member

R = PlatformRole


@pytest.fixture(autouse=True)
def _language_of_the_test() -> Iterator[None]:
    """A request activates its reader's language on the thread and leaves it there (the next request
    activates its own); a test must not inherit the language of the previous test's last request."""
    language = translation.get_language()
    yield
    if language:
        translation.activate(language)
    else:
        translation.deactivate()


@pytest.fixture(autouse=True)
def _no_real_mail(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def programme(db: Any) -> Programme:
    return ProgrammeFactory(name="Lokalt kompetensutvecklingsprogram Malmö", slug="malmo")


@pytest.fixture
def other_programme(db: Any) -> Programme:
    """A second tenant whose data must never be visible from ``programme``."""
    return ProgrammeFactory(
        name="Kompetenceløft København", slug="kobenhavn", language="da", time_zone="Europe/Copenhagen"
    )


@pytest.fixture
def org_a(programme: Programme) -> Any:
    return OrganisationFactory(name="Migrationsverket", short_name="MV", programmes=[programme])


@pytest.fixture
def org_b(programme: Programme) -> Any:
    return OrganisationFactory(
        name="Malmö stad", short_name="Malmö stad", kind=OrganisationKind.MUNICIPALITY, programmes=[programme]
    )


@pytest.fixture
def org_other(other_programme: Programme) -> Any:
    return OrganisationFactory(
        name="Jobcenter København",
        short_name="JC",
        kind=OrganisationKind.MUNICIPALITY,
        programmes=[other_programme],
    )


@pytest.fixture
def unit_a(org_a: Any) -> Any:
    return UnitFactory(organisation=org_a, name="Mottagningsenheten Malmö")


@pytest.fixture
def unit_b(org_b: Any) -> Any:
    return UnitFactory(organisation=org_b, name="Introduktion Rosengård")


@pytest.fixture
def work_role(programme: Programme) -> Any:
    return WorkRoleFactory(programme=programme, code="case_officer", name="Handläggare")


@pytest.fixture
def member() -> Callable[..., Person]:
    """``member(programme, organisation, *roles, **kwargs)``: a person with roles in a programme."""
    return make_member


@pytest.fixture
def staff_a(programme: Programme, org_a: Any, unit_a: Any) -> Person:
    return make_member(programme, org_a, R.STAFF, unit=unit_a)


@pytest.fixture
def staff_b(programme: Programme, org_b: Any, unit_b: Any) -> Person:
    return make_member(programme, org_b, R.STAFF, unit=unit_b)


@pytest.fixture
def coordinator(programme: Programme, org_b: Any) -> Person:
    return make_member(programme, org_b, R.COORDINATOR, R.STAFF)


@pytest.fixture
def programme_admin(programme: Programme, org_b: Any) -> Person:
    return make_member(programme, org_b, R.PROGRAMME_ADMIN, R.STAFF)


@pytest.fixture
def outsider(other_programme: Programme, org_other: Any) -> Person:
    """A member of the other programme only."""
    return make_member(other_programme, org_other, R.PROGRAMME_ADMIN, R.COORDINATOR, R.STAFF)


@pytest.fixture
def api() -> Callable[[Person | None], APIClient]:
    """``api(person)``: an API client signed in as that person (anonymous with None)."""

    def make(person: Person | None) -> APIClient:
        client = APIClient()
        if person is not None:
            client.force_authenticate(user=person.user)
        return client

    return make


@pytest.fixture
def web() -> Callable[[Person | None], Client]:
    """``web(person)``: a browser-like client with a session for that person."""

    def make(person: Person | None) -> Client:
        client = Client()
        if person is not None:
            client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


@pytest.fixture
def in_programme() -> Callable[[Programme], Any]:
    """``with in_programme(programme):`` runs direct model queries inside that programme's scope."""

    def make(*programmes: Programme) -> Any:
        return programme_scope(p.pk for p in programmes)

    return make


@pytest.fixture
def postgres_only() -> Iterator[None]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (select_for_update and real concurrency); run `make test-postgres`")
    yield


@pytest.fixture
def database_queue(settings: Any) -> Callable[[], None]:
    """The real task queue: tasks are written to the database; call the returned function to run a worker
    (in this process) over every task due now."""
    from tests.support.queue import DATABASE_QUEUE, run_worker

    settings.TASKS = DATABASE_QUEUE
    return run_worker


@pytest.fixture
def smtp_sink(settings: Any) -> Iterator[Any]:
    """A local SMTP server (aiosmtpd) that the mail backend sends to; it records what it receives."""
    from tests.support import queue

    for sink in queue.smtp_sink():
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield sink
