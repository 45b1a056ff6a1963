"""The large-programme matcher's Lagrangian, measured by evaluations rather than seconds (so the figures
do not depend on the load): the time of one evaluation, the bound after a number of subgradient steps and
the proposal rounded from its prices, against first come, first served and the bound without prices
(measured in the same run).

Run by hand (not part of `make test`)::

    .venv/bin/python bench/matching_lagrangian.py --size 20000 --variant normal --steps 150
    .venv/bin/python bench/matching_lagrangian.py --size 50000 --variant ties --steps 60

The steps are split as in ``Lagrangian.minimise``: a third with one price per week, a third per day, a
third per seat. Times are processor times of this process (``time.process_time``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
import realistic  # noqa: E402 - the bench folder is put on the path first

from shadowing.matching.baseline import first_come_first_served  # noqa: E402
from shadowing.matching.lagrange import Lagrangian  # noqa: E402
from shadowing.matching.model import build_model, objective_of  # noqa: E402
from shadowing.matching.options import build_problem  # noqa: E402
from shadowing.matching.price_rounding import price_rounding  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--variant", default="normal", choices=realistic.VARIANTS)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.1f} (2 cores)")
    requests, workplaces, slots = realistic.programme(args.size, args.variant, args.seed)
    problem = build_problem(requests, workplaces, slots, fairness_weight=1.0)
    m = build_model(problem)
    _seats, fcfs = first_come_first_served(problem, m)
    target, fcfs_placed = objective_of(m, fcfs)
    lagrangian = Lagrangian(problem, m)
    y, z = np.zeros(len(lagrangian.capacity)), np.zeros(len(lagrangian.group_capacity))
    current = lagrangian.at(y, z)
    began = time.process_time()
    for _ in range(5):
        lagrangian.at(y + 1.0, z)
    evaluation_s = (time.process_time() - began) / 5
    best = (current.bound, y, z, current)
    began = time.process_time()
    blocks = (lagrangian.slot_day // 7, lagrangian.slot_day, None)
    for blocks_of in blocks:
        best = lagrangian._descend(best, target, float("inf"), args.steps // 3, blocks_of)
    descent_s = time.process_time() - began
    bound = best[0]
    began = time.process_time()
    forever = time.monotonic() + 1e6
    _seats, rounded = price_rounding(problem, lagrangian, best[1], best[2], forever, forever)
    rounding_s = time.process_time() - began
    objective, placed = objective_of(m, rounded)
    print(f"{args.size:,} {args.variant}: one evaluation {evaluation_s:.3f} s")
    print(f"  first come, first served: {fcfs_placed:,} placed, objective {target:,.0f}")
    print(f"  bound without prices {current.bound:,.0f}")
    print(f"  after {args.steps} steps {bound:,.0f} ({descent_s:.1f} s)")
    print(
        f"  rounded from its prices: {placed:,} placed, objective {objective:,.0f}, "
        f"gap {(bound - objective) / bound * 100:.2f} % ({rounding_s:.1f} s)"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
