"""What the shadowing services share: permission guards, field application, the programme's
today and small look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from organisations.models import Person, Programme
from organisations.permissions import Actor
from shadowing import permissions
from shadowing.models import (
    Topic,
)


def require_manage(actor: Actor, programme: Programme | int) -> None:
    if not permissions.can_manage(actor, programme):
        raise PermissionDenied(_("Only the programme's coordinators may do this."))


def require_person(actor: Actor) -> Person:
    if actor.person is None:
        raise PermissionDenied(_("Sign in with a staff profile to do this."))
    return actor.person


def today_in(programme: Programme) -> date:
    return timezone.localtime(timezone.now(), ZoneInfo(programme.time_zone)).date()


def check_topics(programme: Programme, topics: Sequence[Topic]) -> None:
    if any(t.programme_id != programme.pk for t in topics):
        raise ValidationError({"topics": _("Choose topics from this programme's list.")})
