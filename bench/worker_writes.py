"""The task worker's processor time per write of the load test's mix: what an enrolment, a visit request
and an approval queue, run by the library's worker, on PostgreSQL and Redis as in production.

    .venv/bin/python bench/worker_writes.py [--writes 60] [--rounds 3] [--profile] 2>/dev/null

Seeds the load test's programme as ``bench/request_costs.py`` does (the same set-up: a throwaway
PostgreSQL, Redis as the cache and the channel layer, the production settings with DEBUG off, the task
queue on the database), sends ``--writes`` writes in the mix's proportions (enrol 118 : request a visit
377 : approve 26 in the load test's throughput phase, so about 1 : 3 : 0.25; here enrol, visit, visit,
visit, approve in turn) through Django's test client, then runs the queued tasks with the library's
database worker in this process (the loop ``manage.py task_worker`` runs: ``ClaimingWorker`` of
``coordinator.core.worker`` where the code has it, else the library's ``db_worker`` ``Worker``; ``--library``
runs the library's in any case) and reports its processor time per write and per task, the tasks and the
queries. Best of ``--rounds`` rounds. ``--profile`` prints cProfile's heaviest functions of the last round's
worker.
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
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

os.environ.setdefault("TASKS_BACKEND", "database")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=240)
    parser.add_argument("--writes", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sql", action="store_true", help="print the worker's statements, counted")
    parser.add_argument("--library", action="store_true", help="the library's worker, one task per claim")
    options = parser.parse_args()
    import request_costs

    folder = Path(tempfile.mkdtemp(prefix="samverkan-worker-"))
    folder.chmod(0o755)
    postgres, redis = request_costs._setup(folder)
    try:
        _measure(options, request_costs)
    finally:
        from django.db import connections

        connections.close_all()
        redis.terminate()
        redis.wait(timeout=10)
        postgres.stop("immediate")


def _measure(options: argparse.Namespace, request_costs: object) -> None:
    import load_seed
    from django.db import connection, transaction
    from django.test import Client
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker_class: type[Worker] = Worker
    if not options.library:
        try:
            from coordinator.core.worker import ClaimingWorker

            worker_class = ClaimingWorker
        except ImportError:  # the code before the claiming worker
            pass

    from coordinator.core.tenancy import unscoped

    with unscoped(), transaction.atomic():
        seed = load_seed.seed(options.people)
    client = Client()
    kinds = request_costs._requests(seed, client)  # type: ignore[attr-defined]
    turn = [
        "api enrol (write)",
        *["api request a visit (write)"] * 3,
        "api approve a request (write, managers)",
    ]
    print(
        f"{os.cpu_count()} cores, load average {open('/proc/loadavg').read().split()[0]}, "
        f"worker {worker_class.__module__}.{worker_class.__name__}"
    )
    best: tuple[float, float, int, int, Counter[str]] | None = None
    for round_number in range(options.rounds):
        for n in range(options.writes):
            request_costs._send(client, kinds[turn[n % len(turn)]]())  # type: ignore[attr-defined]
        # What the writes queued (the approvals' untimed visit requests included: they are writes too).
        queued = Counter(
            DBTaskResult.objects.filter(status=TaskResultStatus.READY).values_list("task_path", flat=True)
        )
        writes = options.writes + options.writes // len(turn)
        worker = worker_class(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"bench-{round_number}",
            excluded_queue_names=[],
        )
        queries = 0
        statements: Counter[str] = Counter()

        def counted(
            execute: object, sql: str, *rest: object, statements: Counter[str] = statements
        ) -> object:
            nonlocal queries
            queries += 1
            statements[sql[:150]] += 1
            return execute(sql, *rest)  # type: ignore[operator]

        # Processor time, not wall time: the worker's share of the stack's processor time is the question.
        last = round_number == options.rounds - 1
        profiler = cProfile.Profile(time.process_time) if options.profile and last else None
        before = DBTaskResult.objects.count()
        started, started_cpu = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(counted):
            if profiler:
                profiler.enable()
            worker.run()
            if profiler:
                profiler.disable()
        cpu = time.process_time() - started_cpu
        wall = time.perf_counter() - started
        ran = DBTaskResult.objects.filter(worker_ids__contains=[f"bench-{round_number}"]).count()
        failed = DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).count()
        total = sum(queued.values())
        by_task = ", ".join(f"{path.rsplit('.', 1)[1]} {n}" for path, n in sorted(queued.items()))
        print(
            f"round {round_number + 1}: {writes} writes queued {total} tasks "
            f"({by_task}); "
            f"the worker ran {ran} (task rows {before} → {DBTaskResult.objects.count()}, failed {failed}) "
            f"in cpu {cpu * 1000:.0f} ms, wall {wall * 1000:.0f} ms, {queries} queries: "
            f"cpu {cpu * 1000 / writes:.2f} ms per write, {cpu * 1000 / max(ran, 1):.2f} ms per task, "
            f"{queries / writes:.1f} queries per write"
        )
        if options.sql and round_number == 0:
            for sql, n in statements.most_common():
                print(f"  {n:5d}  {sql}")
        if best is None or cpu < best[0]:
            best = (cpu, wall, writes, queries, queued)
        if profiler:
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(options.top)
                print(f"\n--- cProfile of the worker ({order}) ---\n{out.getvalue()}")
    assert best is not None
    cpu, wall, writes, queries, _queued = best
    print(
        f"best: cpu {cpu * 1000 / writes:.2f} ms per write, {queries / writes:.1f} queries per write "
        f"(load average {open('/proc/loadavg').read().split()[0]})"
    )


if __name__ == "__main__":
    main()
