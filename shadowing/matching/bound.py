"""The certified upper bound on the best placement over every feasible option, from seat prices.

For any prices ``y >= 0`` on the slots and day caps (the LP duals, or none at all), relaxing the seat
constraints into the objective gives the Lagrangian bound::

    sum of seats * y  +  sum over requests of max(0, best option's value net of its seats' prices)
                      +  the fairness term at its highest (lowest organisation rate 1)

where "best option" ranges over *every* feasible option of the request (``Problem.catalogue``), not only
those the solver has listed. No
placement, whole or fractional, scores more, so the bound needs no trust in the solver: only in the
prices being non-negative, which it enforces. At the optimum of the LP over every option (column
generation ends there) the bound equals the LP optimum. The pair rows ``x(a) = x(b)`` are priced too, at
their best multiplier for each ``y``: a pair counts ``max(0, v_a + v_b)`` (``relaxed_sum``).
"""

from __future__ import annotations

import numpy as np

from shadowing.matching.model import Model
from shadowing.matching.options import Problem
from shadowing.matching.pricing import Priced


def inner(a: np.ndarray, b: np.ndarray) -> float:
    """``sum a_i * b_i`` without BLAS: numpy's pairwise sum, the same whatever the machine and its
    threads. (BLAS's product of two long vectors hands the work to its threads, which cost
    milliseconds an evaluation where the processors are busy.)"""
    return float(np.multiply(a, b).sum())


def relaxed_sum(value: np.ndarray, partner: np.ndarray) -> float:
    """``sum max(0, v_r)`` over the requests outside pairs plus ``sum max(0, v_a + v_b)`` over the pairs
    (each once): the Lagrangian term of the requests with the pair rows ``x(a) - x(b) = 0`` priced at
    their best multiplier for these values (``min over u of max(0, v_a + u) + max(0, v_b - u)`` is
    ``max(0, v_a + v_b)``), so never more than relaxing the pairs. `value` is -inf where none fits."""
    value = np.asarray(value, dtype=np.float64)
    partner = np.asarray(partner, dtype=np.int64)
    single = partner < 0
    first = np.flatnonzero(partner > np.arange(len(partner)))
    total = float(np.maximum(value[single], 0.0).sum())
    return total + float(np.maximum(value[first] + value[partner[first]], 0.0).sum())


def selected(value: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """The requests whose best option counts in `relaxed_sum` (worth more than nothing, a pair's two
    together): the subgradient's placement."""
    value = np.asarray(value, dtype=np.float64)
    partner = np.asarray(partner, dtype=np.int64)
    joint = np.where(partner >= 0, value + value[np.maximum(partner, 0)], value)
    return np.asarray(joint > 0, dtype=bool) & np.isfinite(value)


def slot_costs(m: Model, slot_price: np.ndarray, group_price: np.ndarray) -> np.ndarray:
    """The price of one seat of each slot: its own plus its day cap's."""
    cost = np.maximum(slot_price, 0.0).copy()
    if len(group_price):
        group = np.asarray(m.slot_group, dtype=np.int64)
        has = group >= 0
        cost[has] += np.maximum(group_price, 0.0)[group[has]]
    return cost


def certified_bound(
    problem: Problem,
    m: Model,
    slot_price: np.ndarray,
    group_price: np.ndarray,
    org_price: np.ndarray | None = None,
    request_price: np.ndarray | None = None,
    extra: int = 0,
    pair_gain: np.ndarray | None = None,
) -> tuple[float, Priced | None]:
    """The bound for these prices, and each request's best option at them (None without a catalogue).
    With prices on the fairness rows (``z * n_g <= placed in g``) a person of organisation ``g`` gains
    its price and the fairness term counts only what is left of it above the prices. With the requests'
    prices, up to `extra` further options per request worth more than its price come back too. Any
    multipliers on the pair rows (``sum x(a) - sum x(b) = 0``, either sign) keep the bound valid:
    `pair_gain` is what they add to each option of a request."""
    slot_price = np.maximum(slot_price, 0.0)
    group_price = np.maximum(group_price, 0.0)
    fixed = inner(np.asarray(m.capacity, dtype=float), slot_price)
    fixed += inner(np.asarray(m.group_capacity, dtype=float), group_price)
    gain = np.zeros(len(m.request_ids))
    if org_price is not None and len(org_price) == len(m.org_size) and m.fairness_coefficient:
        org_price = np.maximum(org_price, 0.0)
        fixed += max(0.0, m.fairness_coefficient - inner(m.org_size, org_price))
        gain = org_price[m.request_org]
    else:
        fixed += m.fairness_coefficient
    if pair_gain is not None and len(pair_gain) == len(gain):
        gain = gain + pair_gain
    cost = slot_costs(m, slot_price, group_price)
    catalogue = problem.catalogue
    if catalogue is None:
        if not len(m.value):
            return fixed, None
        net = m.value - np.fromiter((sum(cost[s] for s in t) for t in m.option_slots), float, len(m.value))
        best = np.full(len(m.request_ids), -np.inf)
        np.maximum.at(best, m.option_request, net)
        return fixed + relaxed_sum(best + gain, np.asarray(m.partner, dtype=np.int64)), None
    catalogue.price(cost)
    threshold = None if request_price is None else request_price - gain
    priced = catalogue.best_of_all(threshold, extra)
    priced.value = priced.value + gain
    return fixed + relaxed_sum(priced.value, np.asarray(m.partner, dtype=np.int64)), priced


def uniform_price_bound(m: Model, best_value: np.ndarray) -> float:
    """The bound with one price ``p`` on every slot, at its best ``p``, from each request's best value
    without prices: ``p * seats + sum max(0, best_r - days_r * p)`` (every option of ``r`` uses ``days_r``
    seats, so its net value is the same whichever it is; a reciprocal pair counts as one request with both
    values and both counts of days). Convex and piecewise linear in ``p``, so its
    minimum lies at ``p = 0`` or a breakpoint ``best_r / days_r``; cheap, and tight where seats are
    scarce everywhere (where first rounds of column generation are still loose)."""
    first = np.asarray([opts[0] for opts in m.request_options], dtype=np.int64)
    days = np.asarray([len(m.option_slots[j]) for j in first.tolist()], dtype=float)
    best, days = _pairs_merged(m, np.where(np.isfinite(best_value), best_value, 0.0), days)
    value = np.maximum(best, 0.0)
    seats = float(np.sum(m.capacity))
    fixed = m.fairness_coefficient
    breaks = np.sort(np.concatenate([[0.0], value / np.maximum(days, 1.0)]))
    # bound(p) at each breakpoint, vectorised: sum over requests still positive at p
    order = np.argsort(value / np.maximum(days, 1.0))
    ratio = (value / np.maximum(days, 1.0))[order]
    suffix_value = np.concatenate([np.cumsum(value[order][::-1])[::-1], [0.0]])
    suffix_days = np.concatenate([np.cumsum(days[order][::-1])[::-1], [0.0]])
    at = np.searchsorted(ratio, breaks, side="right")  # requests with ratio > p stay positive
    bounds = breaks * seats + suffix_value[at] - breaks * suffix_days[at]
    return float(bounds.min()) + fixed


def _pairs_merged(m: Model, value: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-request values and seat counts with each reciprocal pair merged into one entry (the sums)."""
    partner = np.asarray(m.partner, dtype=np.int64)
    if not (partner >= 0).any():
        return value, count
    rows = np.arange(len(partner))
    keep = partner < 0
    first = partner > rows
    merged_value = value[first] + value[partner[first]]
    merged_count = count[first] + count[partner[first]]
    return np.concatenate([value[keep], merged_value]), np.concatenate([count[keep], merged_count])


def one_price_bound(m: Model, blocked: np.ndarray, k: np.ndarray, value: np.ndarray) -> float:
    """``min over p >= 0`` of ``p * seats of the blocked slots + sum max(0, value_r - k_r * p)`` plus the
    fairness term at its highest: convex and piecewise linear in ``p``, so the minimum lies at ``p = 0``
    or at a breakpoint ``value_r / k_r``. A reciprocal pair counts as one request with both values and
    both counts of blocked slots (its pair row at its best multiplier, as in ``relaxed_sum``)."""
    seats = float(np.asarray(m.capacity, dtype=float)[blocked].sum())
    value, k = _pairs_merged(m, np.asarray(value, dtype=np.float64), np.asarray(k, dtype=np.float64))
    payers = k > 0
    fixed = float(value[~payers].sum()) + m.fairness_coefficient
    ratio = value[payers] / k[payers]
    order = np.argsort(ratio)
    ratio, paying, slots = ratio[order], value[payers][order], k[payers][order]
    suffix_value = np.concatenate([np.cumsum(paying[::-1])[::-1], [0.0]])
    suffix_slots = np.concatenate([np.cumsum(slots[::-1])[::-1], [0.0]])
    prices = np.concatenate([[0.0], ratio])
    at = np.searchsorted(ratio, prices, side="right")  # requests still worth more than p * k_r
    bounds = prices * seats + suffix_value[at] - prices * suffix_slots[at]
    return float(bounds.min()) + fixed
