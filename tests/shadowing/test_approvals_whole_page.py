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
from django.db import connection
from django.test import Client

from coordinator.core.tenancy import unscoped
from organisations.models import Person
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
    client = _client(manager_b, language)

    first = client.get("/shadowing/approvals/")
    again = client.get("/shadowing/approvals/")

    _check(whole(first, {}), f"approvals-empty-{language}")
    assert whole(again, {}) == whole(first, {})
