"""Programmes, agencies and people in the programme admins' admin site, under the rules of
``organisations.services``: every form refuses what the services refuse (names on one line, a unit inside
itself, a line manager circle, a role at work from another programme, funders over 100 %), and what the
services never change (who a person is, the organisation a unit or person belongs to, a membership's
programme, an organisation's taking part in a programme) is read-only here; the platform operator alone
adds organisations and people outside the pages, or links organisations to programmes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Model, Q
from django.forms import BaseForm
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from coordinator.core import itip
from organisations.access.admin import ScopedModelAdmin, ScopedModelForm, ScopedTabularInline, site
from organisations.models import (
    Funder,
    Membership,
    Organisation,
    Participation,
    Person,
    Programme,
    RoleAssignment,
    Unit,
    WorkRole,
)
from organisations.services import accounts
from organisations.services.agencies import check_parent
from organisations.services.people import check_line_manager, check_unit
from organisations.services.programmes import FunderShare, check_funders


def _is_operator(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


class FunderFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        super().clean()
        kept = [
            form.cleaned_data
            for form in self.forms
            if form not in self.deleted_forms and form.cleaned_data and not form.errors
        ]
        try:
            check_funders([FunderShare(data["name"], data["share_percent"]) for data in kept])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc


class FunderInline(ScopedTabularInline):
    model = Funder
    formset = FunderFormSet


class WorkRoleInline(ScopedTabularInline):
    model = WorkRole


class ParticipationInline(ScopedTabularInline):
    """Which programmes an organisation takes part in: shown to programme admins, changed by the platform
    operator only (the pages add an organisation to a programme when it is created and never unlink it;
    an unlink would cut the organisation's people off the programme)."""

    model = Participation

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_operator(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_operator(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_operator(request)


class ProgrammeAdmin(ScopedModelAdmin):
    list_display = ["name", "slug", "language", "time_zone"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [FunderInline, WorkRoleInline, ParticipationInline]
    superuser_only_add = True
    superuser_only_delete = True

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        # The programme's address: the pages and the API do not change it.
        return [] if _is_operator(request) else ["slug"]

    def get_prepopulated_fields(
        self, request: HttpRequest, obj: Model | None = None
    ) -> dict[str, Sequence[str]]:
        return dict(self.prepopulated_fields) if _is_operator(request) else {}


class UnitForm(ScopedModelForm):
    def check_instance(self, instance: Model) -> None:
        assert isinstance(instance, Unit)
        if instance.organisation_id is not None:
            check_parent(instance, instance.organisation, instance.parent)


class UnitInline(ScopedTabularInline):
    model = Unit
    form = UnitForm
    fields = ["name", "street_address", "postal_code", "city"]


class OrganisationAdmin(ScopedModelAdmin):
    list_display = ["name", "short_name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name"]
    inlines = [UnitInline, ParticipationInline]
    # The pages add an organisation together with its taking part in the programme; one added here would
    # take part in none, out of every programme admin's sight.
    superuser_only_add = True
    superuser_only_delete = True  # the pages have no way to remove an organisation


class UnitAdmin(ScopedModelAdmin):
    form = UnitForm
    list_display = ["name", "organisation", "city"]
    list_select_related = ["organisation"]
    search_fields = ["name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        # A unit stays with its organisation: its people and sub-units belong to that organisation.
        return ["organisation"] if obj is not None else []


class RoleAssignmentInline(ScopedTabularInline):
    model = RoleAssignment


class MembershipForm(ScopedModelForm):
    def check_instance(self, instance: Model) -> None:
        assert isinstance(instance, Membership)
        if instance.programme_id is None or instance.person_id is None:
            return
        if instance.work_role is not None and instance.work_role.programme_id != instance.programme_id:
            raise ValidationError({"work_role": _("Choose a role at work from this programme's list.")})
        if not Participation.objects.filter(
            programme_id=instance.programme_id, organisation_id=instance.person.organisation_id
        ).exists():
            raise ValidationError({"person": _("This organisation does not take part in the programme.")})


class MembershipAdmin(ScopedModelAdmin):
    form = MembershipForm
    list_display = ["person", "programme", "work_role", "is_active"]
    list_select_related = ["person__user", "programme", "work_role"]
    list_filter = ["programme", "is_active"]
    inlines = [RoleAssignmentInline]
    superuser_only_delete = True  # the pages have no way to end a membership

    # Ending (or, for the platform operator, deleting) a person's last membership here ends their account,
    # as the service does: no path leaves someone signed in after their last membership.
    def save_model(self, request: HttpRequest, obj: Membership, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not obj.is_active:
            accounts.accounts_close_if_unattached(obj.person)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        person = obj.person
        super().delete_model(request, obj)
        accounts.accounts_close_if_unattached(person)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return ["programme", "person"] if obj is not None else []


class PersonForm(ScopedModelForm):
    def check_instance(self, instance: Model) -> None:
        assert isinstance(instance, Person)
        if instance.organisation_id is None:
            return
        check_unit(instance, instance.unit)
        check_line_manager(instance, instance.line_manager)


class PersonAdmin(ScopedModelAdmin):
    form = PersonForm
    list_display = ["full_name", "organisation", "unit", "job_title"]
    list_select_related = ["user", "organisation", "unit"]
    search_fields = ["user__first_name", "user__last_name", "job_title"]
    list_filter = ["organisation"]
    # The pages register a person together with their membership; one added here would belong to no
    # programme, out of every programme admin's sight.
    superuser_only_add = True
    superuser_only_delete = True  # the pages have no way to remove a person

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        # Who the person is (their sign-in) and their employer do not change: the services never move them.
        return ["user", "organisation"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Person, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # As ``person_update``: a new phone number reaches the calendars of the visits that show it.
        if change and isinstance(form, BaseForm) and "phone" in form.changed_data:
            itip.people_changed([obj.pk], ["phone"])

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user" and not request.user.is_superuser:
            # Users are global; offer only those not yet attached to anyone, or already in scope.
            kwargs["queryset"] = User.objects.filter(
                Q(person__isnull=True) | Q(person__in=Person.objects.all())
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


site.register(Programme, ProgrammeAdmin)
site.register(Organisation, OrganisationAdmin)
site.register(Unit, UnitAdmin)
site.register(Person, PersonAdmin)
site.register(Membership, MembershipAdmin)
