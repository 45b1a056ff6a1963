"""The shadowing matcher: plain data in, plain data out, no Django.

`options.build_problem` turns requests, workplaces and free slots into a `Problem`: a first few options
per request, the reason of each request that has none, and the `pricing.Catalogue` that searches every
feasible option by price. `solver.solve` chooses at most one option per request by column generation
over every feasible option (`master`, HiGHS), rounding and repair (`repair`), never below first come,
first served over all options (`baseline`, also `solver.greedy`), and reports a certified bound on the
real problem (`bound`; for every request at once and minimised on large programmes: `lagrange`) and the
gap. `model` holds the options as arrays and the seat book.
`docs/matching.md` says why.
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
