"""The migration that turned stored reason texts into codes."""

from __future__ import annotations

import importlib
from typing import Any

from django.utils import translation

migration = importlib.import_module("shadowing.migrations.0003_request_unplaced_code")


class Rows:
    """A stand-in for the historical model's manager: the rows it holds and the updates made."""

    def __init__(self, rows: list[tuple[int, str]]) -> None:
        self.rows = rows
        self.updates: dict[int, str] = {}
        self._ids: list[int] = []

    def exclude(self, **_: Any) -> Rows:
        return self

    def values_list(self, *_: str) -> list[tuple[int, str]]:
        return [row for row in self.rows if row[1]]

    def filter(self, pk__in: list[int]) -> Rows:
        self._ids = pk__in
        return self

    def update(self, unplaced_code: str) -> None:
        for pk in self._ids:
            self.updates[pk] = unplaced_code


def test_texts_in_any_interface_language_become_their_codes() -> None:
    with translation.override("sv"):
        swedish = translation.gettext("No workplace offers one of your topics in a language you named.")
    with translation.override("da"):
        danish = translation.gettext("A coordinator took this request out of the proposal.")
    assert swedish != danish
    rows = Rows(
        [
            (1, swedish),
            (2, danish),
            (3, "Your exchange partner could not be placed, so neither of you was."),
            (4, "A text written by hand"),
            (5, ""),
        ]
    )
    model = type("ShadowingRequest", (), {"objects": rows})
    apps = type("Apps", (), {"get_model": staticmethod(lambda app, name: model)})

    migration.texts_to_codes(apps, None)

    assert rows.updates == {
        1: "no_matching_topic_or_language",
        2: "removed",
        3: "partner_not_placed",
        4: "all_full",
    }


def test_every_reason_of_the_matcher_has_a_stored_code() -> None:
    from shadowing.matching.options import REASONS
    from shadowing.models import UnplacedReason

    assert set(REASONS) <= set(UnplacedReason.values)
    # The migration turned stored texts into codes; the two reasons added since had no stored text then.
    assert set(UnplacedReason.values) - set(migration.REASONS) == {"too_few_days", "no_consecutive_days"}
    assert all(migration.REASONS[code] == UnplacedReason(code).label for code in migration.REASONS)
