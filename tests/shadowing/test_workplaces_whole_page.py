"""The workplaces page as its reader receives it, kept byte for byte from ``<!DOCTYPE html>`` to the end
with the response's headers: the layout around the cards, a queued message, a slot with no free place,
several readers in the three languages, with and without a filter, compared with pages recorded in
``tests/shadowing/pages/whole/`` on the code that rendered the whole template on every request. Keys, names
from the factories' counters and per-request tokens are written as names. Then the changes a reader must
see on the very next page: a slot's last place taken, a membership ended, a language switched."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from organisations.models import Membership, Person
from shadowing.models import Slot
from tests.shadowing.test_workplaces_output import named, workplaces_world  # noqa: F401 - a fixture

PAGES = Path(__file__).parent / "pages" / "whole"
# Record the pages again (on code whose output is known to be right): RECORD_PAGES=1 pytest this_file
RECORD = os.environ.get("RECORD_PAGES") == "1"
HEADERS = ("Content-Type", "Content-Language", "Vary", "Cache-Control", "X-Frame-Options")


def whole(response: Any, keys: dict[int, str]) -> str:
    """The response's headers that a browser reads and its body, with keys and tokens written as names
    (the filter's choices in the page's own address too)."""
    html = response.content.decode()
    html = re.sub(
        r"(organisation|topic)=(\d+)",
        lambda m: f"{m.group(1)}={{{keys.get(int(m.group(2)), m.group(2))}}}",
        html,
    )
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="-"', html)
    html = named(html)
    html = re.sub(r'value="(\d+)"', lambda m: f'value="{{{keys.get(int(m.group(1)), m.group(1))}}}"', html)
    head = "".join(f"{name}: {response.headers.get(name)}\n" for name in HEADERS)
    return f"{response.status_code}\n{head}\n{html}"


@pytest.fixture
def world(workplaces_world, programme):  # noqa: F811 - the fixture
    for index, user in enumerate(User.objects.order_by("pk")):
        User.objects.filter(pk=user.pk).update(
            first_name=f"Förnamn{index}", last_name=f"Efternamn <{index}>", username=f"user{index}"
        )
    ids = workplaces_world["ids"]
    keys = {programme.pk: "programme", ids["org_a"]: "org_a", ids["cases"]: "cases"}
    return workplaces_world["people"], ids, keys


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
    ("visitor", "sv", ""),
    ("visitor", "en", ""),
    ("visitor", "da", "?topic={cases}&language=sv"),
    ("host", "da", ""),
    ("host", "en", "?organisation={org_a}"),
    ("coordinator", "sv", ""),
    ("observer", "en", ""),
    ("visitor", "sv", "?organisation=987654321&topic=x"),
]


@pytest.mark.parametrize(("who", "language", "query"), VIEWS)
def test_workplaces_whole_page_is_written_as_recorded(world, who, language, query, backend):
    people, ids, keys = world
    client = _client(people[who], language, backend)
    address = reverse("shadowing:workplaces") + query.format(**ids)

    first = whole(client.get(address), keys)
    again = whole(client.get(address), keys)

    slug = re.sub(r"[^a-z]+", "-", query.format(**{k: "" for k in ids})).strip("-")
    _check(first, f"workplaces-{who}-{language}{'-' + slug if slug else ''}")
    assert again == first


def test_workplaces_whole_page_with_a_message_is_written_as_recorded(world, backend):
    people, _ids, keys = world
    client = _client(people["visitor"], "en", backend)
    client.cookies["messages"] = CookieStorage(HttpRequest())._encode(
        [Message(constants.INFO, "Sparat <&> 2")]
    )

    with_message = client.get(reverse("shadowing:workplaces"))
    after = client.get(reverse("shadowing:workplaces"))

    _check(whole(with_message, keys), "workplaces-visitor-en-message")
    assert "Sparat &lt;&amp;&gt; 2" in with_message.content.decode()
    assert "Sparat" not in after.content.decode()  # shown once


FREE = r"<dt>Free days</dt><dd>([^<]*)</dd>"


def test_workplaces_a_slot_taken_shows_at_once(world, backend):
    people, _ids, _keys = world
    client = _client(people["visitor"], "en", backend)
    before = re.findall(FREE, client.get(reverse("shadowing:workplaces")).content.decode())
    slot = Slot.unscoped_objects.filter(workplace__name="Rosengård").get()

    Slot.unscoped_objects.filter(pk=slot.pk).update(booked=slot.capacity)

    after = re.findall(FREE, client.get(reverse("shadowing:workplaces")).content.decode())
    assert before == [  # Rosengård, Tyst, Kontor <Väst> & co
        "1 coming slot with a free place",
        "0 coming slots with a free place",
        "2 coming slots with a free place",
    ]
    assert after == [
        "0 coming slots with a free place",
        "0 coming slots with a free place",
        "2 coming slots with a free place",
    ]


def test_workplaces_a_membership_ended_shows_at_once(world, programme, backend):
    people, _ids, _keys = world
    client = _client(people["visitor"], "en", backend)
    assert client.get(reverse("shadowing:workplaces")).status_code == 200

    Membership.unscoped_objects.filter(person=people["visitor"], programme=programme).update(is_active=False)

    response = client.get(reverse("shadowing:workplaces"))
    assert response.status_code != 200
    assert "Rosengård" not in response.content.decode()


def test_workplaces_a_language_switched_shows_at_once(world, backend):
    people, _ids, keys = world
    client = _client(people["visitor"], "en", backend)
    client.get(reverse("shadowing:workplaces"))

    Person.unscoped_objects.filter(pk=people["visitor"].pk).update(preferred_language="sv")

    _check(whole(client.get(reverse("shadowing:workplaces")), keys), "workplaces-visitor-sv")
