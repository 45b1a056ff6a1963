from __future__ import annotations

from django.core.management.base import BaseCommand

from coordinator.core.replies import read_mailbox


class Command(BaseCommand):
    help = (
        "Read the replies to calendar invites (accepted, declined) from the organiser mailbox over IMAP and "
        "apply them. Safe to run again: a message already read changes nothing."
    )

    def handle(self, *args: object, **options: object) -> None:
        read = read_mailbox()
        self.stdout.write(f"calendar replies read: {read}")
