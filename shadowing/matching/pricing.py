"""Every feasible option of a match, searched without listing them: the best option of a request at given
seat prices.

A programme of 5,000 requests has about two million feasible options, one of 50,000 tens of millions; the
matcher never lists them. It asks this catalogue instead: "at these prices on the slots (and day caps),
which option of request ``r`` is worth most, net of the prices?" (the *pricing* step of column
generation, and with prices that are infinite on full slots, "which option still fits best?" for first
come, first served). The feasibility rules are those of ``shadowing.matching.options``.

An option is a workplace, a start and ``k`` days. For each workplace the open days are kept in order
(one row per workplace); the price of a day is that of its cheapest slot, plus the day cap's price. The
price of the ``k`` days from each start is summed once per price change, and a range-minimum table over the
starts answers "the cheapest start inside this window" for all candidate workplaces of a request in a few
array operations. Consecutive requests use a second table of the working days only, where a start is
valid when its ``k`` days follow each other as working days. The value of a workplace is its preference
score net of that cheapest price; the best option of the request is the workplace of highest value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from shadowing.matching.options import (
    ORGANISATION_RANK_SCORE,
    OTHER_WORKPLACE_SCORE,
    WORKPLACE_RANK_SCORE,
    Option,
    RequestSpec,
    _Calendar,
    _Grid,
    next_working_day,
    weekday,
)

INFINITE = np.inf


def _jitter(request: int, rows: np.ndarray) -> np.ndarray:
    """Tiny per-request pseudo-random amounts (below 1e-6) that order equally priced workplaces."""
    return ((rows * 2654435761 + request * 40503) % 4294967291) * (1e-6 / 4294967291)


def _firsts(cells: np.ndarray) -> np.ndarray:
    """The places where a new value starts in the ordered `cells`."""
    return np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]]) if len(cells) else np.zeros(0, dtype=np.int64)


class _Table:
    """The open days of every workplace as rows, their prices, and the range-minimum tables."""

    def __init__(
        self,
        days_per_row: list[list[int]],
        slots_per_row: list[list[tuple[int, ...]]],
        day0: int,
        n_days: int,
        lengths: Sequence[int],
        consecutive: bool,
        closed: frozenset[int],
    ) -> None:
        n = len(days_per_row)
        width = max((len(d) for d in days_per_row), default=0) + 1
        self.width = width
        self.ordinal = np.full((n, width), np.iinfo(np.int64).max, dtype=np.int64)
        listed = np.zeros((n, max(n_days, 1)), dtype=bool)
        flat_cell: list[int] = []
        flat_slot: list[int] = []
        self.place: dict[int, tuple[int, int]] = {}  # slot index -> (row, start)
        for w, (days, slots) in enumerate(zip(days_per_row, slots_per_row, strict=True)):
            if days:
                self.ordinal[w, : len(days)] = days
                listed[w, np.asarray(days, dtype=np.int64) - day0] = True
            for t, ids in enumerate(slots):
                flat_cell.extend([w * width + t] * len(ids))
                flat_slot.extend(ids)
                for i in ids:
                    self.place[i] = (w, t)
        # count[d][w]: days of row w listed before day index d (day-major: one day's column is contiguous)
        self.count = np.zeros((max(n_days, 1) + 1, n), dtype=np.int64)
        np.cumsum(listed.T, axis=0, out=self.count[1:])
        self.n_days = n_days
        order = np.argsort(np.asarray(flat_cell, dtype=np.int64), kind="stable")
        self.cell = np.asarray(flat_cell, dtype=np.int64)[order]
        self.slot = np.asarray(flat_slot, dtype=np.int64)[order]
        # entries of row w: cell_start[w] .. cell_start[w + 1]; each day's first entry
        self.cell_start = np.searchsorted(self.cell, np.arange(n + 1) * width)
        self.cell_first = _firsts(self.cell)
        # valid[k][w, t]: the k days from start t exist (and follow each other as working days)
        self.valid: dict[int, np.ndarray] = {}
        lengths_of_row = np.asarray([len(d) for d in days_per_row], dtype=np.int64)
        starts = np.arange(width)
        for k in sorted(set(lengths)):
            ok = starts[None, :] + k <= lengths_of_row[:, None]
            if consecutive and k > 1:
                follows = np.zeros((n, width), dtype=bool)
                for w, days in enumerate(days_per_row):
                    for t in range(len(days) - 1):
                        follows[w, t] = next_working_day(days[t], closed) == days[t + 1]
                for i in range(k - 1):
                    ok[:, : width - i] &= follows[:, i:]
                    ok[:, width - i :] = False
            self.valid[k] = ok
        self.levels = max(1, int(np.floor(np.log2(width))) + 1)
        self.log2 = np.zeros(width + 1, dtype=np.int64)
        for length in range(2, width + 1):
            self.log2[length] = self.log2[length // 2] + 1
        self.day_cost = np.full((n, width), INFINITE)
        self.day_slot = np.full((n, width), -1, dtype=np.int64)
        self.minimum: dict[int, np.ndarray] = {}
        self.argmin: dict[int, np.ndarray] = {}
        self.next_fit: dict[int, np.ndarray] = {}
        self.fits_only = False

    def price(self, slot_cost: np.ndarray, rows: np.ndarray | None = None, fits_only: bool = False) -> None:
        """Set the day prices (cheapest slot) and rebuild the sums and tables, of all rows or of `rows`.
        With `fits_only` the prices are 0 (a free seat) or infinite (full) and only the next start that
        fits is kept per start (far cheaper to update one workplace after each seat taken)."""
        n, width = self.day_cost.shape
        self.fits_only = fits_only
        if rows is None:
            rows = np.arange(n)
            picked = np.arange(len(self.cell))
        elif len(rows) == 1:
            w = int(rows[0])
            picked = np.arange(self.cell_start[w], self.cell_start[w + 1])
        else:
            picked = np.concatenate(
                [np.arange(self.cell_start[w], self.cell_start[w + 1]) for w in rows.tolist()]
            ).astype(np.int64)
        cells, slots = self.cell[picked], self.slot[picked]
        cost = slot_cost[slots]
        day_cost = self.day_cost.reshape(-1)
        day_slot = self.day_slot.reshape(-1)
        # the cheapest slot of each day (the first in slot order on a tie): the entries are in order of
        # day (cell), and of slot within one
        flat_rows = (rows[:, None] * width + np.arange(width)[None, :]).reshape(-1)
        day_cost[flat_rows] = INFINITE
        day_slot[flat_rows] = -1
        if len(cells):
            starts = self.cell_first if len(picked) == len(self.cell) else _firsts(cells)
            cheapest = np.minimum.reduceat(cost, starts)
            length = np.diff(np.r_[starts, len(cells)])
            first = np.where(cost == np.repeat(cheapest, length), np.arange(len(cells)), len(cells))
            first = np.minimum.reduceat(first, starts)
            day_cost[cells[first]] = cheapest
            day_slot[cells[first]] = slots[first]
        # every row: basic slices instead of an index (no copy of the tables per level)
        at: slice | np.ndarray = slice(None) if len(rows) == n else rows
        block = self.day_cost[at]
        for k, valid in self.valid.items():
            total = block.copy()
            for i in range(1, k):
                total[:, : width - i] += block[:, i:]
            total = np.where(valid[at], total, INFINITE)
            if fits_only:
                # next_fit[k][w, t]: the first start >= t whose k days all have a free seat (width: none)
                if k not in self.next_fit:
                    self.next_fit[k] = np.full((n, width + 1), width, dtype=np.int64)
                here = np.where(np.isfinite(total), np.arange(width)[None, :], width)
                self.next_fit[k][rows, :width] = np.minimum.accumulate(here[:, ::-1], axis=1)[:, ::-1]
                continue
            if k not in self.minimum:
                self.minimum[k] = np.full((self.levels, n, width), INFINITE)
                self.argmin[k] = np.zeros((self.levels, n, width), dtype=np.int64)
            minimum, argmin = self.minimum[k], self.argmin[k]
            minimum[0, at] = total
            argmin[0, at] = np.arange(width)[None, :]
            for j in range(1, self.levels):
                half = 1 << (j - 1)
                if isinstance(at, slice):  # every row: in place, no temporaries
                    left, left_arg = minimum[j - 1], argmin[j - 1]
                    level, level_arg = minimum[j], argmin[j]
                    np.copyto(level, left)
                    np.copyto(level_arg, left_arg)
                else:
                    left, left_arg = minimum[j - 1, at], argmin[j - 1, at]
                    level, level_arg = left.copy(), left_arg.copy()
                better = left[:, half:] < left[:, : width - half]
                np.copyto(level[:, : width - half], left[:, half:], where=better)
                np.copyto(level_arg[:, : width - half], left_arg[:, half:], where=better)
                if not isinstance(at, slice):
                    minimum[j, at] = level
                    argmin[j, at] = level_arg

    def cheapest(
        self, rows: np.ndarray, windows: Iterable[tuple[int, int]], k: int, day0: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each row, the lowest price of `k` days inside one of the windows and its start."""
        best = np.full(len(rows), INFINITE)
        start = np.zeros(len(rows), dtype=np.int64)
        for a, b in windows:
            lo_day, hi_day = max(a - day0, 0), min(b - day0, self.n_days - 1)
            if lo_day > hi_day:
                continue
            lo = self.count[lo_day][rows]
            hi = self.count[hi_day + 1][rows] - k  # last start whose k days end inside
            if self.fits_only:
                found = self.next_fit[k][rows, lo]
                better = (found <= hi) & ~np.isfinite(best)
                best[better] = 0.0
                start[better] = found[better]
                continue
            minimum, argmin = self.minimum[k], self.argmin[k]
            span = hi - lo + 1
            ok = span >= 1
            if not ok.any():
                continue
            span = np.where(ok, span, 1)
            level = self.log2[span]
            lo = np.where(ok, lo, 0)
            other = lo + span - (1 << level)
            v1, v2 = minimum[level, rows, lo], minimum[level, rows, other]
            a1, a2 = argmin[level, rows, lo], argmin[level, rows, other]
            value = np.where(v2 < v1, v2, v1)
            arg = np.where(v2 < v1, a2, a1)
            value = np.where(ok, value, INFINITE)
            better = value < best
            best = np.where(better, value, best)
            start = np.where(better, arg, start)
        return best, start


@dataclass
class Priced:
    """The best option of each request at some prices: value = 1000 + score - price (-inf: none fits)."""

    value: np.ndarray
    options: list[Option | None]
    more: list[list[Option]] = field(default_factory=list)  # further options worth adding, per request


class Catalogue:
    """Every feasible option of the requests that have one (see the module docstring)."""

    def __init__(
        self,
        grid: _Grid,
        open_cal: dict[int, _Calendar],
        requests: list[RequestSpec],
        partner_organisation: dict[int, int],
        slot_ids: Sequence[int],
        closed: frozenset[int],
    ) -> None:
        self.grid = grid
        self.requests = requests
        self.partner_organisation = partner_organisation
        self.slot_ids = list(slot_ids)  # index = the model's slot row (the order of Problem.capacity)
        slot_index = {sid: i for i, sid in enumerate(self.slot_ids)}
        self.slot_index = slot_index
        ids = grid.ids.tolist()
        self.row_of = {wid: w for w, wid in enumerate(ids)}
        calendars = [open_cal.get(wid) for wid in ids]
        all_days = [d for cal in calendars if cal is not None for d in cal.days]
        self.day0 = min(all_days, default=0)
        n_days = max(all_days, default=-1) - self.day0 + 1
        lengths = sorted({r.days for r in requests if r.days >= 1}) or [1]

        def rows(keep: bool) -> tuple[list[list[int]], list[list[tuple[int, ...]]]]:
            days_per_row: list[list[int]] = []
            slots_per_row: list[list[tuple[int, ...]]] = []
            for cal in calendars:
                days = [] if cal is None else [d for d in cal.days if keep or weekday(d) < 5]
                days_per_row.append(days)
                slots_per_row.append(
                    [tuple(slot_index[s] for s in cal.slots[d]) for d in days] if cal else []
                )
            return days_per_row, slots_per_row

        self.plain = _Table(*rows(True), self.day0, n_days, lengths, False, closed)
        consecutive = sorted({r.days for r in requests if r.consecutive and r.days > 1})
        self.working = (
            _Table(*rows(False), self.day0, n_days, consecutive, True, closed) if consecutive else None
        )
        self._allowed: dict[tuple[object, ...], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.requests)

    def price(
        self, slot_cost: np.ndarray, workplaces: Iterable[int] | None = None, fits_only: bool = False
    ) -> None:
        """Set the price of every slot (index: slot row; +inf closes it), or re-read it at `workplaces`
        (rows); `fits_only`: every price is 0 or +inf (first come, first served)."""
        rows = None if workplaces is None else np.asarray(sorted(workplaces), dtype=np.int64)
        for table in (self.plain, self.working):
            if table is not None:
                table.price(slot_cost, rows, fits_only)

    def workplace_row(self, workplace_id: int) -> int:
        return self.row_of[workplace_id]

    def _rows(self, r: RequestSpec) -> np.ndarray:
        partner = self.partner_organisation.get(r.id)
        key = (r.topics, r.languages, r.own_key, partner)
        found = self._allowed.get(key)
        if found is None:
            found = np.flatnonzero(self.grid.allowed(r, partner))
            self._allowed[key] = found
        return found

    def _costs(self, r: RequestSpec, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, _Table]:
        table = self.working if (r.consecutive and r.days > 1 and self.working is not None) else self.plain
        windows = sorted((a.toordinal(), b.toordinal()) for a, b in r.windows if a <= b)
        cost, start = table.cheapest(rows, windows, r.days, self.day0)
        return cost, start, table

    def best(self, r: RequestSpec) -> tuple[float, Option | None]:
        """The option of `r` with the highest score net of the prices (-inf and None when none fits)."""
        rows = self._rows(r)
        return self._choose(r, rows, *self._costs(r, rows), {})

    def best_of_all(self, threshold: np.ndarray | None = None, extra: int = 0) -> Priced:
        """`best` for every request. The prices of the days are searched once for all workplaces per
        distinct (windows, days, consecutive), and the candidate workplaces taken from that per request.
        With `threshold` (per request), up to `extra` further options at the next cheapest workplaces
        whose value is above it are returned too (more columns per round of column generation)."""
        value = np.full(len(self.requests), -INFINITE)
        options: list[Option | None] = [None] * len(self.requests)
        more: list[list[Option]] = [[] for _ in self.requests]
        every_row = np.arange(len(self.grid.ids))
        by_shape: dict[tuple[object, ...], list[int]] = {}
        for i, r in enumerate(self.requests):
            by_shape.setdefault((r.windows, r.days, r.consecutive and r.days > 1), []).append(i)
        for members in by_shape.values():
            all_cost, all_start, table = self._costs(self.requests[members[0]], every_row)
            by_allowed: dict[
                tuple[object, ...], tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, tuple[float, int]]]
            ] = {}
            for i in members:
                r = self.requests[i]
                key = (r.topics, r.languages, r.own_key, self.partner_organisation.get(r.id))
                found = by_allowed.get(key)
                if found is None:
                    rows = self._rows(r)
                    found = (rows, all_cost[rows], all_start[rows], {})
                    by_allowed[key] = found
                rows, cost, start, org_cache = found
                value[i], options[i] = self._choose(r, rows, cost, start, table, org_cache)
                if extra and threshold is not None and value[i] > threshold[i] + 1e-6 and len(rows) > 1:
                    limit = 1000.0 + OTHER_WORKPLACE_SCORE - threshold[i]  # a cost below this gains
                    take = min(extra + 1, len(rows))
                    keyed = cost + _jitter(r.id, rows)
                    cheapest = np.argpartition(keyed, take - 1)[:take]
                    for j in cheapest[np.argsort(keyed[cheapest])].tolist():
                        if cost[j] >= limit - 1e-6:
                            break
                        option = self._option(r, rows, start, table, j)
                        if option != options[i]:
                            more[i].append(option)
        return Priced(value=value, options=options, more=more)

    def _option(self, r: RequestSpec, rows: np.ndarray, start: np.ndarray, table: _Table, at: int) -> Option:
        w = int(rows[at])
        wid = int(self.grid.ids[w])
        org = int(self.grid.organisation[w])
        t = int(start[at])
        slots = tuple(self.slot_ids[int(s)] for s in table.day_slot[w, t : t + r.days].tolist())
        return Option(r.id, wid, org, slots, self.score(r, wid, org))

    def score(self, r: RequestSpec, workplace: int, organisation: int) -> float:
        """The preference score of `r` at a workplace (the rules of ``shadowing.matching.options``)."""
        score = OTHER_WORKPLACE_SCORE
        rank = r.preferred_workplaces.get(workplace)
        if rank is not None:
            score = WORKPLACE_RANK_SCORE.get(rank, 6.0)
        org_rank = r.preferred_organisations.get(organisation)
        if org_rank is not None:
            score = max(score, ORGANISATION_RANK_SCORE.get(org_rank, 1.0))
        return score

    def feasible(self, r: RequestSpec, option: Option) -> Option | None:
        """`option` with today's score when it is one of `r`'s feasible options, else None."""
        w = self.row_of.get(option.workplace)
        rows = self._rows(r)
        if w is None or len(option.slots) != r.days or r.days < 1:
            return None
        at = int(np.searchsorted(rows, w))
        if at >= len(rows) or rows[at] != w:
            return None
        table = self.working if (r.consecutive and r.days > 1 and self.working is not None) else self.plain
        places = [table.place.get(self.slot_index.get(sid, -1)) for sid in option.slots]
        if any(p is None or p[0] != w for p in places):
            return None
        starts = [p[1] for p in places if p is not None]
        t = starts[0]
        if starts != list(range(t, t + r.days)) or not table.valid[r.days][w, t]:
            return None
        first, last = int(table.ordinal[w, t]), int(table.ordinal[w, t + r.days - 1])
        if not any(a.toordinal() <= first and last <= b.toordinal() for a, b in r.windows):
            return None
        org = int(self.grid.organisation[w])
        return Option(r.id, option.workplace, org, option.slots, self.score(r, option.workplace, org))

    def _choose(
        self,
        r: RequestSpec,
        rows: np.ndarray,
        cost: np.ndarray,
        start: np.ndarray,
        table: _Table,
        org_cache: dict[int, tuple[float, int]],
    ) -> tuple[float, Option | None]:
        if not len(rows):
            return -INFINITE, None
        # Among equally priced workplaces a per-request order (as the builder's), so that requests
        # spread over them instead of all taking the first.
        order_key = cost + _jitter(r.id, rows)
        at = int(np.argmin(order_key))
        best_value, best_at = OTHER_WORKPLACE_SCORE - cost[at], at
        organisation = self.grid.organisation
        for org, rank in r.preferred_organisations.items():
            score = ORGANISATION_RANK_SCORE.get(rank, 1.0)
            cached = org_cache.get(org)
            if cached is None:
                mine = np.flatnonzero(organisation[rows] == org)
                if len(mine):
                    j = int(mine[np.argmin(cost[mine])])
                    cached = (float(cost[j]), j)
                else:
                    cached = (INFINITE, -1)
                org_cache[org] = cached
            if cached[1] >= 0 and score - cached[0] > best_value:
                best_value, best_at = score - cached[0], cached[1]
        for wid, rank in r.preferred_workplaces.items():
            w = self.row_of.get(wid)
            if w is None:
                continue
            j = int(np.searchsorted(rows, w))
            if j >= len(rows) or rows[j] != w:
                continue
            score = WORKPLACE_RANK_SCORE.get(rank, 6.0)
            org_rank = r.preferred_organisations.get(int(organisation[w]))
            if org_rank is not None:
                score = max(score, ORGANISATION_RANK_SCORE.get(org_rank, 1.0))
            if score - cost[j] > best_value:
                best_value, best_at = score - cost[j], j
        if not np.isfinite(best_value):
            return -INFINITE, None
        # The score of the chosen workplace, by the builder's rules (it may be preferred twice over).
        option = self._option(r, rows, start, table, best_at)
        return 1000.0 + option.score - float(cost[best_at]), option
