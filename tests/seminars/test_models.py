from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from coordinator.core.tenancy import ScopeError, programme_scope
from seminars.models import Enrolment, OrganisationQuota, Round, Session
from tests.factories.seminars import RoundFactory, SessionFactory, make_enrolment

S = Enrolment.Status


def test_seats_taken_cannot_exceed_capacity(round_):
    with pytest.raises(IntegrityError), transaction.atomic():
        Round.unscoped_objects.filter(pk=round_.pk).update(seats_taken=F("capacity") + 1)


def test_one_active_enrolment_per_person_and_round(round_, staff_a):
    make_enrolment(round_, staff_a, status=S.CANCELLED)
    make_enrolment(round_, staff_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_enrolment(round_, staff_a, status=S.WAITING)


def test_offer_needs_a_deadline(round_, staff_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.unscoped_objects.create(
            round=round_,
            person=staff_a,
            organisation=staff_a.organisation,
            status=S.OFFERED,
            hold_expires_at=None,
        )


def test_session_must_end_after_start_and_have_a_place(round_):
    session = SessionFactory(round=round_)
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.unscoped_objects.filter(pk=session.pk).update(ends_at=F("starts_at") - timedelta(hours=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.unscoped_objects.filter(pk=session.pk).update(place="", online_url="")


def test_quota_maximum_covers_reserved(round_, org_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganisationQuota.unscoped_objects.create(round=round_, organisation=org_a, reserved=3, maximum=2)


def test_registration_window_must_be_ordered(course):
    round_ = RoundFactory(course=course)
    with pytest.raises(IntegrityError), transaction.atomic():
        Round.unscoped_objects.filter(pk=round_.pk).update(registration_closes_at=F("registration_opens_at"))


def test_tenant_models_refuse_to_query_without_scope(round_, session, staff_a):
    make_enrolment(round_, staff_a)
    for model in (Round, Session, Enrolment):
        with pytest.raises(ScopeError, match=f"{model.__name__}.objects was queried with no programme scope"):
            model.objects.count()
    with programme_scope([]):
        assert (Round.objects.count(), Session.objects.count(), Enrolment.objects.count()) == (0, 0, 0)


def test_session_half_day_and_hours(round_):
    session = SessionFactory(round=round_)
    Session.unscoped_objects.filter(pk=session.pk).update(
        ends_at=F("starts_at") + timedelta(hours=3, minutes=30)
    )
    session.refresh_from_db()
    assert (session.is_half_day, str(session.hours)) == (True, "3.50")
