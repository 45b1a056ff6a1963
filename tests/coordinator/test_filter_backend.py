"""The API's filter backend builds django-filter's form only when the request names a filter: the answers are
the same, filtered or not, and bad filter values are still refused."""

from __future__ import annotations

import django_filters
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from organisations.models import PlatformRole
from tests.factories import OrganisationFactory, make_member


@pytest.fixture
def filtersets(monkeypatch):
    """The filtersets django-filter builds (its own class, counted)."""
    built: list[str] = []
    initialise = django_filters.FilterSet.__init__

    def counted(self, *args, **kwargs):
        built.append(type(self).__name__)
        initialise(self, *args, **kwargs)

    monkeypatch.setattr(django_filters.FilterSet, "__init__", counted)
    return built


@pytest.fixture
def client(programme, org_a):
    coordinator = make_member(programme, org_a, PlatformRole.COORDINATOR, PlatformRole.STAFF)
    OrganisationFactory(name="Försäkringskassan", short_name="FK", programmes=[programme])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=coordinator.user).key}")
    return client


def names(response) -> list[str]:
    return [row["name"] for row in response.json()["results"]]


@pytest.mark.django_db
def test_a_list_without_filters_builds_no_filter_form(client, filtersets):
    plain = client.get("/api/v1/organisations/")
    paged = client.get("/api/v1/organisations/?page=1&page_size=1&ordering=-name")

    assert filtersets == []
    assert (plain.status_code, names(plain)) == (200, ["Försäkringskassan", "Migrationsverket"])
    assert (paged.status_code, names(paged), paged.json()["count"]) == (200, ["Migrationsverket"], 2)


@pytest.mark.django_db
def test_a_list_with_a_filter_goes_through_django_filter(client, filtersets, programme):
    response = client.get("/api/v1/seminars/enrolments/?status=confirmed&page=1")
    refused = client.get("/api/v1/seminars/enrolments/?round=1.5")

    assert filtersets == ["EnrolmentFilter", "EnrolmentFilter"]
    assert (response.status_code, response.json()["results"]) == (200, [])
    assert (refused.status_code, refused.json()) == (400, {"round": ["Enter a whole number."]})
