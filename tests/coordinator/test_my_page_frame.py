"""My page from its frame (``coordinator.core.frames``, with the CSRF token a gap): a page filled into a frame
another person's request wrote is byte for byte the page rendered in full for its reader, with one token
throughout that the site accepts on a post. The recorded pages: ``test_my_page_output.py``."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from coordinator.core import frames
from organisations.models import Organisation, Person, PlatformRole, Programme
from tests.factories import make_member

pytestmark = [pytest.mark.django_db]

User = get_user_model()
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def full_page(client: Client) -> str:
    """The page rendered in full: no frame kept in the process."""
    frames.FRAMES.clear()
    return client.get("/me/").content.decode()


def tokens_as_dashes(html: str) -> str:
    return TOKEN.sub('name="csrfmiddlewaretoken" value="-"', html)


@pytest.fixture
def two_people(programme: Programme, org_a: Organisation, staff_b: Person) -> list[Person]:
    """Two people of one programme whose facts differ in everything my page writes of its reader: a line
    manager and a job title or none, a unit or none, a coordinator's roles or a staff member's."""
    boss = make_member(programme, org_a, PlatformRole.LINE_MANAGER)
    User.objects.filter(pk=boss.user_id).update(first_name="Karin", last_name="<Lund> & co")
    first = make_member(
        programme,
        org_a,
        PlatformRole.COORDINATOR,
        PlatformRole.STAFF,
        line_manager=boss,
        job_title="Chef för <mottagningen>",
    )
    User.objects.filter(pk=first.user_id).update(first_name="Åsa", last_name="O'Hara")
    return [first, staff_b]


def test_page_from_another_readers_frame_is_the_page_rendered_in_full(web, two_people):
    first, second = (web(person) for person in two_people)
    expected_first, expected_second = full_page(first), full_page(second)

    frames.FRAMES.clear()
    from_frame_second = [second.get("/me/").content.decode(), second.get("/me/").content.decode()]
    from_frame_first = first.get("/me/").content.decode()  # the frame the second person's request wrote

    assert "Karin &lt;Lund&gt; &amp; co" in expected_first and "O&#x27;Hara" in expected_first
    assert "Chef för &lt;mottagningen&gt;" in expected_first and "mottagningen" not in expected_second
    assert tokens_as_dashes(from_frame_first) == tokens_as_dashes(expected_first)
    assert [tokens_as_dashes(html) for html in from_frame_second] == [tokens_as_dashes(expected_second)] * 2
    assert "<!--live:" not in from_frame_first


def test_page_from_its_frame_writes_one_token_the_site_accepts(programme, org_a):
    person = make_member(programme, org_a, PlatformRole.STAFF)
    client = Client(enforce_csrf_checks=True)
    client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")
    client.get("/me/")  # the frame written

    html = client.get("/me/").content.decode()
    tokens = TOKEN.findall(html)
    response = client.post("/me/calendar/rotate/", {"csrfmiddlewaretoken": tokens[-1]})
    refused = client.post("/me/calendar/rotate/", {"csrfmiddlewaretoken": "x" * 64})

    assert len(tokens) == 3 and len(set(tokens)) == 1  # the header's two forms and the page's own
    assert (response.status_code, response["Location"]) == (302, "/me/")
    assert refused.status_code == 403
