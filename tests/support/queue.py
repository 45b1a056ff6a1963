"""The real task queue in tests: the database backend, a worker run in the test's process, and a local SMTP
server (aiosmtpd) that records what it receives."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from typing import Any

from coordinator.core import worker as claiming

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_worker() -> None:
    """The production task worker's loop (``manage.py task_worker``'s ``ClaimingWorker``) in this process:
    runs every task due now, then stops.

    The worker closes stale connections between batches, which would close the test's own connection (and
    its transaction) on PostgreSQL; here the test's connection stays open.
    """
    closing = claiming.close_old_connections
    claiming.close_old_connections = _keep_connections  # type: ignore[assignment]
    try:
        _worker()
    finally:
        claiming.close_old_connections = closing


def _keep_connections() -> None:
    pass


def _worker() -> None:
    claiming.ClaimingWorker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


@dataclass
class SmtpSink:
    """What the local SMTP server received: each message's To address and Subject, and how many SMTP
    connections (sessions) were opened."""

    host: str
    port: int
    # (recipient, Message-ID) of each message received
    received: list[tuple[str, str]] = field(default_factory=list)
    # Seconds the server takes over each message (a slow server, so that a test can stop a sender mid-batch).
    delay: float = 0.0
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count_by_address(self) -> Counter[str]:
        with self.lock:
            return Counter(address for address, _message_id in self.received)

    def count_by_message_id(self) -> Counter[str]:
        with self.lock:
            return Counter(message_id for _address, message_id in self.received)


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:  # noqa: N802 (aiosmtpd's hook name)
        with self.sink.lock:
            self.sink.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        message = message_from_bytes(envelope.content)
        with self.sink.lock:
            for address in envelope.rcpt_tos:
                self.sink.received.append((address, str(message["Message-ID"])))
        return "250 Message accepted for delivery"


def smtp_sink() -> Iterator[SmtpSink]:
    """Start aiosmtpd on a free loopback port; yields the sink, stops the server afterwards."""
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection at INFO

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    sink = SmtpSink(host="127.0.0.1", port=port)
    controller = Controller(_Handler(sink), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
