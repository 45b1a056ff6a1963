"""Forms of the job-shadowing pages. They parse input only; the services decide and write.

Querysets and choices that depend on the programme are set in ``__init__`` (inside the request's tenant
scope), never at import time. A request form keeps everything that was typed when it is shown again with
errors: availability windows and ranked preferences are fixed rows of one form, not a formset whose rows
could be dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from coordinator.core import formatting
from coordinator.core.forms import ModelChoiceField, ModelMultipleChoiceField, PlainSelect
from coordinator.core.validators import date_validators
from organisations.models import Organisation, Person, PlatformRole, Programme, Unit
from shadowing import permissions
from shadowing.models import MAX_SLOT_CAPACITY, NOTE_MAX_LENGTH, PlacementCost, Topic, Workplace
from shadowing.services.shadowing_requests import MAX_PREFERENCES, MAX_WINDOWS

WEEKDAYS: tuple[tuple[int, Any], ...] = (
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
)


class DateField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    default_validators = date_validators()


class TimeField(forms.TimeField):
    widget = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _language_choices(extra: list[str] | tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """Languages by name (``formatting.SPOKEN_LANGUAGES``); codes already stored on a workplace or request
    that are not among them stay offered, so that editing never drops them."""
    return list(formatting.language_choices(extra))


def _topics(programme: Programme) -> Any:
    return Topic.objects.filter(programme=programme).order_by("name")


# --- Host contacts --------------------------------------------------------------------------------------


class WorkplaceForm(forms.Form):
    name = forms.CharField(label=_("Name of the workplace"), max_length=200)
    unit = ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False)
    street_address = forms.CharField(label=_("Street address"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=100)
    description = forms.CharField(
        label=_("What a visitor will see and do"),
        max_length=5000,
        widget=forms.Textarea,
        help_text=_(
            "For example: sit in on reception interviews, follow a case officer, join the team meeting."
        ),
    )
    topics = ModelMultipleChoiceField(
        label=_("Topics"), queryset=Topic.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    languages = forms.MultipleChoiceField(
        label=_("Working languages"),
        choices=formatting.language_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Languages a visitor can follow the work in."),
    )
    accessibility = forms.CharField(
        label=_("Accessibility"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Step-free entrance, lift, hearing loop, quiet room – or what is not available."),
    )
    max_visitors_per_day = forms.IntegerField(
        label=_("Most visitors per day"), min_value=1, max_value=10, initial=2
    )
    confidentiality_terms = forms.CharField(
        label=_("Confidentiality terms"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the visitor undertakes before the visit; they accept it when confirming."),
    )
    contact = ModelChoiceField(label=_("Host contact"), queryset=Person.objects.none())

    def __init__(
        self,
        *args: Any,
        programme: Programme,
        organisation: Organisation,
        workplace: Workplace | None = None,
        **kwargs: Any,
    ) -> None:
        if workplace is not None and kwargs.get("data") is None:
            kwargs["initial"] = {
                "name": workplace.name,
                "unit": workplace.unit_id,
                "street_address": workplace.street_address,
                "postal_code": workplace.postal_code,
                "city": workplace.city,
                "description": workplace.description,
                "topics": [t.pk for t in workplace.topics.all()],
                "languages": list(workplace.languages or []),
                "accessibility": workplace.accessibility,
                "max_visitors_per_day": workplace.max_visitors_per_day,
                "confidentiality_terms": workplace.confidentiality_terms,
                "contact": workplace.contact_id,
            }
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(  # type: ignore[attr-defined]
            organisation=organisation
        ).order_by("name")
        self.fields["topics"].queryset = _topics(programme)  # type: ignore[attr-defined]
        self.fields["languages"].choices = _language_choices(  # type: ignore[attr-defined]
            workplace.languages if workplace is not None else ()
        )
        self.fields["contact"].queryset = (  # type: ignore[attr-defined]
            Person.objects.filter(
                organisation=organisation,
                memberships__programme=programme,
                memberships__is_active=True,
                memberships__role_assignments__role=PlatformRole.HOST_CONTACT,
            )
            .select_related("user")
            .distinct()
            .order_by("user__last_name", "user__first_name")
        )
        self.fields["contact"].label_from_instance = lambda p: p.full_name  # type: ignore[attr-defined]

    def split(self) -> tuple[dict[str, Any], list[Topic]]:
        """(plain values, topics) for the service."""
        values = dict(self.cleaned_data)
        topics = list(values.pop("topics"))
        return values, topics


class SlotBulkForm(forms.Form):
    """ "Every Tuesday and Thursday between two dates, N places"."""

    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"), choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    starts_on = DateField(label=_("From"))
    ends_on = DateField(label=_("To"))
    starts_at = TimeField(label=_("Visit starts"), initial=time(9, 0))
    ends_at = TimeField(label=_("Visit ends"), initial=time(16, 0))
    capacity = forms.IntegerField(
        label=_("Places per day"), min_value=1, max_value=MAX_SLOT_CAPACITY, initial=1
    )
    notes = forms.CharField(label=_("Notes for visitors"), max_length=500, required=False)
    on_days_off = forms.BooleanField(
        label=_("Also on public holidays and days off"),
        required=False,
        help_text=_("Left out unless ticked; a single day off is created only when ticked."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on:
            if ends_on < starts_on:
                self.add_error("ends_on", _("The last day must be on or after the first."))
            elif (ends_on - starts_on).days > 366:
                self.add_error("ends_on", _("Create slots for at most one year at a time."))
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("The visit must end after it starts."))
        return data


class PeriodForm(forms.Form):
    starts_on = DateField(label=_("From"))
    ends_on = DateField(label=_("To"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("The period must end on or after its start."))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        max_length=NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class HostFeedbackForm(forms.Form):
    feedback = forms.CharField(
        label=_("Feedback on the visit"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Brief: how the visit went and anything the visitor's organisation should know."),
    )


# --- Staff ----------------------------------------------------------------------------------------------


class ShadowingRequestForm(forms.Form):
    learning_goals = forms.CharField(
        label=_("What do you want to learn?"),
        max_length=5000,
        widget=forms.Textarea,
        help_text=_("Your learning goals: what you want to see, and why it matters for your work."),
    )
    topics = ModelMultipleChoiceField(
        label=_("Topics"),
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    days = forms.TypedChoiceField(
        label=_("How many days"),
        choices=[(1, _("1 day")), (2, _("2 days")), (3, _("3 days"))],
        coerce=int,
        initial=1,
    )
    consecutive = forms.BooleanField(label=_("The days must follow each other"), required=False)
    languages = forms.MultipleChoiceField(
        label=_("Languages you can work in"),
        choices=formatting.language_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        programme: Programme,
        organisation_id: int,
        languages: list[str] | tuple[str, ...] = (),
        unit_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = _topics(programme)  # type: ignore[attr-defined]
        self.fields["languages"].choices = _language_choices(languages)  # type: ignore[attr-defined]
        for i in range(1, MAX_WINDOWS + 1):
            self.fields[f"window_{i}_starts_on"] = DateField(
                label=_("Window %(n)s: from") % {"n": i}, required=i == 1
            )
            self.fields[f"window_{i}_ends_on"] = DateField(
                label=_("Window %(n)s: to") % {"n": i}, required=i == 1
            )

        # Another organisation or one of its published workplaces (``permissions.can_shadow_at``: never the
        # requester's own organisation, or own unit where the programme applies the rule at unit level).
        def allowed(host_organisation: int, host_unit: int | None) -> bool:
            return permissions.can_shadow_at(
                organisation_id,
                host_organisation,
                own_rule=programme.own_rule,
                requester_unit_id=unit_id,
                host_unit_id=host_unit,
            )

        workplaces = [
            w
            for w in Workplace.objects.filter(programme=programme, is_published=True)
            .select_related("organisation")
            .order_by("organisation__name", "name")
            if allowed(w.organisation_id, w.unit_id)
        ]
        # Only organisations with a published workplace: a wish for one without could never be met.
        hosting = {w.organisation_id for w in workplaces}
        organisations = [
            o
            for o in Organisation.objects.filter(participations__programme=programme).order_by("name")
            if o.pk in hosting and allowed(o.pk, None)
        ]
        choices: list[Any] = [("", _("– no preference –"))]
        choices.append((_("Organisations"), [(f"o{o.pk}", o.name) for o in organisations]))
        choices.append(
            (_("Workplaces"), [(f"w{w.pk}", f"{w.name} ({w.organisation.short_name})") for w in workplaces])
        )
        self.organisations = {o.pk: o for o in organisations}
        self.workplaces = {w.pk: w for w in workplaces}
        for i in range(1, MAX_PREFERENCES + 1):
            self.fields[f"preference_{i}"] = forms.ChoiceField(
                label=_("Choice %(n)s") % {"n": i}, choices=choices, required=False
            )

    def window_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"window_{i}_starts_on"], self[f"window_{i}_ends_on"]) for i in range(1, MAX_WINDOWS + 1)
        ]

    def preference_fields(self) -> list[forms.BoundField]:
        return [self[f"preference_{i}"] for i in range(1, MAX_PREFERENCES + 1)]

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("learning_goals", "topics", "days", "consecutive", "languages")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        windows: list[tuple[date, date]] = []
        for i in range(1, MAX_WINDOWS + 1):
            starts_on = data.get(f"window_{i}_starts_on")
            ends_on = data.get(f"window_{i}_ends_on")
            if starts_on is None and ends_on is None:
                continue
            if starts_on is None or ends_on is None:
                if f"window_{i}_starts_on" not in self.errors and f"window_{i}_ends_on" not in self.errors:
                    self.add_error(
                        f"window_{i}_ends_on" if ends_on is None else f"window_{i}_starts_on",
                        _("Give both the first and the last day of this window."),
                    )
                continue
            if ends_on < starts_on:
                self.add_error(f"window_{i}_ends_on", _("The window must end on or after its start."))
                continue
            windows.append((starts_on, ends_on))
        preferences: list[tuple[int, Organisation | None, Workplace | None]] = []
        seen: set[str] = set()
        rank = 0
        for i in range(1, MAX_PREFERENCES + 1):
            raw = data.get(f"preference_{i}") or ""
            if not raw:
                continue
            if raw in seen:
                self.add_error(f"preference_{i}", _("You have already chosen this one."))
                continue
            seen.add(raw)
            rank += 1
            pk = int(raw[1:])
            if raw.startswith("o"):
                preferences.append((rank, self.organisations[pk], None))
            else:
                preferences.append((rank, None, self.workplaces[pk]))
        data["windows"] = windows
        data["preferences"] = preferences
        return data

    def split(self) -> dict[str, Any]:
        """Keyword arguments for ``request_create``: values, topics, windows, preferences."""
        data = self.cleaned_data
        return {
            "values": {
                "learning_goals": data["learning_goals"],
                "days": data["days"],
                "consecutive": data["consecutive"],
                "languages": list(data["languages"]),
            },
            "topics": list(data["topics"]),
            "windows": list(data["windows"]),
            "preferences": list(data["preferences"]),
        }


class ConfirmPlacementForm(forms.Form):
    accept_confidentiality = forms.BooleanField(
        label=_("I have read the confidentiality terms and undertake to keep them"),
        error_messages={"required": _("You must accept the confidentiality terms to confirm the visit.")},
    )


class ReflectionForm(forms.Form):
    learned = forms.CharField(label=_("What did you learn?"), max_length=5000, widget=forms.Textarea)
    how_used = forms.CharField(
        label=_("How will you use it in your work?"), max_length=5000, widget=forms.Textarea
    )
    how_shared = forms.CharField(
        label=_("How have you shared it with your colleagues?"),
        max_length=5000,
        widget=forms.Textarea,
        help_text=_("For example: told the team at the workplace meeting, wrote a note on the intranet."),
    )


# --- Line managers and coordinators ---------------------------------------------------------------------


class DecisionNoteForm(forms.Form):
    note = forms.CharField(label=_("Note (optional)"), max_length=NOTE_MAX_LENGTH, required=False)


class WorkplaceFilterForm(forms.Form):
    """The workplaces page's filter; its drop-downs are written without a template per option. Its choices
    (``(key, name)`` pairs) come with the page's cached content, so checking a choice reads nothing."""

    # Worded as a model choice's refusal: the same text in every language, whatever the key given.
    INVALID = forms.ModelChoiceField.default_error_messages["invalid_choice"]

    organisation = forms.TypedChoiceField(
        label=_("Organisation"),
        coerce=int,
        empty_value=None,
        required=False,
        widget=PlainSelect,
        error_messages={"invalid_choice": INVALID},
    )
    topic = forms.TypedChoiceField(
        label=_("Topic"),
        coerce=int,
        empty_value=None,
        required=False,
        widget=PlainSelect,
        error_messages={"invalid_choice": INVALID},
    )
    language = forms.ChoiceField(label=_("Language"), choices=(), required=False, widget=PlainSelect)

    def __init__(
        self,
        *args: Any,
        organisations: Sequence[tuple[int, str]],
        topics: Sequence[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        everything = ("", _("All"))
        self.fields["organisation"].choices = [everything, *organisations]  # type: ignore[attr-defined]
        self.fields["topic"].choices = [everything, *topics]  # type: ignore[attr-defined]
        self.fields["language"].choices = [everything, *formatting.language_choices()]  # type: ignore[attr-defined]


class MatchingRunForm(forms.Form):
    fairness_weight = forms.FloatField(
        label=_("Weight of fairness between organisations"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Leave empty for the programme's default."),
    )


class AssignForm(forms.Form):
    """Place a request by hand (in a proposed run), first step: which request, at which workplace."""

    request = forms.TypedChoiceField(label=_("Request"), coerce=int, choices=())
    workplace = forms.TypedChoiceField(label=_("Workplace"), coerce=int, choices=())

    def __init__(
        self,
        *args: Any,
        requests: list[tuple[int, str]],
        workplaces: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["request"].choices = requests  # type: ignore[attr-defined]
        self.fields["workplace"].choices = workplaces  # type: ignore[attr-defined]


class AssignDaysForm(AssignForm):
    """Second step: the visit days, chosen among the workplace's free days in the request's windows."""

    slots = forms.TypedMultipleChoiceField(
        label=_("Visit days"), coerce=int, choices=(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self,
        data: QueryDict | None,
        *,
        initial: dict[str, int],
        days: list[tuple[int, str]],
        requests: list[tuple[int, str]],
        workplaces: list[tuple[int, str]],
    ) -> None:
        super().__init__(data, initial=initial, requests=requests, workplaces=workplaces)
        self.fields["request"].widget = forms.HiddenInput()
        self.fields["workplace"].widget = forms.HiddenInput()
        self.fields["slots"].choices = days  # type: ignore[attr-defined]

    def clean_slots(self) -> list[int]:
        chosen: list[int] = self.cleaned_data.get("slots") or []
        if not 1 <= len(chosen) <= 3:
            raise ValidationError(_("Choose one to three visit days."))
        return chosen


class PairForm(forms.Form):
    first = forms.TypedChoiceField(label=_("First request"), coerce=int, choices=())
    second = forms.TypedChoiceField(label=_("Second request"), coerce=int, choices=())

    def __init__(self, *args: Any, requests: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["first"].choices = requests  # type: ignore[attr-defined]
        self.fields["second"].choices = requests  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("first") is not None and data.get("first") == data.get("second"):
            self.add_error("second", _("Choose two different requests."))
        return data


class PlacementCostForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=PlacementCost.Kind.choices)
    amount = forms.DecimalField(
        label=_("Amount"), min_value=0, max_value=Decimal("9999999999.99"), max_digits=12, decimal_places=2
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
