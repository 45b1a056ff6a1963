"""Augmenting paths over every feasible option, and the bound of the slots that block them: more people
placed than the first comers leave room for, and a bound that certifies it where every option ties."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from shadowing.matching.augment import augment
from shadowing.matching.baseline import first_come_first_served
from shadowing.matching.bound import certified_bound
from shadowing.matching.model import Model, Seats, build_model, objective_of
from shadowing.matching.options import Problem, SlotSpec, WorkplaceSpec
from tests.shadowing.test_column_generation import tied_programmes
from tests.shadowing.test_solver import EPS, brute_force, build, day, every_option, request, small_programmes


def _unpriced(problem: Problem, m: Model) -> np.ndarray:
    _, priced = certified_bound(
        problem,
        m,
        np.zeros(len(m.capacity)),
        np.zeros(len(m.group_capacity)),
        request_price=np.zeros(len(m.request_ids)),
    )
    assert priced is not None
    return priced.value


def _assert_feasible(problem: Problem, m: Model, seats: Seats, assign: list[int]) -> None:
    options = set(every_option(problem))
    used = Seats(m)
    for r, j in enumerate(assign):
        if j >= 0:
            assert m.options[j] in options
            assert m.options[j].request == m.request_ids[r]
            used.take(j)
    assert used.slot == seats.slot and used.group == seats.group
    assert min(seats.slot, default=0) >= 0 and min(seats.group, default=0) >= 0
    for a, b in problem.pairs:
        assert (assign[m.row_of[a]] >= 0) == (assign[m.row_of[b]] >= 0)


def _chain_programme() -> Problem:
    # One seat a day on days 0, 1 and 2. Request 1 may come any day, 2 on days 0-1, 3 on day 0 only: the
    # first comers take day 0 and day 1, the third finds nothing until 1 moves to day 2.
    workplace = WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)
    slots = [SlotSpec(100 + d, 10, 2, day(d), 1) for d in range(3)]
    requests = [
        request(1, windows=((day(0), day(2)),)),
        request(2, windows=((day(0), day(1)),)),
        request(3, windows=((day(0), day(0)),)),
    ]
    return build(requests, [workplace], slots, fairness_weight=0.0, max_options_per_request=1)


def test_a_chain_of_two_moves_places_the_last_comer_and_the_bound_certifies_it() -> None:
    problem = _chain_programme()
    m = build_model(problem)
    seats, assign = first_come_first_served(problem, m)
    assert objective_of(m, assign) == (2001.0, 2)

    added, bound = augment(problem, m, seats, assign, _unpriced(problem, m), float("inf"))

    _assert_feasible(problem, m, seats, assign)
    assert added == 1
    assert {m.request_ids[r]: m.options[j].slots for r, j in enumerate(assign)} == {
        1: (102,),
        2: (101,),
        3: (100,),
    }
    assert objective_of(m, assign) == (3001.5, 3)
    assert bound == 3001.5


def test_where_seats_run_out_the_blocked_slots_bound_the_placement_exactly() -> None:
    # Three requests for two seats (days 0 and 1); without prices the bound is everyone placed.
    workplace = WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)
    slots = [SlotSpec(100 + d, 10, 2, day(d), 1) for d in range(2)]
    requests = [request(rid, windows=((day(0), day(1)),)) for rid in (1, 2, 3)]
    problem = build(requests, [workplace], slots, fairness_weight=0.0)
    m = build_model(problem)
    seats, assign = first_come_first_served(problem, m)
    unpriced = _unpriced(problem, m)
    assert float(np.maximum(unpriced, 0.0).sum()) == 3001.5

    added, bound = augment(problem, m, seats, assign, unpriced, float("inf"))

    assert added == 0
    assert bound == 2001.0 == objective_of(m, assign)[0]


@settings(max_examples=40, deadline=None)
@given(tied_programmes())
def test_with_ties_the_paths_keep_the_seats_and_the_bound_stays_above_the_optimum(problem: Problem) -> None:
    best, most_placed = brute_force(problem)
    m = build_model(problem)
    seats, assign = first_come_first_served(problem, m)
    before = objective_of(m, assign)[0]

    _added, bound = augment(problem, m, seats, assign, _unpriced(problem, m), float("inf"))

    _assert_feasible(problem, m, seats, assign)
    after, placed = objective_of(m, assign)
    assert after >= before - EPS
    assert placed <= most_placed
    assert bound >= best - EPS


@settings(max_examples=40, deadline=None)
@given(small_programmes())
def test_the_blocked_slots_bound_is_above_the_brute_force_optimum(problem: Problem) -> None:
    best, _ = brute_force(problem)
    m = build_model(problem)
    seats, assign = first_come_first_served(problem, m)
    before = objective_of(m, assign)[0]

    _added, bound = augment(problem, m, seats, assign, _unpriced(problem, m), float("inf"))

    _assert_feasible(problem, m, seats, assign)
    assert objective_of(m, assign)[0] >= before - EPS
    assert bound >= best - EPS
