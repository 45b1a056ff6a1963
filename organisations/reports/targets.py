"""Progress towards a programme's targets over time, per organisation, with the date the target will be
reached at the current pace and who is behind."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import QuerySet

from coordinator.core import registry
from coordinator.core.statistics import (
    PACE_WINDOW_DAYS,
    needed_for_share,
    project,
    series_dates,
    suppressed,
    total_is_hidden,
)
from organisations.models import Organisation, Programme, Target


@dataclass
class OrganisationProgress:
    """One organisation's part of a target. ``hidden`` cells (fewer than five people, or hidden so that a
    total cannot reveal one) carry no figures."""

    organisation_id: int
    name: str
    hidden: bool
    done: int | None = None
    needed: int | None = None
    series: list[float | None] = field(default_factory=list)
    behind: bool = False

    @property
    def percent(self) -> int | None:
        return None if self.done is None or not self.needed else min(100, self.done * 100 // self.needed)


@dataclass
class TargetProgress:
    """Where a target stands today, its progress at each of ``dates`` (0–1; None where hidden), the
    projection at the current pace and each organisation's part."""

    target: Target
    measure: registry.Measure | None
    dates: list[date]
    hidden: bool
    done: int | None
    needed: int | None
    series: list[float | None]
    status: str  # reached | projected | stalled | unknown | not_started
    projected_on: date | None
    expected: float
    organisations: list[OrganisationProgress]
    # Done a week before the last date, for "what changed this week".
    done_week_ago: int | None = None

    @property
    def percent(self) -> int | None:
        if self.done is None or self.needed is None:
            return None
        return 100 if not self.needed else min(100, self.done * 100 // self.needed)

    @property
    def percent_week_ago(self) -> int | None:
        if self.done_week_ago is None or self.needed is None:
            return None
        return 100 if not self.needed else min(100, self.done_week_ago * 100 // self.needed)

    @property
    def on_track(self) -> bool:
        return self.status == "reached" or (
            self.status == "projected"
            and self.projected_on is not None
            and self.projected_on <= self.target.deadline
        )

    @property
    def behind(self) -> list[OrganisationProgress]:
        return [row for row in self.organisations if row.behind]


def programme_targets(programme: Programme) -> QuerySet[Target]:
    return Target.objects.filter(programme=programme).select_related("work_role")


def progress(
    programme: Programme, targets: list[Target], today: date, *, only_organisation: int | None = None
) -> list[TargetProgress]:
    """Every target's progress (one query for the organisations, then each measure's own fixed number for
    all the targets that use it; measures that read the same rows read them once)."""
    organisations = list(
        Organisation.objects.filter(participations__programme=programme)
        .order_by("short_name")
        .values_list("pk", "short_name")
    )
    if only_organisation is not None:
        organisations = [row for row in organisations if row[0] == only_organisation]
    plans: list[tuple[Target, list[date], date]] = []
    asks: dict[str, list[tuple[int, registry.MeasureAsk]]] = defaultdict(list)
    for index, target in enumerate(targets):
        end = max(target.starts_on, min(today, target.deadline))
        then = max(target.starts_on, end - timedelta(days=PACE_WINDOW_DAYS))
        dates = series_dates(target.starts_on, end)
        asked = sorted({*dates, then, _week_before(target, end)})
        plans.append((target, dates, then))
        asks[target.measure].append(
            (index, registry.MeasureAsk(target.subject_id, target.work_role_id, target.starts_on, asked))
        )
    answers: dict[int, registry.MeasureCounts] = {}
    with registry.one_reading():
        for key, wanted in asks.items():
            measure = registry.measures.get(key)
            if measure is None:
                continue
            for (index, _ask), counted in zip(
                wanted, measure.counts(programme, [a for _i, a in wanted]), strict=True
            ):
                answers[index] = counted
    return [
        _one(
            target,
            registry.measures.get(target.measure),
            dates,
            then,
            answers.get(index),
            organisations,
            today,
        )
        for index, (target, dates, then) in enumerate(plans)
    ]


def _one(
    target: Target,
    measure: registry.Measure | None,
    dates: list[date],
    then: date,
    counted: registry.MeasureCounts | None,
    organisations: list[tuple[int, str]],
    today: date,
) -> TargetProgress:
    span = max(1, (target.deadline - target.starts_on).days)
    expected = min(1.0, max(0.0, (today - target.starts_on).days / span))
    if measure is None or counted is None:
        return TargetProgress(target, measure, dates, True, None, None, [], "unknown", None, expected, [])
    week_ago = _week_before(target, dates[-1])
    asked = sorted({*dates, then, week_ago})
    at = {day: index for index, day in enumerate(asked)}
    share = measure.kind == "share"
    populations = counted.population_by_organisation or {}
    hidden = (
        suppressed({pk: populations.get(pk, 0) for pk, _name in organisations}) if measure.people else set()
    )
    zero = [0] * len(asked)

    def needed_of(pk: int) -> int:
        return needed_for_share(target.goal, populations.get(pk, 0)) if share else target.goal

    def done_of(pk: int, index: int) -> int:
        value = counted.by_organisation.get(pk, zero)[index]
        return value if share else min(value, target.goal)

    rows = []
    for pk, name in organisations:
        if pk in hidden:
            rows.append(OrganisationProgress(pk, name, hidden=True))
            continue
        needed = needed_of(pk)
        series = [min(1.0, done_of(pk, at[day]) / needed) if needed else None for day in dates]
        done = done_of(pk, at[dates[-1]])
        fraction = done / needed if needed else 1.0
        rows.append(
            OrganisationProgress(
                pk,
                name,
                hidden=False,
                done=done,
                needed=needed,
                series=series,
                behind=bool(needed) and fraction < expected,
            )
        )
    if share:
        needed_total = needed_for_share(target.goal, counted.population or 0)
        totals = counted.total
    else:
        needed_total = target.goal * len(organisations)
        totals = [sum(done_of(pk, index) for pk, _name in organisations) for index in range(len(asked))]
    total_hidden = measure.people and total_is_hidden(populations)
    if today < target.starts_on:
        status, projected_on = "not_started", None
    else:
        status, projected_on = project(
            done_then=totals[at[then]],
            then=then,
            done_now=totals[at[dates[-1]]],
            today=dates[-1],
            needed=needed_total,
        )
    if total_hidden:
        return TargetProgress(
            target, measure, dates, True, None, None, [None] * len(dates), "unknown", None, expected, rows
        )
    series_total = [min(1.0, totals[at[day]] / needed_total) if needed_total else None for day in dates]
    return TargetProgress(
        target,
        measure,
        dates,
        False,
        totals[at[dates[-1]]],
        needed_total,
        series_total,
        status,
        projected_on,
        expected,
        rows,
        totals[at[week_ago]],
    )


def _week_before(target: Target, end: date) -> date:
    return max(target.starts_on, end - timedelta(days=7))
