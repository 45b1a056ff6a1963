"""What the shadowing services share: permission guards, field application, the programme's
today and small look-ups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
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


def apply_values(instance: Any, values: Mapping[str, Any], allowed: set[str]) -> list[str]:
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    changed = []
    for name, value in values.items():
        try:
            current = getattr(instance, name)
        except ObjectDoesNotExist:  # a required relation not set yet on a new row
            current = None
        if current != value or current is None:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def full_clean(instance: Any, exclude: Sequence[str] = ()) -> None:
    instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)


def today_in(programme: Programme) -> date:
    return timezone.localtime(timezone.now(), ZoneInfo(programme.time_zone)).date()


def check_topics(programme: Programme, topics: Sequence[Topic]) -> None:
    if any(t.programme_id != programme.pk for t in topics):
        raise ValidationError({"topics": _("Choose topics from this programme's list.")})
