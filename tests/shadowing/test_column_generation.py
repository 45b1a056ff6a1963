"""The matcher over every feasible option: no cap that loses people, a certified bound on the real
problem, first come, first served over all options as its floor, progress and a start proposal."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from shadowing.matching.baseline import first_come_first_served, submission_order
from shadowing.matching.bound import certified_bound, uniform_price_bound
from shadowing.matching.master import LpResult, Master
from shadowing.matching.model import build_model
from shadowing.matching.options import Option, Problem, RequestSpec, SlotSpec, WorkplaceSpec
from shadowing.matching.solver import PHASES, _rounded_from, greedy, lp_bound, solve
from tests.shadowing.test_solver import (
    EPS,
    assert_valid,
    brute_force,
    build,
    day,
    every_option,
    larger_programme,
    request,
    small_programmes,
)


def test_a_cap_of_one_option_per_request_does_not_leave_the_second_person_out() -> None:
    # Both requests list the same first option (day 0); the second seat is on day 1.
    workplace = WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)
    slots = [SlotSpec(100, 10, 2, day(0), 1), SlotSpec(101, 10, 2, day(1), 1)]
    problem = build([request(1), request(2)], [workplace], slots, max_options_per_request=1)
    assert {o.slots for o in problem.options} == {(100,)}

    solution = solve(problem, gap_limit=0.0)

    assert_valid(problem, solution)
    assert solution.placed == 2
    assert {o.slots for o in solution.chosen.values()} == {(100,), (101,)}
    assert greedy(problem).placed == 2


@st.composite
def tied_programmes(draw: st.DrawFn) -> Problem:
    """Everyone wants the same weeks and names no preference (every option scores the same); the
    problem lists one or two options per request, so a model kept to them loses people."""
    workplaces = [WorkplaceSpec(10 + i, 2 + i % 2, frozenset({1}), frozenset(), 2) for i in range(3)]
    slots = [
        SlotSpec(100 + 10 * i + d, w.id, w.organisation, day(d), 1)
        for i, w in enumerate(workplaces)
        for d in sorted(draw(st.sets(st.integers(0, 4), min_size=1, max_size=4)))
    ]
    requests = [
        request(rid, days=draw(st.sampled_from([1, 1, 1, 2])), windows=((day(0), day(4)),))
        for rid in range(1, draw(st.integers(2, 6)) + 1)
    ]
    return build(requests, workplaces, slots, max_options_per_request=draw(st.integers(1, 2)))


def _listed_only(problem: Problem) -> tuple[float, int]:
    """The brute-force optimum of the model kept to the options the problem lists (the old cap)."""
    listed = Problem(
        list(problem.options), problem.capacity, problem.requests, problem.pairs, problem.fairness_weight
    )
    listed.day_caps = problem.day_caps
    return brute_force(listed)


@settings(max_examples=30, deadline=None)
@given(tied_programmes())
def test_with_ties_the_matcher_places_the_most_people_over_every_option(problem: Problem) -> None:
    best, most_placed = brute_force(problem)  # over every feasible option
    _capped_best, capped_placed = _listed_only(problem)

    solution = solve(problem, gap_limit=0.0)

    assert_valid(problem, solution)
    event("the listed options alone place fewer" if capped_placed < most_placed else "no loss from the cap")
    assert solution.placed == most_placed
    assert solution.objective >= best - EPS
    assert solution.bound >= best - EPS


@settings(max_examples=25, deadline=None)
@given(small_programmes(), st.lists(st.floats(0, 1500), min_size=1, max_size=40), st.floats(0, 50))
def test_the_bound_is_above_the_best_placement_for_any_prices(
    problem: Problem, prices: list[float], fairness_price: float
) -> None:
    best, _ = brute_force(problem)  # over every feasible option
    m = build_model(problem)
    slot_price = np.resize(np.asarray(prices), len(m.capacity))
    group_price = np.resize(np.asarray(prices[::-1]), len(m.group_capacity))
    org_price = np.full(len(m.org_size), fairness_price)

    bound, _ = certified_bound(problem, m, slot_price, group_price, org_price)
    _, unpriced = certified_bound(problem, m, 0 * slot_price, 0 * group_price)

    assert bound >= best - EPS
    assert unpriced is not None
    assert uniform_price_bound(m, unpriced.value) >= best - EPS


@settings(max_examples=25, deadline=None)
@given(small_programmes())
def test_a_bound_cut_short_by_the_time_limit_is_still_above_the_best_placement(problem: Problem) -> None:
    best, _ = brute_force(problem)

    solution = solve(problem, time_limit=0.001)

    assert_valid(problem, solution)
    assert solution.bound >= best - EPS


@settings(max_examples=30, deadline=None)
@given(small_programmes(max_requests=8))
def test_first_come_first_served_over_every_option_never_beats_the_matcher(problem: Problem) -> None:
    baseline = greedy(problem)

    solution = solve(problem)

    assert_valid(problem, baseline)
    assert_valid(problem, solution)
    assert solution.objective >= baseline.objective - EPS
    assert solution.greedy_placed == baseline.placed
    assert solution.greedy_objective is not None
    assert abs(solution.greedy_objective - baseline.objective) < EPS
    assert set(baseline.chosen.values()) <= set(every_option(problem))


def _first_come_first_served_reread(problem: Problem) -> dict[int, tuple[int, tuple[int, ...]]]:
    """First come, first served as specified: before every search the catalogue re-reads every seat."""
    m = build_model(problem)
    catalogue = problem.catalogue
    assert catalogue is not None
    slot_left, group_left = list(m.capacity), list(m.group_capacity)

    def search(r: int) -> Option | None:
        full = [
            slot_left[s] <= 0 or (m.slot_group[s] >= 0 and group_left[m.slot_group[s]] <= 0)
            for s in range(len(m.capacity))
        ]
        cost = np.where(full, np.inf, 0.0)
        catalogue.price(cost, fits_only=True)
        return catalogue.best(problem.requests[m.request_ids[r]])[1]

    def change(option: Option, step: int) -> None:
        for sid in option.slots:
            s = m.slot_row[sid]
            slot_left[s] -= step
            if m.slot_group[s] >= 0:
                group_left[m.slot_group[s]] -= step

    taken: dict[int, Option] = {}
    for r in submission_order(problem, m):
        option = None if r in taken else search(r)
        if option is None:
            continue
        change(option, 1)
        p = m.partner[r]
        if p >= 0:
            other = None if p in taken else search(p)
            if other is None:
                change(option, -1)
                continue
            change(other, 1)
            taken[p] = other
        taken[r] = option
    return {o.request: (o.workplace, o.slots) for o in taken.values()}


def test_first_come_first_served_sees_a_seat_a_pair_gave_back() -> None:
    # 1 takes B's day 0; the pair 2-3 takes A's day 0, then 3 finds B's day 0 gone (the catalogue re-reads
    # B and A, A's seat held) and the pair gives A's seat back; 4 must find it free.
    a = WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)
    b = WorkplaceSpec(11, 1, frozenset({1}), frozenset(), 1)
    slots = [
        SlotSpec(100, 10, 2, day(0), 1),
        SlotSpec(101, 11, 1, day(0), 1),
        SlotSpec(102, 11, 1, day(1), 1),
    ]
    on_day_0 = ((day(0), day(0)),)
    requests = [
        request(1, organisation=3, windows=on_day_0, preferred_workplaces={11: 1}),
        request(2, organisation=1, windows=on_day_0, partner=3),
        request(3, organisation=2, windows=on_day_0, partner=2),
        request(4, organisation=3, windows=on_day_0),
    ]
    problem = build(requests, [a, b], slots)
    m = build_model(problem)

    _seats, assign = first_come_first_served(problem, m)

    chosen = {m.options[j].request: (m.options[j].workplace, m.options[j].slots) for j in assign if j >= 0}
    assert chosen == {1: (11, (101,)), 4: (10, (100,))}
    assert chosen == _first_come_first_served_reread(problem)


@settings(max_examples=60, deadline=None)
@given(small_programmes(max_requests=14))
def test_first_come_first_served_takes_each_best_option_that_fits_at_its_turn(problem: Problem) -> None:
    # The catalogue re-reads a workplace only when a search returns an option that no longer fits; the
    # choices must be those of re-reading every seat before each search (crowded: up to 14 requests).
    expected = _first_come_first_served_reread(problem)
    m = build_model(problem)

    _seats, assign = first_come_first_served(problem, m)

    chosen = {m.options[j].request: (m.options[j].workplace, m.options[j].slots) for j in assign if j >= 0}
    event("someone left out" if len(chosen) < len(m.request_ids) else "everyone placed")
    assert chosen == expected
    assert_valid(problem, greedy(problem))


def test_progress_reports_each_phase_in_order_and_ends_with_the_result() -> None:
    workplace = WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)
    slots = [SlotSpec(100 + d, 10, 2, day(d), 1) for d in range(3)]
    problem = build([request(rid) for rid in range(1, 5)], [workplace], slots)
    calls: list[tuple[str, int, float | None]] = []

    solution = solve(problem, progress=lambda phase, placed, gap: calls.append((phase, placed, gap)))

    phases = [phase for phase, _, _ in calls]
    assert [p for p in PHASES if p in phases] == list(dict.fromkeys(phases))
    assert phases[0] == "bound" and phases[-1] == "done"
    assert calls[-1] == ("done", solution.placed, solution.gap)
    assert solution.placed == 3
    assert all(isinstance(placed, int) and (gap is None or gap >= 0) for _, placed, gap in calls)


def _keen_programme() -> tuple[list[RequestSpec], list[WorkplaceSpec], list[SlotSpec]]:
    # The first comer takes the only seat the second could use; a proposal gives both a seat.
    workplaces = [
        WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1),
        WorkplaceSpec(11, 3, frozenset({1}), frozenset(), 1),
    ]
    slots = [SlotSpec(100, 10, 2, day(0), 1), SlotSpec(110, 11, 3, day(0), 1)]
    requests = [
        request(1, preferred_workplaces={10: 1}),
        request(2, organisation=3),  # its own organisation runs workplace 11
    ]
    return requests, workplaces, slots


def test_a_previous_proposal_is_the_start_and_holds_when_there_is_no_time() -> None:
    problem = build(*_keen_programme(), fairness_weight=0.0)
    assert greedy(problem).placed == 1
    # organisation and score as an earlier run stored them: both are re-derived
    previous = {1: Option(1, 11, 0, (110,), 0.0), 2: Option(2, 10, 0, (100,), 0.0)}

    solution = solve(problem, time_limit=0.0, start=previous)

    assert_valid(problem, solution)
    assert solution.method == "previous-proposal"
    assert solution.chosen == {1: Option(1, 11, 3, (110,), 0.5), 2: Option(2, 10, 2, (100,), 0.5)}


def test_a_previous_proposal_that_no_longer_fits_is_left_aside() -> None:
    problem = build(*_keen_programme(), fairness_weight=0.0)
    gone = {1: Option(1, 11, 3, (999,), 10.0), 2: Option(2, 11, 3, (110,), 0.5)}  # a slot gone; own org

    solution = solve(problem, time_limit=0.0, start=gone)

    assert_valid(problem, solution)
    assert solution.method == "first-come-first-served"
    assert solution.placed == greedy(problem).placed == 1


def test_building_the_problem_counts_within_the_time_limit() -> None:
    # With the whole limit spent before solving (building the problem), the floor is the proposal.
    problem = build(*_keen_programme(), fairness_weight=0.0)

    spent = solve(problem, time_limit=60.0, started=time.monotonic() - 60.0)
    full = solve(problem, time_limit=60.0)

    assert_valid(problem, spent)
    assert (spent.placed, spent.method) == (1, "first-come-first-served")
    assert full.placed == 2


def test_each_lp_round_gets_its_own_time_however_long_the_earlier_rounds_took() -> None:
    # HiGHS measures its time limit against all the time the instance has run: a round given 1 s after
    # the earlier rounds took more than that in all must still reach the LP's optimum.
    problem = larger_programme(0, 60)
    m = build_model(problem)
    master = Master(m, list(range(0, len(m.value), 2)))
    first = master.solve(60.0)
    assert first is not None and first.optimal
    while master.highs.getRunTime() <= 1.0:  # earlier rounds that took more than a second in all
        master.highs.clearSolver()
        master.highs.run()
    master.add(list(range(len(m.value))))

    later = master.solve(1.0)

    assert later is not None and later.optimal
    assert later.value >= first.value - EPS
    assert later.value == pytest.approx(lp_bound(problem), rel=1e-9)


def _lp_result(optimal: bool, primal: bool = True) -> LpResult:
    empty = np.zeros(0)
    return LpResult(primal, empty.astype(np.int64), optimal, 1.0, empty, empty, empty, empty, empty, empty)


def test_a_round_cut_short_never_replaces_a_finished_one_for_the_rounding() -> None:
    finished, later_finished = _lp_result(True), _lp_result(True)
    cut_short, no_x = _lp_result(False), _lp_result(False, primal=False)

    assert _rounded_from(None, cut_short) is cut_short  # (while no round has finished, the best there is)
    assert _rounded_from(cut_short, finished) is finished
    assert _rounded_from(finished, cut_short) is finished
    assert _rounded_from(finished, later_finished) is later_finished
    assert _rounded_from(finished, no_x) is finished
    assert _rounded_from(None, no_x) is None
