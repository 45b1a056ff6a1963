from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from organisations.models import UI_LANGUAGES, Person, validate_language_codes


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
