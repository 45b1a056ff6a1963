"""The best bound one price per (workplace class, day) can give: the cell LP, by column generation.

With every seat of a cell (``aggregate.Cells``) at one price, the lowest ``L`` over such prices is the
optimum of an LP in which each cell's seat rows are summed (a relaxation of the LP over every option):

- per cell, the seats its columns use <= the cell's seats (per workplace and day its free seats, or its
  day cap where that is lower);
- per group of requests alike (the Lagrangian's key and shape, the same preferences, no partner), the
  options taken <= the requests in the group; a request of a reciprocal pair is a group of its own, and
  per pair ``x(a) = x(b)``;
- a column is one real option of a group, projected on the cells, worth the option's value; the
  fairness term counts at its highest (as in ``L`` without prices on the fairness rows).

The pricing is exact for this LP: at prices constant per cell, a request's best option over every
feasible option (``Lagrangian.evaluate``) is its best column. When no request's best option is worth
more than its group's dual, the LP over the listed columns is the LP over every column, and ``L`` at its
cell duals equals its value. The bound reported is ``Lagrangian.at`` of the duals as seat prices, so it is
certified whatever the LP did.

Over (class, day) cells it measures how far a cell-price bound can go (``bench/matching_cell_lp.py``): at
50,000 requests it needs minutes to converge. Over (workplace, day) cells (``aggregate.WorkplaceCells``)
every column is one workplace's days, so its solution turns into real options; the solver runs its rounds
on a second thread (``cell_rounding``; HiGHS releases the GIL while it solves) and places the requests
from the last round's solution (``docs/matching.md``). There (``by_class``) the one-day requests without a
partner that name no workplace take columns of one (class, day), with a row per (class, day) that every
column's seats count in: the same optimum, far fewer and less degenerate columns (at 50,000 ties the rounds
from the same start are worth 0.19-0.41 million more). The bound is ``L`` at each seat's cell dual plus its
(class, day)'s.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import highspy
import numpy as np

from shadowing.matching.aggregate import Cells
from shadowing.matching.lagrange import Evaluation
from shadowing.matching.pricing import INFINITE

_log = logging.getLogger(__name__)

# A column joins when its request's best option is worth more than its group's dual by this much.
REDUCED_COST = 1e-6
# Each round also prices at this mix of the best cell prices so far and the LP's duals (smoothing).
SMOOTHING = 0.5
# Over workplace cells, (class, day) columns where at least this share of the one-day requests without a
# partner name no workplace (``CellLP``): the named workplaces' one-day columns count in their rows too and
# slow each round (2.3 times at 50,000 normal); at 50,000 with 60 % and 75 % of the requests naming none the
# round that counts then ended too late (2.83 % and 1.93 % against 2.78 % and 1.54 % without), at 90 % the
# rows gave 1.46 % (``docs/matching.md``)
CLASS_SHARE = 0.9


@dataclass
class CellResult:
    bound: float  # the lowest certified bound seen (``Lagrangian.at`` of cell prices, or of the steps')
    cell_price: np.ndarray  # the cell prices that gave it
    evaluation: Evaluation | None  # the evaluation at them (None: no round finished)
    rounds: int
    converged: bool  # no column left worth more than its group's dual: lp_value is the cell LP's optimum
    lp_value: float  # the last finished LP's objective plus the fairness term (a lower bound on the optimum)
    centre: np.ndarray | None = None  # the smoothing's centre: the best cell prices so far (None: none)


class CellLP:
    """The cell LP of `cells`' problem in one HiGHS instance (warm-started re-solves)."""

    def __init__(self, cells: Cells, solver: str = "simplex", by_class: bool = False) -> None:
        self.cells = cells
        lg = cells.lagrangian
        n_req = len(lg.request_pair)
        preferences: list[list[tuple[int, int, float]]] = [[] for _ in range(n_req)]
        for i, w, s in zip(lg.wp_req.tolist(), lg.wp_row.tolist(), lg.wp_score.tolist(), strict=True):
            preferences[i].append((0, w, s))
        for i, o, s in zip(lg.org_req.tolist(), lg.org_col.tolist(), lg.org_score.tolist(), strict=True):
            preferences[i].append((1, o, s))
        signature: dict[tuple[object, ...], int] = {}
        self.request_group = np.zeros(n_req, dtype=np.int64)
        for i in range(n_req):
            alike: tuple[object, ...] = (
                ("pair", i)
                if lg.partner[i] >= 0
                else (int(lg.request_pair[i]), tuple(sorted(preferences[i])))
            )
            self.request_group[i] = signature.setdefault(alike, len(signature))
        self.n_groups = n_groups = len(signature)
        n_cells = cells.n_cells
        self.group0, self.pair0 = n_cells, n_cells + n_groups
        self.pair_row = np.full(n_req, -1, dtype=np.int64)
        self.pair_sign = np.zeros(n_req)
        pairs = 0
        for i in np.flatnonzero(lg.partner > np.arange(n_req)).tolist():
            p = int(lg.partner[i])
            self.pair_row[i] = self.pair_row[p] = self.pair0 + pairs
            self.pair_sign[i], self.pair_sign[p] = 1.0, -1.0
            pairs += 1
        inf = highspy.kHighsInf
        self.highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self.highs.setOptionValue("output_flag", False)
        # "ipm": each round from scratch by the interior point method and crossover (a vertex, few
        # fractions); at 50,000 requests 4-5 times faster than the dual simplex on the first round
        self.highs.setOptionValue("solver", solver)
        self.interior = solver == "ipm"
        count = np.bincount(self.request_group, minlength=n_groups).astype(np.float64)
        lower = np.concatenate([np.full(n_cells + n_groups, -inf), np.zeros(pairs)])
        upper = np.concatenate([cells.seats, count, np.zeros(pairs)])
        empty = np.zeros(0, dtype=np.int32)
        self.highs.addRows(len(lower), lower, upper, 0, empty, empty, np.zeros(0))
        self.highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        # (class, day) rows (``by_class``, over workplace cells, where nearly all one-day requests without a
        # partner name no workplace): every column uses its cells' and their (class, day)s' seats, but
        # such a request takes a column of one (class, day) alone: any free seat of the class that day
        # will do (its value is the same at each of its workplaces), so the LP need not choose the
        # workplace (one column places many, the LP is far less degenerate) and its value is still the
        # workplace cells' LP's
        self.class0 = self.pair0 + pairs
        self.class_price = np.zeros(n_cells)  # per cell its (class, day)'s dual in the last round
        alone = (lg.request_days == 1) & (lg.partner < 0)
        unnamed = alone.copy()
        unnamed[lg.wp_req] = False
        self.by_class = by_class and unnamed.sum() >= CLASS_SHARE * max(int(alone.sum()), 1)
        self.class_request = unnamed if self.by_class else np.zeros(n_req, dtype=bool)
        self.class_day = np.zeros(n_cells, dtype=np.int64)  # per cell its (class, day) (``by_class``)
        if self.by_class:
            self.class_day = cells.class_day  # type: ignore[attr-defined]
            n_class_days = int(cells.n_class_days)  # type: ignore[attr-defined]
            room = np.bincount(self.class_day, weights=cells.seats, minlength=n_class_days).astype(np.float64)
            self.highs.addRows(n_class_days, np.full(n_class_days, -inf), room, 0, empty, empty, np.zeros(0))
        self.listed: dict[tuple[int, ...], float] = {}
        self.keys: list[tuple[int, ...]] = []  # per column: (group, its cells in order)
        self.n_columns = 0
        self._thread: threading.Thread | None = None
        self.seconds = 0.0  # how long the last round took (wall time)
        self.fairness = float(lg.m.fairness_coefficient)

    def add(self, evaluation: Evaluation, requests: np.ndarray) -> int:
        """Columns for the best options of `requests` (catalogue order) at `evaluation` not listed yet
        (per group and cells, at that value or more): how many were added."""
        lg = self.cells.lagrangian
        cost = evaluation.slot_cost
        columns: list[tuple[int, list[int], float]] = []
        for g, group in enumerate(lg.groups):
            mine = requests[lg.request_group[requests] == g]
            if not len(mine):
                continue
            w, t = evaluation.workplace[mine], evaluation.start[mine]
            slots = np.stack([group.table.day_slot[w, t + d] for d in range(group.days)], axis=1)
            gross = evaluation.value[mine] + cost[slots].sum(axis=1)
            cells = self.cells.slot_cell[slots]
            columns.extend(zip(mine.tolist(), cells.tolist(), gross.tolist(), strict=True))
        return self._add(columns)

    def add_assignment(self, assign: list[int]) -> int:
        """Columns for the options of a proposal (a model option per model request row, -1: none)."""
        lg = self.cells.lagrangian
        m = lg.m
        index_of_row = np.full(len(m.request_ids), -1, dtype=np.int64)
        known = lg.model_row >= 0
        index_of_row[lg.model_row[known]] = np.flatnonzero(known)
        columns = [
            (
                int(index_of_row[r]),
                [int(self.cells.slot_cell[s]) for s in m.option_slots[j]],
                float(m.value[j]),
            )
            for r, j in enumerate(assign)
            if j >= 0 and index_of_row[r] >= 0
        ]
        return self._add(columns)

    def _add(self, columns: list[tuple[int, list[int], float]]) -> int:
        starts: list[int] = []
        index: list[int] = []
        entries: list[float] = []
        values: list[float] = []
        for i, cells, v in columns:
            key, row = self._rows(i, cells)
            listed = self.listed.get(key)
            if listed is not None and listed >= v - 1e-9:
                continue
            self.listed[key] = v
            self.keys.append(key)
            starts.append(len(index))
            index.extend(row)
            entries.extend([1.0] * len(row))
            index.append(self.group0 + key[0])
            entries.append(1.0)
            if self.pair_row[i] >= 0:
                index.append(int(self.pair_row[i]))
                entries.append(float(self.pair_sign[i]))
            values.append(v)
        n = len(starts)
        if n:
            self.highs.addCols(
                n,
                np.asarray(values, dtype=np.float64),
                np.zeros(n),
                np.full(n, highspy.kHighsInf),
                len(index),
                np.asarray(starts, dtype=np.int32),
                np.asarray(index, dtype=np.int32),
                np.asarray(entries, dtype=np.float64),
            )
            self.n_columns += n
        return n

    def _rows(self, i: int, cells: list[int]) -> tuple[tuple[int, ...], list[int]]:
        """The key of request `i`'s column on `cells` (its group, then its cells; a (class, day) column's
        is the cells' count plus the (class, day)) and the rows it uses besides its group's."""
        g = int(self.request_group[i])
        if not self.by_class:
            return (g, *sorted(cells)), cells
        class_day = self.class_day
        if self.class_request[i]:
            day = int(class_day[cells[0]])
            return (g, self.cells.n_cells + day), [self.class0 + day]
        return (g, *sorted(cells)), [*cells, *(self.class0 + int(class_day[c]) for c in cells)]

    def drop(self, columns: np.ndarray) -> None:
        """Delete these columns (indices; their options may join again)."""
        if not len(columns):
            return
        self.highs.deleteCols(len(columns), np.asarray(columns, dtype=np.int32))
        gone = np.zeros(self.n_columns, dtype=bool)
        gone[columns] = True
        for k in np.flatnonzero(gone).tolist():
            self.listed.pop(self.keys[k], None)
        self.keys = [key for key, out in zip(self.keys, gone.tolist(), strict=True) if not out]
        self.n_columns = len(self.keys)

    def _solve(self, seconds: float) -> tuple[bool, float, np.ndarray, np.ndarray] | None:
        """Re-solve within `seconds` (HiGHS counts the instance's whole run time): optimal or not, the
        value with the fairness term, the cells' and the groups' duals (None: no duals)."""
        self.launch(seconds)
        return self.collect()

    def launch(self, seconds: float) -> None:
        """Start a re-solve within `seconds` on a thread of its own (HiGHS releases the GIL while it
        runs); `running` says when it is done and `collect` reads it. Nothing else may touch the LP
        meanwhile."""
        highs = self.highs
        highs.setOptionValue("time_limit", highs.getRunTime() + max(0.05, float(seconds)))
        if self.interior:
            highs.clearSolver()  # (each round from scratch: the last one's factors are not needed)
        self._thread = threading.Thread(target=self._run, name="cell-lp", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        began = time.monotonic()
        self.highs.run()
        self.seconds = time.monotonic() - began

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def collect(self) -> tuple[bool, float, np.ndarray, np.ndarray] | None:
        """The result of the last `launch` (waiting for it), as `_solve` returns it."""
        highs = self.highs
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        solution = highs.getSolution()
        if not solution.dual_valid:
            return None
        dual = np.asarray(solution.row_dual)
        optimal = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
        value = float(highs.getInfo().objective_function_value) + self.fairness
        n_cells = self.cells.n_cells
        price = np.maximum(dual[:n_cells], 0.0)
        if self.by_class:  # a seat's price: its cell's and its (class, day)'s
            self.class_price = np.maximum(dual[self.class0 :], 0.0)[self.class_day]
            price = price + self.class_price
        return optimal, value, price, np.maximum(dual[self.group0 : self.pair0], 0.0)

    def run(self, until: float, starts: list[Evaluation], centre: np.ndarray | None = None) -> CellResult:
        """Column generation from the best options at the `starts` evaluations until `until` (or until
        converged); each round prices at the LP's cell duals and, with a `centre` (cell prices), at their
        mean with the best cell prices so far (the first rounds' duals swing far from the optimum)."""
        self.add_best(starts)
        result = CellResult(INFINITE, np.zeros(self.cells.n_cells), None, 0, False, -INFINITE, centre)
        while time.monotonic() < until:
            solved = self._solve(until - time.monotonic())
            if solved is None or not self.next_round(solved, result):
                break
        return result

    def add_best(self, evaluations: list[Evaluation]) -> None:
        """Columns for every request's best option at each of `evaluations`."""
        for evaluation in evaluations:
            self.add(evaluation, np.flatnonzero(np.isfinite(evaluation.value) & (evaluation.workplace >= 0)))

    def next_round(self, solved: tuple[bool, float, np.ndarray, np.ndarray], result: CellResult) -> bool:
        """Price a solved round (`_solve`'s or `collect`'s answer) into `result` and add the columns worth
        more than their group's dual: whether another round is worth solving (optimal, columns added)."""
        lg = self.cells.lagrangian
        optimal, value, cell_dual, group_dual = solved
        result.rounds += 1
        candidates = [cell_dual]
        if result.centre is not None:
            candidates.append(SMOOTHING * result.centre + (1 - SMOOTHING) * cell_dual)
        if self.by_class:  # (class, day) columns priced at their rows' duals alone
            candidates.append(self.class_price)
        added = 0
        pair = self.pair_row >= 0
        for prices in candidates:
            evaluation = lg.at(*self.cells.prices(prices))
            if evaluation.bound < result.bound:
                result.bound, result.cell_price, result.evaluation = evaluation.bound, prices, evaluation
                result.centre = prices if result.centre is not None else None
            if optimal:
                gain = evaluation.value - group_dual[self.request_group]
                # a pair's member: its best option always (the pair row's dual is not in the gain)
                gain[pair] = np.where(np.isfinite(evaluation.value[pair]), 1.0, -INFINITE)
                new = np.isfinite(gain) & (gain > REDUCED_COST) & (evaluation.workplace >= 0)
                if prices is self.class_price:
                    new &= self.class_request
                added += self.add(evaluation, np.flatnonzero(new))
        _log.debug(
            "cell LP round %d: %d columns, value %.1f, optimal %s, lowest bound %.1f",
            result.rounds,
            self.n_columns,
            value,
            optimal,
            result.bound,
        )
        if not optimal:
            return False
        result.lp_value = value
        result.converged = not added
        return bool(added)
