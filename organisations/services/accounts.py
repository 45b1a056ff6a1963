"""Accounts: a person's membership in a programme ends, and with their last one their account ends too."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from rest_framework.authtoken.models import Token

from coordinator.core.models import OutboundEmail
from coordinator.core.notifications import send_email
from organisations import permissions
from organisations.models import Membership, Person, Programme
from organisations.permissions import Actor, forget_actor
from organisations.services import invitations


@transaction.atomic
def membership_end(*, actor: Actor, programme: Programme, person: Person) -> Membership:
    """End a person's membership in a programme (their history stays); with their last active membership
    their account ends too (``accounts_close_if_unattached``).

    The programme's admins, and the admins of the person's organisation in that programme.
    """
    if not permissions.can_invite(actor, programme, person):
        raise PermissionDenied(_("You may not end this person's membership."))
    if actor.person is not None and actor.person.pk == person.pk:
        raise ValidationError({"person": _("You cannot end your own membership.")})
    membership = Membership.objects.filter(programme=programme, person=person).first()
    if membership is None or not membership.is_active:
        raise ValidationError({"person": _("This person is not an active member of the programme.")})
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    accounts_close_if_unattached(person)
    return membership


def accounts_close_if_unattached(person: Person) -> bool:
    """If the person has no active membership left, end their account; returns whether it ended.

    Called by every path that ends or deletes a membership (the service above, the admin site).
    """
    # Every programme's memberships of this one person: the question is whether any is left anywhere.
    if Membership.unscoped_objects.filter(person_id=person.pk, is_active=True).exists():
        return False
    account_close(person.user)
    invitations.revoke_pending_of(person)
    return True


def account_close(user: User) -> None:
    """End a user's account everywhere at once: no sign-in, no session, no API token.

    The password is made unusable (which also changes the session hash every process checks) and the user
    inactive; their sessions and API token are deleted. Coming back takes a new invitation.
    """
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["is_active", "password"])
    Token.objects.filter(user=user).delete()
    _delete_sessions_of(user.pk)
    forget_actor(user)


def _delete_sessions_of(user_id: int) -> None:
    # Django's session table has no user column: decode the unexpired sessions, a batch at a time. Even
    # without this, an inactive user with a changed session hash is signed out on their next request.
    live = Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500)
    doomed = [s.session_key for s in live if str(s.get_decoded().get("_auth_user_id")) == str(user_id)]
    Session.objects.filter(session_key__in=doomed).delete()


PASSWORD_RESET_KIND = "account.password_reset"  # noqa: S105 - a notification kind, no secret
RESET_SUBJECT = gettext_noop("Choose a new password")
RESET_BODY = gettext_noop(
    "Someone asked to reset the password of your Samverkan account. If it was you, open the link below "
    "within %(hours)s hours to choose a new password. If it was not, ignore this message: your password "
    "stays as it is."
)


RESET_INTERVAL = timedelta(minutes=5)


def _reset_sent_recently(person: Person) -> bool:
    """At most one reset mail per person every five minutes, so the form cannot flood a mailbox."""
    # The person's own outbox rows, every programme's (the visitor has no scope).
    return OutboundEmail.unscoped_objects.filter(
        recipient=person, kind=PASSWORD_RESET_KIND, created_at__gt=timezone.now() - RESET_INTERVAL
    ).exists()


@transaction.atomic
def password_reset_request(*, email: str) -> int:
    """Mail a password reset link to each active account with this address; anyone may ask.

    The caller answers the same whether or not an account exists, so the answer reveals nothing. Only
    people with a password and an active membership are mailed (people who sign in with their
    organisation's provider reset their password there; the mail goes through that membership's
    programme's outbox, in the person's language). Returns how many were mailed, for tests and logs only.
    """
    sent = 0
    users = User.objects.filter(email__iexact=email.strip(), is_active=True).select_related("person")
    for user in users:
        if not user.has_usable_password() or not hasattr(user, "person"):
            continue
        # The visitor is not signed in (no scope): the one person the address identifies.
        membership = (
            Membership.unscoped_objects.filter(person_id=user.person.pk, is_active=True)
            .select_related("programme")
            .order_by("-joined_at")
            .first()
        )
        if membership is None or _reset_sent_recently(user.person):
            continue
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        send_email(
            programme=membership.programme,
            person=user.person,
            kind=PASSWORD_RESET_KIND,
            subject=RESET_SUBJECT,
            body=RESET_BODY,
            params={"hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
            url=reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token}),
        )
        sent += 1
    return sent
