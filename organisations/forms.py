from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from auditlog.registry import auditlog
from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _

from coordinator.core import formatting, registry
from coordinator.core.days_off import Country
from coordinator.core.forms import DateField, ModelChoiceField
from coordinator.core.validators import single_line
from organisations.models import (
    FollowUp,
    Organisation,
    OrganisationKind,
    OwnRule,
    Person,
    PlatformRole,
    ProfileLevel,
    Programme,
    Unit,
    WorkRole,
    validate_language_codes,
    validate_time_zone,
)
from organisations.selectors import members_of
from organisations.services import accounts


class OwnProfileForm(forms.Form):
    """The details a person keeps up to date themselves."""

    job_title = forms.CharField(label=_("Job title"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    languages = forms.MultipleChoiceField(
        label=_("Languages you speak"), required=False, widget=forms.CheckboxSelectMultiple
    )
    preferred_language = forms.ChoiceField(
        label=_("Interface language"),
        choices=lambda: [("", _("As my browser")), *formatting.interface_language_choices()],
        required=False,
    )

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        self.person = person
        if kwargs.get("data") is None:
            kwargs["initial"] = {
                "job_title": person.job_title,
                "phone": person.phone,
                "languages": list(person.languages or []),
                "preferred_language": person.preferred_language,
            }
        super().__init__(*args, **kwargs)
        # Offered by name in the reader's language; codes stored earlier that the list lacks stay offered.
        self.fields["languages"].choices = formatting.language_choices(  # type: ignore[attr-defined]
            person.languages or []
        )

    def clean_languages(self) -> list[str]:
        codes = list(self.cleaned_data.get("languages") or [])
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
    person = ModelChoiceField(label=_("Changed by"), queryset=Person.objects.none(), required=False)

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


class ProgrammeSettingsForm(forms.Form):
    """A programme's settings, as its admins change them."""

    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=5000, required=False, widget=forms.Textarea
    )
    language = forms.ChoiceField(label=_("Language"), choices=formatting.interface_language_choices)
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, validators=[validate_time_zone])
    country = forms.ChoiceField(
        label=_("Country"),
        choices=Country.choices,
        required=False,
        help_text=_(
            "Its public holidays and days off are not offered for visits, and warned of for courses."
        ),
    )
    coordinator_email = forms.EmailField(
        label=_("Organiser mailbox"),
        help_text=_("Shown as the organiser of calendar invites and used as the reply address."),
    )
    own_rule = forms.ChoiceField(label=_("Shadowing is never at"), choices=OwnRule.choices)
    follow_up_months = forms.IntegerField(
        label=_("Follow up after (months)"),
        min_value=0,
        max_value=24,
        initial=3,
        required=False,
        help_text=_(
            "How long after a course or a visit the person and their manager are asked whether it made a "
            "difference; 0 asks nobody."
        ),
    )
    visit_day_cost = forms.DecimalField(
        label=_("Standard cost of a visit day"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text=_(
            "The staff time of one day of a visit (the visitor's and the host's time at the programme's day "
            "rate), in the programme's currency. Reports add it for every visit day to the costs recorded "
            "on the visits; leave it empty to count only the recorded costs."
        ),
    )


class ProgrammeCreateForm(ProgrammeSettingsForm):
    """A new programme and its first admin (platform administrators)."""

    follow_up_months = None  # type: ignore[assignment]  # a new programme starts with the default; its admins change it later
    visit_day_cost = None  # type: ignore[assignment]  # likewise: set in the programme's settings
    slug = forms.SlugField(label=_("Short name in addresses"), max_length=60)
    admin_username = forms.RegexField(
        label=_("First admin: username"),
        regex=r"^[\w.@+-]+\Z",
        max_length=150,
        help_text=_("An existing person's username, or a new one."),
    )
    admin_email = forms.EmailField(label=_("First admin: email (new person)"), required=False)
    admin_first_name = forms.CharField(
        label=_("First admin: first name (new person)"), max_length=150, required=False
    )
    admin_last_name = forms.CharField(
        label=_("First admin: last name (new person)"), max_length=150, required=False
    )
    admin_organisation = ModelChoiceField(
        label=_("First admin's organisation on the platform"),
        queryset=Organisation.objects.none(),
        required=False,
    )
    new_organisation_name = forms.CharField(
        label=_("Or a new organisation: name"), max_length=200, required=False
    )
    new_organisation_short_name = forms.CharField(
        label=_("New organisation: short name"), max_length=40, required=False
    )
    new_organisation_kind = forms.ChoiceField(
        label=_("New organisation: kind"), choices=[("", "–"), *OrganisationKind.choices], required=False
    )


class WorkRoleForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"), max_length=60, help_text=_("Letters, digits and underscores: case_officer")
    )
    name = forms.CharField(label=_("Name"), max_length=120)


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    short_name = forms.CharField(label=_("Short name"), max_length=40)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrganisationKind.choices)
    website = forms.URLField(label=_("Website"), required=False)


class AgencySearchForm(forms.Form):
    search = forms.CharField(label=_("Agency's name"), max_length=100, required=False)


class PasswordResetRequestForm(PasswordResetForm):
    """Django's reset form, mailing through the outbox in the person's language (``accounts``)."""

    email = forms.EmailField(
        label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def save(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        accounts.password_reset_request(email=self.cleaned_data["email"])


class SignInEmailForm(forms.Form):
    """Sign in with your organisation: the address chooses the provider by its domain."""

    email = forms.EmailField(
        label=_("Your work email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class IdentityProviderForm(forms.Form):
    """An organisation's OpenID Connect provider; the stored client secret is never shown back."""

    issuer = forms.URLField(
        label=_("Issuer"),
        max_length=500,
        assume_scheme="https",
        help_text=_("The provider's issuer address, as in its discovery document."),
    )
    client_id = forms.CharField(label=_("Client id"), max_length=255)
    client_secret = forms.CharField(
        label=_("Client secret"),
        max_length=2000,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Leave empty to keep the stored secret."),
    )
    email_domains = forms.CharField(
        label=_("Email domains"),
        max_length=2000,
        required=False,
        help_text=_("Separated by commas, for example: migrationsverket.se"),
    )
    is_enabled = forms.BooleanField(label=_("Staff sign in with this provider"), required=False, initial=True)

    def clean_email_domains(self) -> list[str]:
        raw = self.cleaned_data.get("email_domains", "")
        return [domain.strip() for domain in raw.split(",") if domain.strip()]


class PersonEraseForm(forms.Form):
    """The programme admin's confirmation that a person's personal data is to be erased."""

    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone"),
        required=True,
        error_messages={"required": _("Tick the box to confirm the erasure.")},
    )


class PersonCreateForm(forms.Form):
    """A new member of staff of one organisation, registered in the programme (and invited, by default)."""

    first_name = forms.CharField(label=_("First name"), max_length=150, validators=[single_line])
    last_name = forms.CharField(label=_("Last name"), max_length=150, validators=[single_line])
    email = forms.EmailField(label=_("Email"))
    username = forms.RegexField(
        label=_("Username"),
        regex=r"^[\w.@+-]+\Z",
        max_length=150,
        help_text=_("Letters, digits and . @ + - _ only, for example anna.berg"),
    )
    unit = ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False)
    work_role = ModelChoiceField(label=_("Role at work"), queryset=WorkRole.objects.none(), required=False)
    job_title = forms.CharField(
        label=_("Job title"), max_length=200, required=False, validators=[single_line]
    )
    line_manager = ModelChoiceField(label=_("Line manager"), queryset=Person.objects.none(), required=False)
    roles = forms.MultipleChoiceField(
        label=_("Roles on the platform"),
        choices=PlatformRole.choices,
        initial=[PlatformRole.STAFF],
        widget=forms.CheckboxSelectMultiple,
    )
    invite = forms.BooleanField(
        label=_("Send an invitation to sign in"),
        required=False,
        initial=True,
        help_text=_("A one-time link to choose a password, or to sign in with the agency's own account."),
    )

    def __init__(
        self,
        data: QueryDict | None = None,
        files: MultiValueDict[str, UploadedFile[bytes]] | None = None,
        *,
        programme: Programme,
        organisation: Organisation,
        initial: dict[str, object] | None = None,
        prefix: str | None = None,
    ) -> None:
        super().__init__(data, files, initial=initial, prefix=prefix)
        fields = self.fields
        fields["unit"].queryset = Unit.objects.filter(organisation=organisation).order_by("name")  # type: ignore[attr-defined]
        fields["work_role"].queryset = WorkRole.objects.filter(programme=programme).order_by("name")  # type: ignore[attr-defined]
        fields["line_manager"].queryset = (  # type: ignore[attr-defined]
            members_of(programme)
            .filter(organisation=organisation)
            .select_related("user")
            .order_by("user__last_name", "user__first_name")
        )


# --- Competences ------------------------------------------------------------------------------------------


class CompetenceForm(forms.Form):
    """A competence and what gives it: one choice list per kind of evidence the features offer."""

    name = forms.CharField(label=_("Name"), max_length=200, validators=[single_line])
    description = forms.CharField(
        label=_("Description"), max_length=2000, required=False, widget=forms.Textarea
    )
    manager_sign_off = forms.BooleanField(
        label=_("A line manager may confirm it was gained elsewhere"), required=False, initial=True
    )

    def __init__(self, *args: object, programme: Programme, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.kinds = []
        for kind, evidence in registry.competence_evidence.items():
            name = f"source_{kind}"
            self.fields[name] = forms.MultipleChoiceField(
                label=str(evidence.label),
                choices=evidence.choices(programme),
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
            self.kinds.append(kind)

    def sources(self) -> list[tuple[str, str]]:
        return [(kind, value) for kind in self.kinds for value in self.cleaned_data.get(f"source_{kind}", [])]


class RoleProfileForm(forms.Form):
    """A role at work's profile: for each competence, not asked for, basic or professional."""

    def __init__(self, *args: object, competences: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for pk, name in competences:
            self.fields[f"c{pk}"] = forms.ChoiceField(
                label=name, choices=[("", _("Not in the profile")), *ProfileLevel.choices], required=False
            )

    def levels(self) -> dict[int, str]:
        return {int(name[1:]): value for name, value in self.cleaned_data.items() if value}


class CompetenceConfirmForm(forms.Form):
    """A line manager confirms a competence gained elsewhere."""

    competence = forms.TypedChoiceField(label=_("Competence"), coerce=int)
    gained_on = DateField(label=_("Gained on"))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: object, competences: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["competence"].choices = competences  # type: ignore[attr-defined]


class GapMatchingForm(forms.Form):
    matching_closes_gaps = forms.BooleanField(
        label=_("Matching weighs competence gaps"),
        required=False,
        help_text=_(
            "The matcher prefers, among equally wanted visits, workplaces at a kind of agency that would "
            "give the person a competence their role's profile asks for and they lack."
        ),
    )


class TargetForm(forms.Form):
    """A target of the programme: what is measured (and about which course, among which role), the goal and
    the deadline. The choices come from the features' measures and the programme's own rows."""

    title = forms.CharField(label=_("Title"), max_length=200, validators=[single_line])
    measure = forms.ChoiceField(label=_("What is measured"))
    subject_id = forms.TypedChoiceField(
        label=_("About"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("For a measure about a course: which course."),
    )
    work_role = forms.TypedChoiceField(
        label=_("Among the role at work"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Leave empty to count everyone in the programme."),
    )
    goal = forms.IntegerField(
        label=_("Goal"),
        min_value=1,
        max_value=100_000,
        help_text=_(
            "For a share: the per cent to reach (100 = everyone). For visit days: the number each "
            "organisation must reach."
        ),
    )
    starts_on = DateField(label=_("Counts from"))
    deadline = DateField(label=_("Deadline"))

    def __init__(self, *args: object, programme: Programme, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        measures = list(registry.measures)
        fields = cast(dict[str, forms.ChoiceField], self.fields)
        fields["measure"].choices = [(m.key, m.label) for m in measures]
        subjects = [
            (f"{m.label}: {m.subject_label}", m.subjects(programme)) for m in measures if m.subject_label
        ]
        fields["subject_id"].choices = [("", "—"), *subjects]
        fields["work_role"].choices = [
            ("", "—"),
            *WorkRole.objects.filter(programme=programme).values_list("pk", "name"),
        ]

    def clean(self) -> dict[str, object]:
        data: dict[str, object] = super().clean() or {}
        role = data.get("work_role")
        if "work_role" in data:
            data["work_role"] = WorkRole.objects.filter(pk=role).first() if role is not None else None
        return data


class ExpectationForm(forms.Form):
    """What a person expects of a course or a visit before it."""

    rating = forms.TypedChoiceField(
        label=_("How useful do you expect it to be in your work?"),
        coerce=int,
        choices=[(n, str(n)) for n in range(1, 6)],
        widget=forms.RadioSelect,
        help_text=_("1 = not at all, 5 = very."),
    )
    text = forms.CharField(
        label=_("What do you hope to learn or use?"), max_length=2000, required=False, widget=forms.Textarea
    )


class FollowUpAnswerForm(forms.Form):
    """The answer to a follow-up: did it make a difference in daily work."""

    used = forms.ChoiceField(label=_("Has it been used in daily work?"), widget=forms.RadioSelect)
    how_used = forms.CharField(label=_("How?"), max_length=2000, required=False, widget=forms.Textarea)
    shared = forms.TypedChoiceField(
        label=_("Has it been shared with colleagues?"),
        coerce=lambda value: value == "yes",
        choices=[("yes", _("Yes")), ("no", _("No"))],
        widget=forms.RadioSelect,
    )
    rating = forms.TypedChoiceField(
        label=_("How much difference has it made (1-5)?"),
        coerce=int,
        choices=[(n, str(n)) for n in range(1, 6)],
        widget=forms.RadioSelect,
        help_text=_("1 = none, 5 = a great deal."),
    )
    comment = forms.CharField(
        label=_("Anything else?"), max_length=2000, required=False, widget=forms.Textarea
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        cast(forms.ChoiceField, self.fields["used"]).choices = FollowUp.Use.choices
