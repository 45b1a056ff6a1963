"""The barometer API: every feature's figures of one programme as JSON, or as CSV for Swedish Excel."""

from __future__ import annotations

from coordinator.core import registry
from organisations.models import Membership, PlatformRole, RoleAssignment
from tests.factories import make_member

URL = "/api/v1/reports/barometer/"


def test_barometer_json_has_every_section_for_the_period(api, programme, coordinator, staff_a, org_b):
    response = api(coordinator).get(URL, {"from": "2026-01-01", "to": "2026-12-31"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["programme"], body["from"], body["to"]) == (programme.pk, "2026-01-01", "2026-12-31")
    titles = [section["title"] for section in body["sections"]]
    assert titles[0] == "Organisations and people"
    organisations = body["sections"][0]
    assert organisations["figures"][:2] == [
        {"label": "Organisations taking part", "value": 2},
        {"label": "Active members", "value": 2},
    ]
    assert len(titles) == len([p for p in registry.report_providers])


def test_barometer_csv_opens_in_swedish_excel(api, programme, coordinator, staff_a):
    response = api(coordinator).get(URL, {"from": "2026-01-01", "to": "2026-12-31", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="barometer-malmo-2026-01-01-2026-12-31.csv"'
    )
    content = response.content
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "Section;Figure;Value;Unit"
    assert lines[1] == "Organisations and people;Organisations taking part;2;"


def test_barometer_needs_a_reporting_role_and_its_own_programme(
    api, programme, other_programme, staff_a, coordinator
):
    assert api(staff_a).get(URL).status_code == 403
    foreign = api(coordinator).get(URL, {"programme": other_programme.pk})
    assert (foreign.status_code, foreign.json()) == (400, {"programme": ["No such programme among yours."]})
    assert api(None).get(URL).status_code == 401


def test_barometer_asks_which_programme_when_one_reports_on_several(
    api, programme, other_programme, coordinator
):
    membership = Membership.unscoped_objects.create(programme=other_programme, person=coordinator)
    RoleAssignment.unscoped_objects.create(membership=membership, role=PlatformRole.COORDINATOR)
    ambiguous = api(coordinator).get(URL)
    chosen = api(coordinator).get(URL, {"programme": other_programme.pk})
    assert (ambiguous.status_code, ambiguous.json()) == (
        400,
        {"programme": ["Name the programme to report on."]},
    )
    assert (chosen.status_code, chosen.json()["programme"]) == (200, other_programme.pk)


def test_barometer_bad_input_is_400(api, coordinator):
    assert api(coordinator).get(URL, {"from": "2026-13-01"}).status_code == 400
    backwards = api(coordinator).get(URL, {"from": "2026-06-01", "to": "2026-01-01"})
    assert (backwards.status_code, backwards.json()) == (
        400,
        {"to": ["The period must end on or after its start."]},
    )
    assert api(coordinator).get(URL, {"programme": "x"}).status_code == 400
    assert api(coordinator).get(URL, {"programme": str(2**64)}).status_code == 400
    assert api(coordinator).get(URL, {"colour": "red"}).status_code == 400


def test_barometer_json_links_only_the_reports_the_reader_may_open(api, programme, org_a, coordinator):
    reader = make_member(programme, org_a, PlatformRole.ORGANISATION_ADMIN)
    period = {"from": "2026-01-01", "to": "2026-12-31"}
    by_coordinator = api(coordinator).get(URL, period).json()["sections"]
    by_organisation_admin = api(reader).get(URL, period).json()["sections"]
    assert [section["link_url"] for section in by_coordinator] == [
        "",
        "/shadowing/coordinate/overview/?starts_on=2026-01-01&ends_on=2026-12-31",
        "/focusgroups/",
        "/seminars/manage/report/?start=2026-01-01&end=2026-12-31",
    ]
    assert [section["link_url"] for section in by_organisation_admin] == ["", "", "/focusgroups/", ""]
