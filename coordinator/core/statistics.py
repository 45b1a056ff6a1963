"""Plain arithmetic of the reports: how far a target has come, when it will be reached at the current pace,
and which cells of a breakdown must be hidden so that no group under five people can be read, directly or by
subtracting the shown cells from a total."""

from __future__ import annotations

import bisect
import calendar
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import TypeVar

# No aggregate about people is shown for fewer than this many.
MIN_GROUP = 5
# The pace of a target is read over this many days before today (or since it started, if later).
PACE_WINDOW_DAYS = 28

K = TypeVar("K", bound=Hashable)


def needed_for_share(goal_percent: int, population: int) -> int:
    """How many of a population make ``goal_percent`` of it (rounded up: 90 % of 7 people is 7)."""
    return math.ceil(goal_percent * population / 100)


def project(
    *, done_then: int, then: date, done_now: int, today: date, needed: int
) -> tuple[str, date | None]:
    """When ``needed`` will be reached at the pace from ``then`` to ``today``.

    pace = (done_now − done_then) / (today − then) per day; projected = today + ⌈(needed − done_now) / pace⌉
    days. Returns ``("reached", None)`` when already there, ``("stalled", None)`` when nothing moved in the
    window (no date can be promised), else ``("projected", date)``.
    """
    if done_now >= needed:
        return "reached", None
    days = (today - then).days
    gained = done_now - done_then
    if days <= 0 or gained <= 0:
        return "stalled", None
    return "projected", today + timedelta(days=math.ceil((needed - done_now) * days / gained))


def suppressed(sizes: Mapping[K, int], minimum: int = MIN_GROUP) -> set[K]:
    """The cells of a breakdown to hide, given each cell's number of people.

    Every cell under ``minimum`` is hidden (primary suppression). Then, as long as the hidden cells together
    hold fewer than ``minimum`` people (so a total minus the shown cells would reveal a small group), the
    smallest shown cell is hidden too (secondary suppression). A cell of nobody reveals nothing and is left.
    """
    hidden = {key for key, size in sizes.items() if 0 < size < minimum}
    if not hidden:
        return hidden
    shown = sorted((size, str(key), key) for key, size in sizes.items() if key not in hidden and size > 0)
    while sum(sizes[key] for key in hidden) < minimum and shown:
        hidden.add(shown.pop(0)[2])
    return hidden


def total_is_hidden(sizes: Mapping[K, int], minimum: int = MIN_GROUP) -> bool:
    """Whether the total of a breakdown must be hidden as well: when everybody counted is fewer than
    ``minimum`` people."""
    total = sum(sizes.values())
    return 0 < total < minimum


def week_start(day: date) -> date:
    """The Monday of the ISO week of ``day``."""
    return day - timedelta(days=day.weekday())


def series_dates(start: date, end: date, *, most: int = 26) -> list[date]:
    """Dates from ``start`` to ``end`` (both included) at a whole number of weeks apart, at most ``most``
    of them, the last being ``end``: the points of a progress chart."""
    if end < start:
        return [end]
    span = (end - start).days
    step = max(7, math.ceil(span / max(1, most - 1) / 7) * 7)
    points: list[date] = []
    day = end
    while day >= start and len(points) < most:
        points.append(day)
        day -= timedelta(days=step)
    if points[-1] != start and len(points) < most:
        points.append(start)
    return sorted(points)


def cumulative(
    rows: Iterable[tuple[int, date, int]], dates: Sequence[date]
) -> tuple[list[int], dict[int, list[int]]]:
    """From rows of (organisation id, day, how many), how many each organisation had on or before each of
    ``dates`` (ascending), and the totals.

    Each row is added once, at the first date on or after its day, and the counts are then summed along the
    dates: rows plus organisations × dates steps instead of rows × dates (a year of daily rows against 28
    dates took most of a second)."""
    width = len(dates)
    by_organisation: dict[int, list[int]] = {}
    for organisation_id, day, n in rows:
        counts = by_organisation.setdefault(organisation_id, [0] * width)
        index = bisect.bisect_left(dates, day)
        if index < width:
            counts[index] += n
    for counts in by_organisation.values():
        for index in range(1, width):
            counts[index] += counts[index - 1]
    totals = [sum(counts[index] for counts in by_organisation.values()) for index in range(width)]
    return totals, by_organisation


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day where it is shorter: 31 May − 3 = 28/29 Feb)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
