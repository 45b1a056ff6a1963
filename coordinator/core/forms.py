"""Form pieces that several features share."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.renderers import BaseRenderer
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from coordinator.core.validators import date_validators, datetime_validators, parse_int


def add_service_errors(form: forms.Form, error: Any) -> None:
    """Show a service's ValidationError (on its field where the form has one, else on top) or Conflict (on
    top) on the form."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def _attributes(attrs: dict[str, object]) -> str:
    """Django's ``django/forms/widgets/attrs.html``: ``False`` leaves an attribute out, ``True`` writes its
    name alone."""
    return "".join(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value))
        for name, value in attrs.items()
        if value is not False
    )


class PlainSelect(forms.Select):
    """A drop-down written in Python, byte for byte as Django's ``select.html`` template writes it.

    Django renders each ``<option>`` through two included templates; a filter form with a few dozen options
    spent a sixth of its page's time there. ``tests/coordinator/test_plain_select.py`` compares this with
    Django's own rendering (options, groups, selected values, attributes, escaping).
    """

    def render(
        self,
        name: str,
        value: object,
        attrs: dict[str, object] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"', widget["name"]), _attributes(widget["attrs"]), ">"]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            parts.extend(
                format_html(
                    '\n  <option value="{}"{}>{}</option>\n',
                    str(option["value"]),
                    mark_safe(_attributes(option["attrs"])),  # noqa: S308 (escaped by _attributes)
                    option["label"],
                )
                for option in options
            )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped by format_html)


def _out_of_range(field: forms.ModelChoiceField, value: object) -> bool:  # type: ignore[type-arg]
    """Whether ``value`` is a number too large for the database's integer columns given to a model choice by
    an integer key: the field answers it with its own "not one of the choices", where the query would fail
    (SQLite raises ``OverflowError``, PostgreSQL an out-of-range error)."""
    if value in field.empty_values or field.queryset is None:
        return False
    model = field.queryset.model
    key = (
        model._meta.pk if field.to_field_name in (None, "pk") else model._meta.get_field(field.to_field_name)
    )
    text = str(value).strip()
    return isinstance(key, models.IntegerField) and bool(_NUMBER.fullmatch(text)) and parse_int(text) is None


_NUMBER = re.compile(r"-?[0-9]+")


class ModelChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """Django's model choice, answering a number beyond the database's with its own error."""

    def to_python(self, value: object) -> models.Model | None:
        if _out_of_range(self, value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)  # type: ignore[no-any-return]


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """Django's multiple model choice, answering a number beyond the database's with its own error."""

    def _check_values(self, value: object) -> object:
        for one in value if isinstance(value, list | tuple) else []:
            if _out_of_range(self, one):
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": one}
                )
        return super()._check_values(value)  # type: ignore[misc]


DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalField(forms.DateTimeField):
    """A native date-and-time picker; the value is read in the programme's time zone (1900 to 2199)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)
    input_formats = [DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
    default_validators = datetime_validators()


class DateField(forms.DateField):
    """A date chosen with the browser's date picker, sent as YYYY-MM-DD."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    default_validators = date_validators()


class PeriodForm(forms.Form):
    """A reporting period: both ends included, at most ten years long."""

    start = DateField(label=_("From"))
    end = DateField(label=_("To"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                raise ValidationError(_("The period must end on or after its start."))
            if (data["end"] - data["start"]).days > 3660:
                raise ValidationError(_("Choose a period of at most ten years."))
        return data
