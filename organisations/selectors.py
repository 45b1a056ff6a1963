"""Reads of programmes, organisations, units and people, already limited to what the actor may see.

The tenant scope (see ``coordinator.core.tenancy``) is active in every request; these selectors add the
within-programme rules and the joins each list needs, so that a list costs a fixed number of queries.
"""

from __future__ import annotations

from auditlog.models import LogEntry
from django.db.models import Prefetch, Q, QuerySet

from organisations.models import (
    AuditEntryProgramme,
    Funder,
    Invitation,
    Membership,
    Organisation,
    Participation,
    ParticipationInvitation,
    Person,
    PlatformRole,
    Programme,
    RoleAssignment,
    Unit,
    WorkRole,
)
from organisations.permissions import COORDINATING_ROLES, Actor


def programmes_for(actor: Actor) -> QuerySet[Programme]:
    return Programme.objects.filter(pk__in=actor.programme_ids).prefetch_related(
        Prefetch("funders", queryset=Funder.objects.all())
    )


def organisations_for(actor: Actor) -> QuerySet[Organisation]:
    return Organisation.objects.prefetch_related(
        Prefetch("participations", queryset=Participation.objects.select_related("programme"))
    )


def units_for(actor: Actor) -> QuerySet[Unit]:
    return Unit.objects.select_related("organisation", "parent")


def work_roles_for(actor: Actor) -> QuerySet[WorkRole]:
    return WorkRole.objects.select_related("programme")


def people_for(actor: Actor) -> QuerySet[Person]:
    # Each person's memberships are limited to the actor's programmes (the scope may be wider, in the API).
    memberships = (
        Membership.objects.filter(programme_id__in=actor.programme_ids)
        .select_related("programme", "work_role")
        .prefetch_related(Prefetch("role_assignments", queryset=RoleAssignment.objects.all()))
    )
    return Person.objects.select_related(
        "user", "organisation", "unit", "line_manager__user"
    ).prefetch_related(Prefetch("memberships", queryset=memberships))


def people_with_role(programme: Programme, *roles: str) -> QuerySet[Person]:
    return (
        Person.objects.filter(
            memberships__programme=programme,
            memberships__is_active=True,
            memberships__role_assignments__role__in=roles,
        )
        .select_related("user", "organisation")
        .distinct()
    )


def coordinators_of(programme: Programme) -> QuerySet[Person]:
    return people_with_role(programme, *COORDINATING_ROLES)


def members_of(programme: Programme) -> QuerySet[Person]:
    return Person.objects.filter(
        memberships__programme=programme, memberships__is_active=True
    ).select_related("user", "organisation", "unit")


def audit_trail(
    programme: Programme, *, model_label: str | None = None, person: Person | None = None
) -> QuerySet[LogEntry]:
    """The audit entries filed under a programme (see ``AuditEntryProgramme``), newest first, optionally of
    one kind of object (``"app_label.model"``) or by one person."""
    entries = LogEntry.objects.filter(
        pk__in=AuditEntryProgramme.objects.filter(programme=programme).values("log_entry")
    )
    if model_label:
        app_label, model = model_label.split(".", 1)
        entries = entries.filter(content_type__app_label=app_label, content_type__model=model)
    if person is not None:
        entries = entries.filter(actor=person.user_id)
    return entries.select_related("content_type", "actor").order_by("-timestamp", "-pk")


def agency_directory(
    *, search: str = "", excluding_programme: Programme | None = None
) -> QuerySet[Organisation]:
    """Every agency on the platform by name, for programme admins to invite and platform administrators to
    name a first admin's organisation. It answers names and kinds only: callers show no programmes, units
    or people of an agency (what other programmes contain stays theirs)."""
    # Past the scope by design: the directory is the one list of the whole platform's agencies.
    agencies = Organisation.unscoped_objects.all()
    if search:
        agencies = agencies.filter(name__icontains=search) | agencies.filter(short_name__icontains=search)
    if excluding_programme is not None:
        agencies = agencies.exclude(
            pk__in=Participation.unscoped_objects.filter(programme=excluding_programme).values("organisation")
        )
    return agencies.order_by("name", "pk")


def invitations_of(programme: Programme) -> QuerySet[ParticipationInvitation]:
    """A programme's invitations to agencies, newest first."""
    return ParticipationInvitation.objects.filter(programme=programme).select_related(
        "programme", "organisation"
    )


def invitations_to(organisation: Organisation) -> QuerySet[ParticipationInvitation]:
    """The invitations an agency received, newest first, for its own admins (the caller checks that).

    Read past the scope: they come from programmes the agency's admins do not belong to yet.
    """
    return ParticipationInvitation.unscoped_objects.filter(organisation=organisation).select_related(
        "programme", "organisation"
    )


def invitations_for(actor: Actor) -> QuerySet[Invitation]:
    """Invitations the actor may see and act on: every one in the programmes they administer, and those of
    their own organisation's people where they are an organisation admin."""
    admin_of = actor.programmes_with_role(PlatformRole.PROGRAMME_ADMIN)
    org_admin_of = actor.programmes_with_role(PlatformRole.ORGANISATION_ADMIN)
    visible = Q(programme_id__in=admin_of)
    if actor.organisation_id is not None:
        visible |= Q(programme_id__in=org_admin_of, person__organisation_id=actor.organisation_id)
    return Invitation.objects.filter(visible).select_related("person__user", "programme", "invited_by__user")
