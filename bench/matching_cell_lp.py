"""How low can a bound with one price per cell go at 50,000 requests? (The cell LP, ``cell_lp.py``.)

One process: the programme built, first come, first served, the subgradient steps for ``--steps``
seconds (``Lagrangian.minimise``, as the solver runs them), the bound at their prices averaged per cell,
the bundle method (``bundle.py``) for ``--bundle`` seconds from there (its lowest bound at 5, 10, 20,
40, ... s), then the cell LP by column generation for ``--lp`` seconds (each round's value, a lower bound
on the best cell-price bound, and the certified bound at its duals), and last the bundle method over the
finer cells for ``--fine`` seconds from the best cell prices so far.

``--cells class`` prices per (workplace class, day) (the solver's cells), ``--cells workplace`` per
(workplace, day). Run by hand (not part of `make test`)::

    .venv/bin/python bench/matching_cell_lp.py --variant ties --steps 20 --bundle 80 --lp 300 --fine 60

The load average is printed with every figure.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
import realistic  # noqa: E402 - the bench folder is put on the path first

from shadowing.matching import bundle  # noqa: E402
from shadowing.matching.aggregate import Cells, WorkplaceCells  # noqa: E402
from shadowing.matching.baseline import first_come_first_served  # noqa: E402
from shadowing.matching.cell_lp import CellLP  # noqa: E402
from shadowing.matching.lagrange import Lagrangian  # noqa: E402
from shadowing.matching.model import build_model, objective_of  # noqa: E402
from shadowing.matching.options import build_problem  # noqa: E402


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=50000)
    parser.add_argument("--variant", default="tight", choices=realistic.VARIANTS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cells", default="class", choices=("class", "workplace"))
    parser.add_argument("--steps", type=float, default=20.0, help="seconds of subgradient steps")
    parser.add_argument("--bundle", type=float, default=0.0, help="seconds of the bundle method after them")
    parser.add_argument("--lp", type=float, default=0.0, help="seconds of the cell LP")
    parser.add_argument("--fine", type=float, default=0.0, help="seconds of the bundle on (workplace, day)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("shadowing.matching.cell_lp").setLevel(logging.DEBUG)  # each round's value
    began = time.monotonic()
    requests, workplaces, slots = realistic.programme(args.size, args.variant, args.seed)
    problem = build_problem(requests, workplaces, slots, fairness_weight=1.0)
    m = build_model(problem)
    _seats, fcfs = first_come_first_served(problem, m)
    target, placed = objective_of(m, fcfs)
    lagrangian = Lagrangian(problem, m)
    print(
        f"{args.size:,} {args.variant}: built with first come, first served ({placed:,} placed, "
        f"{target:,.0f}) in {time.monotonic() - began:.1f} s, load {load_average()}",
        flush=True,
    )
    steps = lagrangian.minimise(target, time.monotonic() + args.steps)
    cells = Cells(lagrangian) if args.cells == "class" else WorkplaceCells(lagrangian)
    space = bundle.on_cells(cells)
    best = space(cells.cell_prices(steps[3].slot_cost))
    print(
        f"{args.steps:.0f} s of steps: lowest {steps[0]:,.0f}; averaged over {cells.n_cells:,} {args.cells} "
        f"cells {best.bound:,.0f}, load {load_average()}",
        flush=True,
    )
    spent = 0.0
    mark = 5.0
    while mark <= args.bundle:
        best = bundle.minimise(space, best, target, time.monotonic() + mark - spent)
        spent = mark
        print(f"  bundle method {mark:.0f} s: {best.bound:,.0f}, load {load_average()}", flush=True)
        mark *= 2
    if args.lp > 0:
        lp = CellLP(cells)
        lp.add_assignment(fcfs)
        started = time.monotonic()
        result = lp.run(started + args.lp, [steps[3], best.evaluation], centre=best.price)
        print(
            f"cell LP ({lp.n_groups:,} groups) {time.monotonic() - started:.0f} s: {result.rounds} rounds, "
            f"{lp.n_columns:,} columns, value {result.lp_value:,.0f}, converged {result.converged}, "
            f"bound at its prices {result.bound:,.0f}, load {load_average()}",
            flush=True,
        )
        if result.bound < best.bound:
            best = space(result.cell_price)
    if args.fine > 0:
        fine = WorkplaceCells(lagrangian)
        fine_space = bundle.on_cells(fine)
        expanded = np.zeros(fine.n_cells)
        expanded[fine.slot_cell] = best.price[cells.slot_cell]  # (every seat at its class cell's price)
        point = fine_space(expanded)
        print(f"the best prices on {fine.n_cells:,} (workplace, day) cells: {point.bound:,.0f}", flush=True)
        point = bundle.minimise(fine_space, point, target, time.monotonic() + args.fine)
        print(
            f"  bundle method over them {args.fine:.0f} s: {point.bound:,.0f}, load {load_average()}",
            flush=True,
        )


if __name__ == "__main__":
    main()
