"""Saving rows whose uniqueness or references the database guards, with its refusals mapped to input
errors or conflicts."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core.exceptions import Conflict
from coordinator.core.services import validate

ORGANISATION_NAME_TAKEN = gettext_noop("An organisation with this name is already registered.")
UNIT_NAME_TAKEN = gettext_noop("This organisation already has a unit with this name.")


def save_unique(instance: Model, *, field: str, taken: str, update_fields: list[str] | None = None) -> None:
    """Save ``instance``, where ``field`` must be unique: a clash is an input error on that field, with the
    message ``taken`` (a ``gettext_noop`` source text).

    Uniqueness is left to the database, because a check through the scoped manager could not see other
    programmes' rows; the savepoint keeps the surrounding transaction usable when someone else took the
    name meanwhile.
    """
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise ValidationError({field: _(taken)}) from exc


def save_changed(instance: Model, changed: list[str]) -> None:
    """Validate and save the changed fields of a row that has no unique field the caller can change. A
    database refusal then means a row it refers to changed under the caller (a unit removed meanwhile)."""
    if not changed:
        return
    validate(instance)
    try:
        with transaction.atomic():
            instance.save(update_fields=changed)
    except IntegrityError as exc:
        raise Conflict(_("This conflicts with an existing record.")) from exc
