"""The Lagrangian's (``lagrange``) minima per (key, shape) and organisation, read over the classes each
key allows only.

A (key, shape) *pair* needs, per organisation, its cheapest class among those its key allows (at
50,000 requests about half of the 394 classes), and, for the pairs whose requests go to "any other
workplace", the classes priced within a spread of its cheapest. The allowed (pair, class) entries are
listed once, flat, in order of pair and class (so of organisation: the classes are numbered by it), as
places in the (shape, class) costs: an evaluation reads them with one ``take`` and one
``minimum.reduceat`` over the (pair, organisation) segments, in blocks of pairs that stay in the
processor's cache. The cheapest class's row is read back only for the (pair, organisation) entries
that ask for it (preferred organisations), the tied classes only for the pairs that need them. The
results are those of the minima over every class with the classes a key does not allow priced
infinite: the same minima of the same values, the first cheapest class on a tie, the tied classes in
the same order.
"""

from __future__ import annotations

import numpy as np

from shadowing.matching.pricing import INFINITE

# The tied classes are read entry by entry from the organisations near the cheapest while those hold at
# most this share of all entries, else in one pass over every entry.
SPARSE_SHARE = 0.25


class PairMinima:
    """The allowed (pair, class) entries of a Lagrangian and the minima read over them."""

    def __init__(
        self,
        pair_key: np.ndarray,
        pair_shape: np.ndarray,
        allowed: np.ndarray,
        org_class_start: np.ndarray,
        block: int,
    ) -> None:
        """`allowed`: per key and class, whether the key allows it; `org_class_start`: each
        organisation's first class; `block`: pairs per block of the evaluation's pass."""
        n_pairs = len(pair_key)
        n_keys, n_classes = allowed.shape
        self.n_pairs, self.n_classes = n_pairs, n_classes
        self.n_orgs = n_orgs = len(org_class_start)
        class_org = np.repeat(np.arange(n_orgs), np.diff([*org_class_start.tolist(), n_classes]))
        key_count = allowed.sum(axis=1).astype(np.int64) if n_keys else np.zeros(0, dtype=np.int64)
        key_classes = np.flatnonzero(allowed.reshape(-1)) % max(n_classes, 1)
        key_first = np.cumsum(key_count) - key_count
        count = key_count[pair_key] if n_pairs else np.zeros(0, dtype=np.int64)
        total = int(count.sum())
        self.pair_count = count
        self.pair_first = np.cumsum(count) - count
        self.entry_pair = np.repeat(np.arange(n_pairs), count)
        position = np.arange(total) - np.repeat(self.pair_first, count)
        self.entry_class = key_classes[np.repeat(key_first[pair_key], count) + position]
        self.entry_place = pair_shape[self.entry_pair] * n_classes + self.entry_class
        # segments: the entries of one (pair, organisation)
        segment = self.entry_pair * max(n_orgs, 1) + class_org[self.entry_class]
        changes = np.r_[True, segment[1:] != segment[:-1]] if total else np.zeros(0, dtype=bool)
        self.seg_start = np.flatnonzero(changes)
        self.seg_pair = self.entry_pair[self.seg_start]
        self.seg_org = class_org[self.entry_class[self.seg_start]]
        self.seg_length = np.diff(np.r_[self.seg_start, total])
        self.seg_of = np.full((n_pairs, max(n_orgs, 1)), -1, dtype=np.int64)
        self.seg_of[self.seg_pair, self.seg_org] = np.arange(len(self.seg_start))
        # blocks of pairs: (first entry, end of entries, first segment, end of segments)
        self.blocks: list[tuple[int, int, int, int]] = []
        self.block_pairs: list[tuple[int, int]] = []
        pair_cuts = list(range(0, n_pairs, max(block, 1))) + [n_pairs]
        entry_cuts = np.r_[self.pair_first, total][pair_cuts]
        seg_cuts = np.searchsorted(self.seg_start, entry_cuts)
        for b in range(len(pair_cuts) - 1):
            e0, e1, s0, s1 = (
                int(entry_cuts[b]),
                int(entry_cuts[b + 1]),
                int(seg_cuts[b]),
                int(seg_cuts[b + 1]),
            )
            if e1 > e0:
                self.blocks.append((e0, e1, s0, s1))
                self.block_pairs.append((pair_cuts[b], pair_cuts[b + 1]))
        self.cost = np.empty(total)  # the entries' costs at the last evaluation
        self.seg_min = np.empty(len(self.seg_start))

    def minima(self, class_cost: np.ndarray) -> np.ndarray:
        """Per pair and organisation the cheapest class the key allows (infinite: none) at these
        (shape, class) costs."""
        flat = class_cost.reshape(-1)
        for e0, e1, s0, s1 in self.blocks:
            cost = flat.take(self.entry_place[e0:e1], out=self.cost[e0:e1])
            self.seg_min[s0:s1] = np.minimum.reduceat(cost, self.seg_start[s0:s1] - e0)
        org_cost = np.full((self.n_pairs, self.n_orgs), INFINITE)
        org_cost[self.seg_pair, self.seg_org] = self.seg_min
        return org_cost

    def classes(self, pairs: np.ndarray, orgs: np.ndarray) -> np.ndarray:
        """The cheapest class (the first on a tie) the key allows of each (pair, organisation) at the last
        ``minima`` (-1 where it allows none there)."""
        found = np.full(len(pairs), -1, dtype=np.int64)
        segments = self.seg_of[pairs, orgs]
        mine = np.flatnonzero(segments >= 0)
        if not len(mine):
            return found
        segments = segments[mine]
        entries = _ranges(self.seg_start[segments], self.seg_length[segments])
        length = self.seg_length[segments]
        cheapest = self.cost[entries] == np.repeat(self.seg_min[segments], length)
        first = np.minimum.reduceat(np.where(cheapest, entries, len(self.cost)), np.cumsum(length) - length)
        found[mine] = self.entry_class[first]
        return found

    def ties(self, needed: np.ndarray, pair_best: np.ndarray, spread: float) -> tuple[np.ndarray, np.ndarray]:
        """For the pairs marked `needed` their classes priced within `spread` of their cheapest, at the
        last ``minima``: flat places in (pairs, classes), in order, and their count per pair (0 for the
        pairs not marked). Only the organisations whose cheapest is within it are read, one by one where
        they are few, else every entry in blocks (where every price ties)."""
        limit = pair_best + spread
        near = needed[self.seg_pair] & (self.seg_min <= limit[self.seg_pair])
        segments = np.flatnonzero(near)
        length = self.seg_length[segments]
        if SPARSE_SHARE * len(self.cost) < length.sum():
            chosen = self._dense_ties(np.where(needed, limit, -INFINITE))
        else:
            entries = _ranges(self.seg_start[segments], length)
            cost = self.cost[entries]
            within = (cost <= np.repeat(limit[self.seg_pair[segments]], length)) & np.isfinite(cost)
            chosen = entries[within]
        pair = self.entry_pair[chosen]
        return pair * self.n_classes + self.entry_class[chosen], np.bincount(pair, minlength=self.n_pairs)

    def _dense_ties(self, limit: np.ndarray) -> np.ndarray:
        """The entries whose cost is finite and at most their pair's `limit`, in order."""
        chosen: list[np.ndarray] = []
        for (e0, e1, _s0, _s1), (p0, p1) in zip(self.blocks, self.block_pairs, strict=True):
            cost = self.cost[e0:e1]
            within = cost <= np.repeat(limit[p0:p1], self.pair_count[p0:p1])
            within &= np.isfinite(cost)
            chosen.append(np.flatnonzero(within) + e0)
        return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)


def _ranges(first: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The integers ``first[i] .. first[i] + length[i] - 1`` of every `i`, one after the other."""
    offsets = np.cumsum(length) - length
    return np.repeat(first - offsets, length) + np.arange(int(length.sum()))
