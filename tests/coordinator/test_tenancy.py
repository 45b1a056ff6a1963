from __future__ import annotations

import pytest

from coordinator.core.tenancy import (
    ScopeError,
    active_programme_ids,
    programme_scope,
    restrict_to_programmes,
    unscoped,
)
from organisations.models import Funder, Organisation, Person, Programme, Unit
from tests.factories import FunderFactory, OrganisationFactory, UnitFactory


@pytest.fixture
def two_tenants(programme, other_programme, org_a, org_other, staff_a, outsider):
    FunderFactory(programme=programme, name="Malmö stad")
    FunderFactory(programme=other_programme, name="Københavns Kommune")
    UnitFactory(organisation=org_other, name="Jobcenter Integration")
    return programme, other_programme


def test_scoped_manager_refuses_to_query_without_a_scope(two_tenants):
    assert active_programme_ids() is None
    with pytest.raises(ScopeError, match="Programme.objects was queried with no programme scope"):
        list(Programme.objects.all())
    with pytest.raises(ScopeError, match="Funder.objects"):
        Funder.objects.count()
    with pytest.raises(ScopeError, match="Person.objects"):
        Person.objects.filter(pk__isnull=False).exists()
    assert Programme.unscoped_objects.count() == 2


def test_a_queryset_built_at_import_time_fails_loudly(two_tenants):
    # What a form field or filter set written in a class body would do, with no request (and no scope).
    with pytest.raises(ScopeError):
        type("BuiltAtImport", (), {"choices": Funder.objects.all()})


def test_an_empty_queryset_and_an_insert_need_no_scope(two_tenants):
    programme, _other = two_tenants
    assert list(Funder.objects.none()) == []
    funder = Funder.objects.create(programme=programme, name="Arbetsförmedlingen", share_percent=10)
    assert Funder.unscoped_objects.filter(pk=funder.pk).count() == 1
    with programme_scope([]):
        assert Funder.objects.count() == 0


def test_scoped_manager_sees_only_the_active_programme(two_tenants):
    programme, other = two_tenants
    with programme_scope([programme.pk]):
        assert list(Programme.objects.values_list("slug", flat=True)) == ["malmo"]
        assert list(Funder.objects.values_list("name", flat=True)) == ["Malmö stad"]
        assert sorted(Organisation.objects.values_list("name", flat=True)) == ["Migrationsverket"]
        assert list(Unit.objects.filter(organisation__name="Jobcenter København")) == []
    with programme_scope([other.pk]):
        assert list(Funder.objects.values_list("name", flat=True)) == ["Københavns Kommune"]


def test_scope_over_many_valued_path_returns_each_object_once(programme, other_programme):
    shared = OrganisationFactory(name="Migrationsverket", programmes=[programme, other_programme])
    with programme_scope([programme.pk, other_programme.pk]):
        assert list(Organisation.objects.values_list("pk", flat=True)) == [shared.pk]


def test_related_managers_follow_the_scope(two_tenants):
    programme, other = two_tenants
    with programme_scope([programme.pk]):
        visible = Programme.objects.get(pk=programme.pk)
        assert [f.name for f in visible.funders.all()] == ["Malmö stad"]
        assert [f.name for f in other.funders.all()] == []


def test_unscoped_lifts_the_filter_and_restores_it(two_tenants):
    programme, _other = two_tenants
    with programme_scope([programme.pk]):
        with unscoped():
            assert Funder.objects.count() == 2
        assert Funder.objects.count() == 1
    with pytest.raises(ScopeError):
        Funder.objects.count()


def test_restrict_to_programmes_applies_even_to_the_plain_manager(two_tenants):
    programme, _other = two_tenants
    restricted = restrict_to_programmes(Funder.unscoped_objects.all(), [programme.pk])
    assert list(restricted.values_list("name", flat=True)) == ["Malmö stad"]
