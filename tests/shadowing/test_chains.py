"""Ejection chains over every feasible option (``chains.py``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowing.matching import chains, swap
from shadowing.matching.baseline import first_come_first_served
from shadowing.matching.chains import chain_round, chain_rounds, chained
from shadowing.matching.flow import reoptimise_one_day
from shadowing.matching.insert import insert_multi_day
from shadowing.matching.lagrange import Lagrangian
from shadowing.matching.model import Model, build_model, objective_of
from shadowing.matching.options import Problem, SlotSpec, WorkplaceSpec
from shadowing.matching.swap import swap_multi_day, swapped
from tests.shadowing.test_lagrangian import programmes
from tests.shadowing.test_solver import assert_feasible_within_the_optimum, brute_force, build, day, request
from tests.shadowing.test_swap import contested

FAR = 10**12  # a deadline that never comes


def _two_days(workplaces: list[tuple[int, int]]) -> list[SlotSpec]:
    """One seat on days 0 and 1 at each (workplace, organisation)."""
    return [SlotSpec(wid * 10 + d, wid, org, day(d), 1) for wid, org in workplaces for d in range(2)]


def _placed(m: Model, assign: list[int]) -> dict[int, int]:
    return {m.request_ids[r]: m.options[j].workplace for r, j in enumerate(assign) if j >= 0}


def _start(problem: Problem) -> tuple[Model, Lagrangian, list[int]]:
    m = build_model(problem)
    lagrangian = Lagrangian(problem, m)
    _, fcfs = first_come_first_served(problem, m)
    return m, lagrangian, fcfs


def _neither_flow_nor_swaps_help(m: Model, lagrangian: Lagrangian, fcfs: list[int]) -> None:
    """The maximum flow, the swaps and the insertion (``swap.py``, ``insert.py``) change nothing."""
    assert reoptimise_one_day(lagrangian, fcfs) == fcfs
    assert swap_multi_day(
        lagrangian, fcfs, np.zeros(len(m.capacity)), np.zeros(len(m.group_capacity)), FAR
    ) == (
        fcfs,
        0,
    )
    inserted, _given_up = insert_multi_day(lagrangian, fcfs)
    assert objective_of(m, inserted) == objective_of(m, fcfs)


WINDOW = ((day(0), day(1)),)


def test_a_two_day_request_takes_the_seats_of_one_that_moves_to_another_workplace() -> None:
    # Workplace 1 (organisation 2) and workplace 2 (organisation 4): one seat on days 0 and 1 each.
    # Request 1 (first, organisation 1) prefers workplace 1 and gets it; request 2 (organisation 4) can
    # go to workplace 1 only (not its own organisation's). Moving request 1 to workplace 2 places both.
    slots = _two_days([(1, 2), (2, 4)])
    workplaces = [
        WorkplaceSpec(1, 2, frozenset(), frozenset(), 1),
        WorkplaceSpec(2, 4, frozenset(), frozenset(), 1),
    ]
    requests = [
        request(1, days=2, windows=WINDOW, preferred_workplaces={1: 1}),
        request(2, organisation=4, days=2, windows=WINDOW),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m, lagrangian, fcfs = _start(problem)
    assert _placed(m, fcfs) == {1: 1}
    _neither_flow_nor_swaps_help(m, lagrangian, fcfs)

    new, placed = chained(lagrangian, fcfs, FAR)

    assert placed == 1
    assert _placed(m, new) == {1: 2, 2: 1}
    assert objective_of(m, new)[0] == brute_force(problem)[0] == 2 * 1000.5
    assert_feasible_within_the_optimum(problem, m, new)


def _three_in_a_row() -> Problem:
    # Workplaces 1, 2, 3 (topics 1, 2, 3; organisations 2, 3, 4): one seat on days 0 and 1 each.
    # Request 1 (topics 1, 2) prefers workplace 1, request 3 (topics 2, 3) prefers workplace 2; both come
    # first and get them. Request 2 (topic 1) can go to workplace 1 only. The optimum moves request 3 to
    # workplace 3 and request 1 to workplace 2: a chain of two moves behind request 2.
    workplaces = [WorkplaceSpec(w, w + 1, frozenset({w}), frozenset(), 1) for w in (1, 2, 3)]
    slots = _two_days([(1, 2), (2, 3), (3, 4)])
    requests = [
        request(1, days=2, windows=WINDOW, topics=frozenset({1, 2}), preferred_workplaces={1: 1}),
        request(2, days=2, windows=WINDOW, topics=frozenset({2, 3}), preferred_workplaces={2: 1}),
        request(3, days=2, windows=WINDOW, topics=frozenset({1})),
    ]
    return build(requests, workplaces, slots, fairness_weight=1.0)


def test_a_chain_of_two_moves_places_a_request_the_flow_and_the_swaps_leave_out() -> None:
    problem = _three_in_a_row()
    m, lagrangian, fcfs = _start(problem)
    assert _placed(m, fcfs) == {1: 1, 2: 2}
    _neither_flow_nor_swaps_help(m, lagrangian, fcfs)
    # one level of moves is not enough: request 1's other workplace is taken
    assert chained(lagrangian, fcfs, FAR, depth=1) == (fcfs, 0)

    new, placed = chained(lagrangian, fcfs, FAR, depth=2)

    assert placed == 1
    assert _placed(m, new) == {1: 2, 2: 3, 3: 1}
    best, _ = brute_force(problem)
    assert objective_of(m, new)[0] == best
    assert_feasible_within_the_optimum(problem, m, new)


def test_a_chain_of_three_moves_with_a_day_cap() -> None:
    # As above with a fourth workplace in the row; workplace 4 has two seats a day but a day cap of one.
    workplaces = [WorkplaceSpec(w, w + 1, frozenset({w}), frozenset(), 1) for w in (1, 2, 3, 4)]
    slots = _two_days([(1, 2), (2, 3), (3, 4)])
    slots += [SlotSpec(400 + d * 10 + k, 4, 5, day(d), 1) for d in range(2) for k in range(2)]
    requests = [
        request(1, days=2, windows=WINDOW, topics=frozenset({1, 2}), preferred_workplaces={1: 1}),
        request(2, days=2, windows=WINDOW, topics=frozenset({2, 3}), preferred_workplaces={2: 1}),
        request(3, days=2, windows=WINDOW, topics=frozenset({3, 4}), preferred_workplaces={3: 1}),
        request(4, days=2, windows=WINDOW, topics=frozenset({1})),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m, lagrangian, fcfs = _start(problem)
    assert _placed(m, fcfs) == {1: 1, 2: 2, 3: 3}
    _neither_flow_nor_swaps_help(m, lagrangian, fcfs)
    assert chained(lagrangian, fcfs, FAR, depth=2) == (fcfs, 0)

    new, placed = chained(lagrangian, fcfs, FAR, depth=3)

    assert placed == 1
    assert _placed(m, new) == {1: 2, 2: 3, 3: 4, 4: 1}
    assert objective_of(m, new)[0] == brute_force(problem)[0]
    assert_feasible_within_the_optimum(problem, m, new)


def test_a_move_whose_seats_the_chain_behind_it_takes_back_is_not_played() -> None:
    # Workplaces 1, 2 (one seat on days 0 and 1) and 3 (one seat on day 0). Request 1 (two days,
    # topics 1 and 2) prefers workplace 1 and holds it; request 2 (one day, day 0, topics 2 and 3)
    # prefers workplace 2 and sits there on day 0, request 3 (one day, topic 2) on day 1; request 4
    # (two days, topic 1) can go to workplace 1 only. Request 1 could move to workplace 2 if request 2
    # went to workplace 3 and request 3 to day 0 of workplace 2, the seat request 2 left: that seat is
    # then taken again, so request 1 has no room there and the chain is not played (no placement
    # holds all four).
    workplaces = [WorkplaceSpec(w, w + 1, frozenset({w}), frozenset(), 1) for w in (1, 2, 3)]
    slots = _two_days([(1, 2), (2, 3)]) + [SlotSpec(30, 3, 4, day(0), 1)]
    requests = [
        request(1, days=2, windows=WINDOW, topics=frozenset({1, 2}), preferred_workplaces={1: 1}),
        request(2, windows=((day(0), day(0)),), topics=frozenset({2, 3}), preferred_workplaces={2: 1}),
        request(3, windows=WINDOW, topics=frozenset({2})),
        request(4, days=2, windows=WINDOW, topics=frozenset({1})),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m, lagrangian, fcfs = _start(problem)
    assert {m.request_ids[r]: m.options[j].slots for r, j in enumerate(fcfs) if j >= 0} == {
        1: (10, 11),
        2: (20,),
        3: (21,),
    }

    new, placed = chained(lagrangian, fcfs, FAR)

    assert (new, placed) == (fcfs, 0)
    assert objective_of(m, fcfs)[0] == brute_force(problem)[0]


def test_a_reciprocal_pair_is_placed_by_a_chain_behind_one_of_the_two() -> None:
    # One seat on day 0 at workplaces 1 (organisation 5, topic 1), 2 (organisation 1, topic 2) and 3
    # (organisation 6, topic 3). Request 1 (organisation 2, topics 1 and 3) prefers workplace 1 and comes
    # first. The pair 2 (organisation 1, topic 1) and 3 (organisation 5, topic 2) visit each other's
    # organisation: request 2 can go to workplace 1 only, so first come, first served leaves the pair
    # out. Request 1 moving to workplace 3 places the pair.
    workplaces = [
        WorkplaceSpec(1, 5, frozenset({1}), frozenset(), 1),
        WorkplaceSpec(2, 1, frozenset({2}), frozenset(), 1),
        WorkplaceSpec(3, 6, frozenset({3}), frozenset(), 1),
    ]
    slots = [SlotSpec(w * 10, w, org, day(0), 1) for w, org in ((1, 5), (2, 1), (3, 6))]
    one_day = ((day(0), day(0)),)
    requests = [
        request(1, organisation=2, windows=one_day, topics=frozenset({1, 3}), preferred_workplaces={1: 1}),
        request(2, windows=one_day, topics=frozenset({1}), partner=3),
        request(3, organisation=5, windows=one_day, topics=frozenset({2}), partner=2),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=1.0)
    m, lagrangian, fcfs = _start(problem)
    assert _placed(m, fcfs) == {1: 1}
    _neither_flow_nor_swaps_help(m, lagrangian, fcfs)

    new, placed = chained(lagrangian, fcfs, FAR)

    assert placed == 2
    assert _placed(m, new) == {1: 3, 2: 1, 3: 2}
    assert objective_of(m, new)[0] == brute_force(problem)[0]
    assert_feasible_within_the_optimum(problem, m, new)


def test_no_chain_where_the_moves_cost_more_than_the_request_is_worth() -> None:
    # Request 3 could take workplace 1 only by leaving request 1 without a place: one for one, no gain.
    workplaces = [WorkplaceSpec(1, 2, frozenset({1}), frozenset(), 1)]
    slots = _two_days([(1, 2)])
    requests = [
        request(1, days=2, windows=WINDOW, topics=frozenset({1}), preferred_workplaces={1: 1}),
        request(3, days=2, windows=WINDOW, topics=frozenset({1})),
    ]
    problem = build(requests, workplaces, slots, fairness_weight=0.0)
    m, lagrangian, fcfs = _start(problem)

    assert chained(lagrangian, fcfs, FAR) == (fcfs, 0)


def test_no_round_when_its_time_does_not_fit() -> None:
    problem = _three_in_a_row()
    m, lagrangian, fcfs = _start(problem)
    ticks = iter(range(10**6))  # a clock that moves one second each time it is read

    def clock() -> float:
        return float(next(ticks))

    # the first round needs one evaluation timed (1 s) times depth + 2 = 4 s (6 s with the margin)
    assert chained(lagrangian, fcfs, 3.0, depth=2, clock=clock) == (fcfs, 0)
    ticks = iter(range(10**6))
    new, placed = chained(lagrangian, fcfs, 100.0, depth=2, clock=clock)
    assert placed == 1
    assert _placed(m, new) == {1: 2, 2: 3, 3: 1}


def test_a_round_starts_only_when_the_last_ones_time_fits(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    problem = _three_in_a_row()
    m, lagrangian, fcfs = _start(problem)
    now = [0.0]
    rounds: list[float] = []

    def one_round(
        lg: Lagrangian, assign: list[int], depth: int, until: float, clock: object
    ) -> tuple[list[int], int]:
        rounds.append(now[0])
        now[0] += 10.0  # each round takes 10 s and places one
        return list(assign), 1

    monkeypatch.setattr(chains, "chain_round", one_round)
    _, placed = chained(lagrangian, fcfs, 35.0, clock=lambda: now[0])
    # rounds at 0 and 10 s; at 20 s, 1.5 times the last one's 10 s would end at 35 s: none
    assert chains.MARGIN == 1.5
    assert rounds == [0.0, 10.0]
    assert placed == 2


@st.composite
def crowded(draw: st.DrawFn) -> Problem:
    """Three workplaces (topics 1-3, one with a day cap) on four days, requests of one to three days that
    name topics and prefer workplaces, so that those who come first hold seats others need and have
    somewhere else to go."""
    workplaces = [
        WorkplaceSpec(w, w + 1, frozenset({w}), frozenset(), draw(st.integers(1, 2))) for w in (1, 2, 3)
    ]
    slots = [
        SlotSpec(w * 10 + d, w, w + 1, day(d), draw(st.integers(0, 2))) for w in (1, 2, 3) for d in range(4)
    ]
    requests = []
    for rid in range(1, draw(st.integers(3, 9)) + 1):
        days = draw(st.sampled_from([1, 2, 2, 3]))
        first = draw(st.integers(0, 3))
        last = draw(st.integers(first, 3))
        topics = frozenset(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
        preferred = {draw(st.integers(1, 3)): 1} if draw(st.booleans()) else {}
        requests.append(
            request(
                rid,
                days=days,
                windows=((day(first), day(last)),),
                topics=topics,
                preferred_workplaces=preferred,
                consecutive=draw(st.booleans()),
            )
        )
    return build(requests, workplaces, slots, fairness_weight=draw(st.sampled_from([0.0, 1.0])))


@settings(max_examples=300, deadline=None)
@given(st.one_of(programmes(max_requests=7), contested(), crowded()), st.integers(0, 3))
def test_chains_keep_the_proposal_feasible_and_never_lower_its_objective(
    problem: Problem, depth: int
) -> None:
    m = build_model(problem)
    if not len(m.value):
        return
    lagrangian = Lagrangian(problem, m)
    _, fcfs = first_come_first_served(problem, m)
    before, placed_before = objective_of(m, fcfs)

    new, placed = chain_round(lagrangian, fcfs, depth, FAR)

    after, placed_after = objective_of(m, new)
    assert placed_after == placed_before + placed
    assert after >= before - 1e-9
    assert (after > before) == (placed > 0)
    assert_feasible_within_the_optimum(problem, m, new)


def test_the_swaps_rounds_keep_a_chain() -> None:
    problem = _three_in_a_row()
    m, lagrangian, fcfs = _start(problem)
    objective = objective_of(m, fcfs)[0]
    prices = np.zeros(len(m.capacity)), np.zeros(len(m.group_capacity))

    new, found, method = swapped(lagrangian, fcfs, objective, "floor", prices, FAR)

    assert (found, method) == (brute_force(problem)[0], "floor+swaps")
    assert _placed(m, new) == {1: 2, 2: 3, 3: 1}


def test_the_swaps_rounds_take_one_round_of_chains_at_a_time_when_its_expected_time_fits(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    problem = _three_in_a_row()
    _m, lagrangian, fcfs = _start(problem)
    now = [0.0]
    rounds: list[float] = []

    def one_round(
        lg: Lagrangian, assign: list[int], depth: int, until: float, clock: object
    ) -> tuple[list[int], int]:
        rounds.append(now[0])
        now[0] += 10.0
        return list(assign), 1

    monkeypatch.setattr(chains, "chain_round", one_round)
    clock = lambda: now[0]  # noqa: E731
    # expected to take 40 s with 35 left: none
    assert chain_rounds(lagrangian, fcfs, 35.0, 1, clock=clock, expected=40.0) == (fcfs, 0, 40.0)
    assert rounds == []
    # expected 5 s: one round only, and its time
    assert chain_rounds(lagrangian, fcfs, 35.0, 1, clock=clock, expected=5.0) == (fcfs, 1, 10.0)
    assert rounds == [0.0]


def test_the_swaps_rounds_alternate_chains_and_insertion(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Insertion gains 10 a round in 2 s; the chains 30 a round in 1 s for three rounds, then nothing.
    # Where insertion gains nothing, the chains are not tried again until something gains (below).
    problem = _three_in_a_row()
    m, lagrangian, fcfs = _start(problem)
    now = [0.0]
    worth: dict[int, float] = {}
    calls: list[str] = []
    chain_rounds_left = [3]

    kept: list[list[int]] = []  # (alive, so that no two share an id)

    def proposal(value: float) -> list[int]:
        made = list(fcfs)
        worth[id(made)] = value
        kept.append(made)
        return made

    start = proposal(0.0)

    def insertion(_lg: Lagrangian, assign: list[int], _limit: int | None) -> tuple[list[int], int]:
        calls.append("insert")
        now[0] += 2.0
        return proposal(worth[id(assign)] + 10.0), 0

    def chain_round_once(
        _lg: Lagrangian, assign: list[int], _until: float, _rounds: int, **_kw: object
    ) -> tuple[list[int], int, float]:
        calls.append("chains")
        now[0] += 1.0
        if not chain_rounds_left[0]:
            return proposal(worth[id(assign)]), 0, 1.0
        chain_rounds_left[0] -= 1
        return proposal(worth[id(assign)] + 30.0), 1, 1.0

    monkeypatch.setattr(swap, "swap_multi_day", lambda _lg, assign, *_args: (assign, 0))
    monkeypatch.setattr(swap, "insert_multi_day", insertion)
    monkeypatch.setattr(swap, "chain_rounds", chain_round_once)
    monkeypatch.setattr(swap, "objective_of", lambda _m, assign: (worth[id(assign)], 0))
    monkeypatch.setattr(swap.time, "monotonic", lambda: now[0])
    prices = np.zeros(len(m.capacity)), np.zeros(len(m.group_capacity))

    _new, found, method = swap.swapped(lagrangian, start, 0.0, "floor", prices, 20.0, 1.0)

    # one round of chains and one of insertion at a time (the chains again after insertion gains, as
    # it changes the proposal); no insertion where its round would end after 20 s
    assert calls == ["chains", "insert"] * 6 + ["chains"]
    assert (found, method) == (6 * 10.0 + 3 * 30.0, "floor+swaps")


def test_no_chains_after_a_round_of_them_that_gains_nothing_until_something_else_gains(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    problem = _three_in_a_row()
    m, lagrangian, fcfs = _start(problem)
    now = [0.0]
    calls: list[str] = []

    def insertion(_lg: Lagrangian, assign: list[int], limit: int | None) -> tuple[list[int], int]:
        calls.append(f"insert {limit}")
        now[0] += 2.0
        return list(assign), 8 if limit is None else limit  # nothing gained; as many on given-up seats

    def no_chain(
        _lg: Lagrangian, assign: list[int], _until: float, _rounds: int, **_kw: object
    ) -> tuple[list[int], int, float]:
        calls.append("chains")
        now[0] += 1.0
        return list(assign), 0, 1.0

    monkeypatch.setattr(swap, "swap_multi_day", lambda _lg, assign, *_args: (assign, 0))
    monkeypatch.setattr(swap, "insert_multi_day", insertion)
    monkeypatch.setattr(swap, "chain_rounds", no_chain)
    monkeypatch.setattr(swap.time, "monotonic", lambda: now[0])
    prices = np.zeros(len(m.capacity)), np.zeros(len(m.group_capacity))
    objective = objective_of(m, fcfs)[0]

    assert swap.swapped(lagrangian, fcfs, objective, "floor", prices, 100.0, 1.0) == (
        fcfs,
        objective,
        "floor",
    )
    # insertion with half as many on given-up seats each time (8 // 2 = 4, 2, 1, then none)
    assert calls == ["chains", "insert None", "insert 4", "insert 2", "insert 1"]
