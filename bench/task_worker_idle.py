"""What an idle task worker costs: processor time per second of ``manage.py task_worker`` (the production
command, DEBUG off) and of the PostgreSQL server it polls, with an empty queue, at the given poll interval.

    .ci/with-postgres .venv/bin/python bench/task_worker_idle.py [--seconds 120] [--interval 1]

The worker polls the queue every ``--interval`` seconds (the library's ``db_worker`` default is 1 s, which
production uses), beats its heartbeat every ``TASKS_HEARTBEAT_SECONDS`` and runs the periodic jobs when they
fall due, as in production. Times are read from ``/proc`` (user + system, 10 ms ticks): the worker's, and
the database's (the postmaster, its live backends and the backends that ended meanwhile).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def _ticks(pid: int, *, children: bool = False) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime (and the reaped children's cutime, cstime) are fields 14-17 of the whole line.
    own = int(fields[11]) + int(fields[12])
    return own + (int(fields[13]) + int(fields[14]) if children else 0)


def _postgres_ticks(postmaster: int) -> int:
    backends = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
    total = _ticks(postmaster, children=True)
    for pid in backends:
        try:
            total += _ticks(int(pid))
        except FileNotFoundError:  # ended meanwhile: counted in the postmaster's children from now on
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--interval", type=float, default=1)
    options = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Run under .ci/with-postgres (DATABASE_URL must name its PostgreSQL).")
    socket_dir = unquote(urlsplit(url).netloc.split("@", 1)[1])
    postmaster = int((Path(socket_dir) / "data" / "postmaster.pid").read_text().split()[0])
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "coordinator.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "localhost",
        "LOG_FORMAT": "json",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    worker = subprocess.Popen(
        [*manage, "task_worker", "--queue-name", "*", "--interval", str(options.interval)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(10)  # started, the periodic jobs' first runs done
        worker_before, postgres_before = _ticks(worker.pid), _postgres_ticks(postmaster)
        started = time.monotonic()
        time.sleep(options.seconds)
        elapsed = time.monotonic() - started
        worker_after, postgres_after = _ticks(worker.pid), _postgres_ticks(postmaster)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    worker_ms = (worker_after - worker_before) * 1000 / TICK / elapsed
    postgres_ms = (postgres_after - postgres_before) * 1000 / TICK / elapsed
    load = Path("/proc/loadavg").read_text().split()[0]
    print(
        f"idle task worker, --interval {options.interval:g} s, {elapsed:.0f} s (load average {load}): "
        f"worker {worker_ms:.2f} ms/s, PostgreSQL {postgres_ms:.2f} ms/s of processor time"
    )


if __name__ == "__main__":
    main()
