from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from coordinator.core import registry
from coordinator.core.tenancy import unscoped
from organisations.seed.data import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Load the demo programmes (idempotent: running it again changes nothing) and print demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet", action="store_true", help="Do not print the demo logins.")

    def handle(self, *args: Any, **options: Any) -> None:
        logins: list[tuple[str, str]] = []
        # Demo data spans both programmes by design; each seeder uses natural keys to stay idempotent.
        with unscoped(), transaction.atomic():
            for seeder in registry.demo_seeders:
                logins.extend(seeder.run())
        if options["quiet"]:
            return
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        self.stdout.write(
            f"Open {settings.SITE_URL}/ and sign in with one of these (password: {DEMO_PASSWORD}):"
        )
        width = max((len(username) for username, _ in logins), default=10)
        for username, description in logins:
            self.stdout.write(f"  {username.ljust(width)}  {description}")
