"""A HiGHS MIP over some of the options (small programmes: it closes what rounding and repair leave)."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from shadowing.matching.model import Model, Seats, add_options, objective_of
from shadowing.matching.options import Option, Problem

# Rounds of the MIP with the options that displace the least from its last proposal (``mip_with_swaps``).
SWAP_ROUNDS = 5
# Up to this many (requests x slots), the MIP also has each request's best option through each slot
# (``through_each_slot``): a chain of swaps over days of one workplace (one catalogue search a slot).
THROUGH_PAIRS = 5_000


def _constraints(
    m: Model,
    with_z: bool,
    opts: np.ndarray | None = None,
    slot_capacity: np.ndarray | None = None,
    group_capacity: np.ndarray | None = None,
) -> tuple[sp.csr_matrix, np.ndarray, sp.csr_matrix | None]:
    """A_ub (rows: requests, slots, day caps, fairness), b_ub and A_eq (pairs) over the options `opts`
    (default all; the rows of the other requests stay empty) with the given remaining capacities."""
    if opts is None:
        opts = np.arange(len(m.value))
    n = len(opts)
    n_req, n_slot, n_group = len(m.request_ids), len(m.capacity), len(m.group_capacity)
    n_org = len(m.org_size) if with_z else 0
    cols = n + (1 if with_z else 0)
    option_request = m.option_request[opts]
    rows_i: list[np.ndarray] = [option_request]
    cols_i: list[np.ndarray] = [np.arange(n)]
    vals: list[np.ndarray] = [np.ones(n)]
    opt_slots = [m.option_slots[j] for j in opts.tolist()]
    lengths = np.fromiter((len(t) for t in opt_slots), dtype=np.int64, count=n)
    slot_rows = np.fromiter((s for t in opt_slots for s in t), dtype=np.int64, count=int(lengths.sum()))
    slot_cols = np.repeat(np.arange(n), lengths)
    rows_i.append(n_req + slot_rows)
    cols_i.append(slot_cols)
    vals.append(np.ones(len(slot_rows)))
    if n_group:
        groups = np.asarray(m.slot_group, dtype=np.int64)[slot_rows]
        mask = groups >= 0
        rows_i.append(n_req + n_slot + groups[mask])
        cols_i.append(slot_cols[mask])
        vals.append(np.ones(int(mask.sum())))
    if with_z:
        base = n_req + n_slot + n_group
        org_size = np.bincount(m.request_org[np.unique(option_request)], minlength=len(m.org_size)).astype(
            np.float64
        )
        rows_i.append(base + m.request_org[option_request])
        cols_i.append(np.arange(n))
        vals.append(-np.ones(n))
        rows_i.append(base + np.arange(n_org))
        cols_i.append(np.full(n_org, n))
        vals.append(org_size)
    a_ub = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows_i), np.concatenate(cols_i))),
        shape=(n_req + n_slot + n_group + n_org, cols),
    )
    b_ub = np.concatenate(
        [
            np.ones(n_req),
            np.asarray(m.capacity if slot_capacity is None else slot_capacity, dtype=float),
            np.asarray(m.group_capacity if group_capacity is None else group_capacity, dtype=float),
            np.zeros(n_org),
        ]
    )
    pair_rows = [(r, p) for r, p in enumerate(m.partner) if 0 <= r < p]
    a_eq = None
    if pair_rows:
        first = np.array([r for r, _ in pair_rows], dtype=np.int64)
        second = np.array([p for _, p in pair_rows], dtype=np.int64)
        row_of = np.full(n_req, -1, dtype=np.int64)
        sign = np.zeros(n_req)
        row_of[first] = np.arange(len(pair_rows))
        row_of[second] = np.arange(len(pair_rows))
        sign[first] = 1.0
        sign[second] = -1.0
        opt_rows = row_of[option_request]
        mask = opt_rows >= 0
        a_eq = sp.csr_matrix(
            (sign[option_request][mask], (opt_rows[mask], np.arange(n)[mask])), shape=(len(pair_rows), cols)
        )
    return a_ub, b_ub, a_eq


def mip_over(m: Model, opts: np.ndarray, gap_limit: float, seconds: float) -> list[int] | None:
    """HiGHS MIP over the options `opts` (with the fairness term)."""
    with_z = m.fairness_coefficient > 0
    a_ub, b_ub, a_eq = _constraints(m, with_z, opts)
    c = -m.value[opts]
    integrality = np.ones(len(opts) + (1 if with_z else 0))
    if with_z:
        c = np.append(c, -m.fairness_coefficient)
        integrality[-1] = 0
    constraints = [LinearConstraint(a_ub, -np.inf, b_ub)]
    if a_eq is not None:
        constraints.append(LinearConstraint(a_eq, 0.0, 0.0))
    res = milp(
        c,
        integrality=integrality,
        bounds=Bounds(0.0, 1.0),
        constraints=constraints,
        options={"time_limit": seconds, "mip_rel_gap": gap_limit, "disp": False},
    )
    if res.x is None:
        return None
    assign = [-1] * len(m.request_ids)
    for j in opts[np.flatnonzero(res.x[: len(opts)] > 0.5)].tolist():
        assign[int(m.option_request[j])] = j
    return assign


def displacing(problem: Problem, m: Model, assign: list[int], extra: int = 8) -> list[int]:
    """Each request's best options (the catalogue's, over every feasible option) when a seat costs the
    value of whoever holds it (of the cheapest holder in its day cap when that is full; a free seat costs
    nothing), as model columns: the options a swap with the proposal `assign` needs, which column
    generation need not list where the LP ties (a request moved to a day whose seat another holds)."""
    catalogue = problem.catalogue
    if catalogue is None or not len(m.capacity):
        return []
    seats = Seats(m)
    held = np.zeros(len(m.capacity))
    own = np.zeros(len(m.request_ids))
    for r, j in enumerate(assign):
        if j >= 0:
            seats.take(j)
            own[r] = m.value[j]
            for s in m.option_slots[j]:
                held[s] = m.value[j] if held[s] == 0 else min(held[s], m.value[j])
    cost = np.where(np.asarray(seats.slot) <= 0, held, 0.0)
    group = np.asarray(m.slot_group, dtype=np.int64)
    for g in np.flatnonzero(np.asarray(seats.group) <= 0).tolist():
        members = group == g
        cheapest = held[members & (held > 0)]
        if len(cheapest):
            cost[members] = np.maximum(cost[members], cheapest.min())
    catalogue.price(cost)
    priced = catalogue.best_of_all(own - 1.0, extra)
    found = [o for o in priced.options if o is not None] + [o for more in priced.more for o in more]
    return add_options(m, found)


def through_each_slot(problem: Problem, m: Model) -> list[int]:
    """On a programme of at most ``THROUGH_PAIRS`` (requests x slots), each request's best option
    through each slot (the others' seats priced above any preference), as model columns: every one-day
    option, and a multi-day one through each of its days, where the catalogue gives one per workplace."""
    catalogue = problem.catalogue
    if catalogue is None or len(m.request_ids) * len(m.capacity) > THROUGH_PAIRS:
        return []
    found: list[Option] = []
    for s in range(len(m.capacity)):
        cost = np.full(len(m.capacity), 100.0)
        cost[s] = 0.0
        catalogue.price(cost)
        found += [o for o in catalogue.best_of_all().options if o is not None]
    return add_options(m, found)


def mip_with_swaps(
    problem: Problem,
    m: Model,
    columns: list[int],
    assign: list[int],
    gap_limit: float,
    until: float,
    max_columns: int,
) -> list[int] | None:
    """`mip_over` the listed `columns` and the options that displace the least from `assign`
    (``displacing``), then again with those that displace the least from its proposal, while it
    improves (at most ``SWAP_ROUNDS`` rounds, until `until`, ``time.monotonic()``, at most
    `max_columns` options, the listed first)."""
    best: list[int] | None = None
    objective = objective_of(m, assign)[0]
    listed = list(columns) + through_each_slot(problem, m)
    for _ in range(SWAP_ROUNDS):
        listed = list(dict.fromkeys(listed + displacing(problem, m, assign)))[:max_columns]
        seconds = until - time.monotonic()
        if seconds <= 0:
            break
        found = mip_over(m, np.asarray(listed, dtype=np.int64), gap_limit, seconds)
        if found is None or objective_of(m, found)[0] <= objective + 1e-9:
            break
        best, assign, objective = found, found, objective_of(m, found)[0]
    return best
