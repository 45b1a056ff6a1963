"""``manage.py task_worker``: a task worker for production and ``make run`` (run several side by side).

The task library's ``db_worker`` with what it leaves to us: a heartbeat, so that a task whose worker died
runs again (``coordinator.core.tasks.requeue_abandoned``), and the periodic jobs' first runs
(``coordinator.core.jobs.schedule_periodic_jobs``). Options are ``db_worker``'s (``--queue-name``,
``--interval``, ``--batch``, ``--max-tasks``, ...); it never reloads itself on code changes.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands import db_worker

from coordinator.core import jobs, tasks

logger = logging.getLogger(__name__)


class Command(db_worker.Command):
    help = "Run a task worker: queued matching, mail and periodic jobs (with a heartbeat and crash recovery)."

    def handle(self, *args: object, **options: object) -> None:
        worker_id = str(options["worker_id"])
        options["reload"] = False  # the reloader would run a second, silent worker process
        tasks.heartbeat(worker_id)
        tasks.requeue_abandoned()
        jobs.schedule_periodic_jobs()
        stop = threading.Event()
        beating = threading.Thread(target=self._beat, args=(worker_id, stop), daemon=True)
        beating.start()
        try:
            super().handle(*args, **options)  # type: ignore[arg-type]
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
