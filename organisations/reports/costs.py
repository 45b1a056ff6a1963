"""What the programme's activities cost per result: per completed participant, per visit day and per
competence gained."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from coordinator.core import registry
from organisations.models import Programme

CENT = Decimal("0.01")


@dataclass(frozen=True)
class CostLine:
    key: str
    label: str | Promise
    unit_label: str | Promise
    amount: Decimal | None
    units: int | None
    currency: str
    parts: tuple[registry.CostPart, ...] = ()

    @property
    def per_unit(self) -> Decimal | None:
        if self.amount is None or not self.units:
            return None
        return (self.amount / self.units).quantize(CENT, rounding=ROUND_HALF_UP)


def costs(programme: Programme, start: date, end: date) -> list[CostLine]:
    """Each activity's cost and result in the period, and the cost per competence gained: every known cost
    over the competences gained (None, with no competence data, until competence profiles count them)."""
    lines = [
        CostLine(
            item.key,
            item.label,
            item.unit_label,
            _cents(item.amount),
            item.units,
            programme.currency,
            tuple(
                registry.CostPart(part.label, _cents(part.amount), _cents(part.rate), part.units)
                for part in item.parts
            ),
        )
        for item in (provider(programme, start, end) for provider in registry.activity_costs)
    ]
    counters = list(registry.competence_gain_counters)
    gained = sum(counter(programme, start, end) for counter in counters) if counters else None
    known = [line.amount for line in lines if line.amount is not None]
    lines.append(
        CostLine(
            "competences",
            _("All activities"),
            _("competence gained"),
            _cents(sum(known, Decimal(0))) if known else None,
            gained,
            programme.currency,
        )
    )
    return lines


def _cents(amount: Decimal | None) -> Decimal | None:
    """An amount to the cent (databases sum decimals to different scales)."""
    return None if amount is None else Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
