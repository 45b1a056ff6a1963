"""Bulk import and export of a programme's people from a spreadsheet (CSV or XLSX).

A dry run reads the whole file, checks every row against the programme's organisations, units, roles at
work and the people already registered, and reports each row's outcome (create, update, unchanged or the
errors, each naming its row and column). The import itself runs the same checks and saves everything in
one transaction, or nothing when any row is refused. People it creates are invited only after the commit,
when asked to. The export writes the same columns, so an exported file imports back unchanged.

The reads and writes are in bulk: a fixed number of queries whatever the number of rows (the e-mail look-up
is split into chunks of 5,000 addresses to stay inside the database's limit on query parameters; people
who manage each other are created one level of the hierarchy per query).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from coordinator.core import registry
from coordinator.core.spreadsheets import (
    CREATE,
    UNCHANGED,
    UPDATE,
    Cell,
    Column,
    ImportReport,
    RowOutcome,
    Sheet,
    cell_text,
    match_columns,
    read_sheet,
)
from organisations.models import (
    UI_LANGUAGES,
    Membership,
    Organisation,
    Person,
    PlatformRole,
    Programme,
    RoleAssignment,
    Unit,
    WorkRole,
    validate_language_codes,
)
from organisations.permissions import Actor
from organisations.services._people_rows import PERSON_FIELDS, Known, Row, current, save_rows, wanted

COLUMNS = [
    Column("email", gettext_lazy("Email"), ("e-mail", "e-post", "epost", "mail", "email address"), True),
    Column("first_name", gettext_lazy("First name"), ("förnamn", "fornavn", "given name"), True),
    Column("last_name", gettext_lazy("Last name"), ("efternamn", "efternavn", "surname"), True),
    Column("organisation", gettext_lazy("Organisation"), ("organization", "myndighet", "agency"), True),
    Column("unit", gettext_lazy("Unit"), ("enhet", "enhed", "department", "avdelning", "afdeling")),
    Column("work_role", gettext_lazy("Work role code"), ("work role", "yrkesroll", "arbejdsrolle")),
    Column(
        "job_title", gettext_lazy("Job title"), ("titel", "befattning", "stilling", "stillingsbetegnelse")
    ),
    Column(
        "line_manager", gettext_lazy("Line manager"), ("chef", "närmaste chef", "nærmeste leder", "leder")
    ),
    Column("phone", gettext_lazy("Phone"), ("telefon", "telefonnummer", "mobil")),
    Column("languages", gettext_lazy("Languages"), ("språk", "sprog")),
    Column("preferred_language", gettext_lazy("Preferred language"), ("gränssnittsspråk",)),
    Column("roles", gettext_lazy("Roles"), ("roller",)),
]
UNIT_SEPARATOR = " / "
EMAIL_CHUNK = 5000
# Roles an organisation admin may give to people of their own organisation (as ``membership_grant``).
DELEGABLE_ROLES = frozenset({PlatformRole.STAFF, PlatformRole.LINE_MANAGER, PlatformRole.HOST_CONTACT})
LIMITS = {"first_name": 150, "last_name": 150, "job_title": 200, "phone": 40}


def can_import_people(actor: Actor, programme: Programme) -> bool:
    return actor.is_programme_admin(programme) or actor.has_role(programme, PlatformRole.ORGANISATION_ADMIN)


def importable_organisations(actor: Actor, programme: Programme) -> list[Organisation]:
    """The organisations whose people the actor may import and export: every organisation of the programme
    for its admins, their own for an organisation admin."""
    organisations = Organisation.objects.filter(participations__programme=programme).order_by("name")
    if actor.is_programme_admin(programme):
        return list(organisations)
    if actor.has_role(programme, PlatformRole.ORGANISATION_ADMIN) and actor.organisation_id is not None:
        return list(organisations.filter(pk=actor.organisation_id))
    return []


def people_import(
    *, actor: Actor, programme: Programme, data: bytes, dry_run: bool = True, invite: bool = False
) -> ImportReport:
    """Check (``dry_run``) or import the people of a spreadsheet into a programme.

    Programme admins import into every organisation of the programme, organisation admins into their own
    (with the roles they may grant). All or nothing: any refused row saves nothing. With ``invite`` the
    people created are invited once the import has committed. A malformed file raises ``ValidationError``
    on ``file``; refused rows are reported, not raised.
    """
    if not can_import_people(actor, programme):
        raise PermissionDenied(_("You may not import people into this programme."))
    sheet = read_sheet(data)
    positions = match_columns(sheet, COLUMNS)
    report = ImportReport(dry_run=dry_run, ignored_columns=_ignored(sheet, positions))
    known = _load(actor, programme, sheet, positions)
    rows = _check_rows(sheet, positions, known)
    _check_managers(rows, known, heading=_heading(sheet, positions, "line_manager"))
    for row in rows:
        if row.outcome.outcome != "error":
            row.outcome.outcome = _outcome(row, known)
    report.rows = [row.outcome for row in rows]
    if dry_run or not report.ok:
        return report
    with transaction.atomic():
        created = save_rows(rows, known)
        if invite:
            send_invitations_after_commit(actor, programme, created)
    report.committed = True
    return report


def send_invitations_after_commit(actor: Actor, programme: Programme, people: list[Person]) -> None:
    """Invite ``people`` once the surrounding transaction has committed (never for a rolled-back import):
    through the ``person_invited`` handlers the invitations workflow registers."""
    if not people:
        return

    def send() -> None:
        for handler in registry.person_invited:
            handler(actor, programme, people)

    transaction.on_commit(send)


# --- Reading -----------------------------------------------------------------------------------------------


def _heading(sheet: Sheet, positions: dict[str, int], key: str) -> str:
    if key in positions:
        return sheet.headers[positions[key]]
    return next(str(column.label) for column in COLUMNS if column.key == key)


def _ignored(sheet: Sheet, positions: dict[str, int]) -> list[str]:
    used = set(positions.values())
    return [heading for position, heading in enumerate(sheet.headers) if position not in used and heading]


def _cell(cells: Sequence[Cell], positions: dict[str, int], key: str) -> str:
    position = positions.get(key)
    if position is None or position >= len(cells):
        return ""
    return cell_text(cells[position])


def _load(actor: Actor, programme: Programme, sheet: Sheet, positions: dict[str, int]) -> Known:
    organisations = list(Organisation.objects.filter(participations__programme=programme))
    allowed = {organisation.pk for organisation in importable_organisations(actor, programme)}
    by_name: dict[str, Organisation] = {}
    for organisation in organisations:
        by_name.setdefault(organisation.short_name.casefold(), organisation)
        by_name[organisation.name.casefold()] = organisation
    units = {unit.pk: unit for unit in Unit.objects.filter(organisation__in=organisations)}
    emails = set()
    for _number, cells in sheet.rows:
        for key in ("email", "line_manager"):
            emails.add(_cell(cells, positions, key).casefold())
    emails.discard("")
    users: dict[str, User] = {}
    usernames: set[str] = set()
    chunks = sorted(emails)
    for start in range(0, len(chunks), EMAIL_CHUNK):
        chunk = chunks[start : start + EMAIL_CHUNK]
        # Users are not programme data; the person behind an address may belong to a shared agency but not
        # yet to this programme, and is only changed when their organisation is one the actor may import
        # into. Joining the person (not reading ``Person.objects``) sees them before their membership.
        found = (
            User.objects.annotate(email_lower=Lower("email"))
            .filter(Q(email_lower__in=chunk) | Q(username__in=chunk))
            .select_related("person")
        )
        for user in found:
            usernames.add(user.username.casefold())
            if user.email:
                users.setdefault(user.email.casefold(), user)
    members = Membership.objects.filter(programme=programme, person__organisation__in=allowed)
    roles: dict[int, dict[str, int]] = {}
    for pk, membership_id, role in RoleAssignment.objects.filter(membership__in=members).values_list(
        "pk", "membership_id", "role"
    ):
        roles.setdefault(membership_id, {})[role] = pk
    may_grant = frozenset(PlatformRole.values) if actor.is_programme_admin(programme) else DELEGABLE_ROLES
    return Known(
        programme=programme,
        organisations=by_name,
        allowed=allowed,
        units=units,
        units_by_name={(unit.organisation_id, unit.name.casefold()): unit for unit in units.values()},
        work_roles=_work_roles(programme),
        users=users,
        usernames=usernames,
        memberships={membership.person_id: membership for membership in members},
        roles=roles,
        managers=dict(Person.objects.filter(organisation__in=allowed).values_list("pk", "line_manager_id")),
        may_grant=may_grant,
    )


def _work_roles(programme: Programme) -> dict[str, WorkRole]:
    found: dict[str, WorkRole] = {}
    for role in WorkRole.objects.filter(programme=programme):
        found.setdefault(role.name.casefold(), role)
        found[role.code.casefold()] = role
    return found


def _labels(choices: Iterable[tuple[str, object]]) -> dict[str, str]:
    """Codes and their labels in English, Swedish and Danish, folded, to the code."""
    found: dict[str, str] = {}
    pairs = list(choices)
    for language in ("en", "sv", "da"):
        with override(language):
            for code, label in pairs:
                found[str(label).casefold()] = code
    for code, _label in pairs:
        found[code.casefold()] = code
    return found


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;]", text) if part.strip()]


def _check_rows(sheet: Sheet, positions: dict[str, int], known: Known) -> list[Row]:
    heading = {column.key: _heading(sheet, positions, column.key) for column in COLUMNS}
    role_names = _labels(PlatformRole.choices)
    language_names = _labels(UI_LANGUAGES)
    first_row: dict[str, int] = {}
    rows = []
    for number, cells in sheet.rows:

        def cell(key: str, cells: Sequence[Cell] = cells) -> str:
            return _cell(cells, positions, key)

        email = cell("email")
        row = Row(outcome=RowOutcome(row=number, label=email), email=email.casefold())
        refuse = row.outcome.refuse
        rows.append(row)
        try:
            validate_email(email)
        except ValidationError:
            refuse(heading["email"], _("Enter a valid email address."))
        if row.email in first_row:
            refuse(
                heading["email"],
                _("The same email address is on row %(row)s.") % {"row": first_row[row.email]},
            )
        elif row.email:
            first_row[row.email] = number
        for key, limit in LIMITS.items():
            value = cell(key)
            if len(value) > limit or any(ch in value for ch in "\r\n\t\x00"):
                refuse(
                    heading[key],
                    _("Keep this to one line of at most %(limit)s characters.") % {"limit": limit},
                )
        for key in ("first_name", "last_name"):
            if not cell(key):
                refuse(heading[key], _("This field is required."))
            row.values[key] = cell(key)
        organisation = known.organisations.get(cell("organisation").casefold())
        if organisation is None:
            refuse(heading["organisation"], _("No organisation of this programme has this name."))
        elif organisation.pk not in known.allowed:
            refuse(heading["organisation"], _("You may not import people into this organisation."))
        else:
            row.organisation = organisation
        user = known.users.get(row.email)
        if user is None and row.email in known.usernames:
            refuse(
                heading["email"], _("This email address is already in use by an account you may not change.")
            )
        elif user is not None:
            person = getattr(user, "person", None)
            if person is None or person.organisation_id not in known.allowed:
                refuse(
                    heading["email"],
                    _("This email address is already in use by an account you may not change."),
                )
            elif row.organisation is not None and person.organisation_id != row.organisation.pk:
                refuse(
                    heading["organisation"],
                    _("This person works at another organisation; an import does not move people."),
                )
            row.user, row.person = user, person
        if "unit" in positions:
            text = cell("unit")
            row.values["unit"] = None
            if text and row.organisation is not None:
                unit = _find_unit(text, row.organisation, known)
                if unit is None:
                    refuse(
                        heading["unit"],
                        _("%(organisation)s has no unit %(unit)s.")
                        % {"organisation": row.organisation.short_name, "unit": text},
                    )
                row.values["unit"] = unit
        if "work_role" in positions:
            text = cell("work_role")
            row.work_role = known.work_roles.get(text.casefold()) if text else None
            if text and row.work_role is None:
                refuse(heading["work_role"], _("This programme has no role at work with this code."))
        for key in ("job_title", "phone"):
            if key in positions:
                row.values[key] = cell(key)
        if "languages" in positions:
            codes = [code.casefold() for code in _split(cell("languages"))]
            try:
                validate_language_codes(codes)
            except ValidationError as exc:
                refuse(heading["languages"], " ".join(exc.messages))
            row.values["languages"] = codes
        if "preferred_language" in positions:
            text = cell("preferred_language")
            code = language_names.get(text.casefold(), "") if text else ""
            if text and not code:
                refuse(heading["preferred_language"], _("Choose sv, da or en."))
            row.values["preferred_language"] = code
        if "roles" in positions and cell("roles"):
            names = _split(cell("roles"))
            unknown = [name for name in names if name.casefold() not in role_names]
            roles = frozenset(role_names[name.casefold()] for name in names if name.casefold() in role_names)
            if unknown:
                refuse(heading["roles"], _("Unknown role: %(roles)s") % {"roles": ", ".join(unknown)})
            elif not roles <= known.may_grant:
                refuse(heading["roles"], _("You may not grant these roles."))
            row.roles = roles
        row.manager_email = cell("line_manager").casefold()
        row.keep_manager = "line_manager" not in positions
    return rows


def _find_unit(text: str, organisation: Organisation, known: Known) -> Unit | None:
    """A unit by its path, "Malmö stad / Vuxenutbildning / sfi" (the organisation first, optionally) or by
    its name alone; unit names are unique within an organisation."""
    parts = [part.strip() for part in text.split("/") if part.strip()]
    if len(parts) > 1 and parts[0].casefold() in {
        organisation.short_name.casefold(),
        organisation.name.casefold(),
    }:
        parts = parts[1:]
    if not parts:
        return None
    unit = known.units_by_name.get((organisation.pk, parts[-1].casefold()))
    node = unit
    for name in reversed(parts[:-1]):
        node = known.units.get(node.parent_id) if node is not None and node.parent_id else None
        if node is None or node.name.casefold() != name.casefold():
            return None
    return unit


def _check_managers(rows: list[Row], known: Known, *, heading: str) -> None:
    """Line managers by e-mail, in the file (in any order) or already registered, in the same organisation;
    and no circle of line managers once the file is applied."""
    in_file = {row.email: row for row in rows if row.email}
    email_of = {user.person.pk: email for email, user in known.users.items() if getattr(user, "person", None)}

    def key(pk: int) -> str:  # registered people the file does not name are known by their id
        return email_of.get(pk) or f"#{pk}"

    # Who manages whom after the import: the file's rows override what is registered.
    manager_of: dict[str, str] = {
        key(pk): key(manager_pk) for pk, manager_pk in known.managers.items() if manager_pk is not None
    }
    for row in rows:
        if row.keep_manager:
            continue
        if not row.manager_email:
            manager_of.pop(row.email, None)
            continue
        organisation_id = row.organisation.pk if row.organisation else None
        other = in_file.get(row.manager_email)
        user = known.users.get(row.manager_email)
        registered = getattr(user, "person", None) if user is not None else None
        if row.manager_email == row.email:
            row.outcome.refuse(heading, _("A person cannot be their own line manager."))
        elif (
            other is not None and other.organisation is not None and other.organisation.pk == organisation_id
        ):
            manager_of[row.email] = row.manager_email
        elif other is None and registered is not None and registered.organisation_id == organisation_id:
            manager_of[row.email] = row.manager_email
        elif organisation_id is not None:
            row.outcome.refuse(
                heading,
                _(
                    "No one with this email address works in the same organisation "
                    "(in this file or registered)."
                ),
            )
    for row in rows:
        seen = [row.email]
        node = manager_of.get(row.email)
        while node is not None and node not in seen:
            seen.append(node)
            node = manager_of.get(node)
        if node == row.email and len(seen) > 1:
            row.outcome.refuse(
                heading,
                _("This makes a circle of line managers: %(circle)s.")
                % {"circle": " → ".join(name if not name.startswith("#") else "…" for name in [*seen, node])},
            )


def _outcome(row: Row, known: Known) -> str:
    if row.person is None:
        return CREATE
    person, user = row.person, row.person.user
    if (user.first_name, user.last_name) != (row.values["first_name"], row.values["last_name"]):
        return UPDATE
    for name in PERSON_FIELDS:
        if name in row.values and current(person, name) != wanted(row, name):
            return UPDATE
    if not row.keep_manager:
        manager = known.users.get(row.manager_email) if row.manager_email else None
        manager_pk = getattr(getattr(manager, "person", None), "pk", None) if manager is not None else None
        if row.manager_email and (manager_pk is None or person.line_manager_id != manager_pk):
            return UPDATE
        if not row.manager_email and person.line_manager_id is not None:
            return UPDATE
    membership = known.memberships.get(person.pk)
    if membership is None or not membership.is_active:
        return UPDATE
    if row.work_role is not None and membership.work_role_id != row.work_role.pk:
        return UPDATE
    if row.roles is not None and set(known.roles.get(membership.pk, {})) != set(row.roles):
        return UPDATE
    return UNCHANGED
