"""A proximal bundle method on the Lagrangian bound over one price per (workplace class, day).

``L`` at cell prices ``x >= 0`` (``aggregate.Cells``: every seat of a cell at its price) is convex and
piecewise linear; each evaluation gives its value and a subgradient, the cells' seats less the seats the
requests' best options use there. Each evaluation is a cut ``L(x) >= L(x_i) + g_i · (x - x_i)``; the next
point minimises the cuts' maximum plus ``u/2 |x - centre|²`` over ``x >= 0`` (the proximal term keeps it
near the centre, where Kelley's cutting planes jumped far and stalled). The subproblem is solved in its
dual, over the simplex of the cuts' weights ``λ`` (accelerated projected gradient: for given ``λ`` the
best ``x`` is ``max(0, centre − Gᵀλ / u)``). A point that lowers ``L`` by a share of what the model
predicted becomes the centre (a serious step), otherwise only its cut joins (a null step); ``u`` follows
Kiwiel's interpolation ``2u (1 − decrease / predicted)``: lower (at most tenfold) after a serious step
that kept at least half the predicted decrease, higher (at most tenfold) after a null step whose cut
passes below ``L`` at the centre. Beyond ``MAX_CUTS`` the cuts no longer in use are dropped and the
rest, but the newest, are merged into their weighted mean (the aggregate cut).

Every value reported is ``Lagrangian.at`` of the cell prices, so the bound is certified whatever the
method did; the lowest is kept. On a large programme the solver runs it from the subgradient's best
prices averaged per cell in the time left at the end (``lowest``), where more subgradient steps ran
before: from the same prices it lowers ``L`` more in the same time (``docs/matching.md``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from shadowing.matching.aggregate import Cells
from shadowing.matching.bound import inner
from shadowing.matching.lagrange import Best, Evaluation, Lagrangian

_log = logging.getLogger(__name__)

# A step is serious when L falls by at least this share of the model's predicted decrease.
SERIOUS = 0.1
# The first proximal weight: a step that would lower L by this share of its distance to the target.
FIRST_SHARE = 0.1
# After a serious step that kept at least this share of the predicted decrease, u falls (interpolated).
GOOD = 0.5
# Cuts kept in the bundle (the aggregate cut included) and the newest kept as they are on aggregation.
MAX_CUTS = 30
KEEP_NEWEST = 10
# The dual of the subproblem: at most this many gradient steps, or until the duality gap is below
# QP_TOLERANCE of the predicted decrease.
QP_STEPS = 400
QP_TOLERANCE = 1e-3


@dataclass
class Point:
    """``L`` at cell prices `price` and a subgradient there, with the evaluation it came from."""

    bound: float
    price: np.ndarray
    subgradient: np.ndarray
    evaluation: Evaluation


Space = Callable[[np.ndarray], Point]


def on_cells(cells: Cells) -> Space:
    """``L`` at cell prices (negative ones count as 0) and its subgradient: per cell its seats less the
    seats the best options use there."""

    def evaluate(price: np.ndarray) -> Point:
        price = np.maximum(price, 0.0)
        lagrangian = cells.lagrangian
        evaluation = lagrangian.at(*cells.prices(price))
        used = lagrangian.used(evaluation)
        subgradient = cells.seats - np.bincount(cells.slot_cell[used], minlength=cells.n_cells)
        return Point(evaluation.bound, price, subgradient, evaluation)

    return evaluate


def proximal_point(
    cuts: np.ndarray, offsets: np.ndarray, centre: np.ndarray, u: float, weights: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """The minimiser over ``x >= 0`` of ``max_i (offsets_i + cuts_i · x) + u/2 |x − centre|²`` (near
    enough: the duality gap within ``QP_TOLERANCE`` of the decrease the model predicts from `level`, ``L``
    at the centre) and the cuts' weights that give it, by accelerated projected gradient ascent on the
    dual over the simplex, from `weights`."""
    k = len(offsets)
    if k == 1:
        return np.maximum(centre - cuts[0] / u, 0.0), np.ones(1)
    lipschitz = max(float(np.linalg.norm(cuts @ cuts.T, 2)) / u, 1e-12)
    lam = weights.copy()
    previous = lam.copy()
    momentum = 1.0
    x = np.maximum(centre - (cuts.T @ lam) / u, 0.0)
    for _ in range(QP_STEPS):
        nesterov = (1.0 + np.sqrt(1.0 + 4.0 * momentum**2)) / 2.0
        probe = lam + ((momentum - 1.0) / nesterov) * (lam - previous)
        momentum = nesterov
        x = np.maximum(centre - (cuts.T @ probe) / u, 0.0)
        gradient = offsets + cuts @ x
        previous = lam
        lam = _onto_simplex(probe + gradient / lipschitz)
        x = np.maximum(centre - (cuts.T @ lam) / u, 0.0)
        values = offsets + cuts @ x
        shift = x - centre
        proximal = u / 2 * inner(shift, shift)
        primal = float(values.max()) + proximal
        dual = inner(lam, values) + proximal
        if primal - dual <= QP_TOLERANCE * max(level - float(values.max()), 1e-9 * abs(level)):
            break
    return x, lam


def _onto_simplex(v: np.ndarray) -> np.ndarray:
    """The Euclidean projection of `v` onto ``{λ >= 0, Σ λ = 1}``."""
    ordered = np.sort(v)[::-1]
    total = np.cumsum(ordered) - 1.0
    index = np.arange(1, len(v) + 1)
    rho = int(np.flatnonzero(ordered - total / index > 0)[-1])
    return np.maximum(v - total[rho] / (rho + 1), 0.0)


def lowest(
    lagrangian: Lagrangian, target: float, until: float, between: Callable[[Best], None] | None = None
) -> tuple[float, Best, Callable[[float, float], float]]:
    """Subgradient steps on ``L`` (``Lagrangian.minimise``) until `until`, then ``L`` at their prices
    averaged per cell (``aggregate.on_cells``): the lower bound of the two, the steps' result (their lowest
    ``L``, its slot and day-cap prices and evaluation: the proposal phases use them) and a function that
    goes on by the bundle method from the best cell prices until a given time (with a proposal's
    objective), returning the lowest bound then. (The steps keep all the time: a quarter of it for the
    bundle method instead raised the bound at 50,000 tight, ``docs/matching.md``.) `between` is called
    after each step with the lowest so far, and with the averaged prices' when they are lower."""
    steps = lagrangian.minimise(target, until, between=between)
    cells = Cells(lagrangian)
    space = on_cells(cells)
    best = space(cells.cell_prices(steps[3].slot_cost))
    if between is not None and best.bound < steps[0]:
        between((best.bound, *cells.prices(best.price), best.evaluation))

    def resume(objective: float, later: float) -> float:
        nonlocal best
        best = minimise(space, best, objective, later)
        return best.bound

    return min(steps[0], best.bound), steps, resume


def minimise(
    space: Space,
    start: np.ndarray | Point,
    target: float,
    until: float,
    clock: Callable[[], float] = time.monotonic,
    max_evaluations: int = 10_000,
) -> Point:
    """The lowest ``L`` over the prices of `space` (``on_cells``) the bundle method finds from `start`
    (prices, or a point evaluated already) before `until` (`clock`), with `target` (a
    proposal's objective, no ``L`` is lower) setting the first proximal weight: the point with the lowest
    ``L`` evaluated. An evaluation starts only when the last one's time still fits before `until` (the
    first, of `start`'s prices, always)."""
    began = clock()
    centre = start if isinstance(start, Point) else space(start)
    last = clock() - began if not isinstance(start, Point) else 0.0
    best = centre
    g = centre.subgradient
    cuts = g[None, :].astype(np.float64)
    offsets = np.asarray([centre.bound - inner(g, centre.price)])
    weights = np.ones(1)
    # the first step's predicted decrease FIRST_SHARE of the distance to the target
    norm = inner(g, g)
    u = norm / max(FIRST_SHARE * (centre.bound - target), 1e-6 * abs(centre.bound), 1e-9) if norm > 0 else 1.0
    for step in range(max_evaluations):
        now = clock()
        if now + last > until:
            break
        x, weights = proximal_point(cuts, offsets, centre.price, u, weights, centre.bound)
        model = float((offsets + cuts @ x).max())
        predicted = centre.bound - model
        if predicted <= 1e-9 * max(abs(centre.bound), 1.0):
            break  # the model's minimum is the centre: L is at its minimum
        point = space(x)
        last = clock() - now
        if point.bound < best.bound:
            best = point
        decrease = centre.bound - point.bound
        # the new cut's error at the centre: how far below L(centre) it passes there
        error = centre.bound - (point.bound + inner(point.subgradient, centre.price - x))
        serious = decrease >= SERIOUS * predicted
        # Kiwiel's interpolation: u that would have put the step where L along it is least
        interpolated = 2 * u * (1 - decrease / predicted)
        if serious:
            centre = point
            if decrease >= GOOD * predicted:
                u = max(interpolated, u / 10)
        elif error > 0:
            u = min(interpolated, 10 * u)
        cuts, offsets, weights = _with_cut(cuts, offsets, weights, point)
        _log.debug(
            "bundle step %d: L = %.1f, centre %.1f, predicted %.1f, u %.3g, %s, %d cuts",
            step,
            point.bound,
            centre.bound,
            predicted,
            u,
            "serious" if serious else "null",
            len(offsets),
        )
    return best


def _with_cut(
    cuts: np.ndarray, offsets: np.ndarray, weights: np.ndarray, point: Point
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bundle with `point`'s cut added; beyond ``MAX_CUTS`` the cuts of weight 0 dropped and the
    older ones merged into their weighted mean (valid: a mean of cuts is a cut)."""
    g = point.subgradient.astype(np.float64)
    cuts = np.vstack([cuts, g[None, :]])
    offsets = np.append(offsets, point.bound - inner(g, point.price))
    weights = np.append(weights, 0.0)
    if len(offsets) <= MAX_CUTS:
        return cuts, offsets, weights
    used = weights > 1e-12
    used[-KEEP_NEWEST:] = True
    cuts, offsets, weights = cuts[used], offsets[used], weights[used]
    if len(offsets) <= MAX_CUTS:
        return cuts, offsets, weights
    old = slice(0, len(offsets) - KEEP_NEWEST)
    share = weights[old]
    total = float(share.sum())
    share = share / total if total > 0 else np.full(len(share), 1.0 / len(share))
    merged_cut = share @ cuts[old]
    merged_offset = inner(share, offsets[old])
    cuts = np.vstack([merged_cut[None, :], cuts[-KEEP_NEWEST:]])
    offsets = np.concatenate([[merged_offset], offsets[-KEEP_NEWEST:]])
    weights = np.concatenate([[total], weights[-KEEP_NEWEST:]])
    return cuts, offsets, weights / max(float(weights.sum()), 1e-12)
