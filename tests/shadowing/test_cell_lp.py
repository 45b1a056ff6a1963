"""The cell LP (``shadowing.matching.cell_lp``): seat rows summed per (workplace class, day), solved by
column generation priced with the Lagrangian's evaluation. On small programmes it converges to the
optimum of the same LP written out directly over every feasible option, ``L`` at its cell duals equals
that optimum and is the certified bound, never below the best placement."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.sparse import lil_matrix

from shadowing.matching.aggregate import Cells, WorkplaceCells
from shadowing.matching.bound import certified_bound
from shadowing.matching.cell_lp import CellLP
from shadowing.matching.lagrange import Evaluation, Lagrangian
from shadowing.matching.model import PLACED_WEIGHT, Model, build_model
from shadowing.matching.options import Problem, RequestSpec, SlotSpec, WorkplaceSpec
from tests.shadowing.test_lagrangian import programmes
from tests.shadowing.test_solver import EPS, brute_force, build, day, every_option, request


def cell_lp_directly(problem: Problem, m: Model, cells: Cells) -> float:
    """The cell LP over every feasible option written out (scipy's HiGHS): per cell the seats used at
    most its seats, per request at most one option, per pair ``x(a) = x(b)``; plus the fairness term."""
    options = every_option(problem)
    n_req = len(m.request_ids)
    pairs = [(r, p) for r, p in enumerate(m.partner) if p > r]
    inequalities = lil_matrix((cells.n_cells + n_req, len(options)))
    equalities = lil_matrix((max(len(pairs), 1), len(options)))
    pair_of = {r: (k, 1.0) for k, (r, _p) in enumerate(pairs)} | {
        p: (k, -1.0) for k, (_r, p) in enumerate(pairs)
    }
    value = np.zeros(len(options))
    for j, option in enumerate(options):
        r = m.row_of[option.request]  # every request with a feasible option is in the model
        value[j] = PLACED_WEIGHT + option.score
        for sid in option.slots:
            inequalities[int(cells.slot_cell[m.slot_row[sid]]), j] += 1.0
        inequalities[cells.n_cells + r, j] = 1.0
        if r in pair_of:
            k, sign = pair_of[r]
            equalities[k, j] = sign
    upper = np.concatenate([cells.seats, np.ones(n_req)])
    solved = linprog(
        -value,
        A_ub=inequalities.tocsr(),
        b_ub=upper,
        A_eq=equalities.tocsr() if pairs else None,
        b_eq=np.zeros(len(pairs)) if pairs else None,
        bounds=(0, None),
        method="highs",
    )
    assert solved.status == 0
    return float(-solved.fun) + m.fairness_coefficient


def unpriced_at(lagrangian: Lagrangian) -> Evaluation:
    """The evaluation without prices: every request at its best option."""
    m = lagrangian.m
    return lagrangian.at(np.zeros(len(m.capacity)), np.zeros(len(m.group_capacity)))


@settings(max_examples=60, deadline=None)
@given(programmes())
def test_the_cell_lp_converges_to_the_cell_lp_written_out_and_its_bound_is_certified(
    problem: Problem,
) -> None:
    best, _ = brute_force(problem)  # over every feasible option, pairs, day caps, ties
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    cells = Cells(lagrangian)
    unpriced = unpriced_at(lagrangian)

    result = CellLP(cells).run(time.monotonic() + 30.0, [unpriced])

    directly = cell_lp_directly(problem, m, cells)
    assert result.converged  # (small: column generation ends within the time)
    assert abs(result.lp_value - directly) < 1e-6 * max(1.0, directly)
    # L at the cell duals is the LP's optimum: the lowest L over one price per cell
    assert abs(result.bound - directly) < 1e-6 * max(1.0, directly)
    expected, _ = certified_bound(problem, m, *cells.prices(result.cell_price))
    assert abs(result.bound - expected) < EPS
    assert result.evaluation is not None and abs(result.evaluation.bound - expected) < EPS
    assert result.bound >= best - EPS


def day_0_and_day_1() -> tuple[Problem, Model, list[int]]:
    """One class (two workplaces of organisation 2), one seat on day 0 and two on day 1; requests 1-3 want
    day 0, request 4 either: the programme, its model and the proposal of everyone on day 0's seat (its
    options: one for requests 1-3 alike, one for request 4)."""
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
    requests = [request(i, windows=only_day_0) for i in (1, 2, 3)] + [request(4, windows=((day(0), day(1)),))]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    first = [int(m.request_options[r][0]) for r in range(len(m.request_ids))]
    return problem, m, [j if m.option_slots[j] == (m.slot_row[100],) else -1 for j in first]


def test_one_seat_on_day_0_and_two_on_day_1_for_three_requests_of_day_0_and_one_of_either() -> None:
    # the cell LP places two, 2 x 1000.5, with the seat on day 0 priced at a request's value and day 1's
    # free; first come, first served alone (two listed options on day 0) is not the optimum: the pricing
    # must add the day-1 option
    problem, m, day_0 = day_0_and_day_1()
    lagrangian = Lagrangian(problem, m)
    cells = Cells(lagrangian)
    lp = CellLP(cells)
    # one column for requests 1-3 alike (one group) on day 0, one for request 4 there
    assert lp.add_assignment(day_0) == 2

    result = lp.run(time.monotonic() + 30.0, [])

    assert cells.n_cells == 2
    assert lp.n_groups == 2  # requests 1-3 alike, request 4 on its own
    assert result.converged
    assert abs(result.lp_value - 2 * 1000.5) < EPS
    assert abs(result.bound - 2 * 1000.5) < EPS
    assert result.rounds == 2  # the first LP's duals price in request 4's day-1 option


@st.composite
def crowded(draw: st.DrawFn) -> Problem:
    """Programmes where the (class, day) seats are contested: requests of organisation 1 for a week's
    seats at two or three workplaces of organisations 2 and 3, mostly one day, no workplace named (some
    name an organisation), now and then a reciprocal pair with organisation 2."""
    workplaces = [
        WorkplaceSpec(10 + i, draw(st.sampled_from([2, 2, 3])), frozenset({1}), frozenset(), 2)
        for i in range(draw(st.integers(2, 3)))
    ]
    slots = [
        SlotSpec(100 + len(workplaces) * d + i, w.id, w.organisation, day(d), draw(st.integers(1, 2)))
        for d in range(5)
        for i, w in enumerate(workplaces)
        if draw(st.integers(0, 2)) == 0
    ]
    requests: list[RequestSpec] = []
    for rid in range(1, draw(st.integers(2, 12)) + 1):
        first = draw(st.integers(0, 4))
        requests.append(
            request(
                rid,
                days=draw(st.sampled_from([1, 1, 1, 2])),
                consecutive=draw(st.booleans()),
                windows=((day(first), day(min(4, first + draw(st.integers(0, 2))))),),
                preferred_organisations=draw(st.sampled_from([{}, {}, {2: 1}, {3: 2}])),
            )
        )
    if draw(st.booleans()):
        requests.append(request(len(requests) + 1, organisation=2, windows=((day(0), day(4)),), partner=1))
        requests[0] = dataclasses.replace(requests[0], partner=len(requests))
    return build(requests, workplaces, slots, fairness_weight=draw(st.sampled_from([0.0, 1.0])))


@settings(max_examples=80, deadline=None)
@given(crowded())
def test_the_class_columns_converge_to_the_workplace_cells_lp_written_out(problem: Problem) -> None:
    # over workplace cells with (class, day) columns for the one-day requests without a partner (none
    # names a workplace here): the same optimum as the LP over every option on workplace cells, and the
    # bound at the seats' prices (a cell's dual plus its (class, day)'s) is that optimum
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    cells = WorkplaceCells(lagrangian)
    unpriced = unpriced_at(lagrangian)
    lp = CellLP(cells, by_class=True)

    result = lp.run(time.monotonic() + 30.0, [unpriced])

    alone = (lagrangian.request_days == 1) & (lagrangian.partner < 0)
    assert lp.by_class == bool(alone.any())
    directly = cell_lp_directly(problem, m, cells)
    assert result.converged
    assert abs(result.lp_value - directly) < 1e-6 * max(1.0, directly)
    assert abs(result.bound - directly) < 1e-6 * max(1.0, directly)
    expected, _ = certified_bound(problem, m, *cells.prices(result.cell_price))
    assert abs(result.bound - expected) < EPS


def test_one_class_column_places_the_requests_alike_on_two_workplaces() -> None:
    # two workplaces of organisation 2 (one class), one seat each on day 0; three requests alike want
    # day 0 and name no workplace: one (class, day) column holds two of them, whichever workplace
    workplaces = [
        WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 2),
        WorkplaceSpec(11, 2, frozenset({1}), frozenset(), 2),
    ]
    slots = [SlotSpec(100, 10, 2, day(0), 1), SlotSpec(101, 11, 2, day(0), 1)]
    requests = [request(i, windows=((day(0), day(0)),)) for i in (1, 2, 3)]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    cells = WorkplaceCells(lagrangian)
    unpriced = unpriced_at(lagrangian)
    lp = CellLP(cells, by_class=True)

    result = lp.run(time.monotonic() + 30.0, [unpriced])

    assert cells.n_cells == 2 and cells.n_class_days == 1
    assert lp.by_class and lp.n_groups == 1
    assert lp.keys == [(0, 2)]  # the group, then the cells' count plus its (class, day)
    assert result.converged
    assert abs(result.lp_value - 2 * 1000.5) < EPS
    assert list(lp.highs.getSolution().col_value) == [2.0]
    assert abs(result.bound - 2 * 1000.5) < EPS
