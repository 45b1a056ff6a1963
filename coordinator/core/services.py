"""Small steps every app's services take when they change a row: apply only the fields a caller may
change, and validate the row the way the API and the sockets need (lengths included)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from coordinator.core.validators import single_line

# The text columns that name a row: shown as headings, in mail subjects and as calendar summaries.
ONE_LINE_FIELDS = frozenset({"title", "name", "short_name"})


def apply_changes(instance: models.Model, values: Mapping[str, Any], allowed: set[str]) -> list[str]:
    """Set ``values`` on ``instance``; refuse fields outside ``allowed`` (nothing is set then). Returns the
    names of the fields whose value changed, for ``save(update_fields=...)``."""
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


def edge_errors(instance: models.Model, exclude: Sequence[str] = ()) -> dict[str, list[str]]:
    """What every edge refuses besides the model's own field validation: a TextField over its max_length
    (Django only sizes form widgets by it) and a line break or control character in a name or title (it
    ends up in mail subjects and calendar SUMMARYs). Other text, a place for one, may hold line breaks;
    the calendar escapes them. The admin's forms ask this too."""
    errors: dict[str, list[str]] = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude:
            continue
        value = getattr(instance, field.attname)
        if isinstance(field, models.TextField) and field.max_length:
            if isinstance(value, str) and len(value) > field.max_length:
                errors[field.name] = [
                    _("Keep this under %(limit)s characters.") % {"limit": field.max_length}
                ]
        if isinstance(field, models.CharField) and field.name in ONE_LINE_FIELDS:
            try:
                single_line(value)
            except ValidationError as exc:
                errors.setdefault(field.name, []).extend(exc.messages)
    return errors


def validate(instance: models.Model, exclude: Sequence[str] = ()) -> None:
    """The row's field validation, with every message per field (titles and names refuse line breaks and
    control characters, long text its limit: ``edge_errors``); uniqueness and constraints are left to
    the database (the services turn their errors into field errors or conflicts)."""
    errors = edge_errors(instance, exclude)
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
