"""``GET /api/v1/ping/``: the load test's baseline, authenticated and throttled like every API call."""

from __future__ import annotations

from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

URL = "/api/v1/ping/"


def test_ping_answers_a_token_with_one_query_the_token_lookup(db, staff_a, django_assert_num_queries):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_a.user).key}")

    with django_assert_num_queries(1):
        response = client.get(URL)

    assert (response.status_code, response.json()) == (200, {"ok": True})


def test_ping_refuses_anonymous_and_unknown_tokens(db):
    anonymous = APIClient().get(URL)
    forged = APIClient(HTTP_AUTHORIZATION="Token " + "0" * 40).get(URL)

    assert (anonymous.status_code, anonymous.json()) == (
        401,
        {"detail": "Authentication credentials were not provided."},
    )
    assert anonymous["WWW-Authenticate"] == "Token"
    assert (forged.status_code, forged.json()) == (401, {"detail": "Invalid token."})


def test_ping_answers_only_get(api, staff_a):
    response = api(staff_a).post(URL, {"ok": False}, format="json")

    assert (response.status_code, response.json()) == (405, {"detail": 'Method "POST" not allowed.'})


def test_ping_has_its_own_throttle_scope(api, staff_a, monkeypatch):
    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"ping": "3/minute"})
    client = api(staff_a)

    statuses = [client.get(URL).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
