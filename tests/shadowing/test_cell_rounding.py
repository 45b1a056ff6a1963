"""The placement from the (workplace, day) cell LP (``shadowing.matching.cell_rounding``): rounds solved on a
thread of their own, the last optimal round's columns realised as real options. Whatever the LP's solution,
the placement keeps every seat and day cap, places pairs both or neither and is worth no more than the
optimum; where the LP is integral it is the optimum."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowing.matching.aggregate import WorkplaceCells
from shadowing.matching.baseline import first_come_first_served
from shadowing.matching.cell_lp import CellLP
from shadowing.matching.cell_rounding import CellRounding
from shadowing.matching.lagrange import Lagrangian
from shadowing.matching.model import Model, build_model
from shadowing.matching.model import objective_of as model_objective
from shadowing.matching.options import Problem, SlotSpec, WorkplaceSpec
from shadowing.matching.solver import solve
from tests.shadowing.test_cell_lp import day_0_and_day_1, unpriced_at
from tests.shadowing.test_lagrangian import programmes
from tests.shadowing.test_solver import (
    EPS,
    assert_feasible_within_the_optimum,
    assert_valid,
    brute_force,
    build,
    day,
    request,
)


@settings(max_examples=80, deadline=None)
@given(st.one_of(programmes(), programmes(name_workplaces=False)))
def test_the_placement_is_feasible_and_within_the_optimum(problem: Problem) -> None:
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    _seats, fcfs = first_come_first_served(problem, m)
    cell = CellRounding(lagrangian, time.monotonic() + 30.0, fcfs, unpriced_at(lagrangian))

    bound = cell.finish()
    placed = cell.place(problem)

    assert placed is not None  # (small: the first round is optimal within the time)
    assert cell.result.converged
    assert_feasible_within_the_optimum(problem, m, placed)
    best, _ = brute_force(problem)
    assert bound >= best - EPS  # the rounds' prices give certified bounds


def _two_days_between_two_one_day_requests() -> Problem:
    # one workplace open Monday to Thursday, one seat a day; request 1 (two days, consecutive, the whole
    # week) comes first, requests 2 and 3 want Monday and Thursday only
    workplaces = [WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)]
    slots = [SlotSpec(100 + d, 10, 2, day(d), 1) for d in range(4)]
    requests = [
        request(1, days=2, consecutive=True, windows=((day(0), day(3)),)),
        request(2, windows=((day(0), day(0)),)),
        request(3, windows=((day(3), day(3)),)),
    ]
    return build(requests, workplaces, slots, fairness_weight=0.0)


def _rounds_from_the_floor(problem: Problem) -> tuple[Model, Lagrangian, list[int], CellRounding]:
    """The model, its Lagrangian, first come, first served and the cell LP's rounds started from it."""
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    _seats, fcfs = first_come_first_served(problem, m)
    cell = CellRounding(lagrangian, time.monotonic() + 30.0, fcfs, unpriced_at(lagrangian))
    return m, lagrangian, fcfs, cell


def test_the_lp_places_the_two_day_request_between_the_others() -> None:
    problem = _two_days_between_two_one_day_requests()
    m, _lagrangian, fcfs, cell = _rounds_from_the_floor(problem)

    cell.finish()
    placed = cell.place(problem)

    # first come, first served gives request 1 Monday and Tuesday and leaves request 2 out
    assert model_objective(m, fcfs) == (2 * 1000.5, 2)
    assert placed is not None
    chosen = {m.request_ids[r]: m.options[j] for r, j in enumerate(placed) if j >= 0}
    assert sorted(chosen) == [1, 2, 3]
    assert chosen[1].slots == (101, 102)
    assert chosen[2].slots == (100,)
    assert chosen[3].slots == (103,)
    assert model_objective(m, placed) == (3 * 1000.5, 3)


def test_the_steps_lowest_bound_steers_the_rounds_pricing_when_lower() -> None:
    problem = _two_days_between_two_one_day_requests()
    m, lagrangian, _fcfs, cell = _rounds_from_the_floor(problem)
    no_day_cap = np.zeros(len(m.group_capacity))
    low_y = np.array([1000.5, 0.0, 0.0, 1000.5])  # Monday and Thursday priced: L = 3 × 1000.5
    low = lagrangian.at(low_y, no_day_cap)
    high_y = np.full(4, 600.0)  # 4 × 600, request 1 priced out, 2 and 3 at 400.5 each: L = 3,201
    high = lagrangian.at(high_y, no_day_cap)

    cell.steer((low.bound, low_y, no_day_cap, low))
    cell.steer((high.bound, high_y, no_day_cap, high))

    assert (low.bound, high.bound) == (3 * 1000.5, 3201.0)
    assert cell.result.bound == low.bound
    assert cell.result.evaluation is low
    assert cell.result.centre is not None
    assert np.array_equal(cell.result.centre, cell.cells.cell_prices(low.slot_cost))
    assert sorted(cell.result.centre.tolist()) == [0.0, 0.0, 1000.5, 1000.5]
    cell.finish()
    placed = cell.place(problem)
    assert placed is not None and model_objective(m, placed) == (3 * 1000.5, 3)
    assert cell.bound <= low.bound


def test_a_large_programme_takes_the_cell_lp_placement() -> None:
    # (the large programmes' path forced on a small one)
    problem = _two_days_between_two_one_day_requests()

    solution = solve(problem, time_limit=20.0, lp_first_requests=0)

    assert_valid(problem, solution)
    assert solution.placed == 3
    assert solution.chosen[1].slots == (101, 102)


def test_nothing_before_a_round_has_ended() -> None:
    problem = _two_days_between_two_one_day_requests()
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)

    nobody = [-1] * len(m.request_ids)
    cell = CellRounding(lagrangian, time.monotonic() - 1.0, nobody, unpriced_at(lagrangian))

    assert cell.finish() == float("inf")  # (no round started: out of time)
    assert cell.place(problem) is None


def test_dropped_columns_may_join_again_and_the_keys_follow_the_columns() -> None:
    problem = _two_days_between_two_one_day_requests()
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    cells = WorkplaceCells(lagrangian)
    lp = CellLP(cells, solver="ipm")
    lp.add_best([unpriced_at(lagrangian)])
    keys = list(lp.keys)
    assert lp.n_columns == len(keys) == lp.highs.getNumCol() == 3

    lp.drop(np.array([0]))

    assert lp.keys == keys[1:]
    assert lp.n_columns == lp.highs.getNumCol() == 2
    lp.add_best([unpriced_at(lagrangian)])
    assert lp.keys == [*keys[1:], keys[0]]
    assert lp.highs.getNumCol() == 3


def test_no_round_starts_at_the_end_of_the_steps_until_a_proposal_is_offered() -> None:
    # the first round lists day 0 only, the second adds request 4's day-1 option
    problem, m, day_0 = day_0_and_day_1()
    lagrangian = Lagrangian(problem, m)
    unpriced = unpriced_at(lagrangian)
    assert unpriced.start[3] == 0  # (request 4's best option without prices is on day 0 too)
    began = time.monotonic()

    cell = CellRounding(lagrangian, began + 30.0, day_0, unpriced, steps_end=began + 1.0)
    time.sleep(0.8)  # the first round has ended; the hold begins 0.7 s in
    cell.poll()

    assert cell.result.rounds == 1 and not cell.result.converged
    assert cell.finish() < float("inf")  # (waits for no round: the next one waits for an offer)
    assert cell.result.rounds == 1
    cell.offer(day_0)
    cell.finish()
    assert cell.result.converged and cell.result.rounds == 2
    placed = cell.place(problem)
    assert placed is not None and model_objective(m, placed) == (2 * 1000.5, 2)


def test_no_round_starts_that_would_end_after_the_limit() -> None:
    # as the hold's case: the first round lists day 0 only, a second one would add request 4's day 1
    problem, m, day_0 = day_0_and_day_1()
    lagrangian = Lagrangian(problem, m)
    began = time.monotonic()

    cell = CellRounding(lagrangian, began + 30.0, day_0, unpriced_at(lagrangian))
    assert cell.lp is not None
    while cell.lp.running():
        time.sleep(0.01)
    assert 0.0 < cell.lp.seconds < 30.0
    cell.lp.seconds = 60.0  # (the last round "took" longer than the time left)
    cell.poll()

    assert cell.result.rounds == 1 and not cell.result.converged
    assert not cell.lp.running()
    assert cell.finish() < float("inf")  # (returns at once: no round runs)
    assert time.monotonic() - began < 10.0
    placed = cell.place(problem)  # (the first round's solution)
    assert placed is not None and model_objective(m, placed)[1] == 2


def test_a_round_that_would_run_past_the_steps_waits_for_the_offer_whose_round_always_starts() -> None:
    problem, m, day_0 = day_0_and_day_1()
    lagrangian = Lagrangian(problem, m)
    began = time.monotonic()

    cell = CellRounding(lagrangian, began + 30.0, day_0, unpriced_at(lagrangian), steps_end=began + 20.0)
    assert cell.lp is not None
    while cell.lp.running():
        time.sleep(0.01)
    cell.lp.seconds = 60.0  # (a second round "would take" past the steps' end and past the limit)
    cell.poll()

    assert cell.result.rounds == 1 and not cell.lp.running()  # (waits, 20 s before the steps end)
    cell.offer(day_0)  # the first offer after the steps: its round starts though it "would" end late
    # (without that, no second round: `finish` would return after one)
    cell.finish()
    assert cell.result.converged and cell.result.rounds == 2
    placed = cell.place(problem)
    assert placed is not None and model_objective(m, placed) == (2 * 1000.5, 2)
