"""To-many relations read in the parent's own query (``coordinator.core.rows``) stay inside the tenant scope:
the rows read with the parent, and any query made later on the relation each parent holds."""

from __future__ import annotations

import pytest
from django.db.models import OuterRef

from coordinator.core.rows import Rows, with_rows
from coordinator.core.tenancy import ScopeError, programme_scope
from organisations.models import Organisation, Person
from tests.factories import OrganisationFactory, make_member


@pytest.fixture
def shared_organisation(programme, other_programme):
    """An organisation taking part in both programmes, with one member in each and a second organisation
    with one member in the first."""
    shared = OrganisationFactory(name="Arbetsförmedlingen", programmes=[programme, other_programme])
    other = OrganisationFactory(name="Försäkringskassan", programmes=[programme])
    return {
        "shared": shared,
        "other": other,
        "here": make_member(programme, shared, job_title="Handläggare"),
        "there": make_member(other_programme, shared, job_title="Handläggare"),
        "elsewhere": make_member(programme, other, job_title="Handläggare"),
    }


def people_rows() -> Rows:
    return Rows(
        "people",
        Person.objects.filter(organisation=OuterRef("pk")).order_by("pk"),
        ("organisation", "job_title"),
    )


@pytest.mark.django_db
def test_rows_read_with_the_parent_are_those_of_the_scope(programme, shared_organisation):
    with programme_scope([programme.pk]):
        organisations = list(with_rows(Organisation.objects.order_by("name"), people_rows()))

        assert [o.name for o in organisations] == ["Arbetsförmedlingen", "Försäkringskassan"]
        assert [p.pk for p in organisations[0].people.all()] == [shared_organisation["here"].pk]
        assert [p.pk for p in organisations[1].people.all()] == [shared_organisation["elsewhere"].pk]


@pytest.mark.django_db
def test_a_query_on_the_relation_afterwards_stays_in_the_scope(programme, shared_organisation):
    with programme_scope([programme.pk]):
        organisations = list(with_rows(Organisation.objects.order_by("name"), people_rows()))

        # Each parent's relation is narrowed to that parent and to the scope, like the manager's own.
        assert [p.pk for p in organisations[0].people.filter(pk__isnull=False)] == [
            shared_organisation["here"].pk
        ]
        assert organisations[0].people.count() == 1
        assert [p.pk for p in organisations[1].people.filter(job_title="Handläggare")] == [
            shared_organisation["elsewhere"].pk
        ]
        assert organisations[1].people.all()[0].organisation == organisations[1]


@pytest.mark.django_db
def test_a_page_read_without_a_scope_fails_closed(shared_organisation):
    with pytest.raises(ScopeError):
        list(with_rows(Organisation.objects.order_by("name"), people_rows()))
