"""The API's rate limits: DRF's throttles (per person, per address, per scope) with their sliding window kept
in Redis by one round trip.

DRF's ``SimpleRateThrottle`` keeps each client's window as a list of request times in the cache: every
request reads the whole list, unpickles it, drops what fell out of the window, pickles it and writes it
back (two round trips, and for a client near the user rate of 6,000 a minute a list of 6,000 numbers each
way; two clients of one person can also both read the list before either writes, and both pass). With a
Redis cache (production) the same window is a sorted set changed by one script: drop what fell out, count,
and add this request only when it is allowed, atomically and in one round trip. The limits, what is counted
(an allowed request, never a refused one) and the ``Retry-After`` a refusal gives are DRF's own. Without
Redis (``make run``, the tests' local cache) DRF's list is kept as before.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from redis import Redis
from redis.commands.core import Script
from rest_framework import throttling

if TYPE_CHECKING:  # DRF loads this module while it loads its views (a throttle setting)
    from rest_framework.request import Request
    from rest_framework.views import APIView

# KEYS[1] the client's window; ARGV: now (seconds), the window's length (seconds), the limit, a unique
# member for this request. Answers {allowed (1/0), requests in the window, the oldest one's time}; the time
# goes back as a string (Redis turns a Lua number into an integer).
SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2] or ''
if count >= tonumber(ARGV[3]) then
  return {0, count, oldest}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return {1, count + 1, oldest}
"""

_scripts: list[Script] = []


def _script(client: Redis) -> Script:
    """The script (its SHA-1 computed once; Django hands out a new client object on every call, each on
    the same connection pool, so the script is called with the caller's client)."""
    if not _scripts:
        _scripts.append(client.register_script(SLIDING_WINDOW))
    return _scripts[0]


class _RedisWindow(throttling.SimpleRateThrottle):
    """DRF's throttle with its window as a Redis sorted set, changed in one round trip."""

    # Set by DRF's ``__init__`` from the rate (the stubs leave them out).
    num_requests: int
    duration: int
    _count = 0
    _oldest: float | None = None

    def _redis(self) -> RedisCache | None:
        # DRF's ``cache`` is the proxy of the default cache; the backend behind it decides.
        cache = caches[DEFAULT_CACHE_ALIAS] if self.cache is default_cache else self.cache
        return cache if isinstance(cache, RedisCache) else None

    def allow_request(self, request: Request, view: APIView) -> bool:
        redis = self._redis()
        if self.rate is None or redis is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        key = redis.make_and_validate_key(f"{self.key}:window")
        # Django's Redis backend has no script call of its own: its client for this key (the one a write of
        # the key would use, so the same server when several are configured).
        client = redis._cache.get_client(key, write=True)
        self.now = self.timer()
        allowed, count, oldest = _script(client)(
            keys=[key],
            args=[repr(self.now), self.duration, self.num_requests, secrets.token_hex(8)],
            client=client,
        )
        self._count = int(count)
        self._oldest = float(oldest) if oldest else None
        return bool(allowed)

    def wait(self) -> float | None:
        if self._redis() is None:
            return super().wait()
        # DRF's arithmetic, on the window as the script found it.
        remaining = self.duration - (self.now - self._oldest) if self._oldest is not None else self.duration
        available = self.num_requests - self._count + 1
        return remaining / float(available) if available > 0 else None


# DRF's class first: its ``allow_request`` (the scope's rate) runs before the window's.
class AnonRateThrottle(throttling.AnonRateThrottle, _RedisWindow):
    """Anonymous callers, by address (``anon``)."""


class UserRateThrottle(throttling.UserRateThrottle, _RedisWindow):
    """Signed-in callers, by person (``user``); anonymous ones by address."""


class ScopedRateThrottle(throttling.ScopedRateThrottle, _RedisWindow):
    """A view's own ``throttle_scope`` (``login``, ``ping``), by person or address."""
