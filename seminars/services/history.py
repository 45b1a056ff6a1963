"""Course completions from before the programme used the platform, imported from a spreadsheet.

A programme moving from spreadsheets records who completed which course, when (a date in the past) and,
optionally, in which round: the completions count for history, prerequisites and the barometer. Nothing is
sent: no notification, no e-mail, no calendar invite. Same model as the people import: a dry run reports
each row's outcome and errors (naming row and column); the import saves all rows or none.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from coordinator.core.spreadsheets import (
    CREATE,
    UNCHANGED,
    UPDATE,
    Cell,
    Column,
    ImportReport,
    RowOutcome,
    cell_text,
    match_columns,
    parse_date,
    read_sheet,
)
from organisations.models import Person, Programme
from organisations.permissions import Actor
from seminars.models import Completion, Course, Round

COLUMNS = [
    Column("email", gettext_lazy("Email"), ("e-mail", "e-post", "epost", "mail"), True),
    Column("course", gettext_lazy("Course"), ("kurs", "course title", "kurstitel"), True),
    Column("round", gettext_lazy("Round"), ("omgång", "runde", "round date", "session date")),
    Column(
        "completed_on",
        gettext_lazy("Completed on"),
        ("completed", "slutförd", "gennemført", "datum", "dato"),
        True,
    ),
    Column("method", gettext_lazy("How"), ("method", "sätt", "måde")),
    Column("note", gettext_lazy("Note"), ("anteckning", "notat", "kommentar")),
]
NOTE_LIMIT = 500


def can_import_completions(actor: Actor, programme: Programme) -> bool:
    return actor.is_coordinator(programme)


def completions_import(
    *, actor: Actor, programme: Programme, data: bytes, dry_run: bool = True
) -> ImportReport:
    """Check (``dry_run``) or record past course completions of the programme's members. Coordinators and
    programme admins. Sends nothing; saves every row or none."""
    if not can_import_completions(actor, programme):
        raise PermissionDenied(_("You may not import course history into this programme."))
    sheet = read_sheet(data)
    positions = match_columns(sheet, COLUMNS)
    heading = {
        c.key: sheet.headers[positions[c.key]] if c.key in positions else str(c.label) for c in COLUMNS
    }
    people = {
        email: person
        for email, person in (
            (person.email_lower, person)
            for person in Person.objects.filter(memberships__programme=programme, memberships__is_active=True)
            .annotate(email_lower=Lower("user__email"))
            .select_related("user")
        )
    }
    courses: dict[str, Course] = {}
    for course in Course.objects.filter(programme=programme):
        courses.setdefault(course.title.casefold(), course)
    zone = ZoneInfo(programme.time_zone)
    rounds: dict[tuple[int, str], Round] = {}
    for round_ in Round.objects.filter(course__programme=programme):
        rounds.setdefault((round_.course_id, round_.label.casefold()), round_)
        if round_.starts_at is not None:
            rounds.setdefault(
                (round_.course_id, round_.starts_at.astimezone(zone).date().isoformat()), round_
            )
    existing = {(c.person_id, c.course_id): c for c in Completion.objects.filter(course__programme=programme)}
    methods = _methods()
    today = timezone.now().astimezone(zone).date()
    report = ImportReport(dry_run=dry_run)
    seen: dict[tuple[int, int], int] = {}
    to_create: list[Completion] = []
    to_update: list[Completion] = []
    for number, cells in sheet.rows:

        def cell(key: str, cells: list[Cell] = cells) -> str:
            position = positions.get(key)
            return cell_text(cells[position]) if position is not None and position < len(cells) else ""

        outcome = RowOutcome(row=number, label=f"{cell('email')} – {cell('course')}")
        report.rows.append(outcome)
        person = people.get(cell("email").casefold())
        if person is None:
            outcome.refuse(heading["email"], _("No member of this programme has this email address."))
        course = courses.get(cell("course").casefold())
        if course is None:
            outcome.refuse(heading["course"], _("This programme has no course with this title."))
        round_ = None
        if cell("round") and course is not None:
            round_ = rounds.get((course.pk, _round_key(cells[positions["round"]])))
            if round_ is None:
                outcome.refuse(heading["round"], _("This course has no round with this name or start date."))
        completed_on = None
        try:
            completed_on = parse_date(
                cells[positions["completed_on"]] if positions["completed_on"] < len(cells) else None
            )
        except ValueError:
            outcome.refuse(
                heading["completed_on"], _("Enter a date such as 2026-12-04, 4/12/2026 or an Excel date.")
            )
        if completed_on is not None and completed_on > today:
            outcome.refuse(heading["completed_on"], _("History is in the past: this date has not come yet."))
        method = methods.get(cell("method").casefold()) if cell("method") else Completion.Method.ATTENDANCE
        if method is None:
            outcome.refuse(heading["method"], _("Choose attendance or assessment."))
        note = cell("note")
        if len(note) > NOTE_LIMIT:
            outcome.refuse(
                heading["note"], _("Keep this under %(limit)s characters.") % {"limit": NOTE_LIMIT}
            )
        if person is None or course is None or outcome.errors:
            continue
        key = (person.pk, course.pk)
        if key in seen:
            outcome.refuse(
                heading["course"], _("This completion is also on row %(row)s.") % {"row": seen[key]}
            )
            continue
        seen[key] = number
        assert completed_on is not None and method is not None
        found = existing.get(key)
        if found is None:
            to_create.append(
                Completion(
                    person=person,
                    course=course,
                    round=round_,
                    method=method,
                    completed_on=completed_on,
                    recorded_by=actor.person,
                    note=note,
                )
            )
        elif (found.completed_on, found.round_id, found.method, found.note) == (
            completed_on,
            round_.pk if round_ else None,
            method,
            note,
        ):
            outcome.outcome = UNCHANGED
        else:
            found.completed_on, found.round, found.method, found.note = completed_on, round_, method, note
            to_update.append(found)
            outcome.outcome = UPDATE
        if outcome.outcome not in (UNCHANGED, UPDATE):
            outcome.outcome = CREATE
    if dry_run or not report.ok:
        return report
    with transaction.atomic():
        Completion.objects.bulk_create(to_create)
        if to_update:
            Completion.objects.bulk_update(
                to_update, ["completed_on", "round", "method", "note"], batch_size=1000
            )
    report.committed = True
    return report


def _round_key(cell: Cell) -> str:
    """A round named by its label, or by its start date in any form ``parse_date`` reads."""
    try:
        return parse_date(cell).isoformat()
    except ValueError:
        return cell_text(cell).casefold()


def _methods() -> dict[str, str]:
    found: dict[str, str] = {}
    for language in ("en", "sv", "da"):
        with override(language):
            for code, label in Completion.Method.choices:
                found[str(label).casefold()] = code
    found.update({code: code for code in Completion.Method.values})
    return found
