"""The aggregated LP: seats summed per (workplace class, day), requests alike summed into one variable,
solved by column generation priced with the Lagrangian's evaluation (``lagrange``); its duals, as seat
prices, give a certified bound (``bound.py``). At 5,000 requests it converges in seconds; at 50,000 its
rounds take seconds each and its restricted duals stay far from optimal within the time, so the solver
does not call it (measured in ``docs/matching.md``).

Rows: per (class, day), where a class is the Lagrangian's (rows of one organisation, allowed for the same
keys), ``seats used <= the seats of the class that day`` (per workplace and day its free seats, or its
day cap where that is lower); per group of requests alike (same key, shape and preferences, no partner)
``options taken <= requests in the group``; per reciprocal pair ``x(a) = x(b)``. A column is a request
group's option projected on the (class, day) rows, worth the real option's value. Any placement over
every feasible option maps onto this LP with the same value (summing rows only relaxes), so its optimum
is at least the LP optimum over every option; the bound does not rely on that either: the duals become
prices (every seat of class ``c`` on day ``d`` priced ``y[c, d]``, on the day cap where one binds) and
the bound is ``Lagrangian.at`` of those prices, valid for any non-negative prices.

``Cells`` holds the cells alone (each slot's, their seats, prices either way); ``on_cells`` evaluates the
bound at a result's prices averaged per cell, which is what the solver uses on large programmes (the LP
itself did not pay there within the time: ``docs/matching.md``).

The pricing is exact for the aggregated LP: at prices constant on each (class, day), a request's best
option over every feasible one (the evaluation's) is its best projected column, so when no request's
best option is worth more than its group's dual, the LP's value plus the fairness term is the bound.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import highspy
import numpy as np

from shadowing.matching.lagrange import Evaluation, Lagrangian
from shadowing.matching.pricing import INFINITE

_log = logging.getLogger(__name__)

# A column joins when its request's best option is worth more than its group's dual by this much.
REDUCED_COST = 1e-6
# Each round also prices at this mix of the best prices so far and the LP's duals (smoothing).
SMOOTHING = 0.5


@dataclass
class AggregateResult:
    bound: float  # the lowest certified bound found (``Lagrangian.at`` of the duals' prices)
    slot_price: np.ndarray  # the prices that gave it
    group_price: np.ndarray
    evaluation: Evaluation | None  # the evaluation at them (None: no round finished)
    rounds: int
    converged: bool  # no column left worth more than its group's dual: the bound is the LP's optimum
    lp_value: float  # the last LP's objective plus the fairness term


class Cells:
    """The (class, day) cells of `lagrangian`'s seats: each slot's cell, each cell's seats, and seat
    prices from cell prices and back."""

    def __init__(self, lagrangian: Lagrangian) -> None:
        self.lagrangian = lagrangian
        catalogue = lagrangian.catalogue
        n_slots = len(lagrangian.capacity)
        # each slot row's workplace row, class and (class, day) row
        n_rows = lagrangian.n_rows
        row_class = np.full(n_rows + 1, -1, dtype=np.int64)
        for c, rows in enumerate(lagrangian.class_rows):
            row_class[rows] = c
        slot_workplace = np.full(n_slots, n_rows, dtype=np.int64)
        for slot, (w, _t) in catalogue.plain.place.items():
            slot_workplace[slot] = w
        n_days = int(lagrangian.slot_day.max()) + 1 if n_slots else 1
        cell = row_class[slot_workplace] * n_days + lagrangian.slot_day
        cell = np.where(row_class[slot_workplace] >= 0, cell, -1)
        cells, self.slot_cell = np.unique(cell, return_inverse=True)
        self.slot_cell = self.slot_cell.reshape(-1)
        n_cells = len(cells)
        self.n_cells = n_cells
        grouped = lagrangian.slot_group >= 0
        self.grouped = grouped
        seats = np.bincount(
            self.slot_cell[~grouped], weights=lagrangian.capacity[~grouped], minlength=n_cells
        ).astype(np.float64)  # (an empty count is of integers)
        # a day cap's room counts once for its (class, day): all its slots are one workplace's, one day's
        group_cell = np.full(len(lagrangian.group_capacity), -1, dtype=np.int64)
        group_cell[lagrangian.slot_group[grouped]] = self.slot_cell[grouped]
        self.group_cell = group_cell
        has = group_cell >= 0
        seats += np.bincount(group_cell[has], weights=lagrangian.group_capacity[has], minlength=n_cells)
        self.seats = seats

    def prices(self, cell_price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Seat prices from per-(class, day) prices: on the day cap where a workplace's day has one (its
        slots free), else on every slot; every seat of the cell costs the cell's price."""
        cell_price = np.maximum(cell_price, 0.0)
        slot_price = np.where(self.grouped, 0.0, cell_price[self.slot_cell])
        group_price = np.where(self.group_cell >= 0, cell_price[np.maximum(self.group_cell, 0)], 0.0)
        return slot_price, group_price

    def cell_prices(self, slot_cost: np.ndarray) -> np.ndarray:
        """Per (class, day) the seat-weighted mean of its slots' prices."""
        lg = self.lagrangian
        weight = np.bincount(self.slot_cell, weights=lg.capacity, minlength=self.n_cells)
        total = np.bincount(
            self.slot_cell, weights=lg.capacity * np.minimum(slot_cost, 1e6), minlength=self.n_cells
        )
        return np.where(weight > 0, total / np.maximum(weight, 1e-9), 0.0)


class AggregatedLP(Cells):
    """The aggregated LP of `lagrangian`'s problem in one HiGHS instance (warm-started re-solves)."""

    def __init__(self, lagrangian: Lagrangian, coarse: bool = False) -> None:
        super().__init__(lagrangian)
        m = lagrangian.m
        n_cells = self.n_cells
        seats = self.seats
        # groups of requests alike: same (key, shape) and preferences, no partner
        n_req = len(lagrangian.request_pair)
        preferences: list[list[tuple[int, int, float]]] = [[] for _ in range(n_req)]
        for i, w, s in zip(
            lagrangian.wp_req.tolist(), lagrangian.wp_row.tolist(), lagrangian.wp_score.tolist(), strict=True
        ):
            preferences[i].append((0, w, s))
        for i, o, s in zip(
            lagrangian.org_req.tolist(),
            lagrangian.org_col.tolist(),
            lagrangian.org_score.tolist(),
            strict=True,
        ):
            preferences[i].append((1, o, s))
        signature: dict[tuple[object, ...], int] = {}
        self.request_group = np.zeros(n_req, dtype=np.int64)
        pair_requests: list[int] = []
        for i in range(n_req):
            if lagrangian.partner[i] >= 0:
                key: tuple[object, ...] = ("pair", i)
                pair_requests.append(i)
            else:
                key = (int(lagrangian.request_pair[i]), () if coarse else tuple(sorted(preferences[i])))
            self.request_group[i] = signature.setdefault(key, len(signature))
        n_groups = len(signature)
        self.n_groups = n_groups
        self.group_count = np.bincount(self.request_group, minlength=n_groups).astype(np.float64)
        # rows: cells, groups, pairs
        self.group0 = n_cells
        self.pair0 = n_cells + n_groups
        self.pair_row = np.full(n_req, -1, dtype=np.int64)
        self.pair_sign = np.zeros(n_req)
        pairs = 0
        for i in pair_requests:
            p = int(lagrangian.partner[i])
            if i < p:
                self.pair_row[i] = self.pair_row[p] = self.pair0 + pairs
                self.pair_sign[i], self.pair_sign[p] = 1.0, -1.0
                pairs += 1
        inf = highspy.kHighsInf
        self.highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self.highs.setOptionValue("output_flag", False)
        lower = np.concatenate([np.full(n_cells + n_groups, -inf), np.zeros(pairs)])
        upper = np.concatenate([seats, self.group_count, np.zeros(pairs)])
        self.highs.addRows(
            len(lower), lower, upper, 0, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0)
        )
        self.highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.listed: dict[tuple[int, ...], float] = {}
        self.n_columns = 0
        self.fairness = m.fairness_coefficient
        self._value: list[float] = []

    def add(self, evaluation: Evaluation, requests: np.ndarray) -> int:
        """Columns for the best options of `requests` (catalogue order) at `evaluation`, those not listed
        yet (per group and cells): how many were added."""
        lg = self.lagrangian
        cost = evaluation.slot_cost
        starts: list[int] = []
        index: list[int] = []
        values: list[float] = []
        for g, group in enumerate(lg.groups):
            mine = requests[lg.request_group[requests] == g]
            if not len(mine):
                continue
            w, t = evaluation.workplace[mine], evaluation.start[mine]
            slots = np.stack([group.table.day_slot[w, t + d] for d in range(group.days)], axis=1)
            gross = evaluation.value[mine] + cost[slots].sum(axis=1)
            cells = self.slot_cell[slots]
            for i, row, v in zip(mine.tolist(), cells.tolist(), gross.tolist(), strict=True):
                if not self._new(i, row, v):
                    continue
                starts.append(len(index))
                index.extend(row)
                values.extend([1.0] * len(row))
                index.append(self.group0 + int(self.request_group[i]))
                values.append(1.0)
                if self.pair_row[i] >= 0:
                    index.append(int(self.pair_row[i]))
                    values.append(float(self.pair_sign[i]))
                self._value.append(v)
        return self._add_columns(starts, index, values)

    def add_assignment(self, assign: list[int]) -> int:
        """Columns for the options of a proposal (model columns per model request row, -1: none)."""
        lg = self.lagrangian
        m = lg.m
        index_of_row = np.full(len(m.request_ids), -1, dtype=np.int64)
        known = lg.model_row >= 0
        index_of_row[lg.model_row[known]] = np.flatnonzero(known)
        starts: list[int] = []
        index: list[int] = []
        values: list[float] = []
        for r, j in enumerate(assign):
            i = int(index_of_row[r])
            if j < 0 or i < 0:
                continue
            row = [int(self.slot_cell[s]) for s in m.option_slots[j]]
            v = float(m.value[j])
            if not self._new(i, row, v):
                continue
            starts.append(len(index))
            index.extend(row)
            values.extend([1.0] * len(row))
            index.append(self.group0 + int(self.request_group[i]))
            values.append(1.0)
            if self.pair_row[i] >= 0:
                index.append(int(self.pair_row[i]))
                values.append(float(self.pair_sign[i]))
            self._value.append(v)
        return self._add_columns(starts, index, values)

    def _new(self, i: int, row: list[int], v: float) -> bool:
        """Whether request `i`'s option on the cells `row` worth `v` is a new column: none of its group
        (or, in a pair, of itself) on those cells is listed at that value or more."""
        key = (int(self.request_group[i]), *sorted(row))
        if self.pair_row[i] >= 0:
            key = (*key, i)
        listed = self.listed.get(key)
        if listed is not None and listed >= v - 1e-9:
            return False
        self.listed[key] = v
        return True

    def _add_columns(self, starts: list[int], index: list[int], values: list[float]) -> int:
        n = len(starts)
        if n:
            self.highs.addCols(
                n,
                np.asarray(self._value[-n:], dtype=np.float64),
                np.zeros(n),
                np.full(n, highspy.kHighsInf),
                len(index),
                np.asarray(starts, dtype=np.int32),
                np.asarray(index, dtype=np.int32),
                np.asarray(values, dtype=np.float64),
            )
            self.n_columns += n
        return n

    def solve(self, seconds: float) -> tuple[bool, float, np.ndarray, np.ndarray] | None:
        """Re-solve within `seconds`: (optimal, value, the cells' prices, the groups' prices), None when
        HiGHS has no duals."""
        highs = self.highs
        highs.setOptionValue("time_limit", highs.getRunTime() + max(0.05, float(seconds)))
        highs.run()
        solution = highs.getSolution()
        if not solution.dual_valid:
            return None
        dual = np.asarray(solution.row_dual)
        optimal = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
        value = float(highs.getInfo().objective_function_value) + self.fairness
        return (
            optimal,
            value,
            np.maximum(dual[: self.n_cells], 0.0),
            np.maximum(dual[self.group0 : self.pair0], 0.0),
        )

    def run(
        self,
        until: float,
        starts: list[Evaluation],
        centre: np.ndarray | None = None,
        best: float = INFINITE,
        box: float = 0.0,
    ) -> AggregateResult:
        """Column generation from the best options at the `starts` evaluations until `until`; each round
        prices at the LP's duals and at their mean with the best cell prices so far (`centre` first: the
        first LPs' duals swing far from the optimum); the lowest certified bound on the way."""
        lg = self.lagrangian
        everyone = np.arange(len(lg.request_pair))
        for evaluation in starts:
            finite = np.flatnonzero(np.isfinite(evaluation.value) & (evaluation.workplace >= 0))
            self.add(evaluation, finite)
        result = AggregateResult(best, np.zeros(0), np.zeros(0), None, 0, False, INFINITE)
        rounds = 0
        boxed = box > 0 and centre is not None
        if boxed:
            assert centre is not None
            first = self.n_columns
            n = self.n_cells
            cells = np.arange(n, dtype=np.int32)
            self._value.extend([0.0] * (2 * n))
            self._add_columns(list(range(n)), cells.tolist(), [-1.0] * n)  # buy a seat at the box's top
            self._add_columns(list(range(n)), cells.tolist(), [1.0] * n)  # sell one at its bottom
            box_columns = np.arange(first, first + 2 * n, dtype=np.int32)
            width = np.full(n, box)
        while time.monotonic() < until:
            if boxed:
                assert centre is not None
                top, bottom = centre + width, np.maximum(centre - width, 0.0)
                self.highs.changeColsCost(len(box_columns), box_columns, np.concatenate([-top, bottom]))
            solved = self.solve(until - time.monotonic())
            if solved is None:
                break
            optimal, value, cell_price, group_dual = solved
            rounds += 1
            added = 0
            candidates = [cell_price]
            if centre is not None and not boxed:
                candidates.append(SMOOTHING * centre + (1 - SMOOTHING) * cell_price)
            before = result.bound
            for k, prices in enumerate(candidates):
                slot_price, group_price = self.prices(prices)
                evaluation = lg.at(slot_price, group_price)
                _log.debug(
                    "aggregated LP round %d (%d): %d columns, value %.1f, bound %.1f",
                    rounds,
                    k,
                    self.n_columns,
                    value,
                    evaluation.bound,
                )
                if evaluation.bound < result.bound:
                    result = AggregateResult(
                        evaluation.bound, slot_price, group_price, evaluation, rounds, False, value
                    )
                    centre = prices
                if optimal:
                    gain = evaluation.value - group_dual[self.request_group]
                    pair = self.pair_row >= 0
                    gain[pair] = np.where(np.isfinite(evaluation.value[pair]), 1.0, -INFINITE)
                    new = everyone[np.isfinite(gain) & (gain > REDUCED_COST) & (evaluation.workplace >= 0)]
                    added += self.add(evaluation, new)
            result.rounds, result.lp_value = rounds, value
            if boxed and result.bound >= before:
                width = width * (0.5 if not added else 0.8)
            if not optimal:
                break
            if not added and not boxed:
                result.converged = result.bound <= value + 1e-6 * abs(value)
                break
        return result


def on_cells(
    cells: Cells, found: tuple[float, np.ndarray, np.ndarray, Evaluation]
) -> tuple[float, np.ndarray, np.ndarray, Evaluation]:
    """The Lagrangian's result `found` (bound, slot and day-cap prices, evaluation) or, when it gives a
    lower bound, the same prices averaged over each (class, day) (weighted by seats): every seat of a
    cell at one price. A price on one seat sends its takers to the next equal one, so the subgradient's
    prices differ seat by seat where the classes' seats are alike; their mean prices the cell as a
    whole (at 50,000 tight, 22.3 million instead of 23.9 after 24 s of steps)."""
    slot_price, group_price = cells.prices(cells.cell_prices(found[3].slot_cost))
    evaluation = cells.lagrangian.at(slot_price, group_price)
    if evaluation.bound < found[0]:
        return evaluation.bound, slot_price, group_price, evaluation
    return found
