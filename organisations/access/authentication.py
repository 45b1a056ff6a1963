"""API token authentication that reads the token, its user and the user's staff profile in one query."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication (``Authorization: Token <key>``), with the person behind the token (and
    their organisation and unit, which ``actor_for`` needs) joined into the token's query: every API call
    builds its actor from them, so that saves a query per request."""

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        try:
            token = Token.objects.select_related(
                "user", "user__person", "user__person__organisation", "user__person__unit"
            ).get(key=key)
        except Token.DoesNotExist as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from exc
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
