"""A course may be given by units of an organisation: then only that organisation's course providers in
those units teach it."""

from __future__ import annotations

from organisations.models import PlatformRole
from organisations.permissions import actor_for
from seminars import permissions
from seminars.models import Course
from seminars.selectors import teaching
from tests.factories import UnitFactory, make_member

R = PlatformRole
API = "/api/v1/seminars"


def test_course_given_by_a_unit_is_taught_by_that_units_providers_only(
    api, programme, provider_org, course, round_, in_programme
):
    sfi = UnitFactory(organisation=provider_org, name="Sfi")
    other = UnitFactory(organisation=provider_org, name="Kansliet")
    at_sfi = make_member(programme, provider_org, R.COURSE_PROVIDER, R.STAFF, unit=sfi)
    elsewhere = make_member(programme, provider_org, R.COURSE_PROVIDER, R.STAFF, unit=other)
    with in_programme(programme):
        course.provider_units.set([sfi])
        fresh = Course.objects.get(pk=course.pk)
        assert permissions.can_teach(actor_for(at_sfi.user), fresh) is True
        assert permissions.can_teach(actor_for(elsewhere.user), fresh) is False
        assert list(teaching.provider_rounds(actor_for(at_sfi.user), programme)) == [round_]
        assert list(teaching.provider_rounds(actor_for(elsewhere.user), programme)) == []


def test_without_units_every_provider_of_the_organisation_teaches(
    programme, provider_org, course, in_programme
):
    anywhere = make_member(programme, provider_org, R.COURSE_PROVIDER, R.STAFF)
    with in_programme(programme):
        assert permissions.can_teach(actor_for(anywhere.user), Course.objects.get(pk=course.pk)) is True


def test_course_units_must_belong_to_a_providing_organisation(
    api, programme, coordinator, provider_org, org_a
):
    sfi = UnitFactory(organisation=provider_org, name="Sfi")
    foreign_unit = UnitFactory(organisation=org_a, name="Mottagning")
    ok = api(coordinator).post(
        f"{API}/courses/",
        {
            "programme": programme.pk,
            "title": "Sfi-metodik",
            "providers": [provider_org.pk],
            "provider_units": [sfi.pk],
        },
        format="json",
    )
    refused = api(coordinator).post(
        f"{API}/courses/",
        {
            "programme": programme.pk,
            "title": "Annan kurs",
            "providers": [provider_org.pk],
            "provider_units": [foreign_unit.pk],
        },
        format="json",
    )
    assert (ok.status_code, ok.json()["provider_units"]) == (201, [sfi.pk])
    assert (refused.status_code, refused.json()) == (
        400,
        {"provider_units": ["Choose units of the organisations that give the course."]},
    )
    assert not Course.unscoped_objects.filter(title="Annan kurs").exists()
