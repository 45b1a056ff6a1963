"""List filters of the seminars API. Foreign ids are integer filters on the already scoped queryset: an
id the person cannot see simply matches nothing."""

from __future__ import annotations

import django_filters

from coordinator.core.filters import IntegerFilter
from seminars.models import (
    Completion,
    Course,
    DiscussionGroup,
    Enrolment,
    OrganisationQuota,
    Round,
    RoundCost,
    Session,
)


class CourseFilter(django_filters.FilterSet):
    programme = IntegerFilter(field_name="programme")
    provider = IntegerFilter(field_name="providers", distinct=True)
    target_role = IntegerFilter(field_name="target_roles", distinct=True)
    archived = django_filters.BooleanFilter(field_name="is_archived")
    search = django_filters.CharFilter(field_name="title", lookup_expr="icontains", max_length=100)

    class Meta:
        model = Course
        fields: list[str] = []


class RoundFilter(django_filters.FilterSet):
    course = IntegerFilter(field_name="course")
    programme = IntegerFilter(field_name="course__programme")
    status = django_filters.ChoiceFilter(choices=Round.Status.choices)
    starts_after = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Round
        fields: list[str] = []


class SessionFilter(django_filters.FilterSet):
    round = IntegerFilter(field_name="round")
    course = IntegerFilter(field_name="round__course")

    class Meta:
        model = Session
        fields: list[str] = []


class QuotaFilter(django_filters.FilterSet):
    round = IntegerFilter(field_name="round")

    class Meta:
        model = OrganisationQuota
        fields: list[str] = []


class EnrolmentFilter(django_filters.FilterSet):
    round = IntegerFilter(field_name="round")
    course = IntegerFilter(field_name="round__course")
    person = IntegerFilter(field_name="person")
    organisation = IntegerFilter(field_name="organisation")
    status = django_filters.MultipleChoiceFilter(choices=Enrolment.Status.choices)
    approval = django_filters.ChoiceFilter(choices=Enrolment.Approval.choices)

    class Meta:
        model = Enrolment
        fields: list[str] = []


class CompletionFilter(django_filters.FilterSet):
    person = IntegerFilter(field_name="person")
    course = IntegerFilter(field_name="course")
    round = IntegerFilter(field_name="round")

    class Meta:
        model = Completion
        fields: list[str] = []


class GroupFilter(django_filters.FilterSet):
    round = IntegerFilter(field_name="round")

    class Meta:
        model = DiscussionGroup
        fields: list[str] = []


class CostFilter(django_filters.FilterSet):
    round = IntegerFilter(field_name="round")
    course = IntegerFilter(field_name="round__course")
    kind = django_filters.ChoiceFilter(choices=RoundCost.Kind.choices)

    class Meta:
        model = RoundCost
        fields: list[str] = []
