"""Every API list under gunicorn against /healthz on the same server, with each list's queries per page.

    .ci/with-postgres .venv/bin/python bench/lists.py [--seconds 5] [--connections 8] [--workers 1]

The script migrates and seeds a throwaway database (PostgreSQL from ``DATABASE_URL``, else SQLite), signs the
demo coordinator in with an API token, counts each list's queries in-process (Django's test client on the
same database and settings, DEBUG off), then starts gunicorn as ``bench/web.py`` does (gthread, 4 threads,
``--workers`` processes) and measures with wrk on loopback: ``/healthz`` first and last (the baseline is their
mean, which also shows how much the machine's load moved during the run), each list in between. The goal
of issue 15 is a ratio of at least 0.15 for every list with at most 4 queries per page. The load average is
printed with the figures: the machine is shared, so compare ratios, not absolute figures. Needs ``wrk``
(``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from web import ROOT, environment, free_port, manage, run_wrk, wait_ready  # noqa: E402

GOAL_RATIO = 0.15
GOAL_QUERIES = 4

# Run inside the project (manage.py shell): every list route, the token, and each list's queries per page.
COUNT_QUERIES = """
import json
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver
from rest_framework.authtoken.models import Token

paths = set()
def walk(patterns, prefix):
    for pattern in patterns:
        route = str(getattr(pattern, "pattern", ""))
        if hasattr(pattern, "url_patterns"):
            walk(pattern.url_patterns, prefix + route)
        elif str(getattr(pattern, "name", "") or "").endswith("-list") and "<" not in route:
            path = ("/" + prefix + route).replace("^", "").replace("$", "")
            if path.startswith("/api/v1/") and "(?P" not in path:
                paths.add(path)
walk(get_resolver().url_patterns, "")
token = Token.objects.get_or_create(user=User.objects.get(username="johan.bergstrom"))[0].key
client = Client(HTTP_AUTHORIZATION="Token " + token, HTTP_HOST="127.0.0.1")
lists = {}
for path in sorted(paths):
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    if response.status_code == 200:
        lists[path] = {"queries": len(queries), "rows": len(response.json()["results"])}
print(json.dumps({"token": token, "lists": lists}))
"""


def gunicorn(port: int, workers: int) -> list[str]:
    return [
        str(Path(sys.executable).parent / "gunicorn"),
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "--threads",
        "4",
        "-k",
        "gthread",
        "--log-level",
        "warning",
        "coordinator.wsgi:application",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--only", action="append", default=[], help="a list path to measure (repeatable)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    var_dir = Path(tempfile.mkdtemp(prefix="samverkan-bench-lists-"))
    env = {**environment(var_dir), "LOG_LEVEL": "ERROR"}
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--quiet")
    # Statistics for the seeded rows, as autovacuum keeps them on a running server: without them PostgreSQL
    # plans the enrolments page as if its tables were empty (a nested loop over every booking).
    manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from django.db import connection; connection.cursor().execute('ANALYZE')",
    )
    found = json.loads(manage(env, "shell", "--no-imports", "-c", COUNT_QUERIES).strip().splitlines()[-1])
    token, lists = found["token"], found["lists"]
    if args.only:
        lists = {path: lists[path] for path in args.only}
    port = free_port()
    process = subprocess.Popen(
        gunicorn(port, args.workers), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    results: dict[str, dict[str, float]] = {}
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", process)

        def measure(path: str, auth: str | None) -> dict[str, float]:
            url = f"http://127.0.0.1:{port}{path}"
            run_wrk(url, 1, args.connections, auth)  # warm-up
            return run_wrk(url, args.seconds, args.connections, auth)

        load_before = os.getloadavg()
        first = measure("/healthz", None)
        for path in lists:
            results[path] = measure(path, token)
        last = measure("/healthz", None)
        load_after = os.getloadavg()
    finally:
        process.terminate()
        process.wait(timeout=30)
    shutil.rmtree(var_dir, ignore_errors=True)
    baseline = (first["rps"] + last["rps"]) / 2
    database = env["DATABASE_URL"].split(":", 1)[0]
    print(
        f"database: {database}; gunicorn {args.workers} worker(s) × 4 threads; wrk {args.connections} "
        f"connections, {args.seconds} s per endpoint; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after"
    )
    print(f"/healthz: {first['rps']:.0f} req/s first, {last['rps']:.0f} last; baseline {baseline:.0f}")
    print(
        f"{'endpoint':<36} {'rows':>5} {'queries':>8} {'req/s':>8} {'p99 ms':>8} "
        f"{'× /healthz':>11} {'goal':>5}"
    )
    misses = 0
    for path, figures in results.items():
        ratio = figures["rps"] / baseline
        queries = lists[path]["queries"]
        met = ratio >= GOAL_RATIO and queries <= GOAL_QUERIES and figures["errors"] == 0
        misses += not met
        print(
            f"{path:<36} {lists[path]['rows']:>5} {queries:>8} {figures['rps']:>8.0f} {figures['p99']:>8.1f} "
            f"{ratio:>11.3f} {'yes' if met else 'NO':>5}"
        )
    print(
        f"{len(results) - misses} of {len(results)} lists meet the goal "
        f"(≥ {GOAL_RATIO}× /healthz, ≤ {GOAL_QUERIES} queries)"
    )


if __name__ == "__main__":
    main()
