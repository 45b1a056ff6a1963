"""API token authentication that reads the token, its user and the user's staff profile in one query, compiled
once per connection; for a viewset on programme data, the person's memberships (and the stamps of the list it
may answer from the cache) in the same query."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from coordinator.core.answers import stamp_topics
from coordinator.core.prepared import PreparedQuery
from organisations.permissions import actor_without_memberships, token_identity

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
    at most one row matches.

    A view that builds its actor right after authenticating (``reads_identity = True``: the viewsets on
    programme data) has the person's memberships, roles and programmes read in the same query, and, for a
    list that may be answered from the cache, its stamps (``organisations.permissions.token_identity``):
    such a list's kept answer costs that one query. Nothing is kept between requests."""

    # The topics whose stamps the identity query reads, or None when the view reads no identity (set per
    # request: DRF makes the authenticators anew for each request).
    topics: tuple[str, ...] | None = None

    def authenticate(self, request: Request) -> tuple[User, Token] | None:
        view = (getattr(request, "parser_context", None) or {}).get("view")
        self.topics = stamp_topics(view, request) if getattr(view, "reads_identity", False) else None
        return super().authenticate(request)  # type: ignore[no-any-return]

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        if self.topics is not None:
            identity = token_identity(key, self.topics)
            if identity is not None:
                user, created = identity
                if not user.is_active:
                    raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
                token = Token.from_db("default", ["key", "user_id", "created"], [key, user.pk, created])
                Token.user.field.set_cached_value(token, user)
                return (user, token)
        found = TOKEN_QUERY.fetch(key)
        if not found:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token = found[0]
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if self.topics is not None:
            # The identity query found the token's person without an active membership (or no person).
            actor_without_memberships(token.user)
        return (token.user, token)
