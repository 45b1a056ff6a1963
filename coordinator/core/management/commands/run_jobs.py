from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from coordinator.core.jobs import run_due_jobs


class Command(BaseCommand):
    help = (
        "Run the due periodic jobs once, now, in this process (the task workers run them on their schedule; "
        "see docs/deployment.md)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--force", action="store_true", help="Run every job now, whatever its interval.")

    def handle(self, *args: Any, **options: Any) -> None:
        results = run_due_jobs(force=options["force"])
        for name, handled in results.items():
            if handled:
                self.stdout.write(f"{name}: {handled}")
