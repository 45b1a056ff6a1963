"""What this app contributes to the shared navigation, start page and demo data."""

from __future__ import annotations

from datetime import date
from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.db.models import Count, Q
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from coordinator.core import registry
from coordinator.core.models import OutboundEmail
from organisations.models import (
    AuditEntryProgramme,
    Membership,
    Organisation,
    Participation,
    Person,
    PlatformRole,
    Programme,
    RoleAssignment,
    Unit,
    WorkRole,
)
from organisations.permissions import COORDINATING_ROLES, request_has_role
from organisations.selectors import coordinators_of, members_of, personal_data_sections
from organisations.services.personal_data import erase_expired_people


def _programme_panel(request: Any) -> dict[str, Any] | None:
    programme = request.programme
    organisations = (
        Organisation.objects.filter(participations__programme=programme)
        .order_by("name")
        .values("pk", "name", "short_name")
    )
    counts = dict(members_of(programme).values_list("organisation").annotate(n=Count("pk")).order_by())
    return {
        "programme": programme,
        "organisations": [dict(o, members=counts.get(o["pk"], 0)) for o in organisations],
        "funders": list(programme.funders.all()),
    }


def _outbox_panel(request: Any) -> dict[str, Any] | None:
    if not request_has_role(request, *COORDINATING_ROLES):
        return None
    failed = OutboundEmail.objects.filter(programme=request.programme, status=OutboundEmail.Status.FAILED)
    pending = OutboundEmail.objects.filter(programme=request.programme, status=OutboundEmail.Status.PENDING)
    counts = {"failed": failed.count(), "pending": pending.filter(attempts__gt=0).count()}
    if not any(counts.values()):
        return None
    return {**counts, "recent_failures": list(failed.order_by("-created_at")[:5])}


registry.nav_items.register(
    "organisations", registry.NavItem(_("Organisations"), "organisations:list"), order=90
)


def _reports_viewer(request: Any) -> bool:
    return request_has_role(
        request, PlatformRole.PROGRAMME_ADMIN, PlatformRole.COORDINATOR, PlatformRole.ORGANISATION_ADMIN
    )


registry.nav_items.register(
    "audit",
    registry.NavItem(
        _("Audit trail"),
        "organisations:audit",
        lambda request: request_has_role(request, PlatformRole.PROGRAMME_ADMIN),
    ),
    order=96,
)

registry.nav_items.register(
    "barometer", registry.NavItem(_("Barometer"), "barometer", _reports_viewer), order=95
)


def _report(programme: Programme, start: date, end: date) -> registry.ReportSection:
    """Who takes part: organisations, active members by organisation, and who joined in the period
    (two queries)."""
    rows = list(
        Membership.objects.filter(programme=programme, is_active=True)
        .values("person__organisation__name")
        .annotate(
            members=Count("pk"),
            joined=Count("pk", filter=Q(joined_at__date__gte=start, joined_at__date__lte=end)),
        )
        .order_by("person__organisation__name")
    )
    organisations = Participation.objects.filter(programme=programme).count()
    return registry.ReportSection(
        title=_("Organisations and people"),
        figures=[
            (_("Organisations taking part"), organisations),
            (_("Active members"), sum(r["members"] for r in rows)),
            (_("Joined in the period"), sum(r["joined"] for r in rows)),
        ],
        tables=[
            registry.ReportTable(
                caption=_("Members by organisation"),
                columns=[_("Organisation"), _("Active members"), _("Joined in the period")],
                rows=[[r["person__organisation__name"], r["members"], r["joined"]] for r in rows],
            )
        ],
    )


registry.report_providers.register("organisations", _report, order=10)
registry.dashboard_panels.register(
    "organisations.outbox",
    registry.DashboardPanel("organisations/panels/outbox.html", _outbox_panel),
    order=5,
)
registry.dashboard_panels.register(
    "organisations.programme",
    registry.DashboardPanel("organisations/panels/programme.html", _programme_panel),
    order=900,
)


def _seed() -> list[tuple[str, str]]:
    from organisations.seed.loader import seed_organisations

    return seed_organisations()


registry.demo_seeders.register("organisations", registry.DemoSeeder("organisations", _seed), order=10)

registry.personal_data_exporters.register("organisations", personal_data_sections, order=10)
registry.periodic_jobs.register(
    "organisations.personal_data_retention",
    registry.PeriodicJob("organisations.personal_data_retention", erase_expired_people, every_seconds=3600),
)

# A message that could not be delivered after every retry is shown to the programme's coordinators.
registry.delivery_failure_recipients.register("coordinators", coordinators_of)


# The audit trail (django-auditlog). Each app registers its own models here, in its hooks; the actor comes
# from the request (the auditlog middleware for pages, ProgrammeScopedViewSet for token-authenticated API
# calls) and is empty for work done by jobs. What a calendar address is derived from is never logged.
auditlog.register(Programme)
auditlog.register(Organisation)
auditlog.register(Participation)
auditlog.register(Unit)
auditlog.register(WorkRole)
auditlog.register(
    Person, exclude_fields=["calendar_nonce", "calendar_token_hash", "legacy_calendar_token_hash"]
)
# When a membership ended is the time of its is_active change on the trail; the dated copy is bookkeeping.
auditlog.register(Membership, exclude_fields=["ended_at"])
auditlog.register(RoleAssignment)


@receiver(post_save, sender=LogEntry, dispatch_uid="organisations.audit_entry_programmes")
def _link_audit_entry_to_programmes(
    sender: type, instance: LogEntry, created: bool, **kwargs: object
) -> None:
    """File each new audit entry under the programmes its row belonged to (see AuditEntryProgramme).

    A receiver rather than a service call because django-auditlog writes entries from model signals (and a
    service that updates by compare-and-set writes its own); it only files the entry, no domain logic."""
    log_entry = instance
    if not created or not isinstance(log_entry.additional_data, dict):
        return
    AuditEntryProgramme.objects.bulk_create(
        AuditEntryProgramme(log_entry=log_entry, programme_id=programme_id)
        for programme_id in log_entry.additional_data.get("programmes", [])
    )
