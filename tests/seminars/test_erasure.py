"""Erasing a person: their seats in rounds not yet started are freed for the queue; rounds under way keep
the enrolment and its attendance."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from organisations.models import PlatformRole as R
from organisations.permissions import actor_for
from organisations.services import personal_data
from seminars.models import Enrolment, Round
from tests.factories import make_member
from tests.factories.seminars import RoundFactory, SessionFactory, make_enrolment


def test_erasure_frees_coming_seats_for_the_queue_and_keeps_started_rounds(
    programme, org_a, round_, session, course, programme_admin, people_a, scope
):
    leaving = make_member(programme, org_a, R.STAFF)
    next_in_queue = people_a(1)[0]
    Round.unscoped_objects.filter(pk=round_.pk).update(capacity=1)
    seat = make_enrolment(round_, leaving)
    queued = make_enrolment(round_, next_in_queue, Enrolment.Status.WAITING)
    started = RoundFactory(course=course, capacity=5)
    SessionFactory(round=started, starts_at=timezone.now() - timedelta(hours=2))
    attended = make_enrolment(started, leaving)

    personal_data.person_erase(actor=actor_for(programme_admin.user), person=leaving, programme=programme)

    seat.refresh_from_db()
    queued.refresh_from_db()
    attended.refresh_from_db()
    assert (seat.status, seat.end_reason) == (Enrolment.Status.CANCELLED, Enrolment.EndReason.REMOVED)
    assert queued.status == Enrolment.Status.OFFERED
    assert Round.unscoped_objects.get(pk=round_.pk).seats_taken == 1
    assert attended.status == Enrolment.Status.CONFIRMED
    assert Round.unscoped_objects.get(pk=started.pk).seats_taken == 1
