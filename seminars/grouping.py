"""Forming mixed discussion groups for a kick-off conference: plain data in, plain data out (no Django).

The algorithm ("deal the cards"):

1. Put the participants in one line, organisation by organisation, the largest organisation first (ties by
   organisation key); within an organisation in the caller's order.
2. Deal the line into ``k`` groups like cards: the participant at position ``p`` goes to group ``p mod k``,
   where ``k = ceil(n / group_size)``.

What this guarantees (tested in ``tests/seminars/test_grouping.py``):

- **Sizes**: any two groups differ in size by at most one.
- **No organisation crowds a group**: an organisation with ``m`` participants has ``floor(m / k)`` or
  ``ceil(m / k)`` of them in every group, which is the fewest possible for its largest share. Its members
  sit in a contiguous stretch of the line, and a stretch of length ``m`` meets every residue class mod ``k``
  ``floor(m / k)`` or ``ceil(m / k)`` times.
- **As many organisations as possible**: an organisation with ``m >= k`` participants is in every group; one
  with ``m < k`` is in exactly ``m`` groups (never twice in one). The total number of (group, organisation)
  pairs is therefore ``sum(min(m, k))``, the largest any grouping can reach.
- **Mixing is spread evenly**: the organisations with fewer than ``k`` participants come last in the line,
  so their stretches tile the circle of groups end to end and cover every group ``floor(L / k)`` or
  ``ceil(L / k)`` times (``L`` = their participants in all). Hence any two groups differ by at most one in
  the number of organisations they contain.

It is deterministic (the same input gives the same groups), linear in the number of participants, and
needs no solver: for this objective the greedy deal is already optimal.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)
Org = TypeVar("Org", bound=Hashable)


@dataclass(frozen=True)
class Participant(Generic[P, Org]):
    key: P
    organisation: Org


def group_count(participants: int, group_size: int) -> int:
    """How many groups of about ``group_size`` people ``participants`` people make (at least one)."""
    if group_size < 2:
        raise ValueError("A discussion group needs room for at least two people.")
    return max(1, math.ceil(participants / group_size))


def form_groups(
    participants: Sequence[Participant[P, Org]], group_size: int
) -> list[list[Participant[P, Org]]]:
    """Split participants into mixed groups of about ``group_size`` (see the module docstring)."""
    if not participants:
        return []
    keys = [p.key for p in participants]
    if len(set(keys)) != len(keys):
        raise ValueError("Each participant may appear only once.")
    k = group_count(len(participants), group_size)
    by_organisation: dict[Org, list[Participant[P, Org]]] = defaultdict(list)
    for participant in participants:
        by_organisation[participant.organisation].append(participant)
    order = sorted(by_organisation, key=lambda org: (-len(by_organisation[org]), str(org)))
    line = [participant for org in order for participant in by_organisation[org]]
    groups: list[list[Participant[P, Org]]] = [[] for _ in range(k)]
    for position, participant in enumerate(line):
        groups[position % k].append(participant)
    return groups


@dataclass(frozen=True)
class GroupingSummary:
    """Figures that show how mixed a grouping is, for the coordinators' page and the tests."""

    groups: int
    smallest: int
    largest: int
    fewest_organisations: int
    most_organisations: int
    largest_share: float  # the largest fraction of one group that comes from one organisation


def summarise(groups: Sequence[Sequence[Participant[P, Org]]]) -> GroupingSummary:
    if not groups or not any(groups):
        return GroupingSummary(0, 0, 0, 0, 0, 0.0)
    sizes = [len(g) for g in groups]
    organisations = [len({p.organisation for p in g}) for g in groups]
    shares = [max(Counter(p.organisation for p in g).values()) / len(g) for g in groups if g]
    return GroupingSummary(
        groups=len(groups),
        smallest=min(sizes),
        largest=max(sizes),
        fewest_organisations=min(organisations),
        most_organisations=max(organisations),
        largest_share=max(shares),
    )
