"""Dates, numbers, amounts and language names as Swedish, Danish and English readers write them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from coordinator.core import formatting

UTC = ZoneInfo("UTC")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
MOMENT = datetime(2026, 12, 6, 13, 30, tzinfo=UTC)  # 14:30 in Stockholm and Copenhagen


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("sv", ("6 dec. 2026", "6 dec.", "söndag 6 dec. 2026", "6 dec. 2026 14:30", "14:30")),
        ("da", ("6. dec. 2026", "6. dec.", "søndag 6. dec. 2026", "6. dec. 2026 14.30", "14.30")),
        ("en", ("6 Dec 2026", "6 Dec", "Sunday, 6 Dec 2026", "6 Dec 2026, 14:30", "14:30")),
    ],
)
def test_dates_read_as_each_language_writes_them(language, expected):
    with translation.override(language), timezone.override(STOCKHOLM):
        written = (
            formatting.day(date(2026, 12, 6)),
            formatting.day_month(MOMENT),
            formatting.weekday_day(MOMENT),
            formatting.day_and_time(MOMENT),
            formatting.time_of_day(MOMENT),
        )
    assert written == expected


@pytest.mark.parametrize(
    ("language", "one_day", "two_days"),
    [
        ("sv", "6 dec. 2026, 09:00–16:00", "6 dec. 2026 09:00 – 7 dec. 2026 16:00"),
        ("da", "6. dec. 2026, 09.00–16.00", "6. dec. 2026 09.00 – 7. dec. 2026 16.00"),
        ("en", "6 Dec 2026, 09:00–16:00", "6 Dec 2026, 09:00 – 7 Dec 2026, 16:00"),
    ],
)
def test_a_span_is_written_in_the_programme_zone(language, one_day, two_days):
    start = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    with translation.override(language):
        assert formatting.span(start, start + timedelta(hours=7), STOCKHOLM) == one_day
        assert formatting.span(start, start + timedelta(hours=31), STOCKHOLM) == two_days


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "sv",
            ("0,31\u00a0%", "75\u00a0%", "1\u00a0234,5", "247\u00a0900\u00a0kr", "247\u00a0900,50\u00a0kr"),
        ),
        ("da", ("0,31\u00a0%", "75\u00a0%", "1.234,5", "247.900\u00a0SEK", "247.900,50\u00a0SEK")),
        ("en", ("0.31%", "75%", "1,234.5", "SEK\u00a0247,900", "SEK\u00a0247,900.50")),
    ],
)
def test_numbers_percentages_and_amounts(language, expected):
    with translation.override(language):
        written = (
            formatting.percent(Decimal("0.0031"), fraction=True),
            formatting.percent(75),
            formatting.number(Decimal("1234.5"), 1),
            formatting.amount(Decimal("247900.00"), "SEK"),
            formatting.amount(Decimal("247900.50"), "SEK"),
        )
    assert written == expected


def test_a_danish_programme_pays_in_kroner_with_a_full_stop():
    with translation.override("da"):
        assert formatting.amount(247900, formatting.currency_of("DK")) == "247.900\u00a0kr."
    assert (formatting.currency_of("SE"), formatting.currency_of("", "da"), formatting.currency_of("")) == (
        "SEK",
        "DKK",
        "SEK",
    )


@pytest.mark.parametrize(
    ("language", "five_minutes", "two_days", "now"),
    [
        ("sv", "för 5 minuter sedan", "för 2 dagar sedan", "just nu"),
        ("da", "for 5 minutter siden", "for 2 dage siden", "lige nu"),
        ("en", "5 minutes ago", "2 days ago", "just now"),
    ],
)
def test_relative_times_read_naturally(language, five_minutes, two_days, now):
    with translation.override(language):
        assert formatting.ago(MOMENT - timedelta(minutes=5), now=MOMENT) == five_minutes
        assert formatting.ago(MOMENT - timedelta(days=2, hours=1), now=MOMENT) == two_days
        assert formatting.ago(MOMENT - timedelta(seconds=40), now=MOMENT) == now


@pytest.mark.parametrize(
    ("language", "names", "listed", "interface"),
    [
        ("sv", ["svenska", "danska", "engelska", "arabiska"], "svenska, engelska och arabiska", "svenska"),
        ("da", ["svensk", "dansk", "engelsk", "arabisk"], "svensk, engelsk og arabisk", "svenska"),
        ("en", ["Swedish", "Danish", "English", "Arabic"], "Swedish, English and Arabic", "svenska"),
    ],
)
def test_languages_are_offered_by_name(language, names, listed, interface):
    with translation.override(language):
        choices = dict(formatting.language_choices(["xx"]))
        assert [choices[code] for code in ("sv", "da", "en", "ar")] == names
        assert choices["xx"] == "xx"  # a code stored earlier stays offered
        assert formatting.language_names(["sv", "en", "ar"]) == listed
        assert formatting.interface_language_choices() == [
            ("sv", interface),
            ("da", "dansk"),
            ("en", "English"),
        ]


def test_template_filters_write_the_active_language():
    template = Template(
        "{{ d|day }} | {{ m|day_time }} | {{ t|time_of_day }} | {{ total|amount:'SEK' }} | {{ p|share }}"
        " | {{ codes|language_list }} | {{ money|figure }} | {{ hours|figure }}"
    )
    context = Context(
        {
            "d": date(2026, 12, 6),
            "m": MOMENT,
            "t": time(9, 5),
            "total": Decimal("247900"),
            "p": Decimal("75.00"),
            "codes": ["sv", "ar"],
            "money": formatting.Money(Decimal("1500.50"), "SEK"),
            "hours": Decimal("12.50"),
        }
    )
    with translation.override("sv"), timezone.override(STOCKHOLM):
        assert template.render(context) == (
            "6 dec. 2026 | 6 dec. 2026 14:30 | 09:05 | 247\u00a0900\u00a0kr | 75\u00a0%"
            " | svenska och arabiska | 1\u00a0500,50\u00a0kr | 12,5"
        )
