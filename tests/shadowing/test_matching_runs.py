"""Matching runs end to end through the database: the rules hold on a mixed programme, multi-day and
consecutive requests, past and full slots, the fairness setting, and the comparison with greedy."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, time, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from coordinator.core import formatting
from coordinator.core.exceptions import Conflict
from organisations.models import PlatformRole
from shadowing.models import (
    MatchingRun,
    Placement,
    PlacementDay,
    PlacementEvent,
    ShadowingRequest,
    Slot,
    Workplace,
)
from shadowing.services import matching_runs
from tests.factories import OrganisationFactory, make_member
from tests.factories.shadowing import SlotFactory, WorkplaceFactory, future_weekday, make_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scope")]
R = PlatformRole
P = Placement.Status


def _next_monday(weeks_ahead: int = 2) -> date:
    return future_weekday(0, weeks_ahead)


def test_consecutive_request_gets_consecutive_working_days_across_a_weekend(
    programme, workplace_a, shadower, coordinator, as_actor
):
    monday = _next_monday()
    friday = monday + timedelta(days=4)
    # Friday and the following Monday are consecutive working days; Wednesday and Friday are not.
    for day in (monday + timedelta(days=2), friday, friday + timedelta(days=3)):
        SlotFactory(workplace=workplace_a, date=day)
    request = make_request(
        programme, shadower, days=2, consecutive=True, windows=[(monday, monday + timedelta(days=10))]
    )
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    placement = Placement.unscoped_objects.get(run=run, request=request)
    assert list(placement.days.order_by("date").values_list("date", flat=True)) == [
        friday,
        friday + timedelta(days=3),
    ]


def test_past_and_full_slots_are_not_offered(
    programme, workplace_a, shadower, staff_b, coordinator, as_actor
):
    SlotFactory(workplace=workplace_a, date=timezone.localdate() - timedelta(days=1))
    full = SlotFactory(workplace=workplace_a, date=future_weekday(1), capacity=1)
    Slot.unscoped_objects.filter(pk=full.pk).update(booked=1)
    request = make_request(
        programme, shadower, windows=[(timezone.localdate() - timedelta(days=5), future_weekday(1))]
    )
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    assert run.placed == 0
    assert run.unplaced == {str(request.pk): "all_full"}


def test_fairness_weight_defaults_to_the_setting(settings, programme, coordinator, as_actor):
    settings.SHADOWING_FAIRNESS_WEIGHT = 2.5
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    assert run.fairness_weight == 2.5
    assert (
        matching_runs.matching_run_create(
            actor=as_actor(coordinator), programme=programme, fairness_weight=0
        ).fairness_weight
        == 0
    )


def test_a_contested_programme_keeps_every_rule_and_places_no_fewer_than_greedy(
    programme, org_a, org_b, coordinator, as_actor
):
    rng = random.Random(7)
    org_c = OrganisationFactory(name="Region Skåne", short_name="RS", programmes=[programme])
    organisations = [org_a, org_b, org_c]
    monday = _next_monday()
    workplaces = []
    for i in range(6):
        organisation = organisations[i % 3]
        host = make_member(programme, organisation, R.HOST_CONTACT)
        workplace = WorkplaceFactory(
            programme=programme,
            organisation=organisation,
            contact=host,
            name=f"Plats {i}",
            max_visitors_per_day=2,
        )
        workplaces.append(workplace)
        for d in rng.sample(range(10), 5):
            day = monday + timedelta(days=d + (d // 5) * 2)  # weekdays of two weeks
            SlotFactory(workplace=workplace, date=day, capacity=rng.randint(1, 3))
    requests = []
    for i in range(30):
        organisation = organisations[i % 3]
        person = make_member(programme, organisation, R.STAFF)
        start = monday + timedelta(days=rng.randint(0, 7))
        requests.append(
            make_request(
                programme,
                person,
                days=rng.choice([1, 1, 2, 3]),
                consecutive=rng.random() < 0.3,
                windows=[(start, start + timedelta(days=rng.randint(3, 12)))],
                preferences=rng.sample([w for w in workplaces if w.organisation_id != organisation.pk], 2),
                submitted_at=timezone.now() - timedelta(minutes=i),
            )
        )
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    assert run.placed >= run.greedy_placed
    assert run.placed > 0
    assert run.bound >= run.objective
    assert run.gap == pytest.approx((run.bound - run.objective) / run.bound, abs=1e-6)
    matching_runs.matching_run_confirm(actor=as_actor(coordinator), run=run)

    placements = list(
        Placement.unscoped_objects.filter(run=run)
        .select_related("request", "workplace")
        .prefetch_related("days")
    )
    assert len(placements) == run.placed
    assert {p.status for p in placements} == {P.AWAITING_HOST}
    windows = {r.pk: [(w.starts_on, w.ends_on) for w in r.windows.all()] for r in requests}
    for placement in placements:
        days = sorted(d.date for d in placement.days.all())
        assert placement.workplace.organisation_id != placement.request.organisation_id
        assert len(days) == placement.request.days
        assert any(a <= days[0] and days[-1] <= b for a, b in windows[placement.request_id])
    per_slot = Counter(
        PlacementDay.unscoped_objects.filter(placement__in=placements).values_list("slot_id", flat=True)
    )
    for slot in Slot.unscoped_objects.all():
        assert slot.booked == per_slot.get(slot.pk, 0) <= slot.capacity
    per_day = Counter(
        (d.placement.workplace_id, d.date)
        for d in PlacementDay.unscoped_objects.filter(placement__in=placements).select_related("placement")
    )
    assert all(count <= 2 for count in per_day.values())
    placed_ids = {p.request_id for p in placements}
    assert set(
        ShadowingRequest.unscoped_objects.filter(pk__in=placed_ids).values_list("status", flat=True)
    ) == {ShadowingRequest.Status.PLACED}
    left = {str(r.pk) for r in requests} - {str(pk) for pk in placed_ids}
    assert set(run.unplaced) == left
    assert MatchingRun.unscoped_objects.get(pk=run.pk).status == MatchingRun.Status.CONFIRMED


# --- Confirming: seats counted per slot and workplace-day, in a fixed number of statements ----------------


def _proposed_run(programme, make_placement, proposals) -> MatchingRun:
    """A proposed run placing each (request, slots) pair."""
    run = MatchingRun.unscoped_objects.create(
        programme=programme, placed=len(proposals), requests_considered=len(proposals)
    )
    for request, slots in proposals:
        make_placement(request, slots, P.PROPOSED, run=run)
    return run


def _staff_requests(programme, organisation, count: int) -> list[ShadowingRequest]:
    return [make_request(programme, make_member(programme, organisation, R.STAFF)) for _ in range(count)]


def test_confirming_two_hundred_proposals_takes_as_many_queries_as_confirming_one(
    database_queue,
    programme,
    org_b,
    workplace_a,
    coordinator,
    as_actor,
    make_placement,
    django_assert_num_queries,
):
    first_day = future_weekday(0, 3)
    # Three slots of three places a day (a workplace takes at most 10 visitors a day).
    slots = [
        SlotFactory(
            workplace=workplace_a, date=first_day + timedelta(days=day), starts_at=time(hour), capacity=3
        )
        for day in range(1, 24)
        for hour in (8, 11, 14)
    ]
    lone = SlotFactory(workplace=workplace_a, date=first_day, capacity=1)
    Workplace.unscoped_objects.filter(pk=workplace_a.pk).update(max_visitors_per_day=9)
    requests = _staff_requests(programme, org_b, 201)
    small = _proposed_run(programme, make_placement, [(requests[0], [lone])])
    large = _proposed_run(
        programme, make_placement, [(request, [slots[i // 3]]) for i, request in enumerate(requests[1:])]
    )
    actor = as_actor(coordinator)
    ContentType.objects.get_for_model(MatchingRun)  # the audit trail's content type, cached once per process

    # A fixed 14 statements, the read of how many seats each slot takes, and one UPDATE of the slots per
    # distinct number of seats (the small run: 1; the large one: 3 and 2), whatever the number of proposals.
    with django_assert_num_queries(14 + 1 + 1):
        matching_runs.matching_run_confirm(actor=actor, run=MatchingRun.objects.get(pk=small.pk))
    with django_assert_num_queries(14 + 1 + 2):
        matching_runs.matching_run_confirm(actor=actor, run=MatchingRun.objects.get(pk=large.pk))

    booked = dict(Slot.unscoped_objects.filter(booked__gt=0).values_list("pk", "booked"))
    assert booked == {lone.pk: 1, **{slot.pk: 3 for slot in slots[:66]}, slots[66].pk: 2}
    assert Placement.unscoped_objects.filter(status=P.AWAITING_HOST).count() == 201
    assert ShadowingRequest.unscoped_objects.filter(status=ShadowingRequest.Status.PLACED).count() == 201
    events = Counter(
        PlacementEvent.unscoped_objects.filter(to_status=P.AWAITING_HOST).values_list(
            "placement_id", "from_status", "actor_id"
        )
    )
    assert events == Counter(
        {
            (pk, P.PROPOSED, coordinator.pk): 1
            for pk in Placement.unscoped_objects.values_list("pk", flat=True)
        }
    )


def test_confirm_counts_every_day_of_multi_day_proposals(
    programme, org_b, workplace_a, coordinator, as_actor, make_placement
):
    monday = _next_monday(3)
    tuesday = SlotFactory(workplace=workplace_a, date=monday + timedelta(days=1), capacity=2)
    wednesday = SlotFactory(workplace=workplace_a, date=monday + timedelta(days=2), capacity=2)
    untouched = SlotFactory(workplace=workplace_a, date=monday + timedelta(days=3), capacity=2)
    two_days, one_day = _staff_requests(programme, org_b, 2)
    run = _proposed_run(programme, make_placement, [(two_days, [tuesday, wednesday]), (one_day, [tuesday])])

    matching_runs.matching_run_confirm(actor=as_actor(coordinator), run=run)

    booked = dict(Slot.unscoped_objects.values_list("pk", "booked"))
    assert booked == {tuesday.pk: 2, wednesday.pk: 1, untouched.pk: 0}


def test_confirm_over_a_workplaces_daily_cap_is_refused_naming_the_last_to_ask(
    programme, org_b, workplace_a, coordinator, as_actor, make_placement
):
    day = future_weekday(2, 3)
    morning = SlotFactory(workplace=workplace_a, date=day, capacity=3)
    afternoon = SlotFactory(workplace=workplace_a, date=day, capacity=3, starts_at=time(13), ends_at=time(16))
    Slot.unscoped_objects.filter(pk=afternoon.pk).update(booked=1)  # someone already visits that day
    Workplace.unscoped_objects.filter(pk=workplace_a.pk).update(max_visitors_per_day=3)
    requests = _staff_requests(programme, org_b, 3)
    for minutes, request in enumerate(requests):
        ShadowingRequest.unscoped_objects.filter(pk=request.pk).update(
            submitted_at=timezone.now() - timedelta(minutes=10 - minutes)
        )
    run = _proposed_run(programme, make_placement, [(request, [morning]) for request in requests])

    with pytest.raises(Conflict) as error:
        matching_runs.matching_run_confirm(actor=as_actor(coordinator), run=run)

    last = requests[2].requester
    assert error.value.messages == [
        "Some proposals no longer fit; remove or re-assign them and confirm again.",
        f"{last.full_name} at {workplace_a.name}: the workplace takes no more visitors on "
        f"{formatting.day(day)}",
    ]
    assert dict(Slot.unscoped_objects.values_list("pk", "booked")) == {morning.pk: 0, afternoon.pk: 1}
    assert MatchingRun.unscoped_objects.get(pk=run.pk).status == MatchingRun.Status.PROPOSED
    assert set(Placement.unscoped_objects.values_list("status", flat=True)) == {P.PROPOSED}
    assert not PlacementEvent.unscoped_objects.filter(to_status=P.AWAITING_HOST).exists()


def test_confirm_with_a_withdrawn_request_is_refused_naming_it(
    programme, org_b, workplace_a, coordinator, as_actor, make_placement
):
    slot = SlotFactory(workplace=workplace_a, date=future_weekday(3, 3), capacity=3)
    kept, withdrawn = _staff_requests(programme, org_b, 2)
    run = _proposed_run(programme, make_placement, [(kept, [slot]), (withdrawn, [slot])])
    ShadowingRequest.unscoped_objects.filter(pk=withdrawn.pk).update(status=ShadowingRequest.Status.WITHDRAWN)

    with pytest.raises(Conflict) as error:
        matching_runs.matching_run_confirm(actor=as_actor(coordinator), run=run)

    assert error.value.messages == [
        "Some proposals no longer fit; remove or re-assign them and confirm again.",
        f"{withdrawn.requester.full_name} at {workplace_a.name}: "
        "the request is no longer waiting for a match",
    ]
    assert Slot.unscoped_objects.get(pk=slot.pk).booked == 0
    assert ShadowingRequest.unscoped_objects.get(pk=kept.pk).status == ShadowingRequest.Status.APPROVED
