"""Unplaced multi-day requests on seats the one-day requests can give up (large programmes).

After the swaps of ``swap.py`` and the maximum flow of ``flow.reoptimise_one_day``, no unplaced one-day
request (without a partner) fits anywhere, and freeing the seats of placed multi-day requests rarely lets
one in (50,000 requests: freeing every such seat at once would place 40 more at tight, none at normal).
What is left unplaced is mostly requests of two or three days at one workplace. The one-day requests the
flow moves (unplaced, or placed at a workplace they did not name) hold seats, and some of those seats
they can give up: where the flow leaves a seat of a (class, day) free, or where its residual network
leads from that (class, day) to the sink (a one-day request there can move to another day of its windows
or another class, in a chain, without anyone losing their place). `insert_multi_day` prices those seats
0 (free) or half a point (given up), every other seat out, finds every unplaced multi-day request's best
option at those prices over every feasible option (one ``Lagrangian.evaluate`` for all of them), takes
those options in the order of their value (each checked on the seat book, at most the free seats and
one given-up seat per (class, day)), and places the one-day requests anew by the flow on the seats
left. ``swap.swapped`` runs it where its swaps gain nothing and keeps a round only when the whole
objective rises.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from shadowing.matching.flow import most_one_day, movable_one_day, one_day_network
from shadowing.matching.lagrange import FIRST_SPREAD, Lagrangian
from shadowing.matching.lagrange_columns import options_of
from shadowing.matching.model import add_options
from shadowing.matching.pricing import INFINITE

# The price of a seat a one-day request can give up (a free seat costs nothing): above any difference in
# preference scores, so that the options on free seats only come first, and below a person's worth
# (``model.PLACED_WEIGHT``), so that no option is kept out by it.
GIVEN_UP_PRICE = 100.0


def _seat_nodes(lagrangian: Lagrangian) -> tuple[np.ndarray, np.ndarray]:
    """Slot row -> its workplace class and its day (counted from the catalogue's first; -1: none)."""
    catalogue = lagrangian.catalogue
    table = catalogue.plain
    n_slots = len(lagrangian.m.capacity)
    row_class = np.full(lagrangian.n_rows + 1, -1, dtype=np.int64)
    for c, rows in enumerate(lagrangian.class_rows):
        row_class[rows] = c
    slot_class = np.full(n_slots, -1, dtype=np.int64)
    slot_day = np.full(n_slots, -1, dtype=np.int64)
    slot_class[table.slot] = row_class[table.cell // table.width]
    slot_day[table.slot] = table.ordinal.reshape(-1)[table.cell] - catalogue.day0
    return slot_class, slot_day


def _budget(
    lagrangian: Lagrangian, residual: csr_matrix, first_class_day: int, options: list[int], n_days: int
) -> np.ndarray:
    """(class, day) -> how many seats there the one-day requests' flow can give up together (its free
    seats included): a maximum flow in its `residual` network (nothing leaving the sink) from a new node
    with an arc to each (class, day) as large as the seats `options` want there. Giving up seats within
    these counts keeps the flow's value: each unit is a chain of moves that ends at a free seat."""
    m = lagrangian.m
    slot_class, slot_day = _seat_nodes(lagrangian)
    n = residual.shape[0]
    demand = np.zeros(n - first_class_day, dtype=np.int64)
    for j in options:
        for s in m.option_slots[j]:
            if slot_class[s] >= 0 and slot_day[s] >= 0:
                demand[slot_class[s] * n_days + slot_day[s]] += 1
    wanted = np.flatnonzero(demand)
    extended = residual.tocoo()
    graph = csr_matrix(
        (
            np.concatenate([extended.data, demand[wanted]]).astype(np.int32),
            (
                np.concatenate([extended.row, np.full(len(wanted), n)]),
                np.concatenate([extended.col, first_class_day + wanted]),
            ),
        ),
        shape=(n + 1, n + 1),
    )
    sent = maximum_flow(graph, n, 1, method="dinic").flow.getrow(n).tocoo()
    budget = np.zeros(n - first_class_day, dtype=np.int64)
    out = (sent.col >= first_class_day) & (sent.data > 0)
    budget[sent.col[out] - first_class_day] = sent.data[out]
    return budget.reshape(-1, n_days)


def insert_multi_day(
    lagrangian: Lagrangian, assign: list[int], limit: int | None = None
) -> tuple[list[int], int]:
    """`assign` (not changed) with up to `limit` unplaced multi-day requests (without a partner) placed
    on free seats and seats the one-day requests can give up (see the module docstring), the one-day
    requests then placed anew by the maximum flow; with the number of requests so placed on seats given
    up (the caller compares the objective; those on free seats only cost no one their place)."""
    m = lagrangian.m
    catalogue = lagrangian.catalogue
    new, seats, moved = movable_one_day(lagrangian, assign)
    n_classes, n_days = len(lagrangian.class_rows), max(catalogue.plain.n_days, 1)
    # the flow of the one-day requests moved, and which of the seats it uses it can give up
    spare = np.full((n_classes, n_days), len(m.value), dtype=np.int64)  # free seats the flow leaves
    movable = np.zeros((n_classes, n_days), dtype=bool)  # the flow can move one unit elsewhere
    residual, first_class_day = None, 0
    if len(moved):
        net = one_day_network(lagrangian, seats, moved, np.zeros((n_classes, n_days), dtype=np.int64))
        flow = maximum_flow(net.graph, 0, 1, method="dinic").flow
        first_class_day = 2 + len(net.groups) + len(net.keys) * n_days
        coo = flow.tocoo()
        at_sink = (coo.col == 1) & (coo.row >= first_class_day) & (coo.data > 0)
        held = np.zeros(n_classes * n_days, dtype=np.int64)
        np.add.at(held, coo.row[at_sink] - first_class_day, coo.data[at_sink])
        spare = (net.class_day.reshape(-1) - held).reshape(n_classes, n_days)
        residual = (net.graph.astype(np.int64) - flow.astype(np.int64)).tocsr()
        residual.data = np.maximum(residual.data, 0)
        residual.data[residual.indptr[1] : residual.indptr[2]] = 0  # (nothing leaves the sink)
        residual.eliminate_zeros()
        # the nodes from which the sink is reached: breadth first from the sink over reversed arcs
        reach = np.zeros(net.graph.shape[0], dtype=bool)
        reach[breadth_first_order(residual.T.tocsr(), 1, directed=True, return_predecessors=False)] = True
        movable = (reach[first_class_day:] & (held > 0)).reshape(n_classes, n_days)
    slot_class, slot_day = _seat_nodes(lagrangian)
    known = (slot_class >= 0) & (slot_day >= 0)
    c_of, d_of = np.maximum(slot_class, 0), np.maximum(slot_day, 0)
    free = np.asarray(seats.slot) > 0
    group = np.asarray(m.slot_group, dtype=np.int64)
    if len(m.group_capacity):
        free &= (group < 0) | (np.asarray(seats.group) > 0)[np.maximum(group, 0)]
    price = np.full(len(m.capacity), INFINITE)
    price[free & known & movable[c_of, d_of]] = GIVEN_UP_PRICE
    price[free & known & (spare[c_of, d_of] > 0)] = 0.0
    evaluation = lagrangian.evaluate(price, 0.0, FIRST_SPREAD)
    model_row = lagrangian.model_row
    placed = np.asarray(assign, dtype=np.int64)[np.maximum(model_row, 0)] >= 0
    partner = np.asarray(m.partner, dtype=np.int64)[np.maximum(model_row, 0)]
    wanted = np.flatnonzero(
        (model_row >= 0)
        & (lagrangian.request_days > 1)
        & (partner < 0)
        & ~placed
        & np.isfinite(evaluation.value)
        & (evaluation.value > 0)
        & (evaluation.workplace >= 0)
    )
    if not len(wanted):
        return list(assign), 0
    wanted = wanted[np.argsort(-evaluation.value[wanted], kind="stable")]
    options = add_options(m, options_of(lagrangian, evaluation, wanted))
    budget = None if residual is None else _budget(lagrangian, residual, first_class_day, options, n_days)
    taken = risky = 0
    for j in options:
        r = int(m.option_request[j])
        if new[r] >= 0 or not seats.fits(j):
            continue
        nodes = [(int(slot_class[s]), int(slot_day[s])) for s in m.option_slots[j]]
        if any(c < 0 or d < 0 for c, d in nodes):
            continue
        if budget is not None and any(budget[node] <= 0 for node in nodes):
            continue
        given_up = any(spare[node] <= 0 for node in nodes)
        if given_up and limit is not None and risky >= limit:
            continue
        for node in nodes:
            spare[node] -= 1
            if budget is not None:
                budget[node] -= 1
        seats.take(j)
        new[r] = j
        taken += 1
        risky += given_up
    if not taken:
        return list(assign), 0
    for j in add_options(m, most_one_day(lagrangian, seats, moved)):
        seats.take(j)
        new[int(m.option_request[j])] = j
    return new, risky
