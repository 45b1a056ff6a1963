"""Options from the Lagrangian's evaluation (``lagrange``): each request's best option at given seat prices
as an ``Option``, for every request at once."""

from __future__ import annotations

import numpy as np

from shadowing.matching.lagrange import Evaluation, Lagrangian
from shadowing.matching.options import Option


def options_of(
    lagrangian: Lagrangian, evaluation: Evaluation, requests: np.ndarray | None = None
) -> list[Option]:
    """The best options of `requests` (catalogue order; default all that have one) at `evaluation`."""
    if requests is None:
        requests = np.flatnonzero(np.isfinite(evaluation.value) & (evaluation.workplace >= 0))
    return [_option_of(lagrangian, evaluation, i) for i in requests.tolist() if lagrangian.model_row[i] >= 0]


def _option_of(lagrangian: Lagrangian, evaluation: Evaluation, i: int) -> Option:
    catalogue = lagrangian.catalogue
    r = catalogue.requests[i]
    w = int(evaluation.workplace[i])
    wid, org = int(catalogue.grid.ids[w]), int(catalogue.grid.organisation[w])
    slots = tuple(catalogue.slot_ids[s] for s in lagrangian.slots_of(evaluation, i))
    return Option(r.id, wid, org, slots, catalogue.score(r, wid, org))
