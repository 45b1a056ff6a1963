"""The matcher on programmes shaped like real ones (``bench/realistic.py``), against first come, first
served over every feasible option and a certified bound on the real (uncapped) problem.

Run by hand (not part of `make test`)::

    .venv/bin/python bench/matching_realistic.py                          # 5,000 / 20,000 / 50,000 x 3
    .venv/bin/python bench/matching_realistic.py --sizes 50000            # the large regression run
    .venv/bin/python bench/matching_realistic.py --sizes 5000 --busy      # with the other core kept busy

Each case runs in its own process, so that its peak memory (``ru_maxrss``) is its own. Wall time covers
building the problem and solving (which includes first come, first served, the floor the solver never
falls below); the data generation is excluded. Every proposal goes through ``realistic.check``, which
re-derives the rules from the programme alone; the load average is printed before each case.
``--busy`` starts a process that spins on one core for the
whole run (and stops it at the end), so the matcher has one core of the two. The load average at the
start and the end is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import realistic  # noqa: E402 - the bench folder is put on the path first

from shadowing.matching.options import build_problem  # noqa: E402
from shadowing.matching.solver import solve  # noqa: E402


def run_case(size: int, variant: str, time_limit: float, seed: int) -> dict[str, object]:
    requests, workplaces, slots = realistic.programme(size, variant, seed)
    started = time.perf_counter()
    began = time.monotonic()
    problem = build_problem(requests, workplaces, slots, fairness_weight=1.0)
    built = time.perf_counter()
    phases: list[tuple[str, float]] = []
    solution = solve(
        problem,
        time_limit=time_limit,
        started=began,  # building counts within the time limit, as in the service
        progress=lambda phase, *_: phases.append((phase, time.perf_counter())),
    )
    wall = time.perf_counter() - started
    chosen = {rid: (o.workplace, o.slots, o.score) for rid, o in solution.chosen.items()}
    problems, _ = realistic.check(requests, workplaces, slots, chosen)
    first_of = {}
    for phase, at in phases:
        first_of.setdefault(phase, round(at - built, 2))
    return {
        "size": size,
        "variant": variant,
        "placed": solution.placed,
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "fcfs_placed": solution.greedy_placed,
        "fcfs_objective": solution.greedy_objective,
        "wall_s": wall,
        "build_s": built - started,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "method": solution.method,
        "infeasible": len(problems),
        "first_problem": problems[0] if problems else "",
        "phases_at_s": first_of,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000, 50000])
    parser.add_argument("--variants", nargs="+", default=list(realistic.VARIANTS), choices=realistic.VARIANTS)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--busy", action="store_true", help="keep the other core busy")
    parser.add_argument("--case", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(int(args.case[0]), args.case[1], args.time_limit, args.seed)))
        return
    spinner = None
    if args.busy:
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # noqa: S603
    print(f"load average at the start: {os.getloadavg()[0]:.1f} (2 cores)")
    header = (
        "| requests | variant | placed | FCFS over all options | objective | certified bound | gap | "
        "wall s | peak MB | infeasible | method |"
    )
    print(header)
    print("|" + " --- |" * 11)
    try:
        for size in args.sizes:
            for variant in args.variants:
                cmd = [
                    sys.executable,
                    __file__,
                    "--case",
                    str(size),
                    variant,
                    "--time-limit",
                    str(args.time_limit),
                    "--seed",
                    str(args.seed),
                ]
                load = os.getloadavg()[0]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout  # noqa: S603
                r = json.loads(out.strip().splitlines()[-1])
                print(
                    f"| {r['size']:,} | {r['variant']} | {r['placed']:,} | {r['fcfs_placed']:,} | "
                    f"{r['objective']:,.0f} | {r['bound']:,.0f} | {r['gap'] * 100:.2f} % | "
                    f"{r['wall_s']:.1f} | {r['peak_mb']:.0f} | {r['infeasible']} | {r['method']} |",
                    flush=True,
                )
                if r["infeasible"]:
                    print(f"  first problem: {r['first_problem']}")
                print(
                    f"  load average {load:.1f} at the start of the case; "
                    f"built in {r['build_s']:.1f} s (within the time limit); "
                    f"phases began at (s after building): {r['phases_at_s']}",
                    flush=True,
                )
    finally:
        if spinner is not None:
            spinner.terminate()
            spinner.wait()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
