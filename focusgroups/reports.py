"""Focus groups in the programme barometer: meetings held, decisions, notes and actions in a period, and
which organisations each group lacks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from coordinator.core import registry
from focusgroups import selectors
from focusgroups.models import ActionItem, Decision, FocusGroup, GroupMembership, Meeting, NoteVersion
from organisations.models import Organisation, Programme


def report(programme: Programme, start: date, end: date) -> registry.ReportSection:
    """Figures for the period and one row per group (six queries, whatever the number of groups)."""
    in_period = Q(starts_at__date__gte=start, starts_at__date__lte=end)
    meetings = Meeting.objects.filter(in_period, group__programme=programme, status=Meeting.Status.HELD)
    groups = list(
        FocusGroup.objects.filter(programme=programme)
        .annotate(
            held=Count(
                "meetings",
                filter=Q(
                    meetings__status=Meeting.Status.HELD,
                    meetings__starts_at__date__gte=start,
                    meetings__starts_at__date__lte=end,
                ),
                distinct=True,
            ),
            members=Count("memberships", filter=Q(memberships__is_active=True), distinct=True),
        )
        .order_by("name")
    )
    present = selectors.represented_by_group(programme)
    organisations = dict(
        Organisation.objects.filter(participations__programme=programme).values_list("pk", "short_name")
    )
    actions = ActionItem.objects.filter(group__programme=programme).aggregate(
        created=Count("pk", filter=Q(created_at__date__gte=start, created_at__date__lte=end)),
        done=Count(
            "pk",
            filter=Q(status=ActionItem.Status.DONE, updated_at__date__gte=start, updated_at__date__lte=end),
        ),
        open=Count("pk", filter=Q(status__in=ActionItem.OPEN_STATUSES)),
    )
    versions = NoteVersion.objects.filter(
        note__group__programme=programme, created_at__date__gte=start, created_at__date__lte=end
    ).count()
    decisions = Decision.objects.filter(meeting__in=meetings).count()
    return registry.ReportSection(
        title=_("Focus groups"),
        figures=[
            (_("Meetings held"), sum(g.held for g in groups)),
            (_("Decisions recorded"), decisions),
            (_("Note versions saved"), versions),
            (_("Actions agreed"), actions["created"]),
            (_("Actions done"), actions["done"]),
            (_("Actions open now"), actions["open"]),
        ],
        tables=[
            registry.ReportTable(
                caption=_("Groups and the organisations they lack"),
                columns=[_("Focus group"), _("Members"), _("Meetings held"), _("Organisations missing")],
                rows=[[g.name, g.members, g.held, _missing(g.pk, organisations, present)] for g in groups],
            )
        ],
        link_label=_("All focus groups"),
        link_url=reverse("focusgroups:list"),
    )


def _missing(group_id: int, organisations: dict[int, str], present: dict[int, set[int]]) -> str:
    names = sorted(name for pk, name in organisations.items() if pk not in present.get(group_id, set()))
    return ", ".join(names) or "–"


registry.report_providers.register("focusgroups", report, order=30)


def groups_with_every_organisation(
    programme: Programme, asks: Sequence[registry.MeasureAsk]
) -> list[registry.MeasureCounts]:
    """Focus groups with a representative (member or convener) from every organisation of the programme at
    each date; per organisation, the groups it is represented in. Three queries for every ask together."""
    if not asks:
        return []
    zone = ZoneInfo(programme.time_zone)
    groups = list(FocusGroup.objects.filter(programme=programme).values_list("pk", flat=True))
    everyone = set(
        Organisation.objects.filter(participations__programme=programme).values_list("pk", flat=True)
    )
    seats = [
        (group_id, organisation_id, joined_at.astimezone(zone).date(), left_at, is_active)
        for group_id, organisation_id, joined_at, left_at, is_active in GroupMembership.objects.filter(
            group__programme=programme, role__in=GroupMembership.REPRESENTING_ROLES
        ).values_list("group_id", "organisation_id", "joined_at", "left_at", "is_active")
    ]
    answers = []
    for ask in asks:
        present: list[dict[int, set[int]]] = [{} for _ in ask.dates]
        for group_id, organisation_id, joined, left_at, is_active in seats:
            left = left_at.astimezone(zone).date() if left_at else None
            for index, day in enumerate(ask.dates):
                gone = (left is not None and left <= day) or (left is None and not is_active)
                if joined <= day and not gone:
                    present[index].setdefault(group_id, set()).add(organisation_id)
        total = [sum(1 for g in groups if everyone and everyone <= at.get(g, set())) for at in present]
        by_organisation = {
            pk: [sum(1 for g in groups if pk in at.get(g, set())) for at in present] for pk in everyone
        }
        answers.append(
            registry.MeasureCounts(
                total=total,
                by_organisation=by_organisation,
                population=len(groups),
                population_by_organisation={pk: len(groups) for pk in everyone},
            )
        )
    return answers


registry.measures.register(
    "focusgroups.every_organisation",
    registry.Measure(
        key="focusgroups.every_organisation",
        label=_("Focus groups with a representative from every organisation"),
        kind="share",
        unit=_("focus groups"),
        counts=groups_with_every_organisation,
    ),
    order=30,
)
