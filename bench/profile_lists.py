"""Where a list endpoint's time goes: every API list of the demo programme, in-process, with its query count,
its mean time per request and (``--profile``) cProfile's heaviest functions.

    .venv/bin/python bench/profile_lists.py [--repeat 30] [--rounds 4] [--profile /api/v1/people/]
                                            [--user johan.bergstrom] [--only /api/v1/seminars/]
    .ci/with-postgres .venv/bin/python bench/profile_lists.py        # the same on a throwaway PostgreSQL

The script migrates and seeds a throwaway database (SQLite in a temporary folder unless DATABASE_URL is
set), signs the demo coordinator in with an API token and calls each list through Django's test client
with the production middleware and settings (DEBUG off). The baseline in the same run is ``/healthz``.
Besides the mean wall time it prints the processor time per request, the best of ``--rounds`` rounds of
``--repeat`` requests: on a machine shared with other work that figure moves least between runs.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    folder = tempfile.mkdtemp(prefix="samverkan-bench-lists-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="coordinator.settings",
        DEBUG="0",
        SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN",
        ALLOWED_HOSTS="testserver,127.0.0.1",
        VAR_DIR=folder,
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        API_THROTTLE_USER="100000000/minute",
        REDIS_URL="",
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder}/bench.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    call_command("seed_demo", "--quiet")


def list_paths() -> list[str]:
    """Every API list route that needs no parameter but the programme scope."""
    from django.urls import get_resolver

    paths: list[str] = []

    def walk(patterns: list[object], prefix: str) -> None:
        for pattern in patterns:
            route = str(getattr(pattern, "pattern", ""))
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, prefix + route)
            elif getattr(pattern, "name", "") and str(pattern.name).endswith("-list") and "<" not in route:
                path = "/" + prefix + route
                path = path.replace("^", "").replace("$", "").replace("\\.(?P<format>[a-z0-9]+)/?", "")
                if path.startswith("/api/v1/") and "(?P" not in path:
                    paths.append(path)

    walk(get_resolver().url_patterns, "")
    return sorted(set(paths))


def cpu_per_request(client: object, path: str, repeat: int) -> float:
    """Processor time of this process per request, in milliseconds."""
    started = time.process_time()
    for _ in range(repeat):
        client.get(path)  # type: ignore[attr-defined]
    return (time.process_time() - started) / repeat * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=4, help="rounds for the best processor time")
    parser.add_argument("--user", default="johan.bergstrom")
    parser.add_argument("--profile", action="append", default=[], help="a path to profile (repeatable)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--only", action="append", default=[], help="measure only lists whose path starts so (repeatable)"
    )
    args = parser.parse_args()
    setup_django()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    token = Token.objects.get_or_create(user=User.objects.get(username=args.user))[0].key
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    print(f"database: {connection.vendor}; user {args.user}; mean of {args.repeat} requests each")
    print(f"{'endpoint':<42} {'rows':>5} {'queries':>8} {'ms':>8} {'× /healthz':>11} {'cpu ms':>8} {'×':>7}")
    results: list[tuple[str, int, int, float, float]] = []
    paths = [path for path in list_paths() if not args.only or path.startswith(tuple(args.only))]
    for path in ["/healthz", *paths]:
        response = client.get(path)
        if response.status_code != 200:
            print(f"{path:<42} status {response.status_code}")
            continue
        rows = len(response.json().get("results", [])) if path.startswith("/api/") else 0
        executed: list[str] = []
        with connection.execute_wrapper(
            lambda execute, sql, *rest, executed=executed: executed.append(sql) or execute(sql, *rest)
        ):
            client.get(path)
        started = time.perf_counter()
        for _ in range(args.repeat):
            client.get(path)
        mean = (time.perf_counter() - started) / args.repeat * 1000
        cpu = min(cpu_per_request(client, path, args.repeat) for _ in range(args.rounds))
        results.append((path, rows, len(executed), mean, cpu))
    baseline, cpu_baseline = results[0][3], results[0][4]
    for path, rows, count, mean, cpu in results:
        print(
            f"{path:<42} {rows:>5} {count:>8} {mean:>8.2f} {baseline / mean:>11.3f}"
            f" {cpu:>8.2f} {cpu_baseline / cpu:>7.3f}"
        )
    for path in args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            client.get(path)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(args.top)
        print(f"\n--- cProfile of {args.repeat} × {path} (cumulative) ---")
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
        print(f"--- cProfile of {args.repeat} × {path} (own time) ---")
        print(out.getvalue())


if __name__ == "__main__":
    main()
