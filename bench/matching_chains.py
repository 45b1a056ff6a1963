"""Ejection chains (``shadowing.matching.chains``) at 50,000 requests, from a pickled state, and where the
placement loses at the final prices.

Run by hand (not part of `make test`)::

    .venv/bin/python bench/matching_chains.py save --variant tight --out state-tight.pickle
    .venv/bin/python bench/matching_chains.py run --variant tight --state state-tight.pickle

``save`` builds the programme, runs first come, first served, the Lagrangian's steps (``bundle.lowest``,
``--steps`` seconds), the maximum flow, the pruned floor and the swaps (``--swaps`` seconds), as the solver
does on a large programme, and pickles the proposal (its options) and the prices (the steps' own and
averaged per cell). ``run`` builds the programme again, restores that state, prints where the placement
loses at the averaged prices (the bound's decomposition: priced free seats, unplaced requests with a
positive reduced value, placed requests below their best, by days), runs the chains step for
``--seconds`` with placed and objective before and after, then the swaps' rounds (``swap.swapped``)
for as long with the chains and without them, each from the same state.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
import realistic  # noqa: E402 - the bench folder is put on the path first

from shadowing.matching import bundle  # noqa: E402
from shadowing.matching.aggregate import Cells  # noqa: E402
from shadowing.matching.baseline import first_come_first_served  # noqa: E402
from shadowing.matching.flow import best_pruned, reoptimise_one_day  # noqa: E402
from shadowing.matching.lagrange import Lagrangian  # noqa: E402
from shadowing.matching.model import add_options, build_model, objective_of  # noqa: E402
from shadowing.matching.options import build_problem  # noqa: E402
from shadowing.matching.swap import swapped  # noqa: E402


def _build(size: int, variant: str, seed: int):  # type: ignore[no-untyped-def]
    requests, workplaces, slots = realistic.programme(size, variant, seed)
    problem = build_problem(requests, workplaces, slots, fairness_weight=1.0)
    m = build_model(problem)
    return problem, m, Lagrangian(problem, m)


def save(args: argparse.Namespace) -> None:
    problem, m, lagrangian = _build(args.size, args.variant, args.seed)
    began = time.monotonic()
    _seats, assign = first_come_first_served(problem, m)
    floor_seconds = time.monotonic() - began
    objective = objective_of(m, assign)[0]
    low, (_found, y, z, _evaluation), _resume = bundle.lowest(
        lagrangian, objective, time.monotonic() + args.steps
    )
    cells = Cells(lagrangian)
    cell_y, cell_z = cells.prices(cells.cell_prices(lagrangian.slot_cost(y, z)))
    flow_began = time.monotonic()
    assign = reoptimise_one_day(lagrangian, assign)
    flow_seconds = time.monotonic() - flow_began
    pruned, _scale = best_pruned(
        problem, lagrangian, assign, y, z, time.monotonic() + 2 * max(floor_seconds, 3)
    )
    if objective_of(m, pruned)[0] > objective_of(m, assign)[0]:
        assign = pruned
    assign, objective, _method = swapped(
        lagrangian,
        assign,
        objective_of(m, assign)[0],
        "",
        (y, z),
        time.monotonic() + args.swaps,
        flow_seconds,
    )
    chosen = [m.options[j] for j in assign if j >= 0]
    with open(args.out, "wb") as f:
        pickle.dump({"chosen": chosen, "y": y, "z": z, "cell_y": cell_y, "cell_z": cell_z, "low": low}, f)
    print(
        f"saved {len(chosen):,} placed, objective {objective:,.0f}, bound {low:,.0f}, load {os.getloadavg()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=("save", "run"))
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--variant", default="tight", choices=realistic.VARIANTS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=float, default=20.0)
    parser.add_argument("--swaps", type=float, default=8.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--out", default="state.pickle")
    parser.add_argument("--state", default="state.pickle")
    args = parser.parse_args()
    if args.mode == "save":
        save(args)
    else:
        run(args)


def _restore(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    problem, m, lagrangian = _build(args.size, args.variant, args.seed)
    with open(args.state, "rb") as f:
        state = pickle.load(f)  # noqa: S301 - a file this script wrote
    assign = [-1] * len(m.request_ids)
    for j in add_options(m, state["chosen"]):
        assign[int(m.option_request[j])] = j
    return problem, m, lagrangian, assign, state


def where_it_loses(
    lagrangian: Lagrangian, assign: list[int], slot_price: np.ndarray, group_price: np.ndarray
) -> None:
    """The bound at these prices less the objective, term by term: seats left free times their price,
    per request its best reduced value less that of its option (0 unplaced), and the fairness term."""
    m = lagrangian.m
    evaluation = lagrangian.at(slot_price, group_price)
    cost = evaluation.slot_cost
    objective, placed = objective_of(m, assign)
    used_slot = np.zeros(len(m.capacity))
    used_group = np.zeros(len(m.group_capacity))
    for j in assign:
        if j >= 0:
            for s in m.option_slots[j]:
                used_slot[s] += 1
                g = m.slot_group[s]
                if g >= 0:
                    used_group[g] += 1
    free_term = float((np.asarray(m.capacity) - used_slot) @ np.maximum(slot_price, 0)) + float(
        (np.asarray(m.group_capacity) - used_group) @ np.maximum(group_price, 0)
    )
    model_row = lagrangian.model_row
    days = lagrangian.request_days
    rows: dict[tuple[str, int], list[float]] = {}
    pair_term = 0.0
    done_pairs: set[int] = set()
    for i in np.flatnonzero(model_row >= 0).tolist():
        r = int(model_row[i])
        j = assign[r]
        reduced = float(m.value[j] - sum(cost[s] for s in m.option_slots[j])) if j >= 0 else 0.0
        best = max(float(evaluation.value[i]), 0.0) if np.isfinite(evaluation.value[i]) else 0.0
        partner = m.partner[r]
        if partner >= 0:  # (a pair counts as one: max(0, v_a + v_b))
            if r in done_pairs:
                continue
            done_pairs.add(partner)
            other = int(np.flatnonzero(model_row == partner)[0])
            both = float(evaluation.value[i] + evaluation.value[other])
            k = assign[partner]
            reduced += float(m.value[k] - sum(cost[s] for s in m.option_slots[k])) if k >= 0 else 0.0
            pair_term += max(both, 0.0) - reduced
            continue
        kind = "placed" if j >= 0 else "unplaced"
        entry = rows.setdefault((kind, int(days[i])), [0, 0.0, 0, 0.0])
        entry[0] += 1
        lost = best - reduced
        if lost > 0.5:
            entry[2] += 1
            entry[3] += lost
    fairness = m.fairness_coefficient - (objective - float(sum(m.value[j] for j in assign if j >= 0)))
    total = free_term + pair_term + fairness + sum(e[3] for e in rows.values())
    print(
        f"bound at these prices {evaluation.bound:,.0f}, objective {objective:,.0f} ({placed:,} placed), "
        f"difference {evaluation.bound - objective:,.0f}"
    )
    print(f"  free seats x price {free_term:,.0f}; pairs {pair_term:,.0f}; fairness {fairness:,.0f}")
    print("| requests | days | count | with a loss > 0.5 | their loss |")
    for (kind, d), (n, _unused, k, lost) in sorted(rows.items()):
        print(f"| {kind} | {d} | {n:,} | {k:,} | {lost:,.0f} |")
    print(f"  sum of the terms (the small losses left out) {total:,.0f}")


def run(args: argparse.Namespace) -> None:
    from shadowing.matching.chains import chained

    _problem, m, lagrangian, assign, state = _restore(args)
    print(f"{args.variant}: load {os.getloadavg()}")
    where_it_loses(lagrangian, assign, state["cell_y"], state["cell_z"])
    before, placed_before = objective_of(m, assign)
    began = time.process_time()
    wall = time.monotonic()
    new, gained = chained(lagrangian, assign, time.monotonic() + args.seconds, depth=args.depth)
    after, placed_after = objective_of(m, new)
    print(
        f"chains (depth {args.depth}): {placed_before:,} -> {placed_after:,} placed, "
        f"objective {before:,.0f} -> {after:,.0f}, {gained} chains, "
        f"{time.process_time() - began:.1f} s processor, "
        f"{time.monotonic() - wall:.1f} s wall, load {os.getloadavg()}"
    )
    # the swaps' rounds (``swap.swapped``) for as long, with the chains and without, from the same state
    from shadowing.matching import swap

    prices = (state["y"], state["z"])
    for label in ("with the chains", "without the chains"):
        if label == "without the chains":
            swap.chain_rounds = lambda _lg, assign, *_args, **_kw: (list(assign), 0, 0.0)  # type: ignore[assignment]
        wall = time.monotonic()
        rounds, found, method = swap.swapped(
            lagrangian, assign, before, "", prices, time.monotonic() + args.seconds, 0.5
        )
        print(
            f"swaps' rounds {label}: {placed_before:,} -> {objective_of(m, rounds)[1]:,} placed, "
            f"objective {before:,.0f} -> {found:,.0f} ({method or 'unchanged'}), "
            f"{time.monotonic() - wall:.1f} s wall, load {os.getloadavg()}"
        )
    if args.check:
        from shadowing.matching.model import Seats

        seats = Seats(m)
        for j in new:
            if j >= 0:
                assert seats.fits(j)
                seats.take(j)
        print("  the new proposal fits the seat book")


if __name__ == "__main__":
    main()
