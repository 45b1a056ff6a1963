"""Who may do what with workplaces, slots, requests, matching runs and placements, in one place.

Roles (``organisations.models.PlatformRole``):

- **host contacts** of an organisation edit that organisation's workplaces and their slots, and so do the
  **organisation admins** of that organisation. Nobody else may, coordinators included: a workplace is its
  organisation's to open. The right is derived from the roles each time it is asked (the ``rules``
  permission ``shadowing.change_workplace`` and ``can_edit_workplace``; ``selectors.editable_workplaces``
  filters by the same rule), so a new host contact may edit at once and a removed one no longer can.
- every **member** of the programme sees the published workplaces; editors also see drafts;
- **staff** ask to shadow (never at their own organisation), and see and withdraw their own requests;
- the requester's **line manager** approves or declines the time away; where the requester has no line
  manager on record, a person with the line-manager role in the requester's own unit decides;
- **coordinators** (and programme admins) run and edit matches, confirm them, see every request and
  placement, and may cancel a placement or mark it visited;
- the **host** of a placement (the workplace's contact and the workplace's editors) accepts or declines it,
  marks it visited, may cancel it, and writes the host feedback;
- **coordinators** (and programme admins) record what a visit cost besides the staff time (travel,
  substitute cover, interpreter), as they record a course round's costs;
- the **shadower** confirms a host-accepted placement (accepting the confidentiality undertaking), may
  cancel it, and writes the reflection after the visit.
"""

from __future__ import annotations

import rules
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from organisations.models import OwnRule, Person, PlatformRole, Programme
from organisations.permissions import Actor, actor_for
from organisations.selectors import coordinators_of
from shadowing.models import Placement, ShadowingRequest, Workplace

CHANGE_WORKPLACE = "change_workplace"
# The roles that host visitors: open and edit their organisation's workplaces, accept visitors.
HOST_ROLES = frozenset({PlatformRole.HOST_CONTACT, PlatformRole.ORGANISATION_ADMIN})


def can_manage(actor: Actor, programme: Programme | int) -> bool:
    """Coordinators and programme admins run the programme's matching."""
    return actor.is_coordinator(programme)


def can_create_workplace(actor: Actor, programme: Programme | int, organisation_id: int) -> bool:
    """Host contacts and organisation admins open workplaces of their own organisation."""
    return (
        actor.person is not None
        and actor.organisation_id == organisation_id
        and actor.has_role(programme, *HOST_ROLES)
    )


def _hosts_workplace(actor: Actor, workplace: Workplace, *roles: str) -> bool:
    return (
        actor.person is not None
        and actor.organisation_id == workplace.organisation_id
        and actor.has_role(workplace.programme_id, *roles)
    )


@rules.predicate
def is_host_contact_of_workplace(user: AbstractBaseUser | AnonymousUser, workplace: Workplace | None) -> bool:
    """A host contact of the workplace's organisation in its programme."""
    return workplace is not None and _hosts_workplace(actor_for(user), workplace, PlatformRole.HOST_CONTACT)


@rules.predicate
def is_organisation_admin_of_workplace(
    user: AbstractBaseUser | AnonymousUser, workplace: Workplace | None
) -> bool:
    """An organisation admin of the workplace's organisation in its programme."""
    return workplace is not None and _hosts_workplace(
        actor_for(user), workplace, PlatformRole.ORGANISATION_ADMIN
    )


rules.add_perm(
    f"shadowing.{CHANGE_WORKPLACE}", is_host_contact_of_workplace | is_organisation_admin_of_workplace
)


def can_edit_workplace(actor: Actor, workplace: Workplace) -> bool:
    """The organisation's host contacts and admins (the rule of ``shadowing.change_workplace``)."""
    return _hosts_workplace(actor, workplace, *HOST_ROLES)


def editable_workplaces_filter(actor: Actor) -> Q:
    """The rule of ``can_edit_workplace`` as a filter: the actor's own organisation's workplaces in the
    programmes where they are a host contact or an organisation admin."""
    person = actor.person
    if person is None:
        return Q(pk__in=[])
    return Q(organisation_id=person.organisation_id, programme_id__in=actor.programmes_with_role(*HOST_ROLES))


def visible_workplaces_filter(actor: Actor) -> Q:
    """Published workplaces, plus every workplace of the actor's own organisation and, for coordinators,
    every workplace of the programmes they coordinate."""
    condition = Q(is_published=True) | Q(organisation_id=actor.organisation_id or 0)
    coordinated = actor.programmes_with_role(PlatformRole.COORDINATOR, PlatformRole.PROGRAMME_ADMIN)
    if coordinated:
        condition |= Q(programme_id__in=coordinated)
    return condition


def is_host(actor: Actor, workplace: Workplace) -> bool:
    """The workplace's contact person, or one of its editors."""
    if actor.person is None:
        return False
    if workplace.contact_id == actor.person.pk and actor.organisation_id == workplace.organisation_id:
        return True
    return can_edit_workplace(actor, workplace)


def own_key(own_rule: str, organisation_id: int, unit_id: int | None) -> int:
    """What the own-organisation rule compares for a person or a workplace (the matcher's ``own``).

    At organisation level, the organisation. At unit level (``Programme.own_rule``, for a large
    municipality whose introduction secretaries may shadow at its sfi), the unit; someone or something
    without a unit counts as the organisation as a whole. Unit keys are negative so that they never
    equal an organisation's id.
    """
    if own_rule == OwnRule.UNIT and unit_id is not None:
        return -unit_id
    return organisation_id


def can_shadow_at(
    requester_organisation_id: int,
    host_organisation_id: int,
    *,
    own_rule: str = OwnRule.ORGANISATION,
    requester_unit_id: int | None = None,
    host_unit_id: int | None = None,
) -> bool:
    """Shadowing is always elsewhere: at another organisation than the requester's own or, where the
    programme applies the rule at unit level, at another unit (of the same organisation too; an
    organisation named as a whole, or a workplace without a unit, counts as the organisation's own part,
    which a person of one of its units may visit)."""
    if requester_organisation_id != host_organisation_id:
        return True
    if own_rule != OwnRule.UNIT:
        return False
    return own_key(own_rule, requester_organisation_id, requester_unit_id) != own_key(
        own_rule, host_organisation_id, host_unit_id
    )


def is_requester(actor: Actor, request: ShadowingRequest) -> bool:
    return actor.person is not None and request.requester_id == actor.person.pk


def can_request(actor: Actor, programme: Programme | int) -> bool:
    """Staff members of the programme ask to shadow."""
    return actor.person is not None and actor.has_role(programme, PlatformRole.STAFF)


def _manages_requester(actor: Actor, request: ShadowingRequest) -> bool:
    """The requester's line manager; without one on record, a line manager of the requester's own unit."""
    person = actor.person
    if person is None or person.pk == request.requester_id:
        return False
    requester: Person = request.requester
    if requester.line_manager_id is not None:
        return requester.line_manager_id == person.pk
    return (
        requester.unit_id is not None
        and person.unit_id == requester.unit_id
        and person.organisation_id == requester.organisation_id
        and actor.has_role(request.programme_id, PlatformRole.LINE_MANAGER)
    )


def approvers_of(request: ShadowingRequest) -> list[Person]:
    """Who decides a request: the line manager; else the line managers of the requester's unit; else, when
    nobody else can, the programme's coordinators."""
    requester = request.requester
    if requester.line_manager_id is not None:
        # The requester's own record names the line manager, who is asked even when not a member of the
        # programme (the membership is not what makes them the manager).
        return list(Person.unscoped_objects.filter(pk=requester.line_manager_id).select_related("user"))
    if requester.unit_id is not None:
        unit_managers = list(
            Person.objects.filter(
                unit_id=requester.unit_id,
                organisation_id=requester.organisation_id,
                memberships__programme_id=request.programme_id,
                memberships__is_active=True,
                memberships__role_assignments__role=PlatformRole.LINE_MANAGER,
            )
            .exclude(pk=requester.pk)
            .select_related("user")
            .distinct()
            .order_by("pk")
        )
        if unit_managers:
            return unit_managers
    return list(coordinators_of(request.programme).exclude(pk=requester.pk))


def can_decide(actor: Actor, request: ShadowingRequest) -> bool:
    """Who may approve or decline a request: the rule of ``approvers_of`` for one actor (the line manager,
    else a line manager of the requester's unit, else coordinators where nobody else can decide)."""
    if actor.person is None or actor.person.pk == request.requester_id:
        return False
    if _manages_requester(actor, request):
        return True
    return any(p.pk == actor.person.pk for p in approvers_of(request))


def decidable_requests_filter(actor: Actor, programme_id: int) -> Q:
    """The requests ``can_decide`` lets the actor decide in one programme, as a filter (the lists of the
    approvals page): my reports; without a line manager on record, the people of my own unit when I am a
    line manager there; and for coordinators every request without a line manager (they decide where
    nobody else can; ``can_decide`` checks each one). The actor's own requests are never theirs to decide."""
    person = actor.person
    if person is None:
        return Q(pk__in=[])
    condition = Q(requester__line_manager=person)
    if can_manage(actor, programme_id):
        condition |= Q(requester__line_manager__isnull=True)
    if actor.has_role(programme_id, PlatformRole.LINE_MANAGER) and person.unit_id is not None:
        condition |= Q(
            requester__line_manager__isnull=True,
            requester__unit_id=person.unit_id,
            requester__organisation_id=person.organisation_id,
        )
    return condition & ~Q(requester=person)


def visible_requests_filter(actor: Actor) -> Q:
    """Own requests, those of the actor's reports (or unit, as a line manager), and all for coordinators."""
    person = actor.person
    if person is None:
        return Q(pk__in=[])
    condition = Q(requester=person) | Q(requester__line_manager=person)
    managing = actor.programmes_with_role(PlatformRole.LINE_MANAGER)
    if managing and person.unit_id is not None:
        condition |= Q(
            programme_id__in=managing,
            requester__line_manager__isnull=True,
            requester__unit_id=person.unit_id,
            requester__organisation_id=person.organisation_id,
        )
    coordinated = actor.programmes_with_role(PlatformRole.COORDINATOR, PlatformRole.PROGRAMME_ADMIN)
    if coordinated:
        condition |= Q(programme_id__in=coordinated)
    return condition


def visible_placements_filter(actor: Actor) -> Q:
    """The shadower's own, the host's (contact or editor organisation), and all for coordinators.

    Proposals in an unconfirmed run are the coordinators' working draft: only they see them.
    """
    person = actor.person
    if person is None:
        return Q(pk__in=[])
    live = ~Q(status=Placement.Status.PROPOSED)
    condition = live & Q(request__requester=person)
    condition |= live & Q(workplace__contact=person)
    hosting = actor.programmes_with_role(PlatformRole.HOST_CONTACT, PlatformRole.ORGANISATION_ADMIN)
    if hosting:
        condition |= live & Q(programme_id__in=hosting, workplace__organisation_id=person.organisation_id)
    coordinated = actor.programmes_with_role(PlatformRole.COORDINATOR, PlatformRole.PROGRAMME_ADMIN)
    if coordinated:
        condition |= Q(programme_id__in=coordinated)
    return condition


def can_cancel_placement(actor: Actor, placement: Placement) -> bool:
    """The shadower, the host or a coordinator (while the status is in ``Placement.CANCELLABLE``)."""
    return (
        is_requester(actor, placement.request)
        or is_host(actor, placement.workplace)
        or can_manage(actor, placement.programme_id)
    )


def can_record_visit(actor: Actor, placement: Placement) -> bool:
    """The host or a coordinator records that a confirmed visit took place (after its last day)."""
    return is_host(actor, placement.workplace) or can_manage(actor, placement.programme_id)


def can_record_costs(actor: Actor, placement: Placement) -> bool:
    """Coordinators and programme admins record, see and correct a visit's costs (as a round's costs)."""
    return can_manage(actor, placement.programme_id)


def costed_placements_filter(actor: Actor) -> Q:
    """The placements whose costs the actor records and reads: every one of the programmes they coordinate."""
    coordinated = actor.programmes_with_role(PlatformRole.COORDINATOR, PlatformRole.PROGRAMME_ADMIN)
    return Q(programme_id__in=coordinated) if coordinated else Q(pk__in=[])
