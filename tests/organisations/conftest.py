from __future__ import annotations

import pytest

from organisations.models import PlatformRole as R
from tests.factories import FunderFactory, UnitFactory, WorkRoleFactory, make_member


@pytest.fixture
def foreign_objects(other_programme, org_other, outsider):
    """What programme B owns; none of it may ever show up for programme A."""
    return {
        "programmes": other_programme,
        "organisations": org_other,
        "units": UnitFactory(organisation=org_other, name="Jobcenter Integration"),
        "work-roles": WorkRoleFactory(programme=other_programme, code="job_consultant", name="Jobkonsulent"),
        "people": outsider,
        "funder": FunderFactory(programme=other_programme, name="Københavns Kommune"),
    }


@pytest.fixture
def org_admin_a(programme, org_a, unit_a):
    return make_member(programme, org_a, R.ORGANISATION_ADMIN, R.STAFF, unit=unit_a)
