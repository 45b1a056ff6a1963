from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from coordinator.core.jobs import run_due_jobs


class Command(BaseCommand):
    help = "Run the periodic jobs (expired offers, released seats, expired requests, email retries)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running, sweeping every interval.")
        parser.add_argument("--force", action="store_true", help="Run every job now, whatever its interval.")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            results = run_due_jobs(force=options["force"])
            for name, handled in results.items():
                if handled:
                    self.stdout.write(f"{name}: {handled}")
            if not options["loop"]:
                return
            time.sleep(settings.JOBS_INTERVAL_SECONDS)
