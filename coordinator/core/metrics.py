"""Prometheus metrics of the platform beyond django-prometheus' request metrics: open websockets, and the
task queue's depth and age, read when scraped through a probe the task queue registers.

Several processes serve the platform (gunicorn and uvicorn workers): with ``PROMETHEUS_MULTIPROC_DIR`` set
(``make serve-prod`` sets it), prometheus_client writes each process's values there and a scrape adds them
up, so any one web process answers for all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

# "livesum": the sockets open in the processes that are still running.
WEBSOCKETS_OPEN = Gauge(
    "samverkan_websocket_connections",
    "Websockets open (accepted and not yet closed), all socket processes together.",
    multiprocess_mode="livesum",
)

# Re-checks of open sockets' rights before a delivery, and the database round trips that asked them (the
# sockets of a process that fall due on the same message are asked together).
WEBSOCKET_ACCESS_CHECKS = Counter(
    "samverkan_websocket_access_checks",
    "Open websockets whose rights were asked of the database again before a delivery.",
)
WEBSOCKET_ACCESS_BATCHES = Counter(
    "samverkan_websocket_access_batches",
    "Database round trips (of one socket or a batch) that asked delivery re-checks of websockets' rights.",
)


@dataclass(frozen=True)
class QueueState:
    """The task queue as a scrape or a readiness check sees it: tasks waiting to run and the age of the
    oldest of them (``None`` when none waits)."""

    depth: int
    oldest_age_seconds: float | None


QueueProbe = Callable[[], QueueState]
_queue_probe: QueueProbe | None = None


def set_task_queue_probe(probe: QueueProbe | None) -> None:
    """Register the function that reads the task queue's state (the task queue's app calls this in its
    ``AppConfig.ready()``); ``None`` removes it. ``/readyz`` and the metrics then report the queue."""
    global _queue_probe  # noqa: PLW0603 (one probe per process, set once at start-up)
    _queue_probe = probe


def task_queue_state() -> QueueState | None:
    """The task queue's state now, or ``None`` when no queue is registered. Raises what the probe raises."""
    return _queue_probe() if _queue_probe is not None else None


class TaskQueueCollector(Collector):
    """Reads the queue at scrape time: its depth and age are the database's, the same for every process."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = task_queue_state()
        if state is None:
            return
        depth = GaugeMetricFamily("samverkan_task_queue_depth", "Tasks waiting to run.")
        depth.add_metric([], state.depth)
        yield depth
        age = GaugeMetricFamily(
            "samverkan_task_queue_oldest_age_seconds", "Age of the oldest task waiting to run (0: none)."
        )
        age.add_metric([], state.oldest_age_seconds or 0.0)
        yield age


def exposition() -> bytes:
    """The metrics in Prometheus' text format: every process's (multiprocess mode) or this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus_client, untyped
    else:
        registry = REGISTRY
    combined = CollectorRegistry()
    combined.register(_Everything(registry))
    combined.register(TaskQueueCollector())
    return generate_latest(combined)


class _Everything(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[object]:  # type: ignore[override]
        yield from self.registry.collect()
