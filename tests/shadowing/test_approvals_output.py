"""The approvals page's HTML, kept byte for byte: a line manager with requests waiting (with and without a
unit, wishes, topics, several windows), requests they decided, and requests that are not theirs to see
(another manager's report, their own, another programme's), in the three languages, compared with pages
recorded in ``tests/shadowing/pages/``. Keys and per-request tokens are written as names, so the pages hold
across runs."""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone

from coordinator.core.tenancy import unscoped
from organisations.models import Person, PlatformRole
from shadowing.models import ShadowingRequest, Topic, Workplace
from tests.factories import make_member
from tests.factories.shadowing import make_request

R = PlatformRole
RS = ShadowingRequest.Status
PAGES = Path(__file__).parent / "pages"
# Record the pages again (on code whose output is known to be right): RECORD_PAGES=1 pytest this_file
RECORD = os.environ.get("RECORD_PAGES") == "1"
SUBMITTED = datetime(2027, 1, 11, 9, 0, tzinfo=timezone.get_fixed_timezone(60))


def main_of(html: str) -> str:
    return html[html.index('<main id="main"') : html.index("</main>")]


def named(html: str, keys: dict[int, str]) -> str:
    """The page with the per-request token and the requests' keys written as names."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="-"', html)
    html = re.sub(r"/(\d+)/", lambda m: f"/{{{keys.get(int(m.group(1)), m.group(1))}}}/", html)
    return re.sub(
        r'(req|note)-(\d+)"', lambda m: f'{m.group(1)}-{{{keys.get(int(m.group(2)), m.group(2))}}}"', html
    )


def build(programme, other_programme, org_a, org_b, unit_b, manager_b, workplace_a, topic, org_other):
    """Requests for ``manager_b`` to decide, decided by them, and ones that must not show; returns the
    requests' keys as names."""
    second_topic = Topic.unscoped_objects.create(programme=programme, name="Mottagande")
    report = make_member(programme, org_b, R.STAFF, unit=unit_b, line_manager=manager_b)
    report_without_unit = make_member(programme, org_b, R.STAFF, line_manager=manager_b)
    unit_member = make_member(programme, org_b, R.STAFF, unit=unit_b)  # no line manager: the unit's
    other_manager = make_member(programme, org_a, R.LINE_MANAGER, R.STAFF)
    elsewhere = make_member(programme, org_a, R.STAFF, line_manager=other_manager)
    abroad = make_member(other_programme, org_other, R.STAFF, line_manager=manager_b)
    windows = [(date(2027, 2, 1), date(2027, 2, 12)), (date(2027, 3, 8), date(2027, 3, 19))]
    requests = {
        "first": make_request(
            programme,
            report,
            status=RS.PENDING_APPROVAL,
            days=2,
            consecutive=True,
            windows=windows,
            preferences=[workplace_a, org_a],
            topics=[topic, second_topic],
        ),
        "second": make_request(
            programme, report_without_unit, status=RS.PENDING_APPROVAL, windows=windows[:1]
        ),
        "third": make_request(
            programme, unit_member, status=RS.PENDING_APPROVAL, windows=windows[1:], preferences=[org_a]
        ),
        "approved": make_request(programme, report, status=RS.APPROVED, windows=windows[:1]),
        "declined": make_request(programme, report, status=RS.DECLINED, windows=windows[:1]),
        "other_manager": make_request(programme, elsewhere, status=RS.PENDING_APPROVAL, windows=windows),
        "own": make_request(programme, manager_b, status=RS.PENDING_APPROVAL, windows=windows),
        "abroad": make_request(other_programme, abroad, status=RS.PENDING_APPROVAL, windows=windows),
    }
    for n, request in enumerate(requests.values()):
        ShadowingRequest.unscoped_objects.filter(pk=request.pk).update(
            submitted_at=SUBMITTED + timedelta(hours=n % 2)  # ties: by key
        )
    ShadowingRequest.unscoped_objects.filter(pk=requests["first"].pk).update(
        learning_goals="Förstå <asylprocessen>.\nOch mottagandet."
    )
    for n, name in enumerate(["approved", "declined"]):
        ShadowingRequest.unscoped_objects.filter(pk=requests[name].pk).update(
            approved_by=manager_b, decided_at=SUBMITTED.replace(day=12 + n)
        )
    # Names by order of creation, whatever the factories' counters reached in earlier tests.
    for index, user in enumerate(User.objects.order_by("pk")):
        User.objects.filter(pk=user.pk).update(
            first_name=f"Förnamn{index}", last_name=f"Efternamn{index}", username=f"user{index}"
        )
    for index, pk in enumerate(Workplace.unscoped_objects.order_by("pk").values_list("pk", flat=True)):
        Workplace.unscoped_objects.filter(pk=pk).update(name=f"Arbetsplats nr {index}")
    return {request.pk: name for name, request in requests.items()}


@pytest.mark.parametrize("language", ["sv", "en", "da"])
def test_approvals_page_is_written_as_recorded(
    programme, other_programme, org_a, org_b, unit_b, manager_b, workplace_a, topic, org_other, language
):
    if connection.vendor != "sqlite":
        pytest.skip("recorded on SQLite")
    with unscoped():
        keys = build(
            programme, other_programme, org_a, org_b, unit_b, manager_b, workplace_a, topic, org_other
        )
    Person.unscoped_objects.filter(pk=manager_b.pk).update(preferred_language=language)
    client = Client()
    client.force_login(manager_b.user, backend="django.contrib.auth.backends.ModelBackend")

    html = client.get("/shadowing/approvals/").content.decode()

    page = named(main_of(html), keys)
    recorded = PAGES / f"approvals-manager-{language}.html"
    if RECORD:
        recorded.write_text(page)
    assert page == recorded.read_text()
