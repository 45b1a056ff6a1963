"""What the focus-groups services share: applying and validating values, the common right checks, the
address of a group's page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from focusgroups import permissions
from focusgroups.models import FocusGroup
from organisations.models import Membership, Person, Programme
from organisations.permissions import Actor


def apply_values(instance: Any, values: Mapping[str, Any], allowed: set[str]) -> list[str]:
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    changed = []
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def full_clean(instance: Any, exclude: Sequence[str] = ()) -> None:
    errors: dict[str, list[str]] = {}
    # Django does not validate a TextField's max_length (it only sizes form widgets); the API and the
    # socket need the limit enforced here.
    for field in instance._meta.concrete_fields:
        if isinstance(field, models.TextField) and field.max_length and field.name not in exclude:
            value = getattr(instance, field.attname)
            if isinstance(value, str) and len(value) > field.max_length:
                errors[field.name] = [
                    _("Keep this under %(limit)s characters.") % {"limit": field.max_length}
                ]
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def require_person(actor: Actor) -> Person:
    if actor.person is None:
        raise PermissionDenied(_("You have no staff profile."))
    return actor.person


def require_manage_group(actor: Actor, group: FocusGroup) -> None:
    if not permissions.can_manage_group(actor, group):
        raise PermissionDenied(_("Only the group's convener or the programme's coordinators may do this."))


def _url(name: str, pk: int, fallback: str) -> str:
    try:
        return reverse(name, kwargs={"pk": pk})
    except NoReverseMatch:  # the web pages are optional for the API and the notifications
        return fallback


def group_url(group: FocusGroup) -> str:
    return _url("focusgroups:group", group.pk, f"/focusgroups/{group.pk}/")


def is_programme_member(person: Person, programme: Programme | int) -> bool:
    # The group's programme specifically (a person may belong to several); it is inside the caller's scope.
    programme_id = programme if isinstance(programme, int) else programme.pk
    return Membership.objects.filter(person=person, programme_id=programme_id, is_active=True).exists()
