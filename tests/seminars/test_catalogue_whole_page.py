"""The course catalogue as its reader receives it, kept byte for byte from ``<!DOCTYPE html>`` to the end
with the response's headers: the layout around the courses (head, header, footer), a queued message, a full
round, several readers in the three languages, compared with pages recorded in
``tests/seminars/pages/whole/`` on the code that rendered the whole template on every request. Keys, names
from the factories' counters and per-request tokens are written as names. Then the changes a reader must
see on the very next page: a seat taken by someone else, a booking cancelled, a membership ended, a
language switched."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from organisations.models import Membership, Person, Programme
from organisations.models import PlatformRole as R
from seminars.models import Enrolment, Round
from tests.factories.organisations import make_member
from tests.factories.seminars import make_enrolment
from tests.seminars.test_catalogue_output import _names, catalogue_world, named  # noqa: F401 - a fixture

PAGES = Path(__file__).parent / "pages" / "whole"
# Record the pages again (on code whose output is known to be right): RECORD_PAGES=1 pytest this_file
RECORD = os.environ.get("RECORD_PAGES") == "1"
HEADERS = ("Content-Type", "Content-Language", "Vary", "Cache-Control", "X-Frame-Options")


def whole(response: Any, keys: dict[int, str]) -> str:
    """The response's headers that a browser reads and its body, with keys and tokens written as names."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="-"', html)
    html = named(html, _names())
    html = re.sub(r'value="(\d+)"', lambda m: f'value="{{{keys.get(int(m.group(1)), m.group(1))}}}"', html)
    head = "".join(f"{name}: {response.headers.get(name)}\n" for name in HEADERS)
    return f"{response.status_code}\n{head}\n{html}"


@pytest.fixture
def world(catalogue_world, programme, other_programme, org_a, org_b):  # noqa: F811 - the fixture
    if connection.vendor != "sqlite":
        pytest.skip("recorded on SQLite, which sorts a round without sessions (no start yet) first")
    people: dict[str, Person] = dict(catalogue_world["people"])
    # The autumn round (two seats) full: taken by two others.
    autumn = Round.unscoped_objects.get(label="Höst")
    for _ in range(2):
        make_enrolment(autumn, make_member(programme, org_a, R.STAFF))
    for index, user in enumerate(User.objects.order_by("pk")):
        User.objects.filter(pk=user.pk).update(
            first_name=f"Förnamn{index}", last_name=f"Efternamn <{index}>", username=f"user{index}"
        )
    keys = {programme.pk: "programme", other_programme.pk: "other_programme"}
    return people, keys


# Each page as signed in with ModelBackend (the user in a query of its own) and with the sign-in views'
# backend (the user read with the identity): the same bytes.
BACKENDS = (
    "django.contrib.auth.backends.ModelBackend",
    "organisations.access.backends.SessionIdentityBackend",
)


@pytest.fixture(params=BACKENDS, ids=("model-backend", "session-backend"), autouse=True)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _client(person: Person, language: str, backend: str) -> Client:
    Person.unscoped_objects.filter(pk=person.pk).update(preferred_language=language)
    client = Client()
    client.force_login(person.user, backend=backend)
    return client


def _check(page: str, name: str) -> None:
    recorded = PAGES / f"{name}.html"
    if RECORD:
        recorded.write_text(page)
    assert page == recorded.read_text()


VIEWS = [
    ("booked", "sv", ""),
    ("booked", "en", "?for=me"),
    ("booked", "da", ""),
    ("waiting", "da", ""),
    ("coordinator", "en", ""),
    ("nurse", "sv", "?for=me"),
    ("stranger", "en", ""),
]


@pytest.mark.parametrize(("who", "language", "query"), VIEWS)
def test_catalogue_whole_page_is_written_as_recorded(world, who, language, query, backend):
    people, keys = world
    client = _client(people[who], language, backend)

    first = whole(client.get(reverse("seminars:catalogue") + query), keys)
    again = whole(client.get(reverse("seminars:catalogue") + query), keys)

    _check(first, f"catalogue-{who}-{language}{'-mine' if query else ''}")
    assert again == first


def test_catalogue_whole_page_with_a_message_is_written_as_recorded(world, backend):
    people, keys = world
    client = _client(people["waiting"], "sv", backend)
    storage = CookieStorage(HttpRequest())
    client.cookies["messages"] = storage._encode([Message(constants.SUCCESS, "Klart <&> 1")])

    with_message = client.get(reverse("seminars:catalogue"))
    after = client.get(reverse("seminars:catalogue"))

    _check(whole(with_message, keys), "catalogue-waiting-sv-message")
    assert "Klart &lt;&amp;&gt; 1" in with_message.content.decode()
    assert "Klart" not in after.content.decode()  # shown once


def test_catalogue_a_seat_taken_by_someone_else_shows_at_once(world, programme, org_b, backend):
    people, _keys = world
    client = _client(people["stranger"], "en", backend)
    spring = Round.unscoped_objects.get(label="Vår")
    before = re.findall(r"<td>(\d+) free <span", client.get(reverse("seminars:catalogue")).content.decode())

    make_enrolment(spring, make_member(programme, org_b, R.STAFF))

    after = re.findall(r"<td>(\d+) free <span", client.get(reverse("seminars:catalogue")).content.decode())
    assert before == ["4", "3", "4", "4"]
    assert after == ["4", "2", "4", "4"]


def test_catalogue_a_booking_cancelled_shows_at_once(world, backend):
    people, keys = world
    client = _client(people["booked"], "en", backend)
    booked = client.get(reverse("seminars:catalogue")).content.decode()

    Enrolment.unscoped_objects.filter(person=people["booked"]).update(status=Enrolment.Status.CANCELLED)

    cancelled = client.get(reverse("seminars:catalogue")).content.decode()
    assert booked.count('<span class="tag">Confirmed</span>') == 1
    assert cancelled.count('<span class="tag">Confirmed</span>') == 0
    already = "There is already a booking on a round of this course."
    assert (booked.count(already), cancelled.count(already)) == (2, 0)
    assert cancelled.count(">Enrol</a>") == booked.count(">Enrol</a>") + 3


def test_catalogue_a_membership_ended_shows_at_once(world, programme, backend):
    people, _keys = world
    client = _client(people["booked"], "en", backend)
    assert client.get(reverse("seminars:catalogue")).status_code == 200

    Membership.unscoped_objects.filter(person=people["booked"], programme=programme).update(is_active=False)

    response = client.get(reverse("seminars:catalogue"))
    assert response.status_code != 200
    assert "Bemötande" not in response.content.decode()


def test_catalogue_a_language_switched_shows_at_once(world, backend):
    people, keys = world
    client = _client(people["booked"], "sv", backend)
    client.get(reverse("seminars:catalogue"))

    Person.unscoped_objects.filter(pk=people["booked"].pk).update(preferred_language="da")

    _check(whole(client.get(reverse("seminars:catalogue")), keys), "catalogue-booked-da")


def test_catalogue_a_programme_renamed_or_archived_shows_at_once(world, programme, backend):
    people, _keys = world
    client = _client(people["booked"], "en", backend)
    before = client.get(reverse("seminars:catalogue")).content.decode()

    Programme.unscoped_objects.filter(pk=programme.pk).update(name="Nytt <namn>", archived_at=timezone.now())

    after = client.get(reverse("seminars:catalogue")).content.decode()
    archived = "This programme is archived: it can be read and exported, but not changed."
    assert (before.count(programme.name), before.count("Nytt &lt;namn&gt;"), before.count(archived)) == (
        4,
        0,
        0,
    )
    assert (after.count(programme.name), after.count("Nytt &lt;namn&gt;"), after.count(archived)) == (0, 4, 1)


def test_catalogue_a_registration_closing_shows_at_once(world, backend):
    people, _keys = world
    client = _client(people["nurse"], "en", backend)
    closes = timezone.now() + timedelta(hours=1)
    Round.unscoped_objects.filter(label="Senare").update(registration_closes_at=closes)
    later = closes + timedelta(minutes=1)
    row = r'/seminars/rounds/\d+/">Senare</a></th>(?:.|\n)*?</tr>'

    before = re.search(row, client.get(reverse("seminars:catalogue")).content.decode())
    with mock.patch("django.utils.timezone.now", return_value=later):
        after = re.search(row, client.get(reverse("seminars:catalogue")).content.decode())

    assert before is not None and after is not None
    assert (">Enrol</a>" in before.group(0), "Registration has closed." in before.group(0)) == (True, False)
    assert (">Enrol</a>" in after.group(0), "Registration has closed." in after.group(0)) == (False, True)
