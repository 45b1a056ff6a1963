"""The LP relaxation over the options listed so far (the *restricted master* of column generation), held
in one HiGHS instance so that the columns the pricing finds are added and the LP re-solved from the last
basis (a warm start), not from nothing.

Rows: one per request (at most one option), per slot and per day cap (seats), per organisation for the
fairness term (``z * n_g <= placed in g``) and per reciprocal pair (both or neither). Columns: ``z`` first
when the fairness term is on, then one per option, ``0 <= x <= 1``. HiGHS minimises, so the costs are the
negated values and the seat prices are the negated row duals.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

from shadowing.matching.model import Model


@dataclass
class LpResult:
    primal: bool  # whether x is a solution (else only the prices are)
    columns: np.ndarray  # the model's columns that x is over (more may have been added since)
    optimal: bool
    value: float  # the LP objective (a maximum) at the solution found
    x: np.ndarray  # per column of the master (in `Master.columns` order)
    slot_price: np.ndarray
    group_price: np.ndarray
    request_price: np.ndarray
    org_price: np.ndarray  # the fairness rows' duals (empty without the fairness term)
    pair_gain: np.ndarray  # per request: what its pair row's dual adds to each of its options' value


class Master:
    def __init__(self, m: Model, columns: list[int]) -> None:
        self.m = m
        self.with_z = m.fairness_coefficient > 0
        n_req, n_slot, n_group = len(m.request_ids), len(m.capacity), len(m.group_capacity)
        n_org = len(m.org_size) if self.with_z else 0
        self.slot0 = n_req
        self.group0 = n_req + n_slot
        self.org0 = self.group0 + n_group
        self.pair0 = self.org0 + n_org
        self.pair_row = [-1] * n_req
        self.pair_sign = [0.0] * n_req
        pairs = 0
        for r, p in enumerate(m.partner):
            if 0 <= r < p:
                self.pair_row[r] = self.pair_row[p] = self.pair0 + pairs
                self.pair_sign[r], self.pair_sign[p] = 1.0, -1.0
                pairs += 1
        n_rows = self.pair0 + pairs
        inf = highspy.kHighsInf
        upper = np.concatenate(
            [
                np.ones(n_req),
                np.asarray(m.capacity, dtype=float),
                np.asarray(m.group_capacity, dtype=float),
                np.zeros(n_org + pairs),
            ]
        )
        lower = np.concatenate([np.full(self.pair0, -inf), np.zeros(pairs)])
        self.highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self.highs.setOptionValue("output_flag", False)
        lp = highspy.HighsLp()
        lp.num_row_ = n_rows
        lp.row_lower_ = lower
        lp.row_upper_ = upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.zeros(1, dtype=np.int32)
        if self.with_z:
            lp.num_col_ = 1
            lp.col_cost_ = np.array([-m.fairness_coefficient])
            lp.col_lower_ = np.zeros(1)
            lp.col_upper_ = np.ones(1)
            lp.a_matrix_.start_ = np.array([0, n_org], dtype=np.int32)
            lp.a_matrix_.index_ = (self.org0 + np.arange(n_org)).astype(np.int32)
            lp.a_matrix_.value_ = np.asarray(m.org_size, dtype=float)
        self.highs.passModel(lp)
        self.offset = 1 if self.with_z else 0
        self.columns: list[int] = []
        self.listed: set[int] = set()
        self.add(columns)

    def add(self, columns: list[int]) -> int:
        """Add the model's `columns` not listed yet; how many were added."""
        m = self.m
        new = [j for j in dict.fromkeys(columns) if j not in self.listed]
        if not new:
            return 0
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        for j in new:
            starts.append(len(index))
            r = int(m.option_request[j])
            index.append(r)
            value.append(1.0)
            for s in m.option_slots[j]:
                index.append(self.slot0 + s)
                value.append(1.0)
                g = m.slot_group[s]
                if g >= 0:
                    index.append(self.group0 + g)
                    value.append(1.0)
            if self.with_z:
                index.append(self.org0 + int(m.request_org[r]))
                value.append(-1.0)
            if self.pair_row[r] >= 0:
                index.append(self.pair_row[r])
                value.append(self.pair_sign[r])
        cols = np.asarray(new, dtype=np.int64)
        self.highs.addCols(
            len(new),
            -m.value[cols],
            np.zeros(len(new)),
            np.ones(len(new)),
            len(index),
            np.asarray(starts, dtype=np.int32),
            np.asarray(index, dtype=np.int32),
            np.asarray(value, dtype=float),
        )
        self.columns.extend(new)
        self.listed.update(new)
        return len(new)

    def solve(self, seconds: float) -> LpResult | None:
        """Re-solve within `seconds`; None when HiGHS has no usable solution (e.g. out of time)."""
        highs = self.highs
        # HiGHS measures its time limit against the time this instance has run in all, not per run: a
        # limit of `seconds` alone stopped the later rounds of column generation at once.
        highs.setOptionValue("time_limit", highs.getRunTime() + max(0.05, float(seconds)))
        highs.run()
        status = highs.getModelStatus()
        solution = highs.getSolution()
        if not solution.dual_valid:
            return None
        # Stopped by the time limit, the dual simplex still has prices (any give a bound), if perhaps no
        # usable x.
        m = self.m
        col = np.asarray(solution.col_value)[self.offset :] if solution.value_valid else np.zeros(0)
        dual = -np.asarray(solution.row_dual)
        x = np.clip(col, 0.0, 1.0) if len(col) == len(self.columns) else np.zeros(len(self.columns))
        return LpResult(
            primal=bool(solution.value_valid) and len(col) == len(self.columns),
            columns=np.asarray(self.columns, dtype=np.int64),
            optimal=status == highspy.HighsModelStatus.kOptimal,
            value=-float(highs.getInfo().objective_function_value),
            x=x,
            slot_price=dual[self.slot0 : self.group0],
            group_price=dual[self.group0 : self.group0 + len(m.group_capacity)],
            request_price=dual[: self.slot0],
            org_price=dual[self.org0 : self.pair0],
            pair_gain=np.asarray(
                [
                    -dual[row] * sign if row >= 0 else 0.0
                    for row, sign in zip(self.pair_row, self.pair_sign, strict=True)
                ]
            ),
        )
