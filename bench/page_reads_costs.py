"""The catalogue's and the workplaces' own rows read with the page's identity or apart, interleaved in one
process.

    .venv/bin/python bench/page_reads_costs.py [--repeat 30] [--rounds 20] [--mix 3000] 2>/dev/null

Starts PostgreSQL and Redis and seeds the load test's programme as ``bench/request_costs.py`` does, then
sends the pages of the mix (and ping with a session) in rounds, each round once with a page's own rows read
in its identity's statement (``coordinator.core.pagereads``) and once without (``pagereads.begin`` names no
reads: the identity's query, then the page's own, as before), the order of the two turned every round. Both
run in the same process against the same database and caches, so the machine's load falls on both alike.
Per request type: the queries of one request, the processor time per request (median and best of the
rounds) and the difference, of this process and of the PostgreSQL server process that answers it (its
time on a processor from ``/proc/<pid>/schedstat``). My page, the approvals page and ping name no reads: the controls (they pay
only the lookup of the path).

``--mix N`` then sends the load test's mix as ``bench/request_costs.py --mix-only`` does, each request drawn
at random with or without, and prints the processor time and queries per request of each kind of address
with and without, and of the whole mix (``bench/identity_costs.py``'s table).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import identity_costs  # noqa: E402
import request_costs  # noqa: E402

TYPES = (
    "page course catalogue",
    "page workplaces",
    "page my page",
    "page approvals",
    "ping (session)",
)


class Switch:
    """Page reads with the identity on (``pagereads.begin`` as it is) or off (it names none)."""

    def __init__(self) -> None:
        from coordinator.core import pagereads

        self.module = pagereads
        self.begin = pagereads.begin

    def set(self, on: bool) -> None:
        self.module.begin = self.begin if on else (lambda request: None)  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=240)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--mix", type=int, default=0, help="then N requests of the mix, drawn at random")
    parser.add_argument("--mix-seed", type=int, default=15)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="samverkan-pagereads-"))
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

    with unscoped(), transaction.atomic():
        seed = load_seed.seed(options.people)
    client = Client()
    kinds = request_costs._requests(seed, client)
    switch = Switch()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        server = Path(f"/proc/{cursor.fetchone()[0]}/schedstat")
    load = [os.getloadavg()[0]]
    cpu: dict[tuple[str, bool], list[float]] = {}
    database: dict[tuple[str, bool], list[float]] = {}
    queries: dict[tuple[str, bool], int] = {}
    for flag in (True, False):
        switch.set(flag)
        for name in TYPES:
            request_costs._send(client, kinds[name]())  # warm: compiled SQL, kept entries
            with CaptureQueriesContext(connection) as captured:
                request_costs._send(client, kinds[name]())
            queries[name, flag] = len(captured)
    # Every person's session in the cache, as in the load test's steady state.
    for name in ("page course catalogue",) * len(seed["staff"]):
        request_costs._send(client, kinds[name]())
    for round_ in range(options.rounds):
        for flag in (True, False) if round_ % 2 == 0 else (False, True):
            switch.set(flag)
            for name in TYPES:
                batch = [kinds[name]() for _ in range(options.repeat)]
                on_server = int(server.read_text().split()[0])
                started = time.process_time()
                for request in batch:
                    request_costs._send(client, request)
                cpu.setdefault((name, flag), []).append(
                    (time.process_time() - started) / options.repeat * 1000
                )
                database.setdefault((name, flag), []).append(
                    (int(server.read_text().split()[0]) - on_server) / options.repeat / 1e6
                )
        load.append(os.getloadavg()[0])
    switch.set(True)
    print(
        f"{os.cpu_count()} cores, load average {min(load):.1f}-{max(load):.1f}; "
        f"{options.rounds} rounds × {options.repeat} requests, interleaved"
    )
    print(
        "| request type | queries apart / with the identity | ms apart (median, best) | ms with (median, best) "
        "| difference (median) | PostgreSQL ms apart / with (median) | difference |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in TYPES if options.rounds else ():
        apart, joined = cpu[name, False], cpu[name, True]
        server_apart, server_joined = database[name, False], database[name, True]
        print(
            f"| {name} | {queries[name, False]} / {queries[name, True]} "
            f"| {statistics.median(apart):.2f}, {min(apart):.2f} | {statistics.median(joined):.2f}, "
            f"{min(joined):.2f} | {statistics.median(joined) - statistics.median(apart):+.2f} "
            f"| {statistics.median(server_apart):.3f} / {statistics.median(server_joined):.3f} "
            f"| {statistics.median(server_joined) - statistics.median(server_apart):+.3f} |"
        )
    if options.mix:
        _mix(options, seed, client, kinds, switch)


def _mix(
    options: argparse.Namespace, seed: dict[str, Any], client: Any, kinds: dict[str, Any], switch: Switch
) -> None:
    """``bench/identity_costs.py``'s mix, flipping this switch where it flips the viewsets' flag (it reads
    the viewsets' base from its module when it runs: a stand-in there turns its flag into this switch)."""
    import organisations.access.api as api

    class Flag:
        def __setattr__(self, name: str, value: Any) -> None:
            switch.set(bool(value))

    viewsets = api.ProgrammeScopedViewSet
    api.ProgrammeScopedViewSet = Flag()  # type: ignore[assignment, misc]
    try:
        identity_costs._mix(options, seed, client, kinds)
    finally:
        api.ProgrammeScopedViewSet = viewsets  # type: ignore[misc]
        switch.set(True)


if __name__ == "__main__":
    main()
