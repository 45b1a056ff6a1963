"""Competence gaps as tables: organisations (or one organisation's units) × competences, with groups
smaller than ``MIN_GROUP`` hidden so that no total reveals them, and a line manager's team × competences."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from organisations.models import Organisation, Programme, Unit
from organisations.selectors.competence import (
    MIN_GROUP,
    CompetenceInfo,
    MemberRow,
    competences_of,
    gained,
    members_with_roles,
    profiles_of,
)


@dataclass
class Cell:
    """People whose profile asks for a competence (``required``) and how many of them lack it; ``hidden``
    when the group is too small to show, or would let a total reveal one that is."""

    required: int
    lacking: int
    hidden: bool = False

    @property
    def share(self) -> int | None:
        """The share lacking, in whole per cent (None when hidden or nobody is asked)."""
        if self.hidden or not self.required:
            return None
        return round(100 * self.lacking / self.required)


@dataclass
class HeatMap:
    """Rows (organisations or units) × competences, with a total per row and per competence."""

    rows: list[tuple[int, str]]
    columns: list[CompetenceInfo]
    cells: dict[tuple[int, int], Cell]
    row_totals: dict[int, Cell]
    column_totals: dict[int, Cell]
    people: int
    row_heading: str = ""
    hidden_any: bool = field(default=False)

    def cell(self, row: int, column: int) -> Cell:
        return self.cells[(row, column)]

    def table(self) -> list[tuple[tuple[int, str], list[Cell], Cell]]:
        return [
            (row, [self.cells[(row[0], c.id)] for c in self.columns], self.row_totals[row[0]])
            for row in self.rows
        ]

    def totals(self) -> list[Cell]:
        return [self.column_totals[c.id] for c in self.columns]


NO_UNIT = 0


def gap_heat_map(programme: Programme, organisation: Organisation | None = None) -> HeatMap:
    """The programme's gaps by organisation, or one organisation's by unit (people with no unit form a
    row of their own). A fixed number of queries."""
    competences = competences_of(programme)
    members = members_with_roles(programme)
    if organisation is not None:
        members = [m for m in members if m.organisation_id == organisation.pk]
        units = list(
            Unit.objects.filter(organisation=organisation).order_by("name").values_list("pk", "name")
        )
        rows = units + [(NO_UNIT, _("No unit"))]

        def row_of(m: MemberRow) -> int:
            return m.unit_id or NO_UNIT

        heading = _("Unit")
    else:
        rows = list(
            Organisation.objects.filter(participations__programme=programme)
            .order_by("name")
            .values_list("pk", "name")
        )

        def row_of(m: MemberRow) -> int:
            return m.organisation_id

        heading = _("Organisation")
    profiles = profiles_of(programme)
    have = gained(programme, competences) if members else {}
    required: dict[tuple[int, int], int] = defaultdict(int)
    lacking: dict[tuple[int, int], int] = defaultdict(int)
    people_in_row: dict[int, int] = defaultdict(int)
    counted = 0
    for m in members:
        wanted = profiles.get(m.work_role_id or 0)
        if not wanted:
            continue
        counted += 1
        row = row_of(m)
        people_in_row[row] += 1
        mine = have.get(m.person_id, {})
        for cid in wanted:
            required[(row, cid)] += 1
            if cid not in mine:
                lacking[(row, cid)] += 1
    known_rows = {pk for pk, _name in rows}
    rows = [row for row in rows if row[0] in known_rows and (row[0] != NO_UNIT or people_in_row.get(NO_UNIT))]
    cells = {
        (r, c.id): Cell(required[(r, c.id)], lacking[(r, c.id)]) for r, _name in rows for c in competences
    }
    row_totals = {
        r: Cell(
            sum(required[(r, c.id)] for c in competences),
            sum(lacking[(r, c.id)] for c in competences),
        )
        for r, _name in rows
    }
    column_totals = {
        c.id: Cell(sum(required[(r, c.id)] for r, _n in rows), sum(lacking[(r, c.id)] for r, _n in rows))
        for c in competences
    }
    # A row total is about the row's people: it is small when they are.
    row_sizes = {r: people_in_row.get(r, 0) for r, _n in rows}
    hidden_any = suppress(cells, row_totals, column_totals, row_sizes)
    return HeatMap(rows, competences, cells, row_totals, column_totals, counted, heading, hidden_any)


def suppress(
    cells: dict[tuple[int, int], Cell],
    row_totals: dict[int, Cell],
    column_totals: dict[int, Cell],
    row_sizes: dict[int, int],
) -> bool:
    """Hide every group of 1 to ``MIN_GROUP - 1`` people, then, until nothing changes, in each row and
    column whose total is shown and that has exactly one hidden group, hide the smallest other group too
    (or the total, when there is none): a total minus the visible cells never reveals a hidden one.
    Returns whether anything is hidden."""
    for cell in cells.values():
        cell.hidden = 0 < cell.required < MIN_GROUP
    for r, total in row_totals.items():
        total.hidden = 0 < row_sizes.get(r, 0) < MIN_GROUP
    for total in column_totals.values():
        total.hidden = 0 < total.required < MIN_GROUP
    lines: list[tuple[list[Cell], Cell]] = [
        ([cell for (r, _c), cell in cells.items() if r == row], total) for row, total in row_totals.items()
    ] + [
        ([cell for (_r, c), cell in cells.items() if c == column], total)
        for column, total in column_totals.items()
    ]
    changed = True
    while changed:
        changed = False
        for members, total in lines:
            if total.hidden:
                continue
            hidden = [cell for cell in members if cell.hidden and cell.required]
            if len(hidden) != 1:
                continue
            visible = sorted(
                (cell for cell in members if not cell.hidden and cell.required),
                key=lambda cell: cell.required,
            )
            if visible:
                visible[0].hidden = True
            else:
                total.hidden = True
            changed = True
    return any(c.hidden for c in cells.values()) or any(
        t.hidden for t in (*row_totals.values(), *column_totals.values())
    )


# --- A line manager's team ----------------------------------------------------------------------------------


@dataclass
class TeamRow:
    person_id: int
    name: str
    marks: list[str]  # per competence: "has", "lacks" or "" (not in their profile)

    @property
    def lacking(self) -> int:
        return self.marks.count("lacks")


@dataclass
class TeamGrid:
    columns: list[CompetenceInfo]
    rows: list[TeamRow]

    def lacking_per_competence(self) -> list[int]:
        return [sum(1 for row in self.rows if row.marks[i] == "lacks") for i in range(len(self.columns))]


def team_grid(programme: Programme, manager_id: int) -> TeamGrid:
    """The people who report to a line manager × the programme's competences (a fixed number of queries).
    Individuals, not an aggregate: their line manager may see each one's gaps."""
    competences = competences_of(programme)
    members = members_with_roles(programme, line_manager_id=manager_id)
    profiles = profiles_of(programme)
    have = gained(programme, competences, [m.person_id for m in members]) if members else {}
    rows = []
    for m in members:
        wanted = profiles.get(m.work_role_id or 0, {})
        mine = have.get(m.person_id, {})
        marks = ["" if c.id not in wanted else ("has" if c.id in mine else "lacks") for c in competences]
        rows.append(TeamRow(m.person_id, m.name, marks))
    return TeamGrid(competences, rows)
