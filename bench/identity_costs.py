"""The API's signed-in identity read with the token or apart from it, interleaved in one process.

    .venv/bin/python bench/identity_costs.py [--repeat 50] [--rounds 12] 2>/dev/null

Starts PostgreSQL and Redis and seeds the load test's programme as ``bench/request_costs.py`` does, then
sends the API requests of the mix (and ping) in rounds, each round once with the viewsets reading the
person's memberships and a kept list's stamps in the token's query
(``organisations.permissions.token_identity``) and once without (``reads_identity`` off: the token's query,
then the memberships' and the stamps' own queries, as before), the order of the two turned every round.
Both run in the same process against the same database and caches, so the machine's load, which moves
whole runs by a fifth, falls on both alike. Per request type: the queries of one request, the processor
time per request (median and best of the rounds) and the difference.

``--mix N`` then sends the load test's mix as ``bench/request_costs.py --mix-only`` does (its table is
printed too), each request drawn at random with or without the token's identity, and prints the mean
processor time and queries per request of each kind of address with and without, and of the whole mix.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import request_costs  # noqa: E402

TYPES = (
    "api slots (free)",
    "api courses",
    "api rounds",
    "api requests (to decide)",
    "api enrolments (mine)",
    "ping (baseline)",
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=240)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--mix", type=int, default=0, help="then N requests of the mix, drawn at random")
    parser.add_argument("--mix-seed", type=int, default=15)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="samverkan-identity-"))
    folder.chmod(0o755)
    postgres, redis = request_costs._setup(folder)
    try:
        _measure(options)
    finally:
        from django.db import connections

        connections.close_all()
        redis.terminate()
        redis.wait(timeout=10)
        postgres.stop("immediate")


def _measure(options: argparse.Namespace) -> None:
    import load_seed
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from coordinator.core.tenancy import unscoped
    from organisations.access.api import ProgrammeScopedViewSet

    with unscoped(), transaction.atomic():
        seed = load_seed.seed(options.people)
    client = Client()
    kinds = request_costs._requests(seed, client)
    load = [os.getloadavg()[0]]
    cpu: dict[tuple[str, bool], list[float]] = {}
    queries: dict[tuple[str, bool], int] = {}
    for flag in (True, False):
        ProgrammeScopedViewSet.reads_identity = flag
        for name in TYPES:
            expected = request_costs.EXPECTED.get(name, (200, 201))
            request_costs._send(client, kinds[name](), expected)  # warm: compiled SQL, kept answers
            with CaptureQueriesContext(connection) as captured:
                request_costs._send(client, kinds[name](), expected)
            queries[name, flag] = len(captured)
    for round_ in range(options.rounds):
        for flag in (True, False) if round_ % 2 == 0 else (False, True):
            ProgrammeScopedViewSet.reads_identity = flag
            for name in TYPES:
                expected = request_costs.EXPECTED.get(name, (200, 201))
                batch = [kinds[name]() for _ in range(options.repeat)]
                started = time.process_time()
                for request in batch:
                    request_costs._send(client, request, expected)
                cpu.setdefault((name, flag), []).append(
                    (time.process_time() - started) / options.repeat * 1000
                )
        load.append(os.getloadavg()[0])
    ProgrammeScopedViewSet.reads_identity = True
    if options.mix:
        _mix(options, seed, client, kinds)
    print(
        f"{os.cpu_count()} cores, load average {min(load):.1f}-{max(load):.1f}; "
        f"{options.rounds} rounds × {options.repeat} requests, interleaved"
    )
    print(
        "| request type | queries apart / with the token | ms apart (median, best) | ms with (median, best) "
        "| difference (median) |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in TYPES if options.rounds else ():
        apart, joined = cpu[name, False], cpu[name, True]
        print(
            f"| {name} | {queries[name, False]} / {queries[name, True]} "
            f"| {statistics.median(apart):.2f}, {min(apart):.2f} | {statistics.median(joined):.2f}, "
            f"{min(joined):.2f} | {statistics.median(joined) - statistics.median(apart):+.2f} |"
        )


def _mix(options: argparse.Namespace, seed: dict[str, Any], client: Any, kinds: dict[str, Any]) -> None:
    """The mix as ``bench/request_costs.py`` sends it, each request with or without the token's identity
    (a coin flip of its own), its processor time and queries counted by kind of address and by choice."""
    import random

    from django.db import connection

    from organisations.access.api import ProgrammeScopedViewSet

    coin = random.Random(7)  # noqa: S311 (load, not security)
    spent: dict[tuple[str, bool], list[float]] = defaultdict(list)
    counted: dict[tuple[str, bool], int] = defaultdict(int)
    executed = [0]
    call = request_costs._call

    def count(execute: Any, sql: str, *rest: Any) -> Any:
        executed[0] += 1
        return execute(sql, *rest)

    def flipped(client: Any, request: Any) -> Any:
        method, path, _kwargs = request
        kind = f"{method.upper()} {'/'.join(path.split('/')[:5])}"
        kind = kind if path.startswith("/api/") else f"{method.upper()} {path.split('/')[1]}"
        flag = coin.random() < 0.5
        ProgrammeScopedViewSet.reads_identity = flag
        before, started = executed[0], time.process_time()
        try:
            return call(client, request)
        finally:
            spent[kind, flag].append((time.process_time() - started) * 1000)
            counted[kind, flag] += executed[0] - before
            ProgrammeScopedViewSet.reads_identity = True

    mix_options = argparse.Namespace(mix=options.mix, mix_seed=options.mix_seed, profile=[])
    load = os.getloadavg()[0]
    request_costs._call = flipped
    try:
        with connection.execute_wrapper(count):
            # Its table's "isolated" column is left empty (nan): the rounds above measure them.
            request_costs._mix(mix_options, seed, client, kinds, {name: (0, math.nan, 0.0) for name in kinds})
    finally:
        request_costs._call = call
    print(
        f"\nThe mix, each request with or without at random; load average {load:.1f}-{os.getloadavg()[0]:.1f}"
    )
    print(
        "| address | n apart / with | queries apart / with | ms apart / with (mean) "
        "| ms apart / with (median) | difference (median) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    totals: dict[bool, list[float]] = {True: [0.0, 0.0, 0.0], False: [0.0, 0.0, 0.0]}
    for kind in sorted({kind for kind, _flag in spent}):
        apart, joined = spent[kind, False], spent[kind, True]
        if not apart or not joined:
            continue
        for flag, values in ((False, apart), (True, joined)):
            totals[flag][0] += len(values)
            totals[flag][1] += sum(values)
            totals[flag][2] += counted[kind, flag]
        mean_apart, mean_joined = statistics.fmean(apart), statistics.fmean(joined)
        median_apart, median_joined = statistics.median(apart), statistics.median(joined)
        print(
            f"| {kind} | {len(apart)} / {len(joined)} | {counted[kind, False] / len(apart):.2f} / "
            f"{counted[kind, True] / len(joined):.2f} | {mean_apart:.2f} / {mean_joined:.2f} "
            f"| {median_apart:.2f} / {median_joined:.2f} | {median_joined - median_apart:+.2f} |"
        )
    (n0, ms0, q0), (n1, ms1, q1) = totals[False], totals[True]
    print(
        f"| the mix | {n0:.0f} / {n1:.0f} | {q0 / n0:.2f} / {q1 / n1:.2f} | {ms0 / n0:.2f} / {ms1 / n1:.2f} "
        f"| | (means) {ms1 / n1 - ms0 / n0:+.2f} |"
    )


if __name__ == "__main__":
    main()
