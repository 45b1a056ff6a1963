"""Every API list under gunicorn against /healthz on the same server, with each list's queries per page.

    .ci/with-postgres .venv/bin/python bench/lists.py [--seconds 5] [--connections 8] [--workers 1]
        [--rounds N] [--only PATH ...] [--profile PATH ...]

The script migrates and seeds a throwaway database (PostgreSQL from ``DATABASE_URL``, else SQLite), signs the
demo coordinator in with an API token, counts each list's queries in-process (Django's test client on the
same database and settings, DEBUG off), then starts gunicorn as ``bench/web.py`` does (gthread, 4 threads,
``--workers`` processes) and measures with wrk on loopback. The goal of issue 15 is a ratio of at least 0.15
for every list with at most 4 queries per page. The load average is printed with the figures: the machine is
shared, so compare ratios, not absolute figures. Needs ``wrk`` (``apt-get install wrk``).

The baseline: ``/healthz`` is measured right before each list and once more after the last, so each list has
a ``/healthz`` run on either side of it; a list's ratio (``× nearby``) is to the mean of those two. With
``--rounds N`` every list is measured N times in that way and its median ratio is reported. The run's spread
of ``/healthz`` (lowest, highest) is printed, and the former ratio to one baseline for the whole run (the mean
of the first and the last ``/healthz``, ``× run``) is kept beside it for comparison with earlier figures: on
this machine ``/healthz`` drifted by up to a quarter during a run, which that ratio charged to the lists
measured at the ends. The goal is judged on the nearby ratio.

``--profile PATH`` (repeatable; ``/healthz`` for the baseline) samples the gunicorn worker with py-spy (the
threads holding the interpreter lock, 500 samples a second) while wrk calls PATH, and prints where the
worker's time goes: gunicorn, the middleware, DRF's steps, the list's own steps, SQL and rendering, as
shares of the samples (a step's share includes the steps inside it). The raw samples are written beside
(``--profile-dir``) for a flame graph. Needs py-spy (in the virtualenv).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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


# Where a request's time goes (``--profile``): a step is a frame matched by its function's name and the end of
# its file's path (py-spy's shortened names); its share counts every sample with that frame on the stack.
STEPS: list[tuple[str, str, str]] = [
    # (label, function, file ends with); indented labels are inside the step above them
    ("gunicorn: the worker's own loop and HTTP", "", ""),
    ("Django's WSGI handler (all of the request)", "__call__", "django/core/handlers/wsgi.py"),
    ("  the view (DRF dispatch)", "dispatch", "rest_framework/views.py"),
    ("    DRF's request set-up (initialize_request)", "initialize_request", "rest_framework/views.py"),
    ("    authentication (token, identity query)", "perform_authentication", "organisations/access/api.py"),
    ("    permissions", "check_permissions", "rest_framework/views.py"),
    ("    throttles", "check_throttles", "rest_framework/views.py"),
    ("    content negotiation", "perform_content_negotiation", "rest_framework/views.py"),
    ("    the list (handler)", "list", "coordinator/core/plans.py"),
    ("      shape key", "_shape_key", "coordinator/core/plans.py"),
    ("      kept answer (key, cache)", "answer_for", "coordinator/core/answers.py"),
    ("      kept answer lookup", "lookup", "coordinator/core/answers.py"),
    ("      queryset built (get_queryset, filters)", "filter_queryset", "rest_framework/generics.py"),
    ("      page read (paginate_queryset)", "paginate_queryset", "rest_framework/generics.py"),
    ("        rows written (write_page)", "write_page", "coordinator/core/plans.py"),
    ("      paginated response", "get_paginated_response", "rest_framework/generics.py"),
    ("    finalize_response", "finalize_response", "rest_framework/views.py"),
    ("  rendering (JSON renderer)", "render", "rest_framework/renderers.py"),
    ("SQL sent and read (psycopg)", "execute", "psycopg/cursor.py"),
    ("  prepared statement fetch", "fetch", "coordinator/core/prepared.py"),
    ("logging", "handle", "logging/__init__.py"),
]


def profile(port: int, worker: int, path: str, token: str | None, seconds: int, out: Path) -> list[str]:
    """Sample the worker with py-spy while wrk calls ``path``; the report's lines."""
    spy = Path(sys.executable).parent / "py-spy"
    url = f"http://127.0.0.1:{port}{path}"
    run_wrk(url, 1, 8, token)  # warm-up
    recorder = subprocess.Popen(
        [
            str(spy),
            "record",
            "--pid",
            str(worker),
            "--rate",
            "500",
            "--format",
            "raw",
            "--gil",
            "--nonblocking",
            "--duration",
            str(seconds + 1),
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    figures = run_wrk(url, seconds, 8, token)
    recorder.wait(timeout=seconds + 30)
    stacks: list[tuple[list[str], int]] = []
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    total = sum(count for _, count in stacks) or 1

    def share(function: str, ending: str) -> float:
        hits = 0
        for frames in stacks:
            for frame in frames[0]:
                name, _, where = frame.partition(" (")
                name = name.rsplit(".", 1)[-1]  # py-spy writes Class.method
                if (not function or name == function) and where.split(":", 1)[0].endswith(ending):
                    hits += frames[1]
                    break
        return hits / total

    handler = share("__call__", "django/core/handlers/wsgi.py")
    lines = [f"{path}: {figures['rps']:.0f} requests/s, {total} samples holding the interpreter lock"]
    for label, function, ending in STEPS:
        value = 1 - handler if not function and not ending else share(function, ending)
        lines.append(f"  {label:<52} {100 * value:6.1f} %")
    return lines


def worker_pid(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.2)
    raise RuntimeError("no gunicorn worker")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1, help="measure every list this many times")
    parser.add_argument("--only", action="append", default=[], help="a list path to measure (repeatable)")
    parser.add_argument("--profile", action="append", default=[], help="a path to profile (repeatable)")
    parser.add_argument("--profile-dir", default=tempfile.gettempdir())
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
    if args.only or args.profile:
        lists = {path: lists[path] for path in args.only}
    port = free_port()
    process = subprocess.Popen(
        gunicorn(port, args.workers), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    results: dict[str, list[dict[str, float]]] = {path: [] for path in lists}
    baselines: list[float] = []
    reports: list[str] = []
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", process)

        def measure(path: str, auth: str | None, warm: bool = True) -> dict[str, float]:
            url = f"http://127.0.0.1:{port}{path}"
            if warm:
                run_wrk(url, 1, args.connections, auth)  # warm-up
            return run_wrk(url, args.seconds, args.connections, auth)

        load_before = os.getloadavg()
        if lists:
            measure("/healthz", None)  # the server's first requests: warmed up, not counted
        for _round in range(args.rounds if lists else 0):
            for path in lists:
                before = measure("/healthz", None, warm=False)["rps"]
                figures = measure(path, token)
                figures["before"] = before
                baselines.append(before)
                results[path].append(figures)
            after = measure("/healthz", None, warm=False)["rps"]
            baselines.append(after)
            paths = list(lists)
            for position, path in enumerate(paths):
                following = results[paths[position + 1]][-1]["before"] if position + 1 < len(paths) else after
                results[path][-1]["after"] = following
        for path in args.profile:
            worker = worker_pid(process.pid)
            out = Path(args.profile_dir) / f"lists-profile{path.replace('/', '_')}.txt"
            reports += profile(port, worker, path, None if path == "/healthz" else token, args.seconds, out)
            reports.append(f"  (raw samples: {out})")
        load_after = os.getloadavg()
    finally:
        process.terminate()
        process.wait(timeout=30)
    shutil.rmtree(var_dir, ignore_errors=True)
    database = env["DATABASE_URL"].split(":", 1)[0]
    print(
        f"database: {database}; gunicorn {args.workers} worker(s) × 4 threads; wrk {args.connections} "
        f"connections, {args.seconds} s per endpoint, {args.rounds} round(s); load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    for line in reports:
        print(line)
    if not lists:
        return
    run_baseline = (baselines[0] + baselines[-1]) / 2
    print(
        f"/healthz: {baselines[0]:.0f} req/s first, {baselines[-1]:.0f} last (× run: their mean, "
        f"{run_baseline:.0f}); lowest {min(baselines):.0f}, highest {max(baselines):.0f}, median "
        f"{statistics.median(baselines):.0f} of {len(baselines)} runs"
    )
    print(
        f"{'endpoint':<36} {'rows':>5} {'queries':>8} {'req/s':>8} {'p99 ms':>8} {'/healthz':>9} "
        f"{'× nearby':>9} {'spread':>13} {'× run':>7} {'goal':>5}"
    )
    misses = 0
    for path, runs in results.items():
        ratios = [run["rps"] / ((run["before"] + run["after"]) / 2) for run in runs]
        ratio = statistics.median(ratios)
        rps = statistics.median(run["rps"] for run in runs)
        nearby = statistics.median((run["before"] + run["after"]) / 2 for run in runs)
        p99 = statistics.median(run["p99"] for run in runs)
        queries = lists[path]["queries"]
        met = ratio >= GOAL_RATIO and queries <= GOAL_QUERIES and all(run["errors"] == 0 for run in runs)
        misses += not met
        spread = f"{min(ratios):.3f}-{max(ratios):.3f}" if len(ratios) > 1 else ""
        print(
            f"{path:<36} {lists[path]['rows']:>5} {queries:>8} {rps:>8.0f} {p99:>8.1f} {nearby:>9.0f} "
            f"{ratio:>9.3f} {spread:>13} {rps / run_baseline:>7.3f} {'yes' if met else 'NO':>5}"
        )
    lowest = min(
        results,
        key=lambda path: statistics.median(
            run["rps"] / ((run["before"] + run["after"]) / 2) for run in results[path]
        ),
    )
    print(
        f"{len(results) - misses} of {len(results)} lists meet the goal "
        f"(≥ {GOAL_RATIO}× the nearby /healthz, ≤ {GOAL_QUERIES} queries); the lowest {lowest}"
    )


if __name__ == "__main__":
    main()
