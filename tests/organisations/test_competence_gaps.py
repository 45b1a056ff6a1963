"""Competence profiles and gaps on a hand-made programme whose figures are known (``competence_data``):
what each person has, the gap table by organisation and by unit, hiding small groups so that no total
reveals them, competences gained in a period, and the fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from organisations.selectors import competence as selectors
from organisations.selectors import gaps
from organisations.selectors.gaps import Cell, suppress
from tests.organisations import competence_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(programme, org_a, org_b):
    return competence_data.build(programme, org_a, org_b)


def _figures(heat_map):
    return {
        (label, c.name): (None if cell.hidden else (cell.required, cell.lacking))
        for (_pk, label), cells, _t in heat_map.table()
        for c, cell in zip(heat_map.columns, cells, strict=True)
    }


def test_gap_table_by_organisation_has_the_known_figures(data, in_programme):
    with in_programme(data.programme):
        heat_map = gaps.gap_heat_map(data.programme)
    assert [c.name for c in heat_map.columns] == [
        "Asylprocessen",
        "Hur Arbetsförmedlingen arbetar",
        "Traumamedvetet samtal",
    ]
    assert _figures(heat_map) == {
        ("Malmö stad", "Asylprocessen"): (5, 3),
        ("Malmö stad", "Hur Arbetsförmedlingen arbetar"): (5, 3),
        ("Malmö stad", "Traumamedvetet samtal"): (0, 0),
        ("Migrationsverket", "Asylprocessen"): (6, 3),
        ("Migrationsverket", "Hur Arbetsförmedlingen arbetar"): (0, 0),
        ("Migrationsverket", "Traumamedvetet samtal"): (6, 5),
    }
    assert [(t.required, t.lacking, t.hidden) for t in heat_map.totals()] == [
        (11, 6, False),
        (5, 3, False),
        (6, 5, False),
    ]
    assert heat_map.cell(data.org_a.pk, data.trauma.id).share == 83
    assert heat_map.people == 11
    assert heat_map.hidden_any is False


def test_a_small_organisation_is_hidden_and_no_total_reveals_it(data, in_programme):
    competence_data.small_organisation(data.programme, data)
    with in_programme(data.programme):
        heat_map = gaps.gap_heat_map(data.programme)
    # Region Skåne's two case officers are hidden; in each column that shows its total, the next smallest
    # group is hidden too, and so on along the rows, until no line has a single hidden group.
    assert _figures(heat_map) == {
        ("Malmö stad", "Asylprocessen"): None,
        ("Malmö stad", "Hur Arbetsförmedlingen arbetar"): None,
        ("Malmö stad", "Traumamedvetet samtal"): (0, 0),
        ("Migrationsverket", "Asylprocessen"): None,
        ("Migrationsverket", "Hur Arbetsförmedlingen arbetar"): (0, 0),
        ("Migrationsverket", "Traumamedvetet samtal"): None,
        ("Region Skåne", "Asylprocessen"): None,
        ("Region Skåne", "Hur Arbetsförmedlingen arbetar"): (0, 0),
        ("Region Skåne", "Traumamedvetet samtal"): None,
    }
    assert [None if t.hidden else (t.required, t.lacking) for t in heat_map.totals()] == [
        (13, 8),
        None,
        (8, 7),
    ]
    for row, cells, total in heat_map.table():
        hidden = [cell for cell in cells if cell.hidden]
        assert total.hidden or len(hidden) != 1, row
    for column, total in zip(heat_map.columns, heat_map.totals(), strict=True):
        hidden = [
            heat_map.cell(pk, column.id) for pk, _n in heat_map.rows if heat_map.cell(pk, column.id).hidden
        ]
        assert total.hidden or len(hidden) != 1, column.name


def test_suppress_hides_the_smallest_other_group_of_a_line_with_one_hidden():
    cells = {(1, 1): Cell(3, 1), (2, 1): Cell(8, 2), (3, 1): Cell(6, 6)}
    rows = {1: Cell(3, 1), 2: Cell(8, 2), 3: Cell(6, 6)}
    columns = {1: Cell(17, 9)}
    # One competence: each row total equals its only cell, so the rows hide with their cells.
    assert suppress(cells, rows, columns, {1: 3, 2: 8, 3: 6}) is True
    assert [cells[(r, 1)].hidden for r in (1, 2, 3)] == [True, False, True]
    assert [rows[r].hidden for r in (1, 2, 3)] == [True, False, True]
    assert columns[1].hidden is False


def test_suppress_hides_the_total_when_no_other_group_is_left():
    cells = {(1, 1): Cell(4, 1), (2, 1): Cell(0, 0)}
    columns = {1: Cell(4, 1)}
    suppress(cells, {}, columns, {})
    assert cells[(1, 1)].hidden is True
    assert columns[1].hidden is True


def test_gap_table_by_unit_of_one_organisation(data, in_programme):
    with in_programme(data.programme):
        heat_map = gaps.gap_heat_map(data.programme, data.org_b)
    # All five secretaries sit in Rosengård; Centrum has none and shows nothing.
    assert _figures(heat_map)[("Rosengård", "Asylprocessen")] == (5, 3)
    assert _figures(heat_map)[("Centrum", "Asylprocessen")] == (0, 0)
    assert [r[1] for r in heat_map.rows] == ["Centrum", "Rosengård"]


def test_person_profile_says_what_they_have_and_how_to_get_the_rest(data, in_programme):
    b1, b2, b3, b4, _b5 = data.secretaries
    with in_programme(data.programme):
        profile = selectors.person_profile(data.programme, b1)
        confirmed = selectors.person_profile(data.programme, b4)
    assert profile.work_role == "Introduktionssekreterare"
    assert [(line.competence.name, line.level, line.gained_on) for line in profile.lines] == [
        ("Asylprocessen", "basic", competence_data.DAY + timedelta(days=4)),
        ("Hur Arbetsförmedlingen arbetar", "basic", None),
    ]
    assert profile.lacking[0].ways == [
        "Member of the focus group: Informationsflödet",
        "Your line manager's confirmation that you gained it elsewhere",
    ]
    assert [s.label for s in profile.lacking[0].suggestions] == ["Informationsflödet"]
    assert [(line.competence.name, line.confirmed) for line in confirmed.lines if line.has] == [
        ("Hur Arbetsförmedlingen arbetar", True)
    ]


def test_gaps_by_person(data, in_programme):
    with in_programme(data.programme):
        found = selectors.gaps_by_person(data.programme)
    a = data.case_officers
    b = data.secretaries
    assert {pid: sorted(ids) for pid, ids in found.items() if ids} == {
        a[1].pk: [data.trauma.id],
        a[2].pk: [data.trauma.id],
        a[3].pk: sorted([data.asylum.id, data.trauma.id]),
        a[4].pk: sorted([data.asylum.id, data.trauma.id]),
        a[5].pk: sorted([data.asylum.id, data.trauma.id]),
        b[0].pk: [data.job_centre.id],
        b[1].pk: [data.job_centre.id],
        b[2].pk: [data.asylum.id],
        b[3].pk: [data.asylum.id],
        b[4].pk: sorted([data.asylum.id, data.job_centre.id]),
    }


def test_competences_gained_count_counts_each_first_gain_in_the_period(data, in_programme):
    day = competence_data.DAY
    with in_programme(data.programme):
        march = selectors.competences_gained_count(data.programme, day, day + timedelta(days=29))
        first_day = selectors.competences_gained_count(data.programme, day, day)
        later = selectors.competences_gained_count(
            data.programme, day + timedelta(days=30), date(2026, 12, 31)
        )
    # March: a1 asylum (2 Mar), a2 asylum (3), a1 trauma (4), b2 asylum (5), b1 visit (6), b4 confirmed (8),
    # b3 focus group (9). a3's course on 11 April falls later.
    assert (march, first_day, later) == (7, 1, 1)


def test_competences_gained_count_keeps_the_first_day_only(data, in_programme):
    from organisations.models import CompetenceConfirmation

    # A confirmation after the course does not count the asylum process twice for a1.
    CompetenceConfirmation.unscoped_objects.create(
        programme=data.programme,
        person=data.case_officers[0],
        competence=data.asylum,
        gained_on=competence_data.DAY + timedelta(days=10),
        confirmed_by=data.manager_b,
    )
    with in_programme(data.programme):
        assert (
            selectors.competences_gained_count(
                data.programme, competence_data.DAY, competence_data.DAY + timedelta(days=29)
            )
            == 7
        )


def test_other_programme_evidence_and_people_stay_out(data, other_programme, org_other, in_programme):
    theirs = competence_data.build(
        other_programme,
        org_other,
        competence_data.OrganisationFactory(
            name="Københavns Kommune", short_name="KK", programmes=[other_programme]
        ),
    )
    with in_programme(data.programme):
        heat_map = gaps.gap_heat_map(data.programme)
        gained = selectors.competences_gained_count(data.programme, date(2026, 1, 1), date(2026, 12, 31))
        profile = selectors.person_profile(data.programme, data.secretaries[0])
    assert {label for (_pk, label) in heat_map.rows} == {"Malmö stad", "Migrationsverket"}
    assert {c.id for c in heat_map.columns} == {data.asylum.id, data.trauma.id, data.job_centre.id}
    assert theirs.asylum.id not in {line.competence.id for line in profile.lines}
    assert gained == 8


def test_gap_table_reads_a_fixed_number_of_queries(data, in_programme, django_assert_num_queries):
    # The competences come with their sources in one query.
    with in_programme(data.programme), django_assert_num_queries(8):
        gaps.gap_heat_map(data.programme)
    for person in competence_data.small_organisation(data.programme, data):
        competence_data.Completion.unscoped_objects.create(
            person=person, course=data.course_trauma, method="attendance", completed_on=competence_data.DAY
        )
    with in_programme(data.programme), django_assert_num_queries(8):
        gaps.gap_heat_map(data.programme)
