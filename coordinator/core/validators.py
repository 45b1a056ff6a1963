"""Limits every edge applies to what people type: integers the database can hold, text on one line.

The API's filters and pagination, the pages that read a number by hand, the serializers and forms (through
``coordinator.core.services.validate``) and the outbox all use these, so an over-large id or a line break in
a title is a 4xx with a reason, or harmless, never a 500 or a mail that cannot be sent.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.core.validators import _ValidatorCallable


class AmountOptions(TypedDict):
    max_digits: int
    decimal_places: int
    validators: list[MinValueValidator]


# An amount of money (a cost, a rate) as a model stores it: never negative, to the cent, below ten billion.
AMOUNT: AmountOptions = {
    "max_digits": 12,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal("0"))],
}

# The dates a person may choose: a period that starts in year 1 or ends in 9999 has no local midnight in UTC
# (the day's bounds overflow Python's datetime), and no programme plans or reports that far from now.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(9998, 12, 31)


# The moments an event may be set at: its calendar's time zone is written out for every year from its
# events' first to their last (``coordinator.core.calendar.vtimezone``), and nothing is planned that far off.
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2200, 1, 1, tzinfo=UTC)
MOMENT_RANGE_MESSAGE = _("Choose a date and time from 1900 to 2199.")


def datetime_validators() -> list[_ValidatorCallable]:
    """The limits of a date and time a form or serializer takes (1900 to 2199)."""
    message = MOMENT_RANGE_MESSAGE
    return [
        MinValueValidator(EARLIEST_MOMENT, message=message),
        MaxValueValidator(LATEST_MOMENT - timedelta(microseconds=1), message=message),
    ]


def date_validators() -> list[_ValidatorCallable]:
    """The limits of a date a form or serializer takes, each with its own message."""
    return [MinValueValidator(EARLIEST_DATE), MaxValueValidator(LATEST_DATE)]


# The database's integer columns (ids included) are signed 64-bit; a larger number matches no row and, on
# some backends, crashes the query instead.
DB_INT_MIN = -(2**63)
DB_INT_MAX = 2**63 - 1

# What one websocket frame may be: the largest note with its JSON escaping fits. ScopedConsumer answers a
# longer one with an error; the servers (coordinator.servers) refuse a frame over WEBSOCKET_FRAME_MAX_BYTES
# before reading it. UTF-8 takes at most four bytes a character, so no frame the consumer accepts is refused.
WEBSOCKET_FRAME_MAX_CHARS = 200_000
WEBSOCKET_FRAME_MAX_BYTES = 4 * WEBSOCKET_FRAME_MAX_CHARS

_PLAIN_INTEGER = re.compile(r"-?[0-9]{1,19}")
# Line breaks and the other control characters (C0, DEL, C1, and the Unicode line/paragraph separators).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def parse_int(raw: object) -> int | None:
    """A number typed into a query or a form (ASCII digits, optional minus) as an ``int``, or None when it
    is not one or lies outside the database's signed 64-bit range."""
    text = str(raw if raw is not None else "").strip()
    if not _PLAIN_INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if DB_INT_MIN <= value <= DB_INT_MAX else None


def single_line(value: object) -> None:
    """Validator for a title or name (it ends up in email subjects and calendar summaries): one line,
    no control characters."""
    if isinstance(value, str) and _CONTROL.search(value):
        raise ValidationError(_("Write this on one line, without control characters."), code="single_line")


def one_line(text: str) -> str:
    """``text`` with every control character and run of whitespace made one space (for mail headers)."""
    return " ".join(_CONTROL.sub(" ", text).split())
