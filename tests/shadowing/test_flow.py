"""The maximum flow that places one-day requests (``shadowing.matching.flow``): as many as the brute
force places, on feasible options and free seats only, and its re-placement of a proposal's one-day
requests never places fewer or scores lower."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowing.matching.baseline import first_come_first_served
from shadowing.matching.flow import (
    best_pruned,
    flowed_and_pruned,
    most_one_day,
    one_day_requests,
    options_tie,
    prune_and_refill,
    reoptimise_one_day,
)
from shadowing.matching.lagrange import Evaluation, Lagrangian
from shadowing.matching.master import Master
from shadowing.matching.model import Model, Seats, add_options, build_model, objective_of
from shadowing.matching.options import (
    OTHER_WORKPLACE_SCORE,
    Option,
    Problem,
    RequestSpec,
    SlotSpec,
    WorkplaceSpec,
)
from shadowing.matching.solver import greedy, solve
from tests.shadowing.test_lagrangian import programmes
from tests.shadowing.test_solver import (
    EPS,
    assert_feasible_within_the_optimum,
    brute_force,
    build,
    day,
    every_option,
    request,
)


@st.composite
def one_day_programmes(draw: st.DrawFn) -> Problem:
    """One-day requests only (no pairs): one or two windows, topics, preferences, one or two slots a day
    under a day cap, several organisations."""
    workplaces = [
        WorkplaceSpec(
            10 + i, 1 + i % 3, frozenset(draw(st.sets(st.integers(1, 2), min_size=1))), frozenset(), 2
        )
        for i in range(draw(st.integers(1, 4)))
    ]
    workplaces = [dataclasses.replace(w, max_per_day=draw(st.integers(1, 2))) for w in workplaces]
    slots: list[SlotSpec] = []
    for w in workplaces:
        for d in sorted(draw(st.sets(st.integers(0, 6), max_size=4))):
            for _ in range(draw(st.integers(1, 2))):
                slots.append(
                    SlotSpec(100 + len(slots), w.id, w.organisation, day(d), draw(st.integers(1, 2)))
                )
    requests: list[RequestSpec] = []
    for rid in range(1, draw(st.integers(1, 7)) + 1):
        first = draw(st.integers(0, 5))
        windows = [(day(first), day(first + draw(st.integers(0, 2))))]
        if draw(st.booleans()):
            second = draw(st.integers(0, 6))
            windows.append((day(second), day(second + draw(st.integers(0, 1)))))
        requests.append(
            request(
                rid,
                organisation=draw(st.integers(1, 3)),
                windows=tuple(windows),
                topics=frozenset(draw(st.sets(st.integers(1, 2), max_size=1))),
                preferred_workplaces={draw(st.sampled_from([w.id for w in workplaces])): 1}
                if draw(st.booleans())
                else {},
            )
        )
    return build(requests, workplaces, slots, fairness_weight=0.0, max_options_per_request=2)


def _taken(m: Model, options: list[Option]) -> tuple[Seats, list[int]]:
    seats, assign = Seats(m), [-1] * len(m.request_ids)
    for j in add_options(m, options):
        r = int(m.option_request[j])
        assert assign[r] < 0 and seats.fits(j)
        seats.take(j)
        assign[r] = j
    return seats, assign


@settings(max_examples=120, deadline=None)
@given(one_day_programmes())
def test_the_flow_places_as_many_one_day_requests_as_the_brute_force(problem: Problem) -> None:
    _, most = brute_force(problem)
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)

    options = most_one_day(lagrangian, Seats(m), one_day_requests(lagrangian, [-1] * len(m.request_ids)))

    assert len(options) == most
    feasible = set(every_option(problem))
    assert all(o in feasible for o in options)
    _taken(m, options)  # each request once, every seat and day cap kept


@settings(max_examples=80, deadline=None)
@given(programmes(max_requests=7))
def test_re_placing_the_one_day_requests_never_places_fewer_nor_scores_lower(problem: Problem) -> None:
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    _, fcfs = first_come_first_served(problem, m)
    before_objective, before_placed = objective_of(m, fcfs)

    moved = reoptimise_one_day(lagrangian, fcfs)

    objective, placed = objective_of(m, moved)
    assert placed >= before_placed
    if not problem.fairness_weight:
        assert objective >= before_objective - EPS
    best, _ = brute_force(problem)
    assert objective <= best + EPS
    seats = Seats(m)
    for r, j in enumerate(moved):
        if j >= 0:
            assert int(m.option_request[j]) == r
            seats.take(j)
        p = m.partner[r]
        assert p < 0 or (moved[p] >= 0) == (j >= 0)
        named = fcfs[r] >= 0 and m.options[fcfs[r]].score > OTHER_WORKPLACE_SCORE
        if named and problem.requests[m.request_ids[r]].days == 1 and p < 0:
            assert j == fcfs[r]  # at a workplace it named: kept
    assert min(seats.slot, default=0) >= 0 and min(seats.group, default=0) >= 0
    feasible = set(every_option(problem))
    assert all(m.options[j] in feasible for j in moved if j >= 0)


def test_the_first_request_moves_to_the_seat_the_second_cannot_use() -> None:
    # Workplaces 10 (topics 1 and 2) and 11 (topic 1), one seat each on day 0. Request 1 (first) may go
    # to either, request 2 (topic 2) only to 10. First come, first served sends request 1 to 10 (the
    # per-request order among equal options) and places one; the flow places both.
    workplaces = [
        WorkplaceSpec(10, 2, frozenset({1, 2}), frozenset(), 1),
        WorkplaceSpec(11, 2, frozenset({1}), frozenset(), 1),
    ]
    slots = [SlotSpec(100, 10, 2, day(0), 1), SlotSpec(101, 11, 2, day(0), 1)]
    requests = [request(1), request(2, topics=frozenset({2}))]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    _, fcfs = first_come_first_served(problem, m)
    assert greedy(problem).placed == sum(1 for j in fcfs if j >= 0) == 1

    moved = reoptimise_one_day(lagrangian, fcfs)

    chosen = {m.request_ids[r]: m.options[j].slots for r, j in enumerate(moved) if j >= 0}
    assert chosen == {1: (101,), 2: (100,)}


@settings(max_examples=80, deadline=None)
@given(programmes(max_requests=7), st.lists(st.floats(0, 1500), min_size=1, max_size=20))
def test_pruning_and_refilling_gives_a_feasible_proposal(problem: Problem, prices: list[float]) -> None:
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    _, fcfs = first_come_first_served(problem, m)
    slot_price = np.resize(np.asarray(prices), len(m.capacity))
    group_price = np.resize(np.asarray(prices[::-1]), len(m.group_capacity))

    new = prune_and_refill(problem, lagrangian, fcfs, slot_price, group_price)

    assert_feasible_within_the_optimum(problem, m, new)


def test_a_two_day_request_priced_out_leaves_its_seats_to_two_one_day_requests() -> None:
    # Workplace 10 has one seat on days 0 and 1. Request 1 (first) wants both days; requests 2 and 3
    # one day each, day 0 and day 1. First come, first served places request 1 only. At a price of 600
    # a seat its option costs 1,200, more than it is worth: it is dropped and both others placed.
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
    assert greedy(problem).placed == 1
    assert reoptimise_one_day(lagrangian, fcfs) == fcfs  # no seat left for the one-day requests

    new = prune_and_refill(problem, lagrangian, fcfs, np.full(len(m.capacity), 600.0), np.zeros(0))

    chosen = {m.request_ids[r]: m.options[j].slots for r, j in enumerate(new) if j >= 0}
    assert chosen == {2: (100,), 3: (101,)}

    fcfs_objective = objective_of(m, fcfs)[0]
    prices = np.full(len(m.capacity), 600.0), np.zeros(0)
    kept = flowed_and_pruned(problem, lagrangian, fcfs, fcfs_objective, "floor", prices, 0.0)
    pruned = flowed_and_pruned(problem, lagrangian, fcfs, fcfs_objective, "floor", prices, 5.0)

    assert kept[:3] == (fcfs, fcfs_objective, "floor")  # (the flow moves no one; no time to refill)
    assert pruned[1:3] == (2 * 1000.5, "floor+pruned")
    assert {m.request_ids[r]: m.options[j].slots for r, j in enumerate(pruned[0]) if j >= 0} == chosen


def test_the_best_pruned_proposal_comes_from_the_scaled_prices_where_the_prices_prune_too_many() -> None:
    # Workplace 10 has one seat on days 0 and 1, workplace 11 one on days 5 and 6. Request 1 (first)
    # wants both days at 10, its first choice; request 2 one day at 10 (day 0); request 3 both days at 11
    # (no preference); requests 4 and 5 one day each at 11 (days 5 and 6). First come, first served
    # places 1 and 3. At 600 a seat at 10 and 1,500 at 11 both two-day requests cost more than they are
    # worth: 2, 4 and 5 take their seats (three placed, each at another workplace). At half the prices
    # only request 3 is priced out: 1, 4 and 5 (three placed, one at its first choice).
    workplaces = [
        WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1),
        WorkplaceSpec(11, 2, frozenset({2}), frozenset(), 1),
    ]
    slots = [
        SlotSpec(100, 10, 2, day(0), 1),
        SlotSpec(101, 10, 2, day(1), 1),
        SlotSpec(102, 11, 2, day(5), 1),
        SlotSpec(103, 11, 2, day(6), 1),
    ]
    requests = [
        request(1, days=2, windows=((day(0), day(1)),), topics=frozenset({1}), preferred_workplaces={10: 1}),
        request(2, windows=((day(0), day(0)),), topics=frozenset({1})),
        request(3, days=2, windows=((day(5), day(6)),), topics=frozenset({2})),
        request(4, windows=((day(5), day(5)),), topics=frozenset({2})),
        request(5, windows=((day(6), day(6)),), topics=frozenset({2})),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    _, fcfs = first_come_first_served(problem, m)
    assert greedy(problem).placed == 2
    price = np.zeros(len(m.capacity))
    for sid, row in m.slot_row.items():
        price[row] = 600.0 if sid in (100, 101) else 1500.0
    at_prices = prune_and_refill(problem, lagrangian, fcfs, price, np.zeros(len(m.group_capacity)))
    assert {m.request_ids[r] for r, j in enumerate(at_prices) if j >= 0} == {2, 4, 5}

    best, scale = best_pruned(
        problem, lagrangian, fcfs, price, np.zeros(len(m.group_capacity)), time.monotonic() + 60, (1.0, 0.5)
    )

    assert scale == 0.5
    chosen = {m.request_ids[r]: m.options[j].slots for r, j in enumerate(best) if j >= 0}
    assert chosen == {1: (100, 101), 4: (102,), 5: (103,)}
    assert objective_of(m, best)[0] > objective_of(m, at_prices)[0] > objective_of(m, fcfs)[0]


def _three_day_first_programme(preferred: dict[int, int] | None = None) -> Problem:
    # Workplace 10 has one seat on days 0, 1 and 2; request 1 (first) wants all three days, requests 2,
    # 3 and 4 one day each. First come, first served places request 1 only; the optimum the other three.
    workplaces = [WorkplaceSpec(10, 2, frozenset({1}), frozenset(), 1)]
    slots = [SlotSpec(100 + d, 10, 2, day(d), 1) for d in range(3)]
    requests = [request(1, days=3, windows=((day(0), day(2)),))]
    requests += [request(2 + d, windows=((day(d), day(d)),)) for d in range(3)]
    requests = [dataclasses.replace(r, preferred_workplaces=preferred or {}) for r in requests]
    return build(requests, workplaces, slots, fairness_weight=0.0)


def test_below_the_threshold_the_floor_is_pruned_at_the_lagrangian_prices_before_the_lp() -> None:
    problem = _three_day_first_programme()

    solution = solve(problem, time_limit=5.0)

    # the pruned floor is the proposal: the LP's rounding, later, places as many, not more
    assert solution.method == "first-come-first-served+pruned"
    assert {rid: o.slots for rid, o in solution.chosen.items()} == {2: (100,), 3: (101,), 4: (102,)}


def test_options_tie_where_most_best_options_score_no_more_than_any_other_workplace() -> None:
    base = 1000.0 + OTHER_WORKPLACE_SCORE
    # 3 of 4 requests with an option at the base score (the -inf and 0 have none): 0.75, the threshold
    assert options_tie(np.array([base, base, base, 1003.0, -np.inf, 0.0]))
    assert not options_tie(np.array([base, base, 1003.0, 1003.0, -np.inf]))
    assert not options_tie(np.array([-np.inf, 0.0]))
    assert not options_tie(None)


def test_below_the_threshold_the_lagrangian_and_the_pruned_floor_run_only_where_the_options_tie(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[float] = []
    minimise = Lagrangian.minimise

    def counted(
        self: Lagrangian, target: float, until: float
    ) -> tuple[float, np.ndarray, np.ndarray, Evaluation]:
        calls.append(target)
        return minimise(self, target, until)

    monkeypatch.setattr(Lagrangian, "minimise", counted)
    tied = _three_day_first_programme()
    assert solve(tied, time_limit=5.0).method == "first-come-first-served+pruned"
    assert len(calls) == 1

    # the same programme where everyone names workplace 10: the options do not tie, the LP has the time
    solution = solve(_three_day_first_programme({10: 1}), time_limit=5.0)

    assert len(calls) == 1
    assert "pruned" not in solution.method
    assert {rid: o.slots for rid, o in solution.chosen.items()} == {2: (100,), 3: (101,), 4: (102,)}

    # where column generation does not converge (here: no LP round at all), the minimisation follows it
    monkeypatch.setattr(Master, "solve", lambda self, seconds: None)
    solution = solve(_three_day_first_programme({10: 1}), time_limit=5.0)

    assert len(calls) == 2
    assert solution.bound >= solution.objective
