"""Options and columns from the Lagrangian's evaluation (``lagrange``): each request's best option at
given seat prices as an ``Option``, and column generation priced by it for every request at once."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from shadowing.matching.lagrange import Evaluation, Lagrangian
from shadowing.matching.master import LpResult, Master
from shadowing.matching.model import add_options
from shadowing.matching.options import Option
from shadowing.matching.pricing import INFINITE

# Column generation prices at this mix of the best prices so far and the LP's duals (and at the duals).
SMOOTHING = 0.5


def options_of(
    lagrangian: Lagrangian, evaluation: Evaluation, requests: np.ndarray | None = None
) -> list[Option]:
    """The best options of `requests` (catalogue order; default all that have one) at `evaluation`."""
    if requests is None:
        requests = np.flatnonzero(np.isfinite(evaluation.value) & (evaluation.workplace >= 0))
    return [_option_of(lagrangian, evaluation, i) for i in requests.tolist() if lagrangian.model_row[i] >= 0]


def column_generation(
    master: Master,
    lagrangian: Lagrangian,
    until: float,
    prices: tuple[np.ndarray, np.ndarray],
    on_round: Callable[[LpResult, float], None],
) -> bool:
    """Rounds of column generation priced by `lagrangian` (every request at once) until `until`. Each
    round prices at the LP's duals and at their mean with the best prices so far (`prices`, updated when
    that lowers the bound: smoothing, as the first LPs' duals swing far from the optimal prices); both
    give a certified bound (the lower is passed to `on_round` with the LP), and every request's best
    option at either worth more than its own dual joins the LP. True when none joined (the LP over
    every option, up to the fairness and pair rows' duals, which the pricing leaves out)."""
    m = lagrangian.m
    known = lagrangian.model_row >= 0
    best_y, best_z = prices
    best_bound = lagrangian.at(best_y, best_z).bound
    while time.monotonic() < until:
        result = master.solve(until - time.monotonic())
        if result is None:
            return False
        added = 0
        lowest = INFINITE
        mean = (
            SMOOTHING * best_y + (1 - SMOOTHING) * np.maximum(result.slot_price, 0.0),
            SMOOTHING * best_z + (1 - SMOOTHING) * np.maximum(result.group_price, 0.0),
        )
        for y, z in ((result.slot_price, result.group_price), mean):
            evaluation = lagrangian.at(y, z)
            lowest = min(lowest, evaluation.bound)
            if evaluation.bound < best_bound:
                best_bound, best_y, best_z = evaluation.bound, np.maximum(y, 0.0), np.maximum(z, 0.0)
            if result.optimal:
                gain = np.full(len(evaluation.value), -INFINITE)
                gain[known] = evaluation.value[known] - result.request_price[lagrangian.model_row[known]]
                new = np.flatnonzero(np.isfinite(gain) & (gain > 1e-6))
                added += master.add(add_options(m, options_of(lagrangian, evaluation, new)))
        on_round(result, lowest)
        if not result.optimal:
            return False
        if not added:
            return True
    return False


def _option_of(lagrangian: Lagrangian, evaluation: Evaluation, i: int) -> Option:
    catalogue = lagrangian.catalogue
    r = catalogue.requests[i]
    w = int(evaluation.workplace[i])
    wid, org = int(catalogue.grid.ids[w]), int(catalogue.grid.organisation[w])
    slots = tuple(catalogue.slot_ids[s] for s in lagrangian.slots_of(evaluation, i))
    return Option(r.id, wid, org, slots, catalogue.score(r, wid, org))
