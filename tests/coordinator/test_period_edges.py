"""A reporting period at the edges of the calendar (year 1, year 9999) is refused as bad input on every
report page and endpoint: a form error or a 400, never a 500 from a date that cannot be turned into a time."""

from __future__ import annotations

import pytest

from organisations.models import PlatformRole
from tests.factories import make_member

R = PlatformRole

MESSAGES = {
    "0001-01-01": "Ensure this value is greater than or equal to 1900-01-01.",
    "1899-12-31": "Ensure this value is greater than or equal to 1900-01-01.",
    "9999-01-01": "Ensure this value is less than or equal to 9998-12-31.",
}
EDGES = [("0001-01-01", "0001-12-31"), ("9999-01-01", "9999-12-31"), ("1899-12-31", "1900-01-31")]


@pytest.mark.parametrize(("start", "end"), EDGES)
@pytest.mark.parametrize(
    ("path", "keys"),
    [
        ("/barometer/", ("start", "end")),
        ("/organisations/effect/", ("start", "end")),
        ("/seminars/manage/report/", ("start", "end")),
        ("/shadowing/coordinate/overview/", ("starts_on", "ends_on")),
    ],
)
def test_a_period_at_the_calendars_edge_is_a_form_error_on_each_report_page(
    web, programme, org_a, path, keys, start, end
):
    admin = make_member(programme, org_a, R.PROGRAMME_ADMIN, R.COORDINATOR)
    response = web(admin).get(path, {keys[0]: start, keys[1]: end})
    assert response.status_code in (200, 400)  # the page again with the form's error (the effect page: 400)
    assert MESSAGES[start] in response.content.decode()


@pytest.mark.parametrize(("start", "end"), EDGES)
@pytest.mark.parametrize("endpoint", ["barometer", "progress", "follow-ups", "costs"])
def test_a_period_at_the_calendars_edge_is_a_400_on_each_report_endpoint(
    api, programme, org_a, endpoint, start, end
):
    admin = make_member(programme, org_a, R.PROGRAMME_ADMIN, R.COORDINATOR)
    response = api(admin).get(
        f"/api/v1/reports/{endpoint}/", {"programme": programme.pk, "from": start, "to": end}
    )
    assert response.status_code == 400, response.content
    assert MESSAGES[start] in response.content.decode()
