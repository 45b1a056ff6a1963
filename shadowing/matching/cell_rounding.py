"""A large programme's placement from the LP over (workplace, day) cells, solved beside the solver's steps.

Above ``solver.LP_FIRST_REQUESTS`` the LP over the listed options (``master``) holds one column per
request and option; at 50,000 requests its first round takes 20-28 s and is worth little more than the
proposal it starts from. The cell LP (``cell_lp``) over (workplace, day) cells (``aggregate.WorkplaceCells``)
lets requests alike share a column, one workplace's days, so a few of its columns place many: at 50,000
ties its first round, from the proposals' options and the best options at the Lagrangian's prices, is
worth 44.0 million where the listed options' LP is worth 43.8, and HiGHS's interior point method solves it
in 5-7 s. HiGHS releases the GIL while it solves, so each round runs on a thread of its own while the
solver goes on (its Lagrangian steps, flow, pruning, swaps) on the other core; the round's pricing (two
Lagrangian evaluations, which share the catalogue's tables with everything else) runs in the solver's
thread, at the checkpoints where it calls `poll` (at each subgradient step). The solver starts the
first round from the best options without prices before the floor (first come, first served runs on its
core meanwhile) and offers the floor and its better proposals as it finds them (`offer`: their options
join the next round). The steps pass on their lowest ``L`` so far (`steer`): where it is lower than the
rounds' own, its prices are the centre the rounds' pricing is smoothed towards (the first rounds'
duals are far from optimal; at 50,000 normal their lowest ``L`` was 45.0 million where the steps' reached
44.8 after a few seconds, and 54.2 before the steps). In the last part of the steps, and where a round at
the last one's pace would run past them, no round starts until the next offer, so that the pruned floor's
options are in a round that starts at once. That round always starts and may run to a later `grace`;
any other starts only when, at the last one's pace, it ends before `until`.

The placement (`place`) reads the last optimal round's solution. Each column is a group of requests alike
(or one request of a reciprocal pair) on given days of one workplace, or, for one-day requests without a
partner that name no workplace, one day of a workplace class (``CellLP``'s (class, day) columns, where
nearly all such requests name none: one column places many, and the LP's rounds gain far more each); the
multi-day columns become real options, each request of the group on a slot with a free seat on each of
those days (the day cap kept), in this order:

1. the whole part of every column of more than one day, the columns of largest value first;
2. one more request for each such column whose fraction is a half or more, the largest first;
3. each reciprocal pair whose two members' largest columns both hold a half or more, both or neither;
4. the one-day requests without a partner by the maximum flow (``flow.most_one_day``: the most of them the
   seats left can hold; the LP places them where it likes, the flow where they fit);
5. first come, first served over every option for whoever is left (``baseline.fill_from_catalogue``), and
   the flow once more.

A column whose days no longer fit at its workplace (a fraction placed before it took a seat) places no
more of its group. Every option is checked on the seat book as it is taken, so the placement is
feasible whatever the LP's solution; the solver keeps it only when it is worth more than its best.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict

import numpy as np

from shadowing.matching.aggregate import WorkplaceCells
from shadowing.matching.baseline import fill_from_catalogue, submission_order
from shadowing.matching.cell_lp import CellLP, CellResult
from shadowing.matching.flow import reoptimise_one_day
from shadowing.matching.lagrange import Best, Evaluation, Lagrangian
from shadowing.matching.model import Seats, add_options
from shadowing.matching.options import Option, Problem
from shadowing.matching.pricing import INFINITE

_log = logging.getLogger(__name__)

_FRACTION = 0.5  # a column's fraction places one more of its group from this much (steps 2 and 3)
# Before each round the columns the last one left at 0 with a reduced cost more than this many points
# below 0 are dropped (where options tie the LP needs its many columns of reduced cost 0), each at most
# once (one priced in again stays: column generation still ends).
DROP_BELOW = 1.0
HOLD_SHARE = 0.3  # the last share of the steps in which no round starts (see ``CellRounding``)
# Nor does one that would not end before the steps do if it took this many times as long as the last one
# (at 50,000 a round took 7 to 15 s beside the steps; one that ran past them held back the pruned floor's,
# which is offered 5-7 s after the steps: the flow, the pruning and the swaps come first).
HOLD_ROUNDS = 1.0


class CellRounding:
    """The (workplace, day) cell LP of `lagrangian`'s problem by column generation from `offer`'s
    proposals and the best options at `begin`'s evaluation, each round solved on a thread of its own
    until `until` (``time.monotonic()``) and priced at `poll`. A round that runs longer than the last one
    took may go on until `grace` (later than `until`; no round starts after `until`)."""

    def __init__(
        self,
        lagrangian: Lagrangian,
        until: float,
        assign: list[int] | None = None,
        at: Evaluation | None = None,
        steps_end: float | None = None,
        grace: float | None = None,
    ) -> None:
        self.lagrangian = lagrangian
        self.until = until
        self.grace = until if grace is None else max(until, grace)
        self._hold_from = self._steps_end = INFINITE
        if steps_end is not None:
            self.hold_until(steps_end)
        self._waiting = False
        self._first = False  # the first offer after the steps is waiting for its round (see `_launch`)
        self._dropped: set[tuple[int, ...]] = set()
        self.lp: CellLP | None = None
        self.result = CellResult(INFINITE, np.zeros(0), None, 0, False, -INFINITE)
        # the last optimal round's solution and its columns' keys
        self.solution: tuple[np.ndarray, list[tuple[int, ...]]] | None = None
        self.assignments: list[list[int]] = []  # proposals whose options join before the next round
        self._busy = False
        if assign is not None:
            self.assignments.append(list(assign))
        if at is not None:
            self.begin(at)

    def hold_until(self, steps_end: float) -> None:
        """The steps end at `steps_end`: no round starts in their last part (``HOLD_SHARE``), nor one that
        would not end before them (``HOLD_ROUNDS``), until the next `offer`, so that the proposal offered
        after them (the pruned floor) joins a round at once."""
        self._hold_from = steps_end - HOLD_SHARE * (steps_end - time.monotonic())
        self._steps_end = steps_end

    def offer(self, assign: list[int]) -> None:
        """A proposal (request row -> option column, -1: none) whose options join the LP before its
        next round (started now if one waits for it)."""
        self.assignments.append(list(assign))
        self._first = self._first or self._steps_end < INFINITE  # (the first offer after the steps)
        self._hold_from = self._steps_end = INFINITE
        if self._waiting:
            self._waiting = False
            self._launch(True)

    def begin(self, evaluation: Evaluation) -> None:
        """Build the LP from the offered proposals' options and the best options at `evaluation` and at
        its prices averaged per cell (the smoothing's centre), and start its first round."""
        self.cells = WorkplaceCells(self.lagrangian)
        self.lp = CellLP(self.cells, solver="ipm", by_class=True)
        centre = self.cells.cell_prices(evaluation.slot_cost)
        averaged = self.lagrangian.at(*self.cells.prices(centre))
        self.lp.add_best([evaluation, averaged])
        self.result = CellResult(INFINITE, np.zeros(self.cells.n_cells), None, 0, False, -INFINITE, centre)
        self._launch(True)

    def _launch(self, more: bool) -> None:
        """Add the offered proposals' options, drop the columns the last round left at 0 (the LP stays
        small, its value cannot fall: that round's solution is still feasible) and start a round."""
        lp = self.lp
        assert lp is not None
        for assign in self.assignments:
            lp.add_assignment(assign)
        self.assignments.clear()
        now = time.monotonic()
        if more and (now >= self._hold_from or now + HOLD_ROUNDS * lp.seconds > self._steps_end):
            self._waiting, self._busy = True, False
            return
        # (a round that would end after `until`, as long as the last one took, is not started: the
        # placement gets its time; the one with the first offer after the steps always is, and may go
        # on until `grace`)
        self._busy = more and self.until - time.monotonic() > max(0.05, 0.0 if self._first else lp.seconds)
        if self._busy:
            if self.solution is not None:  # (a column is dropped once at most: no cycling)
                x, keys = self.solution
                unused = np.flatnonzero((x <= 1e-9) & (np.abs(self._reduced) > DROP_BELOW)).tolist()
                unused = [k for k in unused if keys[k] not in self._dropped]
                self._dropped.update(keys[k] for k in unused)
                lp.drop(np.asarray(unused, dtype=np.int64))
            _log.debug("cell LP round %d launched, %d columns", self.result.rounds + 1, lp.n_columns)
            self._first = False
            lp.launch(self.grace - time.monotonic())

    def steer(self, best: Best) -> None:
        """The Lagrangian's lowest ``L`` so far (its steps on the solver's thread): where lower than the
        rounds' own, its prices averaged per cell become the smoothing's centre, so that the rounds price
        new columns near them instead of near the first rounds' duals, which are far from optimal."""
        bound, _y, _z, evaluation = best
        if self.lp is None or bound >= self.result.bound or self.result.centre is None:
            return
        centre = self.cells.cell_prices(evaluation.slot_cost)
        self.result.bound, self.result.cell_price, self.result.evaluation = bound, centre, evaluation
        self.result.centre = centre

    def poll(self) -> None:
        """When a round has ended: keep its solution, price it (in the caller's thread) and start the
        next one, unless converged, not optimal or out of time."""
        if self.lp is None or not self._busy or self.lp.running():
            return
        solved = self.lp.collect()
        if solved is not None and solved[0]:
            answer = self.lp.highs.getSolution()
            x = np.asarray(answer.col_value, dtype=np.float64).copy()
            self.solution = x, list(self.lp.keys)
            self._reduced = np.asarray(answer.col_dual, dtype=np.float64).copy()
        self._launch(solved is not None and self.lp.next_round(solved, self.result))

    def finish(self) -> float:
        """Rounds (each priced here as it ends) until converged or `until` (a round still running then
        stops at its time limit, `grace`): the lowest bound their prices gave."""
        while self._busy:
            self.poll()
            if self._busy:
                time.sleep(0.01)
        return self.result.bound

    @property
    def bound(self) -> float:
        """The lowest certified bound the rounds' prices, or the steps' passed to `steer`, gave
        (``Lagrangian.at``; infinite: none yet)."""
        return self.result.bound

    def place(self, problem: Problem, until: float | None = None) -> list[int] | None:
        """A placement (request row -> option column) from the last optimal round (the module
        docstring's steps; first come, first served in step 5 until `until`); None before one."""
        if self.solution is None or self.lp is None:
            return None
        lg = self.lagrangian
        m = lg.m
        x, keys = self.solution
        waiting: dict[int, list[int]] = defaultdict(list)  # group -> its requests (catalogue order)
        for i in np.flatnonzero(lg.model_row >= 0).tolist():
            waiting[int(self.lp.request_group[i])].append(i)
        for members in waiting.values():
            members.reverse()  # the first last, taken first
        member_of_pair = np.full(self.lp.n_groups, -1, dtype=np.int64)  # a pair's member is a group alone
        paired = np.flatnonzero(lg.partner >= 0)
        member_of_pair[self.lp.request_group[paired]] = paired
        book = _Book(lg, self.cells)
        options: list[Option] = []
        used = np.flatnonzero(x > 1e-6)
        single = [k for k in used.tolist() if len(keys[k]) > 2 and member_of_pair[keys[k][0]] < 0]
        whole = np.floor(x + 1e-6)
        for k in sorted(single, key=lambda k: -x[k]):
            options.extend(book.realise(waiting[keys[k][0]], keys[k][1:], int(whole[k])))
        fraction = x - whole
        for k in sorted(single, key=lambda k: -fraction[k]):
            if fraction[k] >= _FRACTION:
                options.extend(book.realise(waiting[keys[k][0]], keys[k][1:], 1))
        largest: dict[int, int] = {}  # pair member -> its column of largest value
        for k in used.tolist():
            i = int(member_of_pair[keys[k][0]])
            if i >= 0 and lg.model_row[i] >= 0 and (i not in largest or x[k] > x[largest[i]]):
                largest[i] = k
        for i, k in largest.items():
            p = int(lg.partner[i])
            if i < p and p in largest and min(x[k], x[largest[p]]) >= _FRACTION:
                options.extend(book.realise_pair((i, keys[k][1:]), (p, keys[largest[p]][1:])))
        assign = [-1] * len(m.request_ids)
        for j in add_options(m, options):
            assign[int(m.option_request[j])] = j
        assign = reoptimise_one_day(lg, assign)
        seats = Seats(m)
        for j in assign:
            if j >= 0:
                seats.take(j)
        fill_from_catalogue(problem, m, seats, assign, submission_order(problem, m), until)
        if until is None or time.monotonic() < until:
            assign = reoptimise_one_day(lg, assign)
        _log.debug(
            "cell LP placement: %d columns' options, %d placed", len(options), sum(j >= 0 for j in assign)
        )
        return assign


class _Book:
    """The free seats while columns are realised: per slot and day cap, and each workplace's slots per
    day and open days in order (the catalogue's rows)."""

    def __init__(self, lagrangian: Lagrangian, cells: WorkplaceCells) -> None:
        self.lagrangian = lagrangian
        self.cells = cells
        m = lagrangian.m
        self.slot_free = [int(c) for c in m.capacity]
        self.group_free = [int(c) for c in m.group_capacity]
        self.slot_group = m.slot_group
        self.slots_on: dict[tuple[int, int], list[int]] = defaultdict(list)  # (row, day) -> slot rows
        self.position: dict[int, dict[int, int]] = defaultdict(dict)  # row -> day -> its place in the row
        for slot, (w, t) in sorted(lagrangian.catalogue.plain.place.items()):
            day = int(lagrangian.slot_day[slot])
            self.slots_on[(w, day)].append(slot)
            self.position[w][day] = t

    def _fits(self, slot: int) -> bool:
        g = self.slot_group[slot]
        return self.slot_free[slot] > 0 and (g < 0 or self.group_free[g] > 0)

    def _take(self, slots: list[int], sign: int = -1) -> None:
        for s in slots:
            self.slot_free[s] += sign
            g = self.slot_group[s]
            if g >= 0:
                self.group_free[g] += sign

    def _option(self, i: int, cells: tuple[int, ...]) -> tuple[Option, list[int]] | None:
        """Request `i` (catalogue order) on the cells' days at their workplace, on free slots (one a day)
        and taken from the book; None when a day is full or the days are not an option of it there."""
        catalogue = self.lagrangian.catalogue
        r = catalogue.requests[i]
        w = int(self.cells.cell_workplace[cells[0]])
        days = sorted(int(self.cells.cell_day[c]) for c in cells)
        at = self.position[w]
        if any(d not in at for d in days) or len(days) != r.days:
            return None
        if not (r.consecutive and r.days > 1) and any(at[d] != at[days[0]] + n for n, d in enumerate(days)):
            return None  # (not consecutive open days of the workplace)
        slots = []
        for d in days:
            slot = next((s for s in self.slots_on[(w, d)] if self._fits(s)), None)
            if slot is None:
                return None
            slots.append(slot)
        self._take(slots)
        wid, org = int(catalogue.grid.ids[w]), int(catalogue.grid.organisation[w])
        ids = tuple(catalogue.slot_ids[s] for s in slots)
        return Option(r.id, wid, org, ids, catalogue.score(r, wid, org)), slots

    def realise(self, members: list[int], cells: tuple[int, ...], count: int) -> list[Option]:
        """Up to `count` of `members` (taken from its end) on the cells' days at their workplace."""
        options = []
        while count > 0 and members:
            found = self._option(members[-1], cells)
            if found is None:
                break  # (the members are alike: none of them fits)
            members.pop()
            options.append(found[0])
            count -= 1
        return options

    def realise_pair(self, a: tuple[int, tuple[int, ...]], b: tuple[int, tuple[int, ...]]) -> list[Option]:
        """Both members of a pair on their columns' days, or neither."""
        first = self._option(*a)
        if first is None:
            return []
        second = self._option(*b)
        if second is None:
            self._take(first[1], +1)
            return []
        return [first[0], second[0]]
