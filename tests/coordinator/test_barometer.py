"""The programme barometer: who may see it, the period form, figures per programme, and the CSV download."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from organisations.models import Membership, PlatformRole
from tests.factories import make_member

R = PlatformRole
# A period around today that includes every membership the tests create.
WIDE = {
    "start": date(timezone.localdate().year - 1, 1, 1).isoformat(),
    "end": date(timezone.localdate().year + 1, 12, 31).isoformat(),
    "format": "csv",
}


@pytest.fixture
def with_other_programme_members(other_programme, org_other, outsider):
    """Members of another programme, who must not be counted."""
    for _ in range(4):
        make_member(other_programme, org_other, R.STAFF)


def _figures(response) -> dict[str, dict[str, str]]:
    """Section title -> {figure label: value} from the CSV download."""
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    figures: dict[str, dict[str, str]] = {}
    for row in rows[1:]:
        if len(row) == 4:
            figures.setdefault(row[0], {})[row[1]] = row[2]
    return figures


@pytest.mark.parametrize(
    ("roles", "status"),
    [
        ((R.STAFF,), 403),
        ((R.LINE_MANAGER,), 403),
        ((R.HOST_CONTACT,), 403),
        ((R.COORDINATOR,), 200),
        ((R.PROGRAMME_ADMIN,), 200),
        ((R.ORGANISATION_ADMIN,), 200),
    ],
)
def test_only_coordinators_and_admins_see_the_barometer(web, programme, org_a, roles, status):
    person = make_member(programme, org_a, *roles)
    assert web(person).get("/barometer/").status_code == status


def test_navigation_links_the_barometer_for_coordinators_only(web, coordinator, staff_a):
    assert b'href="/barometer/"' in web(coordinator).get("/").content
    assert b'href="/barometer/"' not in web(staff_a).get("/").content


def test_figures_count_this_programme_only(web, coordinator, staff_a, staff_b, with_other_programme_members):
    response = web(coordinator).get("/barometer/", WIDE)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="barometer-malmo-{WIDE["start"]}-{WIDE["end"]}.csv"' in response["Content-Disposition"]
    people = _figures(response)["Organisations and people"]
    assert people == {"Organisations taking part": "2", "Active members": "3", "Joined in the period": "3"}


def test_joined_in_the_period_follows_the_period(web, coordinator, staff_a):
    Membership.unscoped_objects.filter(person=staff_a).update(
        joined_at=timezone.make_aware(timezone.datetime(2020, 5, 1, 12, 0))
    )
    response = web(coordinator).get(
        "/barometer/", {"start": "2020-01-01", "end": "2020-12-31", "format": "csv"}
    )
    people = _figures(response)["Organisations and people"]
    assert (people["Active members"], people["Joined in the period"]) == ("2", "1")


def test_page_shows_each_section_with_its_tables(web, coordinator, staff_a):
    response = web(coordinator).get("/barometer/")
    assert response.status_code == 200
    titles = [section.title for section in response.context["sections"]]
    assert titles[0] == "Organisations and people"
    assert "Courses and seminars" in titles
    content = response.content.decode()
    assert "<caption>Members by organisation</caption>" in content
    this_year = timezone.localdate().year
    assert f'value="{this_year}-01-01"' in content


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-05-01", "end": "2026-01-01"}, "The period must end on or after its start."),
        ({"start": "2000-01-01", "end": "2020-01-01"}, "Choose a period of at most ten years."),
        ({"start": "not a date", "end": "2026-01-01"}, "Enter a valid date."),
        ({"start": "2026-01-01"}, "This field is required."),
    ],
)
def test_a_bad_period_is_a_form_error_not_a_failure(web, coordinator, query, message):
    response = web(coordinator).get("/barometer/", {**query, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert message in response.content.decode()
    assert response.context["sections"] == []


def test_csv_cells_that_look_like_formulas_are_neutralised(web, programme, coordinator, org_a):
    org_a.name = '=HYPERLINK("http://evil.example")'
    org_a.save()
    make_member(programme, org_a, R.STAFF)
    response = web(coordinator).get("/barometer/", WIDE)
    rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";")
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://evil.example")' in cells
    assert '=HYPERLINK("http://evil.example")' not in cells


@pytest.mark.parametrize("extra", [0, 5])
def test_query_count_does_not_grow_with_members(
    web, programme, org_a, coordinator, extra, django_assert_max_num_queries
):
    for _ in range(extra):
        make_member(programme, org_a, R.STAFF)
    client = web(coordinator)
    client.get("/barometer/")
    with django_assert_max_num_queries(25):
        assert client.get("/barometer/").status_code == 200


@pytest.fixture
def costed_round(programme, org_a):
    """A round in the period that cost 247 900,50 kr, paid by one funder."""
    from tests.factories import FunderFactory
    from tests.factories.seminars import CourseFactory, RoundCostFactory, RoundFactory, SessionFactory

    round_ = RoundFactory(course=CourseFactory(programme=programme, title="PTSD – grundkurs"))
    SessionFactory(round=round_)
    RoundCostFactory(round=round_, amount=Decimal("247900.50"))
    FunderFactory(programme=programme, name="Malmö stad", share_percent=Decimal("100.00"))
    return round_


def test_page_csv_opens_in_nordic_excel_with_amounts_and_their_currency(web, coordinator, costed_round):
    response = web(coordinator).get("/barometer/", WIDE)
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Section", "Figure", "Value", "Unit"]
    assert ["Courses and seminars", "Total cost", "247900,50", "SEK"] in rows
    heading = rows.index(["Courses and seminars", "Financing by funder"])
    assert rows[heading + 1] == ["Funder", "Share (%)", "Amount (SEK)"]
    assert rows[heading + 2] == ["Malmö stad", "100,00", "247900,50"]


def test_page_offers_the_barometer_as_an_excel_workbook(web, coordinator, costed_round):
    from openpyxl import load_workbook

    response = web(coordinator).get("/barometer/", {**WIDE, "format": "xlsx"})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].endswith(f'-{WIDE["end"]}.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {(row[0].value, row[1].value): row for row in sheet.iter_rows(min_row=2) if row[0].value}
    total = rows[("Courses and seminars", "Total cost")]
    assert (total[2].value, total[2].number_format, total[3].value) == (247900.5, '#,##0.00 "SEK"', "SEK")


def test_the_page_writes_figures_as_the_reader_writes_them(web, coordinator, costed_round):
    client = web(coordinator)
    client.post("/i18n/setlang/", {"language": "sv"})
    content = client.get("/barometer/", {k: v for k, v in WIDE.items() if k != "format"}).content.decode()
    assert "<dd>247\u00a0900,50\u00a0kr</dd>" in content


def _section_links(content: str) -> list[tuple[str, str]]:
    """(address, label) of each section's link to a feature's own report."""
    return re.findall(r'<p><a href="([^"]+)">([^<]+)</a></p>\n</section>', content)


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (
            (R.COORDINATOR,),
            [
                (
                    "/shadowing/coordinate/overview/?starts_on=2026-01-01&amp;ends_on=2026-12-31",
                    "Visits between organisations",
                ),
                ("/focusgroups/", "All focus groups"),
                (
                    "/seminars/manage/report/?start=2026-01-01&amp;end=2026-12-31",
                    "Costs and financing in detail",
                ),
            ],
        ),
        ((R.ORGANISATION_ADMIN,), [("/focusgroups/", "All focus groups")]),
        ((R.STEERING_GROUP,), [("/focusgroups/", "All focus groups")]),
    ],
)
def test_barometer_links_only_the_reports_the_reader_may_open(web, programme, org_a, roles, expected):
    reader = make_member(programme, org_a, *roles)
    client = web(reader)
    response = client.get("/barometer/", {"start": "2026-01-01", "end": "2026-12-31"})
    links = _section_links(response.content.decode())
    assert links == expected
    assert [client.get(url.replace("&amp;", "&")).status_code for url, _label in links] == [200] * len(links)
