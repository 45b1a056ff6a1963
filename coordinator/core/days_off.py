"""Public holidays and the de facto days off of a programme's country, from the ``holidays`` package.

Nobody receives visitors or teaches on Christmas Day, and in Sweden not on Christmas Eve, Midsummer Eve
or New Year's Eve either, although those are not public holidays in law. Each country's days off are the
categories of the ``holidays`` package that public agencies there close on; the names come in the
reader's language where the package has it.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Country(models.TextChoices):
    SWEDEN = "SE", _("Sweden")
    DENMARK = "DK", _("Denmark")
    # A programme across borders, or one that keeps its own calendar: weekends only.
    NONE = "", _("No holiday calendar")


# The package's categories that count as a day off for a public agency, per country.
CATEGORIES: dict[str, tuple[str, ...]] = {
    Country.SWEDEN: ("public", "de_facto"),
    Country.DENMARK: ("public", "optional"),
}
# The package's names in the interface languages it has; English otherwise.
NAME_LANGUAGES = {"sv": "sv", "da": "da"}


@lru_cache(maxsize=64)
def _year(country: str, year: int, language: str) -> dict[date, str]:
    categories = CATEGORIES.get(country, ("public",))
    name_language = NAME_LANGUAGES.get(language, "en_US")
    if country == Country.SWEDEN:
        # The package lists every Swedish Sunday as a holiday; weekends are not open days anyway.
        calendar: holidays.HolidayBase = holidays.SE(
            years=year, categories=categories, language=name_language, include_sundays=False
        )
    else:
        calendar = holidays.country_holidays(
            country, years=year, categories=categories, language=name_language
        )
    # Several names on one day ("Christmas Eve; ...") keep the first: the day is off either way.
    return {day: name.split(";")[0].strip() for day, name in calendar.items()}


def days_off(country: str, start: date, end: date, language: str | None = None) -> dict[date, str]:
    """The days off between ``start`` and ``end`` (inclusive), with their names."""
    if not country or end < start:
        return {}
    language = (language or get_language() or "en")[:2]
    found: dict[date, str] = {}
    for year in range(start.year, end.year + 1):
        found.update({d: n for d, n in _year(country, year, language).items() if start <= d <= end})
    return found


def day_off(country: str, day: date, language: str | None = None) -> str:
    """The name of the day off on ``day``, or "" on an ordinary day."""
    return days_off(country, day, day, language).get(day, "")
