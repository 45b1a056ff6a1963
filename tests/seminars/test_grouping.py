from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seminars.grouping import Participant, form_groups, group_count, summarise


def _people(sizes: dict[str, int]) -> list[Participant]:
    return [Participant(f"{org}-{i}", org) for org, n in sizes.items() for i in range(n)]


KICKOFF = {"MV": 22, "Malmö stad": 30, "AF": 18, "Region Skåne": 14, "Röda korset": 9, "MAU": 7}


def test_kickoff_of_100_people_from_six_organisations_is_mixed():
    people = _people(KICKOFF)
    assert len(people) == 100

    groups = form_groups(people, group_size=8)
    summary = summarise(groups)

    assert summary.groups == 13
    assert (summary.smallest, summary.largest) == (7, 8)
    # Every organisation with at least 13 people is in every group; the smaller ones spread one per group.
    assert (summary.fewest_organisations, summary.most_organisations) == (5, 6)
    # Malmö stad, the largest organisation (30 people over 13 groups), has at most 3 in a group of 8.
    assert summary.largest_share == pytest.approx(3 / 8)
    assert all(max(Counter(p.organisation for p in g).values()) <= 3 for g in groups)
    assert sorted(p.key for g in groups for p in g) == sorted(p.key for p in people)


def test_groups_never_exceed_a_third_from_one_organisation_at_kickoff():
    groups = form_groups(_people(KICKOFF), group_size=8)
    assert max(max(Counter(p.organisation for p in g).values()) / len(g) for g in groups) < 0.5


def test_small_organisation_is_never_twice_in_one_group():
    groups = form_groups(_people({"A": 20, "B": 3}), group_size=5)
    assert [sum(p.organisation == "B" for p in g) for g in groups] == [1, 1, 1, 0, 0]
    assert [len(g) for g in groups] == [5, 5, 5, 4, 4]


def test_form_groups_is_deterministic_and_handles_empty_input():
    people = _people({"A": 5, "B": 4})
    assert form_groups(people, 3) == form_groups(list(people), 3)
    assert form_groups([], 4) == []


def test_form_groups_refuses_duplicates_and_tiny_groups():
    with pytest.raises(ValueError):
        form_groups([Participant(1, "A"), Participant(1, "B")], 4)
    with pytest.raises(ValueError):
        group_count(10, 1)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8),
    group_size=st.integers(min_value=2, max_value=12),
)
def test_guarantees_hold_for_any_mix(sizes, group_size):
    people = _people({f"org{i}": n for i, n in enumerate(sizes)})
    groups = form_groups(people, group_size)
    k = group_count(len(people), group_size)

    assert len(groups) == k
    lengths = [len(g) for g in groups]
    assert max(lengths) - min(lengths) <= 1
    for org, total in Counter(p.organisation for p in people).items():
        counts = [sum(p.organisation == org for p in g) for g in groups]
        assert set(counts) <= {total // k, math.ceil(total / k)}
        assert sum(counts) == total
    # As many organisations as possible: presences reach sum(min(m, k)), spread within one per group.
    distinct = [len({p.organisation for p in g}) for g in groups]
    assert sum(distinct) == sum(min(n, k) for n in Counter(p.organisation for p in people).values())
    assert max(distinct) - min(distinct) <= 1
