"""The shadowing matcher: plain data in, plain data out, no Django.

`options.build_problem` turns requests, workplaces and free slots into a `Problem` (every feasible way to
place each request, with a preference score), `solver.solve` chooses at most one option per request
(HiGHS LP relaxation, rounding, repair and an optional MIP) and reports the objective, the LP bound and
the gap; `solver.greedy` is the first-come-first-served baseline it is compared with. `model` holds the
problem as arrays, its objective and the seat book; `repair` the steps from fractional to whole (taking in
order, filling, single moves, augmenting paths).
"""

from __future__ import annotations

from shadowing.matching.options import (
    REASON_ALL_FULL,
    REASON_NO_MATCHING_TOPIC_OR_LANGUAGE,
    REASON_NO_SLOT_IN_WINDOW,
    REASON_ONLY_OWN_ORGANISATION,
    REASON_PARTNER_NOT_PLACED,
    REASONS,
    Option,
    Problem,
    RequestSpec,
    SlotSpec,
    Solution,
    WorkplaceSpec,
    build_problem,
)
from shadowing.matching.solver import greedy, solve

__all__ = [
    "REASONS",
    "REASON_ALL_FULL",
    "REASON_NO_MATCHING_TOPIC_OR_LANGUAGE",
    "REASON_NO_SLOT_IN_WINDOW",
    "REASON_ONLY_OWN_ORGANISATION",
    "REASON_PARTNER_NOT_PLACED",
    "Option",
    "Problem",
    "RequestSpec",
    "SlotSpec",
    "Solution",
    "WorkplaceSpec",
    "build_problem",
    "greedy",
    "solve",
]
