"""The Lagrangian's evaluation as it was before its window costs, starts and row costs were read from
index arrays kept on the object: the reference the faster evaluation must equal to the last bit."""

from __future__ import annotations

import numpy as np

from shadowing.matching.bound import relaxed_sum
from shadowing.matching.lagrange import Evaluation, Lagrangian
from shadowing.matching.model import PLACED_WEIGHT
from shadowing.matching.options import OTHER_WORKPLACE_SCORE
from shadowing.matching.pricing import INFINITE


class ReferenceLagrangian(Lagrangian):
    """``Lagrangian`` with the evaluation of the previous commit."""

    def _window_costs(self) -> tuple[np.ndarray, np.ndarray]:
        """Per global window and workplace row: the cheapest price of its group's days inside the window
        and its start (a last column: infinitely expensive, the classes' padding)."""
        n = self.n_rows
        total = int(self.window_offset[-1])
        cost = np.full((total, n + 1), INFINITE)
        start = np.zeros((total, n + 1), dtype=np.int64)
        rows = np.arange(n)[None, :]
        for g, group in enumerate(self.groups):
            table, k = group.table, group.days
            if not len(group.intervals):
                continue
            minimum, argmin = table.minimum[k], table.argmin[k]
            lo = table.count[group.intervals[:, 0]]  # (windows, rows)
            hi = table.count[group.intervals[:, 1] + 1] - k  # the last start whose days end inside
            span = hi - lo + 1
            ok = span >= 1
            span = np.where(ok, span, 1)
            level = table.log2[span]
            lo = np.where(ok, lo, 0)
            other = lo + span - (1 << level)
            v1, v2 = minimum[level, rows, lo], minimum[level, rows, other]
            second = v2 < v1
            at = slice(int(self.window_offset[g]), int(self.window_offset[g + 1]))
            cost[at, :n] = np.where(ok, np.where(second, v2, v1), INFINITE)
            start[at, :n] = np.where(second, argmin[level, rows, other], argmin[level, rows, lo])
        return cost, start

    def _at_rows(
        self, window_cost: np.ndarray, shapes: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The cheapest price of each shape at its row (broadcast together) and the window giving it
        (the first on a tie; -1: none)."""
        cost = np.full(np.broadcast(shapes, rows).shape, INFINITE)
        window = np.full(cost.shape, -1, dtype=np.int64)
        for j in range(self.shape_windows.shape[1]):
            w = self.shape_windows[shapes, j]
            here = np.where(w >= 0, window_cost[np.maximum(w, 0), rows], INFINITE)
            better = here < cost
            cost = np.where(better, here, cost)
            window = np.where(better, w, window)
        return cost, window

    def evaluate(self, slot_cost: np.ndarray, fixed: float, spread: float = 1e-9) -> Evaluation:
        """``L`` at these seat prices (per slot row, day cap's price included) plus `fixed` (the seats
        times their prices and the fairness term), with each request's best option. Requests alike that
        go to "any other workplace" are spread over those priced within `spread` of the cheapest (the
        value stays that of the cheapest).

        The minima over workplaces are taken in steps: per window and workplace class (rows of one
        organisation allowed for the same keys), per shape and class (the shape's windows), per (key,
        shape) and organisation (the classes the key allows); the rows and starts are read back only
        for each request's best option."""
        self.catalogue.price(slot_cost)
        window_cost, window_start = self._window_costs()
        n_classes = len(self.class_rows)
        # per window and class: the cheapest row (the first on a tie)
        padded = window_cost[:, self.class_rows]  # (windows, classes, rows of the class)
        pick = padded.argmin(axis=2)
        window_class = np.take_along_axis(padded, pick[:, :, None], axis=2)[:, :, 0]
        window_class_row = self.class_rows[np.arange(n_classes)[None, :], pick]
        # per shape and class: its windows' cheapest
        class_cost = np.full((self.n_shapes, n_classes), INFINITE)
        class_row = np.full((self.n_shapes, n_classes), -1, dtype=np.int64)
        for j in range(self.shape_windows.shape[1]):
            has = np.flatnonzero(self.shape_windows[:, j] >= 0)
            w = self.shape_windows[has, j]
            here = window_class[w]
            better = here < class_cost[has]
            class_cost[has] = np.where(better, here, class_cost[has])
            class_row[has] = np.where(better, window_class_row[w], class_row[has])
        # per (key, shape) and organisation: the cheapest class the key allows
        pair_cost = class_cost[self.pair_shape] + self.penalty[self.pair_key]
        n_pairs = len(self.pair_key)
        n_orgs = len(self.organisations)
        org_cost = np.full((n_pairs, n_orgs), INFINITE)
        org_row = np.full((n_pairs, n_orgs), -1, dtype=np.int64)
        bounds = [*self.org_class_start.tolist(), n_classes]
        for o in range(n_orgs):
            lo, hi = bounds[o], bounds[o + 1]
            if lo >= hi:
                continue
            at = lo + np.argmin(pair_cost[:, lo:hi], axis=1)
            org_cost[:, o] = pair_cost[np.arange(n_pairs), at]
            org_row[:, o] = class_row[self.pair_shape, at]
        # any other workplace: the cheapest allowed one
        pair_best = org_cost.min(axis=1) if n_orgs else np.full(n_pairs, INFINITE)
        best = OTHER_WORKPLACE_SCORE - pair_best[self.request_pair]
        n_req = len(self.request_pair)
        best_row = np.full(n_req, -1, dtype=np.int64)
        # preferred organisations
        if len(self.org_req):
            pair = self.request_pair[self.org_req]
            net = self.org_score - org_cost[pair, self.org_col]
            row = org_row[pair, self.org_col]
            best, best_row = _improve(best, best_row, self.org_req, net, row)
        # preferred workplaces
        if len(self.wp_req):
            shape = self.request_global_shape[self.wp_req]
            net = self.wp_score - self._at_rows(window_cost, shape, self.wp_row)[0]
            best, best_row = _improve(best, best_row, self.wp_req, net, self.wp_row)
        # whoever goes to "any other workplace": the requests of one (key, shape) spread over its
        # equally cheapest classes and, within one, rows, so that the seats they use (the subgradient)
        # and the rounding are not all on the first of them
        other = np.flatnonzero((best_row < 0) & np.isfinite(best))
        if len(other):
            pairs = self.request_pair[other]
            limit = (pair_best[pairs] + spread)[:, None]
            tied = (pair_cost <= (pair_best + spread)[:, None]) & np.isfinite(pair_cost)
            flat = np.flatnonzero(tied)  # per pair its tied classes, in order
            count = tied.sum(axis=1)
            offset = np.cumsum(count) - count
            rank = self.request_rank[other]
            count = count[pairs]
            chosen = flat[offset[pairs] + rank % count] % n_classes
            rows = self.class_rows[chosen]  # (requests, rows of the class)
            shapes = self.request_global_shape[other]
            row_cost = self._at_rows(window_cost, shapes[:, None], rows)[0]
            fits = (row_cost <= limit) & np.isfinite(row_cost)
            within = (rank // count) % fits.sum(axis=1)
            at = np.argmax(np.cumsum(fits, axis=1) > within[:, None], axis=1)
            best_row[other] = rows[np.arange(len(other)), at]
        finite = np.isfinite(best) & (best_row >= 0)
        value = np.where(finite, PLACED_WEIGHT + best, -INFINITE)
        best_row = np.where(finite, best_row, -1)
        best_start = np.zeros(n_req, dtype=np.int64)
        mine = np.flatnonzero(finite)
        _, window = self._at_rows(window_cost, self.request_global_shape[mine], best_row[mine])
        best_start[mine] = window_start[window, best_row[mine]]
        bound = fixed + relaxed_sum(value, self.partner)
        return Evaluation(bound, value, best_row, best_start, slot_cost)


def _improve(
    best: np.ndarray, best_row: np.ndarray, requests: np.ndarray, net: np.ndarray, row: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Raise `best` per request to the highest `net` of its entries (with the row that gives it)."""
    order = np.lexsort((-net, requests))
    requests, net, row = requests[order], net[order], row[order]
    first = np.r_[True, requests[1:] != requests[:-1]]
    requests, net, row = requests[first], net[first], row[first]
    better = net > best[requests]
    best = best.copy()
    best_row = best_row.copy()
    best[requests[better]] = net[better]
    best_row[requests[better]] = row[better]
    return best, best_row
