"""Job shadowing in the programme barometer: requests, visits and what was learned in a period."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Min, Q
from django.utils.translation import gettext_lazy as _

from coordinator.core import registry
from organisations.models import Programme
from shadowing.links import page_url
from shadowing.models import Placement, PlacementDay, Reflection, ShadowingRequest

# Placements that are, or have become, a visit.


def report(programme: Programme, start: date, end: date) -> registry.ReportSection:
    """A visit counts in the period of its first day (four queries)."""
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
        )
        .order_by("workplace__organisation__name")
    )
    requests = ShadowingRequest.objects.filter(
        programme=programme, submitted_at__date__gte=start, submitted_at__date__lte=end
    ).aggregate(
        submitted=Count("pk"),
        approved=Count(
            "pk",
            filter=~Q(
                status__in=(ShadowingRequest.Status.PENDING_APPROVAL, ShadowingRequest.Status.DECLINED)
            ),
        ),
    )
    reflections = Reflection.objects.filter(placement__in=visits).count()
    total_visits = sum(row["visits"] for row in by_host)
    return registry.ReportSection(
        title=_("Job shadowing"),
        figures=[
            (_("Requests submitted"), requests["submitted"]),
            (_("Requests approved by line managers"), requests["approved"]),
            (_("Visits"), total_visits),
            (_("Visit days"), sum(row["day_count"] for row in by_host)),
            (_("Host organisations visited"), len(by_host)),
            (_("Reflections written"), reflections),
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
    )


registry.report_providers.register("shadowing", report, order=20)
