"""My page's HTML, kept byte for byte: several people (a role's profile had, lacking, confirmed by a line
manager; a visit, a course, a focus group in their history; a line manager; none of these) in the three
languages, compared with pages recorded in ``tests/coordinator/pages/``, as built and as served from the
part kept under the person's stamp. Keys and per-request tokens are written as names, so the pages hold
across runs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from coordinator.core.models import Notification
from organisations.models import Person
from shadowing.models import Workplace
from tests.organisations import competence_data

PAGES = Path(__file__).parent / "pages"
# Record the pages again (on code whose output is known to be right): RECORD_PAGES=1 pytest this_file
RECORD = os.environ.get("RECORD_PAGES") == "1"


def main_of(html: str) -> str:
    return html[html.index('<main id="main"') : html.index("</main>")]


def layout_badge(html: str) -> str:
    return re.findall(r'<span class="badge" id="notification-count"[^>]*>[^<]*</span>', html)[0]


def named(html: str, people: dict[int, str]) -> str:
    """The page with the calendar address's secret and the keys in addresses written as names."""
    html = re.sub(r"/calendar/[^\"<]+\.ics", "/calendar/{token}.ics", html)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="-"', html)
    return re.sub(r"/(\d+)/", lambda m: f"/{{{people.get(int(m.group(1)), m.group(1))}}}/", html)


VIEWS = [
    ("case_officer_with_both", "en"),
    ("case_officer_with_both", "sv"),
    ("case_officer_lacking", "da"),
    ("secretary_visited", "sv"),
    ("secretary_visited", "en"),
    ("secretary_in_group", "da"),
    ("secretary_confirmed", "en"),
    ("manager", "sv"),
]


@pytest.mark.parametrize(
    "backend",
    ["django.contrib.auth.backends.ModelBackend", "organisations.access.backends.SessionIdentityBackend"],
)
@pytest.mark.parametrize(("who", "language"), VIEWS)
def test_my_page_is_written_as_recorded(programme, org_a, org_b, who, language, backend):
    if connection.vendor != "sqlite":
        pytest.skip("recorded on SQLite")
    data = competence_data.build(programme, org_a, org_b)
    people = {
        "case_officer_with_both": data.case_officers[0],
        "case_officer_lacking": data.case_officers[3],
        "secretary_visited": data.secretaries[0],
        "secretary_in_group": data.secretaries[2],
        "secretary_confirmed": data.secretaries[3],
        "manager": data.manager_b,
    }
    # Names by order of creation, whatever the factories' counters reached in earlier tests.
    for index, user in enumerate(User.objects.order_by("pk")):
        User.objects.filter(pk=user.pk).update(
            first_name=f"Förnamn{index}", last_name=f"Efternamn{index}", username=f"user{index}"
        )
    for index, pk in enumerate(Workplace.unscoped_objects.order_by("pk").values_list("pk", flat=True)):
        Workplace.unscoped_objects.filter(pk=pk).update(name=f"Arbetsplats nr {index}")
    person = Person.unscoped_objects.select_related("user").get(pk=people[who].pk)
    Notification.unscoped_objects.create(programme=programme, recipient=person, kind="test", title="Ny")
    Person.unscoped_objects.filter(pk=person.pk).update(preferred_language=language)
    client = Client()
    client.force_login(person.user, backend=backend)

    html = client.get("/me/").content.decode()
    # The second request is served from the part kept under the person's stamp.
    kept = client.get("/me/").content.decode()

    names = {p.pk: name for name, p in people.items()}
    page = named(main_of(html), names) + "\n" + layout_badge(html)
    recorded = PAGES / f"my-page-{who}-{language}.html"
    if RECORD and backend.endswith("ModelBackend"):
        recorded.write_text(page)
    assert page == recorded.read_text()
    assert named(main_of(kept), names) + "\n" + layout_badge(kept) == page
