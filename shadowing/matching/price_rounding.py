"""A proposal from the Lagrangian's seat prices, for every request at once (large programmes).

At seat prices near the Lagrangian minimum, each request's best option net of the prices mostly fits
with the others' (the prices are what makes the scarce seats expensive). In rounds: every request not
placed yet gets its best option at the prices with the full seats priced out (one evaluation of
``Lagrangian.evaluate`` for all of them), and takes it when it still fits, the requests whose best is
worth most net of the prices first. A request that lost its seat to an earlier one tries again in the
next round, on the seats left. Reciprocal pairs are left to first come, first served over every option
afterwards (both or neither), as is whoever is still unplaced.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from shadowing.matching.baseline import fill_from_catalogue, submission_order
from shadowing.matching.lagrange import FIRST_SPREAD, Lagrangian
from shadowing.matching.lagrange_columns import options_of
from shadowing.matching.model import Model, Seats, add_options
from shadowing.matching.options import Problem
from shadowing.matching.pricing import INFINITE

# Rounds of "best option at the prices, full seats priced out" before first come, first served.
ROUNDS = 30


def price_rounding(
    problem: Problem,
    lagrangian: Lagrangian,
    slot_price: np.ndarray,
    group_price: np.ndarray,
    until: float,
    fill_until: float,
    between: Callable[[], None] | None = None,
) -> tuple[Seats, list[int]]:
    """A feasible assignment (request row -> column) from the seat prices; stops the rounds at `until`
    (``time.monotonic()``), then places whoever is left first come, first served over every option
    until `fill_until`. `between` is called after each round (the solver's cell LP goes on there)."""
    m: Model = lagrangian.m
    seats = Seats(m)
    assign = [-1] * len(m.request_ids)
    base = lagrangian.slot_cost(np.maximum(slot_price, 0.0), np.maximum(group_price, 0.0))
    group = np.asarray(m.slot_group, dtype=np.int64)
    model_row = lagrangian.model_row
    single = np.asarray([p < 0 for p in m.partner], dtype=bool)
    candidate = model_row >= 0
    candidate[candidate] = single[model_row[candidate]]
    for _ in range(ROUNDS):
        if time.monotonic() >= until:
            break
        full = np.asarray(seats.slot) <= 0
        if len(m.group_capacity):
            full |= (group >= 0) & (np.asarray(seats.group) <= 0)[np.maximum(group, 0)]
        evaluation = lagrangian.evaluate(np.where(full, INFINITE, base), 0.0, FIRST_SPREAD)
        placed = np.asarray(assign, dtype=np.int64)[np.maximum(model_row, 0)] >= 0
        found = np.isfinite(evaluation.value) & (evaluation.workplace >= 0)
        wanted = np.flatnonzero(candidate & ~placed & found)
        if not len(wanted):
            break
        wanted = wanted[np.argsort(-evaluation.value[wanted], kind="stable")]
        taken = 0
        for j in add_options(m, options_of(lagrangian, evaluation, wanted)):
            r = int(m.option_request[j])
            if assign[r] < 0 and seats.fits(j):
                seats.take(j)
                assign[r] = j
                taken += 1
        if between is not None:
            between()
        if not taken:
            break
    fill_from_catalogue(problem, m, seats, assign, submission_order(problem, m), fill_until)
    return seats, assign
