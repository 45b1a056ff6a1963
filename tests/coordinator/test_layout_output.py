"""The layout around every page (head, header with its switchers, bell, name and navigation, footer), kept
byte for byte: written for several readers, pages and languages, compared with pages recorded in
``tests/coordinator/pages/`` on the code that rendered the header anew for every request. The header is
now written once per shape and each reader's own parts filled in (``coordinator.core.chrome``): a second
reader of the same shape sees their own name, roles and count, never the first's."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from coordinator.core.models import Notification
from organisations.models import Membership, Organisation, Person, PlatformRole, RoleAssignment
from tests.factories import make_member

PAGES = Path(__file__).parent / "pages"
# Record the pages again (on code whose output is known to be right): RECORD_PAGES=1 pytest this_file
RECORD = os.environ.get("RECORD_PAGES") == "1"
R = PlatformRole


def layout_of(html: str, keys: dict[int, str]) -> str:
    """The page without its ``<main>`` (pinned by each page's own tests), with the per-request tokens and
    the keys written as names."""
    html = html[: html.index('<main id="main"')] + html[html.index("</main>") :]
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="-"', html)
    html = re.sub(r'nonce="[^"]+"', 'nonce="-"', html)
    return re.sub(r'value="(\d+)"', lambda m: f'value="{{{keys.get(int(m.group(1)), m.group(1))}}}"', html)


@pytest.fixture
def world(programme, other_programme, org_a, org_b, unit_a):
    if connection.vendor != "sqlite":
        pytest.skip("recorded on SQLite")
    Organisation.unscoped_objects.filter(pk=org_b.pk).update(short_name="A&B <kommun>")
    staff = make_member(programme, org_a, R.STAFF, unit=unit_a)
    coordinator = make_member(programme, org_b, R.COORDINATOR, R.STAFF)
    membership = Membership.unscoped_objects.create(programme=other_programme, person=coordinator)
    RoleAssignment.unscoped_objects.create(membership=membership, role=R.STAFF)
    twin = make_member(programme, org_a, R.STAFF, unit=unit_a)
    people = {"staff": staff, "coordinator": coordinator, "twin": twin}
    names = {
        "staff": ("Åsa", 'Söder "Ö" & <b>'),
        "coordinator": ("Kim", "Lund"),
        "twin": ("Tove", "Berg"),
    }
    for name, person in people.items():
        first, last = names[name]
        User.objects.filter(pk=person.user_id).update(first_name=first, last_name=last, username=name)
    Notification.unscoped_objects.bulk_create(
        Notification(programme=here, recipient=coordinator, kind="x", title=str(n))
        for here in (programme, other_programme)
        for n in range(1234)
    )
    Notification.unscoped_objects.create(programme=programme, recipient=staff, kind="x", title="1")
    keys = {programme.pk: "programme", other_programme.pk: "other_programme"}
    return people, keys


def _get(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


CASES = [
    ("staff", "sv", '/seminars/?for=me&q=<b>&x="1"'),
    ("staff", "en", "/me/"),
    ("coordinator", "en", "/shadowing/"),
    ("coordinator", "da", "/seminars/"),
    ("coordinator", "sv", "/"),
]


@pytest.mark.parametrize(("who", "language", "path"), CASES)
def test_layout_is_written_as_recorded(world, who, language, path):
    people, keys = world
    person = people[who]
    Person.unscoped_objects.filter(pk=person.pk).update(preferred_language=language)
    client = Client()
    client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")

    first = layout_of(_get(client, path), keys)
    again = layout_of(_get(client, path), keys)

    slug = re.sub(r"[^a-z]+", "-", path).strip("-") or "home"
    recorded = PAGES / f"layout-{who}-{language}-{slug}.html"
    if RECORD:
        recorded.write_text(first)
    assert first == recorded.read_text()
    assert again == first


def test_a_second_reader_of_the_same_shape_sees_only_their_own(world):
    people, keys = world
    staff, twin = Client(), Client()
    staff.force_login(people["staff"].user, backend="django.contrib.auth.backends.ModelBackend")
    twin.force_login(people["twin"].user, backend="django.contrib.auth.backends.ModelBackend")

    mine = _get(staff, "/seminars/")
    theirs = _get(twin, "/seminars/")

    who = r'<a href="/me/" class="who-name">([^<]*)</a>\s*<span class="who-detail">([^<]*)</span>'
    assert re.findall(who, mine) == [("Åsa Söder &quot;Ö&quot; &amp; &lt;b&gt;", "MV · Staff member")]
    assert re.findall(who, theirs) == [("Tove Berg", "MV · Staff member")]
    badge = r'<span class="badge" id="notification-count" data-count="([^"]*)">([^<]*)</span>'
    assert re.findall(badge, mine) == [("1", "1")]
    assert re.findall(badge, theirs) == [("0", "0")]
    assert "Åsa" not in theirs
    # Apart from the name, the badge and the CSRF tokens, the same header.
    assert layout_of(theirs, keys).replace("Tove Berg", "-").replace('"0">0<', '"1">1<') == layout_of(
        mine, keys
    ).replace("Åsa Söder &quot;Ö&quot; &amp; &lt;b&gt;", "-")


def test_anonymous_and_error_pages_keep_the_signed_out_header(world):
    client = Client()

    login = client.get("/login/").content.decode()
    missing = client.get("/no-such-page/")

    header = r'<a class="button small" href="/login/">Sign in</a>'
    assert len(re.findall(header, login)) == 1
    assert missing.status_code == 404
    assert len(re.findall(header, missing.content.decode())) == 1
    assert 'class="who-name"' not in login
