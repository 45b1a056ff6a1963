from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q
from django.http import HttpRequest

from organisations.access.admin import ScopedModelAdmin, ScopedTabularInline, site
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


class FunderInline(ScopedTabularInline):
    model = Funder


class WorkRoleInline(ScopedTabularInline):
    model = WorkRole


class ParticipationInline(ScopedTabularInline):
    model = Participation


class ProgrammeAdmin(ScopedModelAdmin):
    list_display = ["name", "slug", "language", "time_zone"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [FunderInline, WorkRoleInline, ParticipationInline]
    superuser_only_add = True
    superuser_only_delete = True


class UnitInline(ScopedTabularInline):
    model = Unit
    fields = ["name", "street_address", "postal_code", "city"]


class OrganisationAdmin(ScopedModelAdmin):
    list_display = ["name", "short_name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name"]
    inlines = [UnitInline, ParticipationInline]
    superuser_only_delete = True  # the pages have no way to remove an organisation


class UnitAdmin(ScopedModelAdmin):
    list_display = ["name", "organisation", "city"]
    list_select_related = ["organisation"]
    search_fields = ["name"]


class RoleAssignmentInline(ScopedTabularInline):
    model = RoleAssignment


class MembershipAdmin(ScopedModelAdmin):
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


class PersonAdmin(ScopedModelAdmin):
    list_display = ["full_name", "organisation", "unit", "job_title"]
    list_select_related = ["user", "organisation", "unit"]
    search_fields = ["user__first_name", "user__last_name", "job_title"]
    list_filter = ["organisation"]
    superuser_only_delete = True  # the pages have no way to remove a person

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
