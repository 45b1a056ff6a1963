"""One placed request of several days out for two or more unplaced one-day requests on its seats.

After the maximum flow of ``flow.reoptimise_one_day`` no unplaced one-day request (without a partner) fits
on the free seats, but a request of two or three days holds two or three seats that such requests may
want, one seat each. `swap_multi_day` takes the placed multi-day requests (without a partner) in the
order of how much more their seats cost at the given prices than their option is worth, and for each
looks for a different unplaced one-day request for every seat it holds: one whose windows hold that day
and whose key the workplace's class allows (the rules ``flow.most_one_day`` places by). Where two or more
are found, the request is taken out and they are placed on its seats, each move checked on the seat
book; one person out and two or more in never lowers the objective by the people placed, and the caller
compares the whole objective (the fairness term) before keeping the result.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from shadowing.matching.flow import one_day_requests, reoptimise_one_day
from shadowing.matching.insert import insert_multi_day
from shadowing.matching.lagrange import Lagrangian
from shadowing.matching.model import Seats, add_options, objective_of
from shadowing.matching.options import Option

# A round of insertion (``insert.py``: one evaluation, the flow's residual network and two maximum flows)
# took 1.2-1.4 times as long as one maximum flow of the one-day requests at 50,000 ties (0.98-1.15 s).
INSERT_FLOWS = 1.5


def _slot_days(lagrangian: Lagrangian) -> np.ndarray:
    """Slot row -> its day's ordinal (-1 where the catalogue has no open day for it)."""
    table = lagrangian.catalogue.plain
    day = np.full(len(lagrangian.m.capacity), -1, dtype=np.int64)
    day[table.slot] = table.ordinal.reshape(-1)[table.cell]
    return day


def _candidates(
    lagrangian: Lagrangian, assign: list[int], slot_price: np.ndarray, group_price: np.ndarray
) -> list[int]:
    """The placed multi-day requests without a partner (model rows), those whose seats cost most more at
    the prices than their option is worth first."""
    m = lagrangian.m
    cost = lagrangian.slot_cost(np.maximum(slot_price, 0.0), np.maximum(group_price, 0.0))
    candidates = [
        (float(sum(cost[s] for s in m.option_slots[j]) - m.value[j]), r)
        for r, j in enumerate(assign)
        if j >= 0 and m.partner[r] < 0 and len(m.option_slots[j]) > 1
    ]
    candidates.sort(key=lambda c: -c[0])
    return [r for _margin, r in candidates]


def swap_multi_day(
    lagrangian: Lagrangian,
    assign: list[int],
    slot_price: np.ndarray,
    group_price: np.ndarray,
    until: float,
) -> tuple[list[int], int]:
    """`assign` (not changed) with placed multi-day requests swapped for unplaced one-day requests (see
    the module docstring) until `until` (``time.monotonic()``), and the number of swaps made."""
    m = lagrangian.m
    catalogue = lagrangian.catalogue
    new = list(assign)
    waiting = one_day_requests(lagrangian, new)
    if not len(waiting):
        return new, 0
    # the unplaced one-day requests per (key, day), in submission order
    pool: dict[tuple[int, int], list[int]] = defaultdict(list)
    keys = lagrangian.request_key
    for i in sorted(waiting.tolist(), key=lambda i: catalogue.requests[i].submitted_at):
        r = catalogue.requests[i]
        days = {d for a, b in r.windows for d in range(a.toordinal(), b.toordinal() + 1)}
        for d in sorted(days):
            pool[(int(keys[i]), d)].append(i)
    pool_keys = np.asarray(sorted({k for k, _ in pool}), dtype=np.int64)
    row_class = np.full(lagrangian.n_rows + 1, -1, dtype=np.int64)
    for c, rows in enumerate(lagrangian.class_rows):
        row_class[rows] = c
    keys_of_class: dict[int, list[int]] = {}
    # the (class, day) pairs some unplaced one-day request may take a seat of (the filter below)
    classes_of_key = {int(k): np.flatnonzero(lagrangian.penalty[k] == 0).tolist() for k in pool_keys}
    wanted = {(c, d) for k, d in pool for c in classes_of_key[k]}
    slot_day = _slot_days(lagrangian)
    candidates = _candidates(lagrangian, new, slot_price, group_price)
    seats = Seats(m)
    for j in new:
        if j >= 0:
            seats.take(j)
    placed: set[int] = set()  # catalogue indices of the one-day requests placed here
    swaps = 0
    for r in candidates:
        if time.monotonic() >= until:
            break
        j = new[r]
        option = m.options[j]
        w = catalogue.row_of.get(option.workplace)
        if w is None or row_class[w] < 0:
            continue
        c = int(row_class[w])
        if sum((c, int(slot_day[s])) in wanted for s in m.option_slots[j]) < 2:
            continue
        if c not in keys_of_class:
            allowed = lagrangian.penalty[pool_keys, c] == 0
            keys_of_class[c] = pool_keys[allowed].tolist()
        chosen: list[tuple[int, int]] = []  # (catalogue index, slot row)
        for s in m.option_slots[j]:
            d = int(slot_day[s])
            found = next(
                (
                    i
                    for k in keys_of_class[c]
                    for i in pool.get((k, d), ())
                    if i not in placed and all(i != other for other, _ in chosen)
                ),
                None,
            )
            if found is not None:
                chosen.append((found, s))
        if len(chosen) < 2:
            continue
        seats.give_back(j)
        options = []
        for i, s in chosen:
            spec = catalogue.requests[i]
            score = catalogue.score(spec, option.workplace, option.organisation)
            options.append(
                Option(spec.id, option.workplace, option.organisation, (catalogue.slot_ids[s],), score)
            )
        columns = add_options(m, options)
        if not all(seats.fits(k) for k in columns):  # (one seat each on the seats just freed)
            seats.take(j)
            continue
        new[r] = -1
        for (i, _s), k in zip(chosen, columns, strict=True):
            seats.take(k)
            new[int(m.option_request[k])] = k
            placed.add(i)
        swaps += 1
    return new, swaps


def swapped(
    lagrangian: Lagrangian,
    best: list[int],
    objective: float,
    method: str,
    prices: tuple[np.ndarray, np.ndarray],
    until: float,
    flow_seconds: float = 0.0,
) -> tuple[list[int], float, str]:
    """`best` (worth `objective`, found by `method`) after rounds of `swap_multi_day` and the maximum
    flow of ``flow.reoptimise_one_day`` (which moves the one-day requests, so that the next round finds
    other swaps) and, where such a round gains nothing, of ``insert.insert_multi_day`` (unplaced
    multi-day requests on seats the one-day requests can give up; half as many on given-up seats after
    a round of it that gains nothing; one is started only when the last one's time, or before the
    first ``INSERT_FLOWS`` times `flow_seconds` (how long a maximum flow took), still fits before
    `until`), until `until` or nothing is left to try, when that is worth more."""
    m = lagrangian.m
    current, current_objective = best, objective
    limit: int | None = None
    took = INSERT_FLOWS * flow_seconds  # how long the last round of insertion took
    while time.monotonic() < until:
        swapped, swaps = swap_multi_day(lagrangian, current, *prices, until)
        if swaps:
            swapped = reoptimise_one_day(lagrangian, swapped)
            found = objective_of(m, swapped)[0]
            if found > current_objective + 1e-9:
                current, current_objective = swapped, found
                continue
        began = time.monotonic()
        if began + took >= until:  # (a round of insertion would end after `until`)
            break
        swapped, risky = insert_multi_day(lagrangian, current, limit)
        took = time.monotonic() - began
        found = objective_of(m, swapped)[0]
        if found > current_objective + 1e-9:
            current, current_objective = swapped, found
            continue
        limit = risky // 2
        if not limit:
            break
    if current_objective > objective + 1e-9:
        return current, current_objective, method + "+swaps"
    return best, objective, method
