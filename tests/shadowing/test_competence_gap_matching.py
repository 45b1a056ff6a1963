"""The matcher's competence-gap setting: where the programme turns it on, a visit at a kind of agency that
gives a competence the requester's profile asks for and they lack outweighs a lower-ranked preference of
another requester."""

from __future__ import annotations

import pytest

from organisations.models import Competence, CompetenceSource, OrganisationKind, ProfileCompetence, Programme
from organisations.models import PlatformRole as R
from shadowing.models import Placement
from shadowing.services import matching_runs
from tests.factories import OrganisationFactory, WorkRoleFactory, make_member
from tests.factories.shadowing import SlotFactory, WorkplaceFactory, future_weekday, make_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scope")]


@pytest.fixture
def one_seat_at_a_clinic(programme, org_a, org_b, coordinator):
    """One seat at a psychiatric clinic (a region). ``eager`` (Migrationsverket) ranks the region third and
    asked first; ``lacking`` (Malmö stad) ranks nothing, but their role's profile asks for "psychiatric
    care", which a visit at a region gives, and they lack it."""
    region = OrganisationFactory(
        name="Region Skåne", short_name="RS", kind=OrganisationKind.REGION, programmes=[programme]
    )
    other_1 = OrganisationFactory(
        name="Röda korset", short_name="RK", kind=OrganisationKind.NGO, programmes=[programme]
    )
    other_2 = OrganisationFactory(
        name="Malmö universitet", short_name="MAU", kind=OrganisationKind.UNIVERSITY, programmes=[programme]
    )
    host = make_member(programme, region, R.HOST_CONTACT)
    clinic = WorkplaceFactory(programme=programme, organisation=region, contact=host, name="Psykiatri Malmö")
    SlotFactory(workplace=clinic, date=future_weekday(1), capacity=1)
    role = WorkRoleFactory(programme=programme, code="intro", name="Introduktionssekreterare")
    care = Competence.unscoped_objects.create(programme=programme, name="Psykiatrisk vård")
    CompetenceSource.unscoped_objects.create(
        programme=programme, competence=care, kind="agency_kind", value=OrganisationKind.REGION
    )
    ProfileCompetence.unscoped_objects.create(
        programme=programme, work_role=role, competence=care, level="basic"
    )
    eager = make_member(programme, org_a, R.STAFF)
    lacking = make_member(programme, org_b, R.STAFF, work_role=role)
    eager_request = make_request(programme, eager, preferences=[other_1, other_2, region])
    lacking_request = make_request(programme, lacking)
    return eager_request, lacking_request


def _placed(run):
    return list(Placement.unscoped_objects.filter(run=run).values_list("request_id", flat=True))


def test_without_the_setting_the_ranked_preference_wins(
    programme, one_seat_at_a_clinic, coordinator, as_actor
):
    eager_request, _lacking_request = one_seat_at_a_clinic
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    assert _placed(run) == [eager_request.pk]


def test_with_the_setting_the_visit_that_closes_a_gap_wins(
    programme, one_seat_at_a_clinic, coordinator, as_actor
):
    _eager_request, lacking_request = one_seat_at_a_clinic
    Programme.unscoped_objects.filter(pk=programme.pk).update(matching_closes_gaps=True)
    programme.refresh_from_db()
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    assert _placed(run) == [lacking_request.pk]


def test_a_gap_already_closed_gets_no_weight(programme, one_seat_at_a_clinic, coordinator, as_actor):
    eager_request, lacking_request = one_seat_at_a_clinic
    from organisations.models import CompetenceConfirmation

    care = Competence.unscoped_objects.get(programme=programme)
    CompetenceConfirmation.unscoped_objects.create(
        programme=programme,
        person=lacking_request.requester,
        competence=care,
        gained_on=future_weekday(1).replace(year=2025),
    )
    Programme.unscoped_objects.filter(pk=programme.pk).update(matching_closes_gaps=True)
    programme.refresh_from_db()
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    assert _placed(run) == [eager_request.pk]
