"""Forms of the seminars pages. They parse input only; the services decide and write.

Querysets of choice fields are set in ``__init__`` (inside the request's tenant scope), never at import time.
Date and time fields read the programme's time zone, which the middleware has activated.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from coordinator.core import formatting
from coordinator.core.forms import DateTimeLocalField, ModelChoiceField, ModelMultipleChoiceField
from organisations.models import Organisation, Person, Programme, Unit, WorkRole
from seminars.models import Course, Round, RoundCost


class CourseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=5000, required=False, widget=forms.Textarea
    )
    providers = ModelMultipleChoiceField(
        label=_("Given by"),
        queryset=Organisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Their course providers mark attendance and record completions."),
    )
    provider_units = ModelMultipleChoiceField(
        label=_("Given by the units"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Units of the providing organisations that give the course; empty: the whole organisation."
        ),
    )
    target_roles = ModelMultipleChoiceField(
        label=_("Target roles"),
        queryset=WorkRole.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    prerequisites = ModelMultipleChoiceField(
        label=_("Prerequisite courses"),
        queryset=Course.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(
        label=_("Language of the course"), choices=formatting.language_choices, initial="sv"
    )
    completion_rule = forms.ChoiceField(label=_("Counts as completed"), choices=Course.CompletionRule.choices)
    attendance_required_percent = forms.IntegerField(
        label=_("Attendance required (%)"),
        min_value=1,
        max_value=100,
        initial=100,
        help_text=_("For completion on attendance: the share of sessions a person must attend."),
    )
    is_archived = forms.BooleanField(label=_("Archived (no longer offered)"), required=False)

    def __init__(self, *args: Any, programme: Programme, course: Course | None = None, **kwargs: Any) -> None:
        if course is not None and kwargs.get("data") is None:
            kwargs["initial"] = {
                "title": course.title,
                "description": course.description,
                "providers": list(course.providers.all()),
                "provider_units": list(course.provider_units.all()),
                "target_roles": list(course.target_roles.all()),
                "prerequisites": list(course.prerequisites.all()),
                "language": course.language,
                "completion_rule": course.completion_rule,
                "attendance_required_percent": course.attendance_required_percent,
                "is_archived": course.is_archived,
            }
        super().__init__(*args, **kwargs)
        # Offered by name; a code stored earlier that the list lacks stays offered.
        self.fields["language"].choices = formatting.language_choices(  # type: ignore[attr-defined]
            [course.language] if course is not None else []
        )
        self.fields["providers"].queryset = Organisation.objects.filter(  # type: ignore[attr-defined]
            participations__programme=programme
        ).order_by("name")
        self.fields["provider_units"].queryset = (  # type: ignore[attr-defined]
            Unit.objects.filter(organisation__participations__programme=programme)
            .select_related("organisation")
            .order_by("organisation__name", "name")
        )
        self.fields["target_roles"].queryset = WorkRole.objects.filter(  # type: ignore[attr-defined]
            programme=programme
        ).order_by("name")
        courses = Course.objects.filter(programme=programme).order_by("title")
        if course is not None:
            courses = courses.exclude(pk=course.pk)
        self.fields["prerequisites"].queryset = courses  # type: ignore[attr-defined]

    def split(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(plain values, relations) for the service."""
        data = dict(self.cleaned_data)
        relations = {
            name: list(data.pop(name))
            for name in ("providers", "provider_units", "target_roles", "prerequisites")
        }
        return data, relations


class RoundForm(forms.Form):
    label = forms.CharField(
        label=_("Name of the round"), max_length=120, help_text=_("For example: Spring 2026")
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (Round.Status.DRAFT, _("Draft (only coordinators see it)")),
            (Round.Status.PUBLISHED, _("Published")),
        ],
    )
    capacity = forms.IntegerField(label=_("Seats"), min_value=1, max_value=10000)
    registration_opens_at = DateTimeLocalField(label=_("Registration opens"))
    registration_closes_at = DateTimeLocalField(label=_("Registration closes"))
    cancellation_deadline = DateTimeLocalField(
        label=_("Cancellation deadline"),
        help_text=_("Participants may cancel themselves until then; afterwards a coordinator removes them."),
    )
    target_role_mode = forms.ChoiceField(label=_("Target roles"), choices=Round.TargetRoleMode.choices)
    requires_manager_approval = forms.BooleanField(label=_("Line manager approval needed"), required=False)
    offer_hold_hours = forms.IntegerField(
        label=_("Offer held for (hours)"),
        min_value=1,
        max_value=720,
        help_text=_("How long a freed seat is held for the next person in the queue."),
    )
    reserved_seats_release_at = DateTimeLocalField(
        label=_("Release unused reserved seats at"),
        required=False,
        help_text=_("Seats reserved for an organisation that has not used them are opened to everyone then."),
    )
    information = forms.CharField(
        label=_("Practical information"),
        max_length=3000,
        required=False,
        widget=forms.Textarea,
        help_text=_("What participants should know: what to bring, food, how to get there."),
    )

    def __init__(
        self, *args: Any, round_: Round | None = None, initial_hold: int = 48, **kwargs: Any
    ) -> None:
        if kwargs.get("data") is None:
            if round_ is not None:
                kwargs["initial"] = {name: getattr(round_, name) for name in self.base_fields}
            else:
                kwargs["initial"] = {"offer_hold_hours": initial_hold, "status": Round.Status.DRAFT}
        super().__init__(*args, **kwargs)
        if round_ is not None and round_.status == Round.Status.CANCELLED:
            self.fields["status"].choices = [(Round.Status.CANCELLED, _("Cancelled"))]  # type: ignore[attr-defined]


class SessionForm(forms.Form):
    title = forms.CharField(
        label=_("Title"), max_length=200, required=False, help_text=_("For example: Day 1 – basics")
    )
    starts_at = DateTimeLocalField(label=_("Starts"))
    ends_at = DateTimeLocalField(label=_("Ends"))
    place = forms.CharField(
        label=_("Place"), max_length=300, required=False, help_text=_("Room and street address.")
    )
    online_url = forms.URLField(label=_("Online link"), max_length=500, required=False, assume_scheme="https")


class QuotaForm(forms.Form):
    organisation = ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none())
    reserved = forms.IntegerField(label=_("Reserved seats"), min_value=0, max_value=10000, initial=0)
    maximum = forms.IntegerField(
        label=_("Most seats"),
        min_value=1,
        max_value=10000,
        required=False,
        help_text=_("Leave empty for no upper limit."),
    )

    def __init__(self, *args: Any, programme: Programme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(  # type: ignore[attr-defined]
            participations__programme=programme
        ).order_by("name")


class CostForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RoundCost.Kind.choices)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=12, decimal_places=2)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class EnrolForm(forms.Form):
    motivation = forms.CharField(
        label=_("Note to your line manager"),
        max_length=1000,
        required=False,
        widget=forms.Textarea,
        help_text=_("Why you want to take part; your line manager sees it when asked to approve."),
    )


class EnrolOtherForm(forms.Form):
    person = ModelChoiceField(label=_("Person"), queryset=Person.objects.none())

    def __init__(self, *args: Any, programme: Programme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = (  # type: ignore[attr-defined]
            Person.objects.filter(memberships__programme=programme, memberships__is_active=True)
            .select_related("user", "organisation")
            .order_by("user__last_name", "user__first_name")
        )
        self.fields["person"].label_from_instance = (  # type: ignore[attr-defined]
            lambda p: f"{p.full_name} ({p.organisation.short_name})"
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), max_length=300, required=False)


class GroupForm(forms.Form):
    group_size = forms.IntegerField(label=_("People per group (about)"), min_value=2, max_value=50)
