"""Invitations: a one-time, expiring link that lets a person set their password and start using their account.

The link's secret is drawn here, mailed through the outbox in the person's language, and never stored: the
row keeps its SHA-256. A link works once (accepting is a compare-and-set on the pending status), until it
expires, until it is withdrawn, and until a newer link replaces it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext_lazy

from coordinator.core.notifications import send_email
from organisations import permissions
from organisations.models import (
    IdentityProvider,
    Invitation,
    Membership,
    Person,
    Programme,
    invitation_token_digest,
)
from organisations.permissions import Actor

INVITATION_KIND = "account.invitation"

SUBJECT = gettext_noop("You are invited to %(programme)s")
BODY = ngettext_lazy(
    "%(inviter)s has invited you to %(programme)s on Samverkan, where the organisations of the programme "
    "arrange job shadowing, courses and focus groups together.\n\n"
    "Open the link below to choose your password and sign in. The link works once, for %(days)s day.",
    "%(inviter)s has invited you to %(programme)s on Samverkan, where the organisations of the programme "
    "arrange job shadowing, courses and focus groups together.\n\n"
    "Open the link below to choose your password and sign in. The link works once, for %(days)s days.",
    "days",
)
BODY_SSO = ngettext_lazy(
    "%(inviter)s has invited you to %(programme)s on Samverkan, where the organisations of the programme "
    "arrange job shadowing, courses and focus groups together.\n\n"
    "Open the link below to sign in with your organisation's account or to choose a password. The link "
    "works once, for %(days)s day.",
    "%(inviter)s has invited you to %(programme)s on Samverkan, where the organisations of the programme "
    "arrange job shadowing, courses and focus groups together.\n\n"
    "Open the link below to sign in with your organisation's account or to choose a password. The link "
    "works once, for %(days)s days.",
    "days",
)


class InvitationInvalid(ValidationError):
    """A presented link that cannot be used; ``code`` says why (unknown, expired, accepted, revoked,
    replaced) and the message says so in the reader's language."""


def _link_for(token: str) -> str:
    return reverse("invitation-accept", kwargs={"token": token})


def has_account(person: Person) -> bool:
    """Whether the person already uses their account: a password of their own or a sign-in by any means."""
    user = person.user
    return user.is_active and (user.has_usable_password() or user.last_login is not None)


def _check_may_invite(actor: Actor, programme: Programme, person: Person) -> None:
    if not permissions.can_invite(actor, programme, person):
        raise PermissionDenied(_("You may not invite this person."))
    if not Membership.objects.filter(programme=programme, person=person, is_active=True).exists():
        raise ValidationError({"person": _("This person is not an active member of the programme.")})
    if not person.user.email:
        raise ValidationError({"person": _("This person has no email address to send the invitation to.")})
    if has_account(person):
        raise ValidationError(
            {"person": _("This person already has an account; they can reset their password if it is lost.")}
        )


def _send(*, actor: Actor, programme: Programme, person: Person) -> Invitation:
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        programme=programme,
        person=person,
        invited_by=actor.person,
        token_hash=invitation_token_digest(token),
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_EXPIRY_DAYS),
    )
    has_sso = IdentityProvider.objects.filter(
        organisation_id=person.organisation_id, is_enabled=True
    ).exists()
    inviter = actor.person.full_name if actor.person is not None else programme.name
    send_email(
        programme=programme,
        person=person,
        kind=INVITATION_KIND,
        subject=SUBJECT,
        body=BODY_SSO if has_sso else BODY,
        params={"programme": programme.name, "inviter": inviter, "days": settings.INVITATION_EXPIRY_DAYS},
        url=_link_for(token),
    )
    return invitation


def _lock_person(person: Person) -> None:
    """Serialise invitation changes for one person (two admins pressing "resend" at once)."""
    # The person was read in the caller's scope; the lock is by primary key.
    Person.unscoped_objects.select_for_update().filter(pk=person.pk).first()


@transaction.atomic
def invite_first_admin(*, actor: Actor, programme: Programme, person: Person) -> Invitation:
    """Invite a new programme's first admin (platform administrators, as they start the programme)."""
    if not permissions.is_platform_admin(actor):
        raise PermissionDenied(_("Only platform administrators may start programmes."))
    _lock_person(person)
    return _send(actor=actor, programme=programme, person=person)


@transaction.atomic
def invite(*, actor: Actor, programme: Programme, person: Person) -> Invitation:
    """Send a person an invitation to set their password (or sign in with their agency's provider).

    Programme admins may invite any member; an organisation's admins the members of their organisation.
    A pending invitation is replaced by the new one (its link stops working), within the resend limit.
    Refused for someone who already uses their account, has no address or is not an active member. The
    mail goes through the outbox after the commit, in the person's language.
    """
    _check_may_invite(actor, programme, person)
    _lock_person(person)
    _replace_pending(person)
    return _send(actor=actor, programme=programme, person=person)


def _replace_pending(person: Person) -> None:
    latest = Invitation.unscoped_objects.filter(person=person).order_by("-created_at", "-pk").first()
    wait = timedelta(minutes=settings.INVITATION_RESEND_MINUTES)
    if (
        latest is not None
        and latest.status == Invitation.Status.PENDING
        and latest.created_at > timezone.now() - wait
    ):
        raise ValidationError(
            {
                "person": _("An invitation was sent to this person less than %(minutes)s minutes ago.")
                % {"minutes": settings.INVITATION_RESEND_MINUTES}
            }
        )
    # The person's own rows, locked above.
    Invitation.unscoped_objects.filter(person=person, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.REPLACED, finished_at=timezone.now()
    )


@transaction.atomic
def resend(*, actor: Actor, invitation: Invitation) -> Invitation:
    """Send a new link for an invitation that was not accepted (the earlier link stops working).

    The same people as ``invite``; at most once per ``INVITATION_RESEND_MINUTES`` per person.
    """
    if invitation.status == Invitation.Status.ACCEPTED:
        raise ValidationError({"status": _("This invitation has already been accepted.")})
    return invite(actor=actor, programme=invitation.programme, person=invitation.person)


@transaction.atomic
def revoke(*, actor: Actor, invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation: its link stops working at once. The same people as ``invite``."""
    if not permissions.can_invite(actor, invitation.programme, invitation.person):
        raise PermissionDenied(_("You may not withdraw this invitation."))
    # A compare-and-set by primary key after the caller's scoped read: only a pending one is withdrawn.
    withdrawn = Invitation.unscoped_objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.REVOKED, finished_at=timezone.now()
    )
    if withdrawn != 1:
        raise ValidationError({"status": _("Only a pending invitation can be withdrawn.")})
    invitation.refresh_from_db(fields=["status", "finished_at"])
    return invitation


REFUSALS = {
    "unknown": gettext_noop(
        "This invitation link is not valid. Check that you opened the whole link from the email."
    ),
    "expired": gettext_noop("This invitation has expired. Ask your coordinator or admin to send a new one."),
    Invitation.Status.ACCEPTED: gettext_noop(
        "This invitation has already been used. Sign in, or reset your password if you have lost it."
    ),
    Invitation.Status.REVOKED: gettext_noop("This invitation was withdrawn."),
    Invitation.Status.REPLACED: gettext_noop(
        "A newer invitation has been sent to you; use the link in the most recent email."
    ),
}


def _refuse(code: str) -> InvitationInvalid:
    return InvitationInvalid(_(REFUSALS[code]), code=code)


def find(token: str) -> Invitation:
    """The pending, unexpired invitation a presented link stands for; else ``InvitationInvalid`` saying why.

    Anyone may present a link: this is where it is checked, before anything is shown or changed.
    """
    if not token or len(token) > 100:
        raise _refuse("unknown")
    # A visitor who is not signed in presents the link: no programme scope exists; the digest identifies
    # the one row.
    invitation = (
        Invitation.unscoped_objects.select_related("person__user", "person__organisation", "programme")
        .filter(token_hash=invitation_token_digest(token))
        .first()
    )
    if invitation is None:
        raise _refuse("unknown")
    if invitation.status != Invitation.Status.PENDING:
        raise _refuse(invitation.status)
    if invitation.expires_at <= timezone.now():
        raise _refuse("expired")
    return invitation


def _claim(invitation: Invitation) -> None:
    """Compare-and-set: the link is used once, however many tabs submit it at the same moment."""
    now = timezone.now()
    claimed = Invitation.unscoped_objects.filter(
        pk=invitation.pk, status=Invitation.Status.PENDING, expires_at__gt=now
    ).update(status=Invitation.Status.ACCEPTED, finished_at=now)
    if claimed != 1:
        invitation.refresh_from_db(fields=["status"])
        raise _refuse(invitation.status if invitation.status != Invitation.Status.PENDING else "expired")


@transaction.atomic
def accept(*, token: str, password: str) -> Person:
    """Use an invitation link to set the person's password; the account is active from now on.

    Anyone holding the link may call it. The password must pass the configured validators; a link that is
    unknown, expired, used, withdrawn or replaced is refused with nothing changed.
    """
    invitation = find(token)
    user = invitation.person.user
    validate_password(password, user)
    _claim(invitation)
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    return invitation.person


@transaction.atomic
def accept_by_sign_in(*, invitation: Invitation) -> Person:
    """Use an invitation by signing in at the person's identity provider (the caller has linked the
    identity): the link is spent and the account active, with no password."""
    _claim(invitation)
    user = invitation.person.user
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return invitation.person


def revoke_pending_of(person: Person) -> int:
    """Withdraw every pending invitation of a person whose account has ended (system work, no actor)."""
    # The person's own rows, by their key, from a service that already holds the person.
    return Invitation.unscoped_objects.filter(person=person, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.REVOKED, finished_at=timezone.now()
    )
