"""The catalogue's day prices and range-minimum tables as the previous commit built them (a ``lexsort``
per call, each level through temporaries): the reference the faster ``_Table.price`` must equal to the
last bit."""

from __future__ import annotations

import numpy as np

from shadowing.matching.pricing import INFINITE, _Table


def reference_price(
    table: _Table, slot_cost: np.ndarray, rows: np.ndarray | None = None, fits_only: bool = False
) -> None:
    """``_Table.price`` of the previous commit."""
    n, width = table.day_cost.shape
    table.fits_only = fits_only
    if rows is None:
        rows = np.arange(n)
        picked = np.arange(len(table.cell))
    else:
        picked = np.concatenate(
            [np.arange(table.cell_start[w], table.cell_start[w + 1]) for w in rows.tolist()]
        ).astype(np.int64)
    cells, slots = table.cell[picked], table.slot[picked]
    cost = slot_cost[slots]
    day_cost = table.day_cost.reshape(-1)
    day_slot = table.day_slot.reshape(-1)
    order = np.lexsort((cost, cells))
    cells, slots, cost = cells[order], slots[order], cost[order]
    first = np.r_[True, cells[1:] != cells[:-1]] if len(cells) else np.zeros(0, dtype=bool)
    flat_rows = (rows[:, None] * width + np.arange(width)[None, :]).reshape(-1)
    day_cost[flat_rows] = INFINITE
    day_slot[flat_rows] = -1
    day_cost[cells[first]] = cost[first]
    day_slot[cells[first]] = slots[first]
    at: slice | np.ndarray = slice(None) if len(rows) == n else rows
    block = table.day_cost[at]
    for k, valid in table.valid.items():
        total = block.copy()
        for i in range(1, k):
            total[:, : width - i] += block[:, i:]
        total = np.where(valid[at], total, INFINITE)
        if fits_only:
            if k not in table.next_fit:
                table.next_fit[k] = np.full((n, width + 1), width, dtype=np.int64)
            here = np.where(np.isfinite(total), np.arange(width)[None, :], width)
            table.next_fit[k][rows, :width] = np.minimum.accumulate(here[:, ::-1], axis=1)[:, ::-1]
            continue
        if k not in table.minimum:
            table.minimum[k] = np.full((table.levels, n, width), INFINITE)
            table.argmin[k] = np.zeros((table.levels, n, width), dtype=np.int64)
        minimum, argmin = table.minimum[k], table.argmin[k]
        minimum[0, at] = total
        argmin[0, at] = np.arange(width)[None, :]
        for j in range(1, table.levels):
            half = 1 << (j - 1)
            left, left_arg = minimum[j - 1, at], argmin[j - 1, at]
            level, level_arg = left.copy(), left_arg.copy()
            better = left[:, half:] < left[:, : width - half]
            np.copyto(level[:, : width - half], left[:, half:], where=better)
            np.copyto(level_arg[:, : width - half], left_arg[:, half:], where=better)
            minimum[j, at] = level
            argmin[j, at] = level_arg
