"""Matching runs on the task queue: a coordinator starts a run and gets its page at once; a task worker
works it out (``queued → solving → proposed | failed``) and reports its progress live.

At most one run per programme is queued or being solved: the partial unique constraint
``matchingrun_one_active_per_programme`` refuses a second (also when two coordinators start one at the same
moment), and the start answers with a conflict. The task is idempotent: it works a run out only while the
run is queued or solving (a worker that died mid-run leaves it ``solving``; the run is worked out again
from the start, and its proposal is saved in one transaction, so nothing is saved twice).
"""

from __future__ import annotations

import logging
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from coordinator.core.exceptions import Conflict
from coordinator.core.tenancy import programme_scope, unscoped
from organisations.models import Programme
from organisations.permissions import Actor, actor_for
from shadowing import invites
from shadowing.models import MatchingRun, Placement
from shadowing.services import matching_runs
from shadowing.services._common import require_manage
from shadowing.services.matching_runs import ALREADY_RUNNING, _fairness_weight, matching_run_solve_into

logger = logging.getLogger(__name__)

# Progress is written and broadcast at most this often (the solver may report many times a second).
PROGRESS_INTERVAL_SECONDS = 0.5


def run_group(run_id: int) -> str:
    """The channel-layer group of the sockets watching one run's progress."""
    return f"shadowing.run.{run_id}"


def matching_run_start(
    *, actor: Actor, programme: Programme, fairness_weight: float | None = None
) -> MatchingRun:
    """Queue a matching run of the programme (coordinators); returns it at once, ``queued``.

    Refused with a conflict while another run of the programme is queued or being worked out. The run and
    its task are written in one transaction: a run is never queued without its task, nor the reverse.
    """
    require_manage(actor, programme)
    weight = _fairness_weight(fairness_weight)
    with transaction.atomic():
        if MatchingRun.objects.filter(programme=programme, status__in=MatchingRun.ACTIVE).exists():
            raise Conflict(_(ALREADY_RUNNING))
        try:
            with transaction.atomic():
                run = MatchingRun.objects.create(
                    programme=programme,
                    created_by=actor.person,
                    fairness_weight=weight,
                    status=MatchingRun.Status.QUEUED,
                )
        except IntegrityError as error:  # started by someone else a moment ago
            raise Conflict(_(ALREADY_RUNNING)) from error
        solve_matching_run.enqueue(run.pk)
    run.refresh_from_db()
    return run


@task()
def solve_matching_run(run_id: int) -> str:
    """Work out a queued run (the task); returns the run's status afterwards."""
    with unscoped():  # a task has no request scope: find the run's programme by its id, then scope to it
        programme_id = (
            MatchingRun.unscoped_objects.filter(pk=run_id).values_list("programme_id", flat=True).first()
        )
    if programme_id is None:
        return "missing"
    with programme_scope([programme_id]):
        return _solve(run_id)


def _solve(run_id: int) -> str:
    claimed = MatchingRun.objects.filter(pk=run_id, status__in=MatchingRun.ACTIVE).update(
        status=MatchingRun.Status.SOLVING,
        phase=MatchingRun.Phase.LOADING,
        progress_placed=0,
        progress_gap=None,
    )
    if not claimed:
        return "done already"
    run = MatchingRun.objects.select_related("programme", "created_by__user").get(pk=run_id)
    reporter = _Reporter(run.pk)
    try:
        if run.created_by is None:
            raise PermissionError("the coordinator who started the run no longer exists")
        actor = actor_for(run.created_by.user)
        matching_run_solve_into(actor=actor, run=run, progress=reporter)
    except Exception as exc:  # any failure: the run says so, and another may be started
        logger.exception("Matching run %s failed", run_id)
        MatchingRun.objects.filter(pk=run_id, status=MatchingRun.Status.SOLVING).update(
            status=MatchingRun.Status.FAILED,
            phase="",
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        reporter.publish(MatchingRun.Status.FAILED)
        return MatchingRun.Status.FAILED
    reporter.publish(MatchingRun.Status.PROPOSED, phase="", placed=run.placed, gap=run.gap)
    return MatchingRun.Status.PROPOSED


class _Reporter:
    """The progress callback: writes the run's phase, placed-so-far and gap, and broadcasts them."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.phase = ""
        self.sent_at = 0.0

    def __call__(self, phase: str, placed: int, gap: float | None) -> None:
        now = time.monotonic()
        if phase == self.phase and now - self.sent_at < PROGRESS_INTERVAL_SECONDS:
            return
        self.phase, self.sent_at = phase, now
        MatchingRun.objects.filter(pk=self.run_id, status=MatchingRun.Status.SOLVING).update(
            phase=phase, progress_placed=placed, progress_gap=gap
        )
        self.publish(MatchingRun.Status.SOLVING, phase=phase, placed=placed, gap=gap)

    def publish(self, status: str, *, phase: str = "", placed: int = 0, gap: float | None = None) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(
                run_group(self.run_id),
                {
                    "type": "run.progress",
                    "status": str(status),
                    "phase": str(phase),
                    "placed": placed,
                    "gap": gap,
                },
            )
        except Exception:  # live progress is a convenience; the run's row holds the same
            logger.exception("Could not broadcast the progress of matching run %s", self.run_id)


# Placements told per transaction of ``notify_confirmed_run``.
NOTIFY_BATCH = 200


@task()
def notify_confirmed_run(run_id: int) -> int:
    """Tell the hosts and requesters of a confirmed run (the task), in batches; returns how many placements.

    Each batch is one transaction that writes the notifications and mail (the outbox) and moves the run's
    ``notified_through`` past its placements: run again after a crash, it goes on after the last batch
    that committed, so nobody is told twice.
    """
    with unscoped():  # a task has no request scope: find the run's programme by its id, then scope to it
        programme_id = (
            MatchingRun.unscoped_objects.filter(pk=run_id).values_list("programme_id", flat=True).first()
        )
    if programme_id is None:
        return 0
    told = 0
    with programme_scope([programme_id]):
        while True:
            with transaction.atomic():
                run = MatchingRun.objects.select_for_update().select_related("programme").get(pk=run_id)
                batch = list(
                    Placement.objects.filter(run=run, pk__gt=run.notified_through)
                    .exclude(status=Placement.Status.PROPOSED)
                    .select_related(*invites.PLACEMENT_RELATED)
                    .prefetch_related("days")
                    .order_by("pk")[:NOTIFY_BATCH]
                )
                if not batch:
                    return told
                matching_runs.notify_confirmed_placements(run=run, placements=batch)
                MatchingRun.objects.filter(pk=run_id).update(notified_through=batch[-1].pk)
                told += len(batch)
