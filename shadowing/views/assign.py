"""Placing a request by hand in a proposed run: how requests and free visit days are shown to choose from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coordinator.core import formatting
from shadowing import forms
from shadowing.models import MatchingRun, Placement, Preference, ShadowingRequest, Slot, Workplace


@dataclass
class DaysStep:
    """The second step of a manual placement: the request and workplace chosen, and the days form."""

    form: forms.AssignDaysForm
    request: ShadowingRequest
    workplace: Workplace


def with_details(requests: list[ShadowingRequest]) -> list[ShadowingRequest]:
    """The requests with what tells two requests of one person apart: windows and wishes."""
    if not requests:
        return requests
    return list(
        ShadowingRequest.objects.filter(pk__in=[r.pk for r in requests])
        .select_related("requester__user", "organisation")
        .prefetch_related(
            "windows",
            Prefetch(
                "preferences",
                queryset=Preference.objects.select_related("workplace", "organisation").order_by("rank"),
            ),
        )
        .order_by("submitted_at", "pk")
    )


def _span(starts_on: date, ends_on: date) -> str:
    return f"{formatting.day_month(starts_on)}–{formatting.day(ends_on)}"


def request_label(request: ShadowingRequest) -> str:
    """ "Amina Hassan (Malmö stad): 2 days in a row, 8 Dec–18 Dec 2026 · wishes: sfi, AF"."""
    days = ngettext("%(n)s day", "%(n)s days", request.days) % {"n": request.days}
    if request.consecutive and request.days > 1:
        days = _("%(days)s in a row") % {"days": days}
    windows = ", ".join(_span(w.starts_on, w.ends_on) for w in request.windows.all())
    label = f"{request.requester.full_name} ({request.organisation.short_name}): {days}, {windows}"
    wishes = [
        p.workplace.name if p.workplace_id else p.organisation.short_name  # type: ignore[union-attr]
        for p in request.preferences.all()
    ][:3]
    if wishes:
        label += " · " + _("wishes: %(list)s") % {"list": ", ".join(wishes)}
    return label


def free_days(run: MatchingRun, request: ShadowingRequest, workplace: Workplace) -> list[tuple[Slot, str]]:
    """The workplace's future visit days inside the request's windows with a seat left, counting the
    run's other proposals, each with a label that says when and how many seats are free."""
    windows = Q()
    for window in request.windows.all():
        windows |= Q(date__gte=window.starts_on, date__lte=window.ends_on)
    if not windows:
        return []
    proposed = Count(
        "placement_days",
        filter=Q(
            placement_days__placement__run=run,
            placement_days__placement__status=Placement.Status.PROPOSED,
        )
        & ~Q(placement_days__placement__request=request),
    )
    slots = (
        Slot.objects.filter(windows, workplace=workplace, date__gt=timezone.localdate())
        .annotate(proposed=proposed)
        .order_by("date", "starts_at")
    )
    found = []
    for slot in slots:
        free = slot.capacity - slot.booked - slot.proposed  # type: ignore[attr-defined]
        if free > 0:
            seats = ngettext("%(n)s place free", "%(n)s places free", free) % {"n": free}
            when = (
                f"{formatting.weekday_day(slot.date)}, "
                f"{formatting.time_of_day(slot.starts_at)}–{formatting.time_of_day(slot.ends_at)}"
            )
            found.append((slot, f"{when} ({seats})"))
    return found
