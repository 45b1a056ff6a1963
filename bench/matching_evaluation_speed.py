"""The Lagrangian's evaluation at 50,000 requests, this code against an earlier one in the same process:
evaluations per second at the same prices (same results checked), then the minimisation (``minimise``,
from no prices towards first come, first served, as the solver runs it) for the same wall time each,
alternating, with the lowest bound and the bound at its prices averaged per (class, day) (``aggregate``).

Run by hand (not part of `make test`)::

    .venv/bin/python bench/matching_evaluation_speed.py --previous <checkout> --variant tight

where ``<checkout>`` is a checkout of the code to compare with (e.g. ``git worktree add``).

The earlier code's ``shadowing/matching`` is copied into a temporary package (its imports renamed) and
given the same problem, rebuilt by that code from the same programme. Times are medians of processor
and wall time per evaluation; the load average is printed with every figure.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
import realistic  # noqa: E402 - the bench folder is put on the path first

PACKAGE = "previous_matching"


def previous_package(checkout: Path) -> str:
    """The earlier checkout's matcher as an importable package of another name."""
    folder = Path(tempfile.mkdtemp())
    target = folder / PACKAGE
    shutil.copytree(checkout / "shadowing" / "matching", target)
    for source in target.glob("*.py"):
        source.write_text(source.read_text().replace("shadowing.matching", PACKAGE))
    sys.path.insert(0, str(folder))
    return PACKAGE


def load(package: str) -> dict[str, ModuleType]:
    return {
        name: importlib.import_module(f"{package}.{name}")
        for name in ("options", "model", "baseline", "lagrange", "aggregate")
    }


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--previous", type=Path, required=True, help="a checkout of the code to compare with")
    parser.add_argument("--size", type=int, default=50000)
    parser.add_argument("--variant", default="tight", choices=realistic.VARIANTS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warm", type=float, default=8.0, help="seconds of steps for the prices timed")
    parser.add_argument("--evaluations", type=int, default=20)
    parser.add_argument("--steps", type=float, default=15.0, help="seconds of minimisation each")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    codes = {"previous": load(previous_package(args.previous)), "new": load("shadowing.matching")}
    requests, workplaces, slots = realistic.programme(args.size, args.variant, args.seed)
    state = {}
    for name, mod in codes.items():
        problem = mod["options"].build_problem(requests, workplaces, slots, fairness_weight=1.0)
        m = mod["model"].build_model(problem)
        _seats, fcfs = mod["baseline"].first_come_first_served(problem, m)
        target, _placed = mod["model"].objective_of(m, fcfs)
        lagrangian = mod["lagrange"].Lagrangian(problem, m)
        state[name] = (lagrangian, target, mod["aggregate"].Cells(lagrangian))
    print(f"{args.size:,} {args.variant}, load {load_average()}")
    lagrangian, target, _cells = state["new"]
    _bound, y, z, _evaluation = lagrangian.minimise(target, time.monotonic() + args.warm)
    new_l, old_l = state["new"][0], state["previous"][0]
    a = new_l.evaluate(new_l.slot_cost(y, z), 0.0)
    b = old_l.evaluate(old_l.slot_cost(y, z), 0.0)
    same = (
        a.bound == b.bound
        and all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("value", "workplace", "start"))
        and np.array_equal(new_l.used(a), old_l.used(b))
    )
    print(f"same results at the prices of {args.warm:.0f} s of steps: {same}")
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in state}
    for _ in range(args.evaluations):
        for name, (lg, _t, _c) in state.items():
            cpu, wall = time.process_time(), time.perf_counter()
            lg.at(y, z)
            times[name][0].append(time.process_time() - cpu)
            times[name][1].append(time.perf_counter() - wall)
    for name, (cpu, wall) in times.items():
        print(
            f"  {name:8s} one evaluation: {np.median(cpu):.3f} s processor, {np.median(wall):.3f} s wall "
            f"({1 / np.median(wall):.1f} a second), load {load_average()}"
        )
    for round_number in range(args.rounds):
        for name, (lg, tgt, cells) in state.items():
            count = [0]
            plain_at = lg.at

            def counted(*prices: np.ndarray, _at=plain_at, _count=count):  # type: ignore[no-untyped-def]
                _count[0] += 1
                return _at(*prices)

            lg.at = counted
            try:
                found = lg.minimise(tgt, time.monotonic() + args.steps)
            finally:
                del lg.at
            averaged = codes[name]["aggregate"].on_cells(cells, found)
            print(
                f"  round {round_number + 1} {name:8s} {args.steps:.0f} s of steps: {count[0]} evaluations, "
                f"lowest {found[0]:,.0f}, averaged per cell {averaged[0]:,.0f}, load {load_average()}"
            )


if __name__ == "__main__":
    main()
