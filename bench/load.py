"""Load test with Locust against ``make serve-prod``'s stack on this machine.

  .venv/bin/python bench/load.py --users 200 --minutes 2

1. Starts PostgreSQL and Redis (throwaway, as ``make serve-prod`` does without ``DATABASE_URL`` and
   ``REDIS_URL``) and then ``python -m coordinator.servers prod`` on a free port against them: nginx in
   front, gunicorn for HTTP, uvicorn for websockets, a task worker, DEBUG off. The database starts from
   the schema kept by an earlier run with the same migrations (``Postgres.restore_schema``) and the
   static files are collected only when they changed, so the stack is up in seconds, not minutes.
2. Seeds a programme shaped like a real one (``bench/load_seed.py``: six agencies, one with 40 % of the
   staff, line managers, workplaces with slots, courses with rounds, focus groups with notes).
3. The load phase: ``--users`` simulated users (``bench/locustfile.py``) for ``--minutes``, each pausing
   ``--think`` seconds between requests, in a weighted mix: staff browsing the course catalogue and the
   workplaces (pages and API), enrolling on rounds and asking to shadow (real writes), fetching their
   calendar feed; line managers approving; focus-group members typing into a note over the websocket; and
   ``GET /api/v1/ping/`` as the baseline in the same run. Goals: no errors, p95 under 300 ms for every
   page, API call and feed.
4. The throughput phase, on the same stack right after: ``--capacity-users`` users with no pause, first
   the HTTP mix of the staff and managers alone, then ping alone, ``--capacity-seconds`` each; the mix's
   requests per second must be at least half of ping's.

The bench's stack differs from production only in its rate limits: the per-user and ping throttles are
raised (``API_THROTTLE_USER``, ``API_THROTTLE_PING``), since a simulated user without pauses exceeds a
real person's limit by design; every other setting is the production default.

Prints per endpoint: requests, failures, p50/p95/p99 (ms) and requests/s, the load average, and each goal
as met or not met; for the throughput phase the processor time each part of the stack (gunicorn,
PostgreSQL, the task worker, uvicorn, nginx, Redis) spent per request, and Locust's own processor time in
each phase (it runs on the same cores).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coordinator.production import Postgres, free_port, start_redis, wait_for_port  # noqa: E402

P95_GOAL_MS = 300.0
PROJECT_PACKAGES = ("coordinator/", "organisations/", "shadowing/", "seminars/", "focusgroups/")
THROUGHPUT_GOAL = 0.5


def _stack_environment(folder: Path, postgres: Postgres, redis_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PYTEST_"))
    }
    env.update(
        DATABASE_URL=postgres.url,
        REDIS_URL=redis_url,
        # Fixed for the run: the seeder signs the calendar addresses with it.
        SECRET_KEY="load-test-secret-key-" + os.urandom(24).hex(),
        VAR_DIR=str(folder / "var"),
        LOG_LEVEL="WARNING",
        API_THROTTLE_USER="1000000/minute",
        API_THROTTLE_PING="1000000/minute",
        # Shared with make serve-prod: collected again only when a static source changed.
        STATIC_ROOT=str(ROOT / "var" / "static"),
    )
    return env


def _run_locust(
    *,
    host: str,
    seed: Path,
    users: int,
    spawn_rate: float,
    seconds: int,
    think: str,
    classes: list[str],
    prefix: Path,
    cpu: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Runs Locust headless and returns its statistics rows; Locust's own processor time (user and system,
    seconds) goes into ``cpu[prefix.name]``: it runs on the same cores as the stack it measures."""
    env = {**os.environ, "LOAD_SEED": str(seed), "LOAD_THINK": think}
    command = [
        str(Path(sys.executable).parent / "locust"),
        *("-f", str(ROOT / "bench" / "locustfile.py")),
        "--headless",
        *("--host", host),
        *("--users", str(users), "--spawn-rate", str(spawn_rate)),
        *("--run-time", f"{seconds}s", "--stop-timeout", "30"),
        *("--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"),
        *classes,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603 (our own locustfile)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu[prefix.name] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    with open(f"{prefix}_stats.csv", newline="") as stats:
        return list(csv.DictReader(stats))


def _ms(row: dict[str, Any], column: str) -> float:
    value = row[column]
    return float(value) if value not in ("", "N/A") else 0.0


def _print_table(title: str, rows: list[dict[str, Any]], seconds: int) -> None:
    print(f"\n{title}")
    print(f"| {'endpoint':<40} | requests | failures | p50 ms | p95 ms | p99 ms | req/s |")
    print(f"| {'-' * 40} | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        name = "all" if row["Name"] == "Aggregated" else row["Name"]
        print(
            f"| {name:<40} | {int(row['Request Count']):,} | {int(row['Failure Count']):,} "
            f"| {_ms(row, '50%'):,.0f} | {_ms(row, '95%'):,.0f} | {_ms(row, '99%'):,.0f} "
            f"| {float(row['Requests/s']):,.1f} |"
        )


def _failures(prefix: Path) -> list[str]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as failures:
        return [
            f"{row['Occurrences']}× {row['Name']}: {row['Error'][:300]}" for row in csv.DictReader(failures)
        ]


def _start_profiler(folder: Path, stack: int, seconds: int) -> subprocess.Popen[bytes]:
    """py-spy sampling gunicorn (the stack's own, a child of serve-prod) and its workers for the load
    phase, as collapsed stacks."""
    master = subprocess.run(
        ["pgrep", "-P", str(stack), "-f", "coordinator.servers gunicorn"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    return subprocess.Popen(  # noqa: S603 (py-spy on our own server)
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", master, "--subprocesses"]
        + ["--duration", str(seconds), "--rate", "50", "--format", "raw", "--output", str(folder / "web.txt")]
        + ["--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _print_profile(path: Path, top: int = 25) -> None:
    """Where the web workers' samples went: by our own function (the innermost frame of the project's code
    in each sample, with everything it called), and by innermost frame of any code."""
    if not path.exists():
        print("\nprofile: py-spy wrote nothing (is ptrace allowed here?)")
        return
    ours: dict[str, int] = {}
    leaves: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = stack.split(";")
        if any("(gunicorn/workers/gthread.py" in f for f in frames[-2:]) or "idle" in frames[-1]:
            continue
        total += count
        leaves[frames[-1]] = leaves.get(frames[-1], 0) + count
        # py-spy names a frame "function (path/relative/to/its/root.py:line)": ours start with our packages.
        project = [f for f in frames if f.rpartition(" (")[2].startswith(PROJECT_PACKAGES)]
        key = project[-1] if project else "(outside the project's code)"
        ours[key] = ours.get(key, 0) + count
    print(f"\nProfile of the web workers during the load phase ({total:,} busy samples)")
    print("innermost project frame (with what it called):")
    for frame, count in sorted(ours.items(), key=lambda item: -item[1])[:top]:
        print(f"  {100 * count / total:5.1f} %  {frame}")
    print("innermost frame of any code:")
    for frame, count in sorted(leaves.items(), key=lambda item: -item[1])[:top]:
        print(f"  {100 * count / total:5.1f} %  {frame}")


def _role(process: Any) -> str | None:
    """Which part of the stack a process is, by its command line."""
    try:
        command = " ".join(process.cmdline())
    except Exception:  # noqa: BLE001 (ended or not ours to read: not counted)
        return None
    for needle, role in (
        ("coordinator.servers gunicorn", "gunicorn (HTTP)"),
        ("coordinator.servers uvicorn", "uvicorn (websockets)"),
        ("uvicorn", "uvicorn (websockets)"),
        ("task_worker", "task worker"),
        ("nginx", "nginx"),
        ("postgres", "PostgreSQL"),
        ("redis-server", "Redis"),
    ):
        if needle in command:
            return role
    return None


def _stack_cpu(stack: int, postgres_folder: Path, redis: int) -> dict[str, float]:
    """Processor time (user and system, seconds) used so far by each part of the stack: the processes
    under ``serve-prod``, PostgreSQL's server (its processes under the postmaster of ``postgres_folder``)
    and Redis."""
    import psutil  # Locust's own dependency

    roots = [psutil.Process(stack), psutil.Process(redis)]
    data = str(postgres_folder / "data")
    roots += [p for p in psutil.process_iter(["cmdline"]) if data in " ".join(p.info["cmdline"] or [])]
    totals: dict[str, float] = {}
    roles: dict[int, str] = {}
    seen: set[int] = set()
    for root in roots:
        try:
            family = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for process in family:
            if process.pid in seen:
                continue
            seen.add(process.pid)
            # uvicorn's workers are started by multiprocessing: a worker is what its parent is.
            role = _role(process) or roles.get(process.ppid())
            if role is None:
                continue
            roles[process.pid] = role
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            totals[role] = totals.get(role, 0.0) + times.user + times.system
    return totals


def _print_cpu(
    title: str, before: dict[str, float], after: dict[str, float], seconds: int, requests: int
) -> None:
    print(f"\n{title}: processor time by part ({requests:,} requests in {seconds} s)")
    print("| part | cpu s | % of one core | cpu ms per request |")
    print("| --- | ---: | ---: | ---: |")
    total = 0.0
    for role in sorted(after, key=lambda r: -(after[r] - before.get(r, 0.0))):
        used = after[role] - before.get(role, 0.0)
        total += used
        print(f"| {role} | {used:.1f} | {100 * used / seconds:.0f} | {1000 * used / max(requests, 1):.2f} |")
    print(f"| all | {total:.1f} | {100 * total / seconds:.0f} | {1000 * total / max(requests, 1):.2f} |")


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:  # noqa: PLR0915 (one linear script)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=2)
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    parser.add_argument("--think", default="1,4", help="pause between one user's requests: min,max seconds")
    parser.add_argument("--people", type=int, default=240, help="staff members to seed (>= the staff users)")
    parser.add_argument("--capacity-users", type=int, default=16)
    parser.add_argument("--capacity-seconds", type=int, default=30)
    parser.add_argument(
        "--web-workers", type=int, default=None, help="gunicorn workers (serve-prod's default)"
    )
    parser.add_argument(
        "--web-threads", type=int, default=None, help="threads per gunicorn worker (serve-prod's default)"
    )
    parser.add_argument(
        "--socket-workers", type=int, default=None, help="uvicorn workers (serve-prod's default)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the web workers with py-spy during the load phase and print where their time goes",
    )
    parser.add_argument("--keep", action="store_true", help="keep the stack running at the end until Ctrl-C")
    options = parser.parse_args()

    # Stopped from outside (timeout, kill): clean up as after Ctrl-C, so no server is left behind.
    signal.signal(signal.SIGTERM, _stop)
    folder = Path(tempfile.mkdtemp(prefix="samverkan-load-"))
    folder.chmod(0o755)
    started = time.monotonic()
    postgres = Postgres(folder / "postgres")
    postgres.init()
    restored = postgres.restore_schema()
    redis_url, redis = start_redis(folder)
    env = _stack_environment(folder, postgres, redis_url)
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    serve = [sys.executable, "-m", "coordinator.servers", "prod", "--port", str(port)]
    if options.web_workers:
        serve += ["--web-workers", str(options.web_workers)]
    if options.web_threads:
        serve += ["--web-threads", str(options.web_threads)]
    if options.socket_workers:
        serve += ["--socket-workers", str(options.socket_workers)]
    log = (folder / "serve-prod.log").open("wb")
    stack = subprocess.Popen(serve, cwd=ROOT, env=env, stdout=log, stderr=log)  # noqa: S603
    try:
        wait_for_port(port, stack, "serve-prod", seconds=600)
        if not restored:
            postgres.save_schema()
        stack_up = time.monotonic() - started
        seed = folder / "seed.json"
        subprocess.run(  # noqa: S603 (our own seeder)
            [sys.executable, str(ROOT / "bench" / "load_seed.py"), "--people", str(options.people)]
            + ["--out", str(seed)],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "coordinator.settings", "DEBUG": "0", "ALLOWED_HOSTS": "*"},
            check=True,
        )
        seeded = time.monotonic() - started - stack_up
        print(
            f"stack up in {stack_up:.1f} s (schema {'from the cache' if restored else 'migrated'}), "
            f"seeded in {seeded:.1f} s; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        seconds = round(options.minutes * 60)
        locust_cpu: dict[str, float] = {}
        load_before = os.getloadavg()
        profiler = _start_profiler(folder, stack.pid, seconds) if options.profile else None
        rows = _run_locust(
            host=host,
            seed=seed,
            users=options.users,
            spawn_rate=options.spawn_rate,
            seconds=seconds,
            think=options.think,
            classes=["StaffUser", "ManagerUser", "NoteEditor", "PingUser"],
            prefix=folder / "load",
            cpu=locust_cpu,
        )
        load_during = os.getloadavg()
        if profiler is not None:
            profiler.wait(timeout=120)
        cpu_marks = [_stack_cpu(stack.pid, postgres.folder, redis.pid)]
        mix = _run_locust(
            host=host,
            seed=seed,
            users=options.capacity_users,
            spawn_rate=options.capacity_users,
            seconds=options.capacity_seconds,
            think="0,0",
            classes=["StaffUser", "ManagerUser"],
            prefix=folder / "capacity-mix",
            cpu=locust_cpu,
        )
        cpu_marks.append(_stack_cpu(stack.pid, postgres.folder, redis.pid))
        ping = _run_locust(
            host=host,
            seed=seed,
            users=options.capacity_users,
            spawn_rate=options.capacity_users,
            seconds=options.capacity_seconds,
            think="0,0",
            classes=["PingUser"],
            prefix=folder / "capacity-ping",
            cpu=locust_cpu,
        )
        cpu_marks.append(_stack_cpu(stack.pid, postgres.folder, redis.pid))
        if options.keep:
            print(f"stack at {host}; Ctrl-C stops it", flush=True)
            while stack.poll() is None:
                time.sleep(1)
    finally:
        stack.terminate()
        try:
            stack.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stack.kill()
        log.close()
        redis.terminate()
        redis.wait(timeout=10)
        postgres.stop("immediate")

    cores = os.cpu_count()
    print(
        f"\nstart: stack up in {stack_up:.1f} s (schema {'from the cache' if restored else 'migrated'}), "
        f"seeded in {seeded:.1f} s"
    )
    print(
        f"\nmachine: {cores} cores; load average (1, 5, 15 min) before the load phase {load_before[0]:.1f}, "
        f"{load_before[1]:.1f}, {load_before[2]:.1f}; at its end {load_during[0]:.1f}, {load_during[1]:.1f}, "
        f"{load_during[2]:.1f}"
    )
    _print_table(
        f"Load phase: {options.users} users for {seconds} s, {options.think} s between requests",
        rows,
        seconds,
    )
    for line in _failures(folder / "load"):
        print(f"  failure: {line}")
    mix_total = next(row for row in mix if row["Name"] == "Aggregated")
    ping_total = next(row for row in ping if row["Name"] == "Aggregated")
    _print_table(
        f"Throughput phase: {options.capacity_users} users without pauses, {options.capacity_seconds} s each",
        [{**mix_total, "Name": "HTTP mix (staff and managers)"}, {**ping_total, "Name": "ping alone"}],
        options.capacity_seconds,
    )
    for line in _failures(folder / "capacity-mix") + _failures(folder / "capacity-ping"):
        print(f"  failure: {line}")
    _print_cpu(
        "HTTP mix", cpu_marks[0], cpu_marks[1], options.capacity_seconds, int(mix_total["Request Count"])
    )
    _print_cpu("ping", cpu_marks[1], cpu_marks[2], options.capacity_seconds, int(ping_total["Request Count"]))
    phases = {
        "load": seconds,
        "capacity-mix": options.capacity_seconds,
        "capacity-ping": options.capacity_seconds,
    }
    print(
        "\nLocust's own processor time (it shares the cores): "
        + "; ".join(
            f"{name} {locust_cpu[name]:.1f} s in {phases[name]} s"
            f" ({100 * locust_cpu[name] / phases[name]:.0f} % of a core)"
            for name in phases
            if name in locust_cpu
        )
    )

    endpoints = [row for row in rows if row["Name"] != "Aggregated"]
    errors = sum(int(row["Failure Count"]) for row in rows if row["Name"] == "Aggregated") + sum(
        int(row["Failure Count"]) for row in (mix_total, ping_total)
    )
    slow = [
        f"{row['Name']} ({_ms(row, '95%'):.0f} ms)"
        for row in endpoints
        if row["Type"] != "WS" and _ms(row, "95%") >= P95_GOAL_MS
    ]
    ratio = float(mix_total["Requests/s"]) / max(float(ping_total["Requests/s"]), 1e-9)
    goals = [
        ("0 errors", errors == 0, f"{errors} errors"),
        (f"p95 < {P95_GOAL_MS:.0f} ms for pages, API and feed", not slow, ", ".join(slow) or "all under"),
        (
            f"mix throughput >= {THROUGHPUT_GOAL:g} x ping",
            ratio >= THROUGHPUT_GOAL,
            f"{float(mix_total['Requests/s']):.1f} vs {float(ping_total['Requests/s']):.1f} req/s"
            f" = {ratio:.2f} x",
        ),
    ]
    print("\nGoals")
    for name, met, detail in goals:
        print(f"- {name}: {'met' if met else 'NOT met'} ({detail})")
    if options.profile:
        _print_profile(folder / "web.txt")
    shutil.rmtree(folder / "postgres", ignore_errors=True)
    print(f"\nLocust's CSV files and the stack's log: {folder}")
    return 0 if all(met for _, met, _ in goals) else 1


if __name__ == "__main__":
    raise SystemExit(main())
