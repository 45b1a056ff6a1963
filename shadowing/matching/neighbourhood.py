"""Large-neighbourhood search: a few workplaces' seats for one week re-solved exactly by a small MIP.

After the flow, the swaps and the insertion (``flow.py``, ``swap.py``, ``insert.py``) the seats a
workplace class leaves free in a week are often scattered: one day free at one workplace, the next day at
another, so that no unplaced request of two or three days fits, though the requests placed there could
move to other days or other workplaces of the class and make room. `improve_neighbourhoods` takes one
*neighbourhood* at a time: the workplaces of one class (one organisation, allowed for the same keys; the
Lagrangian's classes) and the days of one week. Everything outside it stays fixed. The requests placed
only on its seats (no partner) are freed, a few unplaced requests that may use its seats are added (at
most ``PER_SHAPE`` alike, ``MAX_WAITING`` in all), and HiGHS's MIP chooses among *every* feasible option
of these requests on these seats (the rules of ``options.py``, read from the catalogue's tables), with
the seats the fixed requests leave, the day caps and the fairness term of the whole objective (``solver``
states the model): the sub-problem is solved exactly where HiGHS finishes within its time. The present
placement is handed to HiGHS as its first solution, so what comes back is never worse; a neighbourhood's
new placement is kept only when the whole objective rises, each option checked on the seat book.

The neighbourhoods are taken in the order of the smaller of their free seats and the unplaced requests
whose key allows the class and whose windows meet the week, largest first: where seats are free and
someone waits, the placement there may not be the best. A solve starts only where the longest one so far
(or ``FIRST_SOLVE`` seconds before the first) still fits before the end. Before them, `refill` places
unplaced requests on the free seats they fit (the steps before move one-day requests and leave such
seats). `swapped_and_searched` runs both after ``swap.swapped`` in the time it leaves (the end of a large
programme's solve). Measured at 50,000: a few dozen people at most (``docs/matching.md``, 9).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import highspy
import numpy as np

from shadowing.matching.lagrange import Lagrangian
from shadowing.matching.lagrange_columns import options_of
from shadowing.matching.model import Seats, add_options, objective_of
from shadowing.matching.options import Option, weekday
from shadowing.matching.pricing import INFINITE, _Table
from shadowing.matching.swap import swapped

# At most this many unplaced requests join one neighbourhood, and at most PER_SHAPE of one key and shape
# (requests alike are interchangeable: more of them only multiply the MIP's symmetric solutions).
MAX_WAITING = 150
PER_SHAPE = 4
# HiGHS's time per neighbourhood (it returns the best placement found, never worse than the present).
SOLVE_SECONDS = 1.0
# The time a first solve is expected to take, before one has been measured.
FIRST_SOLVE = 0.5
_EPS = 1e-9


@dataclass(frozen=True)
class Neighbourhood:
    """The workplaces (catalogue rows) of one class and the days (ordinals, inclusive) of one week."""

    rows: tuple[int, ...]
    first_day: int
    last_day: int


@dataclass
class SubProblem:
    """The options of the freed and waiting requests on a neighbourhood's seats, and what they may use."""

    requests: list[int]  # model rows
    options: list[Option]
    option_row: list[int]  # option -> index in `requests`
    slots: list[int]  # the slot rows of the neighbourhood with a seat for them
    slot_free: list[int]
    groups: list[int]  # the day caps of those slots
    group_free: list[int]
    current: list[int]  # per request: its present option's index in `options`, or -1


def _cells(table: _Table, w: int, t: int) -> list[int]:
    """The slot rows of row `w`'s open day number `t` in `table`."""
    at = w * table.width + t
    lo, hi = np.searchsorted(table.cell, [at, at + 1])
    return table.slot[lo:hi].tolist()


def options_within(
    lagrangian: Lagrangian, i: int, hood: Neighbourhood, usable: dict[int, int] | None = None
) -> list[Option]:
    """Every feasible option of request `i` (catalogue order) on the seats of `hood` (the rules of
    ``options.py``, read from the catalogue's tables as ``Catalogue.feasible`` reads them), on the slot
    rows `usable` holds with a seat (every slot of `hood` when None)."""
    catalogue = lagrangian.catalogue
    r = catalogue.requests[i]
    k = r.days
    if k < 1:
        return []
    working = r.consecutive and k > 1 and catalogue.working is not None
    table = catalogue.working if working else catalogue.plain
    assert table is not None
    if k not in table.valid:
        return []
    windows = [(a.toordinal(), b.toordinal()) for a, b in r.windows if a <= b]
    allowed = lagrangian.allowed[lagrangian.request_key[i]]
    grid = catalogue.grid
    found: list[Option] = []
    for w in hood.rows:
        if not allowed[w]:
            continue
        ordinals = table.ordinal[w]
        lo = int(np.searchsorted(ordinals, hood.first_day))
        hi = int(np.searchsorted(ordinals, hood.last_day, side="right"))
        wid, org = int(grid.ids[w]), int(grid.organisation[w])
        score = catalogue.score(r, wid, org)
        for t in range(lo, hi - k + 1):
            if not table.valid[k][w, t]:
                continue
            first, last = int(ordinals[t]), int(ordinals[t + k - 1])
            if not any(a <= first and last <= b for a, b in windows):
                continue
            per_day = [_cells(table, w, t + d) for d in range(k)]
            if usable is not None:
                per_day = [[s for s in day if usable.get(s, 0) > 0] for day in per_day]
            for combination in itertools.product(*per_day):
                slots = tuple(catalogue.slot_ids[s] for s in combination)
                found.append(Option(r.id, wid, org, slots, score))
    return found


class Neighbourhoods:
    """Every (class, week) of a programme and which of them each slot row and each placement lies in."""

    def __init__(self, lagrangian: Lagrangian) -> None:
        self.lagrangian = lagrangian
        table = lagrangian.catalogue.plain
        m = lagrangian.m
        self.slot_hood = np.full(len(m.capacity), -1, dtype=np.int64)
        index: dict[tuple[int, int], int] = {}
        self.hoods: list[Neighbourhood] = []
        hood_class: list[int] = []
        row_class = np.full(lagrangian.n_rows + 1, -1, dtype=np.int64)
        for c, rows in enumerate(lagrangian.class_rows):
            row_class[rows] = c
        for slot, (w, t) in sorted(table.place.items()):
            c = int(row_class[w])
            if c < 0:
                continue
            day = int(table.ordinal[w, t])
            monday = day - weekday(day)
            h = index.get((c, monday))
            if h is None:
                h = index[(c, monday)] = len(self.hoods)
                members = tuple(int(x) for x in lagrangian.class_rows[c] if x < lagrangian.n_rows)
                self.hoods.append(Neighbourhood(members, monday, monday + 6))
                hood_class.append(c)
            self.slot_hood[slot] = h
        self.hood_class = np.asarray(hood_class, dtype=np.int64)
        order = np.argsort(self.slot_hood, kind="stable")
        cuts = np.searchsorted(self.slot_hood[order], np.arange(len(self.hoods) + 1))
        self.hood_slots = [order[cuts[h] : cuts[h + 1]].tolist() for h in range(len(self.hoods))]
        self.hood_monday = np.asarray([hood.first_day for hood in self.hoods], dtype=np.int64)
        # model row -> catalogue index
        self.index_of_row = np.full(len(m.request_ids), -1, dtype=np.int64)
        known = lagrangian.model_row >= 0
        self.index_of_row[lagrangian.model_row[known]] = np.flatnonzero(known)

    def hood_of(self, j: int) -> int:
        """The neighbourhood all of option `j`'s slots lie in, or -1."""
        hoods = {int(self.slot_hood[s]) for s in self.lagrangian.m.option_slots[j]}
        return hoods.pop() if len(hoods) == 1 else -1

    def order(self, assign: list[int], seats: Seats) -> list[int]:
        """The neighbourhoods with free seats that some unplaced request (no partner) may want (its key
        allows the class, its windows meet the week), most free seats first."""
        lagrangian = self.lagrangian
        m = lagrangian.m
        free = np.maximum(np.asarray(seats.slot, dtype=np.int64), 0)
        if len(m.group_capacity):
            group = np.asarray(m.slot_group, dtype=np.int64)
            closed = (group >= 0) & (np.asarray(seats.group, dtype=np.int64)[np.maximum(group, 0)] <= 0)
            free[closed] = 0
        known = self.slot_hood >= 0
        hood_free = np.bincount(self.slot_hood[known], weights=free[known], minlength=len(self.hoods))
        # the unplaced requests per (key, week)
        waiting = _waiting(lagrangian, assign)
        mondays = np.unique(self.hood_monday)
        wants = np.zeros((len(lagrangian.key_rows), len(mondays)), dtype=np.int64)
        requests = lagrangian.catalogue.requests
        for i in waiting.tolist():
            k = int(lagrangian.request_key[i])
            weeks = np.zeros(len(mondays), dtype=bool)
            for a, b in requests[i].windows:
                lo = int(np.searchsorted(mondays, a.toordinal() - 6))
                hi = int(np.searchsorted(mondays, b.toordinal(), side="right"))
                weeks[lo:hi] = True
            wants[k] += weeks
        allowed = (lagrangian.penalty == 0).astype(np.int64)  # (key, class)
        wanting = (allowed.T @ wants)[self.hood_class, np.searchsorted(mondays, self.hood_monday)]
        score = np.minimum(hood_free, wanting)
        candidates = np.flatnonzero(score > 0)
        return candidates[np.argsort(-score[candidates], kind="stable")].tolist()

    def waiting_for(self, h: int, waiting: np.ndarray) -> list[int]:
        """Up to ``MAX_WAITING`` of the unplaced requests `waiting` (catalogue order, submission order)
        whose key allows the class of `h` and whose windows meet its week, at most ``PER_SHAPE`` alike."""
        lagrangian = self.lagrangian
        hood = self.hoods[h]
        allowed = lagrangian.allowed[lagrangian.request_key[waiting]][:, list(hood.rows)].any(axis=1)
        requests = lagrangian.catalogue.requests
        taken: list[int] = []
        alike: dict[int, int] = {}
        for i in waiting[allowed].tolist():
            windows = requests[i].windows
            if not any(
                a.toordinal() <= hood.last_day and hood.first_day <= z.toordinal() for a, z in windows
            ):
                continue
            pair = int(lagrangian.request_pair[i])
            if alike.get(pair, 0) >= PER_SHAPE:
                continue
            alike[pair] = alike.get(pair, 0) + 1
            taken.append(i)
            if len(taken) >= MAX_WAITING:
                break
        return taken

    def sub_problem(self, h: int, assign: list[int], seats: Seats, waiting: list[int]) -> SubProblem:
        """The requests placed on the seats of `h` only (no partner) freed, with `waiting` (catalogue
        order, unplaced), and all their options on the seats of `h` that the others leave."""
        lagrangian = self.lagrangian
        m = lagrangian.m
        hood_slots = self.hood_slots[h]
        freed = sorted(
            {
                int(r)
                for s in hood_slots
                for r in self._placed_on(s)
                if m.partner[r] < 0 and self.hood_of(assign[r]) == h
            }
        )
        free = {s: seats.slot[s] for s in hood_slots}
        group_free: dict[int, int] = {}
        for s in hood_slots:
            g = m.slot_group[s]
            if g >= 0:
                group_free[g] = seats.group[g]
        for r in freed:
            for s in m.option_slots[assign[r]]:
                free[s] += 1
                g = m.slot_group[s]
                if g >= 0:
                    group_free[g] += 1
        usable = {
            s: n
            for s, n in free.items()
            if n > 0 and (m.slot_group[s] < 0 or group_free[m.slot_group[s]] > 0)
        }
        requests = freed + [int(lagrangian.model_row[i]) for i in waiting]
        options: list[Option] = []
        option_row: list[int] = []
        current: list[int] = []
        for at, r in enumerate(requests):
            found = options_within(lagrangian, int(self.index_of_row[r]), self.hoods[h], usable)
            here = -1
            if assign[r] >= 0:
                present = m.options[assign[r]]
                here = next((n for n, o in enumerate(found) if o.slots == present.slots), -1)
                if here < 0:  # (kept so that the present placement is one solution of the MIP)
                    found.append(present)
                    here = len(found) - 1
            current.append(-1 if here < 0 else len(options) + here)
            options.extend(found)
            option_row.extend([at] * len(found))
        slots = sorted(usable)
        groups = sorted({m.slot_group[s] for s in slots if m.slot_group[s] >= 0})
        return SubProblem(
            requests=requests,
            options=options,
            option_row=option_row,
            slots=slots,
            slot_free=[usable[s] for s in slots],
            groups=groups,
            group_free=[group_free[g] for g in groups],
            current=current,
        )

    def index_placed(self, assign: list[int]) -> None:
        """Which placed requests sit on each slot row (for `sub_problem`)."""
        m = self.lagrangian.m
        self._on_slot: dict[int, set[int]] = {}
        for r, j in enumerate(assign):
            if j >= 0:
                for s in m.option_slots[j]:
                    self._on_slot.setdefault(s, set()).add(r)

    def moved(self, r: int, old: int, new: int) -> None:
        """Request row `r` moved from option `old` to `new` (-1: none)."""
        m = self.lagrangian.m
        if old >= 0:
            for s in m.option_slots[old]:
                self._on_slot[s].discard(r)
        if new >= 0:
            for s in m.option_slots[new]:
                self._on_slot.setdefault(s, set()).add(r)

    def _placed_on(self, s: int) -> set[int]:
        return self._on_slot.get(s, set())


def _waiting(lagrangian: Lagrangian, assign: list[int]) -> np.ndarray:
    """The unplaced requests without a partner (catalogue order), in submission order."""
    model_row = lagrangian.model_row
    placed = np.asarray(assign, dtype=np.int64)[np.maximum(model_row, 0)] >= 0
    found = np.flatnonzero((model_row >= 0) & (lagrangian.partner < 0) & ~placed)
    requests = lagrangian.catalogue.requests
    return np.asarray(sorted(found.tolist(), key=lambda i: requests[i].submitted_at), dtype=np.int64)


def solve_sub_problem(
    lagrangian: Lagrangian, assign: list[int], sub: SubProblem, seconds: float
) -> list[int] | None:
    """The best option of each request of `sub` (an index into ``sub.options``, or -1) by HiGHS's MIP
    within `seconds`, with the whole objective's fairness term; started from the present placement, so
    never worth less. None when HiGHS returns no solution."""
    m = lagrangian.m
    n, n_req = len(sub.options), len(sub.requests)
    if not n:
        return None
    slot_row = {s: n_req + k for k, s in enumerate(sub.slots)}
    group_row = {g: n_req + len(sub.slots) + k for k, g in enumerate(sub.groups)}
    org0 = n_req + len(sub.slots) + len(sub.groups)
    with_z = m.fairness_coefficient > 0
    n_org = len(m.org_size) if with_z else 0
    starts = [0]
    index: list[int] = []
    cost = np.empty(n + (1 if with_z else 0))
    for o, option in enumerate(sub.options):
        rows = [sub.option_row[o]]
        for sid in option.slots:
            s = m.slot_row[sid]
            rows.append(slot_row[s])
            g = m.slot_group[s]
            if g >= 0:
                rows.append(group_row[g])
        if with_z:
            rows.append(org0 + int(m.request_org[sub.requests[sub.option_row[o]]]))
        index.extend(rows)
        starts.append(len(index))
        cost[o] = -(1000.0 + option.score)
    values = np.ones(len(index))
    upper = np.concatenate(
        [np.ones(n_req), np.asarray(sub.slot_free, dtype=float), np.asarray(sub.group_free, dtype=float)]
    )
    start_x = np.zeros(n + (1 if with_z else 0))
    for o in sub.current:
        if o >= 0:
            start_x[o] = 1.0
    if with_z:
        # z * n_g - (placed of g in the sub-problem) <= placed of g outside it
        values = np.where(np.asarray(index) >= org0, -1.0, 1.0)
        index.extend(range(org0, org0 + n_org))
        starts.append(len(index))
        values = np.concatenate([values, np.asarray(m.org_size, dtype=float)])
        inside = set(sub.requests)
        outside = np.zeros(n_org)
        for r, j in enumerate(assign):
            if j >= 0 and r not in inside:
                outside[int(m.request_org[r])] += 1
        upper = np.concatenate([upper, outside])
        cost[n] = -m.fairness_coefficient
        placed = outside.copy()
        for o in sub.current:
            if o >= 0:
                placed[int(m.request_org[sub.requests[sub.option_row[o]]])] += 1
        start_x[n] = min(1.0, float((placed / np.maximum(m.org_size, 1.0)).min()))
    lp = highspy.HighsLp()
    lp.num_col_ = len(cost)
    lp.num_row_ = len(upper)
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(len(cost))
    lp.col_upper_ = np.ones(len(cost))
    lp.row_lower_ = np.full(len(upper), -highspy.kHighsInf)
    lp.row_upper_ = upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.asarray(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
    lp.a_matrix_.value_ = values
    continuous = [highspy.HighsVarType.kContinuous] if with_z else []
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n + continuous
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(max(seconds, 0.01)))
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.passModel(lp)
    start = highspy.HighsSolution()
    start.col_value = start_x.tolist()
    start.value_valid = True
    highs.setSolution(start)
    highs.run()
    if highs.getInfo().primal_solution_status != 2:  # (2: a feasible solution)
        return None
    x = np.asarray(highs.getSolution().col_value)[:n]
    chosen = [-1] * n_req
    for o in np.flatnonzero(x > 0.5).tolist():
        chosen[sub.option_row[o]] = o
    return chosen


def refill(lagrangian: Lagrangian, assign: list[int], until: float) -> list[int]:
    """`assign` (not changed) with unplaced requests (no partner) on the free seats: in rounds, each
    one's best option on the free seats only (one ``Lagrangian.evaluate`` for all of them, the full
    seats priced out), taken in submission order where it still fits, until a round places no one or
    `until` (``time.monotonic()``) has passed. The steps before leave free seats (a swap or the flow
    moving a one-day request) that an unplaced request of two or three days fits."""
    m = lagrangian.m
    new = list(assign)
    seats = Seats(m)
    for j in new:
        if j >= 0:
            seats.take(j)
    group = np.asarray(m.slot_group, dtype=np.int64)
    took = FIRST_SOLVE  # (the time a round is expected to take: the last one's)
    while time.monotonic() + took < until:
        began = time.monotonic()
        free = np.asarray(seats.slot) > 0
        if len(m.group_capacity):
            free &= (group < 0) | (np.asarray(seats.group) > 0)[np.maximum(group, 0)]
        evaluation = lagrangian.evaluate(np.where(free, 0.0, INFINITE), 0.0)
        waiting = _waiting(lagrangian, new)
        waiting = waiting[np.isfinite(evaluation.value[waiting]) & (evaluation.workplace[waiting] >= 0)]
        placed = 0
        columns = add_options(m, options_of(lagrangian, evaluation, waiting))
        for i, j in zip(waiting.tolist(), columns, strict=True):
            r = int(lagrangian.model_row[i])
            if new[r] < 0 and seats.fits(j):
                seats.take(j)
                new[r] = j
                placed += 1
        took = time.monotonic() - began
        if not placed:
            break
    return new


def improve_neighbourhoods(
    lagrangian: Lagrangian, assign: list[int], until: float, hoods: Neighbourhoods | None = None
) -> tuple[list[int], int]:
    """`assign` (not changed) after re-solving neighbourhoods (see the module docstring) until `until`
    (``time.monotonic()``), and how many changed it. A neighbourhood's new placement is kept only when
    the whole objective rises; a solve starts only when the longest so far (``FIRST_SOLVE`` before the
    first) still fits before `until`."""
    m = lagrangian.m
    hoods = Neighbourhoods(lagrangian) if hoods is None else hoods
    new = list(assign)
    seats = Seats(m)
    for j in new:
        if j >= 0:
            seats.take(j)
    hoods.index_placed(new)
    objective = objective_of(m, new)[0]
    longest = FIRST_SOLVE
    changed = 0
    order = hoods.order(new, seats)
    waiting = _waiting(lagrangian, new)
    for h in order:
        began = time.monotonic()
        if began + longest >= until:
            break
        sub = hoods.sub_problem(h, new, seats, hoods.waiting_for(h, waiting))
        chosen = solve_sub_problem(lagrangian, new, sub, min(SOLVE_SECONDS, until - began))
        longest = max(longest, time.monotonic() - began)
        if chosen is None:
            continue
        trial = list(new)
        for r in sub.requests:
            if trial[r] >= 0:
                seats.give_back(trial[r])
            trial[r] = -1
        picked = [(r, sub.options[o]) for r, o in zip(sub.requests, chosen, strict=True) if o >= 0]
        columns = add_options(m, [o for _r, o in picked])
        fits = True
        taken: list[int] = []
        for (r, _o), j in zip(picked, columns, strict=True):
            if not seats.fits(j):
                fits = False
                break
            seats.take(j)
            taken.append(j)
            trial[r] = j
        found = objective_of(m, trial)[0] if fits else -np.inf
        if found > objective + _EPS:
            for r in sub.requests:
                hoods.moved(r, new[r], trial[r])
            new, objective = trial, found
            changed += 1
            waiting = _waiting(lagrangian, new)
            continue
        for j in taken:  # (not kept: the seat book back as it was)
            seats.give_back(j)
        for r in sub.requests:
            if new[r] >= 0:
                seats.take(new[r])
    return new, changed


def swapped_and_searched(
    lagrangian: Lagrangian,
    best: list[int],
    objective: float,
    method: str,
    prices: tuple[np.ndarray, np.ndarray],
    until: float,
    flow_seconds: float = 0.0,
) -> tuple[list[int], float, str]:
    """``swap.swapped``, then, in the time it leaves before `until`, `refill` and
    `improve_neighbourhoods`: kept when the whole objective rises."""
    current, current_objective, method = swapped(
        lagrangian, best, objective, method, prices, until, flow_seconds
    )
    if time.monotonic() + 2 * FIRST_SOLVE >= until:  # (a first solve and the neighbourhoods' order)
        return current, current_objective, method
    found, _changed = improve_neighbourhoods(lagrangian, refill(lagrangian, current, until), until)
    value = objective_of(lagrangian.m, found)[0]
    if value > current_objective + _EPS:
        return found, value, method + "+neighbourhoods"
    return current, current_objective, method
