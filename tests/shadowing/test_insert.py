"""Unplaced multi-day requests on seats the one-day requests can give up (``insert.py``)."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowing.matching.baseline import first_come_first_served
from shadowing.matching.flow import reoptimise_one_day
from shadowing.matching.insert import insert_multi_day
from shadowing.matching.lagrange import Lagrangian
from shadowing.matching.model import Model, build_model, objective_of
from shadowing.matching.options import Problem, SlotSpec, WorkplaceSpec
from shadowing.matching.swap import swap_multi_day, swapped
from tests.shadowing.test_lagrangian import programmes
from tests.shadowing.test_solver import (
    assert_feasible_within_the_optimum,
    build,
    day,
    request,
)
from tests.shadowing.test_swap import FAR, contested


def _one_seat_a_day(one_day_window: tuple[int, int]) -> tuple[Problem, Model, Lagrangian, list[int]]:
    """Workplace 10, one seat on days 0, 1 and 2. Request 1 (first) wants one day within
    `one_day_window`, request 2 two days within days 0-1. First come, first served places request 1 on
    day 1 and no option of request 2 fits."""
    workplaces = [WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)]
    slots = [SlotSpec(100 + d, 10, 2, day(d), 1) for d in range(3)]
    first, last = one_day_window
    requests = [
        request(1, windows=((day(first), day(last)),)),
        request(2, days=2, windows=((day(0), day(1)),)),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    _, fcfs = first_come_first_served(problem, m)
    assert {m.request_ids[r]: m.options[j].slots for r, j in enumerate(fcfs) if j >= 0} == {1: (101,)}
    return problem, m, Lagrangian(problem, m), fcfs


def test_a_two_day_request_takes_the_seat_of_a_one_day_request_that_can_move_to_another_day() -> None:
    _problem, m, lagrangian, fcfs = _one_seat_a_day((1, 2))
    assert reoptimise_one_day(lagrangian, fcfs) == fcfs
    assert swap_multi_day(lagrangian, fcfs, np.zeros(len(m.capacity)), np.zeros(0), FAR) == (fcfs, 0)

    new, given_up = insert_multi_day(lagrangian, fcfs)

    assert given_up == 1  # placed on one seat given up (day 1) and one free (day 0)
    assert {m.request_ids[r]: m.options[j].slots for r, j in enumerate(new) if j >= 0} == {
        1: (102,),
        2: (100, 101),
    }
    assert objective_of(m, new)[0] == 2 * 1000.5
    # and so in the swaps' rounds, which keep it
    prices = np.zeros(len(m.capacity)), np.zeros(0)
    assert swapped(lagrangian, fcfs, 1000.5, "floor", prices, FAR) == (new, 2 * 1000.5, "floor+swaps")


def test_no_round_of_insertion_starts_where_its_expected_time_does_not_fit_before_the_end() -> None:
    _problem, m, lagrangian, fcfs = _one_seat_a_day((1, 2))
    prices = np.zeros(len(m.capacity)), np.zeros(0)
    until = time.monotonic() + 60.0

    # a maximum flow of 40 s: a round (INSERT_FLOWS flows) would end after `until`
    assert swapped(lagrangian, fcfs, 1000.5, "floor", prices, until, 40.0) == (fcfs, 1000.5, "floor")
    # one of 0.1 s: the round fits and places request 2
    new, objective, method = swapped(lagrangian, fcfs, 1000.5, "floor", prices, until, 0.1)
    assert (objective, method) == (2 * 1000.5, "floor+swaps")
    assert {m.request_ids[r]: m.options[j].slots for r, j in enumerate(new) if j >= 0} == {
        1: (102,),
        2: (100, 101),
    }


def test_no_one_day_request_loses_its_place_to_a_multi_day_request() -> None:
    # Request 1 can only go on day 1: the two-day request would cost it its place (one for one).
    _problem, m, lagrangian, fcfs = _one_seat_a_day((1, 1))

    assert insert_multi_day(lagrangian, fcfs) == (fcfs, 0)
    prices = np.zeros(len(m.capacity)), np.zeros(0)
    assert swapped(lagrangian, fcfs, 1000.5, "floor", prices, FAR) == (fcfs, 1000.5, "floor")


def test_seats_given_up_that_need_the_same_free_seat_are_given_up_once() -> None:
    # One seat on days 0, 1, 7, 8 and 9. Request 1 is on day 1 (it may go on day 9), request 2 on day 8
    # (it may go on day 9). Request 3 wants days 0-1, request 4 days 7-8: each could take its seats if
    # one one-day request moved to day 9, but only one of them can. One is placed and both one-day
    # requests keep their place (placing both would cost request 2 its place: as many people, fewer
    # one-day requests).
    workplaces = [WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)]
    slots = [SlotSpec(100 + d, 10, 2, day(d), 1) for d in (0, 1, 7, 8, 9)]
    requests = [
        request(1, windows=((day(1), day(1)), (day(9), day(9)))),
        request(2, windows=((day(8), day(9)),)),
        request(3, days=2, consecutive=True, windows=((day(0), day(1)),)),
        request(4, days=2, consecutive=True, windows=((day(7), day(8)),)),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    _, fcfs = first_come_first_served(problem, m)
    assert {m.request_ids[r]: m.options[j].slots for r, j in enumerate(fcfs) if j >= 0} == {
        1: (101,),
        2: (108,),
    }

    new, given_up = insert_multi_day(Lagrangian(problem, m), fcfs)

    assert given_up == 1
    assert {m.request_ids[r]: m.options[j].slots for r, j in enumerate(new) if j >= 0} == {
        1: (109,),
        2: (108,),
        3: (100, 101),
    }


def test_at_most_limit_requests_go_on_seats_given_up() -> None:
    _problem, m, lagrangian, fcfs = _one_seat_a_day((1, 2))

    assert insert_multi_day(lagrangian, fcfs, limit=0) == (fcfs, 0)


@settings(max_examples=150, deadline=None)
@given(st.one_of(programmes(max_requests=7), contested()), st.booleans())
def test_inserting_gives_a_feasible_proposal_and_no_one_day_request_loses_its_place(
    problem: Problem, flow_first: bool
) -> None:
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    _, assign = first_come_first_served(problem, m)
    if flow_first:
        assign = reoptimise_one_day(lagrangian, assign)

    new, _given_up = insert_multi_day(lagrangian, assign)

    singles = [r for r in range(len(new)) if m.partner[r] < 0]

    def placed(assignment: list[int], multi: bool) -> int:
        return sum(
            1 for r in singles if assignment[r] >= 0 and (len(m.option_slots[assignment[r]]) > 1) == multi
        )

    assert placed(new, False) >= placed(assign, False)  # the one-day requests keep their number
    assert placed(new, True) >= placed(assign, True)  # and no multi-day request is taken out
    assert_feasible_within_the_optimum(problem, m, new)
