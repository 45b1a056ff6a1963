"""Ejection chains over every feasible option: an unplaced request takes an option, whoever it displaces
moves to another of theirs, and so on (large programmes).

The one-day requests are moved by the maximum flow (``flow``) and the multi-day ones swapped for them or
inserted on seats the flow can give up (``swap``, ``insert``); a placed request of two or three days
never moves there. Here every request without a partner may move, to any of its feasible options (the
Lagrangian's evaluation searches them all, ``lagrange``), so that an unplaced request of several days
can take seats whose holders have somewhere else to go, through several steps.

What a move costs is found for every request at once by a few evaluations at seat *costs* (a round):

- level 0: a free seat (slot and day cap) costs 0, a full one is out; each placed request's best option
  there is where it can go on free seats only, and its *loss* the value it gives up by going;
- level ``k``: a full seat costs the lowest loss at level ``k − 1`` among those who hold it (or, where
  only the day cap is full, among those who hold a seat of that workplace's day), so a placed request's
  best option is where it can go with chains of up to ``k`` moves behind it, and its loss at level ``k``
  the value it gives up with them;
- at the last level, an unplaced request whose best option is worth more than nothing at these costs
  (a reciprocal pair: the two together) may have a chain that places it and costs the others less than
  it is worth. (Where a level's best option is the request's own, or a move costs more than at the
  level before, the earlier level's move is kept: the losses only fall from level to level.)

The costs are optimistic (a holder counted twice, two moves wanting one seat, the two of a pair wanting
one seat), so each chain is played on the seat book: the target's seats are freed by moving the holder
of least loss, whose own new seats are freed the same way one level down before it takes them, each
seat checked again when it is taken; the chain is kept only where every move holds and the values rise
(one person more, or a pair, and no one out: the fairness term cannot fall), and undone otherwise.
Pairs stay where they are. Targets are taken in the order of how much their chain is worth; after one
that does not hold, the requests alike (the Lagrangian's key and shape) wait for the next round. The
rounds repeat while they place someone and the last round's time still fits before the caller's limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from shadowing.matching.lagrange import Evaluation, Lagrangian
from shadowing.matching.lagrange_columns import options_of
from shadowing.matching.model import PLACED_WEIGHT, add_options
from shadowing.matching.options import Option
from shadowing.matching.pricing import INFINITE

# Levels of moves behind a target (an unplaced request displaces up to this many in a row).
DEPTH = 3
# At most this many requests move in one chain (each move may lose a few preference points).
MAX_MOVES = 12
# A round starts only when this many times the last one's time (or the first's expected time) still fits:
# its four evaluations come before any look at the clock (one solve at 50,000 ties ended 0.1 s late).
MARGIN = 1.5
_EPS = 1e-6


@dataclass
class _Book:
    """The seats left and who holds them, while chains are played and undone."""

    slot: list[int]
    group: list[int]
    slot_group: list[int]
    holders: list[set[int]]  # slot row -> the model rows (without a partner) on it
    group_holders: list[set[int]]  # day cap -> the model rows (without a partner) on its slots
    where: dict[int, tuple[int, ...]]  # model row -> the slot rows it holds now (placed rows only)
    log: list[tuple[int, tuple[int, ...] | None, tuple[int, ...] | None]] = field(default_factory=list)

    def room(self, s: int) -> bool:
        g = self.slot_group[s]
        return self.slot[s] > 0 and (g < 0 or self.group[g] > 0)

    def fits(self, slots: tuple[int, ...]) -> bool:
        return all(self.room(s) for s in slots)

    def _change(self, r: int, slots: tuple[int, ...], by: int, movable: bool) -> None:
        for s in slots:
            self.slot[s] += by
            g = self.slot_group[s]
            if g >= 0:
                self.group[g] += by
            if movable:
                if by < 0:
                    self.holders[s].add(r)
                    if g >= 0:
                        self.group_holders[g].add(r)
                else:
                    self.holders[s].discard(r)
                    if g >= 0 and not any(self.slot_group[t] == g for t in self.where.get(r, ())):
                        self.group_holders[g].discard(r)

    def move(self, r: int, slots: tuple[int, ...] | None) -> None:
        """Row `r` to `slots` (None: unplaced), logged for `undo`."""
        old = self.where.get(r)
        self.log.append((r, old, slots))
        if old is not None:
            del self.where[r]
            self._change(r, old, 1, True)
        if slots is not None:
            self.where[r] = slots
            self._change(r, slots, -1, True)

    def undo(self, mark: int) -> None:
        while len(self.log) > mark:
            r, old, new = self.log.pop()
            if new is not None:
                del self.where[r]
                self._change(r, new, 1, True)
            if old is not None:
                self.where[r] = old
                self._change(r, old, -1, True)


@dataclass
class _Level:
    """One level of a round: each request's best option at the level's seat costs."""

    evaluation: Evaluation
    loss: np.ndarray  # model row -> value given up by its move (inf: no move)
    at: np.ndarray  # model row -> the level whose option that move is (this one or, where lower, earlier)


class _Round:
    def __init__(self, lagrangian: Lagrangian, assign: list[int], book: _Book) -> None:
        self.lagrangian = lagrangian
        self.m = lagrangian.m
        self.assign = assign
        self.book = book
        m = self.m
        self.catalogue_of = np.full(len(m.request_ids), -1, dtype=np.int64)
        known = np.flatnonzero(lagrangian.model_row >= 0)
        self.catalogue_of[lagrangian.model_row[known]] = known
        self.levels: list[_Level] = []
        self.values: dict[int, float] = {}  # model row -> its present option's value
        self.options: dict[tuple[int, int], Option] = {}  # (level, model row) -> its option there

    def start(self) -> None:
        """The placed rows (without a partner) and the seats they hold, as arrays for the levels."""
        m, book, lagrangian = self.m, self.book, self.lagrangian
        self.rows = np.fromiter(book.where, dtype=np.int64, count=len(book.where))
        held = [book.where[r] for r in self.rows.tolist()]
        self.holder_row = np.repeat(self.rows, [len(h) for h in held])
        self.holder_slot = np.fromiter(
            (s for h in held for s in h), dtype=np.int64, count=len(self.holder_row)
        )
        self.present = (
            m.value[np.asarray(self.assign, dtype=np.int64)[self.rows]] if len(self.rows) else np.zeros(0)
        )
        # each row's present workplace (catalogue row) and first day, to tell its own option at a level
        catalogue = lagrangian.catalogue
        self.present_row = np.fromiter(
            (catalogue.row_of.get(m.options[self.assign[r]].workplace, -1) for r in self.rows.tolist()),
            dtype=np.int64,
            count=len(self.rows),
        )
        first = np.fromiter((h[0] for h in held), dtype=np.int64, count=len(held))
        self.present_day = lagrangian.slot_day[first] if len(first) else np.zeros(0, dtype=np.int64)

    def costs(self) -> np.ndarray:
        """Seat costs of the next level: free seats 0; full ones the least loss of the level before
        among their holders (out at level 0)."""
        book = self.book
        n_slots = len(book.slot)
        slot_group = np.asarray(book.slot_group, dtype=np.int64)
        group_left = np.asarray([*book.group, 1], dtype=np.int64)  # (a last one for the slots without)
        slot_left = np.asarray(book.slot, dtype=np.int64)
        free = (slot_left > 0) & (group_left[slot_group] > 0)
        cost = np.full(n_slots, INFINITE)
        cost[free] = 0.0
        if not self.levels:
            return cost
        loss = self.levels[-1].loss[self.holder_row]
        slot_least = np.full(n_slots, INFINITE)
        np.minimum.at(slot_least, self.holder_slot, loss)
        group_least = np.full(len(book.group) + 1, INFINITE)
        holder_group = slot_group[self.holder_slot]
        np.minimum.at(group_least, holder_group, loss)  # (the slots without a day cap: the last entry)
        group_least[-1] = INFINITE
        full = ~free
        cost[full] = np.where(slot_left[full] <= 0, slot_least[full], group_least[slot_group[full]])
        return np.maximum(cost, 0.0)

    def add_level(self) -> None:
        evaluation = self.lagrangian.evaluate(self.costs(), 0.0)
        lagrangian = self.lagrangian
        loss = np.full(len(self.m.request_ids), INFINITE)
        i = self.catalogue_of[self.rows]
        value = evaluation.value[i]
        w = evaluation.workplace[i]
        can = np.isfinite(value) & (w >= 0)
        # the first day of each one's best option: its own option is no move
        day = np.full(len(i), -1, dtype=np.int64)
        for g, group in enumerate(lagrangian.groups):
            mine = np.flatnonzero(can & (lagrangian.request_group[i] == g))
            if len(mine):
                day[mine] = lagrangian.slot_day[group.table.day_slot[w[mine], evaluation.start[i[mine]]]]
        can &= (w != self.present_row) | (day != self.present_day)
        loss[self.rows[can]] = np.maximum(self.present[can] - value[can], 0.0)
        at = np.full(len(loss), len(self.levels), dtype=np.int64)
        if self.levels:  # (where its own option ties with a move, or a move costs more: the earlier move)
            earlier = self.levels[-1]
            keep = earlier.loss < loss
            loss[keep] = earlier.loss[keep]
            at[keep] = earlier.at[keep]
        self.levels.append(_Level(evaluation, loss, at))

    def value_of(self, r: int) -> float:
        found = self.values.get(r)
        if found is None:
            found = self.values[r] = float(self.m.value[self.assign[r]])
        return found

    def option(self, level: int, r: int) -> Option:
        key = (level, r)
        found = self.options.get(key)
        if found is None:
            i = np.asarray([self.catalogue_of[r]], dtype=np.int64)
            found = self.options[key] = options_of(self.lagrangian, self.levels[level].evaluation, i)[0]
        return found

    def free(self, s: int, level: int, chain: set[int], moved: list[tuple[int, int]]) -> bool:
        """Room on slot `s` by moving holders with options of `level` (and chains below), played on the
        book; False where it cannot be made."""
        book = self.book
        while not book.room(s):
            if level < 0 or len(moved) >= MAX_MOVES:
                return False
            if book.slot[s] > 0:  # only the day cap is full: anyone on that workplace's day
                candidates = book.group_holders[book.slot_group[s]]
            else:
                candidates = book.holders[s]
            loss = self.levels[level].loss
            q = min(
                (q for q in candidates if q not in chain and np.isfinite(loss[q])),
                key=lambda q: (loss[q], q),
                default=None,
            )
            if q is None:
                return False
            chain.add(q)
            at = int(self.levels[level].at[q])
            slots = self.lagrangian.slots_of(self.levels[at].evaluation, int(self.catalogue_of[q]))
            book.move(q, None)
            # (freeing one of its seats may have taken another: each is checked again)
            if not all(self.free(t, at - 1, chain, moved) for t in slots) or not book.fits(slots):
                return False
            book.move(q, slots)
            moved.append((q, at))
        return True


def chain_round(
    lagrangian: Lagrangian,
    assign: list[int],
    depth: int,
    until: float,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[list[int], int]:
    """One round (module docstring) from `assign` (not changed): the new assignment and how many it
    placed. Stops taking chains at `until` (on `clock`)."""
    m = lagrangian.m
    partner = m.partner
    book = _Book(list(m.capacity), list(m.group_capacity), list(m.slot_group), [], [], {})
    book.holders = [set() for _ in m.capacity]
    book.group_holders = [set() for _ in m.group_capacity]
    for r, j in enumerate(assign):
        if j < 0:
            continue
        slots = m.option_slots[j]
        if partner[r] >= 0:  # (a pair stays where it is: its seats are only taken)
            for s in slots:
                book.slot[s] -= 1
                g = book.slot_group[s]
                if g >= 0:
                    book.group[g] -= 1
            continue
        book.move(r, slots)
    book.log.clear()
    work = _Round(lagrangian, assign, book)
    work.start()
    for _ in range(depth + 1):
        work.add_level()
    last = work.levels[-1].evaluation
    model_row = lagrangian.model_row
    placed = np.asarray(assign, dtype=np.int64)[np.maximum(model_row, 0)] >= 0
    other = lagrangian.partner
    fits = (model_row >= 0) & ~placed & np.isfinite(last.value) & (last.workplace >= 0)
    # a request without a partner worth more than its chain; a pair (each once) where the two together are
    worth = np.where(other >= 0, last.value + last.value[np.maximum(other, 0)], last.value)
    targets = np.flatnonzero(
        fits & (worth > _EPS) & ((other < 0) | ((other > np.arange(len(other))) & fits[np.maximum(other, 0)]))
    )
    targets = targets[np.argsort(-worth[targets], kind="stable")]
    new = list(assign)
    chosen: dict[int, Option] = {}  # model row -> its new option
    gained = 0
    failed: set[int] = set()  # (key, shape) pairs of the Lagrangian whose chain did not hold this round
    for i in targets.tolist():
        if clock() >= until:
            break
        alike = int(lagrangian.request_pair[i])
        if alike in failed:
            continue  # (requests alike want the same seats: their chains fail alike until the next round)
        members = [i] if other[i] < 0 else [i, int(other[i])]
        rows = [int(model_row[k]) for k in members]
        mark = len(book.log)
        chain: set[int] = set(rows)
        moved: list[tuple[int, int]] = []
        held = True
        for k, r in zip(members, rows, strict=True):
            slots = lagrangian.slots_of(last, k)
            if not all(work.free(s, depth - 1, chain, moved) for s in slots) or not book.fits(slots):
                held = False
                break
            book.move(r, slots)
        if held:
            placing = [(r, work.option(depth, r)) for r in rows]
            options = [(q, work.option(level, q)) for q, level in moved]
            gain = sum(PLACED_WEIGHT + option.score for _r, option in placing)
            for q, to in options:
                gain += PLACED_WEIGHT + to.score - work.value_of(q)
            if gain > _EPS:
                for q, to in options + placing:
                    chosen[q] = to
                    work.values[q] = PLACED_WEIGHT + to.score
                gained += len(rows)
                continue
        failed.add(alike)
        book.undo(mark)
    if not chosen:
        return new, 0
    changed = list(chosen)
    for r, j in zip(changed, add_options(m, [chosen[r] for r in changed]), strict=True):
        new[r] = j
    return new, gained


def chained(
    lagrangian: Lagrangian,
    assign: list[int],
    until: float,
    depth: int = DEPTH,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[list[int], int]:
    """`assign` (not changed) after rounds of `chain_round` while they place someone and `MARGIN` times
    the last round's time (before the first: ``depth + 2`` times one evaluation's, as a round takes
    ``depth + 1`` and plays the chains) still fits before `until` (on `clock`); with how many the rounds
    placed."""
    current, placed, _took = chain_rounds(lagrangian, assign, until, None, depth, clock)
    return current, placed


def chain_rounds(
    lagrangian: Lagrangian,
    assign: list[int],
    until: float,
    rounds: int | None,
    depth: int = DEPTH,
    clock: Callable[[], float] = time.monotonic,
    expected: float | None = None,
) -> tuple[list[int], int, float]:
    """As `chained`, at most `rounds` rounds (None: no limit), the first started only when `expected`
    (None: ``depth + 2`` evaluations' time) still fits; with the last round's time (or what was expected
    where none started)."""
    current = list(assign)
    placed = done = 0
    took = expected
    while rounds is None or done < rounds:
        began = clock()
        if took is None:
            lagrangian.evaluate(np.zeros(len(lagrangian.m.capacity)), 0.0)
            took = (depth + 2) * (clock() - began)
        if began + MARGIN * took >= until:
            break
        current, gained = chain_round(lagrangian, current, depth, until, clock)
        took = clock() - began
        placed += gained
        done += 1
        if not gained:
            break
    return current, placed, 0.0 if took is None else took  # (None: no round asked for)
