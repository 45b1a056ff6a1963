"""Which language a page speaks: the person's own choice, else the programme's language, else the
browser's. Swedish staff on an English Windows read the Swedish programme in Swedish."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from organisations.models import Person, Programme

pytestmark = [pytest.mark.django_db]


def _lang(response) -> str:
    text = response.content.decode()
    return text.split('<html lang="', 1)[1].split('"', 1)[0]


def _prefers(person: Person, language: str) -> None:
    Person.unscoped_objects.filter(pk=person.pk).update(preferred_language=language)


@pytest.mark.parametrize(
    ("preferred", "programme_language", "browser", "cookie", "expected"),
    [
        ("", "sv", "en-GB,en;q=0.9", "", "sv"),  # the programme's language beats the browser's
        ("", "da", "sv-SE,sv;q=0.9", "", "da"),
        ("en", "sv", "sv-SE,sv;q=0.9", "", "en"),  # the person's choice beats both
        ("da", "sv", "en", "en", "da"),  # the stored choice beats an old cookie
        ("", "sv", "en", "da", "da"),  # a switch made before signing in is a choice too
    ],
)
def test_signed_in_language_order(
    web, programme, staff_a, preferred, programme_language, browser, cookie, expected
):
    _prefers(staff_a, preferred)
    Programme.unscoped_objects.filter(pk=programme.pk).update(language=programme_language)
    client = web(staff_a)
    if cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=browser)
    assert response.status_code == 200
    assert _lang(response) == expected
    assert response["Content-Language"] == expected


def test_without_a_programme_the_browser_decides(db):
    response = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="da-DK,da;q=0.9")
    assert _lang(response) == "da"
