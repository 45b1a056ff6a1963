"""Augmenting paths: unplaced people get a seat by moving placed ones, never breaking a constraint."""

from __future__ import annotations

import random
import time

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import maximum_bipartite_matching

from shadowing.matching.model import Seats, build_model
from shadowing.matching.options import Option, Problem
from shadowing.matching.repair import augment
from tests.shadowing.test_solver import objective_of, request, small_programmes

DEADLINE = 3600.0


def problem_of(options: list[Option], capacity: dict[int, int], **values: object) -> Problem:
    rids = {o.request for o in options}
    return Problem(
        options=options,
        capacity=capacity,
        requests={rid: request(rid, organisation=1) for rid in rids},
        pairs=list(values.pop("pairs", [])),  # type: ignore[call-overload]
        fairness_weight=0.0,
        day_caps=list(values.pop("day_caps", [])),  # type: ignore[call-overload]
    )


def augmented(problem: Problem, held: dict[int, int]) -> dict[int, tuple[int, ...]]:
    """Start from `held` (request id -> index of its option in problem.options), augment, and return
    request id -> the slots of its option."""
    m = build_model(problem)
    seats = Seats(m)
    assign = [-1] * len(m.request_ids)
    row = {rid: i for i, rid in enumerate(m.request_ids)}
    for rid, j in held.items():
        assert seats.fits(j)
        seats.take(j)
        assign[row[rid]] = j
    augment(m, seats, assign, time.monotonic() + DEADLINE)
    used: dict[int, int] = {}
    for j in assign:
        if j >= 0:
            for s in m.option_slots[j]:
                used[s] = used.get(s, 0) + 1
    assert all(used[s] <= m.capacity[s] for s in used)
    return {m.request_ids[r]: problem.options[j].slots for r, j in enumerate(assign) if j >= 0}


def test_a_placed_person_moves_to_their_other_slot_to_let_an_unplaced_one_in() -> None:
    options = [Option(1, 1, 2, (10,), 5), Option(1, 2, 2, (11,), 0), Option(2, 1, 2, (10,), 0)]
    result = augmented(problem_of(options, {10: 1, 11: 1}), {1: 0})
    assert result == {1: (11,), 2: (10,)}


def test_nothing_moves_after_the_deadline() -> None:
    options = [Option(1, 1, 2, (10,), 5), Option(1, 2, 2, (11,), 0), Option(2, 1, 2, (10,), 0)]
    problem = problem_of(options, {10: 1, 11: 1})
    m = build_model(problem)
    seats = Seats(m)
    seats.take(0)
    assign = [0, -1]

    augment(m, seats, assign, time.monotonic() - 1)

    assert assign == [0, -1]
    assert seats.slot == [0, 1]


def test_a_path_of_several_moves_ends_in_a_free_seat() -> None:
    # 1 holds slot 10 and can go to 11; 2 holds 11 and can go to 12 (free); 3 can only go to 10.
    options = [
        Option(1, 1, 2, (10,), 0),
        Option(1, 2, 2, (11,), 0),
        Option(2, 2, 2, (11,), 0),
        Option(2, 3, 2, (12,), 0),
        Option(3, 1, 2, (10,), 0),
    ]
    result = augmented(problem_of(options, {10: 1, 11: 1, 12: 1}), {1: 0, 2: 2})
    assert result == {1: (11,), 2: (12,), 3: (10,)}


def test_a_two_day_option_is_freed_by_one_path_per_full_day() -> None:
    options = [
        Option(1, 1, 2, (10,), 0),
        Option(1, 2, 2, (20,), 0),
        Option(2, 1, 2, (11,), 0),
        Option(2, 2, 2, (21,), 0),
        Option(3, 1, 2, (10, 11), 0),
    ]
    capacity = {10: 1, 11: 1, 20: 1, 21: 1}
    result = augmented(problem_of(options, capacity), {1: 0, 2: 2})
    assert result == {1: (20,), 2: (21,), 3: (10, 11)}


def test_a_two_day_visitor_shifts_by_a_day_to_free_a_seat() -> None:
    # 1 holds days 10 and 11 and could take 11 and 12 instead; 2 can only come on day 10.
    options = [Option(1, 1, 2, (10, 11), 0), Option(1, 1, 2, (11, 12), 0), Option(2, 1, 2, (10,), 0)]
    result = augmented(problem_of(options, {10: 1, 11: 1, 12: 1}), {1: 0})
    assert result == {1: (11, 12), 2: (10,)}


def test_a_move_to_several_new_days_ends_a_path_only_when_they_are_all_free() -> None:
    options = [
        Option(1, 1, 2, (10,), 0),
        Option(1, 2, 2, (20, 21), 0),
        Option(2, 1, 2, (10,), 0),
        Option(3, 3, 2, (21,), 0),
    ]
    capacity = {10: 1, 20: 1, 21: 1}
    assert augmented(problem_of(options, capacity), {1: 0, 3: 3}) == {1: (10,), 3: (21,)}
    assert augmented(problem_of(options[:3], capacity), {1: 0}) == {1: (20, 21), 2: (10,)}


def test_moves_are_undone_when_one_day_of_an_option_cannot_be_freed() -> None:
    # Day 10 could be freed (1 moves to 20), day 11 cannot (2 has no other option).
    options = [
        Option(1, 1, 2, (10,), 0),
        Option(1, 2, 2, (20,), 0),
        Option(2, 1, 2, (11,), 0),
        Option(3, 1, 2, (10, 11), 0),
    ]
    result = augmented(problem_of(options, {10: 1, 11: 1, 20: 1}), {1: 0, 2: 2})
    assert result == {1: (10,), 2: (11,)}


def test_a_path_that_loses_more_preference_than_a_person_is_worth_is_not_taken() -> None:
    options = [Option(1, 1, 2, (10,), 2000), Option(1, 2, 2, (11,), 0), Option(2, 1, 2, (10,), 0)]
    result = augmented(problem_of(options, {10: 1, 11: 1}), {1: 0})
    assert result == {1: (10,)}


def test_pair_members_are_not_moved() -> None:
    options = [
        Option(1, 1, 2, (10,), 0),
        Option(1, 2, 2, (11,), 0),
        Option(4, 3, 1, (30,), 0),
        Option(2, 1, 2, (10,), 0),
    ]
    result = augmented(problem_of(options, {10: 1, 11: 1, 30: 1}, pairs=[(1, 4)]), {1: 0, 4: 2})
    assert result == {1: (10,), 4: (30,)}


def test_the_last_slot_of_a_path_needs_room_under_its_day_cap() -> None:
    # Slots 11 and 12 are two slots of one day at one workplace, capped at one visitor that day.
    options = [
        Option(1, 1, 2, (10,), 0),
        Option(1, 2, 2, (11,), 0),
        Option(2, 2, 2, (12,), 0),
        Option(3, 1, 2, (10,), 0),
    ]
    problem = problem_of(options, {10: 1, 11: 1, 12: 1}, day_caps=[((11, 12), 1)])
    assert augmented(problem, {1: 0, 2: 2}) == {1: (10,), 2: (12,)}


def maximum_placed(problem: Problem) -> int:
    """The largest number of one-day requests placed (a maximum bipartite matching over seats)."""
    seats = [(sid, k) for sid, n in sorted(problem.capacity.items()) for k in range(n)]
    columns: dict[int, list[int]] = {}
    for c, (sid, _k) in enumerate(seats):
        columns.setdefault(sid, []).append(c)
    rids = sorted({o.request for o in problem.options})
    rows, cols = [], []
    for i, rid in enumerate(rids):
        for o in problem.options:
            if o.request == rid:
                for c in columns[o.slots[0]]:
                    rows.append(i)
                    cols.append(c)
    graph = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(rids), len(seats)))
    return int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 100_000))
def test_augmenting_from_any_start_places_the_most_people_possible(seed: int) -> None:
    """One-day requests without pairs or day caps: from any valid start, no augmenting path is left at
    the end, so as many people are placed as in a maximum matching."""
    rng = random.Random(seed)
    n_slots = rng.randint(1, 8)
    capacity = {100 + s: rng.randint(1, 2) for s in range(n_slots)}
    options = [
        Option(rid, 1, 2, (sid,), 0)
        for rid in range(1, rng.randint(2, 14))
        for sid in rng.sample(sorted(capacity), rng.randint(1, min(3, n_slots)))
    ]
    problem = problem_of(options, capacity)
    # A random first-come start: requests in random order take a random fitting option.
    left = dict(capacity)
    held: dict[int, int] = {}
    indices = list(range(len(options)))
    rng.shuffle(indices)
    for j in indices:
        o = options[j]
        if o.request not in held and left[o.slots[0]] > 0 and rng.random() < 0.7:
            left[o.slots[0]] -= 1
            held[o.request] = j
    result = augmented(problem, held)
    assert len(result) == maximum_placed(problem)
    assert set(held) <= set(result)  # nobody placed loses their place


@settings(max_examples=150, deadline=None)
@given(small_programmes(max_requests=8), st.integers(0, 1000))
def test_augmenting_keeps_every_constraint_and_everyone_placed_and_never_lowers_the_objective(
    problem: Problem, seed: int
) -> None:
    """Multi-day options, day caps, pairs and fairness: from a random valid start."""
    rng = random.Random(seed)
    m = build_model(problem)
    seats = Seats(m)
    assign = [-1] * len(m.request_ids)
    for r in rng.sample(range(len(assign)), len(assign)):
        if m.partner[r] >= 0:
            continue
        fitting = [j for j in m.request_options[r] if seats.fits(j)]
        if fitting and rng.random() < 0.8:
            assign[r] = rng.choice(fitting)
            seats.take(assign[r])
    before = {m.request_ids[r]: problem.options[j] for r, j in enumerate(assign) if j >= 0}

    augment(m, seats, assign, time.monotonic() + DEADLINE)

    after = {m.request_ids[r]: problem.options[j] for r, j in enumerate(assign) if j >= 0}
    used: dict[int, int] = {}
    for option in after.values():
        for sid in option.slots:
            used[sid] = used.get(sid, 0) + 1
    assert all(n <= problem.capacity[sid] for sid, n in used.items())
    assert all(sum(used.get(sid, 0) for sid in sids) <= cap for sids, cap in problem.day_caps)
    assert set(before) <= set(after)
    assert all((a in after) == (a in before) for pair in problem.pairs for a in pair)
    assert objective_of(problem, after) >= objective_of(problem, before) - 1e-6
    # The seat counts the matcher keeps agree with the assignment.
    fresh = Seats(m)
    for j in assign:
        if j >= 0:
            fresh.take(j)
    assert (fresh.slot, fresh.group) == (seats.slot, seats.group)
