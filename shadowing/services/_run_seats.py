"""Seats at confirmation: the slots a matching run's proposals touch, locked, and whether the proposals
still fit them (counted per slot and workplace-day, or, when they do not, proposal by proposal to name
the ones that no longer fit). Used by ``matching_runs.matching_run_confirm``."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date
from typing import NamedTuple

from django.db.models import Count, F
from django.utils.translation import gettext as _

from coordinator.core import formatting
from shadowing.models import MatchingRun, Placement, PlacementDay, ShadowingRequest, Slot, Workplace


class LockedSlot(NamedTuple):
    """A slot as confirming locks it (a named tuple: a large run locks tens of thousands)."""

    pk: int
    workplace_id: int
    date: date
    capacity: int
    booked: int


@dataclasses.dataclass
class _Proposal:
    """A proposal as confirming it reads it: ids, the workplace's daily cap and its days (slot, date)."""

    pk: int
    request_id: int
    workplace_id: int
    max_per_day: int
    days: list[tuple[int | None, date]] = dataclasses.field(default_factory=list)


def lock_slots(run: MatchingRun, *, lock: bool = True) -> dict[int, LockedSlot]:
    """Every slot of the workplace-days the run's proposals touch, locked in primary-key order for the rest
    of the transaction; plain rows, as a large run locks thousands.

    Selected by a join from the run's proposed days to the slots of the same workplace and date (no list of
    thousands of ids to send, and the database starts from the run, not from every slot), unscoped so that
    the lock takes the slot rows alone: the run was read in the caller's scope, and its proposals are at
    the programme's own workplaces."""
    touched = Slot.unscoped_objects.filter(
        workplace__placements__run=run,
        workplace__placements__status=Placement.Status.PROPOSED,
        workplace__placements__days__date=F("date"),
    ).values("pk")
    queryset = Slot.unscoped_objects.filter(pk__in=touched).order_by("pk")
    if lock:
        queryset = queryset.select_for_update()
    return {
        row[0]: LockedSlot(*row)
        for row in queryset.values_list("pk", "workplace_id", "date", "capacity", "booked")
    }


def everything_fits(run: MatchingRun, slots: dict[int, LockedSlot], statuses: dict[int, str]) -> bool:
    """Whether every proposal of the run fits, counted per slot and workplace-day rather than proposal by
    proposal (equivalent: every proposal fits in turn exactly when the totals fit). A proposal whose slot
    is gone or not among ``slots`` does not fit."""
    if any(status != ShadowingRequest.Status.APPROVED for status in statuses.values()):
        return False
    taken = dict(
        PlacementDay.objects.filter(placement__run=run, placement__status=Placement.Status.PROPOSED)
        .order_by()
        .values("slot_id")
        .annotate(days=Count("pk"))
        .values_list("slot_id", "days")
    )
    if any(slot_id not in slots for slot_id in taken):  # includes a day whose slot was deleted (None)
        return False
    day_load: dict[tuple[int, date], int] = defaultdict(int)
    for locked in slots.values():
        day_load[(locked.workplace_id, locked.date)] += locked.booked
    for slot_id, count in taken.items():
        slot = slots[slot_id]
        if slot.booked + count > slot.capacity:
            return False
        day_load[(slot.workplace_id, slot.date)] += count
    max_per_day = dict(
        Workplace.objects.filter(pk__in={s.workplace_id for s in slots.values()}).values_list(
            "pk", "max_visitors_per_day"
        )
    )
    return all(load <= max_per_day[workplace_id] for (workplace_id, _day), load in day_load.items())


def misfits(run: MatchingRun, slots: dict[int, LockedSlot], statuses: dict[int, str]) -> list[str]:
    """The proposals that no longer fit, named (the rare path of a refused confirmation): each proposal in
    the order its request came in takes its seats, and one that finds its request gone or a day full is
    named with the reason."""
    placements = [
        _Proposal(pk, request_id, workplace_id, max_per_day)
        for pk, request_id, workplace_id, max_per_day in Placement.objects.filter(
            run=run, status=Placement.Status.PROPOSED
        )
        .order_by("request__submitted_at", "pk")
        .values_list("pk", "request_id", "workplace_id", "workplace__max_visitors_per_day")
    ]
    by_pk = {p.pk: p for p in placements}
    for placement_id, slot_id, day in PlacementDay.objects.filter(
        placement__run=run, placement__status=Placement.Status.PROPOSED
    ).values_list("placement_id", "slot_id", "date"):
        by_pk[placement_id].days.append((slot_id, day))
    day_load: dict[tuple[int, date], int] = defaultdict(int)
    for locked in slots.values():
        day_load[(locked.workplace_id, locked.date)] += locked.booked
    taken: dict[int, int] = defaultdict(int)
    problems: dict[int, str] = {}
    for placement in placements:
        problem = None
        if statuses.get(placement.request_id) != ShadowingRequest.Status.APPROVED:
            problem = _("the request is no longer waiting for a match")
        else:
            for slot_id, day in sorted(placement.days, key=lambda d: d[1]):
                slot = slots.get(slot_id) if slot_id else None
                if slot is None or slot.booked + taken[slot.pk] + 1 > slot.capacity:
                    problem = _("the visit day %(date)s is full") % {"date": formatting.day(day)}
                    break
                if day_load[(slot.workplace_id, slot.date)] + 1 > placement.max_per_day:
                    problem = _("the workplace takes no more visitors on %(date)s") % {
                        "date": formatting.day(day)
                    }
                    break
                taken[slot.pk] += 1
                day_load[(slot.workplace_id, slot.date)] += 1
        if problem:
            problems[placement.pk] = problem
    named = Placement.objects.filter(pk__in=list(problems)).select_related(
        "request__requester__user", "workplace"
    )
    names = {p.pk: (p.request.requester.full_name, p.workplace.name) for p in named}
    return [
        _("%(person)s at %(workplace)s: %(problem)s")
        % {"person": names[pk][0], "workplace": names[pk][1], "problem": problem}
        for pk, problem in problems.items()
    ]
