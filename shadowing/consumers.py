"""The live progress of a matching run over a websocket (``/ws/shadowing/runs/<run id>/``).

The programme's coordinators (who may see the run's page) receive, on connect, the run as it stands and
then each change while a task worker works it out: ``{"type": "progress", "status": ..., "status_label":
..., "phase": ..., "phase_label": ..., "placed": n, "gap": x | null, "finished": bool}`` with the labels in
the person's language. Anyone else is closed with 4403; a run that does not exist or belongs to another
programme with 4404. The socket is one-way: client frames are ignored. The page works without it (it
reloads itself while the run is not finished).
"""

from __future__ import annotations

from django.utils import translation

from organisations.access.consumers import ScopedConsumer
from shadowing import permissions
from shadowing.models import MatchingRun
from shadowing.services.matching_queue import run_group

CLOSE_NOT_FOUND = 4404


class RunProgressConsumer(ScopedConsumer):
    """One coordinator's live view of one matching run."""

    run_id: int
    programme_id: int
    language: str = "en"
    _closed_with: int | None = None

    async def authorise(self) -> bool:
        try:
            self.run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        except (KeyError, TypeError, ValueError):
            await self.close(code=CLOSE_NOT_FOUND)
            return False
        found = await self.in_scope(self._load)
        if found is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return False
        return found

    def _load(self) -> bool | None:
        run = MatchingRun.objects.select_related("programme").filter(pk=self.run_id).first()
        if run is None:
            return None
        self.programme_id = run.programme_id
        if self.actor.person is not None:
            self.language = self.actor.person.language_in(run.programme)
        return permissions.can_manage(self.actor, run.programme_id)

    def socket_programmes(self) -> list[int]:
        return [self.programme_id]

    def access_holds(self, values: dict[str, object]) -> bool:
        return permissions.can_manage(self.actor, self.programme_id)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        # ScopedConsumer closes with 4403 after authorise() returns False; a 4404 already sent stands.
        if self._closed_with is not None:
            return
        self._closed_with = code if isinstance(code, int) else None
        await super().close(code=code, reason=reason)

    async def on_accepted(self) -> None:
        await self.channel_layer.group_add(run_group(self.run_id), self.channel_name)
        self.groups = [*(self.groups or []), run_group(self.run_id)]
        current = await self.in_scope(self._current)
        if current is not None:
            await self.send_json(current)

    def _current(self) -> dict[str, object] | None:
        run = MatchingRun.objects.filter(pk=self.run_id).first()
        if run is None:
            return None
        placed = run.progress_placed if run.is_active else run.placed
        gap = run.progress_gap if run.is_active else run.gap
        return self._frame(run.status, run.phase, placed, gap)

    def _frame(self, status: str, phase: str, placed: int, gap: float | None) -> dict[str, object]:
        with translation.override(self.language):
            status_label = (
                str(MatchingRun.Status(status).label) if status in MatchingRun.Status.values else ""
            )
            phase_label = str(MatchingRun.Phase(phase).label) if phase in MatchingRun.Phase.values else ""
        return {
            "type": "progress",
            "status": status,
            "status_label": status_label,
            "phase": phase,
            "phase_label": phase_label,
            "placed": placed,
            "gap": gap,
            "finished": status not in MatchingRun.ACTIVE,
        }

    async def receive_json(self, content: object, **kwargs: object) -> None:
        return None  # one-way socket

    async def run_progress(self, event: dict[str, object]) -> None:
        await self.send_json(
            self._frame(
                str(event["status"]), str(event["phase"]), int(str(event["placed"])), _gap(event["gap"])
            )
        )


def _gap(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
