"""The proposal from the Lagrangian's seat prices (``shadowing.matching.price_rounding``): feasible on
every small programme, never above the brute-force optimum, and steered by the prices away from the seats
others need."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import assume, given, settings

from shadowing.matching.lagrange import Lagrangian
from shadowing.matching.model import Seats, build_model, objective_of
from shadowing.matching.options import Problem, SlotSpec, WorkplaceSpec
from shadowing.matching.price_rounding import price_rounding
from shadowing.matching.solver import greedy
from tests.shadowing.test_lagrangian import programmes
from tests.shadowing.test_solver import EPS, brute_force, build, day, request


@settings(max_examples=80, deadline=None)
@given(programmes())
def test_the_rounding_from_the_minimised_prices_is_feasible_and_below_the_optimum(problem: Problem) -> None:
    best, _ = brute_force(problem)
    m = build_model(problem)
    assume(len(m.value) > 0)  # (the solver returns at once when there is no option)
    lagrangian = Lagrangian(problem, m)
    _, slot_price, group_price, _ = lagrangian.minimise(0.0, time.monotonic() + 2.0, max_steps=50)
    far = time.monotonic() + 60.0

    seats, assign = price_rounding(problem, lagrangian, slot_price, group_price, far, far)

    check = Seats(m)
    for r, j in enumerate(assign):
        if j >= 0:
            assert int(m.option_request[j]) == r
            check.take(j)
            p = m.partner[r]
            assert p < 0 or assign[p] >= 0  # a pair both or neither
    assert min(check.slot, default=0) >= 0 and min(check.group, default=0) >= 0
    assert check.slot == seats.slot and check.group == seats.group
    assert objective_of(m, assign)[0] <= best + EPS


def test_a_price_on_the_seat_another_needs_sends_the_flexible_request_elsewhere() -> None:
    # Workplace 10 (topics 1 and 2) and 11 (topic 1), one seat each on day 0. Request 1 (first) prefers
    # 10 but may go to 11; request 2 (topic 2) can only go to 10. First come, first served places one.
    workplaces = [
        WorkplaceSpec(10, 2, frozenset({1, 2}), frozenset(), 1),
        WorkplaceSpec(11, 2, frozenset({1}), frozenset(), 1),
    ]
    slots = [SlotSpec(100, 10, 2, day(0), 1), SlotSpec(101, 11, 2, day(0), 1)]
    requests = [
        request(1, preferred_workplaces={10: 1}),
        request(2, topics=frozenset({2})),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    price = np.zeros(len(m.capacity))
    price[m.slot_row[100]] = 20.0  # above what request 1's preference is worth
    far = time.monotonic() + 60.0

    _, assign = price_rounding(problem, lagrangian, price, np.zeros(0), far, far)

    assert greedy(problem).placed == 1
    chosen = {m.request_ids[r]: m.options[j].slots for r, j in enumerate(assign) if j >= 0}
    assert chosen == {1: (101,), 2: (100,)}
