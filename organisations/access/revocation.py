"""Sockets follow rights: telling every open socket of a person, a user or a programme that a right is gone.

Every socket built on ``ScopedConsumer`` joins three kinds of channel-layer groups when it is accepted: its
user's (``access.user.<id>``), its person's (``access.person.<id>``) and one per programme it serves
(``access.programme.<id>``). The functions below send those groups a message after the commit of the change
that took a right away, so a rolled-back change closes nothing; with the Redis layer the message reaches the
sockets on every process.

- ``close_sockets_of_person`` and ``close_sockets_of_user``: every socket of the person asks the database
  again (the session, the account, the person, the memberships and roles, and whatever the socket itself
  needs, such as an active focus-group membership) and closes (4401 signed out, 4403 no right) when the
  answer is no; a socket whose right still holds stays open.
- ``close_sockets_of_user(..., session_key=...)`` (logout): the sockets opened with that session close at
  once with 4401, before the session is even flushed; the person's other sessions re-check.
- ``close_sockets_of_programme``: every socket serving the programme closes with 4403 unconditionally (a
  programme taken out of use, e.g. archived).

Being told is the fast path. Each socket also re-checks on every frame it receives and before every
delivery (``ScopedConsumer.access_refusal``), so a message lost on the way, or a change written without
signals, still refuses the next save.

The signal receivers at the end call these functions on every loss of a right that the organisations app
holds: logout, an account deactivated or deleted, a person deleted, a programme membership ended or
deleted, a platform role removed. Features add theirs in their hooks (focus-group memberships in
``focusgroups/hooks.py``). Receivers rather than service calls, because the admin site and management
commands change these rows without our services, and a right must go however it is taken away.
"""

from __future__ import annotations

import hashlib
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from organisations.models import Membership, Person, RoleAssignment

logger = logging.getLogger(__name__)

RECHECK = "access.recheck"
SESSION_ENDED = "access.session_ended"
REVOKED = "access.revoked"


def user_group(user_id: int) -> str:
    return f"access.user.{user_id}"


def person_group(person_id: int) -> str:
    return f"access.person.{person_id}"


def programme_group(programme_id: int) -> str:
    return f"access.programme.{programme_id}"


def session_digest(session_key: str) -> str:
    """What crosses the channel layer instead of a session key (a key is a credential)."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{session_key}".encode()).hexdigest()


def _send_on_commit(group: str, message: dict[str, str]) -> None:
    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:  # the per-message re-check still refuses; the change itself stands
            logger.exception("Could not tell the sockets of %s that a right is gone", group)

    transaction.on_commit(send)


def close_sockets_of_person(person_id: int, reason: str = "") -> None:
    """After the commit, every socket of the person re-checks its right and closes if it is gone."""
    _send_on_commit(person_group(person_id), {"type": RECHECK, "reason": reason})


def close_sockets_of_user(user_id: int, reason: str = "", *, session_key: str | None = None) -> None:
    """After the commit, every socket of the user re-checks its right and closes if it is gone; with
    ``session_key`` (a logout) the sockets opened with that session close without asking."""
    if session_key:
        message = {"type": SESSION_ENDED, "session": session_digest(session_key), "reason": reason}
    else:
        message = {"type": RECHECK, "reason": reason}
    _send_on_commit(user_group(user_id), message)


def close_sockets_of_programme(programme_id: int, reason: str = "") -> None:
    """After the commit, every socket serving the programme closes (4403), whoever holds it."""
    _send_on_commit(programme_group(programme_id), {"type": REVOKED, "reason": reason})


# --- Every loss of a right the organisations app holds -----------------------------------------------------


@receiver(user_logged_out, dispatch_uid="organisations.access.logout")
def _logged_out(
    sender: type, request: HttpRequest | None, user: AbstractBaseUser | None, **kwargs: object
) -> None:
    if user is None:
        return
    session = getattr(request, "session", None)
    close_sockets_of_user(user.pk, "logout", session_key=getattr(session, "session_key", None))


@receiver(post_save, sender=get_user_model(), dispatch_uid="organisations.access.user_saved")
def _user_saved(sender: type, instance: AbstractBaseUser, created: bool, **kwargs: object) -> None:
    # Every save of an inactive account (not only the one that deactivates it): it costs a message to a
    # group with no sockets in it, and no query to learn the previous value.
    if not created and not instance.is_active:
        close_sockets_of_user(instance.pk, "deactivated")


@receiver(post_delete, sender=get_user_model(), dispatch_uid="organisations.access.user_deleted")
def _user_deleted(sender: type, instance: AbstractBaseUser, **kwargs: object) -> None:
    close_sockets_of_user(instance.pk, "deleted")


@receiver(post_delete, sender=Person, dispatch_uid="organisations.access.person_deleted")
def _person_deleted(sender: type, instance: Person, **kwargs: object) -> None:
    close_sockets_of_person(instance.pk, "deleted")


@receiver(post_save, sender=Membership, dispatch_uid="organisations.access.membership_saved")
def _membership_saved(sender: type, instance: Membership, created: bool, **kwargs: object) -> None:
    if not instance.is_active:
        close_sockets_of_person(instance.person_id, "membership ended")


@receiver(post_delete, sender=Membership, dispatch_uid="organisations.access.membership_deleted")
def _membership_deleted(sender: type, instance: Membership, **kwargs: object) -> None:
    close_sockets_of_person(instance.person_id, "membership ended")


@receiver(post_delete, sender=RoleAssignment, dispatch_uid="organisations.access.role_removed")
def _role_removed(sender: type, instance: RoleAssignment, **kwargs: object) -> None:
    # The membership's person without reading the membership (it may be going in the same cascade).
    person_id = (
        Membership.unscoped_objects.filter(pk=instance.membership_id)
        .values_list("person_id", flat=True)
        .first()
    )
    if person_id is not None:
        close_sockets_of_person(person_id, "role removed")
