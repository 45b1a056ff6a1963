"""The catalogue's tables (``shadowing.matching.pricing._Table.price``) built without a sort per call and
without temporaries per level: the same day prices, cheapest slots, range minima, their starts and the
next fitting starts as the previous commit's code, to the last bit; and the bound's seat sums
(``bound.inner``) without BLAS."""

from __future__ import annotations

import copy
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowing.matching.bound import inner
from shadowing.matching.options import Problem
from shadowing.matching.pricing import _Table
from tests.shadowing.pricing_reference import reference_price
from tests.shadowing.test_lagrangian import programmes


def _same(a: _Table, b: _Table) -> None:
    assert np.array_equal(a.day_cost, b.day_cost)
    assert np.array_equal(a.day_slot, b.day_slot)
    assert sorted(a.minimum) == sorted(b.minimum)
    for k in a.minimum:
        assert np.array_equal(a.minimum[k], b.minimum[k])
        assert np.array_equal(a.argmin[k], b.argmin[k])
    assert sorted(a.next_fit) == sorted(b.next_fit)
    for k in a.next_fit:
        assert np.array_equal(a.next_fit[k], b.next_fit[k])


@settings(max_examples=120, deadline=None)
@given(
    programmes(max_requests=8),
    st.lists(st.sampled_from([0.0, 0.0, 0.5, 1.0, 3.0, 250.0, np.inf]), min_size=1, max_size=30),
    st.lists(st.sampled_from([0.0, 2.0, np.inf]), min_size=1, max_size=30),
    st.lists(st.booleans(), min_size=1, max_size=8),
)
def test_the_tables_equal_the_previous_ones_to_the_last_bit(
    problem: Problem, prices: list[float], later: list[float], marks: list[bool]
) -> None:
    """Every row priced, then some rows re-priced at other prices (ties and full slots among them), and
    the same with 0 / infinite prices only (first come, first served's next fitting starts)."""
    catalogue = problem.catalogue
    assert catalogue is not None
    n_slots = len(catalogue.slot_ids)
    if not n_slots:
        return
    first = np.resize(np.asarray(prices), n_slots)
    second = np.resize(np.asarray(later), n_slots)
    for table in (catalogue.plain, catalogue.working):
        if table is None:
            continue
        n_rows = table.day_cost.shape[0]
        rows = np.flatnonzero(np.resize(np.asarray(marks), n_rows))
        for fits_only in (False, True):
            start = np.where(np.isfinite(first), 0.0, np.inf) if fits_only else first
            again = np.where(np.isfinite(second), 0.0, np.inf) if fits_only else second
            new, old = copy.deepcopy(table), copy.deepcopy(table)
            new.price(start, None, fits_only)
            reference_price(old, start, None, fits_only)
            _same(new, old)
            if len(rows):
                new.price(again, rows, fits_only)
                reference_price(old, again, rows, fits_only)
                _same(new, old)


def test_a_table_prices_the_first_cheapest_slot_of_a_day_on_a_tie() -> None:
    """Two slots on one day at the same price: the day's slot is the first of them; at a lower price the
    second one."""
    table = _Table([[0]], [[(0, 1)]], 0, 1, [1], False, frozenset())
    table.price(np.asarray([2.0, 2.0]))
    assert table.day_cost[0, 0] == 2.0
    assert table.day_slot[0, 0] == 0
    table.price(np.asarray([2.0, 1.5]))
    assert table.day_cost[0, 0] == 1.5
    assert table.day_slot[0, 0] == 1


def test_the_seat_sums_are_the_same_whatever_the_length_and_close_to_the_exact_sum() -> None:
    rng = np.random.default_rng(5)
    for n in (0, 1, 7, 1000, 100_519):
        a, b = rng.random(n) * 1000, rng.integers(0, 4, n).astype(np.float64)
        value = inner(b, a)
        assert value == inner(b.copy(), a.copy())
        assert math.isclose(value, math.fsum((a * b).tolist()), rel_tol=1e-12, abs_tol=1e-9)
