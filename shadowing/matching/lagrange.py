"""The Lagrangian bound over every feasible option, for every request at once, and its minimisation.

For any non-negative prices ``y`` on the seats (slots and day caps) the bound of ``bound.py``::

    L(y) = seats · y + Σ_requests max(0, max over the request's options of (value − its seats' prices))
           + the fairness term at its highest

is an upper bound on every placement over every feasible option, and at its minimum over ``y`` it equals
the LP optimum. ``bound.certified_bound`` evaluates it through ``Catalogue.best_of_all``, one request at a
time (seconds at 50,000 requests); ``Lagrangian.evaluate`` gives the same value from the same tables with
a handful of array operations per request *shape*:

- every distinct (windows, days, consecutive) of the requests is a shape; the catalogue's range-minimum
  tables give, for all shapes and all workplaces at once, the cheapest start inside the windows;
- every distinct (topics, languages, own organisation, partner's organisation) is a key with its allowed
  workplaces; per (key, shape) the cheapest allowed workplace of each organisation is one reduction;
- a request's best value is then the highest of: "any other workplace" (0.5) net of the cheapest allowed
  one, each preferred organisation's score net of its cheapest workplace, each preferred workplace's
  score net of its price (flat arrays over every request's preferences).

``minimise`` lowers ``L`` by projected subgradient steps (Polyak's step towards the best proposal known:
``y ← max(0, y − t (seats − seats used by the best options))``); every ``L(y)`` on the way is a
certified bound, the lowest is kept, and the prices that gave it order the rounding (``solver``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from shadowing.matching.bound import inner, relaxed_sum, selected
from shadowing.matching.lagrange_pairs import PairMinima
from shadowing.matching.lagrange_windows import Group, Windows
from shadowing.matching.model import PLACED_WEIGHT, Model
from shadowing.matching.options import (
    ORGANISATION_RANK_SCORE,
    OTHER_WORKPLACE_SCORE,
    WORKPLACE_RANK_SCORE,
    Problem,
)
from shadowing.matching.pricing import INFINITE, Catalogue

_log = logging.getLogger(__name__)

# Polyak's step towards a level below the lowest L so far, (L - (lowest - delta)) / |g|^2 (a variable
# target level, never below the best proposal's objective): delta starts at LEVEL_SHARE of the distance
# from the lowest L to the best proposal, grows by LEVEL_GROWTH after a step that lowers L by
# SUFFICIENT * delta, and halves (from the best prices) after STALE_STEPS steps that do not.
LEVEL_SHARE = 0.5
LEVEL_GROWTH = 1.2
SUFFICIENT = 0.1
STALE_STEPS = 4
# The first LP of a large programme also holds, per request, one of the options priced within this many
# points of its best (less than any preference is worth), spread over them among requests alike.
FIRST_SPREAD = 0.4
# The evaluation's minima per (key, shape) and organisation are read over this many (key, shape) at a time.
PAIR_BLOCK = 1024


@dataclass
class Evaluation:
    """``L(y)`` and, per request (catalogue order), its best option at ``y``."""

    bound: float
    value: np.ndarray  # 1000 + score − price of the best option (−inf: none)
    workplace: np.ndarray  # the best option's workplace row (−1: none)
    start: np.ndarray  # its start in the workplace's open days
    slot_cost: np.ndarray  # the seat prices (slot plus day cap) it was evaluated at


# The lowest ``L`` found, its slot and day-cap prices and its evaluation (``Lagrangian.minimise``).
Best = tuple[float, np.ndarray, np.ndarray, Evaluation]


class Lagrangian:
    """Evaluates ``L(y)`` over every feasible option of `problem` (which must have a catalogue)."""

    def __init__(self, problem: Problem, m: Model) -> None:
        catalogue = problem.catalogue
        assert catalogue is not None
        self.catalogue: Catalogue = catalogue
        self.m = m
        requests = catalogue.requests
        n_req = len(requests)
        grid = catalogue.grid
        n_rows = len(grid.ids)
        self.n_rows = n_rows
        # shapes, per (table, days)
        groups: dict[tuple[int, int], Group] = {}
        shape_index: dict[tuple[object, ...], tuple[tuple[int, int], int]] = {}
        self.request_group = np.zeros(n_req, dtype=np.int64)
        self.request_shape = np.zeros(n_req, dtype=np.int64)  # index within its group
        group_keys: list[tuple[int, int]] = []
        table_days = catalogue.plain.n_days
        for i, r in enumerate(requests):
            working = r.consecutive and r.days > 1 and catalogue.working is not None
            table_id = 1 if working else 0
            shape = (r.windows, r.days, working)
            found = shape_index.get(shape)
            if found is None:
                key = (table_id, r.days)
                group = groups.get(key)
                if group is None:
                    table = catalogue.working if working else catalogue.plain
                    assert table is not None
                    group = groups[key] = Group(table, r.days, [])
                    group_keys.append(key)
                windows = []
                for a, b in sorted((a.toordinal(), b.toordinal()) for a, b in r.windows if a <= b):
                    lo, hi = max(a - catalogue.day0, 0), min(b - catalogue.day0, table_days - 1)
                    if lo <= hi:
                        windows.append((lo, hi))
                found = (key, len(group.shapes))
                group.shapes.append(windows)
                shape_index[shape] = found
            self.request_group[i] = group_keys.index(found[0])
            self.request_shape[i] = found[1]
        self.groups = [groups[k] for k in group_keys]
        for group in self.groups:
            group.index_windows()
        # one global shape number per (group, local shape)
        offsets = np.cumsum([0] + [len(g.shapes) for g in self.groups])
        self.shape_offset = offsets
        self.request_global_shape = offsets[self.request_group] + self.request_shape
        self.n_shapes = int(offsets[-1])
        # keys: the allowed workplaces, ordered by organisation
        organisations = np.unique(grid.organisation)
        self.organisations = organisations
        key_index: dict[tuple[object, ...], int] = {}
        self.key_rows: list[np.ndarray] = []
        self.key_org_bounds: list[np.ndarray] = []  # per key: start of each organisation in key_rows
        self.request_key = np.zeros(n_req, dtype=np.int64)
        allowed_sets: list[np.ndarray] = []
        for i, r in enumerate(requests):
            partner = catalogue.partner_organisation.get(r.id)
            allowed_key = (r.topics, r.languages, r.own_key, partner)
            k = key_index.get(allowed_key)
            if k is None:
                k = key_index[allowed_key] = len(self.key_rows)
                rows = catalogue._rows(r)
                rows = rows[np.argsort(grid.organisation[rows], kind="stable")]
                self.key_rows.append(rows)
                self.key_org_bounds.append(np.searchsorted(grid.organisation[rows], organisations))
                mask = np.zeros(n_rows, dtype=bool)
                mask[rows] = True
                allowed_sets.append(mask)
            self.request_key[i] = k
        self.allowed = np.asarray(allowed_sets) if allowed_sets else np.zeros((0, n_rows), dtype=bool)
        # (key, shape) pairs
        pair_id = self.request_key * max(self.n_shapes, 1) + self.request_global_shape
        unique_pairs, self.request_pair = np.unique(pair_id, return_inverse=True)
        self.pair_key = unique_pairs // max(self.n_shapes, 1)
        self.pair_shape = unique_pairs % max(self.n_shapes, 1)
        self.request_pair = self.request_pair.astype(np.int64)
        # each request's place among the requests of its (key, shape), to spread them over equal options
        by_pair = np.argsort(self.request_pair, kind="stable")
        first_of_pair = np.searchsorted(self.request_pair[by_pair], np.arange(len(unique_pairs)))
        self.request_rank = np.empty(n_req, dtype=np.int64)
        self.request_rank[by_pair] = np.arange(n_req) - first_of_pair[self.request_pair[by_pair]]
        key_order = np.argsort(self.request_key, kind="stable")
        key_cuts = np.searchsorted(self.request_key[key_order], np.arange(len(self.key_rows) + 1))
        self.key_requests = [key_order[key_cuts[k] : key_cuts[k + 1]] for k in range(len(self.key_rows))]
        org_of = {int(o): j for j, o in enumerate(organisations.tolist())}
        # preferred workplaces and organisations as flat arrays
        wp_req: list[int] = []
        wp_row: list[int] = []
        wp_score: list[float] = []
        org_req: list[int] = []
        org_col: list[int] = []
        org_score: list[float] = []
        for i, r in enumerate(requests):
            for org, rank in r.preferred_organisations.items():
                if org in org_of:
                    org_req.append(i)
                    org_col.append(org_of[org])
                    org_score.append(ORGANISATION_RANK_SCORE.get(rank, 1.0))
            for wid, rank in r.preferred_workplaces.items():
                w = catalogue.row_of.get(wid)
                if w is None:
                    continue
                score = WORKPLACE_RANK_SCORE.get(rank, 6.0)
                org_rank = r.preferred_organisations.get(int(grid.organisation[w]))
                if org_rank is not None:
                    score = max(score, ORGANISATION_RANK_SCORE.get(org_rank, 1.0))
                wp_req.append(i)
                wp_row.append(w)
                wp_score.append(score)
        self.wp_req = np.asarray(wp_req, dtype=np.int64)
        self.wp_row = np.asarray(wp_row, dtype=np.int64)
        self.wp_score = np.asarray(wp_score, dtype=np.float64)
        if len(self.wp_req):
            keep = self.allowed[self.request_key[self.wp_req], self.wp_row]
            self.wp_req, self.wp_row = self.wp_req[keep], self.wp_row[keep]
            self.wp_score = self.wp_score[keep]
        self.org_req = np.asarray(org_req, dtype=np.int64)
        self.org_col = np.asarray(org_col, dtype=np.int64)
        self.org_score = np.asarray(org_score, dtype=np.float64)
        self.request_days = np.asarray([r.days for r in requests], dtype=np.int64)
        self.model_row = np.asarray([m.row_of.get(r.id, -1) for r in requests], dtype=np.int64)
        # the partner's index (catalogue order) of a reciprocal pair in the model, else -1
        index_of_row = np.full(len(m.request_ids), -1, dtype=np.int64)
        known = self.model_row >= 0
        index_of_row[self.model_row[known]] = np.flatnonzero(known)
        model_partner = np.asarray(m.partner, dtype=np.int64)
        self.partner = np.full(n_req, -1, dtype=np.int64)
        paired = known.copy()
        paired[known] = model_partner[self.model_row[known]] >= 0
        self.partner[paired] = index_of_row[model_partner[self.model_row[paired]]]
        self.slot_group = np.asarray(m.slot_group, dtype=np.int64)
        self.capacity = np.asarray(m.capacity, dtype=np.float64)
        self.group_capacity = np.asarray(m.group_capacity, dtype=np.float64)
        # slot row -> its day (index), the blocks of the first descent
        self.slot_day = np.zeros(len(self.capacity), dtype=np.int64)
        plain = catalogue.plain
        for slot, (w, t) in plain.place.items():
            self.slot_day[slot] = int(plain.ordinal[w, t]) - catalogue.day0
        self._index_classes()
        self.windows = Windows(self.groups, self.window_offset, self.shape_windows, n_rows)
        # the preferred workplaces' places in the window costs
        self.wp_places = self.windows.places(self.request_global_shape[self.wp_req], self.wp_row)

    def _index_classes(self) -> None:
        """Workplace classes (rows of one organisation allowed for the same keys: the minima the
        evaluation takes over workplaces are taken over classes), and each shape's global windows."""
        grid = self.catalogue.grid
        n = self.n_rows
        signature = np.concatenate([grid.organisation[None, :].astype(np.int64), self.allowed], axis=0).T
        classes, row_class = np.unique(signature, axis=0, return_inverse=True)
        row_class = row_class.reshape(-1)
        n_classes = len(classes)
        order = np.argsort(row_class, kind="stable")  # rows by class, ascending within one
        size = np.bincount(row_class, minlength=n_classes)
        first = np.cumsum(size) - size
        widest = int(size.max()) if n_classes else 0
        # per class its rows, padded with the column n (infinitely expensive)
        self.class_rows = np.full((n_classes, max(widest, 1)), n, dtype=np.int64)
        sorted_class = row_class[order]
        self.class_rows[sorted_class, np.arange(n) - first[sorted_class]] = order
        # the rows ordered by class (ascending within one) and each class's first
        self.class_order = order
        self.class_size = size
        self.class_first = first
        class_org = classes[:, 0] if n_classes else np.zeros(0, dtype=np.int64)
        self.org_class_start = np.searchsorted(class_org, self.organisations)
        representative = order[first] if n_classes else np.zeros(0, dtype=np.int64)
        self.penalty = np.where(self.allowed[:, representative], 0.0, INFINITE)  # (key, class)
        self.pairs = PairMinima(
            self.pair_key, self.pair_shape, self.penalty == 0, self.org_class_start, PAIR_BLOCK
        )
        # global window numbers: group g's windows from window_offset[g]
        sizes = [len(g.intervals) for g in self.groups]
        self.window_offset = np.cumsum([0, *sizes])
        most = max((g.windows.shape[1] for g in self.groups), default=0)
        self.shape_windows = np.full((self.n_shapes, max(most, 1)), -1, dtype=np.int64)
        for g, group in enumerate(self.groups):
            local = group.windows
            at = slice(int(self.shape_offset[g]), int(self.shape_offset[g + 1]))
            self.shape_windows[at, : local.shape[1]] = np.where(local >= 0, local + self.window_offset[g], -1)

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
        window_cost = self.windows.costs()
        n_classes = len(self.class_rows)
        # per window and class: the cheapest price (segments of the rows ordered by class; a last
        # window of infinite prices: no window); the rows only where asked (``_class_rows``)
        by_class = window_cost[:, self.class_order]
        window_class = np.full((len(window_cost) + 1, n_classes), INFINITE)
        window_class[:-1] = np.minimum.reduceat(by_class, self.class_first, axis=1)
        # per shape and class: its windows' cheapest
        class_cost = window_class[self.shape_windows[:, 0]]
        for j in range(1, self.shape_windows.shape[1]):
            np.minimum(class_cost, window_class[self.shape_windows[:, j]], out=class_cost)
        # per (key, shape) and organisation: the cheapest class the key allows
        org_cost = self.pairs.minima(class_cost)
        n_pairs = len(self.pair_key)
        pair_best = org_cost.min(axis=1) if len(self.organisations) else np.full(n_pairs, INFINITE)
        best = OTHER_WORKPLACE_SCORE - pair_best[self.request_pair]
        n_req = len(self.request_pair)
        best_row = np.full(n_req, -1, dtype=np.int64)
        # preferred organisations
        if len(self.org_req):
            pair = self.request_pair[self.org_req]
            net = self.org_score - org_cost[pair, self.org_col]
            # (the entry that gives it first, then the row of its cheapest class)
            best, best_row = _improve(best, best_row, self.org_req, net, np.arange(len(pair)))
            won = np.flatnonzero(best_row >= 0)
            entry = best_row[won]
            classes = self.pairs.classes(pair[entry], self.org_col[entry])
            best_row[won] = self._class_rows(self.pair_shape[pair[entry]], classes, window_cost, window_class)
        # preferred workplaces
        if len(self.wp_req):
            net = self.wp_score - self.windows.at_places(window_cost, self.wp_places)[0]
            best, best_row = _improve(best, best_row, self.wp_req, net, self.wp_row)
        # whoever goes to "any other workplace": the requests of one (key, shape) spread over its
        # equally cheapest classes and, within one, rows, so that the seats they use (the subgradient)
        # and the rounding are not all on the first of them
        other = np.flatnonzero((best_row < 0) & np.isfinite(best))
        if len(other):
            pairs = self.request_pair[other]
            rank = self.request_rank[other]
            # per pair its tied classes, in order, and the request's among them
            needed = np.zeros(n_pairs, dtype=bool)
            needed[pairs] = True
            tied, tied_count = self.pairs.ties(needed, pair_best, spread)
            count = tied_count[pairs]
            chosen = tied[(np.cumsum(tied_count) - tied_count)[pairs] + rank % count] % n_classes
            # per (pair, class) of them the class's rows priced within `spread` of the pair's cheapest,
            # and the request's among them
            alike, inverse = np.unique(pairs * n_classes + chosen, return_inverse=True)
            alike_pair, alike_class = alike // n_classes, alike % n_classes
            size = self.class_size[alike_class]
            entry = np.repeat(np.arange(len(alike)), size)
            position = np.arange(len(entry)) - np.repeat(np.cumsum(size) - size, size)
            rows = self.class_order[position + self.class_first[alike_class][entry]]
            # the rows' prices, per (shape, class) of them
            cells, cell = np.unique(
                self.pair_shape[alike_pair] * n_classes + alike_class, return_inverse=True
            )
            cell_size = self.class_size[cells % n_classes]
            cell_entry = np.repeat(np.arange(len(cells)), cell_size)
            cell_first = np.cumsum(cell_size) - cell_size
            cell_rows = self.class_order[
                np.arange(len(cell_entry))
                - cell_first[cell_entry]
                + self.class_first[cells % n_classes][cell_entry]
            ]
            cell_cost = self.windows.at_places(
                window_cost, self.windows.places((cells // n_classes)[cell_entry], cell_rows)
            )[0]
            row_cost = cell_cost[cell_first[cell.reshape(-1)][entry] + position]
            fits = (row_cost <= pair_best[alike_pair][entry] + spread) & np.isfinite(row_cost)
            fitting = np.add.reduceat(fits, np.cumsum(size) - size)
            inverse = inverse.reshape(-1)
            within = (rank // count) % fitting[inverse]
            best_row[other] = rows[_nth(fits, fitting, inverse, within)]
        finite = np.isfinite(best) & (best_row >= 0)
        value = np.where(finite, PLACED_WEIGHT + best, -INFINITE)
        best_row = np.where(finite, best_row, -1)
        best_start = np.zeros(n_req, dtype=np.int64)
        mine = np.flatnonzero(finite)
        shapes = self.request_global_shape[mine]
        _, which = self.windows.at_places(window_cost, self.windows.places(shapes, best_row[mine]))
        window = self.shape_windows[shapes, np.maximum(which, 0)]
        best_start[mine] = self.windows.starts(window, best_row[mine])
        bound = fixed + relaxed_sum(value, self.partner)
        return Evaluation(bound, value, best_row, best_start, slot_cost)

    def _class_rows(
        self, shapes: np.ndarray, classes: np.ndarray, window_cost: np.ndarray, window_class: np.ndarray
    ) -> np.ndarray:
        """The cheapest row of each (shape, class) (finite prices only): in the first of the shape's
        windows that gives the class's price, the first of the class's rows (in class order) at it."""
        if not len(shapes):
            return np.zeros(0, dtype=np.int64)
        windows = self.shape_windows[shapes]  # (-1: the last window, infinitely expensive)
        window = windows[np.arange(len(shapes)), np.argmin(window_class[windows, classes[:, None]], axis=1)]
        size = self.class_size[classes]
        offsets = np.cumsum(size) - size
        position = np.repeat(self.class_first[classes] - offsets, size) + np.arange(int(size.sum()))
        rows = self.class_order[position]
        cheapest = window_cost[np.repeat(window, size), rows] == np.repeat(
            window_class[window, classes], size
        )
        return rows[np.minimum.reduceat(np.where(cheapest, np.arange(len(rows)), len(rows)), offsets)]

    def used(self, evaluation: Evaluation, requests: np.ndarray | None = None) -> np.ndarray:
        """The slot rows the best options of `requests` (default: those worth more than nothing) use,
        one entry per seat."""
        if requests is None:
            requests = np.flatnonzero(selected(evaluation.value, self.partner))
        slots: list[np.ndarray] = []
        for g, group in enumerate(self.groups):
            mine = requests[self.request_group[requests] == g]
            if not len(mine):
                continue
            w = evaluation.workplace[mine]
            t = evaluation.start[mine]
            slots.extend(group.table.day_slot[w, t + d] for d in range(group.days))
        return np.concatenate(slots) if slots else np.zeros(0, dtype=np.int64)

    def slots_of(self, evaluation: Evaluation, i: int) -> tuple[int, ...]:
        """The slot rows of request `i`'s best option."""
        group = self.groups[int(self.request_group[i])]
        w, t = int(evaluation.workplace[i]), int(evaluation.start[i])
        return tuple(int(s) for s in group.table.day_slot[w, t : t + group.days].tolist())

    def fixed(self, slot_price: np.ndarray, group_price: np.ndarray) -> float:
        return (
            inner(self.capacity, slot_price)
            + inner(self.group_capacity, group_price)
            + self.m.fairness_coefficient
        )

    def slot_cost(self, slot_price: np.ndarray, group_price: np.ndarray) -> np.ndarray:
        cost = slot_price.copy()
        has = self.slot_group >= 0
        if len(group_price):
            cost[has] += group_price[self.slot_group[has]]
        return cost

    def at(self, slot_price: np.ndarray, group_price: np.ndarray) -> Evaluation:
        slot_price = np.maximum(slot_price, 0.0)
        group_price = np.maximum(group_price, 0.0)
        return self.evaluate(self.slot_cost(slot_price, group_price), self.fixed(slot_price, group_price))

    def uniform_price(self, evaluation: Evaluation) -> float:
        """The one price on every seat that minimises ``L`` given each request's best value at the prices
        of `evaluation` (every option of a request uses as many seats as it has days): a breakpoint
        ``value_r / days_r`` or 0."""
        value = np.maximum(evaluation.value, 0.0)
        days = np.maximum(self.request_days, 1).astype(np.float64)
        ratio = value / days
        order = np.argsort(ratio)
        ratio, value, days = ratio[order], value[order], days[order]
        suffix_value = np.concatenate([np.cumsum(value[::-1])[::-1], [0.0]])
        suffix_days = np.concatenate([np.cumsum(days[::-1])[::-1], [0.0]])
        prices = np.concatenate([[0.0], ratio])
        at = np.searchsorted(ratio, prices, side="right")
        seats = float(self.capacity.sum())
        bounds = prices * seats + suffix_value[at] - prices * suffix_days[at]
        return float(prices[int(np.argmin(bounds))])

    def minimise(
        self,
        target: float,
        until: float,
        slot_price: np.ndarray | None = None,
        group_price: np.ndarray | None = None,
        max_steps: int = 10_000,
        between: Callable[[Best], None] | None = None,
    ) -> Best:
        """Projected subgradient steps on ``L`` (Polyak's step towards `target`, a proposal's objective)
        until `until` (``time.monotonic()``): the lowest ``L`` seen, the prices that gave it and that
        evaluation. Without starting prices, the first half of the time moves one price per day (every
        seat of a day together: where everyone is free the same weeks, those days' seats are what is
        scarce, and a price on one seat only sends its takers to the next equal one), the second half
        every seat's own price from there. `between` is called after each step with the lowest so far
        (the solver's cell LP goes on there and prices near them)."""
        z = np.zeros(len(self.group_capacity)) if group_price is None else np.maximum(group_price, 0.0)
        y = np.zeros(len(self.capacity)) if slot_price is None else np.maximum(slot_price, 0.0)
        current = self.at(y, z)
        best = (current.bound, y.copy(), z.copy(), current)
        if slot_price is None and len(self.capacity):
            start = time.monotonic()
            for share, blocks in ((1 / 3, self.slot_day // 7), (2 / 3, self.slot_day)):
                end = start + (until - start) * share
                best = self._descend(best, target, end, max_steps, blocks, between)
        return self._descend(best, target, until, max_steps, None, between)

    def _descend(
        self,
        best: Best,
        target: float,
        until: float,
        max_steps: int,
        blocks: np.ndarray | None,
        between: Callable[[Best], None] | None = None,
    ) -> Best:
        """Subgradient steps from `best`; with `blocks` (slot row -> block), one price step per block
        (the day caps' prices stay)."""
        _, y, z, current = best
        y, z = y.copy(), z.copy()
        # the level the step aims at: below the lowest L by `delta`, which grows after a step that
        # lowers L enough and halves after STALE_STEPS that do not
        delta = LEVEL_SHARE * max(best[0] - target, 1e-6 * abs(target))
        floor = 1e-7 * max(abs(best[0]), 1.0)
        stale = 0
        for step_number in range(max_steps):
            if time.monotonic() >= until or delta < floor:
                break
            used = self.used(current)
            g_slot = self.capacity - np.bincount(used, minlength=len(self.capacity))
            g_group = np.zeros(len(self.group_capacity))
            if blocks is not None:
                n_blocks = int(blocks.max()) + 1
                g_block = np.bincount(blocks, weights=g_slot, minlength=n_blocks)
                lowest = np.full(n_blocks, np.inf)
                np.minimum.at(lowest, blocks, y)
                g_block = np.where((lowest <= 0) & (g_block > 0), 0.0, g_block)
                norm = inner(g_block, g_block)
                g_slot = g_block[blocks]
            else:
                if len(g_group):
                    in_group = self.slot_group[used]
                    g_group = self.group_capacity - np.bincount(
                        in_group[in_group >= 0], minlength=len(g_group)
                    )
                # the projected direction: prices at zero with seats to spare stay at zero
                g_slot = np.where((y <= 0) & (g_slot > 0), 0.0, g_slot)
                g_group = np.where((z <= 0) & (g_group > 0), 0.0, g_group)
                norm = inner(g_slot, g_slot) + inner(g_group, g_group)
            if norm <= 0:
                break  # the best options fit: L(y) is the optimum
            # (never below the proposal's objective: no L is lower than that)
            level = max(best[0] - delta, target)
            step = max(current.bound - level, 1e-6 * abs(target)) / norm
            y = np.maximum(y - step * g_slot, 0.0)
            z = np.maximum(z - step * g_group, 0.0)
            if between is not None:
                # (before the evaluation: the next step reads the seats it used from its tables)
                between(best)
            current = self.at(y, z)
            enough = current.bound < best[0] - SUFFICIENT * delta
            if current.bound < best[0] - 1e-9:
                best = (current.bound, y.copy(), z.copy(), current)
            if enough:
                delta, stale = delta * LEVEL_GROWTH, 0
            else:
                stale += 1
                if stale >= STALE_STEPS:
                    delta, stale = delta / 2, 0
                    y, z, current = best[1].copy(), best[2].copy(), best[3]
            _log.debug(
                "subgradient step %d: L = %.1f, lowest %.1f, level %.1f below it",
                step_number,
                current.bound,
                best[0],
                delta,
            )
        return best


def _nth(mask: np.ndarray, count: np.ndarray, segment: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The place in `mask` (flat, in segments of `count` true entries each) of the `n`-th (from 0) true
    entry of each `segment` (each must have one)."""
    return np.flatnonzero(mask)[(np.cumsum(count) - count)[segment] + n]


def _improve(
    best: np.ndarray, best_row: np.ndarray, requests: np.ndarray, net: np.ndarray, row: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Raise `best` per request to the highest `net` of its entries (the first of them on a tie, with
    the row that gives it); `requests` in ascending order."""
    starts = np.flatnonzero(np.r_[True, requests[1:] != requests[:-1]])
    highest = np.maximum.reduceat(net, starts)
    segment = np.cumsum(np.r_[True, requests[1:] != requests[:-1]]) - 1
    at = np.minimum.reduceat(np.where(net == highest[segment], np.arange(len(net)), len(net)), starts)
    requests, net, row = requests[starts], highest, row[at]
    better = net > best[requests]
    best = best.copy()
    best_row = best_row.copy()
    best[requests[better]] = net[better]
    best_row[requests[better]] = row[better]
    return best, best_row
