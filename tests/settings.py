"""Settings for the test suite: the production settings with test-friendly defaults.

DATABASE_URL chooses the database (SQLite by default; ``make test-postgres`` points it at a throwaway
PostgreSQL server). REDIS_URL is cleared so that unit tests use the in-memory channel layer; tests of the
Redis layer read TEST_REDIS_URL themselves.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-for-the-test-suite-only-0123456789abcdefghijklmnop")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="samverkan-test-"))
os.environ.setdefault("LANGUAGE_CODE", "en")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ["REDIS_URL"] = ""
# Tasks run inside the call that enqueues them; tests of the queue itself run a database worker.
os.environ.setdefault("TASKS_BACKEND", "immediate")
# On PostgreSQL the concurrency tests hold one connection per thread (eight) besides the test's own: the
# per-process pool must lend that many.
os.environ.setdefault("DB_POOL_MAX_SIZE", "32")

from coordinator.settings import *  # noqa: E402, F403
from coordinator.settings import DATABASES, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Throttling is tested explicitly; elsewhere it would make tests depend on each other.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "login": "10/minute", "ping": None},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
    DATABASES["default"]["OPTIONS"] = {}
