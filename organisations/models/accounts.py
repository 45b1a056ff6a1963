"""Sign-in: invitations to start using an account, and single sign-on with an agency's own identity
provider."""

from __future__ import annotations

import hashlib

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel
from organisations.models import Organisation, Person, Programme


def invitation_token_digest(token: str) -> str:
    """What the database keeps of an invitation link's secret, and what a presented link is looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(TenantModel):
    """A one-time, expiring link that lets a person set their password (or sign in with their agency's
    identity provider) and so start using their account.

    Each row is one link: resending draws a new link on a new row and marks the earlier one replaced. The
    secret itself is never stored, only its SHA-256 (``token_hash``).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be accepted")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Withdrawn")
        REPLACED = "replaced", _("Replaced by a newer invitation")

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="invitations")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    finished_at = models.DateTimeField(_("accepted or withdrawn at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="pending"), name="invitation_one_pending_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} ({self.status})"


# Sign-in settings and identities are not tenant rows: they belong to an agency (shared by its programmes)
# and are read before anyone has signed in, when no programme scope exists. Every read outside the sign-in
# itself is limited to the actor's own organisation (organisations.selectors.identity_providers_for).
class IdentityProvider(models.Model):
    """An organisation's own OpenID Connect identity provider: its staff sign in there, not with a password.

    One per organisation. The client secret is stored encrypted (``organisations.services.sso``) and never
    shown back.
    """

    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        related_name="identity_provider",
        verbose_name=_("organisation"),
    )
    issuer = models.URLField(
        _("issuer"),
        max_length=500,
        help_text=_("The provider's issuer address, as in its discovery document."),
    )
    client_id = models.CharField(_("client id"), max_length=255)
    client_secret_encrypted = models.TextField(editable=False)
    email_domains = models.JSONField(
        _("email domains"),
        default=list,
        blank=True,
        help_text=_("Addresses in these domains sign in with this provider, e.g. migrationsverket.se."),
    )
    is_enabled = models.BooleanField(_("enabled"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation__name"]
        verbose_name = _("identity provider")
        verbose_name_plural = _("identity providers")

    def __str__(self) -> str:
        return f"{self.issuer} ({self.organisation_id})"


class ExternalIdentity(models.Model):
    """A person's account at their organisation's identity provider: the provider's subject, linked once."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="identities")
    subject = models.CharField(_("subject"), max_length=255)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="external_identities")
    email = models.EmailField(_("email at the provider"), blank=True)
    linked_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["provider", "subject"]
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="externalidentity_unique_subject"),
            models.UniqueConstraint(fields=["provider", "person"], name="externalidentity_one_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.person_id}"
