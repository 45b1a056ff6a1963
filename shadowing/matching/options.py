"""Feasible options of a shadowing match, their preference scores, and why a request has none.

An *option* places one request at one workplace on concrete slots (one slot per visit day). It is
feasible when:

- the workplace belongs to another organisation than the requester's (or, where the programme applies the
  rule at unit level, to another unit: ``own`` keys of workplaces and requests say what "own" means);
- for a reciprocal pair, the workplace belongs to the partner's organisation (the two visit each other);
- the workplace offers at least one requested topic (when the request names topics) and shares a
  language with the request (when both name languages);
- every day has a slot with a free seat and the workplace's per-day cap is not reached that day;
- all days lie inside one availability window of the request; with ``consecutive`` they are consecutive
  working days (Monday to Friday, so Friday is followed by Monday); otherwise they are the next ``days``
  open days of the workplace from a start day (so a request never spreads over weeks when the
  workplace is open on nearer days).

Preference score (what the matcher maximises after the number of people placed):

===========================================  =====================================
the workplace is the request's rank ``r``     ``11 - r`` (10 for a first choice … 6)
its organisation is the request's rank ``r``  ``6 - r`` (5 … 1)
any other feasible workplace                  ``0.5``
===========================================  =====================================

(the higher of the first two when both apply). Every preferred workplace thus beats every preferred
organisation, and any placement beats none; the solver adds 1000 per person placed, so no preference is
ever worth leaving a person unplaced.

``Problem.options`` lists a first few options per request (``max_options_per_request``, at most
``max_options_per_workplace`` per workplace, spread over the start days, non-preferred workplaces in a
per-request order) for the solver to start from; it is no limit: ``Problem.catalogue``
(``shadowing.matching.pricing``) searches every feasible option, and the solver adds those it needs.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from shadowing.matching.pricing import Catalogue

REASON_NO_SLOT_IN_WINDOW = "no_slot_in_window"
REASON_ALL_FULL = "all_full"
REASON_ONLY_OWN_ORGANISATION = "only_own_organisation"
REASON_NO_MATCHING_TOPIC_OR_LANGUAGE = "no_matching_topic_or_language"
REASON_PARTNER_NOT_PLACED = "partner_not_placed"
# Free days exist in the windows, but not as many as the request needs, or not in a row.
REASON_TOO_FEW_DAYS = "too_few_days"
REASON_NO_CONSECUTIVE_DAYS = "no_consecutive_days"
REASONS = (
    REASON_NO_SLOT_IN_WINDOW,
    REASON_ALL_FULL,
    REASON_ONLY_OWN_ORGANISATION,
    REASON_NO_MATCHING_TOPIC_OR_LANGUAGE,
    REASON_PARTNER_NOT_PLACED,
    REASON_TOO_FEW_DAYS,
    REASON_NO_CONSECUTIVE_DAYS,
)

WORKPLACE_RANK_SCORE = {1: 10.0, 2: 9.0, 3: 8.0, 4: 7.0, 5: 6.0}
ORGANISATION_RANK_SCORE = {1: 5.0, 2: 4.0, 3: 3.0, 4: 2.0, 5: 1.0}
OTHER_WORKPLACE_SCORE = 0.5
MAX_SCORE = max(WORKPLACE_RANK_SCORE.values())

DEFAULT_MAX_OPTIONS_PER_REQUEST = 4
DEFAULT_MAX_OPTIONS_PER_WORKPLACE = 5
# Several slots a day multiply a multi-day request's first options; a few combinations per sequence.
MAX_SLOT_COMBINATIONS = 3


@dataclass(frozen=True, slots=True)
class SlotSpec:
    id: int
    workplace: int
    organisation: int
    day: date
    free: int
    # Seats already held on this slot; they count against the workplace's per-day cap.
    booked: int = 0


@dataclass(frozen=True, slots=True)
class WorkplaceSpec:
    id: int
    organisation: int
    topics: frozenset[int]
    languages: frozenset[str]
    max_per_day: int
    # What the own-organisation rule compares (the organisation when None; a unit key at unit level).
    own: int | None = None


@dataclass(frozen=True, slots=True)
class RequestSpec:
    id: int
    organisation: int
    days: int
    consecutive: bool
    windows: tuple[tuple[date, date], ...]
    topics: frozenset[int]
    languages: frozenset[str]
    preferred_workplaces: dict[int, int]  # workplace id -> rank 1..5
    preferred_organisations: dict[int, int]  # organisation id -> rank 1..5
    partner: int | None  # the reciprocal request's id
    submitted_at: datetime  # order for first-come-first-served
    # What the own-organisation rule compares (the organisation when None; a unit key at unit level).
    own: int | None = None

    @property
    def own_key(self) -> int:
        return self.organisation if self.own is None else self.own


class Option(NamedTuple):
    """One request at one workplace on concrete slots (a named tuple: a build makes tens of thousands)."""

    request: int
    workplace: int
    organisation: int
    slots: tuple[int, ...]
    score: float


@dataclass
class Problem:
    options: list[Option]
    capacity: dict[int, int]  # slot id -> seats the matcher may fill
    requests: dict[int, RequestSpec]
    pairs: list[tuple[int, int]]
    fairness_weight: float
    # Per-day caps where a workplace has several slots a day: (slot ids, seats), the sum within the seats.
    day_caps: list[tuple[tuple[int, ...], int]] = field(default_factory=list)
    unplaced: dict[int, str] = field(default_factory=dict)  # requests with no option -> reason code
    # Every feasible option, searched by price (None for a problem built by hand: then `options` is all).
    catalogue: Catalogue | None = None


@dataclass
class Solution:
    chosen: dict[int, Option]
    objective: float
    bound: float
    gap: float
    placed: int
    method: str
    seconds: float
    unplaced: dict[int, str]  # request id -> reason code
    # First come, first served over every feasible option on the same problem (`solve` runs it as its
    # floor): people placed and objective, so that a caller need not run `greedy` again.
    greedy_placed: int | None = None
    greedy_objective: float | None = None


def weekday(ordinal: int) -> int:
    """Monday is 0, like `date.weekday`, for a proleptic Gregorian ordinal."""
    return (ordinal - 1) % 7


def next_working_day(ordinal: int, closed: frozenset[int] = frozenset()) -> int:
    """The next day after ``ordinal`` that is neither a weekend day nor one of the ``closed`` days off."""
    following = ordinal + 1
    while weekday(following) >= 5 or following in closed:
        following += 1
    return following


class _Calendar:
    """Open days of one workplace: sorted ordinals, and the slots per day."""

    __slots__ = ("closed", "days", "single", "slots")

    def __init__(self, closed: frozenset[int] = frozenset()) -> None:
        self.closed = closed
        self.days: list[int] = []
        self.slots: dict[int, tuple[int, ...]] = {}
        # Whether every day has exactly one slot (then a day sequence gives exactly one option).
        self.single = True

    def sequences(self, request: RequestSpec, windows: list[tuple[int, int]]) -> list[tuple[int, ...]]:
        """Day sequences (ordinals) this workplace can offer the request, earliest first."""
        days, k = self.days, request.days
        if k == 1 and len(windows) == 1:  # the most common case, in short
            start, end = windows[0]
            return list(zip(days[bisect.bisect_left(days, start) : bisect.bisect_right(days, end)]))
        found: list[tuple[int, ...]] = []
        for start, end in windows:
            lo = bisect.bisect_left(days, start)
            hi = bisect.bisect_right(days, end)
            if hi - lo < k:
                continue
            if k == 1:
                found.extend(zip(days[lo:hi]))
            elif request.consecutive:
                open_days = self.slots
                for d in days[lo:hi]:
                    if weekday(d) >= 5:
                        continue
                    seq, cur = [d], d
                    for _ in range(k - 1):
                        cur = next_working_day(cur, self.closed)
                        if cur > end or cur not in open_days:
                            break
                        seq.append(cur)
                    if len(seq) == k:
                        found.append(tuple(seq))
            else:
                # the runs days[t : t + k] for t in lo .. hi - k
                found.extend(zip(*(days[lo + i : hi - k + 1 + i] for i in range(k)), strict=True))
        if len(windows) > 1:
            found = sorted(set(found))
        return found


def _spread(items: list[tuple[int, ...]], limit: int) -> list[tuple[int, ...]]:
    if len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def build_problem(
    requests: Iterable[RequestSpec],
    workplaces: Iterable[WorkplaceSpec],
    slots: Iterable[SlotSpec],
    *,
    fairness_weight: float = 1.0,
    max_options_per_request: int = DEFAULT_MAX_OPTIONS_PER_REQUEST,
    max_options_per_workplace: int = DEFAULT_MAX_OPTIONS_PER_WORKPLACE,
    closed_days: Iterable[date] = (),
) -> Problem:
    """Enumerate the feasible options of every request (see the module docstring for the rules). No option
    uses one of the ``closed_days`` (days off), and consecutive working days run across them."""
    closed = frozenset(day.toordinal() for day in closed_days)
    request_by_id = {r.id: r for r in requests}
    workplace_by_id = {w.id: w for w in workplaces}

    by_day: dict[int, dict[int, list[SlotSpec]]] = defaultdict(lambda: defaultdict(list))
    for s in slots:
        if s.workplace in workplace_by_id:
            if s.day.toordinal() not in closed:
                by_day[s.workplace][s.day.toordinal()].append(s)

    capacity: dict[int, int] = {}
    day_caps: list[tuple[tuple[int, ...], int]] = []
    open_cal: dict[int, _Calendar] = {}
    any_cal: dict[int, _Calendar] = {}  # every day with a slot, full or not (for the diagnosis)
    for wid, days in by_day.items():
        cap = workplace_by_id[wid].max_per_day
        cal, every = _Calendar(closed), _Calendar(closed)
        for d in sorted(days):
            day_slots = sorted(days[d], key=lambda s: s.id)
            room = max(0, cap - sum(s.booked for s in day_slots))
            ids = []
            total = 0
            for s in day_slots:
                seats = min(s.free, room)
                if seats > 0:
                    capacity[s.id] = seats
                    ids.append(s.id)
                    total += seats
            if len(ids) > 1 and total > room:
                day_caps.append((tuple(ids), room))
            every.days.append(d)
            every.slots[d] = tuple(s.id for s in day_slots)
            if ids:
                cal.days.append(d)
                cal.slots[d] = tuple(ids)
                if len(ids) > 1:
                    cal.single = False
        any_cal[wid] = every
        if cal.days:
            open_cal[wid] = cal

    max_run = max((r.days for r in request_by_id.values() if r.consecutive), default=1)
    grid = _Grid(workplace_by_id, open_cal, any_cal, max_run, closed)

    pairs: list[tuple[int, int]] = []
    partner_org: dict[int, int] = {}
    unplaced: dict[int, str] = {}
    for r in request_by_id.values():
        if r.partner is None:
            continue
        partner = request_by_id.get(r.partner)
        if partner is None or partner.id == r.id:
            unplaced[r.id] = REASON_PARTNER_NOT_PLACED
            continue
        partner_org[r.id] = partner.organisation
        if r.id < partner.id:
            pairs.append((r.id, partner.id))

    options: list[Option] = []
    per_request: dict[int, list[Option]] = {}
    for r in request_by_id.values():
        if r.id in unplaced:
            continue
        windows = sorted((a.toordinal(), b.toordinal()) for a, b in r.windows if a <= b)
        partner_organisation = partner_org.get(r.id)
        candidates = grid.candidates(r, windows, partner_organisation)
        found = _options_for(
            r, windows, candidates, grid, open_cal, max_options_per_request, max_options_per_workplace
        )
        if found:
            per_request[r.id] = found
        else:
            unplaced[r.id] = grid.reason(r, windows, partner_organisation)

    kept_pairs = []
    for a, b in pairs:
        if a in per_request and b in per_request:
            kept_pairs.append((a, b))
            continue
        for rid in (a, b):
            if rid in per_request:
                del per_request[rid]
                unplaced[rid] = REASON_PARTNER_NOT_PLACED
    for found in per_request.values():
        options.extend(found)

    from shadowing.matching.pricing import Catalogue  # noqa: PLC0415 (pricing imports this module)

    kept = [request_by_id[rid] for rid in sorted(per_request)]
    catalogue = Catalogue(grid, open_cal, kept, partner_org, list(capacity), closed)
    return Problem(
        options, capacity, request_by_id, kept_pairs, fairness_weight, day_caps, unplaced, catalogue
    )


_SMALL = 200  # below this many candidate workplaces plain Python beats numpy's per-call overhead


def _order_small(
    r: RequestSpec, wids: list[int], orgs: list[int], max_options: int
) -> list[tuple[int, int, float]]:
    """The candidate workplaces as (workplace, organisation, priority), in the order options are taken,
    only the first `max_options` (each gives at least one option); the priority is the preference score
    of a preferred workplace or organisation, else 0."""
    by_workplace, by_organisation = r.preferred_workplaces, r.preferred_organisations
    # a per-request pseudo-random order of the workplaces (the same in `_order_large`)
    mixed = r.id * 40503
    keyed = []
    for wid, org in zip(wids, orgs, strict=True):
        priority = 0.0
        if by_workplace:
            rank = by_workplace.get(wid)
            if rank is not None:
                priority = WORKPLACE_RANK_SCORE.get(rank, 6.0)
        if by_organisation:
            rank = by_organisation.get(org)
            if rank is not None:
                priority = max(priority, ORGANISATION_RANK_SCORE.get(rank, 1.0))
        keyed.append((-priority, (wid * 2654435761 + mixed) % 4294967291, wid, org))
    keyed.sort()
    return [(wid, org, -negated) for negated, _, wid, org in keyed[:max_options]]


def _order_large(
    r: RequestSpec, wids: np.ndarray, orgs: np.ndarray, max_options: int
) -> list[tuple[int, int, float]]:
    """Like `_order_small` (same order), vectorised, keeping only the first `max_options` unpreferred."""
    mixed = (wids * 2654435761 + r.id * 40503) % 4294967291
    priority = np.zeros(len(wids))
    for org, rank in r.preferred_organisations.items():
        hit = orgs == org
        priority[hit] = np.maximum(priority[hit], ORGANISATION_RANK_SCORE.get(rank, 1.0))
    if r.preferred_workplaces:
        preferred = np.fromiter(r.preferred_workplaces, dtype=np.int64)
        for i in np.flatnonzero(np.isin(wids, preferred)).tolist():
            rank = r.preferred_workplaces[int(wids[i])]
            priority[i] = max(priority[i], WORKPLACE_RANK_SCORE.get(rank, 6.0))
    first = np.flatnonzero(priority > 0)
    first = first[np.lexsort((mixed[first], -priority[first]))]
    rest = np.flatnonzero(priority == 0)
    if len(rest) > max_options:
        rest = rest[np.argpartition(mixed[rest], max_options)[:max_options]]
    rest = rest[np.argsort(mixed[rest], kind="stable")]
    order = np.concatenate([first, rest])
    return list(zip(wids[order].tolist(), orgs[order].tolist(), priority[order].tolist(), strict=True))


def _options_for(
    r: RequestSpec,
    windows: list[tuple[int, int]],
    candidates: np.ndarray,
    grid: _Grid,
    open_cal: dict[int, _Calendar],
    max_options: int,
    max_per_workplace: int,
) -> list[Option]:
    """Options at the candidate workplaces (all feasible): preferred workplaces by rank, then the
    workplaces of preferred organisations by rank, then the others in an order depending on the request."""
    if not len(candidates):
        return []
    # Preferred first, by score, then the others in a per-request pseudo-random order, as many as used.
    if len(candidates) <= _SMALL:
        order = _order_small(
            r, grid.ids[candidates].tolist(), grid.organisation[candidates].tolist(), max_options
        )
    else:
        order = _order_large(r, grid.ids[candidates], grid.organisation[candidates], max_options)
    found: list[Option] = []
    rid = r.id
    for wid, organisation, priority in order:
        cal = open_cal[wid]
        # the preference score: the best rank's score (every rank scores above OTHER_WORKPLACE_SCORE)
        score = priority if priority > OTHER_WORKPLACE_SCORE else OTHER_WORKPLACE_SCORE
        budget = min(max_per_workplace, max_options - len(found))
        sequences = _spread(cal.sequences(r, windows), budget)
        if cal.single:
            # one slot a day: one option per day sequence, and `_spread` kept at most `budget` of them
            slot_of = cal.slots
            if r.days == 1:
                found.extend(Option(rid, wid, organisation, slot_of[d], score) for (d,) in sequences)
            else:
                found.extend(
                    Option(rid, wid, organisation, tuple([slot_of[d][0] for d in seq]), score)
                    for seq in sequences
                )
        else:
            for seq in sequences:
                for combo in itertools.islice(
                    itertools.product(*(cal.slots[d] for d in seq)), MAX_SLOT_COMBINATIONS
                ):
                    found.append(Option(rid, wid, organisation, combo, score))
                    budget -= 1
                    if budget == 0:
                        break
                if budget == 0:
                    break
        if len(found) >= max_options:
            break
    return found


_BIG = np.iinfo(np.int32).max


class _Days:
    """Which workplace is open on which day, as matrices over (workplace, day index), for quick tests of
    "has k open days in this window" and "has a run of k consecutive working days in this window"."""

    def __init__(
        self,
        rows: list[int],
        calendars: list[_Calendar | None],
        day0: int,
        n_days: int,
        max_run: int,
        closed: frozenset[int] = frozenset(),
    ):
        n = len(rows)
        is_open = np.zeros((n, n_days), dtype=bool)
        for row, cal in zip(rows, calendars, strict=True):
            if cal is not None and cal.days:
                is_open[row, np.asarray(cal.days, dtype=np.int64) - day0] = True
        # Day-major (transposed) so that one day's column over all workplaces is contiguous.
        self.count = np.zeros((n_days + 1, n), dtype=np.int32)
        np.cumsum(is_open.T, axis=0, out=self.count[1:])
        ordinals = day0 + np.arange(n_days)
        working = ((ordinals - 1) % 7 < 5) & ~np.isin(ordinals, list(closed))
        next_index = np.array([next_working_day(int(d), closed) - day0 for d in ordinals], dtype=np.int64)
        next_index = np.minimum(next_index, n_days)
        # run_end[k][w, d]: index of the last day of a run of k consecutive open working days from d
        self.run_end: dict[int, np.ndarray] = {}
        start_ok = is_open & working
        end = np.where(start_ok, np.arange(n_days, dtype=np.int32), _BIG).astype(np.int32)
        for k in range(2, max_run + 1):
            padded = np.concatenate([end, np.full((n, 1), _BIG, dtype=np.int32)], axis=1)
            end = np.where(start_ok, padded[:, next_index], _BIG).astype(np.int32)
            self.run_end[k] = np.ascontiguousarray(end.T)

    def fits(self, rows: np.ndarray, r: RequestSpec, windows: list[tuple[int, int]], day0: int) -> np.ndarray:
        ok = np.zeros(len(rows), dtype=bool)
        n_days = self.count.shape[0] - 1
        for a, b in windows:
            lo, hi = max(a - day0, 0), min(b - day0, n_days - 1)
            if lo > hi:
                continue
            if r.consecutive and r.days > 1:
                ends = self.run_end[r.days][lo : hi + 1]
                ok |= ends.min(axis=0)[rows] <= hi
            else:
                ok |= (self.count[hi + 1] - self.count[lo])[rows] >= r.days
        return ok


class _Grid:
    """Workplaces as arrays (organisation, topics, languages) and their open days as matrices."""

    def __init__(
        self,
        workplaces: dict[int, WorkplaceSpec],
        open_cal: dict[int, _Calendar],
        any_cal: dict[int, _Calendar],
        max_run: int,
        closed: frozenset[int] = frozenset(),
    ) -> None:
        ordered = sorted(workplaces)
        self.ids = np.asarray(ordered, dtype=np.int64)
        self.organisation = np.asarray([workplaces[w].organisation for w in ordered], dtype=np.int64)
        self.own = np.asarray(
            [w.organisation if w.own is None else w.own for w in (workplaces[i] for i in ordered)],
            dtype=np.int64,
        )
        n = len(ordered)
        self.topic: dict[int, np.ndarray] = defaultdict(lambda: np.zeros(n, dtype=bool))
        self.language: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n, dtype=bool))
        self.no_language = np.zeros(n, dtype=bool)
        for row, wid in enumerate(ordered):
            w = workplaces[wid]
            for t in w.topics:
                self.topic[t][row] = True
            for lang in w.languages:
                self.language[lang][row] = True
            if not w.languages:
                self.no_language[row] = True
        all_days = [d for cal in any_cal.values() for d in cal.days]
        self.day0 = min(all_days, default=0)
        n_days = max(all_days, default=-1) - self.day0 + 1
        rows = list(range(n))
        self.open = _Days(rows, [open_cal.get(w) for w in ordered], self.day0, n_days, max_run, closed)
        self._any_args = (rows, [any_cal.get(w) for w in ordered], self.day0, n_days, max_run, closed)
        self._any: _Days | None = None
        self._match_cache: dict[tuple[frozenset[int], frozenset[str]], np.ndarray] = {}

    def matching(self, r: RequestSpec) -> np.ndarray:
        """Workplaces offering a requested topic and sharing a language (before the organisation rule)."""
        key = (r.topics, r.languages)
        mask = self._match_cache.get(key)
        if mask is None:
            n = len(self.ids)
            mask = np.ones(n, dtype=bool)
            if r.topics:
                mask = np.zeros(n, dtype=bool)
                for t in r.topics:
                    if t in self.topic:
                        mask |= self.topic[t]
            if r.languages:
                spoken = self.no_language.copy()
                for lang in r.languages:
                    if lang in self.language:
                        spoken |= self.language[lang]
                mask &= spoken
            self._match_cache[key] = mask
        return mask

    def allowed(self, r: RequestSpec, partner_organisation: int | None) -> np.ndarray:
        mask = self.matching(r)
        mask = mask & (self.own != r.own_key)
        if partner_organisation is not None:
            mask &= self.organisation == partner_organisation
        return mask

    def candidates(
        self, r: RequestSpec, windows: list[tuple[int, int]], partner_organisation: int | None
    ) -> np.ndarray:
        """Rows of the workplaces where the request has at least one option."""
        if not windows or r.days < 1:
            return np.zeros(0, dtype=np.int64)
        rows = np.flatnonzero(self.allowed(r, partner_organisation))
        return rows[self.open.fits(rows, r, windows, self.day0)]

    def reason(self, r: RequestSpec, windows: list[tuple[int, int]], partner_organisation: int | None) -> str:
        """Why the request has no option (called only for those)."""
        if self._any is None:
            self._any = _Days(*self._any_args)
        allowed = np.flatnonzero(self.allowed(r, partner_organisation))
        own = (
            np.flatnonzero(self.matching(r) & (self.own == r.own_key))
            if partner_organisation is None  # a pair visits each other: the own organisation is no excuse
            else np.zeros(0, dtype=np.int64)
        )
        if not len(allowed):
            return REASON_ONLY_OWN_ORGANISATION if len(own) else REASON_NO_MATCHING_TOPIC_OR_LANGUAGE
        if r.days >= 1 and self._any.fits(allowed, r, windows, self.day0).any():
            return REASON_ALL_FULL
        if len(own) and r.days >= 1 and self.open.fits(own, r, windows, self.day0).any():
            return REASON_ONLY_OWN_ORGANISATION
        if r.days > 1:
            # Not the whole request: is it the number of days, or that they are not in a row?
            if (
                r.consecutive
                and self._any.fits(allowed, replace(r, consecutive=False), windows, self.day0).any()
            ):
                return REASON_NO_CONSECUTIVE_DAYS
            if self._any.fits(allowed, replace(r, days=1, consecutive=False), windows, self.day0).any():
                return REASON_TOO_FEW_DAYS
        return REASON_NO_SLOT_IN_WINDOW
