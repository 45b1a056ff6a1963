"""Template filters that write dates, times, numbers, amounts and language names as people write them in
the active language (``coordinator.core.formatting``). Built into every template (settings ``builtins``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from coordinator.core import formatting

register = template.Library()


@register.filter
def day(value: date | datetime | None) -> str:
    """{{ d|day }}: "6 dec. 2026" (sv), "6. dec. 2026" (da), "6 Dec 2026" (en)."""
    return formatting.day(value)


@register.filter
def day_month(value: date | datetime | None) -> str:
    """{{ d|day_month }}: "6 dec.", "6. dec.", "6 Dec"."""
    return formatting.day_month(value)


@register.filter
def weekday_day(value: date | datetime | None) -> str:
    """{{ d|weekday_day }}: "söndag 6 dec. 2026", "søndag 6. dec. 2026", "Sunday, 6 Dec 2026"."""
    return formatting.weekday_day(value)


@register.filter
def day_time(value: datetime | None) -> str:
    """{{ moment|day_time }}: "6 dec. 2026 14:30", "6. dec. 2026 14.30", "6 Dec 2026, 14:30"."""
    return formatting.day_and_time(value)


@register.filter
def weekday_day_time(value: datetime | None) -> str:
    """{{ moment|weekday_day_time }}: "söndag 6 dec. 2026 14:30", "Sunday, 6 Dec 2026, 14:30"."""
    return formatting.weekday_day_and_time(value)


@register.filter
def time_of_day(value: datetime | time | None) -> str:
    """{{ moment|time_of_day }}: "14:30", "14.30"."""
    return formatting.time_of_day(value)


@register.filter
def ago(value: datetime | None) -> str:
    """{{ moment|ago }}: "för 5 minuter sedan", "for 5 minutter siden", "5 minutes ago", "just now"."""
    return formatting.ago(value)


@register.filter
def number(value: formatting.Number | None, decimals: int = 0) -> str:
    """{{ n|number:1 }}: "1 234,5" (sv), "1.234,5" (da), "1,234.5" (en)."""
    return formatting.number(value, int(decimals))


@register.filter
def share(value: formatting.Number | None) -> str:
    """{{ per_cent|share }}: 75 → "75 %" (sv, da), "75%" (en); up to two decimals."""
    return formatting.percent(value)


@register.filter
def amount(value: formatting.Number | None, currency: str = "SEK") -> str:
    """{{ total|amount:programme.currency }}: "247 900 kr", "247.900 kr.", "SEK 247,900"."""
    return formatting.amount(value, currency or "SEK")


@register.filter
def language_name(code: str | None) -> str:
    """{{ "ar"|language_name }}: "arabiska", "arabisk", "Arabic"."""
    return formatting.language_name(code) if code else ""


@register.filter
def language_list(codes: Iterable[str] | None) -> str:
    """{{ codes|language_list }}: "svenska, engelska och arabiska"."""
    return formatting.language_names(list(codes or []))


@register.filter
def figure(value: object) -> str:
    """{{ value|figure }}: a report's figure, whatever it is: "247 900 kr", "12,5", "1 234"."""
    return formatting.figure(value)


@register.filter(is_safe=True)
def slash_breaks(value: object) -> str:
    """{{ name|slash_breaks }}: a name with a line-break opportunity after each slash, where a reader
    divides "Hälsoperspektivet/empowerment" on a narrow screen (browsers would cut a word instead)."""
    return mark_safe(conditional_escape(str(value)).replace("/", "/<wbr>"))  # noqa: S308 (escaped above)
