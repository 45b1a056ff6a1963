"""The API's rate limits with their window in Redis (``coordinator.core.throttling``), on a real redis-server
started for the test (skipped, with the reason, where it cannot start)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.core.cache import caches
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from coordinator.core import throttling
from coordinator.production import start_redis

PING = "/api/v1/ping/"
TOKEN = "/api/v1/auth/token/"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        url, process = start_redis(Path(tmp_path_factory.mktemp("redis")))
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"redis-server could not be started: {exc}")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def redis_cache(settings: Any, redis_url: str) -> Iterator[redis.Redis]:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    server = redis.Redis.from_url(redis_url)
    server.flushdb()
    yield server
    server.flushdb()
    caches["default"].close()


def _round_trips(server: redis.Redis) -> dict[str, int]:
    """The commands clients sent since the statistics were reset (not those the script ran)."""
    stats = server.info("commandstats")
    calls = {name.removeprefix("cmdstat_"): entry["calls"] for name, entry in stats.items()}
    return {
        name: count
        for name, count in calls.items()
        if name not in {"config|resetstat", "zremrangebyscore", "zcard", "zrange", "zadd", "pexpire"}
    }


def test_ping_is_throttled_by_its_scope_with_one_redis_round_trip_per_throttle(
    db, staff_a, redis_cache, monkeypatch
):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": "100/minute", "ping": "3/minute"}
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_a.user).key}")
    client.get(PING)  # the first call loads the script into the server
    redis_cache.config_resetstat()

    statuses = [client.get(PING).status_code for _ in range(3)]

    # Three requests, two throttles each (the person's and the scope's): one round trip each, the script.
    assert _round_trips(redis_cache) == {"evalsha": 6}
    # One script object for the process, however many clients Django's backend handed out.
    assert len(throttling._scripts) == 1
    assert statuses == [200, 200, 429]
    refused = client.get(PING)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    # The scope's window holds the three it let through, not the two it refused; the person's limit let
    # all five through.
    windows = sorted(key.decode() for key in redis_cache.keys("*throttle_*"))
    assert [(key.split(":")[-2], redis_cache.zcard(key)) for key in windows] == [
        (f"throttle_ping_{staff_a.user.pk}", 3),
        (f"throttle_user_{staff_a.user.pk}", 5),
    ]


def test_a_refused_request_does_not_lengthen_the_wait(db, redis_cache, settings):
    statuses = [
        APIClient().post(TOKEN, {"username": f"nobody{i}", "password": "x"}, format="json").status_code
        for i in range(13)
    ]

    assert statuses == [401] * 10 + [429] * 3
    (window,) = redis_cache.keys("*throttle_login*")
    assert redis_cache.zcard(window) == 10


def test_the_throttle_without_redis_keeps_drfs_list_in_the_cache(db, staff_a, monkeypatch):
    caches["default"].clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"ping": "2/minute"})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_a.user).key}")

    statuses = [client.get(PING).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert len(caches["default"].get(f"throttle_ping_{staff_a.user.pk}")) == 2
