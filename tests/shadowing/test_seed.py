from __future__ import annotations

from django.core.management import call_command
from django.db.models import Count, Q

from coordinator.core.models import OutboundEmail
from organisations.models import Person
from shadowing.models import (
    HostFeedback,
    MatchingRun,
    Placement,
    PlacementDay,
    PlacementEvent,
    Reflection,
    ShadowingRequest,
    Slot,
    Topic,
    Workplace,
)

P = Placement.Status
RS = ShadowingRequest.Status
MODELS = (
    Topic,
    Workplace,
    Slot,
    ShadowingRequest,
    Placement,
    PlacementDay,
    PlacementEvent,
    MatchingRun,
    Reflection,
)


def _snapshot():
    return {
        model.__name__: sorted(model.unscoped_objects.values_list("pk", flat=True)) for model in MODELS
    } | {
        "booked": sorted(Slot.unscoped_objects.values_list("pk", "booked")),
        "statuses": sorted(ShadowingRequest.unscoped_objects.values_list("pk", "status", "partner_id")),
    }


def test_demo_shadowing_is_idempotent_and_has_every_state(db):
    call_command("seed_demo", "--quiet")
    first = _snapshot()
    call_command("seed_demo", "--quiet")

    assert _snapshot() == first
    workplaces = Workplace.unscoped_objects.filter(programme__slug="malmo", is_published=True)
    assert sorted(workplaces.values_list("organisation__name", flat=True)) == [
        "Arbetsförmedlingen",
        "Malmö stad",
        "Migrationsverket",
        "Region Skåne",
        "Röda korset",
    ]
    karin = Person.unscoped_objects.get(user__username="karin.nystrom")
    assert workplaces.get(contact=karin).name == "Migrationsverket, mottagningsenheten Malmö"
    assert set(ShadowingRequest.unscoped_objects.values_list("status", flat=True)) == set(RS.values)
    assert set(Placement.unscoped_objects.values_list("status", flat=True)) == set(P.values) - {P.PROPOSED}
    pending = ShadowingRequest.unscoped_objects.get(status=RS.PENDING_APPROVAL)
    assert (pending.requester.user.username, pending.requester.line_manager.user.username) == (
        "amina.hassan",
        "per.olsson",
    )
    reflected = Placement.unscoped_objects.get(status=P.REFLECTED)
    assert reflected.request.requester == pending.requester
    assert Reflection.unscoped_objects.filter(placement=reflected).count() == 1
    assert HostFeedback.unscoped_objects.filter(placement=reflected).count() == 1
    assert MatchingRun.unscoped_objects.get().status == MatchingRun.Status.CONFIRMED
    # Every placement's transitions are recorded, ending in its current status.
    for placement in Placement.unscoped_objects.all():
        last = PlacementEvent.unscoped_objects.filter(placement=placement).order_by("at", "pk").last()
        assert last.to_status == placement.status
    # Seats are counted as the services count them, and never above capacity.
    counted = Slot.unscoped_objects.annotate(
        holding=Count(
            "placement_days", filter=Q(placement_days__placement__status__in=Placement.SEAT_HOLDING)
        )
    )
    assert all(s.booked == s.holding <= s.capacity for s in counted)
    assert Slot.unscoped_objects.filter(booked=0, workplace__in=workplaces).count() > 20
    paired = ShadowingRequest.unscoped_objects.filter(partner__isnull=False)
    assert sorted(r.partner.partner_id == r.pk for r in paired) == [True, True]
    assert OutboundEmail.unscoped_objects.count() == 0


def test_demo_offers_no_visit_day_and_no_course_day_on_a_day_off(db):
    from datetime import timedelta

    from django.utils import timezone

    from coordinator.core.days_off import days_off
    from organisations.models import Programme
    from seminars.models import Session

    call_command("seed_demo", "--quiet")
    today = timezone.localdate()
    for programme in Programme.unscoped_objects.all():
        closed = days_off(programme.country, today, today + timedelta(days=400))
        assert programme.country in {"SE", "DK"}
        visit_days = set(
            Slot.unscoped_objects.filter(workplace__programme=programme, date__gt=today).values_list(
                "date", flat=True
            )
        )
        course_days = {
            timezone.localdate(s)
            for s in Session.unscoped_objects.filter(
                round__course__programme=programme, starts_at__date__gt=today
            ).values_list("starts_at", flat=True)
        }
        assert visit_days & set(closed) == set()
        assert course_days & set(closed) == set()
