"""``manage.py task_worker``: a task worker for production and ``make run`` (run several side by side).

The task library's ``db_worker`` with what it leaves to us: a heartbeat, so that a task whose worker died
runs again (``coordinator.core.tasks.requeue_abandoned``), the periodic jobs' first runs
(``coordinator.core.jobs.schedule_periodic_jobs``), and several tasks claimed per transaction
(``coordinator.core.worker.ClaimingWorker``, ``TASKS_CLAIM_BATCH``). Options are ``db_worker``'s
(``--queue-name``, ``--interval``, ``--batch``, ``--max-tasks``, ...); it never reloads itself on code
changes.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django_tasks_db.management.commands import db_worker

from coordinator.core import jobs, tasks
from coordinator.core.worker import ClaimingWorker

logger = logging.getLogger(__name__)


class Command(db_worker.Command):
    help = "Run a task worker: queued matching, mail and periodic jobs (with a heartbeat and crash recovery)."

    def handle(self, *args: object, **options: object) -> None:
        worker_id = str(options["worker_id"])
        tasks.heartbeat(worker_id)
        tasks.requeue_abandoned()
        jobs.schedule_periodic_jobs()
        stop = threading.Event()
        beating = threading.Thread(target=self._beat, args=(worker_id, stop), daemon=True)
        beating.start()
        try:
            self._work(worker_id, options)
        finally:
            stop.set()
            beating.join(timeout=settings.TASKS_HEARTBEAT_SECONDS * 2)
            tasks.worker_stopped(worker_id)

    def _beat(self, worker_id: str, stop: threading.Event) -> None:
        while not stop.wait(settings.TASKS_HEARTBEAT_SECONDS):
            try:
                tasks.heartbeat(worker_id)
                tasks.requeue_abandoned()
            except Exception:  # a database hiccup: the next beat tries again
                logger.exception("Task worker heartbeat failed")
            finally:
                connection.close()

    def _work(self, worker_id: str, options: dict[str, object]) -> None:
        """``db_worker``'s ``handle`` with the claiming worker (and never the reloader, which would run a
        second, silent worker process)."""
        self.configure_logging(int(str(options["verbosity"])))
        queue_names = str(options["queue_name"]).split(",")
        excluded = str(options["exclude_queues"]).split(",") if options["exclude_queues"] else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        max_tasks = options["max_tasks"]
        worker = ClaimingWorker(
            queue_names=queue_names,
            interval=float(str(options["interval"])),
            batch=bool(options["batch"]),
            backend_name=str(options["backend_name"]),
            startup_delay=bool(options["startup_delay"]),
            max_tasks=int(str(max_tasks)) if max_tasks is not None else None,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        worker.configure_signals()
        worker.run()
