"""First come, first served over every feasible option: the floor the matcher never falls below.

In the order of submission each request takes its best-scoring option that still fits, searched among all
its feasible options (``Problem.catalogue``), not only the first ones the problem lists; a reciprocal pair
is placed when its earlier member comes, both or neither. The same search places whoever is still
unplaced after a rounding (`fill_from_catalogue`), on the seats left.
"""

from __future__ import annotations

import time

import numpy as np

from shadowing.matching.model import Model, Seats, add_options
from shadowing.matching.options import Option, Problem
from shadowing.matching.repair import take_in_order


def submission_order(problem: Problem, m: Model) -> list[int]:
    """Request rows by submission time (then id)."""
    return sorted(
        range(len(m.request_ids)),
        key=lambda r: (problem.requests[m.request_ids[r]].submitted_at, m.request_ids[r]),
    )


def first_come_first_served(problem: Problem, m: Model) -> tuple[Seats, list[int]]:
    """The baseline assignment (request row -> option column; columns are added for the options taken)."""
    seats = Seats(m)
    assign = [-1] * len(m.request_ids)
    fill_from_catalogue(problem, m, seats, assign, submission_order(problem, m))
    return seats, assign


def fill_from_catalogue(
    problem: Problem, m: Model, seats: Seats, assign: list[int], order: list[int], until: float | None = None
) -> int:
    """The unplaced requests, in `order`, each take their best option that fits the seats left (over all
    feasible options when the problem has a catalogue, else over its options); how many were placed.
    With `until` (``time.monotonic()``) the requests not reached by then stay unplaced."""
    catalogue = problem.catalogue
    if catalogue is None:
        before = sum(1 for j in assign if j >= 0)
        take_in_order(m, seats, assign, [j for r in order for j in m.request_options[r]], m.request_options)
        return sum(1 for j in assign if j >= 0) - before
    group_slots: dict[int, list[int]] = {}
    for s, g in enumerate(m.slot_group):
        if g >= 0:
            group_slots.setdefault(g, []).append(s)
    cost = np.zeros(len(m.capacity))
    for s in range(len(m.capacity)):
        g = m.slot_group[s]
        if seats.slot[s] <= 0 or (g >= 0 and seats.group[g] <= 0):
            cost[s] = np.inf
    catalogue.price(cost, fits_only=True)
    slot_row = m.slot_row
    # Workplaces whose seats were taken since the catalogue last read them. Their tables still show the
    # seats free, so a search there returns the best option among a superset of those that fit; when
    # that option fits, it is also the best of those that fit (it beat every other one, and the others
    # can only have lost seats). Only when it does not fit are the stale workplaces re-read, all at once:
    # the same choices as re-reading after every seat, at a fraction of the cost.
    stale: set[int] = set()

    def fresh() -> None:
        if stale:
            catalogue.price(cost, stale, fits_only=True)
            stale.clear()

    def change(option: Option, taken: bool) -> None:
        rows = [slot_row[sid] for sid in option.slots]
        for s in rows:
            seats.slot[s] += -1 if taken else 1
            g = m.slot_group[s]
            if g >= 0:
                seats.group[g] += -1 if taken else 1
        touched = set(rows)
        for s in rows:
            g = m.slot_group[s]
            if g >= 0:
                touched.update(group_slots[g])
        changed = False
        for s in touched:
            g = m.slot_group[s]
            full = np.inf if seats.slot[s] <= 0 or (g >= 0 and seats.group[g] <= 0) else 0.0
            if cost[s] != full:
                cost[s] = full
                changed = True
        if changed:  # a day filled up or opened again: its workplace's sequences change
            stale.add(catalogue.workplace_row(option.workplace))
            if not taken:  # a seat opened: the tables would no longer show a superset
                fresh()

    def best(r: int) -> Option | None:
        request = problem.requests[m.request_ids[r]]
        _, option = catalogue.best(request)
        if option is not None and stale and any(cost[slot_row[sid]] != 0.0 for sid in option.slots):
            fresh()
            _, option = catalogue.best(request)
        return option

    taken: dict[int, Option] = {}
    for r in order:
        if assign[r] >= 0 or r in taken:
            continue
        if until is not None and time.monotonic() >= until:
            break
        option = best(r)
        if option is None:
            continue
        p = m.partner[r]
        change(option, True)
        if p >= 0:
            if assign[p] >= 0 or p in taken:
                change(option, False)
                continue
            other = best(p)
            if other is None:
                change(option, False)
                continue
            change(other, True)
            taken[p] = other
        taken[r] = option
    fresh()
    rows = list(taken)
    for r, j in zip(rows, add_options(m, [taken[r] for r in rows]), strict=True):
        assign[r] = j
    return len(rows)
