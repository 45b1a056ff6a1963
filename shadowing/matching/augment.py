"""Augmenting paths over every feasible option, and the bound the slots that block them give.

A slot is *open* when it has a free seat, or when someone sitting there has a feasible option on open
slots only: they could move there and free their seat. Starting from the slots with free seats, each
step prices every feasible option with the slots not open yet marked (one call to the catalogue) and
opens the seats of those who could move. An unplaced request with an option on open slots is then placed
along the chain of moves that frees its seats (each move checked on the seat book, undone as a whole
when a link no longer holds). The listed options' repair (``repair``) sees only the options listed;
this search sees every one.

When nothing more opens, the full slots never found open *block* the unplaced: with ``k_r`` the fewest
blocked slots any feasible option of ``r`` uses and ``v_r`` its best value without prices, ``p * seats
of the blocked slots + sum max(0, v_r - k_r * p)`` (plus the fairness term at its highest) is a
Lagrangian bound for the price ``p`` on the blocked slots, valid whatever the proposal
(``bound.one_price_bound`` takes its best ``p``). For one-day requests with no augmenting path left it
is the optimum (König's theorem); where every option scores the same, the LP's prices are highly
degenerate and column generation approaches it slowly.
"""

from __future__ import annotations

import time

import numpy as np

from shadowing.matching.bound import one_price_bound
from shadowing.matching.model import PLACED_WEIGHT, Model, Seats, add_options
from shadowing.matching.options import Option, Problem

# The price that marks a slot not open (above every option's value, so the catalogue's best option of a
# request is one with the fewest such slots).
_MARK = 1e5
# The longest chain of moves for one person placed (each move may lose up to 9.5 preference points).
_MAX_CHAIN = 60
# Further options per request on open slots, tried when the best one is taken by an earlier chain.
_SPARE = 8


class _Moves:
    """The chain of moves that frees seats, on the seat book; a link that fails is undone."""

    def __init__(
        self,
        m: Model,
        seats: Seats,
        assign: list[int],
        opener: dict[int, list[tuple[int, list[Option]]]],
        until: float,
    ) -> None:
        self.m, self.seats, self.assign, self.opener, self.until = m, seats, assign, opener, until
        self.journal: list[tuple[int, int, int]] = []  # (request row, old column, new column)
        # Requests tried since the last person placed: a move that failed once is not tried again (as in
        # Kuhn's augmenting path search), so that one search costs at most one try per request.
        self.tried: set[int] = set()

    def _lacks(self, j: int) -> list[int]:
        seats, slot_group = self.seats, self.m.slot_group
        return [
            s
            for s in self.m.option_slots[j]
            if seats.slot[s] <= 0 or (slot_group[s] >= 0 and seats.group[slot_group[s]] <= 0)
        ]

    def place(self, r: int, options: list[Option], depth: int = 0) -> bool:
        """Move (or place) `r` to the first of `options` that it can have, moving those in the way along
        their own chains (at most `_MAX_CHAIN` moves deep, so that the preference points the moves may
        lose stay below the 1000 of the person placed); on failure nothing has changed."""
        return any(self._place(r, option, depth) for option in options)

    def _place(self, r: int, option: Option, depth: int) -> bool:
        if time.monotonic() >= self.until:
            return False
        mark = len(self.journal)
        (j,) = add_options(self.m, [option])
        old = self.assign[r]
        self.tried.add(r)
        if old >= 0:
            self.seats.give_back(old)
        self.assign[r] = -1
        self.journal.append((r, old, -1))
        for s in self._lacks(j):
            if s not in self._lacks(j):
                continue  # freed by an earlier link
            if depth >= _MAX_CHAIN or not any(
                mover not in self.tried and self.place(mover, links, depth + 1)
                for mover, links in self.opener.get(s, ())
            ):
                self.undo(mark)
                return False
        if self._lacks(j):
            self.undo(mark)
            return False
        self.seats.take(j)
        self.assign[r] = j
        self.journal.append((r, -1, j))
        if depth == 0:  # a person placed: a new search
            self.journal.clear()
            self.tried.clear()
        return True

    def undo(self, mark: int) -> None:
        while len(self.journal) > mark:
            r, old, new = self.journal.pop()
            if new >= 0:
                self.seats.give_back(new)
                self.assign[r] = -1
            else:
                if old >= 0:
                    self.seats.take(old)
                self.assign[r] = old


def augment(
    problem: Problem,
    m: Model,
    seats: Seats,
    assign: list[int],
    best_value: np.ndarray,
    until: float,
) -> tuple[int, float]:
    """Place unplaced requests along augmenting paths over every feasible option until none is left or
    `until` (``time.monotonic()``); changes `seats` and `assign` in place. Returns how many were placed
    and the blocked slots' bound from the last search (infinite without a catalogue)."""
    catalogue = problem.catalogue
    if catalogue is None or not len(m.capacity) or not len(m.request_ids):
        return 0, float("inf")
    group = np.asarray(m.slot_group, dtype=np.int64)
    value = np.where(np.isfinite(best_value), np.maximum(best_value, 0.0), 0.0)
    added = 0
    bound = float("inf")
    while True:
        own_free = np.asarray(seats.slot) > 0
        open_slot = own_free.copy()
        if len(m.group_capacity):
            open_slot &= (group < 0) | (np.asarray(seats.group) > 0)[np.maximum(group, 0)]
        opener: dict[int, list[tuple[int, list[Option]]]] = {}
        placed_now = 0
        while time.monotonic() < until:
            catalogue.price(np.where(open_slot, 0.0, _MARK))
            # each request's best option on open slots, and up to _SPARE more at other workplaces
            priced = catalogue.best_of_all(np.full(len(m.request_ids), PLACED_WEIGHT - 1.0), _SPARE)
            found = np.isfinite(priced.value)
            score = np.asarray([0.0 if o is None else o.score for o in priced.options])
            fallback = PLACED_WEIGHT + score
            k = np.round((fallback - np.where(found, priced.value, fallback)) / _MARK)
            free_path = found & (k == 0)
            # any prices give a bound, whatever the seats now: these mark the slots not open
            bound = min(bound, one_price_bound(m, ~open_slot, k, np.where(found, value, 0.0)))
            # the unplaced with a path (not pairs: a pair is placed both or neither)
            moves = _Moves(m, seats, assign, opener, until)
            for r in np.flatnonzero(free_path).tolist():
                option = priced.options[r]
                if assign[r] >= 0 or m.partner[r] >= 0 or option is None:
                    continue
                if moves.place(r, [option, *priced.more[r]]):
                    placed_now += 1
            if placed_now:
                break  # the seats changed: search again from them
            opened: dict[int, list[tuple[int, list[Option]]]] = {}
            for r in np.flatnonzero(free_path).tolist():
                j, option = assign[r], priced.options[r]
                if j < 0 or option is None:
                    continue
                for s in m.option_slots[j]:
                    if not open_slot[s]:
                        opened.setdefault(s, []).append((r, [option, *priced.more[r]]))
            if not opened or time.monotonic() >= until:
                break
            rows = np.asarray(sorted(opened), dtype=np.int64)
            open_slot[rows] = True
            for s, links in opened.items():
                opener.setdefault(s, []).extend(links)
            if len(m.group_capacity):  # a seat freed in a day cap opens its slots with seats of their own
                for s in rows.tolist():
                    g = int(group[s])
                    if g >= 0:
                        for t in np.flatnonzero((group == g) & own_free & ~open_slot).tolist():
                            open_slot[t] = True
                            opener.setdefault(t, []).extend(opened[s])
        added += placed_now
        if not placed_now or time.monotonic() >= until:
            return added, bound
