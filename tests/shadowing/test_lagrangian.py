"""The Lagrangian bound evaluated for every request at once (``shadowing.matching.lagrange``): the same
value as the one-request-at-a-time bound, never below the brute-force optimum, its minimisation, the
rounding from its prices and the solve that uses them on large programmes."""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowing.matching import lagrange, lagrange_pairs
from shadowing.matching.bound import certified_bound, one_price_bound, uniform_price_bound
from shadowing.matching.lagrange import Lagrangian
from shadowing.matching.lagrange_columns import options_of
from shadowing.matching.model import build_model
from shadowing.matching.options import Problem, RequestSpec, SlotSpec, WorkplaceSpec
from shadowing.matching.solver import greedy, solve
from tests.shadowing.lagrange_reference import ReferenceLagrangian
from tests.shadowing.test_solver import EPS, assert_valid, brute_force, build, day, every_option, request


@st.composite
def programmes(draw: st.DrawFn, max_requests: int = 6, name_workplaces: bool = True) -> Problem:
    """Small programmes with what the array evaluation must get right: one or two windows, one to three
    days (consecutive or not), two slots a day under a day cap, preferences or ties (none), pairs.
    Without `name_workplaces` the preferences are organisations only."""
    workplaces = [
        WorkplaceSpec(10 + i, 1 + i % 3, frozenset({1}), frozenset(), draw(st.integers(1, 2)))
        for i in range(draw(st.integers(1, 4)))
    ]
    slots: list[SlotSpec] = []
    for w in workplaces:
        for d in sorted(draw(st.sets(st.integers(0, 9), max_size=5))):
            for _ in range(draw(st.integers(1, 2))):
                slots.append(
                    SlotSpec(100 + len(slots), w.id, w.organisation, day(d), draw(st.integers(1, 2)))
                )
    ties = draw(st.booleans())
    requests: list[RequestSpec] = []
    for rid in range(1, draw(st.integers(1, max_requests)) + 1):
        first = draw(st.integers(0, 5))
        windows = [(day(first), day(first + draw(st.integers(0, 4))))]
        if draw(st.booleans()):
            second = draw(st.integers(0, 9))
            windows.append((day(second), day(second + draw(st.integers(0, 3)))))
        requests.append(
            request(
                rid,
                organisation=draw(st.integers(1, 3)),
                days=draw(st.sampled_from([1, 1, 2, 3])),
                consecutive=draw(st.booleans()),
                windows=tuple(windows),
                preferred_workplaces={}
                if ties or not name_workplaces
                else {draw(st.sampled_from([w.id for w in workplaces])): draw(st.integers(1, 5))},
                preferred_organisations={} if ties else {draw(st.integers(1, 3)): draw(st.integers(1, 5))},
            )
        )
    if len(requests) >= 2 and requests[0].organisation != requests[1].organisation and draw(st.booleans()):
        requests[0] = dataclasses.replace(requests[0], partner=2)
        requests[1] = dataclasses.replace(requests[1], partner=1)
    return build(
        requests,
        workplaces,
        slots,
        fairness_weight=draw(st.sampled_from([0.0, 1.0])),
        max_options_per_request=draw(st.integers(1, 3)),
        max_options_per_workplace=2,
    )


@settings(max_examples=80, deadline=None)
@given(programmes(), st.lists(st.floats(0, 1500), min_size=1, max_size=30))
def test_the_array_bound_equals_the_one_request_at_a_time_bound_and_is_above_the_optimum(
    problem: Problem, prices: list[float]
) -> None:
    best, _ = brute_force(problem)  # over every feasible option
    m = build_model(problem)
    if not len(m.value):
        return
    slot_price = np.resize(np.asarray(prices), len(m.capacity))
    group_price = np.resize(np.asarray(prices[::-1]), len(m.group_capacity))
    lagrangian = Lagrangian(problem, m)

    evaluation = lagrangian.at(slot_price, group_price)
    expected, priced = certified_bound(problem, m, slot_price, group_price)

    assert priced is not None
    assert abs(evaluation.bound - expected) < EPS
    assert evaluation.bound >= best - EPS
    # each request's best value, and the option named is one of its feasible options worth exactly that
    finite = np.isfinite(priced.value)
    assert np.array_equal(np.isfinite(evaluation.value), finite)
    assert np.allclose(evaluation.value[finite], priced.value[finite])
    cost = evaluation.slot_cost
    for i in np.flatnonzero(finite).tolist():
        r = lagrangian.catalogue.requests[i]
        slots = lagrangian.slots_of(evaluation, i)
        option = problem.catalogue.feasible(  # type: ignore[union-attr]
            r,
            priced.options[i]._replace(  # type: ignore[union-attr]
                workplace=int(lagrangian.catalogue.grid.ids[evaluation.workplace[i]]),
                slots=tuple(lagrangian.catalogue.slot_ids[s] for s in slots),
            ),
        )
        assert option is not None
        assert abs(1000.0 + option.score - float(cost[list(slots)].sum()) - evaluation.value[i]) < EPS


@settings(max_examples=60, deadline=None)
@given(programmes())
def test_the_minimised_bound_stays_above_the_optimum_and_below_the_unpriced_one(problem: Problem) -> None:
    best, _ = brute_force(problem)
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    unpriced = lagrangian.at(np.zeros(len(m.capacity)), np.zeros(len(m.group_capacity))).bound

    bound, slot_price, group_price, evaluation = lagrangian.minimise(
        0.0, time.monotonic() + 0.2, max_steps=40
    )

    assert best - EPS <= bound <= unpriced + EPS
    assert abs(evaluation.bound - bound) < EPS
    assert abs(lagrangian.at(slot_price, group_price).bound - bound) < EPS


@settings(max_examples=60, deadline=None)
@given(programmes())
def test_the_large_programme_path_is_valid_never_below_first_come_first_served_and_bounded(
    problem: Problem,
) -> None:
    best, _ = brute_force(problem)
    baseline = greedy(problem)

    solution = solve(problem, time_limit=5.0, lp_first_requests=0)  # as a programme above the threshold

    assert_valid(problem, solution)
    assert solution.objective >= baseline.objective - EPS
    assert solution.bound >= best - EPS


def test_requests_that_tie_spread_over_the_equally_priced_workplaces() -> None:
    # Three workplaces of another organisation, one seat each on the same day; three requests alike.
    workplaces = [WorkplaceSpec(10 + i, 2, frozenset({1}), frozenset(), 1) for i in range(3)]
    slots = [SlotSpec(100 + i, 10 + i, 2, day(0), 1) for i in range(3)]
    problem = build([request(rid) for rid in (1, 2, 3)], workplaces, slots)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)

    evaluation = lagrangian.at(np.zeros(3), np.zeros(0))

    assert sorted(evaluation.workplace.tolist()) == [0, 1, 2]
    assert np.bincount(lagrangian.used(evaluation), minlength=3).tolist() == [1, 1, 1]
    assert sorted(o.slots for o in options_of(lagrangian, evaluation)) == [(100,), (101,), (102,)]


def test_prices_on_the_scarce_day_bring_the_bound_to_the_optimum() -> None:
    # Four one-day requests, all free on day 0 only; two seats that day (and many on day 5, outside
    # every window): at most two are placed. Without prices the bound counts all four.
    workplaces = [WorkplaceSpec(10 + i, 2, frozenset({1}), frozenset(), 1) for i in range(2)]
    slots = [SlotSpec(100 + i, 10 + i, 2, day(0), 1) for i in range(2)]
    slots += [SlotSpec(110 + i, 10 + i, 2, day(5), 5) for i in range(2)]
    requests = [request(rid, windows=((day(0), day(0)),)) for rid in range(1, 5)]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    unpriced = lagrangian.at(np.zeros(len(m.capacity)), np.zeros(0)).bound

    bound, *_ = lagrangian.minimise(2 * 1000.5, time.monotonic() + 5.0, max_steps=200)

    assert unpriced == 4 * 1000.5
    assert abs(bound - 2 * 1000.5) < 1.0


def test_a_target_far_below_the_optimum_still_brings_the_bound_to_it() -> None:
    # As above, but the proposal the steps aim at places nobody (first come, first served may be far
    # from the optimum): the level below the lowest bound adapts instead of aiming at that proposal.
    workplaces = [WorkplaceSpec(10 + i, 2, frozenset({1}), frozenset(), 1) for i in range(2)]
    slots = [SlotSpec(100 + i, 10 + i, 2, day(0), 1) for i in range(2)]
    slots += [SlotSpec(110 + i, 10 + i, 2, day(5), 5) for i in range(2)]
    requests = [request(rid, windows=((day(0), day(0)),)) for rid in range(1, 7)]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    prices = np.zeros(len(m.capacity)), np.zeros(0)

    bound, *_ = lagrangian.minimise(0.0, time.monotonic() + 5.0, *prices, max_steps=100)

    assert lagrangian.at(*prices).bound == 6 * 1000.5
    assert abs(bound - 2 * 1000.5) < 0.01


def test_the_minimisation_logs_its_trajectory(caplog: pytest.LogCaptureFixture) -> None:
    workplaces = [WorkplaceSpec(10 + i, 2, frozenset({1}), frozenset(), 1) for i in range(2)]
    slots = [SlotSpec(100 + i, 10 + i, 2, day(0), 1) for i in range(2)]
    requests = [request(rid, windows=((day(0), day(0)),)) for rid in range(1, 5)]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    prices = np.zeros(len(m.capacity)), np.zeros(0)

    with caplog.at_level(logging.DEBUG, logger="shadowing.matching.lagrange"):
        lagrangian.minimise(0.0, time.monotonic() + 5.0, *prices, max_steps=3)

    steps = [r.getMessage() for r in caplog.records if r.name == "shadowing.matching.lagrange"]
    assert len(steps) == 3
    assert steps[0].startswith("subgradient step 0: L = ")
    assert ", lowest " in steps[0]


def test_a_pair_counts_both_values_together_in_the_bound() -> None:
    """The pair rows ``x(a) = x(b)`` priced at their best multiplier: a pair counts ``max(0, v_a + v_b)``,
    not ``max(0, v_a) + max(0, v_b)``. Where one side's seat costs more than it is worth, the other side
    alone no longer counts as placed, and the bound stays above the optimum."""
    workplaces = [
        WorkplaceSpec(10, 1, frozenset({1}), frozenset(), 1),
        WorkplaceSpec(20, 2, frozenset({1}), frozenset(), 1),
    ]
    slots = [SlotSpec(100, 10, 1, day(0), 1), SlotSpec(200, 20, 2, day(0), 1)]
    requests = [
        request(1, organisation=1, partner=2, topics=frozenset({1})),  # visits workplace 20
        request(2, organisation=2, partner=1, topics=frozenset({1})),  # visits workplace 10
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    value = {o.request: 1000.0 + o.score for o in problem.options}
    slot_price = np.zeros(len(m.capacity))
    slot_price[m.slot_row[100]] = 1500.0  # the seat request 2 needs
    no_group = np.zeros(len(m.group_capacity))

    expected = 1500.0 + max(0.0, value[1] + value[2] - 1500.0)  # (relaxed pairs: 1500 + value[1])
    evaluation = Lagrangian(problem, m).at(slot_price, no_group)
    bound, _ = certified_bound(problem, m, slot_price, no_group)

    assert evaluation.bound == pytest.approx(expected, abs=EPS)
    assert bound == pytest.approx(expected, abs=EPS)
    assert expected < 1500.0 + value[1]
    assert expected >= brute_force(problem)[0] - EPS


def test_pairs_count_as_one_in_the_one_price_bounds() -> None:
    """Two reciprocal pairs whose second members need the same single seat: one pair fits. The blocked
    slot's bound and the one-price-on-every-seat bound count a pair as one request with both values and
    both seat counts, so one price on that seat brings them to the optimum (relaxed pairs: each pair's
    first member would still count, 1000.5 more)."""
    workplaces = [
        WorkplaceSpec(10, 1, frozenset({1}), frozenset(), 2),
        WorkplaceSpec(20, 2, frozenset({1}), frozenset(), 2),
    ]
    slots = [SlotSpec(100, 10, 1, day(0), 1), SlotSpec(200, 20, 2, day(0), 2)]
    requests = [
        request(1, organisation=1, partner=2, topics=frozenset({1})),  # visits workplace 20
        request(2, organisation=2, partner=1, topics=frozenset({1})),  # visits workplace 10
        request(3, organisation=1, partner=4, topics=frozenset({1})),
        request(4, organisation=2, partner=3, topics=frozenset({1})),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m = build_model(problem)
    value = np.asarray([1000.0 + m.options[opts[0]].score for opts in m.request_options])
    blocked = np.zeros(len(m.capacity), dtype=bool)
    blocked[m.slot_row[100]] = True
    k = np.asarray([0.0, 1.0, 0.0, 1.0])  # blocked slots of each request's options
    optimum, placed = brute_force(problem)

    assert placed == 2
    assert one_price_bound(m, blocked, k, value) == pytest.approx(optimum, abs=EPS)
    assert uniform_price_bound(m, value) >= optimum - EPS


@settings(max_examples=60, deadline=None)
@given(programmes(), st.lists(st.booleans(), min_size=1, max_size=40))
def test_the_one_price_bounds_with_pairs_merged_stay_above_the_optimum(
    problem: Problem, marks: list[bool]
) -> None:
    """Any slots marked blocked, with each request's fewest blocked slots over every feasible option and
    its best value: the blocked slots' bound and the one-price bound (pairs merged) are never below the
    brute-force optimum (ties and pairs among the programmes)."""
    best, _ = brute_force(problem)
    m = build_model(problem)
    if not len(m.value):
        return
    blocked = np.resize(np.asarray(marks, dtype=bool), len(m.capacity))
    value = np.full(len(m.request_ids), -np.inf)
    k = np.full(len(m.request_ids), np.inf)
    for option in every_option(problem):
        r = m.row_of[option.request]
        value[r] = max(value[r], 1000.0 + option.score)
        k[r] = min(k[r], sum(1 for sid in option.slots if blocked[m.slot_row[sid]]))

    assert one_price_bound(m, blocked, k, value) >= best - EPS
    assert uniform_price_bound(m, value) >= best - EPS


@st.composite
def alike_programmes(draw: st.DrawFn) -> Problem:
    """Requests of a few shapes and organisations only, most without preferences, over workplaces of
    one or two organisations and two windows alike: many requests of one (key, shape) that tie over
    several classes, workplaces and windows."""
    workplaces = [
        WorkplaceSpec(
            10 + i, 1 + draw(st.integers(0, 1)), frozenset({1}), frozenset(), draw(st.integers(1, 2))
        )
        for i in range(draw(st.integers(2, 6)))
    ]
    slots: list[SlotSpec] = []
    for w in workplaces:
        for d in sorted(draw(st.sets(st.sampled_from([0, 1, 3, 4]), min_size=1, max_size=3))):
            slots.append(SlotSpec(100 + len(slots), w.id, w.organisation, day(d), draw(st.integers(1, 2))))
    shapes = [((day(0), day(1)),), ((day(0), day(1)), (day(3), day(4))), ((day(0), day(4)),)]
    requests = [
        request(
            rid,
            organisation=draw(st.sampled_from([3, 4])),
            days=draw(st.sampled_from([1, 1, 2])),
            windows=draw(st.sampled_from(shapes)),
            preferred_workplaces=draw(
                st.sampled_from([{}, {}, {workplaces[0].id: 2}, {workplaces[-1].id: 2, workplaces[0].id: 2}])
            ),
        )
        for rid in range(1, draw(st.integers(2, 14)) + 1)
    ]
    return build(requests, workplaces, slots, max_options_per_request=2, max_options_per_workplace=2)


@st.composite
def class_programmes(draw: st.DrawFn) -> Problem:
    """Workplaces of two organisations with different topics (several classes in one organisation) and
    requests that prefer an organisation: the cheapest class of a preferred organisation, ties among
    its classes and rows included."""
    workplaces = [
        WorkplaceSpec(
            10 + i,
            1 + i % 2,
            draw(st.sampled_from([frozenset({1}), frozenset({2}), frozenset({1, 2})])),
            frozenset(),
            draw(st.integers(1, 2)),
        )
        for i in range(draw(st.integers(2, 7)))
    ]
    slots: list[SlotSpec] = []
    for w in workplaces:
        for d in sorted(draw(st.sets(st.sampled_from([0, 1, 2, 3]), min_size=1, max_size=3))):
            slots.append(SlotSpec(100 + len(slots), w.id, w.organisation, day(d), draw(st.integers(1, 2))))
    requests = [
        request(
            rid,
            organisation=draw(st.sampled_from([3, 4])),
            days=draw(st.sampled_from([1, 1, 2])),
            windows=draw(st.sampled_from([((day(0), day(3)),), ((day(0), day(1)), (day(2), day(3)))])),
            topics=draw(st.sampled_from([frozenset(), frozenset({1}), frozenset({2})])),
            preferred_organisations=draw(st.sampled_from([{}, {1: 1}, {2: 2}, {1: 3, 2: 1}])),
            preferred_workplaces=draw(st.sampled_from([{}, {}, {workplaces[0].id: 4}])),
        )
        for rid in range(1, draw(st.integers(2, 12)) + 1)
    ]
    return build(requests, workplaces, slots, max_options_per_request=2, max_options_per_workplace=2)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(programmes(max_requests=10), alike_programmes(), class_programmes()),
    st.lists(st.sampled_from([0.0, 0.0, 0.5, 1.0, 3.0, 250.0, 1000.0, np.inf]), min_size=1, max_size=30),
    st.sampled_from([1e-9, 0.4, 5.0]),
    st.sampled_from([1, 2, 1024]),
    st.sampled_from([0.0, 1.0]),
)
def test_the_evaluation_equals_the_previous_one_to_the_last_bit(
    problem: Problem, prices: list[float], spread: float, block: int, sparse_share: float
) -> None:
    """Value, best options, starts and the seats they use (the subgradient) as the evaluation read
    window by window and request by request gave them: prices that tie, infinite ones (a full seat),
    the spread over equally priced workplaces, the minima per (key, shape) in blocks of one or two, the
    tied classes read entry by entry (share 1) or in one pass (share 0)."""
    m = build_model(problem)
    if not len(m.value):
        return
    slot_cost = np.resize(np.asarray(prices), len(m.capacity))
    previous_block = lagrange.PAIR_BLOCK
    lagrange.PAIR_BLOCK = block
    try:
        lagrangian = Lagrangian(problem, m)
    finally:
        lagrange.PAIR_BLOCK = previous_block
    reference = ReferenceLagrangian(problem, m)

    previous_share = lagrange_pairs.SPARSE_SHARE
    lagrange_pairs.SPARSE_SHARE = sparse_share
    try:
        new = lagrangian.evaluate(slot_cost, 7.0, spread)
    finally:
        lagrange_pairs.SPARSE_SHARE = previous_share
    old = reference.evaluate(slot_cost, 7.0, spread)

    assert new.bound == old.bound
    assert np.array_equal(new.value, old.value)
    assert np.array_equal(new.workplace, old.workplace)
    assert np.array_equal(new.start, old.start)
    assert np.array_equal(lagrangian.used(new), reference.used(old))
