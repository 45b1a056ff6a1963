"""What the people import works on: the rows as read and checked, what the programme already holds, and the
writes of a checked file (in bulk, a fixed number of queries). Private to ``people_import``."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User

from coordinator.core import itip
from coordinator.core.spreadsheets import UNCHANGED, UPDATE, RowOutcome
from organisations.models import (
    Membership,
    Organisation,
    Person,
    PlatformRole,
    Programme,
    RoleAssignment,
    Unit,
    WorkRole,
)

PERSON_FIELDS = ("unit", "job_title", "phone", "languages", "preferred_language")


@dataclass(eq=False)
class Row:
    outcome: RowOutcome
    email: str = ""
    values: dict[str, object] = field(default_factory=dict)
    organisation: Organisation | None = None
    work_role: WorkRole | None = None
    roles: frozenset[str] | None = None
    manager_email: str = ""
    keep_manager: bool = False  # the file has no line-manager column: leave registered managers as they are
    user: User | None = None
    person: Person | None = None


@dataclass
class Known:
    """What the checks compare the file with, read once."""

    programme: Programme
    organisations: dict[str, Organisation]
    allowed: set[int]
    units: dict[int, Unit]
    units_by_name: dict[tuple[int, str], Unit]
    work_roles: dict[str, WorkRole]
    users: dict[str, User]
    usernames: set[str]
    memberships: dict[int, Membership]
    roles: dict[int, dict[str, int]]
    managers: dict[int, int | None]
    may_grant: frozenset[str]


def current(person: Person, name: str) -> object:
    # The unit by its key: reading ``person.unit`` would load each unit with a query of its own.
    return person.unit_id if name == "unit" else getattr(person, name)


def wanted(row: Row, name: str) -> object:
    value = row.values[name]
    return value.pk if isinstance(value, Unit) else value


# --- Saving ------------------------------------------------------------------------------------------------


def save_rows(rows: list[Row], known: Known) -> list[Person]:
    """Write every row: new accounts and people (managers before the people they manage, one level of the
    hierarchy per query), then the changes to registered people, their memberships and roles."""
    programme = known.programme
    new_rows = [row for row in rows if row.person is None]
    users = [
        User(
            username=row.email,
            email=row.outcome.label.strip(),
            first_name=str(row.values["first_name"]),
            last_name=str(row.values["last_name"]),
            password=make_password(None),
        )
        for row in new_rows
    ]
    User.objects.bulk_create(users)
    for row, user in zip(new_rows, users, strict=True):
        assert row.organisation is not None
        row.user = user
        row.person = Person(user=user, organisation=row.organisation)
        for name in PERSON_FIELDS:
            if name in row.values:
                setattr(row.person, name, row.values[name])
        row.person.renew_calendar_address()
    person_of: dict[str, Person | None] = {row.email: row.person for row in rows if row.person is not None}
    for email, user in known.users.items():
        person_of.setdefault(email, getattr(user, "person", None))
    for level in _levels(new_rows):
        for row in level:
            assert row.person is not None
            row.person.line_manager = person_of.get(row.manager_email) if row.manager_email else None
        Person.objects.bulk_create([row.person for row in level if row.person is not None])
    created = [row.person for row in new_rows if row.person is not None]
    # Memberships first: a registered person of a shared agency joins this programme's scope with them.
    _save_memberships(rows, known, programme)
    _save_registered(rows, person_of)
    return created


def _levels(rows: list[Row]) -> list[list[Row]]:
    """New rows grouped so that a row's line manager, when also new, is in an earlier group."""
    new = {row.email: row for row in rows}
    depth: dict[str, int] = {}
    for row in rows:
        chain = []
        node: Row | None = row
        while node is not None and node.email not in depth:
            chain.append(node)
            node = new.get(node.manager_email) if node.manager_email else None
        base = depth[node.email] + 1 if node is not None else 0
        for offset, item in enumerate(reversed(chain)):
            depth[item.email] = base + offset
    levels: list[list[Row]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for row in rows:
        levels[depth[row.email]].append(row)
    return levels


def _save_registered(rows: list[Row], person_of: dict[str, Person | None]) -> None:
    changed_people, changed_users = [], []
    fields: set[str] = set()
    renamed: list[int] = []
    phoned: set[int] = set()
    for row in rows:
        if row.outcome.outcome != UPDATE or row.person is None:
            continue
        person, user = row.person, row.person.user
        if (user.first_name, user.last_name) != (row.values["first_name"], row.values["last_name"]):
            user.first_name, user.last_name = str(row.values["first_name"]), str(row.values["last_name"])
            changed_users.append(user)
            renamed.append(person.pk)
        changes = {
            name
            for name in PERSON_FIELDS
            if name in row.values and current(person, name) != wanted(row, name)
        }
        for name in changes:
            setattr(person, name, row.values[name])
        if "phone" in changes:
            phoned.add(person.pk)
        manager = person_of.get(row.manager_email) if row.manager_email else None
        manager_id = manager.pk if manager is not None else None
        if not row.keep_manager and person.line_manager_id != manager_id:
            person.line_manager_id = manager_id
            changes.add("line_manager")
        if changes:
            fields |= changes
            changed_people.append(person)
    if changed_users:
        User.objects.bulk_update(changed_users, ["first_name", "last_name"], batch_size=1000)
    if changed_people:
        Person.objects.bulk_update(changed_people, sorted(fields), batch_size=1000)
    # A new name or phone reaches the calendars of the events that show it, after the commit (one task each).
    itip.people_changed(renamed, ["name"])
    itip.people_changed(phoned, ["phone"])


def _save_memberships(rows: list[Row], known: Known, programme: Programme) -> None:
    new_memberships, changed_memberships = [], []
    new_roles: list[RoleAssignment] = []
    gone_roles: list[int] = []
    pending: list[tuple[Membership, frozenset[str]]] = []
    for row in rows:
        if row.outcome.outcome == UNCHANGED or row.person is None:
            continue
        membership = known.memberships.get(row.person.pk)
        if membership is None:
            membership = Membership(programme=programme, person=row.person, work_role=row.work_role)
            new_memberships.append(membership)
            pending.append((membership, row.roles or frozenset({PlatformRole.STAFF})))
            continue
        if not membership.is_active or (
            row.work_role is not None and membership.work_role_id != row.work_role.pk
        ):
            membership.is_active = True
            membership.work_role = row.work_role or membership.work_role
            changed_memberships.append(membership)
        if row.roles is not None:
            held = known.roles.get(membership.pk, {})
            gone_roles += [pk for role, pk in held.items() if role not in row.roles]
            new_roles += [
                RoleAssignment(membership=membership, role=role) for role in sorted(row.roles - set(held))
            ]
    Membership.objects.bulk_create(new_memberships)
    if changed_memberships:
        Membership.objects.bulk_update(changed_memberships, ["is_active", "work_role"], batch_size=1000)
    if gone_roles:
        RoleAssignment.objects.filter(pk__in=gone_roles).delete()
    for membership, roles in pending:
        new_roles += [RoleAssignment(membership=membership, role=role) for role in sorted(roles)]
    RoleAssignment.objects.bulk_create(new_roles)
