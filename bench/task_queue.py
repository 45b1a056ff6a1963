"""The task queue itself: how long enqueuing takes inside a request and how many tasks a worker runs per
second, for the database backend of django-tasks (the choice) and, where Celery is installed, Celery 5.7
on Redis (the alternative), run by hand::

    .venv/bin/python bench/task_queue.py                         # SQLite
    .ci/with-postgres .venv/bin/python bench/task_queue.py       # PostgreSQL
    .venv/bin/python bench/task_queue.py --celery-python /path/to/python-with-celery

Each figure is for no-op tasks, so it is the queue's own cost: enqueuing N tasks one by one (as N requests
would), then one worker (the library's database worker, in this process) running them.
The Celery part runs in the given interpreter (Celery is not a dependency of the project) against a
redis-server this script starts, with one worker process (``--concurrency 1``, the prefork pool).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("TASKS_BACKEND", "database")

import django  # noqa: E402

django.setup()
# One log line per task would drown the figures.
logging.getLogger("django_tasks").setLevel(logging.WARNING)
logging.getLogger("django_tasks_db").setLevel(logging.WARNING)

from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402
from django_tasks import task  # noqa: E402
from django_tasks.base import TaskResultStatus  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402


@task()
def noop(n: int) -> int:
    return n


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_backend(count: int) -> None:
    t0 = time.perf_counter()
    for i in range(count):
        noop.enqueue(i)
    enqueue = time.perf_counter() - t0
    from tests.support import queue

    t0 = time.perf_counter()
    queue.run_worker()
    worked = time.perf_counter() - t0
    done = DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count()
    print(
        f"django-tasks-db on {connection.vendor}: enqueue {enqueue / count * 1000:.2f} ms each; "
        f"one worker ran {done:,} in {worked:.2f} s = {done / worked:,.0f} tasks/s"
    )


CELERY_SCRIPT = textwrap.dedent(
    """
    import os, subprocess, sys, time
    import celery
    from celery import Celery

    # From the environment: the worker imports this module with its own command line.
    app = Celery("bench_celery", broker=os.environ["BENCH_REDIS_URL"], backend=os.environ["BENCH_REDIS_URL"])
    app.conf.task_acks_late = True
    app.conf.worker_prefetch_multiplier = 1
    app.conf.broker_connection_retry_on_startup = True

    # A fixed name: this file runs as __main__ here and is imported as bench_celery by the worker.
    @app.task(name="bench.noop")
    def noop(n):
        return n

    if __name__ == "__main__":
        count = int(sys.argv[1])
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "bench_celery", "worker", "--concurrency", "1",
             "--pool", "prefork", "--loglevel", "ERROR", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "--hostname", "bench@%h"],
        )
        try:
            # The worker is up when it answers a ping; it then stops consuming, so that the queue fills
            # first, as for the database backend, and the worker's start is not counted.
            deadline = time.monotonic() + 120
            while not app.control.ping(timeout=0.5):
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise SystemExit("the Celery worker did not start")
            app.control.cancel_consumer("celery", reply=True)
            t0 = time.perf_counter()
            results = [noop.delay(i) for i in range(count)]
            enqueue = time.perf_counter() - t0
            t0 = time.perf_counter()
            app.control.add_consumer("celery", reply=True)
            done = sum(1 for result in results if result.get(timeout=300) is not None)
            worked = time.perf_counter() - t0
        finally:
            worker.terminate()
            worker.wait()
        print(f"Celery {celery.__version__} on Redis (acks_late, one prefork worker process): "
              f"enqueue {enqueue / count * 1000:.2f} ms each; "
              f"one worker ran {done:,} in {worked:.2f} s = {done / worked:,.0f} tasks/s")
    """
)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def celery(python: str, count: int) -> None:
    server = shutil.which("redis-server")
    if server is None:
        print("Celery: skipped (redis-server is not installed)")
        return
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        redis = subprocess.Popen(  # noqa: S603 (a fixed local binary)
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", folder],
            stdout=subprocess.DEVNULL,
        )
        try:
            _wait_for_port(port)
            Path(folder, "bench_celery.py").write_text(CELERY_SCRIPT)
            environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
            environment["BENCH_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
            subprocess.run(  # noqa: S603 (the interpreter named on the command line)
                [python, "bench_celery.py", str(count)], cwd=folder, check=True, env=environment
            )
        finally:
            redis.terminate()
            redis.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--celery-python", default="", help="an interpreter with celery[redis] 5.7 installed")
    args = parser.parse_args()
    print("load average (1, 5, 15 min) at the start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        database_backend(args.tasks)
    finally:
        teardown_databases(old_config, verbosity=0)
    if args.celery_python:
        celery(args.celery_python, args.tasks)
    print("load average (1, 5, 15 min) at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
