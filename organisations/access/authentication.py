"""API token authentication that reads the token, its user and the user's staff profile in one query, compiled
once per connection."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from coordinator.core.prepared import PreparedQuery

# Every API call reads it: compiled to SQL once per connection, run with the caller's key each time.
TOKEN_QUERY: PreparedQuery[Token] = PreparedQuery(
    lambda key: Token.objects.select_related(
        "user", "user__person", "user__person__organisation", "user__person__unit"
    ).filter(key=key),
    stand_in="\x00key\x00",
)


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication (``Authorization: Token <key>``), with the person behind the token (and
    their organisation and unit, which ``actor_for`` needs) joined into the token's query: every API call
    builds its actor from them, so that saves a query per request. The key is the token's primary key, so
    at most one row matches."""

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        found = TOKEN_QUERY.fetch(key)
        if not found:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token = found[0]
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
