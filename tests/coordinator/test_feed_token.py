"""The calendar feed's secret is derived, not stored: a copy of the database opens no feed."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from django.db import connection
from django.test import override_settings
from django.utils.crypto import salted_hmac

from organisations.models import CALENDAR_TOKEN_SALT, Person, calendar_token_digest
from organisations.permissions import actor_for
from organisations.services.people import calendar_token_rotate


def _row(person: Person) -> dict[str, object]:
    """Every column of the person's row, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Person._meta.db_table} WHERE id = %s", [person.pk])  # noqa: S608
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def _feed_path(web, person: Person) -> str:
    """The feed address my page shows the person, as a path."""
    # The page's values (a kept frame is filled in, not rendered: the test client records no template).
    return urlsplit(web(person).get("/me/").context_data["feed_url"]).path


def test_feed_token_is_in_no_column_of_the_persons_row(staff_a):
    token = staff_a.calendar_token
    row = _row(staff_a)

    assert [name for name, value in row.items() if token in str(value)] == []
    assert row["calendar_token_hash"] == hashlib.sha256(token.encode()).hexdigest()


def test_address_on_my_page_serves_the_feed(client, web, staff_a):
    path = _feed_path(web, staff_a)

    response = client.get(path)

    assert (path, response.status_code) == (f"/calendar/{staff_a.calendar_token}.ics", 200)
    assert response.content.startswith(b"BEGIN:VCALENDAR")


def test_renewed_address_on_my_page_works_and_the_old_one_is_404(client, web, staff_a):
    old_path = _feed_path(web, staff_a)
    web(staff_a).post("/me/calendar/rotate/")
    new_path = _feed_path(web, staff_a)

    assert old_path != new_path
    assert (client.get(old_path).status_code, client.get(new_path).status_code) == (404, 200)


def test_tokens_made_from_the_database_alone_open_no_feed(client, staff_a, staff_b):
    row = _row(staff_a)
    nonce, digest = str(row["calendar_nonce"]), str(row["calendar_token_hash"])
    # What someone holding only a copy of the database could try: the stored values themselves, plain
    # hashes of the nonce, and the derivation with a guessed key.
    with override_settings(SECRET_KEY="a-guessed-secret-key-that-is-not-the-servers-0123456789"):
        guessed_key = salted_hmac(CALENDAR_TOKEN_SALT, nonce, algorithm="sha256").hexdigest()
    candidates = [
        nonce,
        digest,
        hashlib.sha256(nonce.encode()).hexdigest(),
        hashlib.sha256(f"{staff_a.pk}{nonce}".encode()).hexdigest(),
        guessed_key,
    ]

    statuses = [client.get(f"/calendar/{candidate}.ics").status_code for candidate in candidates]

    assert statuses == [404, 404, 404, 404, 404]
    assert client.get(f"/calendar/{staff_a.calendar_token}.ics").status_code == 200
    assert staff_b.calendar_token != staff_a.calendar_token


def test_address_from_before_hashing_works_until_renewed(client, programme, staff_a, in_programme):
    # A person migrated from stored tokens keeps the address they subscribed with (its digest only).
    old_token = "an-address-from-before-tokens-were-hashed-0123456789"
    Person.unscoped_objects.filter(pk=staff_a.pk).update(
        legacy_calendar_token_hash=calendar_token_digest(old_token)
    )
    before = client.get(f"/calendar/{old_token}.ics").status_code
    current = client.get(f"/calendar/{staff_a.calendar_token}.ics").status_code

    with in_programme(programme):
        new_token = calendar_token_rotate(actor=actor_for(staff_a.user), person=staff_a)

    after = (
        client.get(f"/calendar/{old_token}.ics").status_code,
        client.get(f"/calendar/{new_token}.ics").status_code,
    )
    assert (before, current, after) == (200, 200, (404, 200))
    assert Person.unscoped_objects.get(pk=staff_a.pk).legacy_calendar_token_hash is None


def test_address_on_my_page_survives_a_secret_key_change_with_the_old_key_as_fallback(
    client, web, staff_a, settings
):
    path = _feed_path(web, staff_a)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-after-rotation-0123456789-abcdefghijklmnop"

    shown = _feed_path(web, staff_a)

    assert (shown, client.get(shown).status_code) == (path, 200)
