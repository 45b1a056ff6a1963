"""Job shadowing in the programme barometer: requests, visits and what was learned in a period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordinator.core import registry
from coordinator.core.statistics import cumulative
from organisations.models import Person, Programme
from organisations.permissions import COORDINATING_ROLES
from shadowing.links import page_url
from shadowing.models import Placement, PlacementCost, PlacementDay, ShadowingRequest, Workplace

# Placements that are, or have become, a visit.


def report(programme: Programme, start: date, end: date) -> registry.ReportSection:
    """A visit counts in the period of its first day (two queries)."""
    first_days = (
        PlacementDay.objects.filter(placement__programme=programme, placement__status__in=Placement.VISITS)
        .values("placement_id")
        .annotate(first=Min("date"))
        .filter(first__gte=start, first__lte=end)
        .values("placement_id")
    )
    visits = Placement.objects.filter(programme=programme, status__in=Placement.VISITS, pk__in=first_days)
    by_host = list(
        visits.values("workplace__organisation__name")
        .annotate(
            visits=Count("pk", distinct=True),
            day_count=Count("days", distinct=True),
            visitor_organisations=Count("request__organisation", distinct=True),
            # In the same pass: a second query over the grouped subquery cost as much again.
            reflections=Count("reflection", distinct=True),
        )
        .order_by("workplace__organisation__name")
    )
    # A range on the stored time, not ``__date`` (a conversion per row, 0.5 s at 20,000 requests on SQLite).
    zone = timezone.get_current_timezone()
    requests = ShadowingRequest.objects.filter(
        programme=programme,
        submitted_at__gte=datetime.combine(start, time.min, tzinfo=zone),
        submitted_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    ).aggregate(
        submitted=Count("pk"),
        approved=Count(
            "pk",
            filter=~Q(
                status__in=(ShadowingRequest.Status.PENDING_APPROVAL, ShadowingRequest.Status.DECLINED)
            ),
        ),
    )
    total_visits = sum(row["visits"] for row in by_host)
    return registry.ReportSection(
        title=_("Job shadowing"),
        figures=[
            (_("Requests submitted"), requests["submitted"]),
            (_("Requests approved by line managers"), requests["approved"]),
            (_("Visits"), total_visits),
            (_("Visit days"), sum(row["day_count"] for row in by_host)),
            (_("Host organisations visited"), len(by_host)),
            (_("Reflections written"), sum(row["reflections"] for row in by_host)),
        ],
        tables=[
            registry.ReportTable(
                caption=_("Visits by host organisation"),
                columns=[_("Host organisation"), _("Visits"), _("Visit days"), _("Visiting organisations")],
                rows=[
                    [
                        r["workplace__organisation__name"],
                        r["visits"],
                        r["day_count"],
                        r["visitor_organisations"],
                    ]
                    for r in by_host
                ],
            )
        ],
        link_label=_("Visits between organisations"),
        link_url=page_url("overview") + f"?starts_on={start.isoformat()}&ends_on={end.isoformat()}",
        link_roles=COORDINATING_ROLES,  # the overview's required_roles
    )


registry.report_providers.register("shadowing", report, order=20)


# --- Targets, follow-ups and costs ---------------------------------------------------------------------


def _visit_day_rows(
    programme: Programme, asks: Sequence[registry.MeasureAsk]
) -> list[tuple[int, int, date, int]]:
    """Visit days from the earliest ``since`` to the latest date of the asks, as (hosting organisation,
    sending organisation, day, how many): one query serves either side, or both, and every visit-day
    measure of the same reading."""
    since, until = min(ask.since for ask in asks), max(ask.dates[-1] for ask in asks)
    return registry.read_once(
        ("shadowing.visit_days", programme.pk, since, until),
        lambda: list(
            PlacementDay.objects.filter(
                placement__programme=programme,
                placement__status__in=Placement.VISITS,
                date__gte=since,
                date__lte=until,
            )
            .values_list("placement__workplace__organisation", "placement__request__organisation", "date")
            .annotate(n=Count("pk"))
            .order_by()
        ),
    )


def _side(
    rows: list[tuple[int, int, date, int]], asks: Sequence[registry.MeasureAsk], side: str
) -> list[registry.MeasureCounts]:
    """Visit days from each ask's ``since`` up to each of its dates, per hosting or sending organisation."""
    answers = []
    for ask in asks:
        totals, by_organisation = cumulative(
            (
                (host if side == "hosted" else sender, day, n)
                for host, sender, day, n in rows
                if day >= ask.since
            ),
            ask.dates,
        )
        answers.append(registry.MeasureCounts(total=totals, by_organisation=by_organisation))
    return answers


def _visit_days(
    programme: Programme, asks: Sequence[registry.MeasureAsk], side: str
) -> list[registry.MeasureCounts]:
    """Visit days per hosting or sending organisation (one query for every ask together)."""
    if not asks:
        return []
    return _side(_visit_day_rows(programme, asks), asks, side)


def days_hosted(programme: Programme, asks: Sequence[registry.MeasureAsk]) -> list[registry.MeasureCounts]:
    return _visit_days(programme, asks, "hosted")


def days_sent(programme: Programme, asks: Sequence[registry.MeasureAsk]) -> list[registry.MeasureCounts]:
    return _visit_days(programme, asks, "sent")


def days_hosted_and_sent(
    programme: Programme, asks: Sequence[registry.MeasureAsk]
) -> list[registry.MeasureCounts]:
    """The lesser of the days an organisation hosted and the days it sent: "hosts and sends at least 10"
    is reached when this reaches 10 (one query for both sides)."""
    if not asks:
        return []
    rows = _visit_day_rows(programme, asks)
    answers = []
    for ask, hosted, sent in zip(asks, _side(rows, asks, "hosted"), _side(rows, asks, "sent"), strict=True):
        zero = [0] * len(ask.dates)
        both = {
            pk: [
                min(a, b)
                for a, b in zip(
                    hosted.by_organisation.get(pk, zero), sent.by_organisation.get(pk, zero), strict=True
                )
            ]
            for pk in set(hosted.by_organisation) | set(sent.by_organisation)
        }
        totals = [sum(c[index] for c in both.values()) for index in range(len(ask.dates))]
        answers.append(registry.MeasureCounts(total=totals, by_organisation=both))
    return answers


def finished(programme: Programme, since: date, until: date) -> list[registry.Finished]:
    """Visits whose last day fell on those days (one query)."""
    rows = (
        Placement.objects.filter(programme=programme, status__in=Placement.VISITS)
        .annotate(last=Max("days__date"))
        .filter(last__gte=since, last__lte=until)
        .values_list("pk", "request__requester_id", "workplace_id", "last")
    )
    return [
        registry.Finished(person_id=person_id, subject_id=pk, group_id=workplace_id, finished_on=last)
        for pk, person_id, workplace_id, last in rows
    ]


def upcoming(programme: Programme, person: Person) -> list[registry.Upcoming]:
    """The person's visits still to come (one query)."""
    rows = (
        Placement.objects.filter(
            programme=programme, request__requester=person, status__in=Placement.CANCELLABLE
        )
        .annotate(first=Min("days__date"))
        .filter(first__gt=timezone.localdate())
        .values_list("pk", "workplace__name", "workplace__organisation__short_name", "first")
        .order_by("first")
    )
    return [
        registry.Upcoming(subject_id=pk, title=f"{name} ({short})", starts_on=first)
        for pk, name, short, first in rows
    ]


def visit_titles(programme: Programme, ids: list[int]) -> dict[int, str]:
    return {
        pk: f"{name} ({short})"
        for pk, name, short in Placement.objects.filter(programme=programme, pk__in=ids).values_list(
            "pk", "workplace__name", "workplace__organisation__short_name"
        )
    }


def workplace_names(programme: Programme, ids: list[int]) -> dict[int, str]:
    return {
        pk: f"{name} ({short})"
        for pk, name, short in Workplace.objects.filter(programme=programme, pk__in=ids).values_list(
            "pk", "name", "organisation__short_name"
        )
    }


def cost(programme: Programme, start: date, end: date) -> registry.ActivityCost:
    """Visit days made in the period and what they cost (two queries): the programme's standard cost of a
    visit day (the staff time, ``Programme.visit_day_cost``) for each day, plus the costs recorded on the
    visits (travel, substitute cover, interpreter, other), each visit's in the period of its first day as
    in the barometer. The amount is unknown when no rate is set and nothing is recorded."""
    last = min(end, timezone.localdate())
    units = PlacementDay.objects.filter(
        placement__programme=programme,
        placement__status__in=Placement.VISITS,
        date__gte=start,
        date__lte=last,
    ).count()
    first_days = (
        PlacementDay.objects.filter(placement__programme=programme, placement__status__in=Placement.VISITS)
        .values("placement_id")
        .annotate(first=Min("date"))
        .filter(first__gte=start, first__lte=last)
        .values("placement_id")
    )
    recorded = PlacementCost.objects.filter(
        programme=programme, placement__status__in=Placement.VISITS, placement_id__in=first_days
    ).aggregate(total=Sum("amount"), count=Count("pk"))
    rate = programme.visit_day_cost
    standard = None if rate is None else rate * units
    recorded_total = recorded["total"] if recorded["count"] else None
    known = [part for part in (standard, recorded_total) if part is not None]
    return registry.ActivityCost(
        key="shadowing",
        label=_("Job shadowing"),
        unit_label=_("visit day"),
        amount=sum(known, Decimal(0)) if known else None,
        units=units,
        parts=(
            registry.CostPart(
                label=_("Staff time at the standard cost of a visit day"),
                amount=standard,
                rate=rate,
                units=units,
            ),
            registry.CostPart(
                label=_("Costs recorded on the visits (travel, substitute cover, interpreter, other)"),
                amount=recorded_total,
            ),
        ),
    )


for _key, _label, _counter, _order in (
    ("shadowing.days_hosted", _("Visit days hosted"), days_hosted, 20),
    ("shadowing.days_sent", _("Visit days sent (staff visiting others)"), days_sent, 21),
    (
        "shadowing.days_hosted_and_sent",
        _("Visit days hosted and sent (the lesser)"),
        days_hosted_and_sent,
        22,
    ),
):
    registry.measures.register(
        _key,
        registry.Measure(key=_key, label=_label, kind="count", unit=_("visit days"), counts=_counter),
        order=_order,
    )
registry.follow_up_sources.register(
    "shadowing.visit",
    registry.FollowUpSource(
        kind="shadowing.visit",
        label=_("Visit"),
        group_label=_("Host workplace"),
        finished=finished,
        upcoming=upcoming,
        titles=visit_titles,
        group_names=workplace_names,
    ),
    order=20,
)
registry.activity_costs.register("shadowing", cost, order=20)
