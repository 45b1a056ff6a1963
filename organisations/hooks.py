"""What this app contributes to the shared navigation, start page and demo data."""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Count, Q
from django.db.models.signals import post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _

from coordinator.core import registry
from coordinator.core.exceptions import Conflict
from coordinator.core.models import OutboundEmail
from coordinator.core.prepared_writes import PreparedInsert
from coordinator.core.tenancy import TenantModel, active_programme_ids
from organisations import jobs
from organisations.access import revocation  # noqa: F401  (connects the receivers that close sockets)
from organisations.models import (
    AuditEntryProgramme,
    Competence,
    CompetenceConfirmation,
    CompetenceSource,
    Membership,
    Organisation,
    Participation,
    ParticipationInvitation,
    Person,
    PlatformRole,
    ProfileCompetence,
    Programme,
    RoleAssignment,
    Target,
    Unit,
    WorkRole,
)
from organisations.permissions import (
    COORDINATING_ROLES,
    REPORT_READERS,
    Actor,
    request_has_role,
    request_is_member,
)
from organisations.selectors import competence as competence_selectors
from organisations.selectors import coordinators_of, members_of, personal_data_sections
from organisations.services import competence as competence_services
from organisations.services import followups, invitations
from organisations.services.personal_data import erase_expired_people

logger = logging.getLogger(__name__)


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
    return request_has_role(request, *REPORT_READERS)


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
    "invitations",
    registry.NavItem(
        _("Invitations"),
        "organisations:person-invitations",
        lambda request: request_has_role(
            request, PlatformRole.PROGRAMME_ADMIN, PlatformRole.ORGANISATION_ADMIN
        ),
    ),
    order=97,
)

registry.nav_items.register(
    "imports",
    registry.NavItem(
        _("Import"),
        "imports",
        lambda request: request_has_role(
            request, PlatformRole.PROGRAMME_ADMIN, PlatformRole.COORDINATOR, PlatformRole.ORGANISATION_ADMIN
        ),
    ),
    order=98,
)

registry.nav_items.register(
    "barometer", registry.NavItem(_("Barometer"), "barometer", _reports_viewer), order=95
)


def _report(programme: Programme, start: date, end: date) -> registry.ReportSection:
    """Who takes part: organisations, active members by organisation, and who joined in the period
    (two queries)."""
    # A range on the stored time, not ``__date``: SQLite converts every row's time in Python for that.
    zone = timezone.get_current_timezone()
    rows = list(
        Membership.objects.filter(programme=programme, is_active=True)
        .values("person__organisation__name")
        .annotate(
            members=Count("pk"),
            joined=Count(
                "pk",
                filter=Q(
                    joined_at__gte=datetime.combine(start, time.min, tzinfo=zone),
                    joined_at__lte=datetime.combine(end, time.max, tzinfo=zone),
                ),
            ),
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


def _seed_outcomes() -> list[tuple[str, str]]:
    from organisations.seed.outcomes import seed_outcomes

    return seed_outcomes()


registry.demo_seeders.register(
    "organisations.outcomes",
    registry.DemoSeeder(
        "organisations.outcomes", _seed_outcomes, depends_on=("seminars", "shadowing", "focusgroups")
    ),
    order=90,
)

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
auditlog.register(ParticipationInvitation, exclude_fields=["message"])


# An entry's filing under its programmes, its SQL written once per connection and number of programmes.
_FILING_INSERT: PreparedInsert[AuditEntryProgramme] = PreparedInsert(AuditEntryProgramme)


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
    # As ``bulk_create`` writes them (no signals), the SQL written once per connection and number of rows.
    _FILING_INSERT.insert_rows(
        [
            AuditEntryProgramme(log_entry=log_entry, programme_id=programme_id)
            for programme_id in log_entry.additional_data.get("programmes", [])
        ]
    )


# --- What a new programme starts with -------------------------------------------------------------------

# The default roles at work of a new programme (code, name), in English; written in the programme's
# language. Programme admins change the list afterwards.
DEFAULT_WORK_ROLES: tuple[tuple[str, str], ...] = (
    ("case_officer", gettext_noop("Case officer")),
    ("introduction_secretary", gettext_noop("Introduction secretary")),
    ("counsellor", gettext_noop("Counsellor")),
    ("social_worker", gettext_noop("Social worker")),
    ("language_teacher", gettext_noop("Language teacher")),
    ("employment_officer", gettext_noop("Employment officer")),
    ("health_worker", gettext_noop("Health worker")),
    ("manager", gettext_noop("Manager")),
    ("project_lead", gettext_noop("Project lead")),
    ("coordinator", gettext_noop("Coordinator")),
)


def _create_default_work_roles(programme: Programme) -> None:
    with translation.override(programme.language or None):
        for code, name in DEFAULT_WORK_ROLES:
            WorkRole.objects.get_or_create(programme=programme, code=code, defaults={"name": gettext(name)})


registry.programme_created.register("organisations.work_roles", _create_default_work_roles, order=10)


# --- Archived programmes are read-only ------------------------------------------------------------------

ARCHIVED_APPS = frozenset({"organisations", "shadowing", "seminars", "focusgroups"})
# Rows that change while people only read: who is looking at a note right now; the programme's own row
# (archiving and restoring it); the audit trail's filing; an invitation is answered by its own service,
# which refuses archived programmes with a message.
ARCHIVE_EXEMPT = frozenset(
    {"focusgroups.livepresence", "organisations.programme", "organisations.auditentryprogramme"}
)


def _programme_id_of(instance: TenantModel) -> int | None:
    """The one programme a row belongs to, from its own key or its parent's; None for the rows agencies
    share between programmes (organisations, units, people), which archiving one programme does not
    freeze."""
    model = type(instance)
    if model.tenant_path_is_multi:
        return None
    if model.tenant_path == "programme":
        return instance.programme_id  # type: ignore[attr-defined, no-any-return]
    first, _sep, rest = model.tenant_path.partition("__")
    if rest == "programme":
        parent = getattr(instance, first, None)
        return getattr(parent, "programme_id", None)
    return None


def _refuse_writes_in_archived_programme(sender: type, instance: object, **kwargs: object) -> None:
    """Every write of a programme's rows in an archived programme is refused with a message saying why
    (409 in the API, a form error on pages), whichever service, page, socket or API call makes it.

    A receiver rather than a check in each service so that no write path can forget it; it decides
    nothing about the domain. It applies to work done for people (a request, a socket, a programme's
    scope); system sweeps that lift the scope (expiring requests, the outbox) finish what was due."""
    if not isinstance(instance, TenantModel) or active_programme_ids() is None:
        return
    label = instance._meta.label_lower
    if instance._meta.app_label not in ARCHIVED_APPS or label in ARCHIVE_EXEMPT:
        return
    programme_id = _programme_id_of(instance)
    if programme_id is None:
        return
    # Every write of a programme's row runs this: plain SQL, as compiling the query cost more processor
    # time than the database takes to answer it.
    using = kwargs.get("using")
    with connections[using if isinstance(using, str) else DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_ARCHIVED_SQL, [programme_id])
        archived = cursor.fetchone() is not None
    if archived:
        raise Conflict(gettext("This programme is archived: it can be read and exported, but not changed."))


_ARCHIVED_SQL = f"SELECT 1 FROM {Programme._meta.db_table} WHERE id = %s AND archived_at IS NOT NULL"  # noqa: S608 (a table name)


# --- The onboarding checklist and the programme admin's menu ------------------------------------------

registry.nav_items.register(
    "programme",
    registry.NavItem(
        _("Set-up"),
        "organisations:checklist",
        lambda request: request_has_role(request, PlatformRole.PROGRAMME_ADMIN),
    ),
    order=97,
)


def _agencies_step(programme: Programme) -> registry.OnboardingStep:
    count = Participation.objects.filter(programme=programme).count()
    return registry.OnboardingStep(
        _("Agencies taking part"),
        count >= 2,
        ngettext("%(count)s agency takes part.", "%(count)s agencies take part.", count) % {"count": count},
        reverse("organisations:invite"),
    )


def _units_step(programme: Programme) -> registry.OnboardingStep:
    count = Unit.objects.filter(organisation__participations__programme=programme).distinct().count()
    return registry.OnboardingStep(
        _("Units of the agencies"),
        count > 0,
        ngettext("%(count)s unit.", "%(count)s units.", count) % {"count": count},
        reverse("organisations:list"),
    )


def _work_roles_step(programme: Programme) -> registry.OnboardingStep:
    count = WorkRole.objects.filter(programme=programme).count()
    return registry.OnboardingStep(
        _("Roles at work"),
        count > 0,
        ngettext("%(count)s role at work.", "%(count)s roles at work.", count) % {"count": count},
        reverse("organisations:work-roles"),
    )


def _people_step(programme: Programme) -> registry.OnboardingStep:
    figures = Membership.objects.filter(programme=programme, is_active=True).aggregate(
        members=Count("pk"), signed_in=Count("pk", filter=Q(person__user__last_login__isnull=False))
    )
    return registry.OnboardingStep(
        _("People registered and signed in"),
        figures["members"] > 1 and figures["signed_in"] > 1,
        gettext("%(members)s registered, %(signed_in)s of them have signed in.") % figures,
        reverse("organisations:list"),
    )


registry.onboarding_steps.register("organisations.agencies", _agencies_step, order=10)
registry.onboarding_steps.register("organisations.units", _units_step, order=20)
registry.onboarding_steps.register("organisations.work_roles", _work_roles_step, order=30)
registry.onboarding_steps.register("organisations.people", _people_step, order=40)


def guard_archived_programmes() -> None:
    """Connect the guard to every model holding a programme's rows, and to no other model. Called from
    ``OrganisationsConfig.ready()``, when every app's models are loaded."""
    for model in django_apps.get_models():
        label = model._meta.label_lower
        if (
            issubclass(model, TenantModel)
            and model._meta.app_label in ARCHIVED_APPS
            and label not in ARCHIVE_EXEMPT
            and not model.tenant_path_is_multi
        ):
            for signal in (pre_save, pre_delete):
                signal.connect(
                    _refuse_writes_in_archived_programme, sender=model, dispatch_uid=f"archived.{label}"
                )


# --- Invitations after a bulk import -----------------------------------------------------------------------


def _invite_imported(actor: Actor, programme: Programme, people: list[Person]) -> None:
    """Invite the people an import created, each in their own transaction (after the import committed):
    one that cannot be invited (no address) does not keep the others from their mail."""
    for person in people:
        try:
            with transaction.atomic():
                invitations.invite(actor=actor, programme=programme, person=person)
        except (ValidationError, PermissionDenied):
            logger.warning("Imported person %s could not be invited", person.pk, exc_info=True)


registry.person_invited.register("organisations.invitations", _invite_imported)


# --- Competences --------------------------------------------------------------------------------------------
# A line manager's confirmation is on the trail with its date and note; definitions and profiles too.
auditlog.register(Competence)
auditlog.register(CompetenceSource)
auditlog.register(ProfileCompetence)
auditlog.register(CompetenceConfirmation)

# Reports count the competences people gained in a period (cost per competence gained).
registry.competence_gain_counters.register(
    "organisations.competences", competence_selectors.competences_gained_count
)
registry.personal_data_exporters.register(
    "organisations.competences", competence_selectors.personal_data_sections, order=15
)
registry.personal_data_erasers.register(
    "organisations.competences", competence_services.confirmations_erase, order=15
)


def _competence_gap_reader(request: HttpRequest) -> bool:
    return request_has_role(
        request,
        PlatformRole.PROGRAMME_ADMIN,
        PlatformRole.COORDINATOR,
        PlatformRole.ORGANISATION_ADMIN,
        PlatformRole.LINE_MANAGER,
    )


registry.nav_items.register(
    "competences",
    registry.NavItem(_("Competences"), "organisations:competence-gaps", _competence_gap_reader),
    order=94,
)


def _seed_competences() -> list[tuple[str, str]]:
    from organisations.seed.competences import seed_competences

    return seed_competences()


# After the features' demo data: the competences name their courses and focus groups.
registry.demo_seeders.register(
    "organisations.competences",
    registry.DemoSeeder(
        "organisations.competences",
        _seed_competences,
        depends_on=("organisations", "seminars", "focusgroups"),
    ),
    order=60,
)
# --- Targets, weekly status, follow-ups ------------------------------------------------------------------

registry.periodic_jobs.register(
    "organisations.weekly_status",
    registry.PeriodicJob("organisations.weekly_status", jobs.weekly_status_send, every_seconds=3600),
)
registry.periodic_jobs.register(
    "organisations.follow_ups",
    registry.PeriodicJob("organisations.follow_ups", jobs.follow_ups, every_seconds=3600),
)
registry.notification_kinds.register(
    jobs.STATUS_KIND, registry.NotificationKind(jobs.STATUS_KIND, _("Weekly status of the programme"))
)
registry.notification_kinds.register(
    followups.KIND, registry.NotificationKind(followups.KIND, _("Follow-ups: did it make a difference"))
)
# Targets and the effect report are reached from the barometer.
registry.nav_items.register(
    "follow-ups",
    registry.NavItem(_("Follow-ups"), "organisations:follow-ups", request_is_member),
    order=85,
)
auditlog.register(Target)
