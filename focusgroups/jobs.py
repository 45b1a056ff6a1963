"""The focus-groups app's periodic sweeps (registered from ``hooks``)."""

from __future__ import annotations

from coordinator.core import registry
from focusgroups.services import documents

# Often enough that a pause in editing becomes a version soon after ``NOTE_VERSION_PAUSE_SECONDS`` even
# when the socket that would have written it is gone; the runner's own interval is the lower bound.
registry.periodic_jobs.register(
    "focusgroups.note_versions",
    registry.PeriodicJob("focusgroups.note_versions", documents.versions_write_paused, every_seconds=10),
)
