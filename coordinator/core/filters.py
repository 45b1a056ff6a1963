"""The number filter every API filterset uses: an id or count the database can hold, else a 400."""

from __future__ import annotations

import django_filters
from django import forms

from coordinator.core.validators import DB_INT_MAX, DB_INT_MIN


class BoundedIntegerField(forms.IntegerField):
    """A whole number inside the database's signed 64-bit range; anything else is a field error."""

    def __init__(self, *, min_value: int = DB_INT_MIN, max_value: int = DB_INT_MAX, **kwargs: object) -> None:
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)  # type: ignore[arg-type]


class IntegerFilter(django_filters.NumberFilter):
    """Use instead of ``NumberFilter`` (whose decimals reach the query unbounded and crash it with a 500):
    a value that is not a whole number, or lies outside what the database holds, answers 400 with the
    filter's name and a reason."""

    field_class = BoundedIntegerField
