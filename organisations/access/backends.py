"""The sign-in backend of browser sessions: a signed-in page reads its user with the person's identity.

Every page with a session reads the user that the session names, then the person's memberships, roles,
programmes and unread notifications (``organisations.permissions.IDENTITY_QUERY``). Django's
``ModelBackend`` reads the user in a query of its own; this backend reads it joined into the identity, so a
page makes one query fewer. Nothing is cached between requests: a deactivated account, an ended
membership or a removed role counts on the very next request, as before.

It only finds the user of a session that was signed in with it (the sign-in views name it,
``coordinator.pages.views.signin.BACKEND``). Passwords are still checked, and permissions still answered,
by ``ModelBackend`` (this backend neither authenticates nor grants anything), and sessions signed in with
``ModelBackend`` before keep working through it.
"""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.models import User
from django.http import HttpRequest

from organisations.permissions import user_with_actor


class SessionIdentityBackend(BaseBackend):
    """``get_user`` for sessions: the user with their actor in one query; an inactive account is refused,
    as ``ModelBackend`` refuses it."""

    def authenticate(self, request: HttpRequest | None, **credentials: object) -> None:
        return None  # passwords are ModelBackend's: a second check would double a failed sign-in's work

    def get_user(self, user_id: object) -> User | None:
        try:
            pk = int(user_id)  # type: ignore[call-overload]  # the session's value, as Django stored it
        except (TypeError, ValueError):
            return None
        user = user_with_actor(pk)
        if user is None or not user.is_active:
            return None
        return user
