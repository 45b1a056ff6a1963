"""Sessions read from the cache and written through to the database (``SESSION_ENGINE=cached_db``, the
default with Redis: ``SESSION_ENGINE`` then names this module).

Django's ``cached_db`` store with two additions:

- An unreachable cache costs speed, never the request (as for the pages' and the API's caches): a session
  is then read from the database (Django's store already falls back when reading the cache fails, but not
  when storing what it read).
- A session row deleted by any path (the sign-out of every session of a closed account deletes rows by a
  query, not through the session store) leaves the cache in the same step, so that no process reads a
  session the database no longer holds.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.sessions.backends import cached_db, db
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db.models.signals import post_delete
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def load(self) -> dict[str, object]:
        try:
            return super().load()  # type: ignore[no-any-return]
        except Exception:  # noqa: BLE001 - the cache could not store what was read: read it again, uncached
            logger.warning("The session cache is unreachable; the session is read from the database")
            return db.SessionStore.load(self)  # type: ignore[no-any-return]


def forget_cached_session(sender: type[Session], instance: Session, **kwargs: object) -> None:
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    if not issubclass(store, cached_db.SessionStore):
        return
    caches[settings.SESSION_CACHE_ALIAS].delete(store(session_key=instance.session_key).cache_key)


def install() -> None:
    post_delete.connect(forget_cached_session, sender=Session, dispatch_uid="coordinator.core.sessions")
