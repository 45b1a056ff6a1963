from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditlog.registry import auditlog
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from organisations.models import UI_LANGUAGES, Person, Programme, validate_language_codes
from organisations.selectors import members_of


class OwnProfileForm(forms.Form):
    """The details a person keeps up to date themselves."""

    job_title = forms.CharField(label=_("Job title"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    languages = forms.CharField(
        label=_("Languages you speak"),
        max_length=200,
        required=False,
        help_text=_("Language codes separated by commas, for example: sv, en, ar"),
    )
    preferred_language = forms.ChoiceField(
        label=_("Interface language"), choices=[("", _("As my browser"))] + UI_LANGUAGES, required=False
    )

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        self.person = person
        if kwargs.get("data") is None:
            kwargs["initial"] = {
                "job_title": person.job_title,
                "phone": person.phone,
                "languages": ", ".join(person.languages or []),
                "preferred_language": person.preferred_language,
            }
        super().__init__(*args, **kwargs)

    def clean_languages(self) -> list[str]:
        raw = self.cleaned_data.get("languages", "")
        codes = [code.strip().lower() for code in raw.split(",") if code.strip()]
        try:
            validate_language_codes(codes)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        return codes

    def changed_values(self) -> dict[str, Any]:
        return {
            name: value for name, value in self.cleaned_data.items() if getattr(self.person, name) != value
        }


class AuditTrailFilterForm(forms.Form):
    """The audit trail's filters: a kind of object (any model on the trail) and who acted."""

    object_type = forms.ChoiceField(label=_("Kind of object"), required=False)
    person = forms.ModelChoiceField(label=_("Changed by"), queryset=Person.objects.none(), required=False)

    def __init__(self, data: Mapping[str, str] | None, *, programme: Programme) -> None:
        super().__init__(data)
        kinds = sorted(
            (model._meta.label_lower, str(model._meta.verbose_name).capitalize())
            for model in auditlog.get_models()
        )
        self.fields["object_type"].choices = [("", _("All"))] + kinds  # type: ignore[attr-defined]
        self.fields["person"].queryset = members_of(programme).order_by(  # type: ignore[attr-defined]
            "user__last_name", "user__first_name"
        )


class PersonEraseForm(forms.Form):
    """The programme admin's confirmation that a person's personal data is to be erased."""

    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone"),
        required=True,
        error_messages={"required": _("Tick the box to confirm the erasure.")},
    )
