"""The matching problem as arrays, its objective, and the seat book that rounding and repair work on.

Plain data in, plain data out: no Django (see ``shadowing.matching``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shadowing.matching.options import Option, Problem

# Placing one more person is worth this much more than any preference score (see ``solver``).
PLACED_WEIGHT = 1000.0


@dataclass
class Model:
    """The problem as arrays indexed by request row, option column and slot row."""

    request_ids: list[int]
    option_request: np.ndarray  # option -> request row
    value: np.ndarray  # option -> 1000 + score
    option_slots: list[tuple[int, ...]]  # option -> slot rows
    capacity: list[int]  # slot row -> seats
    slot_group: list[int]  # slot row -> day-cap group or -1
    group_capacity: list[int]
    partner: list[int]  # request row -> partner's request row or -1
    request_options: list[list[int]]  # request row -> options, best value first
    request_org: np.ndarray  # request row -> organisation index
    org_size: np.ndarray  # organisation index -> requests with options
    fairness_coefficient: float  # fairness_weight * organisations * smallest organisation
    slot_row: dict[int, int]  # slot id -> slot row
    options: list[Option]  # option column -> option (the problem's first ones, then those added)
    row_of: dict[int, int] = field(default_factory=dict)  # request id -> request row
    column_of: dict[tuple[int, tuple[int, ...]], int] = field(default_factory=dict)  # (request, slots)


def build_model(problem: Problem) -> Model:
    request_ids = sorted({o.request for o in problem.options})
    row = {rid: i for i, rid in enumerate(request_ids)}
    slot_row: dict[int, int] = {}
    capacity: list[int] = []
    for sid, seats in problem.capacity.items():
        slot_row[sid] = len(capacity)
        capacity.append(int(seats))
    slot_group = [-1] * len(capacity)
    group_capacity: list[int] = []
    for g, (sids, seats) in enumerate(problem.day_caps):
        for sid in sids:
            if sid in slot_row:
                slot_group[slot_row[sid]] = g
        group_capacity.append(int(seats))

    options = problem.options
    n = len(options)
    rows = [row[o.request] for o in options]
    option_request = np.asarray(rows, dtype=np.int64)
    value = PLACED_WEIGHT + np.fromiter((o.score for o in options), dtype=np.float64, count=n)
    slot_of = slot_row.__getitem__
    option_slots: list[tuple[int, ...]] = [tuple(map(slot_of, o.slots)) for o in options]
    request_options: list[list[int]] = [[] for _ in request_ids]
    for j, r in enumerate(rows):
        request_options[r].append(j)
    values = value.tolist()
    for opts in request_options:
        opts.sort(key=lambda j: -values[j])

    partner = [-1] * len(request_ids)
    for a, b in problem.pairs:
        if a in row and b in row:
            partner[row[a]] = row[b]
            partner[row[b]] = row[a]

    org_index: dict[int, int] = {}
    request_org = np.empty(len(request_ids), dtype=np.int64)
    for i, rid in enumerate(request_ids):
        org = problem.requests[rid].organisation
        request_org[i] = org_index.setdefault(org, len(org_index))
    org_size = np.bincount(request_org, minlength=len(org_index)).astype(np.float64)
    return Model(
        request_ids=request_ids,
        option_request=option_request,
        value=value,
        option_slots=option_slots,
        capacity=capacity,
        slot_group=slot_group,
        group_capacity=group_capacity,
        partner=partner,
        request_options=request_options,
        slot_row=slot_row,
        options=list(options),
        row_of=row,
        column_of={(o.request, o.slots): j for j, o in enumerate(options)},
        request_org=request_org,
        org_size=org_size,
        fairness_coefficient=fairness_coefficient(float(problem.fairness_weight), org_size),
    )


def add_options(m: Model, options: list[Option]) -> list[int]:
    """The columns of `options`, adding those the model does not have yet (their requests have rows)."""
    columns: list[int] = []
    new_rows: list[int] = []
    new_values: list[float] = []
    for option in options:
        key = (option.request, option.slots)
        j = m.column_of.get(key)
        if j is None:
            j = len(m.options)
            r = m.row_of[option.request]
            value = PLACED_WEIGHT + option.score
            m.options.append(option)
            m.column_of[key] = j
            m.option_slots.append(tuple(m.slot_row[s] for s in option.slots))
            # the request's options stay best value first (a new one after those of equal value)
            opts = m.request_options[r]
            at = len(opts)
            while at > 0:
                k = opts[at - 1]
                if (m.value[k] if k < len(m.value) else new_values[k - len(m.value)]) >= value:
                    break
                at -= 1
            opts.insert(at, j)
            new_rows.append(r)
            new_values.append(value)
        columns.append(j)
    if new_rows:
        m.option_request = np.concatenate([m.option_request, np.asarray(new_rows, dtype=np.int64)])
        m.value = np.concatenate([m.value, np.asarray(new_values)])
    return columns


def fairness_coefficient(weight: float, org_size: np.ndarray) -> float:
    """The weight of ``z`` in the objective: weight * organisations * requests of the smallest one."""
    if not weight or not len(org_size):
        return 0.0
    return weight * len(org_size) * float(org_size.min())


def objective_of(m: Model, assign: list[int]) -> tuple[float, int]:
    chosen = [j for j in assign if j >= 0]
    total = float(m.value[chosen].sum()) if chosen else 0.0
    if m.fairness_coefficient and len(m.org_size):
        placed_rows = np.fromiter((r for r, j in enumerate(assign) if j >= 0), dtype=np.int64)
        per_org = np.bincount(m.request_org[placed_rows], minlength=len(m.org_size))
        total += m.fairness_coefficient * float((per_org / m.org_size).min())
    return total, len(chosen)


class Seats:
    """Remaining slot and day-cap seats while options are taken and given back."""

    def __init__(self, m: Model) -> None:
        self.m = m
        self.slot = list(m.capacity)
        self.group = list(m.group_capacity)

    def fits(self, j: int) -> bool:
        slot, group, slot_group = self.slot, self.group, self.m.slot_group
        for s in self.m.option_slots[j]:
            if slot[s] <= 0:
                return False
            g = slot_group[s]
            if g >= 0 and group[g] <= 0:
                return False
        return True

    def take(self, j: int) -> None:
        for s in self.m.option_slots[j]:
            self.slot[s] -= 1
            g = self.m.slot_group[s]
            if g >= 0:
                self.group[g] -= 1

    def give_back(self, j: int) -> None:
        for s in self.m.option_slots[j]:
            self.slot[s] += 1
            g = self.m.slot_group[s]
            if g >= 0:
                self.group[g] += 1
