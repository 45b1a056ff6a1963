"""Dates, times, numbers, amounts, percentages and language names as people write them in the active
language: "6 dec. 2026", "6. dec. 2026", "6 Dec 2026"; "247 900 kr", "247.900 kr.", "SEK 247,900"; "0,31 %".

One place for every page, email, notification, invite and report text (the template filters in
``coordinator.core.templatetags.formatting`` call these). The CLDR data comes from Babel, which knows how
Swedish, Danish and British English write each of these; Django's own formats write Swedish months without
the abbreviation's full stop and numbers without grouping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import cast

from babel import Locale, dates, numbers
from babel.lists import format_list
from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext as _

# The CLDR locale each interface language is written in.
LOCALES = {"sv": "sv_SE", "da": "da_DK", "en": "en_GB"}
# The currency of a programme's country; a programme without one pays in its language's currency.
CURRENCIES = {"SE": "SEK", "DK": "DKK"}
LANGUAGE_CURRENCIES = {"da": "DKK"}

# Languages a person may speak, a workplace may work in or a course may be given in, offered by name;
# the platform's own languages first, then those most spoken by the people its staff serve.
SPOKEN_LANGUAGES = (
    "sv",
    "da",
    "no",
    "en",
    "ar",
    "fa",
    "prs",
    "so",
    "ti",
    "ku",
    "bs",
    "sr",
    "hr",
    "ru",
    "uk",
    "tr",
    "fr",
    "es",
    "de",
    "pl",
    "fi",
)

Number = int | float | Decimal


def current_locale() -> str:
    """The CLDR locale of the active language."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    return LOCALES.get(language.split("-")[0], LOCALES["en"])


@lru_cache(maxsize=8)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


# --- Dates and times -----------------------------------------------------------------------------------


def _skeleton(name: str) -> str:
    """The active language's pattern for a CLDR skeleton ("yMMMd" -> "d MMM y" in Swedish)."""
    return str(_locale(current_locale()).datetime_skeletons[name].pattern)


def _local(value: datetime, zone: tzinfo | None = None) -> datetime:
    """An aware moment in ``zone``, by default the active time zone (a page's: the programme's)."""
    return timezone.localtime(value, zone) if timezone.is_aware(value) else value


def day(value: date | datetime | None) -> str:
    """A day as people write it: "6 dec. 2026" (sv), "6. dec. 2026" (da), "6 Dec 2026" (en)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return dates.format_date(value, "medium", locale=current_locale())


def _days_text(values: tuple[date, ...]) -> str:
    return format_list([day(value) for value in values], locale=current_locale()) if values else ""


_lazy_days = lazy(_days_text, str)


def lazy_days(values: list[date] | tuple[date, ...]) -> Promise:
    """Days written when the text is read, in the reader's language: a notification's parameter is filled
    in each recipient's language ("6 dec. 2026 och 7 dec. 2026", "6 Dec 2026 and 7 Dec 2026")."""
    return cast(Promise, _lazy_days(tuple(values)))  # django-stubs type lazy()'s result as its result class


def day_month(value: date | datetime | None) -> str:
    """A day of this year, without the year: "6 dec." (sv), "6. dec." (da), "6 Dec" (en)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return dates.format_date(value, _skeleton("MMMd"), locale=current_locale())


def weekday_day(value: date | datetime | None) -> str:
    """A day with its weekday: "söndag 6 dec. 2026", "søndag den 6. dec. 2026", "Sunday 6 Dec 2026"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return dates.format_date(value, _skeleton("yMMMEd").replace("E", "EEEE", 1), locale=current_locale())


def time_of_day(value: datetime | time | None) -> str:
    """A time of day (a moment in the current time zone): "14:30" (sv, en), "14.30" (da)."""
    if value is None:
        return ""
    return dates.format_time(
        _local(value) if isinstance(value, datetime) else value, _skeleton("Hm"), locale=current_locale()
    )


def day_and_time(value: datetime | None, zone: tzinfo | None = None) -> str:
    """A moment in ``zone`` (by default the active one): "6 dec. 2026 14:30", "6. dec. 2026 14.30",
    "6 Dec 2026, 14:30"."""
    if value is None:
        return ""
    locale = _locale(current_locale())
    pattern = (
        str(locale.datetime_formats["medium"])
        .replace("{1}", _skeleton("yMMMd"))
        .replace("{0}", _skeleton("Hm"))
    )
    return dates.format_datetime(_local(value, zone), pattern, locale=locale)


def span(start: datetime, end: datetime, zone: tzinfo | None = None) -> str:
    """When something takes place, in ``zone``: "6 dec. 2026, 09:00–16:00" on one day, else
    "6 dec. 2026 09:00 – 7 dec. 2026 16:00" (each language's own way, "6. dec. 2026, 09.00–16.00")."""
    start, end = _local(start, zone), _local(end, zone)
    if start.date() == end.date():
        return f"{day(start.date())}, {time_of_day(start.time())}–{time_of_day(end.time())}"
    return f"{day_and_time(start)} – {day_and_time(end)}"


def weekday_day_and_time(value: datetime | None) -> str:
    """A moment with its weekday: "söndag 6 dec. 2026 14:30", "søndag 6. dec. 2026 14.30",
    "Sunday, 6 Dec 2026, 14:30"."""
    if value is None:
        return ""
    locale = _locale(current_locale())
    pattern = (
        str(locale.datetime_formats["medium"])
        .replace("{1}", _skeleton("yMMMEd").replace("E", "EEEE", 1))
        .replace("{0}", _skeleton("Hm"))
    )
    return dates.format_datetime(_local(value), pattern, locale=locale)


def ago(value: datetime | None, *, now: datetime | None = None) -> str:
    """How long ago a moment was: "för 5 minuter sedan", "for 5 minutter siden", "5 minutes ago"; under a
    minute "just nu", "lige nu", "just now"."""
    if value is None:
        return ""
    delta = (now or timezone.now()) - value
    if delta < timedelta(minutes=1):
        return _("just now")
    return dates.format_timedelta(-delta, add_direction=True, threshold=1, locale=current_locale())


# --- Numbers -------------------------------------------------------------------------------------------


def number(value: Number | None, decimals: int = 0) -> str:
    """A number with the language's grouping and decimal sign: "1 234,5" (sv), "1.234,5" (da)."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return numbers.format_decimal(value, format=pattern, locale=current_locale())


def percent(value: Number | None, *, fraction: bool = False) -> str:
    """A percentage with up to two decimals: "0,31 %" (sv, da), "0.31%" (en). ``value`` is in per cent,
    or a fraction of one with ``fraction=True``."""
    if value is None:
        return ""
    share = Decimal(str(value)) / (1 if fraction else 100)
    pattern = _locale(current_locale()).percent_formats[None].pattern.replace("#,##0", "#,##0.##", 1)
    return numbers.format_percent(share, format=pattern, locale=current_locale())


def amount(value: Number | None, currency: str) -> str:
    """A sum of money with its currency where the language puts it: "247 900 kr", "247 900,50 kr",
    "247.900 kr.", "SEK 247,900". Öre/øre are shown only when there are any."""
    if value is None:
        return ""
    value = Decimal(str(value))
    pattern = _locale(current_locale()).currency_formats["standard"].pattern
    if value == value.to_integral_value():
        pattern = pattern.replace(".00", "")
    if numbers.get_currency_symbol(currency, locale=current_locale()).isalpha():
        # CLDR's currency spacing: a symbol in letters ("SEK") stands apart from the digits.
        pattern = pattern.replace("¤#", "¤\u00a0#").replace("0¤", "0\u00a0¤")
    return numbers.format_currency(
        value, currency, format=pattern, currency_digits=False, locale=current_locale()
    )


@dataclass(frozen=True)
class Money:
    """An amount in a currency (ISO 4217). Shown as the reader's language writes it ("247 900 kr"); a
    spreadsheet gets the number with the currency beside it (``coordinator.core.spreadsheets``)."""

    value: Decimal
    currency: str

    def __str__(self) -> str:
        return amount(self.value, self.currency)


def figure(value: object) -> str:
    """Any figure of a report as the reader's language writes it: an amount with its currency, a decimal
    number with up to two decimals, a whole number grouped; text as it is."""
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return number(value)
    if isinstance(value, float | Decimal):
        return numbers.format_decimal(value, format="#,##0.##", locale=current_locale())
    return str(value)


def currency_of(country: str, language: str = "") -> str:
    """The currency a programme of this country (or, without one, language) pays in."""
    return CURRENCIES.get(country) or LANGUAGE_CURRENCIES.get(language, "SEK")


def currency_symbol(currency: str) -> str:
    """The currency as the language writes it beside an amount: "kr", "kr.", "SEK"."""
    return numbers.get_currency_symbol(currency, locale=current_locale())


# --- Language names ------------------------------------------------------------------------------------


def language_name(code: str) -> str:
    """A language's name in the active language: "arabiska" (sv), "arabisk" (da), "Arabic" (en); the code
    itself for one CLDR does not know."""
    return _locale(current_locale()).languages.get(code, code)


def language_names(codes: list[str] | tuple[str, ...] | None) -> str:
    """Several language names, joined as the language lists them: "svenska, engelska och arabiska"."""
    if not codes:
        return ""
    return format_list([language_name(code) for code in codes], locale=current_locale())


def language_choices(extra: list[str] | tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(code, name) pairs of the spoken languages offered, named in the active language, and of ``extra``
    codes already stored that are not among them (so that editing keeps them)."""
    codes = list(SPOKEN_LANGUAGES) + [c for c in extra if isinstance(c, str) and c not in SPOKEN_LANGUAGES]
    return [(code, language_name(code)) for code in codes]


def interface_language_choices() -> list[tuple[str, str]]:
    """The interface languages, each in its own name ("svenska", "dansk", "English"), as a reader looking for
    their own language finds it."""
    return [(code, _locale(LOCALES[code]).languages.get(code, code)) for code, _label in settings.LANGUAGES]
