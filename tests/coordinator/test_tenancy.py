from __future__ import annotations

import pytest

from coordinator.core.tenancy import (
    ScopeError,
    active_programme_ids,
    programme_scope,
    restrict_to_programmes,
    unscoped,
)
from organisations.models import Funder, Membership, Organisation, Person, Programme, Unit
from tests.factories import FunderFactory, OrganisationFactory, UnitFactory, make_member


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


# --- One restriction, not two ---------------------------------------------------------------------------


def _in_lists(queryset) -> int:
    """How many ``IN (`` conditions the queryset's SQL holds (each programme filter is one)."""
    return str(queryset.query).count(" IN (")


def test_restricting_a_scoped_queryset_to_its_own_programmes_adds_no_second_filter(two_tenants):
    programme, _other = two_tenants
    with programme_scope([programme.pk]):
        scoped = Funder.objects.all()
        again = restrict_to_programmes(scoped, [programme.pk])
        assert (_in_lists(scoped), _in_lists(again)) == (1, 1)
        assert list(again.values_list("name", flat=True)) == ["Malmö stad"]


def test_a_scope_of_several_programmes_restricted_to_all_of_them_keeps_one_filter(two_tenants):
    programme, other = two_tenants
    with programme_scope([programme.pk]):
        # The scope is a subset of the programmes asked for: its one filter is already the answer.
        wider = restrict_to_programmes(Funder.objects.all(), [programme.pk, other.pk])
        assert _in_lists(wider) == 1
        assert list(wider.values_list("name", flat=True)) == ["Malmö stad"]


def test_restricting_to_fewer_programmes_than_the_scope_adds_the_filter(two_tenants):
    programme, other = two_tenants
    with programme_scope([programme.pk, other.pk]):
        narrower = restrict_to_programmes(Funder.objects.all(), [other.pk])
        assert _in_lists(narrower) == 2
        assert list(narrower.values_list("name", flat=True)) == ["Københavns Kommune"]


def test_a_restriction_widened_by_or_is_applied_again(two_tenants):
    programme, _other = two_tenants
    with programme_scope([programme.pk]):
        widened = Funder.objects.all() | Funder.unscoped_objects.all()
        assert sorted(widened.values_list("name", flat=True)) == ["Københavns Kommune", "Malmö stad"]
        restricted = restrict_to_programmes(widened, [programme.pk])
        assert list(restricted.values_list("name", flat=True)) == ["Malmö stad"]


def test_a_restriction_under_a_union_is_not_taken_for_one(two_tenants):
    from django.db.utils import NotSupportedError

    programme, _other = two_tenants
    with programme_scope([programme.pk]):
        combined = Funder.objects.all().union(Funder.unscoped_objects.all())
        with pytest.raises(NotSupportedError):
            restrict_to_programmes(combined, [programme.pk])


def test_restrictions_of_other_querysets_filtered_on_do_not_count(two_tenants):
    programme, other = two_tenants
    with programme_scope([programme.pk]):
        inner = Funder.objects.values("programme")  # restricted itself, but only as a subquery here
    with unscoped():
        outer = Programme.objects.filter(pk__in=inner) | Programme.objects.filter(pk=other.pk)
        assert sorted(outer.values_list("slug", flat=True)) == ["kobenhavn", "malmo"]
        restricted = restrict_to_programmes(outer, [programme.pk])
    assert list(restricted.values_list("slug", flat=True)) == ["malmo"]


def test_many_valued_paths_are_restricted_through_their_own_rows(programme, other_programme):
    shared = OrganisationFactory(name="Röda korset", programmes=[programme, other_programme])
    OrganisationFactory(name="Dansk Røde Kors", programmes=[other_programme])
    UnitFactory(organisation=shared, name="Asyl")
    both = make_member(programme, shared)
    Membership.unscoped_objects.create(programme=other_programme, person=both)
    make_member(other_programme, shared)
    with unscoped():
        people = restrict_to_programmes(Person.objects.all(), [programme.pk])
        organisations = restrict_to_programmes(Organisation.objects.all(), [programme.pk])
        units = restrict_to_programmes(Unit.objects.all(), [programme.pk])
        both_programmes = restrict_to_programmes(Person.objects.all(), [programme.pk, other_programme.pk])
        # The subquery reads the memberships (participations) alone: no join back to the outer table.
        assert 'FROM "organisations_membership" U0 WHERE' in str(people.query)
        assert 'FROM "organisations_participation" U0 WHERE' in str(units.query)
        assert list(people.values_list("pk", flat=True)) == [both.pk]
        assert list(organisations.values_list("name", flat=True)) == ["Röda korset"]
        assert list(units.values_list("name", flat=True)) == ["Asyl"]
        assert both_programmes.filter(pk=both.pk).count() == 1
