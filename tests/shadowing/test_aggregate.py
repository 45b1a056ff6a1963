"""Prices per (workplace class, day) (``shadowing.matching.aggregate``): the bound at such prices is the
certified one and never below the optimum, and averaging the subgradient's prices over each class and day
lowers the bound where they differ seat by seat."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowing.matching.aggregate import Cells, on_cells
from shadowing.matching.bound import certified_bound
from shadowing.matching.lagrange import Lagrangian
from shadowing.matching.model import build_model
from shadowing.matching.options import Problem, SlotSpec, WorkplaceSpec
from tests.shadowing.test_lagrangian import programmes
from tests.shadowing.test_solver import EPS, brute_force, build, day, request


@settings(max_examples=80, deadline=None)
@given(programmes(), st.lists(st.floats(0, 1500), min_size=1, max_size=30))
def test_the_bound_at_prices_per_class_and_day_is_the_certified_one_and_above_the_optimum(
    problem: Problem, prices: list[float]
) -> None:
    best, _ = brute_force(problem)  # over every feasible option, pairs, day caps, ties
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    cells = Cells(lagrangian)
    cell_price = np.resize(np.asarray(prices), cells.n_cells)

    slot_price, group_price = cells.prices(cell_price)
    evaluation = lagrangian.at(slot_price, group_price)
    expected, _ = certified_bound(problem, m, slot_price, group_price)

    # every seat of a (class, day) costs its price, and the seats counted are the cells' seats
    assert np.allclose(evaluation.slot_cost, cell_price[cells.slot_cell])
    fixed = lagrangian.fixed(slot_price, group_price)
    assert abs(fixed - (float(cells.seats @ cell_price) + m.fairness_coefficient)) < 1e-6 * max(1.0, fixed)
    assert abs(evaluation.bound - expected) < EPS
    assert evaluation.bound >= best - EPS


def test_prices_averaged_over_a_class_and_day_lower_a_bound_priced_seat_by_seat() -> None:
    # two workplaces of one organisation (one class), one seat each on one day, two requests who tie
    workplaces = [
        WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1),
        WorkplaceSpec(11, 2, frozenset({1}), frozenset(), 1),
    ]
    slots = [SlotSpec(100, 10, 2, day(0), 1), SlotSpec(101, 11, 2, day(0), 1)]
    problem = build([request(1), request(2)], workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    cells = Cells(lagrangian)
    slot_price = np.zeros(len(m.capacity))
    slot_price[m.slot_row[100]] = 1000.0  # one seat priced, the other free: both take the free one
    found = lagrangian.at(slot_price, np.zeros(len(m.group_capacity)))
    assert cells.n_cells == 1
    assert abs(found.bound - (1000.0 + 2 * 1000.5)) < EPS

    bound, averaged, _groups, evaluation = on_cells(cells, (found.bound, slot_price, np.zeros(0), found))

    assert abs(bound - 2 * 1000.5) < EPS  # 2 seats at 500 + 2 x (1000.5 - 500): the optimum
    assert np.allclose(averaged, 500.0)
    assert abs(evaluation.bound - bound) < EPS
    # and a bound that the average does not lower is kept as it is
    kept = on_cells(cells, (bound, averaged, np.zeros(0), evaluation))
    assert kept[0] == bound
