"""Seat prices per (workplace class, day): the bound at the Lagrangian's prices averaged over each cell.

A class is the Lagrangian's (``lagrange``: rows of one organisation, allowed for the same keys); a cell is
one class on one day. ``Cells`` maps each slot to its cell, counts each cell's seats (per workplace and
day its free seats, or its day cap where that is lower) and turns one price per cell into seat prices
(every seat of class ``c`` on day ``d`` priced ``y[c, d]``, on the day cap where one binds) and back.
``on_cells`` evaluates the bound at the subgradient's prices averaged per cell; on large programmes the
solver's bundle method (``bundle``) starts from them. The bound is ``Lagrangian.at`` of those prices:
certified for any non-negative prices, whatever produced them. ``WorkplaceCells`` are finer: one
workplace on one day, the rows of the LP the solver places large programmes from (``cell_rounding``).
"""

from __future__ import annotations

import numpy as np

from shadowing.matching.lagrange import Evaluation, Lagrangian


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


class WorkplaceCells(Cells):
    """Cells of one workplace and one day: each slot's cell is its workplace's day (its day cap's seats
    where it has one), so a column over these cells is one workplace's days."""

    def __init__(self, lagrangian: Lagrangian) -> None:
        self.lagrangian = lagrangian
        n_slots = len(lagrangian.capacity)
        slot_workplace = np.full(n_slots, -1, dtype=np.int64)
        for slot, (w, _t) in lagrangian.catalogue.plain.place.items():
            slot_workplace[slot] = w
        n_days = int(lagrangian.slot_day.max()) + 1 if n_slots else 1
        cell = np.where(slot_workplace >= 0, slot_workplace * n_days + lagrangian.slot_day, -1)
        cells, slot_cell = np.unique(cell, return_inverse=True)
        self.slot_cell = slot_cell.reshape(-1)
        self.n_cells = len(cells)
        self.cell_workplace = cells // n_days  # (catalogue row)
        self.cell_day = cells % n_days
        # each cell's (class, day): its seats together, which the cell LP's one-day columns share (a
        # workplace in no class is a class of its own)
        row_class = np.full(lagrangian.n_rows + 1, -1, dtype=np.int64)
        for c, rows in enumerate(lagrangian.class_rows):
            row_class[rows] = c
        owner = row_class[self.cell_workplace]
        owner = np.where(owner >= 0, owner, len(lagrangian.class_rows) + self.cell_workplace)
        class_days, class_day = np.unique(owner * n_days + self.cell_day, return_inverse=True)
        self.class_day = class_day.reshape(-1)
        self.n_class_days = len(class_days)
        self.grouped = grouped = lagrangian.slot_group >= 0
        seats = np.bincount(
            self.slot_cell[~grouped], weights=lagrangian.capacity[~grouped], minlength=self.n_cells
        ).astype(np.float64)
        self.group_cell = np.full(len(lagrangian.group_capacity), -1, dtype=np.int64)
        self.group_cell[lagrangian.slot_group[grouped]] = self.slot_cell[grouped]
        has = self.group_cell >= 0
        seats += np.bincount(
            self.group_cell[has], weights=lagrangian.group_capacity[has], minlength=self.n_cells
        )
        self.seats = seats


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
