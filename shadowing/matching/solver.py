"""Choose at most one option per request: maximise people placed, then preferences, then fairness.

Model (one binary ``x`` per feasible option, one continuous ``z``)::

    maximise   sum  (1000 + score_o) * x_o   +   fairness_weight * G * n_min * z
    subject to sum of x over a request's options           <= 1
               sum of x over the options using a slot      <= the slot's free seats
               sum of x over a workplace's slots on a day  <= its remaining per-day cap
               sum x(a) = sum x(b) for a reciprocal pair (a, b)     (both or neither)
               z * n_g <= sum of x over the options of requests of organisation g, for each g
               0 <= z <= 1

``n_g`` counts organisation ``g``'s requests with an option, ``G`` such organisations, ``n_min`` the
smallest ``n_g``: ``z`` is the lowest placement rate (max-min fairness), one more person placed in a
worst-served organisation worth at most ``fairness_weight * G`` points (``0`` switches it off).

Method (``docs/matching.md`` says why), an anytime solve that always holds a proposal:

1. **Floor**: first come, first served over every feasible option (``baseline``), and the previous run's
   proposal when the caller passes it (``start``), on today's seats. Below ``LP_FIRST_REQUESTS``, where the
   options tie, the Lagrangian bound (``lagrange``) is then minimised briefly and the floor (its one-day
   requests by a maximum flow, ``flow``) pruned and refilled at its prices; elsewhere that bound is
   minimised after step 2 if the LP did not converge.
2. **Bound** (phase ``bound``): first augmenting paths from the floor over every feasible option
   (``augment``), until ``PATHS_SHARE`` of the time limit: more people placed, and the bound of the slots that
   block the rest. Then the LP relaxation over every feasible option by column generation. The LP over the
   options listed so far (``master``, HiGHS, warm-started) gives seat prices; the catalogue finds each
   request's best option at those prices (``pricing``); those worth more than the request's own price join the
   LP, which is solved again. Every round's prices give a certified upper bound on the real problem
   (``bound``); the lowest is reported. It stops at ``LP_SHARE`` of the time limit (a busy machine gets a
   weaker bound, not a worse proposal).
3. **Rounding** (phase ``rounding``): options in the order of their LP values, a pair only with an option
   for both, then the listed and every feasible option for whoever is left, the one-day requests without a
   partner anew by a maximum flow (``flow``).
Above ``LP_FIRST_REQUESTS`` requests step 2 is: the Lagrangian bound minimised for every request at
once (``lagrange``, ``bundle``), the floor's one-day requests by the flow, pruned and refilled at its
prices (``flow.best_pruned``), swaps (``swap``), a proposal from its prices (``price_rounding``), and all
along, on the other core from before the floor, the LP over (workplace, day) cells, priced near the steps'
best prices, whose last round is placed (``cell_rounding``, until ``CELL_SHARE``) instead of the LP over
the listed options; no path searches.
4. **Improving** (phase ``improving``): augmenting paths from the rounding (``augment``), moves over the
   listed options (``repair``) until none places more or the time is up, a HiGHS MIP over them (``mip``)
   when small. The best is returned (``done``): never below the floor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np

from shadowing.matching import bundle
from shadowing.matching.augment import augment
from shadowing.matching.baseline import fill_from_catalogue, first_come_first_served, submission_order
from shadowing.matching.bound import certified_bound, slot_costs, uniform_price_bound
from shadowing.matching.cell_rounding import CellRounding
from shadowing.matching.flow import flowed_and_pruned, options_tie, reoptimise_one_day
from shadowing.matching.lagrange import Best, Lagrangian
from shadowing.matching.master import LpResult, Master
from shadowing.matching.mip import mip_with_swaps
from shadowing.matching.model import Model, Seats, add_options, build_model, objective_of
from shadowing.matching.options import (
    REASON_ALL_FULL,
    REASON_PARTNER_NOT_PLACED,
    Option,
    Problem,
    Solution,
)
from shadowing.matching.price_rounding import price_rounding
from shadowing.matching.pricing import Priced
from shadowing.matching.repair import fill, improve, take_in_order
from shadowing.matching.swap import swapped

# (phase, people placed by the best proposal so far, its gap to the bound or None before there is one)
Progress = Callable[[str, int, float | None], None]
PHASES = ("bound", "rounding", "improving", "done")

# The first LP holds the first FIRST_COLUMNS options the problem lists per request, each request's best
# option without prices and EXTRA_COLUMNS more at other workplaces (spread by a per-request order), and
# what first come, first served and the start chose; each round adds the best option and up to
# EXTRA_COLUMNS more per request worth more than its price, which takes fewer rounds than one at a time.
FIRST_COLUMNS = 2
EXTRA_COLUMNS = 8
# Share of the time limit for augmenting paths from the floor, and for the bound (the LP, from the
# start); the rest is for rounding and repair.
PATHS_SHARE = 0.15
LP_SHARE = 0.7
# Above this many requests the Lagrangian bound is minimised directly for LAGRANGE_SHARE of the time
# left after the floor, its prices round to a proposal for ROUNDING_SHARE of the limit (and first come,
# first served for the rest, at most as long as the floor took), and the LP is the cell LP's (CELL_SHARE).
LP_FIRST_REQUESTS = 10_000
LAGRANGE_SHARE = 0.4
ROUNDING_SHARE = 0.12
CELL_SHARE = 0.92  # large programmes: the cell LP's rounds (``cell_rounding``, on the other core) until then
# A round started before CELL_SHARE that runs longer than the last one took (the one with the pruned floor's
# options, at 50,000 ties 14 s where the one before took 7) may go on until then: its placement takes 2 s.
CELL_GRACE = 0.94
# The steps end by this share of the limit at the latest: the pruned floor (3-5 s at 50,000) and the cell
# LP's round with its options (12-15 s) then end before CELL_GRACE, also where the floor took longer.
STEPS_END = 0.6
# The pruned and refilled proposals (``flow.best_pruned``, one per scale of the prices) get together at
# most this many times as long as the floor took (each refill is first come, first served for a few).
PRUNE_FLOORS = 2.0
# Below LP_FIRST_REQUESTS, the Lagrangian bound is minimised for this share of the limit: where the options
# tie (``flow.options_tie``) before the paths, for the prices at which the floor is pruned and refilled
# (5,000 ties: 4,424 placed from 4,079); elsewhere after column generation, if that did not converge.
SMALL_LAGRANGE_SHARE = 0.05
SWAP_SHARE = 0.05  # large programmes' swaps (``swap.py``) after the pruned floor; at the end, the time left
# A MIP over the listed options is tried only below this many (beyond it HiGHS finds nothing better than
# the rounding in the time a coordinator waits).
MIP_MAX_OPTIONS = 20_000
_EPS = 1e-9


class _Reporter:
    """Calls `progress` at each phase change and at most every half second within a phase."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.phase = ""
        self.last = 0.0

    def __call__(self, phase: str, placed: int, gap: float | None) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if phase != self.phase or now - self.last >= 0.5:
            self.phase, self.last = phase, now
            self.progress(phase, int(placed), None if gap is None else float(gap))


def _gap(bound: float, objective: float) -> float:
    return max(0.0, (bound - objective) / bound) if bound > 0 else 0.0


def _result(
    problem: Problem,
    m: Model,
    assign: list[int],
    bound: float,
    method: str,
    started: float,
    seats: Seats | None = None,
    greedy_placed: int | None = None,
    greedy_objective: float | None = None,
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
            chosen[rid] = m.options[j]
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
        greedy_objective=greedy_objective,
    )


def lp_bound(problem: Problem, *, time_limit: float | None = None) -> float | None:
    """The optimum of the LP relaxation over every feasible option (column generation to the end), or
    None when HiGHS does not finish within `time_limit` (bench/matching.py --full-lp)."""
    started = time.monotonic()
    m = build_model(problem)
    if not len(m.value):
        return 0.0
    master = Master(m, list(range(len(m.value))))
    while True:
        left = None if time_limit is None else time_limit - (time.monotonic() - started)
        if left is not None and left <= 0:
            return None
        lp = master.solve(1e9 if left is None else left)
        if lp is None or not lp.optimal:
            return None
        if not _price_in(problem, m, master, lp):
            return lp.value


def greedy(problem: Problem) -> Solution:
    """First come, first served over every feasible option (``baseline``). The bound reported is the
    certified bound without prices (everyone placed at their best option)."""
    started = time.monotonic()
    m = build_model(problem)
    seats, assign = first_come_first_served(problem, m)
    objective, placed = objective_of(m, assign)
    zero = np.zeros(len(m.capacity)), np.zeros(len(m.group_capacity))
    bound = certified_bound(problem, m, *zero)[0] if len(m.value) else 0.0
    return _result(problem, m, assign, bound, "greedy", started, seats, placed, objective)


def _price_in(problem: Problem, m: Model, master: Master, lp: LpResult) -> int:
    """Add the options worth more than their request's price at the LP's prices; how many were added
    (none: the LP over the listed options is the LP over every option)."""
    if problem.catalogue is None:
        cost = slot_costs(m, lp.slot_price, lp.group_price)
        paid = np.fromiter((sum(cost[s] for s in t) for t in m.option_slots), float, len(m.value))
        net = m.value - paid - lp.request_price[m.option_request] + lp.pair_gain[m.option_request]
        if len(lp.org_price):
            net += np.maximum(lp.org_price, 0.0)[m.request_org[m.option_request]]
        return master.add(np.flatnonzero(net > 1e-6).tolist())
    _bound, priced = certified_bound(
        problem, m, lp.slot_price, lp.group_price, lp.org_price, lp.request_price, EXTRA_COLUMNS, lp.pair_gain
    )
    assert priced is not None
    return _add_priced(m, master, lp, priced)


def _add_priced(m: Model, master: Master, lp: LpResult, priced: Priced) -> int:
    gain = priced.value - lp.request_price
    new = [o for i, o in enumerate(priced.options) if o is not None and gain[i] > 1e-6]
    new += [o for found in priced.more for o in found]
    return master.add(add_options(m, new))


def _rounded_from(held: LpResult | None, result: LpResult) -> LpResult | None:
    """The LP solution to round: the newest optimal one. A round cut short by the time limit leaves
    the dual simplex's x, which need not even be feasible, so it serves only while no round has finished."""
    if not result.primal or (held is not None and held.optimal and not result.optimal):
        return held
    return result


def _start_assignment(problem: Problem, m: Model, start: Mapping[int, Option] | None) -> list[int] | None:
    """The previous proposal on today's seats: its options that are still feasible (re-scored with
    today's preferences) and fit, pairs only together; the unplaced then as first come, first served."""
    if not start:
        return None
    catalogue = problem.catalogue
    kept: list[Option] = []
    for rid, option in start.items():
        r = m.row_of.get(rid)
        if r is None or option.request != rid or not all(s in m.slot_row for s in option.slots):
            continue
        if catalogue is not None:
            checked = catalogue.feasible(problem.requests[rid], option)
            if checked is None:
                continue
            option = checked
        elif (rid, option.slots) not in m.column_of:
            continue
        else:
            option = m.options[m.column_of[(rid, option.slots)]]
        kept.append(option)
    seats = Seats(m)
    assign = [-1] * len(m.request_ids)
    columns = add_options(m, kept)
    by_row = {int(m.option_request[j]): j for j in columns}
    for r, j in by_row.items():
        p = m.partner[r]
        if assign[r] >= 0 or not seats.fits(j):
            continue
        if p < 0:
            seats.take(j)
            assign[r] = j
        elif p in by_row and assign[p] < 0:
            seats.take(j)
            if seats.fits(by_row[p]):
                seats.take(by_row[p])
                assign[r], assign[p] = j, by_row[p]
            else:
                seats.give_back(j)
    fill_from_catalogue(problem, m, seats, assign, submission_order(problem, m))
    return assign


def _seats_of(m: Model, assign: list[int]) -> Seats:
    seats = Seats(m)
    for j in assign:
        if j >= 0:
            seats.take(j)
    return seats


def solve(
    problem: Problem,
    *,
    time_limit: float = 60.0,
    gap_limit: float = 0.005,
    progress: Progress | None = None,
    start: Mapping[int, Option] | None = None,
    started: float | None = None,
    lp_first_requests: int = LP_FIRST_REQUESTS,
) -> Solution:
    """Near-optimal match with a certified bound on the real problem and the gap (see the module
    docstring). `progress` is called with (phase, placed so far, gap or None) at each phase change and at
    most every half second within one; `start` is a previous proposal (request id -> option) to start from.
    `started` (``time.monotonic()``) is when the work began, so that the time spent building the problem
    counts within `time_limit` (default: now). Above `lp_first_requests` requests the Lagrangian bound
    is minimised directly instead of by column generation (see ``LP_FIRST_REQUESTS``)."""
    started = time.monotonic() if started is None else started
    deadline = started + time_limit
    report = _Reporter(progress)
    m = build_model(problem)
    if not len(m.value):
        report("done", 0, 0.0)
        return _result(problem, m, [], 0.0, "empty", started, greedy_placed=0, greedy_objective=0.0)

    no_price = np.zeros(len(m.capacity)), np.zeros(len(m.group_capacity))
    lagrangian = Lagrangian(problem, m) if problem.catalogue is not None else None
    # Large programmes: the LP does not finish a round in time, so the Lagrangian bound is minimised
    # directly (and its prices round to a proposal); small ones: column generation first, it converges.
    large = lagrangian is not None and len(m.request_ids) > lp_first_requests
    cell: CellRounding | None = None
    if large:
        assert lagrangian is not None
        unpriced = lagrangian.at(*no_price)
        # the cell LP's first round, from the best options without prices, on the other core while first
        # come, first served runs on this one (its options join the next round)
        rounds_until = started + CELL_SHARE * time_limit
        cell = CellRounding(lagrangian, rounds_until, at=unpriced, grace=started + CELL_GRACE * time_limit)

    # 1. The floor: first come, first served over every option, and the previous proposal.
    floor_began = time.monotonic()
    _fcfs_seats, fcfs_assign = first_come_first_served(problem, m)
    floor_seconds = time.monotonic() - floor_began
    fcfs_objective, fcfs_placed = objective_of(m, fcfs_assign)
    best, best_objective, method = list(fcfs_assign), fcfs_objective, "first-come-first-served"
    began = _start_assignment(problem, m, start)
    if began is not None and objective_of(m, began)[0] > best_objective + _EPS:
        best, best_objective, method = began, objective_of(m, began)[0], "previous-proposal"
    priced: Priced | None = None
    unpriced_value: np.ndarray | None = None
    if large:
        assert cell is not None
        cell.offer(best)
        bound, unpriced_value = unpriced.bound, unpriced.value
    else:
        # Without prices: each request's best option and a few more at other workplaces (a spread first LP).
        bound, priced = certified_bound(
            problem, m, *no_price, request_price=np.zeros(len(m.request_ids)), extra=EXTRA_COLUMNS
        )
        unpriced_value = None if priced is None else priced.value.copy()
    if unpriced_value is not None:  # (without a catalogue the LP's own bound is exact soon enough)
        bound = min(bound, uniform_price_bound(m, unpriced_value))

    def placed_best() -> int:
        return sum(1 for j in best if j >= 0)

    report("bound", placed_best(), _gap(bound, best_objective))
    prices: tuple[np.ndarray, np.ndarray] | None = None
    flow_seconds = 0.0  # how long the maximum flow for the one-day requests took (``flow``)
    if large:
        assert lagrangian is not None
        now = time.monotonic()
        # (then the bound at their cells' average; on a slow machine no later than STEPS_END)
        share_end = min(now + LAGRANGE_SHARE * (deadline - now), started + STEPS_END * time_limit)
        assert cell is not None
        cell.hold_until(share_end)

        def steered(lowest: Best) -> None:
            cell.steer(lowest)
            cell.poll()

        low, (_, y, z, evaluation), resume = bundle.lowest(lagrangian, best_objective, share_end, steered)
        bound, prices = min(bound, low), (y, z)
        report("bound", placed_best(), _gap(bound, best_objective))
        # The one-day requests of the best proposal placed anew by a maximum flow (never fewer); then
        # the same without the multi-day requests whose seats cost more at these prices than they are
        # worth, the one-day requests by the flow on them and the rest first come, first served after
        # (as long as the floor took, leaving 30 % of the limit for what follows).
        refill = PRUNE_FLOORS * max(floor_seconds, 0.05 * time_limit), deadline - 0.3 * time_limit
        best, best_objective, method, flow_seconds = flowed_and_pruned(
            problem, lagrangian, best, best_objective, method, prices, *refill
        )
        swap_end = min(time.monotonic() + SWAP_SHARE * time_limit, deadline - 0.15 * time_limit)
        best, best_objective, method = swapped(
            lagrangian, best, best_objective, method, (y, z), swap_end, flow_seconds
        )
        cell.offer(best)
        report("bound", placed_best(), _gap(bound, best_objective))
        # A proposal from these prices, for every request at once (seconds where the LP takes minutes),
        # its one-day requests by the flow.
        rounds_end = min(time.monotonic() + ROUNDING_SHARE * time_limit, deadline - 0.3 * time_limit)
        if time.monotonic() < rounds_end:
            fill_end = rounds_end + max(floor_seconds, 0.05 * time_limit)
            _seats, rounded = price_rounding(problem, lagrangian, y, z, rounds_end, fill_end, cell.poll)
            rounded = reoptimise_one_day(lagrangian, rounded)
            if objective_of(m, rounded)[0] > best_objective + _EPS:
                best, best_objective, method = rounded, objective_of(m, rounded)[0], "price-rounding+flow"
        report("bound", placed_best(), _gap(bound, best_objective))
    # Below LP_FIRST_REQUESTS: a short minimisation of the Lagrangian bound, and the floor with the flow
    # of 7 without the multi-day requests its prices price out, refilled (``flow.best_pruned``): where
    # every option ties, the LP's rounding varies with how far the LP got, this does not.
    tied = options_tie(unpriced_value)
    if lagrangian is not None and not large and tied:
        now = time.monotonic()
        found, y, z, _evaluation = lagrangian.minimise(
            best_objective, now + SMALL_LAGRANGE_SHARE * time_limit
        )
        bound = min(bound, found)
        refill_seconds = PRUNE_FLOORS * max(floor_seconds, 0.02 * time_limit)
        best, best_objective, method, _seconds = flowed_and_pruned(
            problem, lagrangian, best, best_objective, method, (y, z), refill_seconds
        )
        report("bound", placed_best(), _gap(bound, best_objective))
    # Augmenting paths from the best proposal over every option: more people placed, and the bound of
    # the slots that block the rest (where all options tie, far below the LP's first rounds).
    if unpriced_value is not None and not large:
        floor = list(best)
        until = started + PATHS_SHARE * time_limit
        _added, blocked = augment(problem, m, _seats_of(m, floor), floor, unpriced_value, until)
        bound = min(bound, blocked)
        if objective_of(m, floor)[0] > best_objective + _EPS:
            best, best_objective, method = floor, objective_of(m, floor)[0], method + "+paths"
        report("bound", placed_best(), _gap(bound, best_objective))

    # 2. The bound: column generation over every feasible option, within LP_SHARE of the time.
    first = [j for j in best if j >= 0] + [j for j in fcfs_assign if j >= 0]
    if not large:
        first += [j for opts in m.request_options for j in opts[:FIRST_COLUMNS]]
    if priced is not None:  # each request's best option without prices
        first += add_options(m, [o for o in priced.options if o is not None])
        first += add_options(m, [o for found in priced.more for o in found])
    # (a large programme whose earlier steps took the LP's time goes on to the repair at once)
    # (a large programme's LP is the cell LP's: the listed options' LP takes 20-28 s a round at 50,000)
    master = None if large else Master(m, first)
    lp: LpResult | None = None
    converged = False

    def generate(until: float, phase: str) -> None:
        """Rounds of column generation until `until`; each lowers the bound, the last solution is `lp`."""
        nonlocal bound, lp, converged, priced
        assert master is not None  # (only a large programme goes without)
        while not converged and time.monotonic() < until:
            result = master.solve(until - time.monotonic())
            if result is None:
                return
            lp = _rounded_from(lp, result)
            if problem.catalogue is None:
                found, _ = certified_bound(
                    problem,
                    m,
                    result.slot_price,
                    result.group_price,
                    result.org_price,
                    pair_gain=result.pair_gain,
                )
                bound = min(bound, found)
                report(phase, placed_best(), _gap(bound, best_objective))
                if not result.optimal:
                    return
                converged = not _price_in(problem, m, master, result)
                continue
            found, priced = certified_bound(
                problem,
                m,
                result.slot_price,
                result.group_price,
                result.org_price,
                result.request_price,
                EXTRA_COLUMNS,
                result.pair_gain,
            )
            bound = min(bound, found)
            report(phase, placed_best(), _gap(bound, best_objective))
            if not result.optimal:
                return
            assert priced is not None
            converged = (
                _gap(bound, result.value) <= 1e-9
                or _gap(bound, best_objective) <= 1e-9
                or not _add_priced(m, master, result, priced)
            )

    if cell is not None:
        # (its last round's solution; first come, first served for the rest until shortly before the end)
        bound = min(bound, cell.finish())
        placed = cell.place(problem, deadline - 0.03 * time_limit)
        if placed is not None and objective_of(m, placed)[0] > best_objective + _EPS:
            best, best_objective, method = placed, objective_of(m, placed)[0], "cell-lp-rounding+flow"
    else:
        generate(started + LP_SHARE * time_limit, "bound")
        if lagrangian is not None and not converged and not tied:  # (a bound where the LP is short of it)
            until = time.monotonic() + SMALL_LAGRANGE_SHARE * time_limit
            bound = min(bound, lagrangian.minimise(best_objective, until)[0])
    bound = max(bound, best_objective)

    # 3. Rounding in the order of the LP values; then the listed options, then every option.
    report("rounding", placed_best(), _gap(bound, best_objective))
    if lp is not None:
        n = len(m.value)
        x = np.zeros(n)
        x[lp.columns] = lp.x
        order = np.lexsort((-m.value, -np.round(x, 6)))
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        partner_order = [sorted(o, key=lambda j: rank[j]) for o in m.request_options]
        seats, assign = Seats(m), [-1] * len(m.request_ids)
        take_in_order(m, seats, assign, order[x[order] > 1e-6].tolist(), partner_order)
        fill(m, seats, assign)
        # (until shortly before the deadline: a search per unplaced request, seconds on a busy machine)
        fill_from_catalogue(
            problem, m, seats, assign, submission_order(problem, m), deadline - 0.05 * time_limit
        )
        current = "lp-rounding"
    else:  # no LP in time: improve the best proposal so far
        assign = list(best)
        seats = _seats_of(m, assign)
        current = method
    # The one-day requests placed anew by a maximum flow on the seats the others leave (never fewer;
    # on a large programme the best proposal has had it already).
    if (
        lagrangian is not None
        and (lp is not None or not large)
        and deadline - time.monotonic() > 0.1 * time_limit
    ):
        flow_began = time.monotonic()
        moved = reoptimise_one_day(lagrangian, assign)
        flow_seconds = time.monotonic() - flow_began
        if objective_of(m, moved)[0] > objective_of(m, assign)[0] + _EPS:
            assign, current = moved, current + "+flow"
            seats = _seats_of(m, assign)
    if objective_of(m, assign)[0] > best_objective + _EPS:
        best, best_objective, method = list(assign), objective_of(m, assign)[0], current
    elif large:  # the prices' proposal is better than the LP's rounding: improve that one
        assign, current = list(best), method
        seats = _seats_of(m, assign)

    # 4. Improving: augmenting paths over every option (and the bound of the slots that block them),
    # then repair over the listed options in slices (progress between them), then a MIP if small.
    report("improving", placed_best(), _gap(bound, best_objective))
    end = deadline - 0.02 * time_limit
    # (on a large programme one step of the path search prices every option one request at a time,
    # seconds each: the time goes to the LP instead)
    if unpriced_value is not None and not large:
        _added, blocked = augment(problem, m, seats, assign, unpriced_value, end)
        bound = max(min(bound, blocked), best_objective)
        if objective_of(m, assign)[0] > best_objective + _EPS:
            best, best_objective, method = list(assign), objective_of(m, assign)[0], current + "+paths"
            current += "+paths"
        report("improving", placed_best(), _gap(bound, best_objective))
    stalled = 0
    while time.monotonic() < end and stalled < 2:
        before = objective_of(m, assign)[0]
        slice_end = min(end, time.monotonic() + 1.0)
        improve(m, seats, assign, slice_end)
        after = objective_of(m, assign)[0]
        if after > best_objective + _EPS:
            best, best_objective, method = list(assign), after, current + "+repair"
        report("improving", placed_best(), _gap(bound, best_objective))
        if after <= before + _EPS and time.monotonic() < slice_end:
            break  # nothing more to gain: the moves ran out before the slice did
        stalled = stalled + 1 if after <= before + _EPS else 0
    # Time left (the repair ran out of moves early): more rounds of column generation, for the bound,
    # or on a large programme more of the bundle method on the Lagrangian bound from its best prices.
    if not converged and not large and deadline - time.monotonic() > 0.05 * time_limit:
        generate(end, "improving")
    time_left = deadline - time.monotonic() > 0.05 * time_limit
    if large and lagrangian is not None and prices is not None and time_left:
        found = resume(best_objective, end - 0.05 * time_limit)
        bound = max(min(bound, found), best_objective)
        report("improving", placed_best(), _gap(bound, best_objective))
    remaining = deadline - time.monotonic()
    if lp is not None and master is not None and _gap(bound, best_objective) > gap_limit and remaining > 0.5:
        if len(master.columns) <= MIP_MAX_OPTIONS:
            until = time.monotonic() + remaining / 2
            mip = mip_with_swaps(problem, m, master.columns, best, gap_limit, until, MIP_MAX_OPTIONS)
            if mip is not None and objective_of(m, mip)[0] > best_objective + _EPS:
                best, best_objective, method = mip, objective_of(m, mip)[0], "mip"
    # Once more on the repaired proposal (its moves may have left seats the one-day requests can use),
    # when three times the first re-placement's time is left.
    if lagrangian is not None and deadline - time.monotonic() > 3 * flow_seconds + 0.03 * time_limit:
        moved = reoptimise_one_day(lagrangian, best)
        if objective_of(m, moved)[0] > best_objective + _EPS:
            best, best_objective, method = moved, objective_of(m, moved)[0], method + "+flow"
    if large and lagrangian is not None and prices is not None:
        best, best_objective, method = swapped(
            lagrangian, best, best_objective, method, prices, end, flow_seconds
        )
    solution = _result(problem, m, best, bound, method, started, None, fcfs_placed, fcfs_objective)
    report("done", solution.placed, solution.gap)
    return solution
