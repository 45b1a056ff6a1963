"""The approvals page as its reader receives it, kept byte for byte from ``<!DOCTYPE html>`` to the end with
the response's headers: the layout around the cards, requests decided, an empty list, in the three
languages, as the first request writes it and as the next one fills it into the kept frame, compared with
pages recorded in ``tests/shadowing/pages/whole/`` on the code that rendered the whole template on every
request. Keys and per-request tokens are written as names."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from coordinator.core.tenancy import unscoped
from organisations.models import Person
from shadowing.models import ShadowingRequest
from tests.shadowing.test_approvals_output import build, named

PAGES = Path(__file__).parent / "pages" / "whole"
# Record the pages again (on code whose output is known to be right): RECORD_PAGES=1 pytest this_file
RECORD = os.environ.get("RECORD_PAGES") == "1"
HEADERS = ("Content-Type", "Content-Language", "Vary", "Cache-Control", "X-Frame-Options")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def whole(response: Any, keys: dict[int, str]) -> str:
    head = "".join(f"{name}: {response.headers.get(name)}\n" for name in HEADERS)
    return f"{response.status_code}\n{head}\n{named(response.content.decode(), keys)}"


def _check(page: str, name: str) -> None:
    recorded = PAGES / f"{name}.html"
    if RECORD:
        recorded.write_text(page)
    assert page == recorded.read_text()


def _client(person: Person, language: str) -> Client:
    Person.unscoped_objects.filter(pk=person.pk).update(preferred_language=language)
    client = Client()
    client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.parametrize("language", ["sv", "en", "da"])
def test_approvals_whole_page_is_written_as_recorded(
    programme, other_programme, org_a, org_b, unit_b, manager_b, workplace_a, topic, org_other, language
):
    if connection.vendor != "sqlite":
        pytest.skip("recorded on SQLite")
    with unscoped():
        keys = build(
            programme, other_programme, org_a, org_b, unit_b, manager_b, workplace_a, topic, org_other
        )
    client = _client(manager_b, language)

    first = client.get("/shadowing/approvals/")
    again = client.get("/shadowing/approvals/")

    tokens = TOKEN.findall(again.content.decode())
    assert len(tokens) == 8 and len(set(tokens)) == 1  # the header's two forms and two per request
    _check(whole(first, keys), f"approvals-manager-{language}")
    assert whole(again, keys) == whole(first, keys)


@pytest.mark.parametrize("language", ["sv", "en"])
def test_approvals_whole_page_with_nothing_waiting_is_written_as_recorded(manager_b, language):
    if connection.vendor != "sqlite":
        pytest.skip("recorded on SQLite")
    User.objects.filter(pk=manager_b.user_id).update(
        first_name="Förnamn", last_name="Efternamn", username="user"
    )
    client = _client(manager_b, language)

    first = client.get("/shadowing/approvals/")
    again = client.get("/shadowing/approvals/")

    _check(whole(first, {}), f"approvals-empty-{language}")
    assert whole(again, {}) == whole(first, {})


def test_a_kept_card_shows_the_request_as_it_is_now_and_posts_with_the_pages_token(
    programme, other_programme, org_a, org_b, unit_b, manager_b, workplace_a, topic, org_other
):
    with unscoped():
        keys = build(
            programme, other_programme, org_a, org_b, unit_b, manager_b, workplace_a, topic, org_other
        )
    first_key = next(pk for pk, name in keys.items() if name == "first")
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager_b.user, backend="django.contrib.auth.backends.ModelBackend")
    client.get("/shadowing/approvals/")  # the frame and the cards written

    with unscoped():
        ShadowingRequest.unscoped_objects.filter(pk=first_key).update(learning_goals="Lära av <andra>.")
    html = client.get("/shadowing/approvals/").content.decode()
    response = client.post(
        f"/shadowing/requests/{first_key}/approve/",
        {"csrfmiddlewaretoken": TOKEN.findall(html)[-1], "note": "", "next": "/shadowing/approvals/"},
    )

    assert "Lära av &lt;andra&gt;." in html and "&lt;asylprocessen&gt;" not in html
    assert (response.status_code, response["Location"]) == (302, "/shadowing/approvals/")
    with unscoped():
        assert ShadowingRequest.unscoped_objects.get(pk=first_key).status == ShadowingRequest.Status.APPROVED
