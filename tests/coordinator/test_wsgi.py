"""The WSGI entry point as a WSGI server loads it, in a process of its own: the application and its URL
configuration are loaded and then frozen out of the garbage collector's reach, while garbage made later (by
requests) is still collected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json
import coordinator.wsgi
import coordinator.urls
from shadowing.api import ShadowingRequestViewSet

tracked = {id(thing) for thing in gc.get_objects()}
class Cycle:
    pass
cycle = Cycle()
cycle.me = cycle
del cycle
print(json.dumps({
    "url_patterns_tracked": id(coordinator.urls.urlpatterns) in tracked,
    "view_tracked": id(ShadowingRequestViewSet) in tracked,
    "frozen": gc.get_freeze_count() > 0,
    "later_cycle_collected": gc.collect() > 0,
}))
"""


def test_wsgi_entry_point_freezes_loaded_application(tmp_path):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PYTEST_"))
    }
    environment.update(
        DEBUG="0",
        SECRET_KEY="wsgi-process-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'wsgi.sqlite3'}",
        VAR_DIR=str(tmp_path),
        REDIS_URL="",
        LOG_LEVEL="WARNING",
    )

    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "url_patterns_tracked": False,
        "view_tracked": False,
        "frozen": True,
        "later_cycle_collected": True,
    }
