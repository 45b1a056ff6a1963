"""List filters. Foreign ids are integer filters on the already scoped queryset: an id the person
cannot see simply matches nothing (model-choice filters would bake in a queryset at import time)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from coordinator.core.filters import IntegerFilter
from organisations.models import (
    Invitation,
    Organisation,
    OrganisationKind,
    Person,
    PlatformRole,
    Unit,
    WorkRole,
)


class OrganisationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrganisationKind.choices)
    programme = IntegerFilter(field_name="participations__programme", distinct=True)
    search = django_filters.CharFilter(method="filter_search", max_length=100)

    class Meta:
        model = Organisation
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(Q(name__icontains=value) | Q(short_name__icontains=value))


class UnitFilter(django_filters.FilterSet):
    organisation = IntegerFilter(field_name="organisation")
    parent = IntegerFilter(field_name="parent")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)

    class Meta:
        model = Unit
        fields: list[str] = []


class WorkRoleFilter(django_filters.FilterSet):
    programme = IntegerFilter(field_name="programme")

    class Meta:
        model = WorkRole
        fields: list[str] = []


class PersonFilter(django_filters.FilterSet):
    organisation = IntegerFilter(field_name="organisation")
    unit = IntegerFilter(field_name="unit")
    line_manager = IntegerFilter(field_name="line_manager")
    programme = IntegerFilter(field_name="memberships__programme", distinct=True)
    work_role = IntegerFilter(field_name="memberships__work_role", distinct=True)
    role = django_filters.ChoiceFilter(
        choices=PlatformRole.choices, field_name="memberships__role_assignments__role", distinct=True
    )
    search = django_filters.CharFilter(method="filter_search", max_length=100)

    class Meta:
        model = Person
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(
            Q(user__first_name__icontains=value)
            | Q(user__last_name__icontains=value)
            | Q(job_title__icontains=value)
        )


class InvitationFilter(django_filters.FilterSet):
    programme = IntegerFilter(field_name="programme")
    person = IntegerFilter(field_name="person")
    status = django_filters.ChoiceFilter(choices=Invitation.Status.choices)

    class Meta:
        model = Invitation
        fields: list[str] = []
