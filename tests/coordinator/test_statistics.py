"""The arithmetic of the reports: projected dates, suppression of small groups, chart points."""

from __future__ import annotations

from datetime import date

from coordinator.core.statistics import (
    cumulative,
    months_before,
    needed_for_share,
    project,
    series_dates,
    suppressed,
    total_is_hidden,
    week_start,
)


def test_project_continues_the_pace_of_the_window():
    # 10 gained in 28 days, 30 still to go: 30 × 28 / 10 = 84 days after today.
    assert project(done_then=20, then=date(2026, 3, 1), done_now=30, today=date(2026, 3, 29), needed=60) == (
        "projected",
        date(2026, 6, 21),
    )


def test_project_rounds_a_part_day_up():
    # 3 gained in 7 days, 1 to go: 7/3 = 2.33 days, so the third day.
    assert project(done_then=0, then=date(2026, 1, 1), done_now=3, today=date(2026, 1, 8), needed=4) == (
        "projected",
        date(2026, 1, 11),
    )


def test_project_says_reached_and_stalled():
    assert project(done_then=0, then=date(2026, 1, 1), done_now=5, today=date(2026, 2, 1), needed=5) == (
        "reached",
        None,
    )
    assert project(done_then=4, then=date(2026, 1, 1), done_now=4, today=date(2026, 2, 1), needed=5) == (
        "stalled",
        None,
    )
    assert project(done_then=0, then=date(2026, 2, 1), done_now=0, today=date(2026, 2, 1), needed=5) == (
        "stalled",
        None,
    )


def test_needed_for_share_rounds_up():
    assert needed_for_share(100, 7) == 7
    assert needed_for_share(90, 7) == 7
    assert needed_for_share(50, 7) == 4
    assert needed_for_share(80, 0) == 0


def test_suppressed_hides_small_cells_and_one_more_so_totals_reveal_nothing():
    # Only one small cell: the total minus the others would give it away, so the smallest other goes too.
    assert suppressed({"a": 3, "b": 12, "c": 8}) == {"a", "c"}
    # Two small cells that hold five people together: nothing more to hide.
    assert suppressed({"a": 3, "b": 2, "c": 8}) == {"a", "b"}
    # No small cell, no suppression; an empty cell (nobody) reveals nothing.
    assert suppressed({"a": 5, "b": 0, "c": 8}) == set()
    # Every cell small and fewer than five in all: everything hidden, and so is the total.
    assert suppressed({"a": 2, "b": 1}) == {"a", "b"}
    assert total_is_hidden({"a": 2, "b": 1}) is True
    assert total_is_hidden({"a": 3, "b": 2}) is False


def test_series_dates_end_on_the_last_day_at_whole_weeks():
    assert series_dates(date(2026, 1, 1), date(2026, 1, 20)) == [
        date(2026, 1, 1),
        date(2026, 1, 6),
        date(2026, 1, 13),
        date(2026, 1, 20),
    ]
    yearly = series_dates(date(2026, 1, 1), date(2026, 12, 31))
    assert len(yearly) <= 26
    assert yearly[-1] == date(2026, 12, 31)
    assert series_dates(date(2026, 5, 1), date(2026, 5, 1)) == [date(2026, 5, 1)]


def test_months_before_keeps_the_day_or_takes_the_month_end():
    assert months_before(date(2026, 6, 15), 3) == date(2026, 3, 15)
    assert months_before(date(2026, 5, 31), 3) == date(2026, 2, 28)
    assert months_before(date(2026, 2, 10), 3) == date(2025, 11, 10)
    assert months_before(date(2026, 2, 10), 0) == date(2026, 2, 10)


def test_cumulative_counts_up_to_each_date():
    totals, by_org = cumulative(
        [(1, date(2026, 1, 5), 2), (1, date(2026, 1, 20), 1), (2, date(2026, 1, 12), 4)],
        [date(2026, 1, 1), date(2026, 1, 12), date(2026, 1, 31)],
    )
    assert totals == [0, 6, 7]
    assert by_org == {1: [0, 2, 3], 2: [0, 4, 4]}


def test_cumulative_takes_rows_in_any_order_and_keeps_organisations_only_after_the_last_date():
    dates = [date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)]
    totals, by_org = cumulative(
        [
            (1, date(2026, 1, 19), 1),  # on the last date: counted there
            (2, date(2026, 1, 30), 9),  # after the last date: never counted
            (1, date(2025, 12, 1), 3),  # before the first date: counted from it
            (1, date(2026, 1, 6), 2),
        ],
        dates,
    )
    assert totals == [3, 5, 6]
    assert by_org == {1: [3, 5, 6], 2: [0, 0, 0]}


def test_week_start_is_monday():
    assert week_start(date(2026, 12, 6)) == date(2026, 11, 30)
    assert week_start(date(2026, 11, 30)) == date(2026, 11, 30)
