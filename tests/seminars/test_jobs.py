from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from coordinator.core.jobs import run_due_jobs
from coordinator.core.models import Notification
from seminars.models import Enrolment, Round
from tests.factories.seminars import RoundFactory, SessionFactory, make_enrolment

S = Enrolment.Status


def test_periodic_sweep_expires_lapsed_offer_and_offers_next(course, people_a):
    round_ = RoundFactory(course=course, capacity=1)
    SessionFactory(round=round_)
    first, second = people_a(2)
    offered = make_enrolment(
        round_, first, status=S.OFFERED, hold_expires_at=timezone.now() - timedelta(minutes=1)
    )
    waiting = make_enrolment(round_, second, status=S.WAITING)

    results = run_due_jobs(force=True)

    offered.refresh_from_db()
    waiting.refresh_from_db()
    assert results["seminars.sweep"] == 2
    assert (offered.status, waiting.status) == (S.EXPIRED, S.OFFERED)
    assert Notification.unscoped_objects.filter(recipient=second, kind="seminars.offer").count() == 1


def test_periodic_sweep_is_idempotent(course, people_a):
    round_ = RoundFactory(course=course, capacity=1)
    SessionFactory(round=round_)
    (person,) = people_a(1)
    make_enrolment(round_, person, status=S.OFFERED, hold_expires_at=timezone.now() - timedelta(minutes=1))

    first = run_due_jobs(force=True)["seminars.sweep"]
    second = run_due_jobs(force=True)["seminars.sweep"]

    assert (first, second) == (1, 0)
    round_.refresh_from_db()
    assert round_.seats_taken == 0


def test_sweep_leaves_cancelled_rounds_alone(course, people_a):
    round_ = RoundFactory(
        course=course,
        capacity=1,
        status=Round.Status.CANCELLED,
        reserved_seats_release_at=timezone.now() - timedelta(days=1),
    )
    SessionFactory(round=round_)

    assert run_due_jobs(force=True)["seminars.sweep"] == 0
