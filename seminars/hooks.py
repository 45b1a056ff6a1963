"""What the seminars app contributes to the shared pages: navigation, start-page panels, the calendar feed,
history, the programme report, notification kinds, the periodic sweep and demo data."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from auditlog.registry import auditlog
from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from coordinator.core import registry
from coordinator.core.formatting import Money
from coordinator.core.prepared import ScopedPreparedQuery
from organisations.models import Person, PlatformRole, Programme
from organisations.permissions import COORDINATING_ROLES, actor_for, request_has_role, request_is_member
from seminars import invites, permissions
from seminars import reports as _outcome_readers  # noqa: F401 - registers measures, follow-ups, costs
from seminars.models import (
    KIND_APPROVAL,
    KIND_COMPLETION,
    KIND_ENROLMENT,
    KIND_OFFER,
    Completion,
    Course,
    Enrolment,
    OrganisationQuota,
    Round,
    RoundCost,
    Session,
)
from seminars.selectors import competence, participation, personal_data, reports, teaching
from seminars.services import history, waiting_list
from seminars.services.enrolments import bookings_show_changed_people, enrolments_end_for_erasure

registry.nav_items.register(
    "seminars", registry.NavItem(_("Courses"), "seminars:catalogue", request_is_member), order=30
)
registry.nav_items.register(
    "seminars.approvals",
    registry.NavItem(
        _("Approvals"), "seminars:approvals", lambda r: request_has_role(r, PlatformRole.LINE_MANAGER)
    ),
    order=31,
)
registry.nav_items.register(
    "seminars.teaching",
    registry.NavItem(
        _("Teaching"), "seminars:teaching", lambda r: request_has_role(r, PlatformRole.COURSE_PROVIDER)
    ),
    order=32,
)
registry.nav_items.register(
    "seminars.manage",
    registry.NavItem(
        _("Course admin"),
        "seminars:manage",
        lambda r: request_has_role(r, PlatformRole.COORDINATOR, PlatformRole.PROGRAMME_ADMIN),
    ),
    order=33,
)


# --- Start-page panels (each a fixed number of queries) -------------------------------------------------


def _my_courses_panel(request: Any) -> dict[str, Any] | None:
    """Staff: offers to answer, upcoming sessions, queue places, and how many rounds are open (4 queries)."""
    actor = actor_for(request.user)
    programme: Programme = request.programme
    if actor.person is None or not actor.has_role(programme, PlatformRole.STAFF):
        return None
    now = timezone.now()
    active = list(
        Enrolment.objects.filter(
            person=actor.person, status__in=Enrolment.ACTIVE, round__course__programme=programme
        )
        .select_related("round__course")
        .order_by("round__starts_at", "pk")
    )
    positions = participation.queue_positions(
        [e.round_id for e in active if e.status == Enrolment.Status.WAITING]
    )
    confirmed_rounds = [e.round_id for e in active if e.status == Enrolment.Status.CONFIRMED]
    sessions = list(
        Session.objects.filter(round_id__in=confirmed_rounds, ends_at__gt=now)
        .select_related("round__course")
        .order_by("starts_at")[:3]
    )
    open_rounds = (
        Round.objects.filter(
            course__programme=programme,
            course__is_archived=False,
            status=Round.Status.PUBLISHED,
            registration_opens_at__lte=now,
            registration_closes_at__gt=now,
        )
        .filter(Q(starts_at__gt=now) | Q(starts_at__isnull=True))
        .count()
    )
    return {
        "offers": [e for e in active if e.status == Enrolment.Status.OFFERED],
        "pending": [e for e in active if e.status == Enrolment.Status.PENDING_APPROVAL],
        "waiting": [(e, positions.get(e.pk)) for e in active if e.status == Enrolment.Status.WAITING],
        "sessions": sessions,
        "open_rounds": open_rounds,
    }


def _approvals_panel(request: Any) -> dict[str, Any] | None:
    """Line managers (and coordinators for people without one): requests waiting for a decision (1 query)."""
    actor = actor_for(request.user)
    if actor.person is None:
        return None
    pending = list(participation.approvals_for(actor, request.programme)[:6])
    if not pending:
        return None
    return {"pending": pending[:5], "more": len(pending) > 5}


def _teaching_panel(request: Any) -> dict[str, Any] | None:
    """Course providers: rounds of their courses running now or soon, to mark attendance (1 query)."""
    actor = actor_for(request.user)
    programme = request.programme
    if not actor.has_role(programme, PlatformRole.COURSE_PROVIDER):
        return None
    now = timezone.now()
    rounds = list(
        teaching.provider_rounds(actor, programme)
        .filter(status=Round.Status.PUBLISHED, ends_at__gte=now - timedelta(days=30))
        .order_by("starts_at")[:5]
    )
    return {"rounds": rounds, "now": now}


def _demand_panel(request: Any) -> dict[str, Any] | None:
    """Coordinators: the courses whose queues exceed their free seats, and reserved seats that organisations
    have not taken yet (6 queries)."""
    actor = actor_for(request.user)
    programme = request.programme
    if not permissions.can_manage(actor, programme):
        return None
    now = timezone.now()
    rows = reports.demand(programme, now)
    return {
        "needs_round": [d for d in rows if d.needs_round][:5],
        "waiting": sum(d.waiting for d in rows),
        "unfilled_quotas": reports.unfilled_quotas(programme, now),
    }


registry.dashboard_panels.register(
    "seminars.mine", registry.DashboardPanel("seminars/panels/my_courses.html", _my_courses_panel), order=30
)
registry.dashboard_panels.register(
    "seminars.approvals",
    registry.DashboardPanel("seminars/panels/approvals.html", _approvals_panel),
    order=20,
)
registry.dashboard_panels.register(
    "seminars.teaching", registry.DashboardPanel("seminars/panels/teaching.html", _teaching_panel), order=31
)
registry.dashboard_panels.register(
    "seminars.demand", registry.DashboardPanel("seminars/panels/demand.html", _demand_panel), order=32
)


# --- Calendar feed, history, report ---------------------------------------------------------------------

registry.calendar_providers.register("seminars", invites.feed_provider)
registry.calendar_decline_handlers.register("seminars.round", invites.declined_in_calendar)


def _completions(person_id: int) -> QuerySet[Completion]:
    return Completion.objects.filter(person_id=person_id).select_related("course").order_by("-completed_on")


# My page's history reads it whenever the page is built: compiled to SQL once per connection and scope (the
# stand-in is no person's key).
_COMPLETIONS: ScopedPreparedQuery[Completion, Completion] = ScopedPreparedQuery(
    _completions, stand_ins=(-(2**62) + 401,)
)


def _history(person: Person) -> list[registry.HistoryEntry]:
    completions = _COMPLETIONS.fetch(person.pk)
    return [
        registry.HistoryEntry(
            when=c.completed_on,
            kind=str(_("Course")),
            title=c.course.title,
            detail=str(c.get_method_display()) + (f"\n{c.note}" if c.note else ""),
        )
        for c in completions
    ]


registry.history_providers.register("seminars", _history)


def _report(programme: Programme, start: date, end: date) -> registry.ReportSection:
    """Seminars in the programme barometer: completions, participants, costs, funders' shares and contributed
    staff hours in the period (the cost report's fixed number of queries, plus one)."""
    report = reports.cost_report(programme, start, end)
    completions = Completion.objects.filter(
        course__programme=programme, completed_on__gte=start, completed_on__lte=end
    ).count()
    return registry.ReportSection(
        title=_("Courses and seminars"),
        figures=[
            (_("Rounds held"), len(report.rounds)),
            (_("Participants"), sum(f.participants for f in report.rounds)),
            (_("Courses completed"), completions),
            (_("Contributed staff hours"), report.staff_hours),
            (_("Total cost"), Money(report.total_cost, programme.currency)),
        ],
        tables=[
            registry.ReportTable(
                caption=_("Financing by funder"),
                columns=[_("Funder"), _("Share (%)"), _("Amount")],
                rows=[[f.name, f.share_percent, Money(f.amount, programme.currency)] for f in report.funders],
            ),
            registry.ReportTable(
                caption=_("Contributed staff hours by organisation"),
                columns=[_("Organisation"), _("Participants"), _("Hours")],
                rows=[[h.name, h.participants, h.hours] for h in report.hours_by_organisation],
            ),
        ],
        link_label=_("Costs and financing in detail"),
        link_url=reverse("seminars:report") + f"?start={start.isoformat()}&end={end.isoformat()}",
        link_roles=COORDINATING_ROLES,  # the cost report's required_roles
    )


registry.report_providers.register("seminars", _report)


# --- Notifications, jobs, demo data ---------------------------------------------------------------------

for key, label, email in (
    (KIND_ENROLMENT, _("Course bookings: seats, waiting list, changes"), True),
    (KIND_OFFER, _("A course seat is offered to you from the waiting list"), True),
    (KIND_APPROVAL, _("Course enrolments waiting for your approval"), True),
    (KIND_COMPLETION, _("Courses recorded as completed"), False),
):
    registry.notification_kinds.register(key, registry.NotificationKind(key, label, default_email=email))

registry.periodic_jobs.register(
    "seminars.sweep",
    registry.PeriodicJob(
        "seminars.sweep", waiting_list.rounds_sweep, every_seconds=settings.JOBS_INTERVAL_SECONDS
    ),
)


def _seed() -> list[tuple[str, str]]:
    from seminars.seed.loader import seed_seminars

    return seed_seminars()


registry.demo_seeders.register(
    "seminars", registry.DemoSeeder("seminars", _seed, depends_on=("organisations",)), order=40
)


# The audit trail (see organisations/hooks.py): who changed what, filed under the row's programme.
auditlog.register(Round)
# The reverse one-to-one to a discussion group is no column of the booking: tracking it read the group
# membership again on every save of a booking, to log nothing.
auditlog.register(Enrolment, exclude_fields=["group_membership"])
auditlog.register(OrganisationQuota)
auditlog.register(RoundCost)


def _onboarding_step(programme: Programme) -> registry.OnboardingStep:
    """The onboarding checklist: a first course in the catalogue (one query)."""
    count = Course.objects.filter(programme=programme).count()
    return registry.OnboardingStep(
        _("A first course"),
        count > 0,
        ngettext("%(count)s course.", "%(count)s courses.", count) % {"count": count},
        reverse("seminars:course-create"),
    )


registry.onboarding_steps.register("seminars.course", _onboarding_step, order=60)

# --- History import ---------------------------------------------------------------------------------------

registry.history_importers.register(
    "seminars.completions",
    registry.HistoryImporter(
        key="seminars.completions",
        label=_("Course completions"),
        description=_(
            "Who completed which course and when, from the programme's earlier records: one row per person "
            "and course. Nobody is notified."
        ),
        columns=history.COLUMNS,
        run=history.completions_import,
        allowed=history.can_import_completions,
    ),
    order=10,
)

# A person's own data: their download, and what erasing them changes here.
registry.personal_data_exporters.register("seminars", personal_data.personal_data_sections, order=30)
registry.personal_data_erasers.register("seminars", enrolments_end_for_erasure, order=30)
# A session's calendar event shows its participant's name and address.
registry.calendar_people_changed.register("seminars.bookings", bookings_show_changed_people)


# --- Competence profiles: a completed course gives the competences it is named for --------------------------

registry.competence_evidence.register(
    "course",
    registry.CompetenceEvidence(
        kind="course",
        label=_("Course completed"),
        choices=competence.course_choices,
        completed=competence.courses_completed,
        suggest=competence.open_rounds_of,
    ),
    order=10,
)
