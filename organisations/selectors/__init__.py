"""Reads of programmes, organisations, units and people, already limited to what the actor may see.

The tenant scope (see ``coordinator.core.tenancy``) is active in every request; these selectors add the
within-programme rules and the joins each list needs, so that a list costs a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordinator.core import registry, shapes
from coordinator.core.aggregates import JoinedText
from coordinator.core.models import Notification, NotificationPreference, OutboundEmail
from coordinator.core.rows import Rows, with_rows
from coordinator.core.tenancy import programme_scope, restrict_to_programmes
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
from organisations.permissions import COORDINATING_ROLES, VISIBLE_MEMBERSHIPS, Actor

# Rows fetched per round trip when a person's history is streamed.
EXPORT_BATCH = 500


def funder_rows(programme_ids: Iterable[int]) -> dict[int, list[tuple[str, object]]]:
    """Per programme, its funders' names and shares in their order (what ``programmes_for``'s prefetch
    holds), in one query compiled once per connection and page of programmes (``shapes.compiled``)."""
    by_programme: dict[int, list[tuple[str, object]]] = {pk: [] for pk in programme_ids}
    found = shapes.compiled(
        ("programme funders", tuple(by_programme)),
        lambda: Funder.objects.filter(programme_id__in=list(by_programme)).values_list(
            "programme_id", "name", "share_percent"
        ),
    )
    rows = found.fetch() if isinstance(found, shapes.CompiledPage) else found
    for programme_id, name, share_percent in rows:
        by_programme[programme_id].append((name, share_percent))  # type: ignore[index,arg-type]
    return by_programme


def programmes_for(actor: Actor) -> QuerySet[Programme]:
    return Programme.objects.filter(pk__in=actor.programme_ids).prefetch_related(
        Prefetch("funders", queryset=Funder.objects.all())
    )


def participation_rows() -> Rows:
    """Each organisation's participations as ``OrganisationSerializer`` shows them (their programmes' ids),
    for the organisations' own query (``coordinator.core.rows``); within the active scope."""
    return Rows(
        "participations",
        Participation.objects.filter(organisation=OuterRef("pk")).order_by("pk"),
        ("programme",),
    )


def organisations_for(actor: Actor, *, shown_only: bool = False) -> QuerySet[Organisation]:
    """``shown_only``: each organisation's participations with only their programme, read with its row, for
    reads that only serialise; a workflow given the organisation gets the participations' programmes."""
    if shown_only:
        return with_rows(Organisation.objects.all(), participation_rows())
    return Organisation.objects.prefetch_related(
        Prefetch("participations", queryset=Participation.objects.select_related("programme"))
    )


def units_for(actor: Actor) -> QuerySet[Unit]:
    return Unit.objects.select_related("organisation", "parent")


def work_roles_for(actor: Actor) -> QuerySet[WorkRole]:
    return WorkRole.objects.select_related("programme")


# What ``serializers.PersonSerializer`` shows of a person (and ``permissions.can_see_contact_details`` reads):
# the person's own shown columns, the user's name and address, the organisation's brief, the unit's name and
# the line manager's name. Nothing of the sign-in (password hash, last login) or the calendar tokens.
PERSON_SHOWN_COLUMNS = (
    "erased_at",
    "user__first_name",
    "user__last_name",
    "user__username",
    "user__email",
    "organisation__name",
    "organisation__short_name",
    "organisation__kind",
    "unit__name",
    "job_title",
    "phone",
    "languages",
    "preferred_language",
    "line_manager__erased_at",
    "line_manager__user__first_name",
    "line_manager__user__last_name",
    "line_manager__user__username",
)


def people_for(actor: Actor, *, shown_only: bool = False) -> QuerySet[Person]:
    """The people of the actor's programmes, each with their memberships in those programmes.

    ``shown_only``: only the columns ``PERSON_SHOWN_COLUMNS`` names, for reads that only serialise; a
    workflow given the person gets the whole rows."""
    # Each person's memberships are limited to the actor's programmes (the scope may be wider, in the API).
    # Each membership's roles come in the memberships' own query (``role_names``), not in one more. They land
    # in a plain list (``visible_memberships``, read by ``permissions.memberships_of``): kept behind
    # ``person.memberships``, Django would build and copy a filtered queryset for every person of the page.
    memberships = (
        visible_memberships(actor)
        .select_related("work_role")
        .annotate(role_names=JoinedText("role_assignments__role"))
    )
    if shown_only:
        memberships = memberships.only("person", "programme", "work_role__name", "is_active")
    people = Person.objects.select_related("user", "organisation", "unit", "line_manager__user")
    if shown_only:
        people = people.only(*PERSON_SHOWN_COLUMNS)
    return people.prefetch_related(Prefetch("memberships", queryset=memberships, to_attr=VISIBLE_MEMBERSHIPS))


def visible_memberships(actor: Actor) -> QuerySet[Membership]:
    """The memberships a list of people shows with each person: those in the actor's programmes, in the
    order of their programmes' names."""
    # The scoped manager's filter is the reader's programmes already wherever the scope is theirs (the API):
    # restricting through the tenancy keeps that one filter instead of adding the same one again.
    return restrict_to_programmes(Membership.objects.all(), actor.programme_ids).order_by(
        "programme__name", "pk"
    )


def membership_rows(actor: Actor, person_ids: Iterable[int]) -> dict[int, list[tuple[object, ...]]]:
    """Per person, the ``visible_memberships`` as values in their order: programme, role at work and its
    name, whether active, the joined role names (what ``people_for``'s prefetch holds), in one query."""
    by_person: dict[int, list[tuple[object, ...]]] = {pk: [] for pk in person_ids}
    # Compiled once per connection, reader's programmes and page of people (see ``shapes.compiled``).
    found = shapes.compiled(
        ("people memberships", tuple(sorted(actor.programme_ids)), tuple(by_person)),
        lambda: (
            visible_memberships(actor)
            .filter(person_id__in=list(by_person))
            .values_list("person", "programme", "work_role", "work_role__name", "is_active", "pk")
            .annotate(role_names=JoinedText("role_assignments__role"))
        ),
    )
    rows = found.fetch() if isinstance(found, shapes.CompiledPage) else found
    for person, programme, work_role, work_role_name, is_active, _pk, role_names in rows:
        by_person[person].append((programme, work_role, work_role_name, is_active, role_names))  # type: ignore[index]
    return by_person


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
    return entries.select_related("content_type", "actor__person").order_by("-timestamp", "-pk")


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


# --- A person's own data (their download) ---------------------------------------------------------------


def personal_data_programme_ids(person: Person) -> frozenset[int]:
    """Every programme the person is or was a member of: the scope their download is read in."""
    # The person's own memberships decide the scope, so they are read before any scope applies.
    return frozenset(Membership.unscoped_objects.filter(person=person).values_list("programme_id", flat=True))


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def personal_data_sections(person: Person) -> Iterator[registry.PersonalDataSection]:
    """What this app holds about a person: profile, memberships and roles, email choices, notifications,
    mail addressed to them, and the audit entries about them or made by them. Call inside the scope of
    ``personal_data_programme_ids``."""
    user = person.user
    yield registry.PersonalDataSection(
        "profile",
        _("Profile"),
        [
            {
                "username": user.get_username(),
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "organisation": person.organisation.name,
                "unit": person.unit.name if person.unit else None,
                "job_title": person.job_title,
                "phone": person.phone,
                "languages": list(person.languages),
                "preferred_language": person.preferred_language,
                # The manager's name only: their contact details are theirs.
                "line_manager": person.line_manager.full_name if person.line_manager else None,
                "date_joined": _when(user.date_joined),
                "last_login": _when(user.last_login),
            }
        ],
    )
    yield registry.PersonalDataSection(
        "memberships", _("Programme memberships and roles"), _memberships(person)
    )
    yield registry.PersonalDataSection(
        "notification_preferences",
        _("Email choices"),
        (
            {"kind": kind, "email": email}
            for kind, email in NotificationPreference.objects.filter(person=person)
            .order_by("kind")
            .values_list("kind", "email_enabled")
        ),
    )
    yield registry.PersonalDataSection(
        "notifications",
        _("Notifications"),
        (
            {
                "programme": programme,
                "created_at": _when(created),
                "kind": kind,
                "title": title,
                "body": body,
                "read_at": _when(read),
            }
            for programme, created, kind, title, body, read in Notification.objects.filter(recipient=person)
            .order_by("created_at", "pk")
            .values_list("programme__name", "created_at", "kind", "title", "body", "read_at")
            .iterator(EXPORT_BATCH)
        ),
    )
    # Mail addressed to the person, as written to them; the calendar part is left out because it lists the
    # other attendees' addresses, which are theirs.
    yield registry.PersonalDataSection(
        "emails",
        _("Email sent or queued to you"),
        (
            {
                "programme": programme,
                "created_at": _when(created),
                "to": to,
                "subject": subject,
                "body": body,
                "status": status,
                "sent_at": _when(sent),
            }
            for programme, created, to, subject, body, status, sent in OutboundEmail.objects.filter(
                recipient=person
            )
            .order_by("created_at", "pk")
            .values_list(
                "programme__name", "created_at", "to_address", "subject", "body_text", "status", "sent_at"
            )
            .iterator(EXPORT_BATCH)
        ),
    )
    yield registry.PersonalDataSection("audit_entries", _("Audit entries about you"), _audit_about(person))
    yield registry.PersonalDataSection(
        "audit_actions", _("Changes you made (audit trail)"), _audit_by(person)
    )


def _memberships(person: Person) -> Iterator[dict[str, object]]:
    memberships = (
        Membership.objects.filter(person=person)
        .select_related("programme", "work_role")
        .prefetch_related(Prefetch("role_assignments", queryset=RoleAssignment.objects.order_by("role")))
        .order_by("programme__name")
    )
    for membership in memberships:
        yield {
            "programme": membership.programme.name,
            "work_role": membership.work_role.name if membership.work_role else None,
            "roles": [ra.role for ra in membership.role_assignments.all()],
            "active": membership.is_active,
            "joined_at": _when(membership.joined_at),
            "ended_at": _when(membership.ended_at),
        }


def _audit_about(person: Person) -> Iterator[dict[str, object]]:
    """Entries about the person's own rows (profile, memberships, roles), with what changed."""
    memberships = [str(pk) for pk in Membership.objects.filter(person=person).values_list("pk", flat=True)]
    roles = [
        str(pk)
        for pk in RoleAssignment.objects.filter(membership__person=person).values_list("pk", flat=True)
    ]
    types = ContentType.objects.get_for_models(Person, Membership, RoleAssignment)
    about = (
        Q(content_type=types[Person], object_pk=str(person.pk))
        | Q(content_type=types[Membership], object_pk__in=memberships)
        | Q(content_type=types[RoleAssignment], object_pk__in=roles)
    )
    entries = LogEntry.objects.filter(about).select_related("content_type").order_by("timestamp", "pk")
    for entry in entries.iterator(EXPORT_BATCH):
        yield {
            "at": _when(entry.timestamp),
            "action": entry.get_action_display(),
            "object": f"{entry.content_type.app_label}.{entry.content_type.model}",
            "changes": entry.changes,
        }


def _audit_by(person: Person) -> Iterator[dict[str, object]]:
    """Entries of what the person changed: when, what kind of object and how, but not the values or the
    object's name, which may be another person's data."""
    for timestamp, action, app_label, model in (
        LogEntry.objects.filter(actor=person.user_id)
        .order_by("timestamp", "pk")
        .values_list("timestamp", "action", "content_type__app_label", "content_type__model")
        .iterator(EXPORT_BATCH)
    ):
        yield {
            "at": _when(timestamp),
            "action": LogEntry.Action(action).label,
            "object": f"{app_label}.{model}",
        }


def personal_data(person: Person) -> Iterator[registry.PersonalDataSection]:
    """Every app's sections about a person, in registry order. Call inside the person's scope."""
    for exporter in registry.personal_data_exporters:
        yield from exporter(person)


def personal_data_json(person: Person) -> Iterator[str]:
    """The person's data as one JSON document, written section by section and row by row, so a long
    history streams out in bounded memory. Enters the scope of the person's programmes itself, since a
    streamed response is read after the view has returned."""
    encoder = DjangoJSONEncoder(ensure_ascii=False)
    with programme_scope(personal_data_programme_ids(person)):
        yield '{"generated_at": ' + encoder.encode(timezone.now().isoformat())
        for section in personal_data(person):
            yield ", " + encoder.encode(section.key) + ": ["
            for index, row in enumerate(section.rows):
                yield ("" if index == 0 else ", ") + encoder.encode(row)
            yield "]"
        yield "}\n"
