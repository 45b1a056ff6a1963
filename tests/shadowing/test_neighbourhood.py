"""Large-neighbourhood search: a workplace class and a week re-solved by a MIP (``neighbourhood.py``)."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowing.matching.baseline import first_come_first_served
from shadowing.matching.flow import reoptimise_one_day
from shadowing.matching.lagrange import Lagrangian
from shadowing.matching.model import Model, build_model, objective_of
from shadowing.matching.neighbourhood import (
    FIRST_SOLVE,
    Neighbourhoods,
    improve_neighbourhoods,
    options_within,
    refill,
    swapped_and_searched,
)
from shadowing.matching.options import Problem, SlotSpec, WorkplaceSpec
from shadowing.matching.swap import swapped
from tests.shadowing.test_lagrangian import programmes
from tests.shadowing.test_solver import (
    assert_feasible_within_the_optimum,
    build,
    day,
    every_option,
    request,
)
from tests.shadowing.test_swap import FAR, contested


def _placed(m: Model, assign: list[int]) -> dict[int, tuple[int, ...]]:
    return {m.request_ids[r]: m.options[j].slots for r, j in enumerate(assign) if j >= 0}


def _two_multi_day() -> tuple[Model, Lagrangian, list[int]]:
    """Workplace 10, one seat on days 0-3 (Monday to Thursday). Request 1 (first) wants two days in a
    row within days 0-3, request 2 two days in a row within days 0-1. First come, first served places
    request 1 on days 0-1, and request 2 no longer fits."""
    workplaces = [WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)]
    slots = [SlotSpec(100 + d, 10, 2, day(d), 1) for d in range(4)]
    requests = [
        request(1, days=2, consecutive=True, windows=((day(0), day(3)),)),
        request(2, days=2, consecutive=True, windows=((day(0), day(1)),)),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    _, fcfs = first_come_first_served(problem, m)
    assert _placed(m, fcfs) == {1: (100, 101)}
    return m, Lagrangian(problem, m), fcfs


def test_one_neighbourhood_places_a_multi_day_request_where_the_flow_swaps_and_insertion_do_not() -> None:
    m, lagrangian, fcfs = _two_multi_day()
    prices = np.zeros(len(m.capacity)), np.zeros(0)
    # the earlier steps move one-day requests only: nothing to gain
    assert reoptimise_one_day(lagrangian, fcfs) == fcfs
    assert swapped(lagrangian, fcfs, 1000.5, "floor", prices, FAR) == (fcfs, 1000.5, "floor")

    new, changed = improve_neighbourhoods(lagrangian, fcfs, FAR)

    assert changed == 1
    assert _placed(m, new) == {1: (102, 103), 2: (100, 101)}
    assert objective_of(m, new) == (2 * 1000.5, 2)
    assert swapped_and_searched(lagrangian, fcfs, 1000.5, "floor", prices, FAR) == (
        new,
        2 * 1000.5,
        "floor+neighbourhoods",
    )


def test_no_neighbourhood_is_solved_where_its_expected_time_does_not_fit_before_the_end() -> None:
    m, lagrangian, fcfs = _two_multi_day()
    prices = np.zeros(len(m.capacity)), np.zeros(0)
    soon = time.monotonic() + FIRST_SOLVE / 2

    assert improve_neighbourhoods(lagrangian, fcfs, soon) == (fcfs, 0)
    assert swapped_and_searched(lagrangian, fcfs, 1000.5, "floor", prices, soon) == (fcfs, 1000.5, "floor")


def test_a_neighbourhood_moves_a_seat_to_the_worst_served_organisation() -> None:
    # Workplace 10 (organisation 9) has one seat on days 0 and 2 (day 2: nobody's, a free seat that puts
    # the neighbourhood in the search's order), workplace 11 (organisation 8) one on day 1.
    # Requests 1 and 3 are of organisation 1, request 2 of organisation 2; requests 1 and 2 want day 0,
    # request 3 day 1. First come, first served (and the flow, which counts people) place 1 and 3; with
    # request 2 on day 0 instead both organisations are served at a rate of at least a half: the same
    # people placed, a higher fairness term (weight 1 x 2 organisations x 1 request x 0.5).
    workplaces = [
        WorkplaceSpec(10, 9, frozenset({1}), frozenset(), 1),
        WorkplaceSpec(11, 8, frozenset({1}), frozenset(), 1),
    ]
    slots = [
        SlotSpec(100, 10, 9, day(0), 1),
        SlotSpec(102, 10, 9, day(2), 1),
        SlotSpec(111, 11, 8, day(1), 1),
    ]
    requests = [
        request(1, windows=((day(0), day(0)),)),
        request(2, organisation=2, windows=((day(0), day(0)),)),
        request(3, windows=((day(1), day(1)),)),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=1.0)
    m = build_model(problem)
    _, fcfs = first_come_first_served(problem, m)
    lagrangian = Lagrangian(problem, m)
    fcfs = reoptimise_one_day(lagrangian, fcfs)
    assert _placed(m, fcfs) == {1: (100,), 3: (111,)}
    assert objective_of(m, fcfs)[0] == 2 * 1000.5

    new, changed = improve_neighbourhoods(lagrangian, fcfs, FAR)

    assert changed == 1
    assert _placed(m, new) == {2: (100,), 3: (111,)}
    assert objective_of(m, new)[0] == 2 * 1000.5 + 1.0


def test_refill_places_an_unplaced_request_on_the_free_seats_it_fits() -> None:
    m, lagrangian, fcfs = _two_multi_day()
    # request 1 on days 2-3 (a move of an earlier step), request 2 still unplaced: days 0-1 are free
    moved = [-1] * len(fcfs)
    moved[m.row_of[1]] = next(j for j in m.request_options[m.row_of[1]] if m.options[j].slots == (102, 103))

    new = refill(lagrangian, moved, FAR)

    assert _placed(m, new) == {1: (102, 103), 2: (100, 101)}
    assert refill(lagrangian, moved, time.monotonic() + FIRST_SOLVE / 2) == moved  # (no time for a round)


@settings(max_examples=60, deadline=None)
@given(st.one_of(programmes(max_requests=7), contested()))
def test_the_options_within_a_neighbourhood_are_every_feasible_option_on_its_seats(problem: Problem) -> None:
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    hoods = Neighbourhoods(lagrangian)
    catalogue = lagrangian.catalogue
    every = set(every_option(problem))
    assert hoods.hoods  # (every slot of these programmes lies in one)
    for h, hood in enumerate(hoods.hoods):
        inside = {catalogue.slot_ids[s] for s in hoods.hood_slots[h]}
        for i, r in enumerate(catalogue.requests):
            if lagrangian.model_row[i] < 0:
                continue
            expected = {o for o in every if o.request == r.id and set(o.slots) <= inside}
            assert set(options_within(lagrangian, i, hood)) == expected


@settings(max_examples=150, deadline=None)
@given(st.one_of(programmes(max_requests=7), contested()), st.booleans())
def test_the_search_gives_a_feasible_proposal_worth_no_less(problem: Problem, flow_first: bool) -> None:
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    _, assign = first_come_first_served(problem, m)
    if flow_first:
        assign = reoptimise_one_day(lagrangian, assign)
    before = objective_of(m, assign)[0]

    filled = refill(lagrangian, assign, FAR)
    new, _changed = improve_neighbourhoods(lagrangian, filled, FAR)

    assert objective_of(m, filled)[0] >= before
    assert objective_of(m, new)[0] >= objective_of(m, filled)[0]
    assert_feasible_within_the_optimum(problem, m, filled)
    assert_feasible_within_the_optimum(problem, m, new)
