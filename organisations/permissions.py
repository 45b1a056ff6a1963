"""Who may do what: the roles of a person in each programme, and the rules of this app in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Case, Count, F, IntegerField, OuterRef, QuerySet, Subquery, When
from django.db.models.functions import Coalesce

from coordinator.core.answers import ReadStamps, stamp_of
from coordinator.core.models import Notification
from coordinator.core.prepared import PreparedQuery
from organisations.models import (
    Membership,
    Organisation,
    Participation,
    Person,
    PlatformRole,
    Programme,
    Unit,
)

# Roles that may manage programme-wide operations (matching, rounds, reports).
COORDINATING_ROLES = frozenset({PlatformRole.PROGRAMME_ADMIN, PlatformRole.COORDINATOR})


@dataclass(frozen=True)
class MembershipInfo:
    membership_id: int
    programme_id: int
    work_role_id: int | None
    roles: frozenset[str]
    # The role at work's name where it was read with the membership (a page's identity), else None.
    work_role_name: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Actor:
    """The signed-in person and their roles in each programme they belong to.

    Built once per request (``actor_for``); services take it as their ``actor`` argument.
    """

    user: User | AnonymousUser
    person: Person | None
    memberships: dict[int, MembershipInfo] = field(default_factory=dict)
    # The rows of the person's programmes, read with the memberships: the request's programme comes from
    # here instead of another query.
    programmes: dict[int, Programme] = field(default_factory=dict, compare=False, repr=False)
    # Unread notifications per programme, when read with the memberships (a page's session): the layout's
    # badge shows them without a query of its own. Empty when not read (the API's token).
    unread: dict[int, int] = field(default_factory=dict, compare=False, repr=False)
    # A list's stamps in the person's programmes, read with the memberships (an API call's token, see
    # ``token_identity``), for ``coordinator.core.answers``; None when not read.
    stamps: ReadStamps | None = field(default=None, compare=False, repr=False)

    @property
    def is_authenticated(self) -> bool:
        return bool(self.user.is_authenticated)

    @property
    def programme_ids(self) -> frozenset[int]:
        return frozenset(self.memberships)

    @property
    def organisation_id(self) -> int | None:
        return self.person.organisation_id if self.person else None

    def roles_in(self, programme: Programme | int) -> frozenset[str]:
        pid = programme if isinstance(programme, int) else programme.pk
        info = self.memberships.get(pid)
        return info.roles if info else frozenset()

    def has_role(self, programme: Programme | int, *roles: str) -> bool:
        return bool(self.roles_in(programme) & set(roles))

    def is_member(self, programme: Programme | int) -> bool:
        pid = programme if isinstance(programme, int) else programme.pk
        return pid in self.memberships

    def is_programme_admin(self, programme: Programme | int) -> bool:
        return self.has_role(programme, PlatformRole.PROGRAMME_ADMIN)

    def is_coordinator(self, programme: Programme | int) -> bool:
        """Coordinators and programme admins run the programme's shared operations."""
        return self.has_role(programme, *COORDINATING_ROLES)

    def programmes_with_role(self, *roles: str) -> frozenset[int]:
        return frozenset(pid for pid, info in self.memberships.items() if info.roles & set(roles))

    def membership_in(self, programme: Programme | int) -> MembershipInfo | None:
        pid = programme if isinstance(programme, int) else programme.pk
        return self.memberships.get(pid)


ANONYMOUS = Actor(user=AnonymousUser(), person=None)


def _person_of(user: User) -> Person | None:
    """The user's staff profile: the one authentication already joined in (``select_related("person")``), or
    read now."""
    if User.person.is_cached(user):  # type: ignore[attr-defined]
        try:
            person: Person = user.person
        except Person.DoesNotExist:
            return None
        if Person.organisation.is_cached(person) and Person.unit.is_cached(person):  # type: ignore[attr-defined]
            return person
    found = Person.unscoped_objects.select_related("organisation", "unit").filter(user=user).first()
    if found is not None:
        found.user = user  # the same row: the layout's name and the views read it without a query
    return found


def _memberships_of(person_id: int | str) -> QuerySet[Membership]:
    """One row per (active membership, role) of a person, with its programme: the roles and the programmes
    come along in the same query (a membership without a role gives one row with role None)."""
    # The identity lookup itself cannot be scoped (it decides the scope); it reads only this person's rows.
    return (
        Membership.unscoped_objects.filter(person_id=person_id, is_active=True)
        .select_related("programme")
        .annotate(role=F("role_assignments__role"))
        .order_by("programme__name", "pk")
    )


# Every request with a signed-in person reads it: compiled to SQL once per connection (no caching of the
# rows, so an ended membership or a removed role counts on the next request).
MEMBERSHIPS_QUERY: PreparedQuery[Membership] = PreparedQuery(_memberships_of, stand_in=-(2**62) + 7)


def _identity_of(user_id: int | str) -> QuerySet[Membership]:
    """A signed-in page's reads in one query: one row per (active membership, role) of the user's person,
    with the person (and their user, organisation and unit), the programme, the name of the person's role
    at work there, and the person's unread notifications in that programme. No row when the person has no
    active membership (or there is no person): ``actor_for`` then reads the person alone. The user comes
    along so that a session's sign-in (``organisations.access.backends.SessionIdentityBackend``) needs no
    query of its own for it."""
    # The identity lookup itself cannot be scoped (it decides the scope); it reads only this user's rows.
    unread = (
        Notification.unscoped_objects.filter(
            recipient_id=OuterRef("person_id"), programme_id=OuterRef("programme_id"), read_at__isnull=True
        )
        .order_by()
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Membership.unscoped_objects.filter(person__user_id=user_id, is_active=True)
        .select_related("programme", "person__user", "person__organisation", "person__unit")
        .annotate(
            role=F("role_assignments__role"),
            unread=Coalesce(Subquery(unread, output_field=IntegerField()), 0),
            # Only a role of the membership's own programme is named (another's would be read as none).
            work_role_name=Case(When(work_role__programme_id=F("programme_id"), then=F("work_role__name"))),
        )
        .order_by("programme__name", "pk")
    )


# A page request with a session (its user read by the session's backend, without the person) reads this
# instead of the person and then the memberships: one round trip for both, and the layout's unread count
# with them. Compiled once per connection; nothing cached, so a change counts on the next request.
IDENTITY_QUERY: PreparedQuery[Membership] = PreparedQuery(_identity_of, stand_in=-(2**62) + 11)


def _token_identity_of(key: int | str, topics: tuple[str, ...]) -> QuerySet[Membership]:
    """An API call's reads in one query: one row per (active membership, role) of the person whose user
    holds the token ``key``, with the person (their user, organisation and unit), the programme, the token's
    date and, per topic of ``topics``, that topic's stamp in the membership's programme. No row when the
    token is unknown or its person has no active membership (or there is no person)."""
    # The identity lookup itself cannot be scoped (it decides the scope); it reads only this token's rows.
    stamps = {f"stamp_{n}": stamp_of(topic) for n, topic in enumerate(topics)}
    return (
        Membership.unscoped_objects.filter(person__user__auth_token__key=key, is_active=True)
        .select_related("programme", "person__user", "person__organisation", "person__unit")
        .annotate(
            role=F("role_assignments__role"), token_created=F("person__user__auth_token__created"), **stamps
        )
        .order_by("programme__name", "pk")
    )


# Per set of topics (none for a call that keeps no answer): compiled once per connection, nothing cached.
_TOKEN_IDENTITY: dict[tuple[str, ...], PreparedQuery[Membership]] = {}


def token_identity(key: str, topics: tuple[str, ...] = ()) -> tuple[User, datetime] | None:
    """The user holding the API token ``key``, with their actor (their person's active memberships, roles and
    programmes, and the ``topics``' stamps in those programmes: ``coordinator.core.answers.stamp_topics``)
    and the token's date, in one query; ``None`` when that query finds no row (an unknown token, or a person
    without an active membership: the caller then reads the token as before). Every call reads the
    database: a revoked token, an ended membership or a removed role counts on the very next request.

    The caller decides whether the account may be signed in (``is_active``), as DRF's authentication does."""
    prepared = _TOKEN_IDENTITY.get(topics)
    if prepared is None:
        prepared = _TOKEN_IDENTITY.setdefault(
            topics, PreparedQuery(lambda value: _token_identity_of(value, topics), stand_in="\x00key\x00")
        )
    rows = prepared.fetch(key)
    if not rows:
        return None
    person = rows[0].person
    user: User = person.user
    versions = {
        (row.programme_id, topic): getattr(row, f"stamp_{n}")
        for row in rows
        for n, topic in enumerate(topics)
    }
    read = ReadStamps(topics, frozenset(row.programme_id for row in rows), versions) if topics else None
    user._samverkan_actor = _actor_from_rows(user, person, rows, stamps=read)  # type: ignore[attr-defined]
    return user, rows[0].token_created  # type: ignore[attr-defined]  # the query's annotation


def actor_without_memberships(user: User) -> None:
    """Remember for this request that ``user``'s person (read with the token) has no active membership,
    as the token's identity query just found: ``actor_for`` then reads nothing more."""
    user._samverkan_actor = Actor(user=user, person=_person_of(user))  # type: ignore[attr-defined]


def _actor_from_rows(
    user: User,
    person: Person | None,
    rows: list[Membership],
    *,
    unread: bool = False,
    stamps: ReadStamps | None = None,
) -> Actor:
    memberships: dict[int, MembershipInfo] = {}
    programmes: dict[int, Programme] = {}
    unread_in: dict[int, int] = {}
    roles_of: dict[int, set[str]] = {}
    for row in rows:
        programme_id = row.programme_id
        if programme_id not in memberships:
            roles_of[programme_id] = set()
            memberships[programme_id] = MembershipInfo(
                row.pk,
                programme_id,
                row.work_role_id,
                frozenset(),
                getattr(row, "work_role_name", None),  # read with a page's identity only
            )
            programmes[programme_id] = row.programme
            if unread:
                unread_in[programme_id] = row.unread  # type: ignore[attr-defined]  # the query's annotation
        role = row.role  # type: ignore[attr-defined]  # the query's annotation
        if role is not None:
            roles_of[programme_id].add(role)
    memberships = {
        pid: MembershipInfo(
            info.membership_id, pid, info.work_role_id, frozenset(roles_of[pid]), info.work_role_name
        )
        for pid, info in memberships.items()
    }
    return Actor(
        user=user,
        person=person,
        memberships=memberships,
        programmes=programmes,
        unread=unread_in,
        stamps=stamps,
    )


def actor_for(user: Any) -> Actor:
    """The actor for a user, cached on the user object for the rest of the request."""
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    cached = getattr(user, "_samverkan_actor", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    if User.person.is_cached(user):  # type: ignore[attr-defined]
        # The API's token came with the person: their memberships are the one query left.
        person = _person_of(user)
        rows = MEMBERSHIPS_QUERY.fetch(person.pk) if person is not None else []
        actor = _actor_from_rows(user, person, rows)
    else:
        rows = IDENTITY_QUERY.fetch(user.pk)
        if rows:
            person = rows[0].person
            person.user = user  # the same row: the layout's name and the views read it without a query
            actor = _actor_from_rows(user, person, rows, unread=True)
        else:
            actor = Actor(user=user, person=_person_of(user))
    user._samverkan_actor = actor
    return actor


def user_with_actor(user_id: int) -> User | None:
    """The user of a session with their actor, in one query where the person has an active membership
    (the identity with its user), else the user alone (``actor_for`` then reads the person as it would).
    Nothing is kept beyond the user object of this request: every request reads the rows again.

    The caller decides whether the account may be signed in (``is_active``), as Django's backends do."""
    rows = IDENTITY_QUERY.fetch(user_id)
    if not rows:
        return User._default_manager.filter(pk=user_id).first()
    person = rows[0].person
    user: User = person.user
    user._samverkan_actor = _actor_from_rows(user, person, rows, unread=True)  # type: ignore[attr-defined]
    return user


def request_is_member(request: Any) -> bool:
    """Whether the person behind a request is a member of the request's current programme (for
    navigation and start-page checks; the views check rights through their own scoped bases)."""
    programme = getattr(request, "programme", None)
    return programme is not None and actor_for(request.user).is_member(programme)


def request_has_role(request: Any, *roles: str) -> bool:
    """Whether the person behind a request holds one of `roles` in the request's current programme."""
    programme = getattr(request, "programme", None)
    return programme is not None and actor_for(request.user).has_role(programme, *roles)


def forget_actor(user: Any) -> None:
    """Drop the cached actor after roles change within the same request."""
    if hasattr(user, "_samverkan_actor"):
        del user._samverkan_actor


# --- Rules of this app ----------------------------------------------------------------------------------


def _participating(organisation: Organisation) -> set[int]:
    # Read whatever the active scope is: whether an organisation is shared decides who may edit it, and
    # the answer reveals nothing beyond yes or no.
    return set(
        Participation.unscoped_objects.filter(organisation_id=organisation.pk).values_list(
            "programme_id", flat=True
        )
    )


def is_platform_admin(actor: Actor) -> bool:
    """Platform administrators start and archive programmes: superusers and holders of Django's
    ``organisations.add_programme`` permission (granted on the admin site by the platform operator)."""
    user = actor.user
    return bool(user.is_active and (user.is_superuser or user.has_perm("organisations.add_programme")))


def can_manage_programme(actor: Actor, programme: Programme) -> bool:
    return actor.is_programme_admin(programme)


def is_agency_admin(actor: Actor, organisation: Organisation | int) -> bool:
    """The organisation's own admins: its people who hold the organisation-admin role in any programme
    they belong to. The right is the agency's, not a programme's: it covers the organisation wherever it
    takes part."""
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    return actor.organisation_id == organisation_id and bool(
        actor.programmes_with_role(PlatformRole.ORGANISATION_ADMIN)
    )


def can_edit_organisation(actor: Actor, organisation: Organisation) -> bool:
    """The agency itself (name, kind, website): its own admins; and the admins of the one programme it
    takes part in while it takes part in no other (they created it there). Once an agency is shared, no
    programme's admin may change it."""
    if is_agency_admin(actor, organisation):
        return True
    participating = _participating(organisation)
    return len(participating) == 1 and actor.is_programme_admin(next(iter(participating)))


def can_add_unit_to(actor: Actor, organisation: Organisation, programme: Programme | None = None) -> bool:
    """Units: the organisation's own admins; a programme's admins, for that programme's work, in an
    organisation taking part in it."""
    if is_agency_admin(actor, organisation):
        return True
    return (
        programme is not None
        and actor.is_programme_admin(programme)
        and programme.pk in _participating(organisation)
    )


def can_edit_unit(actor: Actor, unit: Unit) -> bool:
    """A unit: the organisation's own admins; the admins of the programme it was created for (never
    another programme's); a unit kept by the organisation itself, as the organisation."""
    if is_agency_admin(actor, unit.organisation_id):
        return True
    if unit.created_in_id is None:
        return can_edit_organisation(actor, unit.organisation)
    return actor.is_programme_admin(unit.created_in_id) and unit.created_in_id in _participating(
        unit.organisation
    )


def can_manage_people_of(actor: Actor, programme: Programme, organisation: Organisation) -> bool:
    """Register people of an organisation in a programme: the programme's admins (for an organisation
    taking part in it) and the organisation's own admins who belong to the programme."""
    if actor.is_programme_admin(programme):
        return True
    return is_agency_admin(actor, organisation) and actor.is_member(programme)


def can_edit_person(actor: Actor, person: Person) -> bool:
    """A person's employment details: their organisation's admins and the admins of a programme the
    person belongs to."""
    if is_agency_admin(actor, person.organisation_id):
        return True
    programme_ids = {m.programme_id for m in person.memberships.all() if m.is_active}
    return any(actor.is_programme_admin(pid) for pid in programme_ids)


def can_edit_own_profile(actor: Actor, person: Person) -> bool:
    return actor.person is not None and actor.person.pk == person.pk


# Where a list read a person's memberships already (limited to the reader's programmes), as a plain list.
VISIBLE_MEMBERSHIPS = "visible_memberships"


def memberships_of(person: Person) -> list[Membership]:
    """The person's memberships as the list that read them holds them, else as ``person.memberships``."""
    loaded = person.__dict__.get(VISIBLE_MEMBERSHIPS)
    return loaded if loaded is not None else list(person.memberships.all())


def can_see_contact_details(actor: Actor, person: Person) -> bool:
    """Email, phone and line manager are visible to the person, their colleagues and the coordinators.

    Inside a programme only what is shared crosses an organisation boundary: names, organisation, unit and
    role at work are shared; contact details are shared with coordinators, who mediate contacts.
    """
    return sees_contact_details_of(
        actor, person.organisation_id, lambda: {m.programme_id for m in memberships_of(person)}
    )


def sees_contact_details_of(
    actor: Actor, organisation_id: int | None, programme_ids: Callable[[], set[int]]
) -> bool:
    """``can_see_contact_details`` of a person of this organisation whose memberships (those the reader's
    list read) are in ``programme_ids()`` (asked only when the organisation does not decide it)."""
    if actor.person is None:
        return False
    if actor.person.organisation_id == organisation_id:
        return True
    return any(actor.is_coordinator(pid) for pid in programme_ids() & actor.programme_ids)


def sees_contacts_in(actor: Actor, programme: Programme, organisation_id: int) -> bool:
    """``can_see_contact_details`` for everyone of one organisation in one programme, without a query."""
    return actor.organisation_id == organisation_id or actor.is_coordinator(programme)


def can_invite(actor: Actor, programme: Programme, person: Person) -> bool:
    """Send, resend or withdraw a person's invitation: the programme's admins, and the admins of the
    person's own organisation in that programme."""
    if actor.is_programme_admin(programme):
        return True
    return actor.organisation_id == person.organisation_id and actor.has_role(
        programme, PlatformRole.ORGANISATION_ADMIN
    )


def can_configure_sign_in(actor: Actor, organisation: Organisation) -> bool:
    """An organisation's identity provider: only its own organisation admins (in any programme it takes
    part in), never another programme's or organisation's admin, since the setting reaches every programme
    the organisation takes part in."""
    return actor.organisation_id == organisation.pk and bool(
        actor.programmes_with_role(PlatformRole.ORGANISATION_ADMIN)
    )


# --- Competences ------------------------------------------------------------------------------------------


def can_define_competences(actor: Actor, programme: Programme) -> bool:
    """Competences, what gives them and the profiles of roles at work: the programme's admins."""
    return actor.is_programme_admin(programme)


def can_see_competence_profile(actor: Actor, programme: Programme, person: Person) -> bool:
    """A person's own competences and gaps: the person, their line manager and the programme's
    coordinators (programme admins included); nobody else, their organisation's admins neither."""
    if actor.person is None or not actor.is_member(programme):
        return False
    if actor.person.pk == person.pk or person.line_manager_id == actor.person.pk:
        return True
    return actor.is_coordinator(programme)


def can_confirm_competence(actor: Actor, programme: Programme, person: Person) -> bool:
    """Confirm a competence gained elsewhere: the person's line manager, a member of the programme."""
    return (
        actor.person is not None and actor.is_member(programme) and person.line_manager_id == actor.person.pk
    )


# Who reads the programme's gap table by organisation (aggregates only, small groups hidden).
GAP_READERS = frozenset(
    {PlatformRole.PROGRAMME_ADMIN, PlatformRole.COORDINATOR, PlatformRole.ORGANISATION_ADMIN}
)


def can_see_programme_gaps(actor: Actor, programme: Programme) -> bool:
    return actor.has_role(programme, *GAP_READERS)


def can_see_organisation_gaps(actor: Actor, programme: Programme, organisation_id: int) -> bool:
    """One organisation's gaps by unit: the programme's coordinators, and the organisation's own admins and
    line managers in the programme."""
    if actor.is_coordinator(programme):
        return True
    return actor.organisation_id == organisation_id and actor.has_role(
        programme, PlatformRole.ORGANISATION_ADMIN, PlatformRole.LINE_MANAGER
    )


# Who reads the barometer, the targets, the weekly status and the effect and cost reports.
REPORT_READERS = (
    PlatformRole.PROGRAMME_ADMIN,
    PlatformRole.COORDINATOR,
    PlatformRole.ORGANISATION_ADMIN,
    PlatformRole.STEERING_GROUP,
)


def can_read_reports(actor: Actor, programme: Programme | int) -> bool:
    return actor.has_role(programme, *REPORT_READERS)
