"""What the focus-groups app contributes to the shared pages: navigation, start-page panels, the calendar
feed, history and demo data. (Its notification kinds are registered with the services that send them.)"""

from __future__ import annotations

from typing import Any

from auditlog.registry import auditlog
from django.db.models import Count, Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from coordinator.core import registry
from coordinator.core.prepared import ScopedPreparedQuery
from focusgroups import invites, permissions, selectors
from focusgroups.models import FocusGroup, GroupMembership, Meeting, Note
from focusgroups.services import groups
from focusgroups.services.meetings import meetings_show_changed_people
from organisations.access.revocation import close_sockets_of_person
from organisations.models import Organisation, Person, Programme
from organisations.permissions import actor_for, request_is_member


def _default_groups(programme: Programme) -> None:
    """A new programme starts with the six default focus groups, in its language."""
    groups.ensure_default_groups(programme)


registry.programme_created.register("focusgroups.default_groups", _default_groups, order=20)

registry.nav_items.register(
    "focusgroups", registry.NavItem(_("Focus groups"), "focusgroups:list", request_is_member), order=40
)
registry.nav_items.register(
    "focusgroups.glossary",
    registry.NavItem(_("Glossary"), "focusgroups:glossary", request_is_member),
    order=41,
)


# --- Start-page panels (each a fixed number of queries) -------------------------------------------------


def _my_groups_panel(request: Any) -> dict[str, Any] | None:
    """Staff: the groups I sit in, my open actions and the programme's public notes (3 queries)."""
    actor = actor_for(request.user)
    programme: Programme = request.programme
    person = actor.person
    if person is None or not actor.is_member(programme):
        return None
    memberships = list(
        GroupMembership.objects.filter(person=person, is_active=True, group__programme=programme)
        .select_related("group")
        .order_by("group__name")
    )
    actions = selectors.open_actions_for(person, limit=6)
    public_notes = selectors.public_notes_for(actor, limit=5)
    if not memberships and not actions and not public_notes:
        return None
    return {
        "memberships": memberships,
        "actions": actions[:5],
        "more_actions": len(actions) > 5,
        "public_notes": public_notes,
        "today": timezone.localdate(),
    }


def _lacking_panel(request: Any) -> dict[str, Any] | None:
    """Coordinators: groups in which an organisation of the programme has no representative (3 queries)."""
    actor = actor_for(request.user)
    programme: Programme = request.programme
    if not permissions.can_manage_groups(actor, programme):
        return None
    organisations = list(Organisation.objects.filter(participations__programme=programme).order_by("name"))
    represented = selectors.represented_by_group(programme)
    lacking = []
    for group in FocusGroup.objects.filter(programme=programme).order_by("name", "pk"):
        missing = [o for o in organisations if o.pk not in represented.get(group.pk, set())]
        if missing:
            lacking.append((group, missing))
    return {"lacking": lacking}


def _meetings_panel(request: Any) -> dict[str, Any] | None:
    """Conveners: the coming meetings of the groups they convene (2 queries)."""
    actor = actor_for(request.user)
    programme: Programme = request.programme
    person = actor.person
    if person is None:
        return None
    convened = list(
        FocusGroup.objects.filter(
            Q(convener=person)
            | Q(memberships__person=person, memberships__is_active=True, memberships__role="convener"),
            programme=programme,
        )
        .distinct()
        .annotate(members=Count("memberships", filter=Q(memberships__is_active=True), distinct=True))
        .order_by("name")
    )
    if not convened:
        return None
    meetings = list(
        Meeting.objects.filter(
            group__in=[g.pk for g in convened], status=Meeting.Status.SCHEDULED, ends_at__gte=timezone.now()
        )
        .select_related("group")
        .order_by("starts_at", "pk")[:5]
    )
    return {"groups": convened, "meetings": meetings}


registry.dashboard_panels.register(
    "focusgroups.mine",
    registry.DashboardPanel("focusgroups/panels/my_groups.html", _my_groups_panel),
    order=40,
)
registry.dashboard_panels.register(
    "focusgroups.convener",
    registry.DashboardPanel("focusgroups/panels/meetings.html", _meetings_panel),
    order=41,
)
registry.dashboard_panels.register(
    "focusgroups.lacking",
    registry.DashboardPanel("focusgroups/panels/lacking.html", _lacking_panel),
    order=42,
)


# --- Calendar feed, history -----------------------------------------------------------------------------

registry.calendar_providers.register("focusgroups", invites.feed_events)
registry.calendar_decline_handlers.register("focusgroups.meeting", invites.declined_in_calendar)
registry.notification_kinds.register(
    invites.KIND_MEETING_REPLY,
    registry.NotificationKind(
        invites.KIND_MEETING_REPLY, _("Members who declined a meeting in their calendar (conveners)")
    ),
)


def _memberships(person_id: int) -> QuerySet[GroupMembership]:
    return GroupMembership.objects.filter(person_id=person_id).select_related("group").order_by("-joined_at")


# My page's history reads it whenever the page is built: compiled to SQL once per connection and scope (the
# stand-in is no person's key).
_MEMBERSHIPS: ScopedPreparedQuery[GroupMembership, GroupMembership] = ScopedPreparedQuery(
    _memberships, stand_ins=(-(2**62) + 403,)
)


def _history(person: Person) -> list[registry.HistoryEntry]:
    """Focus groups I have sat in (and when), for my page."""
    memberships = _MEMBERSHIPS.fetch(person.pk)
    entries = []
    for m in memberships:
        detail = str(m.get_role_display())
        if m.left_at is not None:
            detail += " · " + str(_("left on %(date)s") % {"date": timezone.localdate(m.left_at).isoformat()})
        entries.append(
            registry.HistoryEntry(
                when=m.joined_at, kind=str(_("Focus group")), title=m.group.name, detail=detail
            )
        )
    return entries


registry.history_providers.register("focusgroups", _history)


# --- Demo data ------------------------------------------------------------------------------------------


def _seed() -> list[tuple[str, str]]:
    from focusgroups.seed.loader import seed_focusgroups

    return seed_focusgroups()


registry.demo_seeders.register(
    "focusgroups", registry.DemoSeeder("focusgroups", _seed, depends_on=("organisations",)), order=50
)


# The audit trail (see organisations/hooks.py): who changed what, filed under the row's programme. Of a note
# only who may read it and its title are audited, never its text: the text has its own version history and
# may hold sensitive minutes.
auditlog.register(FocusGroup)
auditlog.register(GroupMembership)
auditlog.register(Note, include_fields=["title", "visibility"])


# --- Sockets follow rights (organisations.access.revocation) -----------------------------------------------


@receiver(post_save, sender=GroupMembership, dispatch_uid="focusgroups.membership_saved_sockets")
def _group_membership_saved(sender: type, instance: GroupMembership, created: bool, **kwargs: object) -> None:
    """An ended membership or a changed role: the person's sockets ask again (a live-notes socket of an
    observer no longer saves; one of a person who left closes). Admin-site edits reach here too."""
    if not created:
        close_sockets_of_person(instance.person_id, "focus-group membership changed")


@receiver(post_delete, sender=GroupMembership, dispatch_uid="focusgroups.membership_deleted_sockets")
def _group_membership_deleted(sender: type, instance: GroupMembership, **kwargs: object) -> None:
    close_sockets_of_person(instance.person_id, "focus-group membership ended")


def _onboarding_step(programme: Programme) -> registry.OnboardingStep:
    """The onboarding checklist: focus groups with a convener and members (one query)."""
    groups = list(
        FocusGroup.objects.filter(programme=programme).annotate(
            active=Count("memberships", filter=Q(memberships__is_active=True))
        )
    )
    staffed = sum(1 for group in groups if group.active > 0)
    return registry.OnboardingStep(
        _("Focus groups staffed"),
        bool(groups) and staffed == len(groups),
        gettext("%(staffed)s of %(total)s focus groups have members.")
        % {"staffed": staffed, "total": len(groups)},
        reverse("focusgroups:list"),
    )


registry.onboarding_steps.register("focusgroups.staffed", _onboarding_step, order=50)

# A person's own data: their download, and what erasing them changes here.
registry.personal_data_exporters.register("focusgroups", selectors.personal_data_sections, order=40)
registry.personal_data_erasers.register("focusgroups", groups.memberships_end_for_erasure)
# A meeting's calendar event shows its member's name and address.
registry.calendar_people_changed.register("focusgroups.meetings", meetings_show_changed_people)


# --- Competence profiles: a seat in a focus group gives the competences named for it ------------------------

registry.competence_evidence.register(
    "focus_group",
    registry.CompetenceEvidence(
        kind="focus_group",
        label=_("Member of the focus group"),
        choices=selectors.group_choices,
        completed=selectors.group_seats_taken,
        suggest=selectors.groups_to_join,
    ),
    order=30,
)

# Periodic sweeps: named versions of notes whose editing paused, and of those edited in a meeting that ended.
from focusgroups import jobs  # noqa: E402, F401
