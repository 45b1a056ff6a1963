"""Choose at most one option per request: maximise people placed, then preferences, then fairness.

Model (one binary ``x`` per option, one continuous ``z``)::

    maximise   sum  (1000 + score_o) * x_o   +   fairness_weight * G * n_min * z
    subject to sum of x over a request's options           <= 1
               sum of x over the options using a slot      <= the slot's free seats
               sum of x over a workplace's slots on a day  <= its remaining per-day cap
               sum x(a) = sum x(b) for a reciprocal pair (a, b)     (both or neither)
               z * n_g <= sum of x over the options of requests of organisation g, for each g
               0 <= z <= 1

``n_g`` counts the requests of organisation ``g`` that have at least one option, ``G`` the organisations
with such requests and ``n_min`` the smallest ``n_g``, so ``z`` is the lowest placement rate among the
requesting organisations (max-min fairness). One more person placed in a worst-served organisation ``g``
raises the last term by ``fairness_weight * G * n_min / n_g`` points, at most ``fairness_weight * G``:
with weight 1 and 5 to 25 organisations about as much as moving a visitor from an unranked workplace (0.5
points) to a preferred one (up to 10), far from the 1000 points of placing one more person (that would
take a weight of 1000 / G). Scaling by the smallest organisation keeps that bound when one organisation
has only a few requests: scaled by all requests instead, one of three requests among 5,000 would be worth
1,667 points, more than a placement elsewhere. ``fairness_weight = 0`` switches it off.

Method: the LP relaxation is solved with HiGHS (through SciPy); its optimum is the upper bound reported
with every run. The options are then taken greedily in the order of their LP values (ties by score), a
pair only with an option for both; a fill pass offers the remaining capacity to the still unplaced
requests in the order of their best scores, and a repair pass moves one placed person to another of their
options when that lets an unplaced person in. Augmenting paths, as in bipartite matching, then place
whoever a chain of moves can let in: a placed person moves to another option that needs at most one seat
they do not hold yet, which is free or is freed in turn by the next move; a multi-day option needs a
chain for each of its full days. Where every request needs one day and none is in a pair, this alone
reaches the largest number of people that can be placed (a chain is taken only when it gains, and one
would need over a hundred moves to lose the 1000 points of a person placed). When the gap to the bound is
still above ``gap_limit``, the requests the LP placed integrally keep their options and the rest (the
fractional core, a few hundred requests) is solved as a small MIP on the seats left; if the gap is still
above the limit and the problem is small enough, a HiGHS MIP of the whole problem with that gap limit
runs in the time left. Either replaces the rounding when it is better. Where every request needs one day,
no day has a cap over several slots and there are neither pairs nor a fairness term, the LP is a
bipartite b-matching whose optimum is integral, so the first step is already exact. The result is never
worse than first-come-first-served: `greedy` runs too and wins if it is better (the method then ends in
``+greedy``).

Very large programmes (more than ``LP_MAX_OPTIONS`` options; one LP of 815,000 options took 21-28 s on an
idle machine and about a minute under load) are decomposed by time: requests sorted by the first day they
could visit (pair members together) form blocks of about ``BLOCK_OPTIONS`` options whose LPs are solved
one after the other on the seats the earlier blocks left, each rounded as above. The seat prices (duals)
of the block LPs, improved by Polyak subgradient steps, give a Lagrangian upper bound for the whole
problem, and so does the trivial bound, everyone placed at their best score: both are valid and never
below the LP bound, and the lower one is reported, so the gap reported is never below the gap to the LP
bound. Where seats are contested widely, ties between equally scored options keep the subgradient from
descending and the trivial bound is the lower one; on the benchmark's programmes of 50,000 requests the
full LP, solved once by hand, lies only 0.04 % (normal) and 0.03 % (tight) below it. The same prices then
guide a second rounding over all requests at once (options by value net of prices); both roundings are
repaired and the better one is returned, the method says which (``lp-rounding-9-blocks``,
``priced-rounding-9-blocks``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from shadowing.matching.model import Model, Seats, build_model, objective_of
from shadowing.matching.options import (
    REASON_ALL_FULL,
    REASON_PARTNER_NOT_PLACED,
    Option,
    Problem,
    Solution,
)
from shadowing.matching.repair import fill, improve, take_in_order

# The MIP is tried only below this many options: beyond it HiGHS finds no better solution than the
# rounding in the time a coordinator waits (measured on the benchmark instances).
MIP_MAX_OPTIONS = 150_000
# Above this many options the LP is solved in blocks of requests by time (the LP of 815,000 options
# took 21-28 s idle and about a minute under load; blocks of 100,000 take a few seconds each).
LP_MAX_OPTIONS = 250_000
BLOCK_OPTIONS = 100_000
_EPS = 1e-9


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


class _Lagrangian:
    """Upper bounds from prices on the slot and day-cap seats (any prices >= 0 give one): the seats at
    their prices plus each request's best option net of the prices; pairs relaxed, fairness counted at
    its full weight. Used where the problem is solved in blocks, starting from the block LPs' prices and
    improved by subgradient steps."""

    def __init__(self, m: Model) -> None:
        n = len(m.value)
        lengths = np.fromiter((len(t) for t in m.option_slots), dtype=np.int64, count=n)
        slot_rows = np.fromiter(
            (s for t in m.option_slots for s in t), dtype=np.int64, count=int(lengths.sum())
        )
        cols = np.repeat(np.arange(n), lengths)
        n_slot, n_group = len(m.capacity), len(m.group_capacity)
        groups = (
            np.asarray(m.slot_group, dtype=np.int64)[slot_rows] if n_group else np.zeros(0, dtype=np.int64)
        )
        mask = groups >= 0
        # options x (slots, day caps) incidence
        self.incidence = sp.csr_matrix(
            (
                np.ones(len(slot_rows) + int(mask.sum())),
                (np.concatenate([cols, cols[mask]]), np.concatenate([slot_rows, n_slot + groups[mask]])),
            ),
            shape=(n, n_slot + n_group),
        )
        self.capacity = np.concatenate(
            [np.asarray(m.capacity, dtype=float), np.asarray(m.group_capacity, dtype=float)]
        )
        self.m = m
        order = np.argsort(m.option_request, kind="stable")
        self.order = order
        self.starts = np.flatnonzero(np.r_[True, np.diff(m.option_request[order]) != 0])
        self.rows = m.option_request[order][self.starts]

    def evaluate(self, price: np.ndarray) -> tuple[float, np.ndarray]:
        """The bound for these prices and a subgradient (capacity minus the seats the best options use)."""
        m = self.m
        reduced = (m.value - self.incidence @ price)[self.order]
        best = np.maximum(np.maximum.reduceat(reduced, self.starts), 0.0)
        bound = float(self.capacity @ price) + float(best.sum()) + m.fairness_coefficient
        best_of_option = np.repeat(best, np.diff(np.r_[self.starts, len(reduced)]))
        chosen = (reduced >= best_of_option - 1e-9) & (best_of_option > 0)
        # one best option per request
        first = np.zeros(len(reduced), dtype=bool)
        idx = np.flatnonzero(chosen)
        _, keep = np.unique(np.searchsorted(self.starts, idx, side="right"), return_index=True)
        first[idx[keep]] = True
        used = self.incidence[self.order[first]].sum(axis=0).A1
        return bound, self.capacity - used

    def improve(
        self, price: np.ndarray, target: float, deadline: float, steps: int = 200
    ) -> tuple[float, np.ndarray]:
        """Polyak subgradient steps towards `target` (a known objective); the lowest bound seen and its
        prices."""
        best_bound, grad = self.evaluate(price)
        best_price = price
        bound = best_bound
        scale = 1.0
        for _ in range(steps):
            if time.monotonic() > deadline:
                break
            norm = float(grad @ grad)
            if norm == 0 or bound <= target:
                break
            price = np.maximum(0.0, price - scale * (bound - target) / norm * grad)
            bound, grad = self.evaluate(price)
            if bound < best_bound - 1e-9:
                best_bound, best_price = bound, price
            else:
                scale *= 0.7
        return best_bound, best_price


def _trivial_bound(m: Model) -> float:
    best = np.zeros(len(m.request_ids))
    np.maximum.at(best, m.option_request, m.value)
    return float(best.sum()) + m.fairness_coefficient


def _result(
    problem: Problem,
    m: Model,
    assign: list[int],
    bound: float,
    method: str,
    started: float,
    seats: Seats | None = None,
    greedy_placed: int | None = None,
) -> Solution:
    objective, placed = objective_of(m, assign)
    if bound < objective:  # the LP optimum is only accurate to the solver's tolerance
        bound = objective
    gap = (bound - objective) / bound if bound > 0 else 0.0
    chosen: dict[int, Option] = {}
    unplaced = dict(problem.unplaced)
    if seats is None:
        seats = Seats(m)
        for j in assign:
            if j >= 0:
                seats.take(j)
    for r, j in enumerate(assign):
        rid = m.request_ids[r]
        if j >= 0:
            chosen[rid] = problem.options[j]
        elif m.partner[r] >= 0 and any(seats.fits(k) for k in m.request_options[r]):
            unplaced[rid] = REASON_PARTNER_NOT_PLACED
        else:
            unplaced[rid] = REASON_ALL_FULL
    return Solution(
        chosen=chosen,
        objective=objective,
        bound=bound,
        gap=gap,
        placed=placed,
        method=method,
        seconds=time.monotonic() - started,
        unplaced=unplaced,
        greedy_placed=greedy_placed,
    )


def lp_bound(problem: Problem, *, time_limit: float | None = None) -> float | None:
    """The optimum of the LP relaxation of the whole problem, in one piece (never in blocks), or None
    when HiGHS does not finish within `time_limit`. For checking how far the bound of a run solved in
    blocks lies above it (bench/matching.py --full-lp); runs can take minutes on large programmes."""
    m = build_model(problem)
    if not len(m.value):
        return 0.0
    with_z = m.fairness_coefficient > 0
    c = -m.value
    if with_z:
        c = np.append(c, -m.fairness_coefficient)
    lp = _linprog(c, *_constraints(m, with_z), time_limit)
    return -float(lp.fun) if lp.status == 0 else None


def _linprog(
    c: np.ndarray, a_ub: sp.csr_matrix, b_ub: np.ndarray, a_eq: sp.csr_matrix | None, time_limit: float | None
) -> Any:
    """HiGHS on min c.x over 0 <= x <= 1 with A_ub x <= b_ub and A_eq x = 0 (SciPy's result)."""
    return linprog(
        c,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=np.zeros(a_eq.shape[0]) if a_eq is not None else None,
        bounds=(0.0, 1.0),
        method="highs",
        options={} if time_limit is None else {"time_limit": time_limit},
    )


def greedy(problem: Problem) -> Solution:
    """First come, first served: in the order of submission each request takes its best fitting option.

    A pair is placed when its earlier member comes, both or neither. The bound reported is the trivial
    one (everyone placed at their best score), not the LP's.
    """
    started = time.monotonic()
    m = build_model(problem)
    seats, assign = _first_come_first_served(problem, m)
    placed = objective_of(m, assign)[1]
    return _result(problem, m, assign, _trivial_bound(m), "greedy", started, seats, placed)


def _first_come_first_served(problem: Problem, m: Model) -> tuple[Seats, list[int]]:
    seats = Seats(m)
    assign = [-1] * len(m.request_ids)
    order = sorted(
        range(len(m.request_ids)),
        key=lambda r: (problem.requests[m.request_ids[r]].submitted_at, m.request_ids[r]),
    )
    options_in_order = [j for r in order for j in m.request_options[r]]
    take_in_order(m, seats, assign, options_in_order, m.request_options)
    return seats, assign


def solve(
    problem: Problem,
    *,
    time_limit: float = 60.0,
    gap_limit: float = 0.005,
    progress: Callable[[str, int, float | None], None] | None = None,
    start: object | None = None,
) -> Solution:
    """Near-optimal match with the LP bound and the gap (see the module docstring).

    ``progress(phase, placed_so_far, gap_or_None)`` is called as the work moves through the phases
    "bound", "rounding", "improving" and "done". ``start`` is a warm start (unused by this solver).
    """
    report = progress or (lambda phase, placed, gap: None)
    report("bound", 0, None)
    started = time.monotonic()
    deadline = started + time_limit
    m = build_model(problem)
    n = len(m.value)
    if n == 0:
        report("done", 0, None)
        return _result(problem, m, [], 0.0, "empty", started, greedy_placed=0)
    with_z = m.fairness_coefficient > 0
    seats = Seats(m)
    assign = [-1] * len(m.request_ids)
    blocks = _blocks(m) if n > LP_MAX_OPTIONS else [np.arange(n)]
    slot_price = np.zeros(len(m.capacity))
    group_price = np.zeros(len(m.group_capacity))
    lp_value = 0.0
    lp_x = np.zeros(0)
    solved = 0
    for k, opts in enumerate(blocks):
        seconds = max(1.0, (deadline - time.monotonic()) * 0.8 / (len(blocks) - k))
        a_ub, b_ub, a_eq = _constraints(
            m, with_z, opts, np.asarray(seats.slot, dtype=float), np.asarray(seats.group, dtype=float)
        )
        c = -m.value[opts]
        if with_z:
            c = np.append(c, -m.fairness_coefficient * len(np.unique(m.option_request[opts])) / len(assign))
        lp = _linprog(c, a_ub, b_ub, a_eq, seconds)
        if lp.status == 0:
            solved += 1
            lp_value = -float(lp.fun)
            x = np.asarray(lp.x[: len(opts)])
            lp_x = x
            duals = -np.asarray(lp.ineqlin.marginals)
            n_req, n_slot = len(m.request_ids), len(m.capacity)
            slot_price = np.maximum(slot_price, duals[n_req : n_req + n_slot])
            group_price = np.maximum(
                group_price, duals[n_req + n_slot : n_req + n_slot + len(m.group_capacity)]
            )
        else:
            x = np.zeros(len(opts))
        # Rounding: options in the order of their LP values, ties by value.
        local = np.lexsort((-m.value[opts], -np.round(x, 6)))
        order = opts[local]
        positive = order[x[local] > 1e-6].tolist()
        if len(blocks) == 1:
            rank = np.empty(n, dtype=np.int64)
            rank[order] = np.arange(n)
            partner_order = [sorted(o, key=lambda j: rank[j]) for o in m.request_options]
        else:
            partner_order = m.request_options
        take_in_order(m, seats, assign, positive, partner_order)

    report("rounding", sum(1 for a in assign if a >= 0), None)
    if len(blocks) == 1 and solved:
        bound, method = lp_value, "lp-rounding"
    else:
        bound, method = _trivial_bound(m), "rounding-without-lp"
        if solved == len(blocks):
            method = f"lp-rounding-{len(blocks)}-blocks"
    fill(m, seats, assign)
    if solved == len(blocks):
        lagrangian = _Lagrangian(m)
        objective, _placed = objective_of(m, assign)
        report("improving", _placed, (bound - objective) / bound if bound > 0 else 0.0)
        price = np.concatenate([slot_price, group_price])
        if len(blocks) > 1:
            # The block LPs' seat prices, improved by subgradient steps, bound the whole problem (a
            # valid upper bound, at least the LP bound) ...
            lagrangian_bound, price = lagrangian.improve(price, objective, started + time_limit * 0.6)
            bound = min(bound, lagrangian_bound)
        # ... and guide a second rounding over all requests at once: options by value net of prices.
        net = m.value - lagrangian.incidence @ price
        priced_seats = Seats(m)
        priced_assign = [-1] * len(assign)
        take_in_order(
            m, priced_seats, priced_assign, np.argsort(-net, kind="stable").tolist(), m.request_options
        )
        fill(m, priced_seats, priced_assign)
        # Both roundings are repaired before they are compared: which one repairs better varies.
        improve(m, priced_seats, priced_assign, started + time_limit * 0.7)
        improve(m, seats, assign, started + time_limit * 0.85)
        if objective_of(m, priced_assign)[0] > objective_of(m, assign)[0]:
            seats, assign = priced_seats, priced_assign
            method = "priced-rounding" + (f"-{len(blocks)}-blocks" if len(blocks) > 1 else "")
    else:
        improve(m, seats, assign, started + time_limit * 0.85)
    objective, _placed = objective_of(m, assign)
    # Safety net (e.g. when the LP ran out of time): never return less than first-come-first-served.
    fcfs_seats, fcfs_assign = _first_come_first_served(problem, m)
    fcfs_objective, fcfs_placed = objective_of(m, fcfs_assign)
    if fcfs_objective > objective:
        seats, assign, objective = fcfs_seats, fcfs_assign, fcfs_objective
        method += "+greedy"
    gap = (bound - objective) / bound if bound > 0 else 0.0
    remaining = deadline - time.monotonic()
    if len(blocks) == 1 and solved and gap > gap_limit and remaining > 1.0:
        # First a small MIP: the requests the LP placed integrally keep their options, the others
        # (the fractional core) are solved exactly on the seats left.
        core_assign = _core_mip(m, lp_x, assign, gap_limit / 10, remaining * 0.5)
        if core_assign is not None and objective_of(m, core_assign)[0] > objective + _EPS:
            assign = core_assign
            seats = None  # type: ignore[assignment]
            method = "lp-core-mip"
            objective = objective_of(m, assign)[0]
            gap = (bound - objective) / bound if bound > 0 else 0.0
        remaining = deadline - time.monotonic()
    if len(blocks) == 1 and solved and gap > gap_limit and n <= MIP_MAX_OPTIONS and remaining > 1.0:
        a_ub, b_ub, a_eq = _constraints(m, with_z)
        c = -m.value
        if with_z:
            c = np.append(c, -m.fairness_coefficient)
        mip_assign = _mip(m, a_ub, b_ub, a_eq, c, with_z, gap_limit, remaining)
        if mip_assign is not None and objective_of(m, mip_assign)[0] > objective + _EPS:
            assign = mip_assign
            seats = None  # type: ignore[assignment]
            method = "mip"
    result = _result(problem, m, assign, bound, method, started, seats, fcfs_placed)
    report("done", result.placed, result.gap)
    return result


def _blocks(m: Model) -> list[np.ndarray]:
    """Split the options into blocks of requests by the first day they could visit (pairs together),
    each of at most about `BLOCK_OPTIONS` options, solved one after the other on the remaining seats."""
    first_day = np.full(len(m.request_ids), np.iinfo(np.int64).max)
    option_first = m.slot_day[[t[0] for t in m.option_slots]]
    np.minimum.at(first_day, m.option_request, option_first)
    partner = np.asarray(m.partner, dtype=np.int64)
    rows = np.arange(len(first_day))
    has_partner = partner >= 0
    key_day = first_day.copy()
    key_day[has_partner] = np.minimum(first_day[has_partner], first_day[partner[has_partner]])
    key_pair = rows.copy()
    key_pair[has_partner] = np.minimum(rows[has_partner], partner[has_partner])
    order = np.lexsort((rows, key_pair, key_day)).tolist()
    count = np.bincount(m.option_request, minlength=len(rows))
    blocks: list[list[int]] = [[]]
    size = 0
    for i, r in enumerate(order):
        blocks[-1].append(r)
        size += int(count[r])
        pair_split = m.partner[r] >= 0 and i + 1 < len(order) and order[i + 1] == m.partner[r]
        if size >= BLOCK_OPTIONS and not pair_split:
            blocks.append([])
            size = 0
    return [np.asarray([j for r in b for j in m.request_options[r]], dtype=np.int64) for b in blocks if b]


def _core_mip(
    m: Model, x: np.ndarray, fallback: list[int], gap_limit: float, seconds: float
) -> list[int] | None:
    """Keep the options the LP chose integrally (outside pairs), solve the rest as a MIP (no fairness)."""
    fixed = [-1] * len(m.request_ids)
    seats = Seats(m)
    for j in np.flatnonzero(x > 1 - 1e-6).tolist():
        r = int(m.option_request[j])
        if m.partner[r] < 0 and seats.fits(j):
            fixed[r] = j
            seats.take(j)
    free = [j for r, j_r in enumerate(fixed) if j_r < 0 for j in m.request_options[r]]
    if not free:
        return None
    opts = np.asarray(free, dtype=np.int64)
    a_ub, b_ub, a_eq = _constraints(
        m, False, opts, np.asarray(seats.slot, dtype=float), np.asarray(seats.group, dtype=float)
    )
    constraints = [LinearConstraint(a_ub, -np.inf, b_ub)]
    if a_eq is not None:
        constraints.append(LinearConstraint(a_eq, 0.0, 0.0))
    res = milp(
        -m.value[opts],
        integrality=np.ones(len(opts)),
        bounds=Bounds(0.0, 1.0),
        constraints=constraints,
        options={"time_limit": seconds, "mip_rel_gap": gap_limit, "disp": False},
    )
    if res.x is None:
        return None
    assign = list(fixed)
    for j in opts[np.flatnonzero(res.x > 0.5)].tolist():
        assign[int(m.option_request[j])] = j
    return assign


def _mip(
    m: Model,
    a_ub: sp.csr_matrix,
    b_ub: np.ndarray,
    a_eq: sp.csr_matrix | None,
    c: np.ndarray,
    with_z: bool,
    gap_limit: float,
    seconds: float,
) -> list[int] | None:
    n = len(m.value)
    integrality = np.ones(len(c))
    if with_z:
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
    for j in np.flatnonzero(res.x[:n] > 0.5).tolist():
        assign[int(m.option_request[j])] = j
    return assign
