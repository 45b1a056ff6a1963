"""Swapping a placed multi-day request for unplaced one-day requests on its seats (``swap.py``)."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowing.matching.baseline import first_come_first_served
from shadowing.matching.flow import reoptimise_one_day
from shadowing.matching.lagrange import Lagrangian
from shadowing.matching.model import build_model, objective_of
from shadowing.matching.options import Problem, SlotSpec, WorkplaceSpec
from shadowing.matching.swap import swap_multi_day, swapped
from tests.shadowing.test_lagrangian import programmes
from tests.shadowing.test_solver import (
    assert_feasible_within_the_optimum,
    build,
    day,
    request,
)

FAR = 10**12  # a deadline that never comes


@st.composite
def contested(draw: st.DrawFn) -> Problem:
    """Two workplaces (one with a day cap), five days, requests of one to three days (some pairs) that
    want the same few seats, so that multi-day requests placed first hold seats one-day ones want."""
    workplaces = [
        WorkplaceSpec(10, 2, frozenset({1}), frozenset(), draw(st.integers(1, 2))),
        WorkplaceSpec(11, 3, frozenset({1}), frozenset(), 9),
    ]
    slots = [SlotSpec(100 + d, 10, 2, day(d), draw(st.integers(0, 1))) for d in range(5)]
    slots += [SlotSpec(110 + d, 11, 3, day(d), draw(st.integers(0, 1))) for d in range(5)]
    requests = []
    for rid in range(1, draw(st.integers(3, 8)) + 1):
        days = draw(st.sampled_from([1, 1, 1, 2, 3]))
        first = draw(st.integers(0, 4))
        last = draw(st.integers(first, 4))
        requests.append(request(rid, days=days, windows=((day(first), day(last)),)))
    if draw(st.booleans()) and len(requests) >= 2:
        a, b = requests[0], requests[1]
        requests[0] = dataclasses.replace(a, partner=b.id)
        requests[1] = dataclasses.replace(b, organisation=4, partner=a.id, days=a.days, windows=a.windows)
    return build(requests, workplaces, slots, fairness_weight=draw(st.sampled_from([0.0, 1.0])))


def test_a_three_day_request_gives_its_seats_to_the_one_day_requests_that_want_two_of_its_days() -> None:
    # Workplace 10 has one seat on days 0, 1 and 2. Request 1 (first) wants all three days; request 2
    # day 0, request 3 day 2 (request 4 day 5, no seat). First come, first served and the flow place
    # request 1 only; the swap places requests 2 and 3 on its seats instead, and leaves day 1 free.
    workplaces = [WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)]
    slots = [SlotSpec(100 + d, 10, 2, day(d), 1) for d in range(3)] + [SlotSpec(105, 10, 2, day(5), 0)]
    requests = [
        request(1, days=3, windows=((day(0), day(2)),)),
        request(2, windows=((day(0), day(0)),)),
        request(3, windows=((day(2), day(2)),)),
        request(4, windows=((day(5), day(5)),)),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    _, fcfs = first_come_first_served(problem, m)
    assert reoptimise_one_day(lagrangian, fcfs) == fcfs  # no seat left for the one-day requests

    new, swaps = swap_multi_day(lagrangian, fcfs, np.zeros(len(m.capacity)), np.zeros(0), FAR)

    assert swaps == 1
    chosen = {m.request_ids[r]: m.options[j].slots for r, j in enumerate(new) if j >= 0}
    assert chosen == {2: (100,), 3: (102,)}
    assert objective_of(m, new)[0] == 2 * 1000.5


def test_the_swapped_proposal_is_kept_only_when_it_is_worth_more() -> None:
    workplaces = [WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)]
    slots = [SlotSpec(100, 10, 2, day(0), 1), SlotSpec(101, 10, 2, day(1), 1)]
    requests = [
        request(1, days=2, windows=((day(0), day(1)),)),
        request(2, windows=((day(0), day(0)),)),
        request(3, windows=((day(1), day(1)),)),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    _, fcfs = first_come_first_served(problem, m)
    prices = np.zeros(len(m.capacity)), np.zeros(0)

    new, objective, method = swapped(lagrangian, fcfs, 1000.5, "floor", prices, FAR)

    assert (objective, method) == (2 * 1000.5, "floor+swaps")
    assert {m.request_ids[r]: m.options[j].slots for r, j in enumerate(new) if j >= 0} == {
        2: (100,),
        3: (101,),
    }
    # nothing to swap in the swapped proposal, nor anything before the deadline
    assert swapped(lagrangian, new, objective, "x", prices, FAR) == (new, objective, "x")
    assert swapped(lagrangian, fcfs, 1000.5, "x", prices, 0.0) == (fcfs, 1000.5, "x")


def test_a_two_day_request_stays_where_only_one_of_its_days_is_wanted() -> None:
    workplaces = [WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)]
    slots = [SlotSpec(100, 10, 2, day(0), 1), SlotSpec(101, 10, 2, day(1), 1)]
    requests = [
        request(1, days=2, windows=((day(0), day(1)),)),
        request(2, windows=((day(0), day(0)),)),
        request(3, windows=((day(0), day(0)),)),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    _, fcfs = first_come_first_served(problem, m)

    new, swaps = swap_multi_day(lagrangian, fcfs, np.zeros(len(m.capacity)), np.zeros(0), FAR)

    assert swaps == 0
    assert new == fcfs


def test_no_swap_after_the_deadline() -> None:
    workplaces = [WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)]
    slots = [SlotSpec(100, 10, 2, day(0), 1), SlotSpec(101, 10, 2, day(1), 1)]
    requests = [
        request(1, days=2, windows=((day(0), day(1)),)),
        request(2, windows=((day(0), day(0)),)),
        request(3, windows=((day(1), day(1)),)),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    _, fcfs = first_come_first_served(problem, m)

    assert swap_multi_day(lagrangian, fcfs, np.zeros(len(m.capacity)), np.zeros(0), time.monotonic()) == (
        fcfs,
        0,
    )
    new, swaps = swap_multi_day(lagrangian, fcfs, np.zeros(len(m.capacity)), np.zeros(0), FAR)
    assert swaps == 1
    assert {m.request_ids[r] for r, j in enumerate(new) if j >= 0} == {2, 3}


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(programmes(max_requests=7), contested()), st.lists(st.floats(0, 1500), min_size=1, max_size=20)
)
def test_swapping_gives_a_feasible_proposal_with_more_people_placed(
    problem: Problem, prices: list[float]
) -> None:
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    _, fcfs = first_come_first_served(problem, m)
    fcfs = reoptimise_one_day(lagrangian, fcfs)
    slot_price = np.resize(np.asarray(prices), len(m.capacity))
    group_price = np.resize(np.asarray(prices[::-1]), len(m.group_capacity))

    new, swaps = swap_multi_day(lagrangian, fcfs, slot_price, group_price, FAR)

    placed_before, placed_after = objective_of(m, fcfs)[1], objective_of(m, new)[1]
    assert placed_after >= placed_before + swaps
    assert_feasible_within_the_optimum(problem, m, new)
