"""Sessions kept in the cache as well as in the database (``SESSION_ENGINE`` "cached_db"): a session row
deleted by any path (the sign-out of every session of a closed account deletes rows by a query, not through
the session store) leaves the cache in the same step, so that no process reads a session the database no
longer holds."""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db.models.signals import post_delete

CACHED_DB = "django.contrib.sessions.backends.cached_db"


def forget_cached_session(sender: type[Session], instance: Session, **kwargs: object) -> None:
    if settings.SESSION_ENGINE != CACHED_DB:
        return
    from django.contrib.sessions.backends.cached_db import SessionStore

    caches[settings.SESSION_CACHE_ALIAS].delete(SessionStore(session_key=instance.session_key).cache_key)


def install() -> None:
    post_delete.connect(forget_cached_session, sender=Session, dispatch_uid="coordinator.core.sessions")
