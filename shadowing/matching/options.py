"""Feasible options of a shadowing match, their preference scores, and why a request has none.

An *option* places one request at one workplace on concrete slots (one slot per visit day). It is
feasible when:

- the workplace belongs to another organisation than the requester's;
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

At most ``max_options_per_request`` options are kept per request, best scores first, and at most
``max_options_per_workplace`` per workplace (spread evenly over the possible start days), so that a
request keeps alternatives at several workplaces. Non-preferred workplaces are visited in an order that
differs between requests (a hash of the request id), so that the cap does not send every request to the
same few workplaces.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

REASON_NO_SLOT_IN_WINDOW = "no_slot_in_window"
REASON_ALL_FULL = "all_full"
REASON_ONLY_OWN_ORGANISATION = "only_own_organisation"
REASON_NO_MATCHING_TOPIC_OR_LANGUAGE = "no_matching_topic_or_language"
REASON_PARTNER_NOT_PLACED = "partner_not_placed"
REASONS = (
    REASON_NO_SLOT_IN_WINDOW,
    REASON_ALL_FULL,
    REASON_ONLY_OWN_ORGANISATION,
    REASON_NO_MATCHING_TOPIC_OR_LANGUAGE,
    REASON_PARTNER_NOT_PLACED,
)

WORKPLACE_RANK_SCORE = {1: 10.0, 2: 9.0, 3: 8.0, 4: 7.0, 5: 6.0}
ORGANISATION_RANK_SCORE = {1: 5.0, 2: 4.0, 3: 3.0, 4: 2.0, 5: 1.0}
OTHER_WORKPLACE_SCORE = 0.5
MAX_SCORE = max(WORKPLACE_RANK_SCORE.values())

DEFAULT_MAX_OPTIONS_PER_REQUEST = 20
DEFAULT_MAX_OPTIONS_PER_WORKPLACE = 5
# Different slots of one workplace on the same day (morning and afternoon) multiply the options of a
# multi-day request; a few combinations per day sequence are enough.
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


@dataclass(frozen=True, slots=True)
class Option:
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
    # Per-day caps of workplaces that offer several slots on one day: (slot ids, seats) where the sum
    # over those slots may not exceed the seats. (With one slot a day the cap is folded into capacity.)
    day_caps: list[tuple[tuple[int, ...], int]] = field(default_factory=list)
    # Requests that have no feasible option, with the reason code.
    unplaced: dict[int, str] = field(default_factory=dict)


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


def weekday(ordinal: int) -> int:
    """Monday is 0, like `date.weekday`, for a proleptic Gregorian ordinal."""
    return (ordinal - 1) % 7


def next_working_day(ordinal: int) -> int:
    wd = weekday(ordinal)
    if wd >= 4:  # Friday, Saturday, Sunday -> Monday
        return ordinal + 7 - wd
    return ordinal + 1


def preference_score(request: RequestSpec, workplace: int, organisation: int) -> float:
    score = OTHER_WORKPLACE_SCORE
    rank = request.preferred_workplaces.get(workplace)
    if rank is not None:
        score = max(score, WORKPLACE_RANK_SCORE.get(rank, WORKPLACE_RANK_SCORE[5]))
    rank = request.preferred_organisations.get(organisation)
    if rank is not None:
        score = max(score, ORGANISATION_RANK_SCORE.get(rank, ORGANISATION_RANK_SCORE[5]))
    return score


def _topic_language_ok(request: RequestSpec, workplace: WorkplaceSpec) -> bool:
    if request.topics and not (request.topics & workplace.topics):
        return False
    return not (request.languages and workplace.languages and not (request.languages & workplace.languages))


class _Calendar:
    """Open days of one workplace: sorted ordinals, and the slots per day."""

    __slots__ = ("days", "slots")

    def __init__(self) -> None:
        self.days: list[int] = []
        self.slots: dict[int, tuple[int, ...]] = {}

    def sequences(self, request: RequestSpec, windows: list[tuple[int, int]]) -> list[tuple[int, ...]]:
        """Day sequences (ordinals) this workplace can offer the request, earliest first."""
        days, k = self.days, request.days
        found: list[tuple[int, ...]] = []
        for start, end in windows:
            lo = bisect.bisect_left(days, start)
            hi = bisect.bisect_right(days, end)
            if hi - lo < k:
                continue
            if k == 1:
                found.extend((d,) for d in days[lo:hi])
            elif request.consecutive:
                open_days = self.slots
                for d in days[lo:hi]:
                    if weekday(d) >= 5:
                        continue
                    seq = [d]
                    cur = d
                    for _ in range(k - 1):
                        cur = next_working_day(cur)
                        if cur > end or cur not in open_days:
                            break
                        seq.append(cur)
                    if len(seq) == k:
                        found.append(tuple(seq))
            else:
                found.extend(tuple(days[t : t + k]) for t in range(lo, hi - k + 1))
        if len(windows) > 1:
            found = sorted(set(found))
        return found


def _spread(items: list[tuple[int, ...]], limit: int) -> list[tuple[int, ...]]:
    if len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def _round_robin(lists: list[list[int]], seed: int) -> Iterator[int]:
    """Yield the elements of several lists interleaved, each list from an offset depending on `seed`."""
    iters = []
    for n, items in enumerate(lists):
        if items:
            offset = (seed * 2654435761 + n * 40503) % len(items)
            iters.append(itertools.chain(items[offset:], items[:offset]))
    while iters:
        alive = []
        for it in iters:
            item = next(it, None)
            if item is not None:
                yield item
                alive.append(it)
        iters = alive


def build_problem(
    requests: Iterable[RequestSpec],
    workplaces: Iterable[WorkplaceSpec],
    slots: Iterable[SlotSpec],
    *,
    fairness_weight: float = 1.0,
    max_options_per_request: int = DEFAULT_MAX_OPTIONS_PER_REQUEST,
    max_options_per_workplace: int = DEFAULT_MAX_OPTIONS_PER_WORKPLACE,
) -> Problem:
    """Enumerate the feasible options of every request (see the module docstring for the rules)."""
    request_by_id = {r.id: r for r in requests}
    workplace_by_id = {w.id: w for w in workplaces}

    by_day: dict[int, dict[int, list[SlotSpec]]] = defaultdict(lambda: defaultdict(list))
    for s in slots:
        if s.workplace in workplace_by_id:
            by_day[s.workplace][s.day.toordinal()].append(s)

    capacity: dict[int, int] = {}
    day_caps: list[tuple[tuple[int, ...], int]] = []
    open_cal: dict[int, _Calendar] = {}
    any_cal: dict[int, _Calendar] = {}  # every day with a slot, full or not (for the diagnosis)
    for wid, days in by_day.items():
        cap = workplace_by_id[wid].max_per_day
        cal, every = _Calendar(), _Calendar()
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
        any_cal[wid] = every
        if cal.days:
            open_cal[wid] = cal

    # Workplaces with open days, by (topic, week) and (organisation, week): the candidates of a request
    # are found through the weeks its windows touch, not by scanning every workplace.
    any_topic = -1
    by_topic_week: dict[tuple[int, int], list[int]] = defaultdict(list)
    by_org_week: dict[tuple[int, int], list[int]] = defaultdict(list)
    for wid in sorted(open_cal):
        w = workplace_by_id[wid]
        for week in sorted({(d - 1) // 7 for d in open_cal[wid].days}):
            by_topic_week[(any_topic, week)].append(wid)
            by_org_week[(w.organisation, week)].append(wid)
            for t in w.topics:
                by_topic_week[(t, week)].append(wid)

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
        found = _options_for(
            r,
            windows,
            workplace_by_id,
            open_cal,
            by_topic_week,
            by_org_week,
            partner_org.get(r.id),
            max_options_per_request,
            max_options_per_workplace,
        )
        if found:
            per_request[r.id] = found
        else:
            unplaced[r.id] = _diagnose(r, windows, workplace_by_id, open_cal, any_cal, partner_org.get(r.id))

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

    return Problem(
        options=options,
        capacity=capacity,
        requests=request_by_id,
        pairs=kept_pairs,
        fairness_weight=fairness_weight,
        day_caps=day_caps,
        unplaced=unplaced,
    )


def _options_for(
    r: RequestSpec,
    windows: list[tuple[int, int]],
    workplace_by_id: dict[int, WorkplaceSpec],
    open_cal: dict[int, _Calendar],
    by_topic_week: dict[tuple[int, int], list[int]],
    by_org_week: dict[tuple[int, int], list[int]],
    partner_organisation: int | None,
    max_options: int,
    max_per_workplace: int,
) -> list[Option]:
    if not windows or r.days < 1:
        return []
    weeks = sorted({wk for a, b in windows for wk in range((a - 1) // 7, (b - 1) // 7 + 1)})
    found: list[Option] = []
    seen: set[int] = set()

    def add(wid: int) -> bool:
        """Add the workplace's options; False once the request has enough."""
        if wid in seen:
            return True
        seen.add(wid)
        w = workplace_by_id.get(wid)
        cal = open_cal.get(wid)
        if w is None or cal is None or w.organisation == r.organisation:
            return True
        if partner_organisation is not None and w.organisation != partner_organisation:
            return True
        if not _topic_language_ok(r, w):
            return True
        seqs = cal.sequences(r, windows)
        if not seqs:
            return True
        score = preference_score(r, wid, w.organisation)
        budget = min(max_per_workplace, max_options - len(found))
        for seq in _spread(seqs, budget):
            for combo in itertools.islice(
                itertools.product(*(cal.slots[d] for d in seq)), MAX_SLOT_COMBINATIONS
            ):
                found.append(Option(r.id, wid, w.organisation, combo, score))
                budget -= 1
                if budget == 0:
                    break
            if budget == 0:
                break
        return len(found) < max_options

    for wid, _rank in sorted(r.preferred_workplaces.items(), key=lambda kv: (kv[1], kv[0])):
        if not add(wid):
            return found
    orgs = sorted(r.preferred_organisations.items(), key=lambda kv: (kv[1], kv[0]))
    for org, _rank in orgs:
        if partner_organisation is not None and org != partner_organisation:
            continue
        for wid in _round_robin([by_org_week.get((org, wk), []) for wk in weeks], r.id):
            if not add(wid):
                return found
    if partner_organisation is not None:
        lists = [by_org_week.get((partner_organisation, wk), []) for wk in weeks]
    else:
        topics = sorted(r.topics) if r.topics else [-1]
        lists = [by_topic_week.get((t, wk), []) for t in topics for wk in weeks]
    for wid in _round_robin(lists, r.id):
        if not add(wid):
            return found
    return found


def _diagnose(
    r: RequestSpec,
    windows: list[tuple[int, int]],
    workplace_by_id: dict[int, WorkplaceSpec],
    open_cal: dict[int, _Calendar],
    any_cal: dict[int, _Calendar],
    partner_organisation: int | None,
) -> str:
    """Why the request has no option (only called for those; scans every workplace)."""
    others_match = own_match = False
    others_slots = own_open = False
    for w in workplace_by_id.values():
        if partner_organisation is not None and w.organisation != partner_organisation:
            continue  # a pair visits each other: other organisations do not count
        if not _topic_language_ok(r, w):
            continue
        cal = any_cal.get(w.id)
        if w.organisation == r.organisation:
            own_match = True
            ocal = open_cal.get(w.id)
            if ocal is not None and windows and ocal.sequences(r, windows):
                own_open = True
        else:
            others_match = True
            if cal is not None and windows and cal.sequences(r, windows):
                others_slots = True
    if others_slots:
        return REASON_ALL_FULL
    if own_open or (own_match and not others_match):
        return REASON_ONLY_OWN_ORGANISATION
    if not others_match:
        return REASON_NO_MATCHING_TOPIC_OR_LANGUAGE
    return REASON_NO_SLOT_IN_WINDOW
