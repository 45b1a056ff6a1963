"""The most one-day requests placed at once: a maximum flow over request groups, days and workplaces.

Where seats are scarce (demand three times the seats), each seat is best used by a one-day request (one
person for one seat, where a three-day request takes three), and first come, first served or a rounding
leaves many seats to the requests that come first or need more days. For one-day requests without a
partner, choosing who goes where is a bipartite matching (requests to seats), and a maximum one places
the most of them on the seats given. Listing the request-seat pairs does not fit at 50,000 requests
(thousands of seats per request), so the network is the one of the Lagrangian's groups:

    source -> (key, windows)   as many as the group's one-day requests
           -> (key, day)       for each day inside the windows
           -> (class, day)     for each workplace class the key allows with a free seat that day
           -> sink             the free seats of the class's workplaces that day (slots, day cap)

Requests of one key and windows have the same options; the workplaces of one class (one organisation,
allowed for the same keys) are interchangeable for them. A unit of flow through (key, day) and (class,
day) is one request of the key placed on one free seat of the class that day, so the flow's value is the
most such requests any placement can hold on these seats (the network is the bipartite graph with alike
nodes merged). scipy's maximum flow (Dinic) solves it in 0.2-0.6 s at 50,000 requests; the flow
is then read back into options, one request and one free slot at a time.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from shadowing.matching.baseline import fill_from_catalogue, submission_order
from shadowing.matching.lagrange import Lagrangian
from shadowing.matching.model import PLACED_WEIGHT, Seats, add_options, objective_of
from shadowing.matching.options import OTHER_WORKPLACE_SCORE, Option, Problem


def one_day_requests(lagrangian: Lagrangian, assign: list[int]) -> np.ndarray:
    """The requests (catalogue order) of one day, without a partner, in the model and not placed."""
    model_row = lagrangian.model_row
    placed = np.asarray(assign, dtype=np.int64)[np.maximum(model_row, 0)] >= 0
    return np.flatnonzero(
        (lagrangian.request_days == 1) & (lagrangian.partner < 0) & (model_row >= 0) & ~placed
    )


@dataclass
class OneDayNetwork:
    """The network of the module docstring for some one-day requests on the free seats of a `Seats`."""

    graph: csr_matrix
    groups: list[tuple[int, tuple[tuple[int, int], ...]]]  # (key, windows), node 2 + index
    members: dict[tuple[int, tuple[tuple[int, int], ...]], list[int]]
    keys: list[int]  # the keys of the groups, in the order of the (key, day) nodes
    n_days: int
    n_classes: int
    row_class: np.ndarray  # catalogue row -> its class (-1: none)
    cells: np.ndarray  # the open cells (row * width + start) with free seats
    cell_class: np.ndarray
    cell_day: np.ndarray
    free: np.ndarray  # the free seats of each open cell
    class_day: np.ndarray  # (class, day) -> its free seats


def one_day_network(
    lagrangian: Lagrangian, seats: Seats, requests: np.ndarray, extra: np.ndarray | None = None
) -> OneDayNetwork:
    """The maximum flow's network for `requests` (catalogue order; one day each, no partner) on the free
    seats of `seats`. With `extra` ((class, day) -> seats), as many more free seats at each (class, day),
    an arc from each group to (key, day) on every day of its windows and the arcs (key, day) -> (class,
    day) not capped (the sink's arcs are): networks with different `extra` then have the same nodes, and
    the arcs of a smaller one are among those of a larger."""
    catalogue = lagrangian.catalogue
    table = catalogue.plain
    n_rows = lagrangian.n_rows
    width = table.width
    n_days = max(table.n_days, 1)
    # the free seats of every open day (cell = row * width + start): its slots, capped by the day cap
    slot_free = np.maximum(np.asarray(seats.slot, dtype=np.int64), 0)
    group_free = np.maximum(np.asarray(seats.group, dtype=np.int64), 0)
    cells, first = np.unique(table.cell, return_index=True)
    cell_of_entry = np.searchsorted(cells, table.cell)
    free = np.bincount(cell_of_entry, weights=slot_free[table.slot], minlength=len(cells)).astype(np.int64)
    group = lagrangian.slot_group[table.slot]
    capped = group >= 0
    if capped.any():
        cap = np.full(len(cells), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(cap, cell_of_entry[capped], group_free[group[capped]])
        free = np.minimum(free, cap)
    cell_row = cells // width
    cell_day = table.ordinal.reshape(-1)[cells] - catalogue.day0
    open_cell = free > 0
    cells, cell_row, cell_day, free = (
        cells[open_cell],
        cell_row[open_cell],
        cell_day[open_cell],
        free[open_cell],
    )
    # the workplace classes and their free seats per day
    class_rows = lagrangian.class_rows
    n_classes = len(class_rows)
    row_class = np.full(n_rows + 1, -1, dtype=np.int64)
    for c in range(n_classes):
        row_class[class_rows[c]] = c
    cell_class = row_class[cell_row]
    class_day = np.bincount(cell_class * n_days + cell_day, weights=free, minlength=n_classes * n_days)
    class_day = class_day.astype(np.int64).reshape(n_classes, n_days)
    # the groups: (key, windows), their requests in the order given
    members: dict[tuple[int, tuple[tuple[int, int], ...]], list[int]] = defaultdict(list)
    for i in requests.tolist():
        r = catalogue.requests[i]
        windows = tuple(
            sorted((a.toordinal() - catalogue.day0, b.toordinal() - catalogue.day0) for a, b in r.windows)
        )
        members[(int(lagrangian.request_key[i]), windows)].append(i)
    groups = list(members)
    keys = sorted({k for k, _ in groups})
    key_local = {k: j for j, k in enumerate(keys)}
    allowed = lagrangian.penalty[keys] == 0  # (keys, classes)
    seats_for_key = allowed.astype(np.int64) @ class_day  # (keys, days): free seats a key may use
    # nodes: source, sink, groups, (key, day), (class, day)
    n_groups = len(groups)
    key_day_node = 2 + n_groups + np.arange(len(keys) * n_days).reshape(len(keys), n_days)
    class_day_node = (
        2 + n_groups + len(keys) * n_days + np.arange(n_classes * n_days).reshape(n_classes, n_days)
    )
    n_nodes = 2 + n_groups + len(keys) * n_days + n_classes * n_days
    tails: list[np.ndarray] = []
    heads: list[np.ndarray] = []
    caps: list[np.ndarray] = []
    sizes = np.asarray([len(members[g]) for g in groups], dtype=np.int64)
    tails.append(np.zeros(n_groups, dtype=np.int64))
    heads.append(2 + np.arange(n_groups))
    caps.append(sizes)
    for g, (key, windows) in enumerate(groups):
        days = np.zeros(n_days, dtype=bool)
        for lo, hi in windows:
            if hi >= 0 and lo < n_days:
                days[max(lo, 0) : min(hi, n_days - 1) + 1] = True
        if extra is None:
            days &= seats_for_key[key_local[key]] > 0
        found = np.flatnonzero(days)
        tails.append(np.full(len(found), 2 + g, dtype=np.int64))
        heads.append(key_day_node[key_local[key], found])
        caps.append(np.full(len(found), sizes[g], dtype=np.int64))
    seats_at = class_day if extra is None else class_day + extra
    k_at, c_at, d_at = np.nonzero(allowed[:, :, None] & (seats_at > 0)[None, :, :])
    tails.append(key_day_node[k_at, d_at])
    heads.append(class_day_node[c_at, d_at])
    caps.append(class_day[c_at, d_at] if extra is None else np.full(len(k_at), len(requests), dtype=np.int64))
    c_at, d_at = np.nonzero(seats_at > 0)
    tails.append(class_day_node[c_at, d_at])
    heads.append(np.ones(len(c_at), dtype=np.int64))
    caps.append(seats_at[c_at, d_at])
    tail, head, capacity = np.concatenate(tails), np.concatenate(heads), np.concatenate(caps)
    graph = csr_matrix(
        (np.minimum(capacity, np.iinfo(np.int32).max).astype(np.int32), (tail, head)),
        shape=(n_nodes, n_nodes),
    )
    return OneDayNetwork(
        graph,
        groups,
        members,
        keys,
        n_days,
        n_classes,
        row_class,
        cells,
        cell_class,
        cell_day,
        free,
        class_day,
    )


def most_one_day(lagrangian: Lagrangian, seats: Seats, requests: np.ndarray) -> list[Option]:
    """Options for as many of `requests` (catalogue order; one day each, no partner) as fit together on
    the free seats of `seats` (not changed): a maximum flow, so no placement of them on these seats
    holds more. Among requests alike, those earlier in `requests` are placed first."""
    if not len(requests):
        return []
    catalogue = lagrangian.catalogue
    table = catalogue.plain
    width = table.width
    net = one_day_network(lagrangian, seats, requests)
    groups, members, keys, n_days = net.groups, net.members, net.keys, net.n_days
    cells, cell_class, cell_day, free = net.cells, net.cell_class, net.cell_day, net.free
    n_groups = len(groups)
    flow = maximum_flow(net.graph, 0, 1, method="dinic").flow.tocoo()
    sent = flow.data > 0
    f_tail, f_head, f_amount = flow.row[sent], flow.col[sent], flow.data[sent].astype(np.int64)
    # read the flow back: per (key, day) the groups that come in and the classes that go out
    first_key_day, first_class_day = 2 + n_groups, 2 + n_groups + len(keys) * n_days
    incoming: dict[int, list[tuple[int, int]]] = defaultdict(list)
    outgoing: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for t, h, amount in zip(f_tail.tolist(), f_head.tolist(), f_amount.tolist(), strict=True):
        if 2 <= t < first_key_day and first_key_day <= h < first_class_day:
            incoming[h].append((t - 2, amount))
        elif first_key_day <= t < first_class_day and h >= first_class_day:
            outgoing[t].append((h - first_class_day, amount))
    waiting = [list(reversed(members[g])) for g in groups]  # earliest last, taken first
    # per (class, day): the requests sent there
    sent_to: dict[int, list[int]] = defaultdict(list)
    for node, coming in incoming.items():
        going = [c for c, amount in outgoing[node] for _ in range(amount)]
        at = 0
        for g, amount in coming:
            for _ in range(amount):
                sent_to[going[at]].append(waiting[g].pop())
                at += 1
    # per (class, day): its open cells, each with its slots and their free seats
    by_class_day: dict[int, list[int]] = defaultdict(list)
    for c_index, cell_class_day in enumerate((cell_class * n_days + cell_day).tolist()):
        by_class_day[cell_class_day].append(c_index)
    slot_left = list(seats.slot)
    options: list[Option] = []
    grid = catalogue.grid
    for class_day_index, chosen in sent_to.items():
        spots = by_class_day[class_day_index]
        s_at = 0
        left = int(free[spots[0]])
        for i in chosen:
            while left <= 0:
                s_at += 1
                left = int(free[spots[s_at]])
            cell = int(cells[spots[s_at]])
            w, t = divmod(cell, width)
            slot = next(
                int(s)
                for s in table.slot[table.cell_start[w] : table.cell_start[w + 1]][
                    table.cell[table.cell_start[w] : table.cell_start[w + 1]] == cell
                ].tolist()
                if slot_left[int(s)] > 0
            )
            slot_left[slot] -= 1
            left -= 1
            r = catalogue.requests[i]
            wid, org = int(grid.ids[w]), int(grid.organisation[w])
            del t
            options.append(Option(r.id, wid, org, (catalogue.slot_ids[slot],), catalogue.score(r, wid, org)))
    return options


def movable_one_day(lagrangian: Lagrangian, assign: list[int]) -> tuple[list[int], Seats, np.ndarray]:
    """`assign` without its one-day requests without a partner that are unplaced or at a workplace they
    did not name (score ``OTHER_WORKPLACE_SCORE``), the seats the others take, and those requests
    (catalogue order; the previously placed first)."""
    m = lagrangian.m
    new = list(assign)
    chosen = one_day_requests(lagrangian, [-1] * len(new))
    rows = lagrangian.model_row[chosen]
    moved = [
        i
        for i, r in zip(chosen.tolist(), rows.tolist(), strict=True)
        if new[r] < 0 or m.options[new[r]].score <= OTHER_WORKPLACE_SCORE
    ]
    for i in moved:
        new[int(lagrangian.model_row[i])] = -1
    seats = Seats(m)
    for j in new:
        if j >= 0:
            seats.take(j)
    # the previously placed first among requests alike (their old places show the flow exists)
    placed_before = [i for i in moved if assign[int(lagrangian.model_row[i])] >= 0]
    others = [i for i in moved if assign[int(lagrangian.model_row[i])] < 0]
    return new, seats, np.asarray(placed_before + others, dtype=np.int64)


def reoptimise_one_day(lagrangian: Lagrangian, assign: list[int]) -> list[int]:
    """`assign` with its one-day requests without a partner placed anew by `most_one_day`: those
    unplaced and those at a workplace they did not name (score ``OTHER_WORKPLACE_SCORE``), on the seats
    the others leave. The old places of the moved requests are one placement of them on those seats, so
    at least as many are placed, none at a lower score: the objective does not fall (up to the fairness
    term, which the caller compares)."""
    m = lagrangian.m
    new, seats, moved = movable_one_day(lagrangian, assign)
    for j in add_options(m, most_one_day(lagrangian, seats, moved)):
        r = int(m.option_request[j])
        seats.take(j)
        new[r] = j
    return new


def prune_and_refill(
    problem: Problem,
    lagrangian: Lagrangian,
    assign: list[int],
    slot_price: np.ndarray,
    group_price: np.ndarray,
    until: float | None = None,
) -> list[int]:
    """`assign` without its multi-day requests (without a partner) whose option costs more at these seat
    prices than it is worth, its one-day requests then placed anew by `reoptimise_one_day`, and the
    requests of more than one day or with a partner still unplaced then first come, first served over
    every option on the seats left (until `until`, ``time.monotonic()``). At prices near the
    Lagrangian's minimum such an option holds seats the one-day requests are worth more on (one seat
    each); the caller keeps the better of the two proposals."""
    m = lagrangian.m
    cost = lagrangian.slot_cost(np.maximum(slot_price, 0.0), np.maximum(group_price, 0.0))
    new = list(assign)
    for r, j in enumerate(new):
        if j >= 0 and m.partner[r] < 0 and len(m.option_slots[j]) > 1:
            if m.value[j] < sum(cost[s] for s in m.option_slots[j]):
                new[r] = -1
    new = reoptimise_one_day(lagrangian, new)
    one_day = set(lagrangian.model_row[one_day_requests(lagrangian, [-1] * len(new))].tolist())
    seats = Seats(m)
    for j in new:
        if j >= 0:
            seats.take(j)
    order = [r for r in submission_order(problem, m) if r not in one_day]
    fill_from_catalogue(problem, m, seats, new, order, until)
    return new


# The prices' scales `best_pruned` tries, in this order: the Lagrangian's prices near its minimum price
# out more multi-day requests than the one-day ones can replace where demand is three times the seats,
# and the best scale differs by programme (50,000 requests, the same proposal each: tight 20,721 placed
# at the prices, 20,947 at 0.7 and 0.6 of them, 18,511 at 0.3; ties 42,264 at the prices, 42,551 at
# 0.85, 42,238 at 0.7, 40,331 at 0.5; normal 40,476 at the prices, 43,220 at 0.85, 42,960 at 0.7;
# docs/matching.md). 0.85 beat the prices themselves in every case, so it comes first (a busy machine
# may leave time for one only).
PRUNE_SCALES = (0.85, 0.7, 1.0)


def best_pruned(
    problem: Problem,
    lagrangian: Lagrangian,
    assign: list[int],
    slot_price: np.ndarray,
    group_price: np.ndarray,
    until: float,
    scales: Sequence[float] = PRUNE_SCALES,
) -> tuple[list[int], float | None]:
    """The best of `assign` and `prune_and_refill` at each of `scales` times the prices (in that order,
    each refill until `until`; a scale is started only when the last one's time still fits before
    `until`), with the scale it came from (None for `assign` itself)."""
    m = lagrangian.m
    best, best_objective, best_scale = assign, objective_of(m, assign)[0], None
    took = 0.0
    for scale in scales:
        began = time.monotonic()
        if began + took >= until:
            break
        pruned = prune_and_refill(problem, lagrangian, assign, scale * slot_price, scale * group_price, until)
        took = time.monotonic() - began
        objective = objective_of(m, pruned)[0]
        if objective > best_objective + 1e-6:
            best, best_objective, best_scale = pruned, objective, scale
    return best, best_scale


def flowed_and_pruned(
    problem: Problem,
    lagrangian: Lagrangian,
    best: list[int],
    objective: float,
    method: str,
    prices: tuple[np.ndarray, np.ndarray],
    refill_seconds: float,
    refill_latest: float = np.inf,
) -> tuple[list[int], float, str, float]:
    """`best` (worth `objective`, found by `method`) with its one-day requests placed anew by the maximum
    flow (`reoptimise_one_day`), then pruned at `prices` and refilled (`best_pruned`, for `refill_seconds`
    from then and at most until `refill_latest`), each kept when worth more: the best, its objective and
    method, and how long the flow took."""
    m = lagrangian.m
    began = time.monotonic()
    moved = reoptimise_one_day(lagrangian, best)
    flow_seconds = time.monotonic() - began
    if objective_of(m, moved)[0] > objective + 1e-9:
        best, objective, method = moved, objective_of(m, moved)[0], method + "+flow"
    until = min(time.monotonic() + refill_seconds, refill_latest)
    if time.monotonic() < until:
        pruned, _scale = best_pruned(problem, lagrangian, best, *prices, until)
        if objective_of(m, pruned)[0] > objective + 1e-9:
            best, objective, method = pruned, objective_of(m, pruned)[0], method + "+pruned"
    return best, objective, method, flow_seconds


# The small programmes' short Lagrangian minimisation and pruned floor (``solver``) run only where at
# least this share of the requests (with an option) score no more at their best option without prices
# than at any other workplace: there every option ties and the LP's rounding varies with how far the LP
# got (5,000 ties: 100 %; normal 22 %, tight 41 %, where the LP gets those seconds back).
PRUNE_TIES = 0.75


def options_tie(best_value: np.ndarray | None) -> bool:
    """Whether the requests' best options without prices (`best_value`, 1000 + score, -inf or 0 where
    none fits) mostly score no more than any other workplace (``PRUNE_TIES``)."""
    if best_value is None:
        return False
    has = np.isfinite(best_value) & (best_value > 0)
    if not has.any():
        return False
    base = has & (best_value <= PLACED_WEIGHT + OTHER_WORKPLACE_SCORE + 1e-9)
    return bool(base.sum() >= PRUNE_TIES * has.sum())
