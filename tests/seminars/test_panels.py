"""The coordinator's start page: reserved seats that organisations have not taken yet."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from seminars.models import Enrolment
from seminars.selectors import reports
from tests.factories.seminars import QuotaFactory, RoundFactory, SessionFactory, make_enrolment


def test_unfilled_quotas_count_only_seat_holding_enrolments_of_that_organisation(
    programme, round_, session, org_a, org_b, people_a, people_b, other_round, org_other, scope
):
    QuotaFactory(round=round_, organisation=org_a, reserved=2)
    QuotaFactory(round=round_, organisation=org_b, reserved=1)
    QuotaFactory(round=other_round, organisation=org_other, reserved=3)
    first_a, queued_a = people_a(2)
    make_enrolment(round_, first_a)
    make_enrolment(round_, queued_a, status=Enrolment.Status.WAITING)
    make_enrolment(round_, people_b(1)[0])

    rows = reports.unfilled_quotas(programme, timezone.now())

    assert [(r.round.pk, r.organisation_name, r.reserved, r.taken, r.missing) for r in rows] == [
        (round_.pk, "Migrationsverket", 2, 1, 1)
    ]


def test_rounds_that_started_or_released_their_seats_are_left_out(programme, course, org_a, scope):
    started = RoundFactory(course=course, label="Started")
    SessionFactory(
        round=started,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=2),
    )
    QuotaFactory(round=started, organisation=org_a, reserved=2)
    released = RoundFactory(course=course, label="Released", reserved_seats_released_at=timezone.now())
    SessionFactory(round=released)
    QuotaFactory(round=released, organisation=org_a, reserved=2)

    upcoming = RoundFactory(course=course, label="Upcoming")
    SessionFactory(round=upcoming)
    QuotaFactory(round=upcoming, organisation=org_a, reserved=2)

    rows = reports.unfilled_quotas(programme, timezone.now())
    assert [r.round.label for r in rows] == ["Upcoming"]


def test_coordinator_start_page_lists_the_unfilled_quota(web, coordinator, staff_a, round_, session, org_a):
    QuotaFactory(round=round_, organisation=org_a, reserved=2)
    page = web(coordinator).get("/").content.decode()
    assert "Reserved seats not yet taken" in page
    assert "Migrationsverket has taken 0 of 2 reserved seats" in page
    assert "Reserved seats not yet taken" not in web(staff_a).get("/").content.decode()
