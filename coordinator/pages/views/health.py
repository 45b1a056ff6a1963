"""What a load balancer, an orchestrator and a monitor poll.

- ``/healthz`` (liveness): the process answers; it reads nothing, so a database outage does not get every
  web process restarted.
- ``/readyz`` (readiness): the database, Redis (when ``REDIS_URL`` is set) and the task queue (when one is
  registered, ``coordinator.core.metrics.set_task_queue_probe``) answer; 503 with the failing part otherwise,
  so that traffic goes elsewhere until it recovers.
- ``/metrics``: Prometheus' text format, only with ``Authorization: Bearer <METRICS_TOKEN>``; without a
  configured token it does not exist (404).
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from coordinator.core import metrics


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not used"
    import redis  # only the readiness check talks to Redis directly

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, object] = {}
    ready = True
    for name, check in (("database", _database), ("redis", _redis)):
        try:
            checks[name] = check()
        except (DatabaseError, OSError, ConnectionError) as exc:
            checks[name] = f"failing: {type(exc).__name__}"
            ready = False
        except Exception as exc:  # noqa: BLE001 (redis-py's own errors; readiness must answer, not raise)
            checks[name] = f"failing: {type(exc).__name__}"
            ready = False
    try:
        state = metrics.task_queue_state()
    except Exception as exc:  # noqa: BLE001 (whatever the queue's probe raises means "not ready")
        checks["tasks"] = f"failing: {type(exc).__name__}"
        ready = False
    else:
        checks["tasks"] = (
            "not used"
            if state is None
            else {"depth": state.depth, "oldest_age_seconds": state.oldest_age_seconds}
        )
    return JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)


def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("unauthorised\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")
