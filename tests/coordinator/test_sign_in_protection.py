"""Whose address a request comes from (one proxy count for API throttles and sign-in lockout), and lockout
of an address that sprays guesses over many accounts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "/api/v1/auth/token/"
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


def _proxies(settings, count: int) -> None:
    settings.TRUSTED_PROXY_COUNT = count
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}


def _guess(client: APIClient, username: str, forwarded_for: str | None = None, **meta: str) -> int:
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(TOKEN, {"username": username, "password": "wrong"}, format="json", **meta).status_code


def test_forged_forwarded_for_does_not_escape_the_api_throttle_without_proxies(db, settings):
    # The project's own settings: no proxy unless TRUSTED_PROXY_COUNT says so.
    assert settings.TRUSTED_PROXY_COUNT == 0
    client = APIClient()
    statuses = [_guess(client, f"nobody{i}", f"198.51.100.{i}") for i in range(11)]
    assert statuses == [401] * 10 + [429]


def test_api_throttle_counts_the_address_the_proxy_saw(db, settings):
    _proxies(settings, 1)
    client = APIClient()
    # The client forges the left part; the proxy appends the address it saw.
    statuses = [_guess(client, f"nobody{i}", f"198.51.100.{i}, 203.0.113.5") for i in range(11)]
    other_client = _guess(client, "nobody", "203.0.113.6")
    assert statuses == [401] * 10 + [429]
    assert other_client == 401


@pytest.mark.parametrize(("count", "recorded"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_sign_in_lockout_records_the_same_address_as_the_throttle(db, settings, count, recorded):
    _proxies(settings, count)
    _guess(APIClient(), "anna", "198.51.100.7, 203.0.113.9", REMOTE_ADDR="127.0.0.1")
    assert list(AccessAttempt.objects.values_list("username", "ip_address")) == [("anna", recorded)]


def test_forwarded_for_that_is_no_address_counts_as_the_connection(db, settings):
    _proxies(settings, 1)
    assert _guess(APIClient(), "anna", "not-an-address") == 401
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]


def test_one_guess_each_for_many_accounts_locks_the_address_out_of_the_api(db, settings, staff_a):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 3
    client = APIClient()
    sprayed = [_guess(client, name) for name in ("anna", "bertil", "cecilia")]
    correct = client.post(
        TOKEN, {"username": staff_a.user.username, "password": "correct-horse-battery"}, format="json"
    )
    elsewhere = APIClient().post(
        TOKEN,
        {"username": staff_a.user.username, "password": "correct-horse-battery"},
        format="json",
        REMOTE_ADDR="192.0.2.44",
    )
    assert sprayed == [401, 401, 429]
    assert correct.status_code == 429
    assert correct.json() == {
        "detail": "Too many failed sign-in attempts from your network. Try again in 15 minutes."
    }
    assert correct["Retry-After"] == "900"
    assert elsewhere.status_code == 200


def test_one_guess_each_for_many_accounts_locks_the_address_out_of_the_sign_in_page(
    client, settings, staff_a
):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 3
    sprayed = [
        client.post("/login/", {"username": name, "password": "wrong"}).status_code
        for name in ("anna", "bertil", "cecilia")
    ]
    response = client.post("/login/", {"username": staff_a.user.username, "password": PASSWORD})
    assert sprayed == [200, 200, 429]
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "signing in from your network is paused for 15 minutes" in response.content.decode()


def test_failures_below_the_address_limit_leave_other_accounts_open(client, settings, staff_a):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 3
    for name in ("anna", "bertil"):
        client.post("/login/", {"username": name, "password": "wrong"})
    response = client.post("/login/", {"username": staff_a.user.username, "password": PASSWORD})
    assert response.status_code == 302


def _settings_of(**environment: str) -> subprocess.CompletedProcess[str]:
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    return subprocess.run(  # noqa: S603 (our own interpreter)
        [
            sys.executable,
            "-c",
            "from django.conf import settings; "
            "print(settings.REST_FRAMEWORK['NUM_PROXIES'], settings.AXES_CLIENT_IP_CALLABLE)",
        ],
        cwd=ROOT,
        env={**keep, "DJANGO_SETTINGS_MODULE": "coordinator.settings", "DEBUG": "1", **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_one_proxy_count_drives_the_throttles_and_the_lockout():
    result = _settings_of(TRUSTED_PROXY_COUNT="2")
    assert result.stdout.split() == ["2", "coordinator.core.security.client_ip"], result.stderr


def test_the_old_lockout_proxy_setting_is_refused_loudly():
    result = _settings_of(AXES_PROXY_COUNT="1")
    assert result.returncode != 0
    assert "AXES_PROXY_COUNT is now TRUSTED_PROXY_COUNT" in result.stderr


@pytest.mark.parametrize(
    ("count", "forwarded_for", "recorded"),
    [
        (0, "198.51.100.7", "127.0.0.1"),
        (1, "198.51.100.7, 203.0.113.9", "203.0.113.9"),
        (1, "junk", "127.0.0.1"),
    ],
)
def test_audit_trail_records_the_same_address_as_the_lockout(
    settings, api, staff_a, count, forwarded_for, recorded
):
    from auditlog.models import LogEntry

    _proxies(settings, count)
    before = LogEntry.objects.count()  # the fixtures' own entries, written outside any request
    response = api(staff_a).patch(
        "/api/v1/people/me/", {"phone": "+46 8 555 66"}, HTTP_X_FORWARDED_FOR=forwarded_for
    )
    assert response.status_code == 200
    written = LogEntry.objects.order_by("pk").values_list("remote_addr", flat=True)[before:]
    assert list(written) == [recorded]
