"""Benchmark of the shadowing matcher against first-come-first-served, on synthetic programmes.

Run by hand (not part of `make test`)::

    .venv/bin/python bench/matching.py                      # 5,000 and 50,000 requests, normal and tight
    .venv/bin/python bench/matching.py --sizes 5000 --variants tight
    .venv/bin/python bench/matching.py --sizes 5000 --time-limit 10 --fairness-weight 0
    .venv/bin/python bench/matching.py --sizes 50000 --full-lp      # also the whole LP (minutes)

Every case (size x variant x algorithm) runs in its own subprocess so that its peak memory (the
process's maximum resident set, `ru_maxrss`) is its own; the baseline is the same figure for a process
that only imported the modules and generated the data. Wall time covers building the options and
solving (the data generation is excluded). The gap of greedy is measured against the matcher's LP
bound of the same instance.

Synthetic programme (deterministic for a seed): ``workplaces / 20`` organisations, ``workplaces / 10``
topics (each workplace offers 1-3, each request names 1-2, one in ten names none), five languages, 60
calendar days from a Monday. Each workplace is open on a block of 1-3 consecutive weekdays every week,
one slot a day with capacity 1-3 and a per-day cap equal to it; one workplace in ten has a second
(afternoon) slot each open day and a per-day cap below the sum, so the day caps are exercised. Requests
need 1 day (50 %), 2 (30 %) or 3 (20 %), half of the multi-day ones consecutive, 1-2 availability windows
of 5-15 days, up to five preferences (workplaces or organisations), one in twenty is in a reciprocal pair.
The *tight* variant opens every workplace on one weekday only, with capacity 1, so demand far exceeds
supply. Options are capped at 20 per request (5 per workplace); the script prints how many requests have
fewer than 5.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shadowing.matching.options import (  # noqa: E402 - the repository root is put on the path first
    RequestSpec,
    SlotSpec,
    WorkplaceSpec,
    build_problem,
)
from shadowing.matching.solver import greedy, lp_bound, solve  # noqa: E402

START = date(2027, 3, 1)  # a Monday
HORIZON_DAYS = 60
LANGUAGES = ("sv", "da", "no", "fi", "en")


def synthetic(
    n_requests: int, n_workplaces: int, *, tight: bool = False, seed: int = 1
) -> tuple[list[RequestSpec], list[WorkplaceSpec], list[SlotSpec]]:
    rng = random.Random(seed)
    n_orgs = max(5, n_workplaces // 20)
    n_topics = max(5, n_workplaces // 10)
    workplaces: list[WorkplaceSpec] = []
    slots: list[SlotSpec] = []
    slot_id = 0
    for wid in range(1, n_workplaces + 1):
        org = rng.randrange(1, n_orgs + 1)
        topics = frozenset(rng.sample(range(1, n_topics + 1), rng.randint(1, 3)))
        languages = frozenset(rng.sample(LANGUAGES, rng.randint(1, 2)))
        if tight:
            open_days = [rng.randrange(5)]
            capacity = 1
        else:
            first = rng.randrange(5)
            open_days = list(range(first, min(5, first + rng.randint(1, 3))))
            capacity = rng.randint(1, 3)
        two_slots = not tight and rng.random() < 0.1
        max_per_day = capacity + 1 if two_slots else capacity
        workplaces.append(WorkplaceSpec(wid, org, topics, languages, max_per_day))
        for offset in range(HORIZON_DAYS):
            day = START + timedelta(days=offset)
            if day.weekday() not in open_days:
                continue
            for _ in range(2 if two_slots else 1):
                slot_id += 1
                slots.append(SlotSpec(slot_id, wid, org, day, capacity))

    requests: list[RequestSpec] = []
    submitted = datetime(2027, 1, 1, tzinfo=UTC)
    org_workplaces: dict[int, list[int]] = {}
    for w in workplaces:
        org_workplaces.setdefault(w.organisation, []).append(w.id)
    for rid in range(1, n_requests + 1):
        org = rng.randrange(1, n_orgs + 1)
        days = rng.choices((1, 2, 3), weights=(50, 30, 20))[0]
        consecutive = days > 1 and rng.random() < 0.5
        windows = []
        for _ in range(rng.randint(1, 2)):
            length = rng.randint(5, 15)
            first = rng.randrange(0, HORIZON_DAYS - length)
            windows.append((START + timedelta(days=first), START + timedelta(days=first + length - 1)))
        topics = (
            frozenset()
            if rng.random() < 0.1
            else frozenset(rng.sample(range(1, n_topics + 1), rng.randint(1, 2)))
        )
        languages = frozenset(rng.sample(LANGUAGES, rng.randint(1, 2))) if rng.random() < 0.7 else frozenset()
        pref_w: dict[int, int] = {}
        pref_o: dict[int, int] = {}
        for rank in range(1, rng.randint(0, 5) + 1):
            if rng.random() < 0.5:
                pref_w[rng.randrange(1, n_workplaces + 1)] = rank
            else:
                pref_o[rng.randrange(1, n_orgs + 1)] = rank
        requests.append(
            RequestSpec(
                id=rid,
                organisation=org,
                days=days,
                consecutive=consecutive,
                windows=tuple(windows),
                topics=topics,
                languages=languages,
                preferred_workplaces=pref_w,
                preferred_organisations=pref_o,
                partner=None,
                submitted_at=submitted + timedelta(minutes=rid),
            )
        )
    # Reciprocal pairs: 5 % of the requests, partners from another organisation, each preferring the
    # other's organisation.
    ids = list(range(len(requests)))
    rng.shuffle(ids)
    for k in range(0, len(ids) // 20 * 2, 2):
        a, b = requests[ids[k]], requests[ids[k + 1]]
        if a.organisation == b.organisation:
            continue
        requests[ids[k]] = _paired(a, b)
        requests[ids[k + 1]] = _paired(b, a)
    return requests, workplaces, slots


def _paired(request: RequestSpec, partner: RequestSpec) -> RequestSpec:
    return RequestSpec(
        id=request.id,
        organisation=request.organisation,
        days=request.days,
        consecutive=request.consecutive,
        windows=request.windows,
        topics=frozenset(),
        languages=request.languages,
        preferred_workplaces={},
        preferred_organisations={partner.organisation: 1},
        partner=partner.id,
        submitted_at=request.submitted_at,
    )


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(args: argparse.Namespace) -> dict[str, object]:
    requests, workplaces, slots = synthetic(args.requests, args.workplaces, tight=args.tight, seed=args.seed)
    baseline = _maxrss_mb()
    started = time.perf_counter()
    problem = build_problem(requests, workplaces, slots, fairness_weight=args.fairness_weight)
    built = time.perf_counter()
    if args.algorithm == "lp":
        bound = lp_bound(problem)
        return {"lp_bound": bound, "lp_s": time.perf_counter() - built, "peak_mb": _maxrss_mb()}
    if args.algorithm == "greedy":
        solution = greedy(problem)
    else:
        solution = solve(problem, time_limit=args.time_limit, gap_limit=args.gap_limit)
    finished = time.perf_counter()
    per_request: dict[int, int] = {}
    for o in problem.options:
        per_request[o.request] = per_request.get(o.request, 0) + 1
    counts = sorted(per_request.values())
    return {
        "build_s": built - started,
        "solve_s": finished - built,
        "wall_s": finished - started,
        "peak_mb": _maxrss_mb(),
        "baseline_mb": baseline,
        "placed": solution.placed,
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "method": solution.method,
        "options": len(problem.options),
        "with_options": len(counts),
        "fewer_than_5": sum(1 for c in counts if c < 5),
        "median_options": counts[len(counts) // 2] if counts else 0,
        "slot_seats": sum(problem.capacity.values()),
        "seat_days_wanted": sum(r.days for r in requests),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="5000,50000", help="numbers of requests, comma-separated")
    parser.add_argument("--variants", default="normal,tight", help="normal and/or tight")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--gap-limit", type=float, default=0.005)
    parser.add_argument("--fairness-weight", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object per case as well")
    parser.add_argument(
        "--full-lp",
        action="store_true",
        help="also solve the LP relaxation of each whole instance, without time limit (minutes at 50,000)",
    )
    # Internal: run one case in this process.
    parser.add_argument("--case", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workplaces", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tight", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--algorithm", choices=("greedy", "matcher", "lp"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args)))
        return

    header = (
        f"{'case':<22} {'algorithm':<9} {'wall s':>7} {'build s':>7} {'solve s':>7} {'peak MB':>8} "
        f"{'placed':>7} {'objective':>12} {'LP bound':>12} {'gap %':>7} method"
    )
    print(f"load average {os.getloadavg()[0]:.1f}, cores {os.cpu_count()}")
    print(header)
    for size in (int(s) for s in args.sizes.split(",")):
        for variant in args.variants.split(","):
            results = {}
            for algorithm in ("greedy", "matcher", "lp") if args.full_lp else ("greedy", "matcher"):
                cmd = [
                    sys.executable,
                    __file__,
                    "--case",
                    f"--requests={size}",
                    f"--workplaces={size // 10}",
                    f"--algorithm={algorithm}",
                    f"--time-limit={args.time_limit}",
                    f"--gap-limit={args.gap_limit}",
                    f"--fairness-weight={args.fairness_weight}",
                    f"--seed={args.seed}",
                ] + (["--tight"] if variant == "tight" else [])
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout  # noqa: S603
                results[algorithm] = json.loads(out.strip().splitlines()[-1])
            full_lp = results.pop("lp", None)
            bound = float(results["matcher"]["bound"])
            name = f"{size:,} {variant}"
            for algorithm, r in results.items():
                gap = (bound - float(r["objective"])) / bound * 100 if bound else 0.0
                print(
                    f"{name:<22} {algorithm:<9} {r['wall_s']:>7.2f} {r['build_s']:>7.2f} "
                    f"{r['solve_s']:>7.2f} "
                    f"{r['peak_mb']:>8.0f} {r['placed']:>7,} {r['objective']:>12,.1f} {bound:>12,.1f} "
                    f"{gap:>7.3f} {r['method']}"
                )
                if args.json:
                    print(json.dumps({"case": name, "algorithm": algorithm, **r}))
            m = results["matcher"]
            print(
                f"{'':<22} instance: {m['options']:,} options for {m['with_options']:,} requests "
                f"(median {m['median_options']}, {m['fewer_than_5']:,} with fewer than 5), "
                f"{m['slot_seats']:,} free seats, {m['seat_days_wanted']:,} seat-days wanted, "
                f"baseline RSS {m['baseline_mb']:.0f} MB; "
                f"placed {m['placed'] - results['greedy']['placed']:+,} "
                f"vs greedy"
            )
            if full_lp is not None:
                whole = full_lp["lp_bound"]
                if whole is None:
                    print(f"{'':<22} full LP: no optimum")
                else:
                    print(
                        f"{'':<22} full LP: {whole:,.1f} in {full_lp['lp_s']:.1f} s "
                        f"({(bound - whole) / whole * 100:.3f} % below the run's bound); the matcher's "
                        f"gap to it {(whole - float(m['objective'])) / whole * 100:.3f} %"
                    )


if __name__ == "__main__":
    main()
