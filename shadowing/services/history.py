"""Visits made before the programme used the platform, imported from a spreadsheet.

Each row is a visit a member made at another organisation's workplace on dates in the past, with what they
learned if it was written down. It is recorded as a completed placement (visited, or reflected when the
reflection is given) of a request marked placed, with its days and one event saying where it came from. It
books no slot, and nothing is sent: no notification, no e-mail, no calendar invite. Same model as the
people import: a dry run reports each row's outcome and errors (naming row and column); the import saves
all rows or none, in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from coordinator.core.spreadsheets import (
    UNCHANGED,
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
from shadowing import permissions
from shadowing.models import (
    AvailabilityWindow,
    Placement,
    PlacementDay,
    PlacementEvent,
    Reflection,
    ShadowingRequest,
    Workplace,
)

COLUMNS = [
    Column("email", gettext_lazy("Email"), ("e-mail", "e-post", "epost", "mail", "shadower"), True),
    Column("workplace", gettext_lazy("Workplace"), ("arbetsplats", "arbejdsplads"), True),
    Column(
        "first_day",
        gettext_lazy("First day"),
        ("from", "date", "datum", "dato", "första dag", "første dag"),
        True,
    ),
    Column("last_day", gettext_lazy("Last day"), ("to", "until", "sista dag", "sidste dag")),
    Column(
        "learned",
        gettext_lazy("What I learned"),
        ("learned", "reflection", "reflektion", "lärdomar", "læring"),
    ),
    Column(
        "how_used", gettext_lazy("How I will use it in my work"), ("how used", "användning", "anvendelse")
    ),
    Column(
        "how_shared", gettext_lazy("How I shared it with colleagues"), ("how shared", "delning", "deling")
    ),
]
TEXT_LIMIT = 5000
MAX_DAYS = 3  # a request asks for one to three days
DAY_STARTS, DAY_ENDS = dt.time(9, 0), dt.time(16, 0)


def can_import_visits(actor: Actor, programme: Programme) -> bool:
    return permissions.can_manage(actor, programme)


def visits_import(*, actor: Actor, programme: Programme, data: bytes, dry_run: bool = True) -> ImportReport:
    """Check (``dry_run``) or record past visits of the programme's members. The programme's coordinators.
    Sends nothing; saves every row or none."""
    if not can_import_visits(actor, programme):
        raise PermissionDenied(_("You may not import visit history into this programme."))
    sheet = read_sheet(data)
    positions = match_columns(sheet, COLUMNS)
    heading = {
        c.key: sheet.headers[positions[c.key]] if c.key in positions else str(c.label) for c in COLUMNS
    }
    people = {
        person.email_lower: person
        for person in Person.objects.filter(memberships__programme=programme, memberships__is_active=True)
        .annotate(email_lower=Lower("user__email"))
        .select_related("user")
    }
    workplaces: dict[str, Workplace | None] = {}
    for workplace in Workplace.objects.filter(programme=programme).select_related("organisation"):
        name = workplace.name.casefold()
        workplaces[name] = None if name in workplaces else workplace  # None: the name alone is ambiguous
        for prefix in (workplace.organisation.short_name, workplace.organisation.name):
            workplaces[f"{prefix.casefold()} / {name}"] = workplace
    recorded = set(
        PlacementDay.objects.filter(
            placement__programme=programme, placement__status__in=Placement.AFTER_VISIT
        ).values_list("placement__request__requester_id", "placement__workplace_id", "date")
    )
    zone = ZoneInfo(programme.time_zone)
    today = timezone.now().astimezone(zone).date()
    report = ImportReport(dry_run=dry_run)
    visits: list[_Visit] = []
    seen: dict[tuple[int, int, dt.date], int] = {}
    for number, cells in sheet.rows:

        def cell(key: str, cells: list[Cell] = cells) -> Cell:
            position = positions.get(key)
            return cells[position] if position is not None and position < len(cells) else None

        outcome = RowOutcome(row=number, label=f"{cell_text(cell('email'))} – {cell_text(cell('workplace'))}")
        report.rows.append(outcome)
        person = people.get(cell_text(cell("email")).casefold())
        if person is None:
            outcome.refuse(heading["email"], _("No member of this programme has this email address."))
        workplace_name = " / ".join(
            part.strip() for part in cell_text(cell("workplace")).casefold().split("/")
        )
        workplace = workplaces.get(workplace_name)
        if workplace is None:
            message = (
                _("Several workplaces have this name: write the organisation first, as in MV / Mottagningen.")
                if workplace_name in workplaces
                else _("This programme has no workplace with this name.")
            )
            outcome.refuse(heading["workplace"], message)
        elif person is not None and workplace.organisation_id == person.organisation_id:
            outcome.refuse(heading["workplace"], _("Shadowing is at another organisation than one's own."))
        days = _days(outcome, cell("first_day"), cell("last_day"), heading, today)
        texts = {key: cell_text(cell(key)) for key in ("learned", "how_used", "how_shared")}
        for key, text in texts.items():
            if len(text) > TEXT_LIMIT:
                outcome.refuse(
                    heading[key], _("Keep this under %(limit)s characters.") % {"limit": TEXT_LIMIT}
                )
        if (texts["how_used"] or texts["how_shared"]) and not texts["learned"]:
            outcome.refuse(heading["learned"], _("Write what was learned, or leave the reflection out."))
        if person is None or workplace is None or not days or outcome.errors:
            continue
        visit_key = (person.pk, workplace.pk, days[0])
        if visit_key in seen:
            outcome.refuse(
                heading["first_day"], _("The same visit is also on row %(row)s.") % {"row": seen[visit_key]}
            )
            continue
        seen[visit_key] = number
        if visit_key in recorded:
            outcome.outcome = UNCHANGED
            continue
        visits.append(_Visit(person, workplace, days, texts))
    if dry_run or not report.ok:
        return report
    with transaction.atomic():
        _save(actor, programme, visits, zone)
    report.committed = True
    return report


class _Visit:
    def __init__(
        self, person: Person, workplace: Workplace, days: list[dt.date], texts: dict[str, str]
    ) -> None:
        self.person, self.workplace, self.days, self.texts = person, workplace, days, texts


def _days(
    outcome: RowOutcome, first: Cell, last: Cell, heading: dict[str, str], today: dt.date
) -> list[dt.date]:
    """The working days (Monday to Friday) from the first to the last day, all before today."""
    try:
        start = parse_date(first)
    except ValueError:
        outcome.refuse(
            heading["first_day"], _("Enter a date such as 2026-12-04, 4/12/2026 or an Excel date.")
        )
        return []
    end = start
    if cell_text(last):
        try:
            end = parse_date(last)
        except ValueError:
            outcome.refuse(
                heading["last_day"], _("Enter a date such as 2026-12-04, 4/12/2026 or an Excel date.")
            )
            return []
    if end < start:
        outcome.refuse(heading["last_day"], _("The last day comes before the first."))
        return []
    if end >= today:
        column = heading["last_day"] if end != start else heading["first_day"]
        outcome.refuse(column, _("History is in the past: this visit has not ended yet."))
        return []
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    days = [day for day in days if day.weekday() < 5]
    if not days or len(days) > MAX_DAYS:
        outcome.refuse(heading["first_day"], _("A visit lasts one to three working days."))
        return []
    return days


def _save(actor: Actor, programme: Programme, visits: list[_Visit], zone: ZoneInfo) -> None:
    with override(programme.language):
        goals = _("Recorded from the programme's earlier records.")
    now = timezone.now()

    def at(day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=zone)

    requests = [
        ShadowingRequest(
            programme=programme,
            requester=visit.person,
            organisation_id=visit.person.organisation_id,
            learning_goals=goals,
            days=len(visit.days),
            status=ShadowingRequest.Status.PLACED,
            submitted_at=at(visit.days[0], DAY_STARTS),
            expires_at=at(visit.days[-1], DAY_ENDS),
            decided_at=at(visit.days[0], DAY_STARTS),
        )
        for visit in visits
    ]
    ShadowingRequest.objects.bulk_create(requests)
    AvailabilityWindow.objects.bulk_create(
        AvailabilityWindow(request=request, starts_on=visit.days[0], ends_on=visit.days[-1])
        for request, visit in zip(requests, visits, strict=True)
    )
    placements = [
        Placement(
            programme=programme,
            request=request,
            workplace=visit.workplace,
            status=Placement.Status.REFLECTED if visit.texts["learned"] else Placement.Status.VISITED,
            confidentiality_accepted_at=at(visit.days[0], DAY_STARTS),
        )
        for request, visit in zip(requests, visits, strict=True)
    ]
    Placement.objects.bulk_create(placements)
    PlacementDay.objects.bulk_create(
        PlacementDay(placement=placement, date=day, starts_at=DAY_STARTS, ends_at=DAY_ENDS)
        for placement, visit in zip(placements, visits, strict=True)
        for day in visit.days
    )
    with override(programme.language):
        note = _("Imported from earlier records.")
    PlacementEvent.objects.bulk_create(
        PlacementEvent(
            placement=placement,
            from_status="",
            to_status=placement.status,
            actor=actor.person,
            at=now,
            note=note,
        )
        for placement in placements
    )
    Reflection.objects.bulk_create(
        Reflection(
            placement=placement,
            learned=visit.texts["learned"],
            how_used=visit.texts["how_used"],
            how_shared=visit.texts["how_shared"],
            submitted_at=at(visit.days[-1], DAY_ENDS),
        )
        for placement, visit in zip(placements, visits, strict=True)
        if visit.texts["learned"]
    )
