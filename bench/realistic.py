"""Programmes shaped like real ones for the matcher, and a feasibility checker that shares no code with it.

Shapes (deterministic for a seed): eight agencies, one with 40 % of the staff (and of the workplaces);
workplaces chosen by Zipf popularity (a few are everyone's first choice); twelve weeks from a Monday, with
most people free in the same three weeks (weeks 4-6; one in four elsewhere); requests of one, two or three
days (60 / 30 / 10 %, half of the multi-day ones consecutive); 5 % in reciprocal pairs (two people of
different agencies visiting each other). Each workplace opens two to four fixed weekdays a week, one slot a
day (one in ten has a morning and an afternoon slot under a per-day cap).

Variants: ``normal`` (seat-days about 1.3 x the days asked for), ``tight`` (demand 3 x supply) and
``ties`` (as normal, but nobody names a preference, so every option scores the same).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from shadowing.matching.options import RequestSpec, SlotSpec, WorkplaceSpec

START = date(2027, 3, 1)  # a Monday
WEEKS = 12
AGENCIES = 8
TOPICS = 6
VARIANTS = ("normal", "tight", "ties")


def _zipf_weights(n: int, exponent: float = 1.1) -> list[float]:
    return [1.0 / (rank**exponent) for rank in range(1, n + 1)]


def programme(
    n_requests: int, variant: str = "normal", seed: int = 1
) -> tuple[list[RequestSpec], list[WorkplaceSpec], list[SlotSpec]]:
    rng = random.Random(seed)
    staff_share = [0.4] + [0.6 / (AGENCIES - 1)] * (AGENCIES - 1)
    n_workplaces = max(40, n_requests // 20)
    workplaces = []
    for wid in range(1, n_workplaces + 1):
        org = rng.choices(range(AGENCIES), weights=staff_share)[0]
        topics = frozenset(rng.sample(range(TOPICS), rng.randint(2, 4)))
        workplaces.append(WorkplaceSpec(wid, org, topics, frozenset(), 2))
    popularity = _zipf_weights(n_workplaces)
    rng.shuffle(popularity)

    days_wanted = [rng.choices((1, 2, 3), weights=(60, 30, 10))[0] for _ in range(n_requests)]
    demand = sum(days_wanted)
    supply_target = demand * (1 / 3 if variant == "tight" else 1.3)
    # Each workplace opens k weekdays a week with c seats; scale the seats to the target supply.
    patterns = [sorted(rng.sample(range(5), rng.randint(2, 4))) for _ in workplaces]
    seat_days = sum(len(p) for p in patterns) * WEEKS
    per_day = max(supply_target / seat_days, 0.2)
    slots: list[SlotSpec] = []
    for w, pattern in zip(workplaces, patterns, strict=True):
        two = rng.random() < 0.1
        for week in range(WEEKS):
            for wd in pattern:
                seats = int(per_day) + (1 if rng.random() < per_day - int(per_day) else 0)
                if seats <= 0:
                    continue
                day = START + timedelta(days=7 * week + wd)
                if two:
                    for _ in range(2):
                        slots.append(SlotSpec(len(slots) + 1, w.id, w.organisation, day, seats))
                else:
                    slots.append(SlotSpec(len(slots) + 1, w.id, w.organisation, day, seats))
    max_per_day = {w.id: 2 for w in workplaces}
    seats_on: dict[tuple[int, date], int] = defaultdict(int)
    for s in slots:
        seats_on[(s.workplace, s.day)] += s.free
    for (wid, _day), seats in seats_on.items():
        max_per_day[wid] = max(max_per_day[wid], seats)
    # a per-day cap below the sum where there are two slots a day
    workplaces = [
        WorkplaceSpec(w.id, w.organisation, w.topics, w.languages, max(1, max_per_day[w.id] * 3 // 4))
        for w in workplaces
    ]

    requests: list[RequestSpec] = []
    submitted = datetime(2027, 1, 4, 8, tzinfo=UTC)
    ids = [w.id for w in workplaces]
    for rid in range(1, n_requests + 1):
        org = rng.choices(range(AGENCIES), weights=staff_share)[0]
        first = rng.randint(3, 5) if rng.random() < 0.75 else rng.randint(0, WEEKS - 1)
        length = rng.randint(1, 3)
        last = min(WEEKS - 1, first + length - 1)
        windows = [(START + timedelta(days=7 * first), START + timedelta(days=7 * last + 4))]
        if rng.random() < 0.2:
            extra = rng.randint(0, WEEKS - 1)
            windows.append((START + timedelta(days=7 * extra), START + timedelta(days=7 * extra + 4)))
        preferred_workplaces: dict[int, int] = {}
        preferred_organisations: dict[int, int] = {}
        if variant != "ties":
            for rank in range(1, rng.randint(1, 3) + 1):
                wid = rng.choices(ids, weights=popularity)[0]
                preferred_workplaces.setdefault(wid, rank)
            if rng.random() < 0.3:
                preferred_organisations[rng.randrange(AGENCIES)] = 1
        k = days_wanted[rid - 1]
        requests.append(
            RequestSpec(
                id=rid,
                organisation=org,
                days=k,
                consecutive=k > 1 and rng.random() < 0.5,
                windows=tuple(windows),
                topics=frozenset({rng.randrange(TOPICS)}) if rng.random() < 0.5 else frozenset(),
                languages=frozenset(),
                preferred_workplaces=preferred_workplaces,
                preferred_organisations=preferred_organisations,
                partner=None,
                submitted_at=submitted + timedelta(seconds=37 * rid + rng.randint(0, 30)),
            )
        )
    # 5 % in reciprocal pairs: consecutive requests of different agencies.
    paired = 0
    i = 0
    while paired < n_requests * 0.05 and i + 1 < n_requests:
        a, b = requests[i], requests[i + 1]
        if a.organisation != b.organisation:
            requests[i] = RequestSpec(**{**_fields(a), "partner": b.id})
            requests[i + 1] = RequestSpec(**{**_fields(b), "partner": a.id})
            paired += 2
        i += 20
    return requests, workplaces, slots


def _fields(r: RequestSpec) -> dict[str, object]:
    return {name: getattr(r, name) for name in RequestSpec.__dataclass_fields__}


def check(
    requests: list[RequestSpec],
    workplaces: list[WorkplaceSpec],
    slots: list[SlotSpec],
    chosen: dict[int, tuple[int, tuple[int, ...], float]],
) -> tuple[list[str], float]:
    """Problems with a proposal {request: (workplace, slot ids, score)} under the rules, re-derived from
    the programme alone (no holidays here), and its objective without the fairness term."""
    problems: list[str] = []
    request_of = {r.id: r for r in requests}
    workplace_of = {w.id: w for w in workplaces}
    slot_of = {s.id: s for s in slots}
    open_days: dict[int, set[date]] = defaultdict(set)
    for s in slots:
        if s.free > 0:
            open_days[s.workplace].add(s.day)
    used: dict[int, int] = defaultdict(int)
    per_day: dict[tuple[int, date], int] = defaultdict(int)
    total = 0.0
    for rid, (wid, sids, score) in chosen.items():
        r, w = request_of.get(rid), workplace_of.get(wid)
        if r is None or w is None:
            problems.append(f"{rid}: unknown request or workplace")
            continue
        days = [slot_of[s].day for s in sids]
        if any(slot_of[s].workplace != wid for s in sids) or len(days) != r.days:
            problems.append(f"{rid}: slots not of the workplace or wrong number of days")
        if days != sorted(set(days)):
            problems.append(f"{rid}: days not distinct and in order")
        if w.organisation == r.organisation:
            problems.append(f"{rid}: own organisation")
        if r.partner is not None and w.organisation != request_of[r.partner].organisation:
            problems.append(f"{rid}: not at the partner's organisation")
        if r.partner is not None and r.partner not in chosen:
            problems.append(f"{rid}: partner not placed")
        if r.topics and not (r.topics & w.topics):
            problems.append(f"{rid}: no requested topic")
        if not any(a <= days[0] and days[-1] <= b for a, b in r.windows):
            problems.append(f"{rid}: outside every window")
        if r.consecutive:
            for d1, d2 in zip(days, days[1:], strict=False):
                step = 3 if d1.weekday() == 4 else 1
                if d1.weekday() >= 5 or d2 != d1 + timedelta(days=step):
                    problems.append(f"{rid}: days not consecutive working days")
        else:
            between = [d for d in open_days[wid] if days[0] < d < days[-1] and d not in days]
            if between:
                problems.append(f"{rid}: skips an open day of the workplace")
        expected = 0.5
        if wid in r.preferred_workplaces:
            expected = 11.0 - r.preferred_workplaces[wid]
        if w.organisation in r.preferred_organisations:
            expected = max(expected, 6.0 - r.preferred_organisations[w.organisation])
        if abs(score - expected) > 1e-9:
            problems.append(f"{rid}: score {score} where the rules give {expected}")
        total += 1000.0 + expected
        for s in sids:
            used[s] += 1
            per_day[(wid, slot_of[s].day)] += 1
    for s, n in used.items():
        if n > slot_of[s].free:
            problems.append(f"slot {s}: {n} visitors for {slot_of[s].free} seats")
    for (wid, _day), n in per_day.items():
        if n > workplace_of[wid].max_per_day:
            problems.append(f"workplace {wid}: {n} visitors on one day, cap {workplace_of[wid].max_per_day}")
    return problems, total
