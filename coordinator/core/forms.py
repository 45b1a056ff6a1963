"""Form pieces that several features share."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from coordinator.core.validators import date_validators


def add_service_errors(form: forms.Form, error: Any) -> None:
    """Show a service's ValidationError (on its field where the form has one, else on top) or Conflict (on
    top) on the form."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


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
