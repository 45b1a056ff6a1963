"""Matching runs: built by the solver from the approved requests and free slots, edited by hand by the
coordinators, and confirmed (every seat taken in one locked step) or discarded.

Seats: A slot's seats are the scarce thing. ``Slot.booked`` counts the days of placements in a seat-holding
status (``Placement.SEAT_HOLDING``: awaiting the host, accepted, confirmed, visited, reflected); a proposal
in an unconfirmed run holds none. Confirming a run takes every seat it needs in one step: it locks all
slots of the touched workplace-days with ``SELECT ... FOR UPDATE`` ordered by primary key (through
``Slot.unscoped_objects`` by pk, after the scoped reads that enforced the tenant), re-reads ``booked``,
refuses the whole confirmation with a conflict when a placement no longer fits, and moves the counters
with ``F("booked") + n``. Releasing seats (a decline, a cancellation) decrements in primary-key order too.
The CHECK constraint ``booked <= capacity`` is the backstop. On SQLite transactions are serialised anyway.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, DateTimeField, F, IntegerField, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core import formatting
from coordinator.core.days_off import days_off
from coordinator.core.exceptions import Conflict
from coordinator.core.notifications import notify
from organisations.models import OwnRule, Programme
from organisations.permissions import Actor
from shadowing import permissions
from shadowing.kinds import KIND_HOSTING, KIND_PLACEMENT
from shadowing.links import page_url
from shadowing.models import (
    MatchingRun,
    Placement,
    PlacementDay,
    PlacementEvent,
    ShadowingRequest,
    Slot,
    UnplacedReason,
    Workplace,
)
from shadowing.services._common import require_manage, today_in

if TYPE_CHECKING:
    pass
from shadowing.services._run_rows import (
    HandOption,
    approved_request_specs,
    insert_from,
    previous_proposal,
    store_options,
    store_reasons,
    weigh_competence_gaps,
)
from shadowing.services._run_seats import everything_fits, lock_slots, misfits
from shadowing.services.placements import placement_params

# The row locks on the slots keep seats exact. They are switched off only by the race-control test, to show
# what happens without them (``slot_lock_disabled``).
_slot_lock_enabled = True


@contextlib.contextmanager
def slot_lock_disabled() -> Iterator[None]:
    """Confirm runs without locking the slots (the race-control test only)."""
    global _slot_lock_enabled
    _slot_lock_enabled = False
    try:
        yield
    finally:
        _slot_lock_enabled = True


# --- Matching -------------------------------------------------------------------------------------------


def _fairness_weight(value: float | None) -> float:
    if value is None:
        return float(settings.SHADOWING_FAIRNESS_WEIGHT)
    try:
        weight = float(value)
    except (TypeError, ValueError) as error:
        raise ValidationError({"fairness_weight": _("Give a number.")}) from error
    if not math.isfinite(weight) or weight < 0 or weight > 100:
        raise ValidationError({"fairness_weight": _("Give a number between 0 and 100.")})
    return weight


def reason_text(code: str) -> str:
    """The translated text of an unplaced-reason code (in the active language)."""
    try:
        return str(UnplacedReason(code).label)
    except ValueError:
        return str(UnplacedReason.ALL_FULL.label)


ALREADY_RUNNING = gettext_noop(
    "A match is already being worked out for this programme. Wait for it to finish, then start another."
)

Progress = Callable[[str, int, float | None], None]


def matching_run_create(
    *, actor: Actor, programme: Programme, fairness_weight: float | None = None
) -> MatchingRun:
    """Match every approved request against the free slots of the published workplaces now, in this
    process (coordinators; scripts, tests and benchmarks: pages and API queue the run with
    ``matching_queue.matching_run_start`` instead).

    Refused with a conflict while another run of the programme is being worked out.
    """
    require_manage(actor, programme)
    weight = _fairness_weight(fairness_weight)
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = MatchingRun.objects.create(
                    programme=programme,
                    created_by=actor.person,
                    fairness_weight=weight,
                    status=MatchingRun.Status.SOLVING,
                )
        except IntegrityError as error:
            raise Conflict(_(ALREADY_RUNNING)) from error
        matching_run_solve_into(actor=actor, run=run)
    return run


def matching_run_solve_into(*, actor: Actor, run: MatchingRun, progress: Progress | None = None) -> None:
    """Work out a run that is being solved: the proposal, its figures and each unplaced request's reason.

    Builds the problem with ``shadowing.matching.options.build_problem``, solves it with
    ``shadowing.matching.solver.solve`` (which also reports what first-come-first-served places, kept for
    comparison), and stores, in one transaction, the ``proposed`` placements (no seat taken yet), the
    objective, the LP bound and the gap, and each unplaced request's reason; the run becomes ``proposed``.
    ``progress(phase, placed_so_far, gap)`` hears "loading", the solver's phases and "saving". Nothing is
    sent until the run is confirmed.
    """
    report = progress or (lambda phase, placed, gap: None)
    report(MatchingRun.Phase.LOADING, 0, None)
    programme = run.programme
    require_manage(actor, programme)
    weight = run.fairness_weight
    # The solver and numpy/scipy load only on this path.
    from shadowing.matching import options as matching_options
    from shadowing.matching import solver

    today = today_in(programme)
    request_specs = approved_request_specs(programme, today, matching_options.RequestSpec)
    if programme.own_rule == OwnRule.UNIT:
        unit_of = dict(
            ShadowingRequest.objects.filter(
                programme=programme, status=ShadowingRequest.Status.APPROVED
            ).values_list("pk", "requester__unit_id")
        )
        request_specs = [
            dataclasses.replace(
                spec, own=permissions.own_key(programme.own_rule, spec.organisation, unit_of.get(spec.id))
            )
            for spec in request_specs
        ]
    # Plain rows, like the requests: a related manager per workplace costs more than its query.
    workplaces = list(
        Workplace.objects.filter(programme=programme, is_published=True).values_list(
            "pk", "organisation_id", "languages", "max_visitors_per_day", "unit_id"
        )
    )
    organisation_of = {pk: organisation_id for pk, organisation_id, _, _, _ in workplaces}
    topics_of: dict[int, set[int]] = defaultdict(set)
    for workplace_id, topic_id in Workplace.topics.through.objects.filter(
        workplace__programme=programme, workplace__is_published=True
    ).values_list("workplace_id", "topic_id"):
        topics_of[workplace_id].add(topic_id)
    workplace_specs = [
        matching_options.WorkplaceSpec(
            id=pk,
            organisation=organisation_id,
            topics=frozenset(topics_of.get(pk, ())),
            languages=frozenset(languages or ()),
            max_per_day=max_per_day,
            own=permissions.own_key(programme.own_rule, organisation_id, unit_id),
        )
        for pk, organisation_id, languages, max_per_day, unit_id in workplaces
    ]
    slot_rows = list(
        Slot.objects.filter(workplace_id__in=list(organisation_of), date__gt=today).values_list(
            "pk", "workplace_id", "date", "capacity", "booked", "starts_at", "ends_at"
        )
    )
    # Nobody is proposed a visit on a public holiday or day off, even where a host opened one.
    closed = days_off(programme.country, today, max((row[2] for row in slot_rows), default=today))
    slot_specs = [
        matching_options.SlotSpec(
            id=pk,
            workplace=wid,
            organisation=organisation_of[wid],
            day=day,
            free=max(0, cap - booked),
            booked=booked,
        )
        for pk, wid, day, cap, booked, _starts, _ends in slot_rows
    ]
    if programme.matching_closes_gaps:
        request_specs = weigh_competence_gaps(programme, request_specs)
    began = time.monotonic()  # building the problem counts within the time limit
    problem = matching_options.build_problem(
        request_specs, workplace_specs, slot_specs, fairness_weight=weight, closed_days=closed
    )
    solution = solver.solve(
        problem,
        time_limit=float(settings.SHADOWING_MATCHING_TIME_LIMIT),
        started=began,
        start=previous_proposal(programme),
        progress=report,
    )
    # `solve` runs first-come-first-served as its safety net and reports how many it placed.
    greedy_placed = solution.greedy_placed
    if greedy_placed is None:
        greedy_placed = solver.greedy(problem).placed

    unplaced: dict[str, str] = {}
    for spec in request_specs:
        if spec.id not in solution.chosen:
            code = solution.unplaced.get(spec.id) or problem.unplaced.get(spec.id) or "all_full"
            unplaced[str(spec.id)] = code
    # The slots were read with their times above: a second query with the chosen ids in an IN list
    # takes SQLite tens of seconds at 50,000 placements.
    slot_times = {pk: (day, start, end) for pk, _wid, day, _cap, _booked, start, end in slot_rows}
    report(MatchingRun.Phase.SAVING, int(solution.placed), float(solution.gap))
    with transaction.atomic():
        run.objective, run.bound, run.gap = (
            float(solution.objective),
            float(solution.bound),
            float(solution.gap),
        )
        run.placed, run.requests_considered = int(solution.placed), len(request_specs)
        run.greedy_placed, run.method = int(greedy_placed), str(solution.method)[:60]
        run.seconds, run.unplaced = float(solution.seconds), unplaced
        run.status, run.phase, run.finished_at = MatchingRun.Status.PROPOSED, "", timezone.now()
        run.progress_placed, run.progress_gap = run.placed, run.gap
        run.save(update_fields=[*RESULT_FIELDS])
        store_options(run, list(solution.chosen.values()), slot_times, actor)
        store_reasons(unplaced, [int(k) for k in solution.chosen])


RESULT_FIELDS = (
    "objective",
    "bound",
    "gap",
    "placed",
    "requests_considered",
    "greedy_placed",
    "method",
    "seconds",
    "unplaced",
    "status",
    "phase",
    "finished_at",
    "progress_placed",
    "progress_gap",
)


def _require_proposed(run: MatchingRun) -> None:
    if run.status != MatchingRun.Status.PROPOSED:
        raise Conflict(_("This match has already been confirmed or discarded."))


def _working_day_after(day: date, country: str) -> date:
    following = day + timedelta(days=1)
    closed = days_off(country, following, following + timedelta(days=14))
    while following.weekday() >= 5 or following in closed:
        following += timedelta(days=1)
    return following


def run_edit_assign(
    *,
    actor: Actor,
    run: MatchingRun,
    request: ShadowingRequest,
    workplace: Workplace,
    slots: Sequence[Slot],
) -> Placement:
    """Place a request by hand in a proposed run (coordinators), replacing its proposal there if any.

    The same rules as the matcher: an approved request of the programme, a published workplace of another
    organisation, one slot per day for the request's number of days, all inside one availability window,
    consecutive working days when asked, and free seats counting the run's other proposals.
    """
    require_manage(actor, run.programme_id)
    _require_proposed(run)
    errors: list[str] = []
    if request.programme_id != run.programme_id or request.status != ShadowingRequest.Status.APPROVED:
        errors.append(_("Only an approved request waiting for a match can be placed."))
    if workplace.programme_id != run.programme_id or not workplace.is_published:
        errors.append(_("Choose a published workplace of this programme."))
    if not permissions.can_shadow_at(
        request.organisation_id,
        workplace.organisation_id,
        own_rule=run.programme.own_rule,
        requester_unit_id=request.requester.unit_id,
        host_unit_id=workplace.unit_id,
    ):
        errors.append(_("Shadowing is always at another organisation than the requester's own."))
    ordered = sorted(slots, key=lambda s: (s.date, s.starts_at))
    dates = [s.date for s in ordered]
    if any(s.workplace_id != workplace.pk for s in ordered):
        errors.append(_("Every visit day must be a slot of the chosen workplace."))
    if len(ordered) != request.days or len(set(dates)) != len(dates):
        errors.append(_("Choose one slot on each of %(days)s different days.") % {"days": request.days})
    if errors:
        raise ValidationError({"slots": errors})
    if dates and dates[0] <= today_in(run.programme):
        errors.append(_("Visit days must lie in the future."))
    windows = [(w.starts_on, w.ends_on) for w in request.windows.all()]
    if not any(a <= dates[0] and dates[-1] <= b for a, b in windows):
        errors.append(_("All days must fall inside one of the requester's availability windows."))
    if request.consecutive and any(
        _working_day_after(a, run.programme.country) != b for a, b in zip(dates, dates[1:], strict=False)
    ):
        errors.append(_("The requester needs consecutive working days."))
    with transaction.atomic():
        other = PlacementDay.objects.filter(
            placement__run=run, placement__status=Placement.Status.PROPOSED
        ).exclude(placement__request=request)
        proposed_on: defaultdict[int, int] = defaultdict(int)
        for slot_id in other.values_list("slot_id", flat=True):
            proposed_on[slot_id] += 1
        fresh = {s.pk: s for s in Slot.objects.filter(pk__in=[s.pk for s in ordered])}
        day_load: dict[date, int] = defaultdict(int)
        for slot_id, day, booked in Slot.objects.filter(workplace=workplace, date__in=dates).values_list(
            "pk", "date", "booked"
        ):
            day_load[day] += booked + proposed_on.get(slot_id, 0)
        for slot in ordered:
            current = fresh.get(slot.pk)
            if current is None or current.booked + proposed_on.get(slot.pk, 0) >= current.capacity:
                errors.append(_("The slot on %(date)s is full.") % {"date": formatting.day(slot.date)})
            elif day_load[slot.date] >= workplace.max_visitors_per_day:
                errors.append(
                    _("The workplace takes no more visitors on %(date)s.")
                    % {"date": formatting.day(slot.date)}
                )
        if errors:
            raise ValidationError({"slots": errors})
        Placement.objects.filter(run=run, request=request, status=Placement.Status.PROPOSED).delete()
        slot_times = {s.pk: (s.date, s.starts_at, s.ends_at) for s in ordered}
        option = HandOption(request.pk, workplace.pk, tuple(s.pk for s in ordered))
        (placement_id,) = store_options(run, [option], slot_times, actor, note=_("Placed by hand"))
        placement = Placement.objects.get(pk=placement_id)
        run.unplaced.pop(str(request.pk), None)
        placed = Placement.objects.filter(run=run, status=Placement.Status.PROPOSED).count()
        MatchingRun.objects.filter(pk=run.pk).update(unplaced=run.unplaced, placed=placed)
        run.placed = placed
        ShadowingRequest.objects.filter(pk=request.pk).update(unplaced_code="")
    return placement


def run_edit_remove(*, actor: Actor, run: MatchingRun, placement: Placement) -> None:
    """Take a proposal out of a proposed run (coordinators); the request stays approved."""
    require_manage(actor, run.programme_id)
    _require_proposed(run)
    if placement.run_id != run.pk or placement.status != Placement.Status.PROPOSED:
        raise ValidationError({"placement": _("This placement is not a proposal of this match.")})
    with transaction.atomic():
        Placement.objects.filter(pk=placement.pk).delete()
        run.unplaced[str(placement.request_id)] = "removed"
        placed = Placement.objects.filter(run=run, status=Placement.Status.PROPOSED).count()
        MatchingRun.objects.filter(pk=run.pk).update(unplaced=run.unplaced, placed=placed)
        run.placed = placed
        ShadowingRequest.objects.filter(pk=placement.request_id).update(unplaced_code=UnplacedReason.REMOVED)


def matching_run_confirm(*, actor: Actor, run: MatchingRun) -> MatchingRun:
    """Confirm a proposed run (coordinators): every proposal takes its seats and goes to its host.

    All slots of the touched workplace-days are locked in one sorted step; if any proposal no longer fits
    (its request was placed, withdrawn or expired meanwhile, or its seats were taken by another run), the
    whole confirmation is refused with a conflict naming them, and nothing changes: remove or re-assign
    them by hand and confirm again. The hosts are asked to accept and the requesters told by a task
    (``matching_queue.notify_confirmed_run``) queued in the same transaction.

    Set-based, so that a run of thousands of proposals answers at once: the seats are counted per slot,
    and the counters, statuses and events are written in a fixed handful of statements whatever the size
    of the run, plus one slot UPDATE per distinct number of seats a slot takes (no list of ids is sent to
    the database).
    """
    require_manage(actor, run.programme_id)
    _require_proposed(run)
    now = timezone.now()
    with transaction.atomic():
        # Compare-and-set on the run's status: a second confirm (or a discard) of the same run loses here.
        if not MatchingRun.objects.filter(pk=run.pk, status=MatchingRun.Status.PROPOSED).update(
            status=MatchingRun.Status.CONFIRMED, confirmed_by=actor.person, confirmed_at=now
        ):
            raise Conflict(_("This match has already been confirmed or discarded."))
        # The compare-and-set sends no model signals, so the step is put on the audit trail here.
        LogEntry.objects.log_create(
            run,
            action=LogEntry.Action.UPDATE,
            changes={"status": [MatchingRun.Status.PROPOSED.value, MatchingRun.Status.CONFIRMED.value]},
        )
        proposals = Placement.objects.filter(run=run, status=Placement.Status.PROPOSED)
        proposed_days = PlacementDay.objects.filter(
            placement__run=run, placement__status=Placement.Status.PROPOSED
        )
        slots = lock_slots(run, lock=_slot_lock_enabled)
        requests = ShadowingRequest.objects.filter(pk__in=proposals.values("request_id")).order_by("pk")
        if _slot_lock_enabled:
            requests = requests.select_for_update()
        statuses = dict(requests.values_list("pk", "status"))
        if not everything_fits(run, slots, statuses):
            raise Conflict(
                [
                    _("Some proposals no longer fit; remove or re-assign them and confirm again."),
                    *misfits(run, slots, statuses),
                ]
            )
        # Each slot takes as many seats as the run's proposals have days on it, counted in the database:
        # one UPDATE per distinct count (a slot seldom takes more than a few), each on the slots whose
        # count it is, found by an uncorrelated subquery (a subquery per slot took 16 s for 5,000 slots
        # on PostgreSQL). Unscoped on the rows locked above, as a scoped UPDATE would re-join the
        # workplace in a subquery.
        per_slot = proposed_days.order_by().values("slot_id").annotate(days=Count("pk"))
        for days in sorted({row["days"] for row in per_slot}):
            Slot.unscoped_objects.filter(pk__in=per_slot.filter(days=days).values("slot_id")).update(
                booked=F("booked") + days
            )
        # The requests and the events first: both are found by the run's proposals, which the last
        # statement moves on.
        ShadowingRequest.objects.filter(pk__in=proposals.values("request_id")).update(
            status=ShadowingRequest.Status.PLACED, unplaced_code=""
        )
        insert_from(
            PlacementEvent,
            ("placement", "from_status", "to_status", "actor", "at", "note"),
            proposals.order_by("pk").values_list(
                "pk",
                Value(Placement.Status.PROPOSED.value, output_field=CharField()),
                Value(Placement.Status.AWAITING_HOST.value, output_field=CharField()),
                Value(actor.person.pk if actor.person else None, output_field=IntegerField()),
                Value(now, output_field=DateTimeField()),
                Value("", output_field=CharField()),
            ),
        )
        proposals.update(status=Placement.Status.AWAITING_HOST, updated_at=now)
        run.status, run.confirmed_by, run.confirmed_at = MatchingRun.Status.CONFIRMED, actor.person, now
        # The hosts and the requesters are told by a task, in batches (a confirmation of thousands of
        # placements answers at once); queued in this transaction, so it is never lost nor sent for a
        # confirmation that was rolled back.
        from shadowing.services.matching_queue import notify_confirmed_run

        notify_confirmed_run.enqueue(run.pk)
    return run


def notify_confirmed_placements(*, run: MatchingRun, placements: Iterable[Placement]) -> None:
    """Ask each placement's host contact to accept and tell its requester (the confirmation's messages)."""
    for placement in placements:
        params = placement_params(placement)
        notify(
            programme=run.programme,
            recipients=[placement.workplace.contact],
            kind=KIND_HOSTING,
            title=gettext_noop("A visitor for %(workplace)s: please accept or decline"),
            body=gettext_noop(
                "%(person)s (%(organisation)s) is proposed to shadow at %(workplace)s on %(days)s."
            ),
            params=params,
            detail=placement.request.learning_goals,
            url=page_url("placement-detail", pk=placement.pk),
        )
        notify(
            programme=run.programme,
            recipients=[placement.request.requester],
            kind=KIND_PLACEMENT,
            title=gettext_noop("You have been matched with %(workplace)s"),
            body=gettext_noop(
                "Proposed days: %(days)s. The host will now accept or decline; we will tell you."
            ),
            params=params,
            url=page_url("placement-detail", pk=placement.pk),
        )


def matching_run_discard(*, actor: Actor, run: MatchingRun) -> MatchingRun:
    """Throw a proposed run away (coordinators); its proposals held no seats and are deleted."""
    require_manage(actor, run.programme_id)
    with transaction.atomic():
        if not MatchingRun.objects.filter(pk=run.pk, status=MatchingRun.Status.PROPOSED).update(
            status=MatchingRun.Status.DISCARDED
        ):
            raise Conflict(_("This match has already been confirmed or discarded."))
        # The compare-and-set sends no model signals, so the step is put on the audit trail here.
        LogEntry.objects.log_create(
            run,
            action=LogEntry.Action.UPDATE,
            changes={"status": [MatchingRun.Status.PROPOSED.value, MatchingRun.Status.DISCARDED.value]},
        )
        Placement.objects.filter(run_id=run.pk, status=Placement.Status.PROPOSED).delete()
        run.status = MatchingRun.Status.DISCARDED
    return run
