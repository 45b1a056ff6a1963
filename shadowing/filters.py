"""List filters of the shadowing API. Foreign ids are integer filters on the already scoped queryset:
an id the person cannot see simply matches nothing."""

from __future__ import annotations

import django_filters
from django.db.models import F, QuerySet

from coordinator.core.filters import IntegerFilter
from shadowing.models import (
    HostFeedback,
    MatchingRun,
    Placement,
    PlacementCost,
    Reflection,
    ShadowingRequest,
    Slot,
    Topic,
    Workplace,
)


class TopicFilter(django_filters.FilterSet):
    programme = IntegerFilter(field_name="programme")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)

    class Meta:
        model = Topic
        fields: list[str] = []


class WorkplaceFilter(django_filters.FilterSet):
    programme = IntegerFilter(field_name="programme")
    organisation = IntegerFilter(field_name="organisation")
    topic = IntegerFilter(field_name="topics", distinct=True)
    published = django_filters.BooleanFilter(field_name="is_published")
    city = django_filters.CharFilter(field_name="city", lookup_expr="iexact", max_length=100)
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)

    class Meta:
        model = Workplace
        fields: list[str] = []


class SlotFilter(django_filters.FilterSet):
    workplace = IntegerFilter(field_name="workplace")
    organisation = IntegerFilter(field_name="workplace__organisation")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    free = django_filters.BooleanFilter(method="filter_free", label="Only slots with a free place")

    class Meta:
        model = Slot
        fields: list[str] = []

    def filter_free(self, queryset: QuerySet[Slot], name: str, value: bool | None) -> QuerySet[Slot]:
        if value is None:
            return queryset
        return (
            queryset.filter(booked__lt=F("capacity")) if value else queryset.filter(booked__gte=F("capacity"))
        )


class ShadowingRequestFilter(django_filters.FilterSet):
    programme = IntegerFilter(field_name="programme")
    status = django_filters.ChoiceFilter(choices=ShadowingRequest.Status.choices)
    requester = IntegerFilter(field_name="requester")
    organisation = IntegerFilter(field_name="organisation")
    submitted_after = django_filters.IsoDateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    paired = django_filters.BooleanFilter(
        field_name="partner",
        lookup_expr="isnull",
        exclude=True,
        label="Only requests in a reciprocal exchange",
    )

    class Meta:
        model = ShadowingRequest
        fields: list[str] = []


class MatchingRunFilter(django_filters.FilterSet):
    programme = IntegerFilter(field_name="programme")
    status = django_filters.ChoiceFilter(choices=MatchingRun.Status.choices)

    class Meta:
        model = MatchingRun
        fields: list[str] = []


class PlacementFilter(django_filters.FilterSet):
    programme = IntegerFilter(field_name="programme")
    status = django_filters.ChoiceFilter(choices=Placement.Status.choices)
    workplace = IntegerFilter(field_name="workplace")
    request = IntegerFilter(field_name="request")
    run = IntegerFilter(field_name="run")
    date_from = django_filters.DateFilter(field_name="days__date", lookup_expr="gte", distinct=True)
    date_to = django_filters.DateFilter(field_name="days__date", lookup_expr="lte", distinct=True)

    class Meta:
        model = Placement
        fields: list[str] = []


class ReflectionFilter(django_filters.FilterSet):
    placement = IntegerFilter(field_name="placement")

    class Meta:
        model = Reflection
        fields: list[str] = []


class HostFeedbackFilter(django_filters.FilterSet):
    placement = IntegerFilter(field_name="placement")

    class Meta:
        model = HostFeedback
        fields: list[str] = []


class PlacementCostFilter(django_filters.FilterSet):
    programme = IntegerFilter(field_name="programme")
    placement = IntegerFilter(field_name="placement")
    kind = django_filters.ChoiceFilter(choices=PlacementCost.Kind.choices)

    class Meta:
        model = PlacementCost
        fields: list[str] = []
