"""The Lagrangian's (``lagrange``) windows: per request shape its windows of days and, per window and
workplace row, where in the catalogue's range-minimum tables the cheapest start inside it is read.

Every distinct (lo_day, hi_day) window of a group's shapes is a global window; the table's day counts do
not change with the prices, so the two overlapping ranges whose minimum is the window's cheapest start
are indexed once (flat places in the tables); at given prices ``costs`` reads every window's cheapest
price at every row with two ``take`` and ``starts`` the start only where it is needed.
"""

from __future__ import annotations

import numpy as np

from shadowing.matching.pricing import INFINITE, _Table


class Group:
    """The requests evaluated with one table and one number of days."""

    def __init__(self, table: _Table, days: int, shapes: list[list[tuple[int, int]]]) -> None:
        self.table = table
        self.days = days
        self.shapes = shapes  # per local shape: the windows as (lo_day, hi_day) day indices
        self.intervals = np.zeros((0, 2), dtype=np.int64)  # distinct windows
        self.windows = np.zeros((0, 0), dtype=np.int64)  # per shape: its windows' indices (-1: none)

    def index_windows(self) -> None:
        distinct = sorted({w for windows in self.shapes for w in windows})
        at = {w: i for i, w in enumerate(distinct)}
        self.intervals = np.asarray(distinct, dtype=np.int64).reshape(-1, 2)
        most = max((len(w) for w in self.shapes), default=0)
        self.windows = np.full((len(self.shapes), most), -1, dtype=np.int64)
        for s, windows in enumerate(self.shapes):
            for j, w in enumerate(windows):
                self.windows[s, j] = at[w]


class Windows:
    """Each global window's places in its group's tables, and the prices and starts read from them."""

    def __init__(
        self, groups: list[Group], window_offset: np.ndarray, shape_windows: np.ndarray, n_rows: int
    ) -> None:
        self.groups = groups
        self.window_offset = window_offset
        self.shape_windows = shape_windows
        self.n_rows = n = n_rows
        total = int(self.window_offset[-1])
        self.window_first = np.zeros((total, n), dtype=np.int64)
        self.window_other = np.zeros((total, n), dtype=np.int64)
        self.window_ok = np.zeros((total, n), dtype=bool)
        rows = np.arange(n)[None, :]
        for g, group in enumerate(self.groups):
            table, k = group.table, group.days
            if not len(group.intervals):
                continue
            width = table.day_cost.shape[1]
            lo = table.count[group.intervals[:, 0]]  # (windows, rows)
            hi = table.count[group.intervals[:, 1] + 1] - k  # the last start whose days end inside
            span = hi - lo + 1
            ok = span >= 1
            span = np.where(ok, span, 1)
            level = table.log2[span]
            lo = np.where(ok, lo, 0)
            other = lo + span - (1 << level)
            at = slice(int(self.window_offset[g]), int(self.window_offset[g + 1]))
            self.window_first[at] = (level * n + rows) * width + lo
            self.window_other[at] = (level * n + rows) * width + other
            self.window_ok[at] = ok
        # each window's group
        self.window_group = np.repeat(np.arange(len(self.groups)), np.diff(self.window_offset))

    def places(self, shapes: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The flat places in the window costs of each shape's windows at its row (broadcast together,
        one more axis: the windows; no window: the padding column of the first)."""
        windows = self.shape_windows[shapes]
        return np.where(windows >= 0, windows * (self.n_rows + 1), 0) + np.where(
            windows >= 0, np.asarray(rows)[..., None], self.n_rows
        )

    def costs(self) -> np.ndarray:
        """Per global window and workplace row: the cheapest price of its group's days inside the window
        (a last column: infinitely expensive, the classes' padding; a last window: none, the same)."""
        n = self.n_rows
        total = int(self.window_offset[-1])
        cost = np.full((total + 1, n + 1), INFINITE)
        for g, group in enumerate(self.groups):
            if not len(group.intervals):
                continue
            minimum = group.table.minimum[group.days].reshape(-1)
            at = slice(int(self.window_offset[g]), int(self.window_offset[g + 1]))
            v1, v2 = minimum.take(self.window_first[at]), minimum.take(self.window_other[at])
            np.minimum(v1, v2, out=v1)
            cost[at, :n] = np.where(self.window_ok[at], v1, INFINITE)
        return cost

    def starts(self, windows: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The cheapest start of each (window, row) at the prices of the last ``costs``."""
        start = np.zeros(len(rows), dtype=np.int64)
        group_of = self.window_group[windows]
        for g, group in enumerate(self.groups):
            mine = np.flatnonzero(group_of == g)
            if not len(mine):
                continue
            minimum = group.table.minimum[group.days].reshape(-1)
            argmin = group.table.argmin[group.days].reshape(-1)
            first = self.window_first[windows[mine], rows[mine]]
            other = self.window_other[windows[mine], rows[mine]]
            second = minimum.take(other) < minimum.take(first)
            start[mine] = argmin.take(np.where(second, other, first))
        return start

    def at_places(self, window_cost: np.ndarray, places: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The cheapest of each entry's windows at `places` (``places``) and which of them gives it (the
        first on a tie; -1: none)."""
        values = window_cost.reshape(-1).take(places)
        if not values.shape[-1]:
            return np.full(values.shape[:-1], INFINITE), np.full(values.shape[:-1], -1, dtype=np.int64)
        which = values.argmin(axis=-1)
        cost = np.take_along_axis(values, which[..., None], axis=-1)[..., 0]
        return cost, np.where(cost < INFINITE, which, -1)
