"""From fractional to whole: taking options in an order, filling what is left, repairing by single moves
and placing more people along augmenting paths (the method is described in ``shadowing.matching.solver``).

Each step changes a ``Seats`` book and an assignment (request row -> option column, or -1) in place, and
stops at its deadline.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np

from shadowing.matching.model import Model, Seats


def take_in_order(
    m: Model, seats: Seats, assign: list[int], order: list[int], partner_order: list[list[int]]
) -> None:
    """Take options in `order` when they fit; a pair only together with a fitting option of the partner."""
    option_request = m.option_request
    for j in order:
        r = int(option_request[j])
        if assign[r] >= 0 or not seats.fits(j):
            continue
        p = m.partner[r]
        if p < 0:
            seats.take(j)
            assign[r] = j
            continue
        seats.take(j)
        for q in partner_order[p]:
            if seats.fits(q):
                seats.take(q)
                assign[r] = j
                assign[p] = q
                break
        else:
            seats.give_back(j)


def repair(m: Model, seats: Seats, assign: list[int], deadline: float) -> None:
    """Let an unplaced person in by moving one placed person (neither in a pair) to another option."""
    holders: dict[int, set[int]] = {}
    for r, j in enumerate(assign):
        if j >= 0:
            for s in m.option_slots[j]:
                holders.setdefault(s, set()).add(r)
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        for u, j_u in enumerate(assign):
            if j_u >= 0 or m.partner[u] >= 0:
                continue
            if time.monotonic() > deadline:
                return
            for j in m.request_options[u]:
                blocked = [s for s in m.option_slots[j] if seats.slot[s] <= 0]
                if not blocked or any(m.slot_group[s] >= 0 for s in m.option_slots[j]):
                    continue  # a free option would have been taken; day caps are left to the MIP
                movers = set.intersection(*(holders.get(s, set()) for s in blocked))
                done = False
                for q in movers:
                    if m.partner[q] >= 0:
                        continue
                    j_q = assign[q]
                    seats.give_back(j_q)
                    if not seats.fits(j):
                        seats.take(j_q)
                        continue
                    seats.take(j)
                    for k in m.request_options[q]:
                        if k != j_q and seats.fits(k):
                            seats.take(k)
                            for s in m.option_slots[j_q]:
                                holders[s].discard(q)
                            for s in m.option_slots[k]:
                                holders.setdefault(s, set()).add(q)
                            for s in m.option_slots[j]:
                                holders.setdefault(s, set()).add(u)
                            assign[q] = k
                            assign[u] = j
                            done = True
                            break
                    if done:
                        break
                    seats.give_back(j)
                    seats.take(j_q)
                if done:
                    improved = True
                    break


def room(m: Model, seats: Seats, s: int) -> bool:
    """Whether slot row `s` (and its day cap) has a free seat."""
    if seats.slot[s] <= 0:
        return False
    g = m.slot_group[s]
    return g < 0 or seats.group[g] > 0


def augment(m: Model, seats: Seats, assign: list[int], deadline: float) -> None:
    """Place unplaced people along augmenting paths, as in bipartite matching.

    A path frees a seat in a full slot: a person holding it moves to another of their options. When
    that option needs a seat in one more slot than their current one, the seat is either free (the
    path ends) or is freed in turn the same way; when it needs none (or several free ones), the path
    ends there. Along a path every slot gains one visitor and loses one, so only its last slot needs
    room. An option over several days frees each full slot by a path of its own, and is taken only when
    all of them are found; otherwise the moves are undone. A path is taken only when it raises the
    objective (one more person placed, net of the preference points the movers lose). Pair members
    stay where they are. Where every request needs one day, a search that finds no path proves that
    nobody more can be placed.

    Searches run in phases; within a phase, slots from which a search found no path are not searched
    again, and the phases repeat until one places nobody.
    """
    value = m.value.tolist()
    option_slots = m.option_slots
    holders: dict[int, set[int]] = {}
    for r, j in enumerate(assign):
        if j >= 0 and m.partner[r] < 0:
            for s in option_slots[j]:
                holders.setdefault(s, set()).add(r)

    def move(q: int, k: int) -> bool:
        j_q = assign[q]
        seats.give_back(j_q)
        if not seats.fits(k):
            seats.take(j_q)
            return False
        seats.take(k)
        for s in option_slots[j_q]:
            holders[s].discard(q)
        for s in option_slots[k]:
            holders.setdefault(s, set()).add(q)
        assign[q] = k
        return True

    def path_from(start: int, avoid: set[int], dead: set[int]) -> list[tuple[int, int]] | None:
        """Breadth-first search for moves (person, new option) that free a seat in slot `start`, the
        move into a free seat first."""
        parent: dict[int, tuple[int, int, int] | None] = {start: None}
        queue = deque([start])
        popped = 0
        while queue:
            popped += 1
            if popped % 1024 == 0 and time.monotonic() > deadline:
                return None  # a search over a very large programme stops at the deadline too
            s = queue.popleft()
            for q in holders.get(s, ()):
                held = option_slots[assign[q]]
                for k in m.request_options[q]:
                    days = option_slots[k]
                    if s in days:
                        continue
                    need = [t for t in days if t not in held]
                    if len(need) > 1 or (need and need[0] in avoid):
                        if all(room(m, seats, t) and t not in avoid for t in need):
                            end: list[tuple[int, int]] = [(q, k)]
                            return end + path_back(parent, s)
                        continue
                    if not need or room(m, seats, need[0]):
                        return [(q, k)] + path_back(parent, s)
                    t = need[0]
                    if t in parent or t in dead:
                        continue
                    parent[t] = (s, q, k)
                    queue.append(t)
        dead.update(parent)
        return None

    while time.monotonic() < deadline:
        dead: set[int] = set()
        placed = 0
        waiting = [u for u, j in enumerate(assign) if j < 0 and m.partner[u] < 0 and m.request_options[u]]
        waiting.sort(key=lambda u: -value[m.request_options[u][0]])
        for u in waiting:
            if time.monotonic() > deadline:
                return
            for j in m.request_options[u]:
                days = set(option_slots[j])
                full = [s for s in option_slots[j] if not room(m, seats, s)]
                if any(s in dead for s in full):
                    continue
                moved: list[tuple[int, int]] = []  # (person, option before the move)
                gain = value[j]
                found = True
                for s in full:
                    path = path_from(s, days, dead)
                    if path is None:
                        found = False
                        break
                    for q, k in path:
                        before = assign[q]
                        if not move(q, k):
                            found = False
                            break
                        gain += value[k] - value[before]
                        moved.append((q, before))
                    if not found:
                        break
                if found and gain > 0 and seats.fits(j):
                    seats.take(j)
                    assign[u] = j
                    for s in days:
                        holders.setdefault(s, set()).add(u)
                    placed += 1
                    break
                for q, k in reversed(moved):
                    move(q, k)
        if not placed:
            return


def path_back(parent: dict[int, tuple[int, int, int] | None], s: int) -> list[tuple[int, int]]:
    """The moves that led the search to slot `s`, nearest first."""
    path = []
    link = parent[s]
    while link is not None:
        s_prev, q_prev, k_prev = link
        path.append((q_prev, k_prev))
        link = parent[s_prev]
    return path


def improve(m: Model, seats: Seats, assign: list[int], deadline: float) -> None:
    """Repair (single moves), then augmenting paths."""
    repair(m, seats, assign, deadline)
    augment(m, seats, assign, deadline)


def fill(m: Model, seats: Seats, assign: list[int]) -> None:
    """The unplaced requests take what is left, best-valued options first."""
    rest = [j for j in np.argsort(-m.value, kind="stable").tolist() if assign[int(m.option_request[j])] < 0]
    take_in_order(m, seats, assign, rest, m.request_options)
