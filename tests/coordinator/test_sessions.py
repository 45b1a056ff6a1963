"""Sessions read from the cache (``SESSION_ENGINE`` "cached_db", production's with Redis): one query fewer on
every signed-in request, and a session ended on the server (signed out, its row deleted, its account closed,
its password changed) ends at once, as with sessions read from the database."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core.cache.backends.base import BaseCache
from django.test import Client

from organisations.services.accounts import account_close

pytestmark = pytest.mark.django_db

CACHED_DB = "coordinator.core.sessions"  # Django's cached_db store, production's default with Redis
DB = "django.contrib.sessions.backends.db"
SESSION_BACKEND = "organisations.access.backends.SessionIdentityBackend"
PING = "/api/v1/ping/"


@pytest.fixture(params=[CACHED_DB, DB])
def engine(request, settings) -> str:
    settings.SESSION_ENGINE = request.param
    return request.param


def _signed_in(person) -> tuple[Client, str]:
    client = Client()
    client.force_login(person.user, backend=SESSION_BACKEND)
    return client, client.cookies["sessionid"].value


def _with_cookie(key: str) -> Client:
    client = Client()
    client.cookies["sessionid"] = key
    return client


def test_a_signed_in_request_reads_its_session_from_the_cache(engine, staff_a, django_assert_num_queries):
    client, _key = _signed_in(staff_a)
    client.get(PING)  # the first request of the process

    # The session row (db only), then the user with their identity.
    with django_assert_num_queries(1 if engine == CACHED_DB else 2):
        response = client.get(PING)

    assert (response.status_code, response.json()) == (200, {"ok": True})


def test_a_session_whose_row_is_deleted_ends_at_once(engine, staff_a):
    client, key = _signed_in(staff_a)
    assert client.get(PING).status_code == 200

    # As closing an account deletes its sessions: by a query on the rows, not through the session store.
    Session.objects.filter(session_key=key).delete()

    assert client.get(PING).status_code == 401


def test_a_signed_out_session_ends_at_once_everywhere(engine, staff_a):
    client, key = _signed_in(staff_a)
    elsewhere = _with_cookie(key)  # the same cookie, as another tab or process sends it
    assert elsewhere.get(PING).status_code == 200

    assert client.post("/logout/").status_code == 302

    assert elsewhere.get(PING).status_code == 401
    assert Session.objects.filter(session_key=key).exists() is False


def test_a_closed_account_ends_its_sessions_at_once(engine, staff_a):
    client, key = _signed_in(staff_a)
    assert client.get(PING).status_code == 200

    account_close(staff_a.user)

    assert client.get(PING).status_code == 401
    assert Session.objects.filter(session_key=key).exists() is False


def test_a_password_changed_elsewhere_ends_the_session_at_once(engine, staff_a):
    client, _key = _signed_in(staff_a)
    assert client.get(PING).status_code == 200

    staff_a.user.set_password("ett helt nytt lösenord")
    staff_a.user.save(update_fields=["password"])

    assert client.get(PING).status_code == 401


class UnreachableCache(BaseCache):
    """A cache whose server is down: every call fails, as Django's Redis cache fails then."""

    def __init__(self, location: str, params: dict) -> None:
        super().__init__(params)

    def get(self, key, default=None, version=None):  # type: ignore[no-untyped-def]
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    def set(self, key, value, timeout=None, version=None):  # type: ignore[no-untyped-def]
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    def delete(self, key, version=None):  # type: ignore[no-untyped-def]
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")


def test_an_unreachable_session_cache_costs_a_query_never_the_request(settings, staff_a):
    settings.SESSION_ENGINE = CACHED_DB
    client, _key = _signed_in(staff_a)  # stored while the cache was there
    settings.CACHES = {
        **settings.CACHES,
        "sessions": {"BACKEND": "tests.coordinator.test_sessions.UnreachableCache"},
    }
    settings.SESSION_CACHE_ALIAS = "sessions"

    response = client.get(PING)

    assert (response.status_code, response.json()) == (200, {"ok": True})
