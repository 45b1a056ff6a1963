"""What the shadowing app contributes to the shared pages: navigation, start-page panels, the calendar feed,
history, the programme report, notification kinds, the periodic expiry of requests and demo data."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from auditlog.registry import auditlog
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from coordinator.core import registry
from coordinator.core.prepared import ScopedPreparedQuery
from organisations.models import Person, PlatformRole, Programme
from organisations.permissions import actor_for, request_has_role, request_is_member
from shadowing import permissions, selectors
from shadowing.links import page_url
from shadowing.models import (
    HostFeedback,
    MatchingRun,
    Placement,
    PlacementCost,
    PlacementDay,
    Reflection,
    ShadowingRequest,
    Slot,
    Workplace,
)
from shadowing.services import history
from shadowing.services.placements import placements_cancel_for_erasure, placements_show_changed_people
from shadowing.services.shadowing_requests import requests_withdraw_for_erasure

HOSTS = (PlatformRole.HOST_CONTACT, PlatformRole.ORGANISATION_ADMIN)


registry.nav_items.register(
    "shadowing", registry.NavItem(_("Job shadowing"), "shadowing:workplaces", request_is_member), order=20
)
registry.nav_items.register(
    "shadowing.mine",
    registry.NavItem(_("My visits"), "shadowing:mine", lambda r: request_has_role(r, PlatformRole.STAFF)),
    order=21,
)
registry.nav_items.register(
    "shadowing.approvals",
    registry.NavItem(
        _("Shadowing approvals"),
        "shadowing:approvals",
        lambda r: request_has_role(r, PlatformRole.LINE_MANAGER),
    ),
    order=22,
)
registry.nav_items.register(
    "shadowing.host",
    registry.NavItem(_("My workplaces"), "shadowing:host", lambda r: request_has_role(r, *HOSTS)),
    order=23,
)
registry.nav_items.register(
    "shadowing.dashboard",
    registry.NavItem(
        _("Matching"),
        "shadowing:dashboard",
        lambda r: request_has_role(r, PlatformRole.COORDINATOR, PlatformRole.PROGRAMME_ADMIN),
    ),
    order=24,
)


# --- Start-page panels (each a fixed number of queries) -------------------------------------------------


def _mine_panel(request: Any) -> dict[str, Any] | None:
    """Staff: visits to confirm or reflect on, the next visit, requests in progress (3 queries)."""
    actor = actor_for(request.user)
    programme: Programme = request.programme
    if actor.person is None or not actor.has_role(programme, PlatformRole.STAFF):
        return None
    counts = ShadowingRequest.objects.filter(programme=programme, requester=actor.person).aggregate(
        pending=Count("pk", filter=Q(status=ShadowingRequest.Status.PENDING_APPROVAL)),
        approved=Count("pk", filter=Q(status=ShadowingRequest.Status.APPROVED)),
        total=Count("pk"),
    )
    actionable = list(
        Placement.objects.filter(
            programme=programme,
            request__requester=actor.person,
            status__in=(Placement.Status.HOST_ACCEPTED, Placement.Status.VISITED),
        )
        .select_related("workplace")
        .order_by("pk")[:6]
    )
    next_visit = (
        PlacementDay.objects.filter(
            placement__programme=programme,
            placement__request__requester=actor.person,
            placement__status=Placement.Status.CONFIRMED,
            date__gte=timezone.localdate(),
        )
        .select_related("placement__workplace")
        .order_by("date", "starts_at")
        .first()
    )
    if not counts["total"] and not actionable and next_visit is None:
        return {"pending": 0, "approved": 0, "to_confirm": [], "to_reflect": [], "next_visit": None}
    return {
        "pending": counts["pending"],
        "approved": counts["approved"],
        "to_confirm": [p for p in actionable if p.status == Placement.Status.HOST_ACCEPTED],
        "to_reflect": [p for p in actionable if p.status == Placement.Status.VISITED],
        "next_visit": next_visit,
    }


def _approvals_panel(request: Any) -> dict[str, Any] | None:
    """Line managers: shadowing requests waiting for their decision (1 query)."""
    actor = actor_for(request.user)
    if actor.person is None or not actor.has_role(request.programme, PlatformRole.LINE_MANAGER):
        return None
    pending = list(
        ShadowingRequest.objects.filter(
            programme=request.programme,
            requester__line_manager=actor.person,
            status=ShadowingRequest.Status.PENDING_APPROVAL,
        )
        .select_related("requester__user")
        .order_by("submitted_at", "pk")[:6]
    )
    if not pending:
        return None
    return {"pending": pending[:5], "more": len(pending) > 5}


def _host_panel(request: Any) -> dict[str, Any] | None:
    """Host contacts: their workplaces, visitors to accept, visit days this month (3 queries)."""
    actor = actor_for(request.user)
    programme: Programme = request.programme
    if actor.person is None or actor.organisation_id is None or not actor.has_role(programme, *HOSTS):
        return None
    workplaces = list(
        Workplace.objects.filter(programme=programme, organisation_id=actor.organisation_id).order_by("name")[
            :5
        ]
    )
    if not workplaces and not actor.has_role(programme, PlatformRole.HOST_CONTACT):
        return None
    today = timezone.localdate()
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    hosted = Q(placement__workplace__organisation_id=actor.organisation_id, placement__programme=programme)
    this_month = PlacementDay.objects.filter(
        hosted,
        placement__status__in=(Placement.Status.HOST_ACCEPTED, *Placement.VISITS),
        date__gte=first,
        date__lt=following,
    ).count()
    waiting = Placement.objects.filter(
        programme=programme,
        workplace__organisation_id=actor.organisation_id,
        status=Placement.Status.AWAITING_HOST,
    ).count()
    return {"workplaces": workplaces, "waiting": waiting, "this_month": this_month}


def _coordinator_panel(request: Any) -> dict[str, Any] | None:
    """Coordinators: the matching dashboard's figures and the hosts with visitors to answer (3 queries)."""
    from shadowing.views.coordinators import dashboard_figures

    actor = actor_for(request.user)
    programme: Programme = request.programme
    if not permissions.can_manage(actor, programme):
        return None
    figures: dict[str, Any] = dict(dashboard_figures(programme))
    rows = (
        Placement.objects.filter(programme=programme, status=Placement.Status.AWAITING_HOST)
        .values_list("workplace__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "workplace__name")[:5]
    )
    figures["waiting_hosts"] = list(rows)
    return figures


registry.dashboard_panels.register(
    "shadowing.mine", registry.DashboardPanel("shadowing/panels/mine.html", _mine_panel), order=25
)
registry.dashboard_panels.register(
    "shadowing.approvals",
    registry.DashboardPanel("shadowing/panels/approvals.html", _approvals_panel),
    order=19,
)
registry.dashboard_panels.register(
    "shadowing.host", registry.DashboardPanel("shadowing/panels/host.html", _host_panel), order=21
)
registry.dashboard_panels.register(
    "shadowing.coordinator",
    registry.DashboardPanel("shadowing/panels/coordinator.html", _coordinator_panel),
    order=22,
)


# --- History and report (the calendar feed, notification kinds and jobs: ``shadowing.jobs``) -------------

# --- Competence profiles: a visit made at a kind of agency gives the competences named for it ---------------

registry.competence_evidence.register(
    "agency_kind",
    registry.CompetenceEvidence(
        kind="agency_kind",
        label=_("Visit made at"),
        choices=selectors.agency_kind_choices,
        completed=selectors.visits_made_by_agency_kind,
        suggest=selectors.workplaces_of_agency_kinds,
    ),
    order=20,
)

from shadowing import jobs  # noqa: E402, F401  (registers notification kinds, periodic jobs, the feed)


def _visits_made(person_id: int) -> QuerySet[Placement]:
    return (
        Placement.objects.filter(request__requester_id=person_id, status__in=Placement.AFTER_VISIT)
        .select_related("workplace__organisation")
        .order_by("-pk")
    )


# My page's history reads it whenever the page is built: compiled to SQL once per connection and scope (the
# stand-in is no person's key).
_VISITS_MADE: ScopedPreparedQuery[Placement, Placement] = ScopedPreparedQuery(
    _visits_made, stand_ins=(-(2**62) + 402,)
)


def _history(person: Person) -> list[registry.HistoryEntry]:
    """Visits made, with what was learned and the host's feedback (3 queries)."""
    placements = _VISITS_MADE.fetch(person.pk)
    if not placements:  # most people's page: the three reads below would ask for nothing
        return []
    ids = [p.pk for p in placements]
    reflections = {r.placement_id: r for r in Reflection.objects.filter(placement_id__in=ids)}
    feedback = {f.placement_id: f for f in HostFeedback.objects.filter(placement_id__in=ids)}
    last_days: dict[int, date] = {}
    for placement_id, day in PlacementDay.objects.filter(placement_id__in=ids).values_list(
        "placement_id", "date"
    ):
        last_days[placement_id] = max(day, last_days.get(placement_id, day))
    entries = []
    for p in placements:
        parts = []
        reflection = reflections.get(p.pk)
        if reflection is not None:
            parts.append(str(_("Learned: %(text)s")) % {"text": reflection.learned})
            parts.append(str(_("Will use it: %(text)s")) % {"text": reflection.how_used})
            if reflection.how_shared:
                parts.append(str(_("Shared: %(text)s")) % {"text": reflection.how_shared})
        if p.pk in feedback:
            parts.append(str(_("The host: %(text)s")) % {"text": feedback[p.pk].feedback})
        entries.append(
            registry.HistoryEntry(
                when=last_days.get(p.pk) or p.created_at,
                kind=str(_("Job shadowing")),
                title=f"{p.workplace.name} ({p.workplace.organisation.name})",
                detail="\n".join(parts),
                url=page_url("placement-detail", pk=p.pk),
            )
        )
    return entries


registry.history_providers.register("shadowing", _history)


# --- History import ---------------------------------------------------------------------------------------

registry.history_importers.register(
    "shadowing.visits",
    registry.HistoryImporter(
        key="shadowing.visits",
        label=_("Visits made"),
        description=_(
            "Job-shadowing visits made before the programme used the platform: who, where, which days and "
            "what was learned. Nothing is booked and nobody is notified."
        ),
        columns=history.COLUMNS,
        run=history.visits_import,
        allowed=history.can_import_visits,
    ),
    order=20,
)


# --- Demo data ---------------------------------------------------------------------


def _seed() -> list[tuple[str, str]]:
    from shadowing.seed.loader import seed_shadowing

    return seed_shadowing()


registry.demo_seeders.register(
    "shadowing", registry.DemoSeeder("shadowing", _seed, depends_on=("organisations",)), order=30
)


# The audit trail (see organisations/hooks.py): who changed what, filed under the row's programme. Of a slot
# only its capacity is audited; its booked counter moves with every placement, which is audited itself.
auditlog.register(Workplace)
auditlog.register(Slot, include_fields=["capacity"])
auditlog.register(ShadowingRequest)
auditlog.register(Placement)
auditlog.register(PlacementCost)
auditlog.register(MatchingRun)


def _onboarding_step(programme: Programme) -> registry.OnboardingStep:
    """The onboarding checklist: a first published workplace (one query)."""
    count = Workplace.objects.filter(programme=programme, is_published=True).count()
    return registry.OnboardingStep(
        _("A first workplace open for shadowing"),
        count > 0,
        ngettext("%(count)s published workplace.", "%(count)s published workplaces.", count)
        % {"count": count},
        page_url("workplaces"),
    )


registry.onboarding_steps.register("shadowing.workplace", _onboarding_step, order=70)

# A person's own data: their download, and what erasing them changes here.
registry.personal_data_exporters.register("shadowing", selectors.personal_data_sections, order=20)
registry.personal_data_erasers.register("shadowing.placements", placements_cancel_for_erasure, order=20)
registry.personal_data_erasers.register("shadowing.requests", requests_withdraw_for_erasure, order=21)
# A visit's calendar event shows the visitor's and the host contact's name, address and phone.
registry.calendar_people_changed.register("shadowing.placements", placements_show_changed_people)
