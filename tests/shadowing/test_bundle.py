"""The bundle method over one price per (workplace class, day) (``shadowing.matching.bundle``): every
bound it reports is the certified one at its prices and never below the optimum, it reaches the LP bound
on a small exact case, keeps to its time and keeps its bundle small."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from shadowing.matching import bundle
from shadowing.matching.aggregate import Cells
from shadowing.matching.bound import certified_bound
from shadowing.matching.lagrange import Best, Evaluation, Lagrangian
from shadowing.matching.model import build_model
from shadowing.matching.options import Problem, SlotSpec, WorkplaceSpec
from tests.shadowing.test_lagrangian import programmes
from tests.shadowing.test_solver import EPS, brute_force, build, day, request


@settings(max_examples=60, deadline=None)
@given(programmes(), st.lists(st.floats(0, 1500), min_size=1, max_size=30))
def test_the_bundle_bound_is_the_certified_one_at_its_prices_and_above_the_optimum(
    problem: Problem, prices: list[float]
) -> None:
    best, _ = brute_force(problem)  # over every feasible option, pairs, day caps, ties
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    cells = Cells(lagrangian)
    start = np.resize(np.asarray(prices), cells.n_cells)
    began = bundle.on_cells(cells)(start)

    found = bundle.minimise(bundle.on_cells(cells), start, best, float("inf"), max_evaluations=12)

    expected, _ = certified_bound(problem, m, *cells.prices(found.price))
    assert abs(found.bound - expected) < EPS
    assert abs(found.evaluation.bound - expected) < EPS
    assert found.bound >= best - EPS
    assert found.bound <= began.bound + EPS  # the lowest seen: never above the start
    # the subgradient: each cell's seats less the seats the best options use there
    used = lagrangian.used(found.evaluation)
    counted = np.bincount(cells.slot_cell[used], minlength=cells.n_cells)
    assert np.array_equal(found.subgradient, cells.seats - counted)


@settings(max_examples=40, deadline=None)
@given(programmes())
def test_the_steps_pass_on_their_lowest_so_far_and_the_averaged_prices_when_lower(problem: Problem) -> None:
    # (the solver's cell LP prices near them: each passed L must be the certified one at its prices)
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    passed: list[Best] = []
    best, _ = brute_force(problem)

    low, steps, _resume = bundle.lowest(lagrangian, best, time.monotonic() + 0.3, passed.append)

    event("no step (the best options fit)" if not passed else "steps")
    for bound, y, z, evaluation in passed:
        assert abs(Lagrangian(problem, m).at(y, z).bound - bound) < EPS
        assert abs(evaluation.bound - bound) < EPS
    # the lowest so far: never rising, and each the lowest of the evaluations before it
    bounds = [b for b, *_ in passed]
    assert bounds == sorted(bounds, reverse=True)
    if low < steps[0] - EPS:  # the averaged prices: passed last
        event("the averaged prices lower")
        assert abs(bounds[-1] - low) < EPS
    elif passed:
        assert bounds[-1] >= steps[0] - EPS


def _two_days() -> Problem:
    """One class (two workplaces of organisation 2): one seat on day 0, two on day 1. Three requests
    can go on day 0 only, one on either day: two placed at best, 2 × 1000.5, which is also the LP's."""
    workplaces = [
        WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 2),
        WorkplaceSpec(11, 2, frozenset({1}), frozenset(), 2),
    ]
    slots = [
        SlotSpec(100, 10, 2, day(0), 1),
        SlotSpec(101, 10, 2, day(1), 1),
        SlotSpec(102, 11, 2, day(1), 1),
    ]
    only_day_0 = ((day(0), day(0)),)
    requests = [request(rid, windows=only_day_0) for rid in (1, 2, 3)]
    requests.append(request(4, windows=((day(0), day(1)),)))
    return build(requests, workplaces, slots, fairness_weight=0.0)


def test_the_averaged_prices_are_passed_on_when_they_are_lower() -> None:
    # Steps that ended at 1000.5 on day 0's seat and 500 on one of day 1's two seats: L = 2,501 (1,000.5
    # + 500 + request 4 at 1,000.5 on the free seat); the day's two seats at their mean p: 2,001 + p.
    problem = _two_days()
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    y = np.array([1000.5, 0.0, 500.0])
    ended: Best = (lagrangian.at(y, np.zeros(0)).bound, y, np.zeros(0), lagrangian.at(y, np.zeros(0)))
    passed: list[Best] = []

    def steps(target: float, until: float, between: Callable[[Best], None]) -> Best:
        between(ended)
        return ended

    lagrangian.minimise = steps  # type: ignore[assignment,method-assign]

    low, found, _resume = bundle.lowest(lagrangian, 2001.0, time.monotonic() + 1.0, passed.append)

    assert ended[0] == 2501.0
    assert found is ended
    assert len(passed) == 2 and passed[0] is ended
    bound, averaged_y, averaged_z, evaluation = passed[1]
    assert averaged_y[1] == averaged_y[2] and 0.0 < averaged_y[1] < 500.0
    assert abs(bound - (2001.0 + averaged_y[1])) < EPS
    assert low == bound == evaluation.bound
    assert abs(Lagrangian(problem, m).at(averaged_y, averaged_z).bound - bound) < EPS


def test_the_bundle_reaches_the_lp_bound_from_no_prices() -> None:
    problem = _two_days()
    best, placed = brute_force(problem)
    assert (best, placed) == (2001.0, 2)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    cells = Cells(lagrangian)
    assert cells.n_cells == 2
    assert np.array_equal(cells.seats, [1.0, 2.0])

    found = bundle.minimise(bundle.on_cells(cells), np.zeros(2), 0.0, float("inf"), max_evaluations=40)

    assert bundle.on_cells(cells)(np.zeros(2)).bound == 4 * 1000.5  # everyone at their best option
    assert abs(found.bound - 2001.0) < 1e-6
    assert abs(certified_bound(problem, m, *cells.prices(found.price))[0] - 2001.0) < 1e-6


def test_an_evaluation_starts_only_when_the_last_ones_time_still_fits() -> None:
    problem = _two_days()
    m = build_model(problem)
    cells = Cells(Lagrangian(problem, m))
    now = [0.0]
    evaluated: list[float] = []
    on_cells = bundle.on_cells(cells)

    def one_second_each(price: np.ndarray) -> bundle.Point:
        evaluated.append(now[0])
        now[0] += 1.0
        return on_cells(price)

    found = bundle.minimise(one_second_each, np.zeros(2), 0.0, 3.5, clock=lambda: now[0])

    # the start at 0, then at 1 and 2 (each ends by 3.5); at 3 the next would end at 4
    assert evaluated == [0.0, 1.0, 2.0]
    assert now[0] == 3.0
    assert found.bound < 4 * 1000.5


def test_the_bundle_is_aggregated_beyond_its_size_and_the_merged_cut_is_their_mean() -> None:
    n = 3
    cuts = np.arange(bundle.MAX_CUTS * n, dtype=float).reshape(bundle.MAX_CUTS, n)
    offsets = np.arange(bundle.MAX_CUTS, dtype=float)
    weights = np.zeros(bundle.MAX_CUTS)
    weights[[0, 1, -1]] = [0.25, 0.25, 0.5]  # two old cuts in use, the newest too
    empty = Evaluation(0.0, np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    point = bundle.Point(100.0, np.ones(n), np.full(n, -1.0), empty)

    cuts, offsets, weights = bundle._with_cut(cuts, offsets, weights, point)

    # the cuts of weight 0 but the newest dropped: cuts 0 and 1 and the newest ten remain (with the new)
    assert len(offsets) == 2 + bundle.KEEP_NEWEST
    assert np.array_equal(offsets[:2], [0.0, 1.0])
    assert offsets[-1] == 100.0 - (-1.0 * n)
    assert np.array_equal(cuts[-1], [-1.0, -1.0, -1.0])
    assert abs(float(weights.sum()) - 1.0) < 1e-12


def test_the_older_cuts_in_use_merge_into_their_weighted_mean() -> None:
    n = 2
    cuts = np.arange(bundle.MAX_CUTS * n, dtype=float).reshape(bundle.MAX_CUTS, n)
    offsets = np.arange(bundle.MAX_CUTS, dtype=float)
    weights = np.full(bundle.MAX_CUTS, 1.0 / bundle.MAX_CUTS)  # every cut in use
    empty = Evaluation(0.0, np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    point = bundle.Point(100.0, np.zeros(n), np.zeros(n), empty)
    old = bundle.MAX_CUTS + 1 - bundle.KEEP_NEWEST  # the cuts before the newest ten (the new one counted)

    merged_cuts, merged_offsets, merged_weights = bundle._with_cut(cuts, offsets, weights, point)

    assert len(merged_offsets) == 1 + bundle.KEEP_NEWEST
    assert abs(merged_offsets[0] - float(np.mean(offsets[:old]))) < 1e-9
    assert np.allclose(merged_cuts[0], cuts[:old].mean(axis=0))
    assert np.array_equal(merged_offsets[1:], np.append(offsets[old:], 100.0))
    assert abs(merged_weights[0] - old / bundle.MAX_CUTS) < 1e-12
    assert abs(float(merged_weights.sum()) - 1.0) < 1e-12
