"""Single sign-on: each organisation may sign its staff in with its own OpenID Connect identity provider.

The protocol (discovery, authorisation code with PKCE, state and nonce, the token request, the ID token's
signature and claims, userinfo) is Authlib's; this module decides which provider a sign-in goes to, who the
identity it vouches for is here, and keeps each provider's client secret encrypted.

Who an identity is: a subject linked before signs in as its person. An unlinked subject is linked only to a
person of the provider's own organisation whose address the provider confirmed (``email_verified``) and
who either holds a pending invitation (which the sign-in then uses) or already uses their account. Anyone
else is refused with a message; no person and no account is ever created here.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from organisations import permissions
from organisations.models import ExternalIdentity, IdentityProvider, Invitation, Organisation, Person
from organisations.permissions import Actor
from organisations.services import invitations

SECRET_SALT = "organisations.IdentityProvider.client_secret"  # noqa: S105 - a salt naming the purpose
SCOPE = "openid email profile"
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


# --- The client secret, encrypted under a key derived from SECRET_KEY ----------------------------------


def _fernet(secret: str | bytes) -> Fernet:
    key = salted_hmac(SECRET_SALT, "fernet", secret=secret, algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _cipher() -> MultiFernet:
    """Encrypts with SECRET_KEY; also decrypts what was encrypted under a key in SECRET_KEY_FALLBACKS."""
    return MultiFernet([_fernet(settings.SECRET_KEY), *(_fernet(s) for s in settings.SECRET_KEY_FALLBACKS)])


def encrypt_secret(secret: str) -> str:
    return _cipher().encrypt(secret.encode()).decode()


def decrypt_secret(stored: str) -> str:
    try:
        return _cipher().decrypt(stored.encode()).decode()
    except InvalidToken as exc:  # SECRET_KEY changed with no fallback: the admin enters the secret again
        raise SignInRefused(REFUSALS["misconfigured"]) from exc


# --- Configuring an organisation's provider ------------------------------------------------------------


def _check_issuer(issuer: str) -> str:
    issuer = issuer.strip().rstrip("/")
    parts = urlsplit(issuer)
    loopback = False
    try:
        loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        loopback = parts.hostname == "localhost"
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ValidationError({"issuer": _("The issuer must be an https address.")})
    if parts.query or parts.fragment or not parts.hostname:
        raise ValidationError({"issuer": _("The issuer must be a plain address with no query or fragment.")})
    return issuer


def _check_domains(domains: list[str], organisation: Organisation) -> list[str]:
    cleaned = sorted({domain.strip().lower() for domain in domains if domain.strip()})
    if len(cleaned) > 20:
        raise ValidationError({"email_domains": _("Give at most 20 email domains.")})
    for domain in cleaned:
        if not DOMAIN.match(domain):
            raise ValidationError(
                {"email_domains": _("%(domain)s is not a domain name.") % {"domain": domain}}
            )
    # Domains route a sign-in to one provider, so no two organisations may claim the same one.
    for other in IdentityProvider.objects.exclude(organisation=organisation).only("email_domains"):
        taken = set(cleaned) & set(other.email_domains)
        if taken:
            raise ValidationError(
                {
                    "email_domains": _("%(domain)s already signs in with another organisation's provider.")
                    % {"domain": ", ".join(sorted(taken))}
                }
            )
    return cleaned


@transaction.atomic
def identity_provider_save(
    *,
    actor: Actor,
    organisation: Organisation,
    issuer: str,
    client_id: str,
    client_secret: str | None,
    email_domains: list[str],
    is_enabled: bool = True,
) -> IdentityProvider:
    """Set an organisation's OpenID Connect provider (create or change): its own organisation admins only.

    ``client_secret`` None keeps the stored secret (required when there is none). The provider is not
    contacted here; a wrong setting shows when someone signs in.
    """
    if not permissions.can_configure_sign_in(actor, organisation):
        raise PermissionDenied(_("Only the organisation's own admins may set its sign-in."))
    provider = IdentityProvider.objects.filter(organisation=organisation).first() or IdentityProvider(
        organisation=organisation
    )
    provider.issuer = _check_issuer(issuer)
    provider.client_id = client_id.strip()
    if not provider.client_id:
        raise ValidationError({"client_id": _("Give the client id the provider issued.")})
    if client_secret:
        provider.client_secret_encrypted = encrypt_secret(client_secret)
    elif not provider.client_secret_encrypted:
        raise ValidationError({"client_secret": _("Give the client secret the provider issued.")})
    provider.email_domains = _check_domains(email_domains, organisation)
    provider.is_enabled = is_enabled
    provider.full_clean(exclude=["organisation"])
    provider.save()
    return provider


@transaction.atomic
def identity_provider_delete(*, actor: Actor, provider: IdentityProvider) -> None:
    """Remove an organisation's provider (its staff then sign in with passwords); its own admins only."""
    if not permissions.can_configure_sign_in(actor, provider.organisation):
        raise PermissionDenied(_("Only the organisation's own admins may set its sign-in."))
    provider.delete()


# --- Choosing a provider -------------------------------------------------------------------------------


def providers_for_sign_in() -> list[IdentityProvider]:
    """The enabled providers, for the buttons on the sign-in page."""
    return list(IdentityProvider.objects.filter(is_enabled=True).select_related("organisation"))


def provider_for_email(email: str) -> IdentityProvider | None:
    """The enabled provider whose email domains include the address's domain, if any."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return None
    for provider in IdentityProvider.objects.filter(is_enabled=True):
        if domain in provider.email_domains:
            return provider
    return None


def enabled_provider(pk: int) -> IdentityProvider | None:
    return IdentityProvider.objects.filter(pk=pk, is_enabled=True).select_related("organisation").first()


# --- The sign-in ---------------------------------------------------------------------------------------

REFUSALS = {
    "provider": gettext_noop("The sign-in at your organisation did not succeed. Please try again."),
    "misconfigured": gettext_noop(
        "Sign-in with your organisation is not set up correctly. Please tell your organisation's admin."
    ),
    "unverified": gettext_noop(
        "Your organisation's sign-in did not confirm your email address, so it cannot be matched to an "
        "account here."
    ),
    "unknown": gettext_noop(
        "There is no invitation or account here for the identity your organisation signed you in as. Ask "
        "your coordinator or your organisation's admin to invite you; no account is created otherwise."
    ),
    "ended": gettext_noop("Your account here has ended. Ask your coordinator or admin for a new invitation."),
    "linked": gettext_noop(
        "Your account here is already linked to another identity at your organisation's sign-in."
    ),
}


class SignInRefused(Exception):
    """A single sign-on that ends with no one signed in; the message says why, in the reader's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _refuse(code: str) -> SignInRefused:
    return SignInRefused(_(REFUSALS[code]))


def _client(provider: IdentityProvider) -> DjangoOAuth2App:
    name = f"organisation-{provider.organisation_id}"
    return DjangoOAuth2App(
        DjangoIntegration(name),
        name=name,
        client_id=provider.client_id,
        client_secret=decrypt_secret(provider.client_secret_encrypted),
        server_metadata_url=f"{provider.issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "default_timeout": settings.SSO_HTTP_TIMEOUT_SECONDS,
        },
    )


def sign_in_start(request: HttpRequest, provider: IdentityProvider, *, callback_url: str) -> HttpResponse:
    """The redirect to the provider's authorisation page (state, nonce and PKCE kept in the session)."""
    client = _client(provider)
    try:
        metadata = client.load_server_metadata()
    except Exception as exc:  # unreachable provider, a non-JSON answer: a clear refusal, never a 500
        raise _refuse("misconfigured") from exc
    if str(metadata.get("issuer", "")).rstrip("/") != provider.issuer:
        raise _refuse("misconfigured")
    return client.authorize_redirect(request, callback_url)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Claims:
    subject: str
    email: str
    email_verified: bool


def _claims(request: HttpRequest, provider: IdentityProvider) -> Claims:
    client = _client(provider)
    try:
        token = client.authorize_access_token(request)
        id_claims: dict[str, object] = dict(token.get("userinfo") or {})
        if not id_claims.get("sub"):
            raise _refuse("provider")
        userinfo = dict(client.userinfo(token=token))
    except SignInRefused:
        raise
    except (OAuthError, ValueError, KeyError) as exc:
        raise _refuse("provider") from exc
    except Exception as exc:  # the provider unreachable or answering nonsense
        raise _refuse("provider") from exc
    # OpenID Connect Core 5.3.2: userinfo's subject must be the ID token's, or it is not to be used.
    if str(userinfo.get("sub", "")) != str(id_claims["sub"]):
        raise _refuse("provider")
    merged = {**userinfo, **id_claims}
    return Claims(
        subject=str(id_claims["sub"])[:255],
        email=str(merged.get("email") or "")[:254],
        email_verified=merged.get("email_verified") is True,
    )


def sign_in_finish(request: HttpRequest, provider: IdentityProvider) -> User:
    """Check the provider's answer and find the person it stands for; returns the user to sign in.

    Raises ``SignInRefused`` for a failed exchange, an unknown or unlinked identity, an unconfirmed
    address or an ended account: nothing is created or changed then.
    """
    claims = _claims(request, provider)
    with transaction.atomic():
        person = _person_for(provider, claims)
        user = User.objects.get(pk=person.user_id)  # as the invitation just left it
        if not user.is_active:
            raise _refuse("ended")
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
    return user


def _person_for(provider: IdentityProvider, claims: Claims) -> Person:
    identity = (
        ExternalIdentity.objects.select_related("person__user")
        .filter(provider=provider, subject=claims.subject)
        .first()
    )
    if identity is not None:
        identity.last_sign_in_at = timezone.now()
        identity.save(update_fields=["last_sign_in_at"])
        return identity.person
    if not claims.email:
        raise _refuse("unknown")
    if not claims.email_verified:
        raise _refuse("unverified")
    # An anonymous visitor signing in: no programme scope exists yet. The provider's organisation and the
    # address it confirmed identify the person; exactly one must match.
    matches = list(
        Person.unscoped_objects.select_related("user").filter(
            organisation_id=provider.organisation_id, user__email__iexact=claims.email
        )[:2]
    )
    if len(matches) != 1:
        raise _refuse("unknown")
    person = matches[0]
    pending = (
        Invitation.unscoped_objects.filter(
            person=person, status=Invitation.Status.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("person__user")
        .first()
    )
    user = person.user
    uses_account = user.is_active and (user.has_usable_password() or user.last_login is not None)
    if pending is None and not uses_account:
        raise _refuse("unknown")
    try:
        with transaction.atomic():
            ExternalIdentity.objects.create(
                provider=provider,
                subject=claims.subject,
                person=person,
                email=claims.email,
                last_sign_in_at=timezone.now(),
            )
    except IntegrityError as exc:  # this person is already linked to another subject at this provider
        raise _refuse("linked") from exc
    if pending is not None:
        try:
            invitations.accept_by_sign_in(invitation=pending)
        except ValidationError as exc:  # used or withdrawn a moment ago: roll the link back too
            raise _refuse("unknown") from exc
    return person


def enabled_provider_of(organisation_id: int) -> IdentityProvider | None:
    return IdentityProvider.objects.filter(organisation_id=organisation_id, is_enabled=True).first()
