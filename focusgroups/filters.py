"""List filters of the focus-groups API. Foreign ids are integer filters on the already scoped
queryset: an id the person cannot see simply matches nothing."""

from __future__ import annotations

import django_filters

from coordinator.core.filters import IntegerFilter
from focusgroups.models import ActionItem, Concept, FocusGroup, GroupMembership, Meeting, Note


class FocusGroupFilter(django_filters.FilterSet):
    programme = IntegerFilter(field_name="programme")
    is_default = django_filters.BooleanFilter(field_name="is_default")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)

    class Meta:
        model = FocusGroup
        fields: list[str] = []


class MembershipFilter(django_filters.FilterSet):
    group = IntegerFilter(field_name="group")
    person = IntegerFilter(field_name="person")
    organisation = IntegerFilter(field_name="organisation")
    role = django_filters.ChoiceFilter(choices=GroupMembership.Role.choices)
    is_active = django_filters.BooleanFilter(field_name="is_active")

    class Meta:
        model = GroupMembership
        fields: list[str] = []


class MeetingFilter(django_filters.FilterSet):
    group = IntegerFilter(field_name="group")
    status = django_filters.ChoiceFilter(choices=Meeting.Status.choices)
    starts_after = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Meeting
        fields: list[str] = []


class NoteFilter(django_filters.FilterSet):
    group = IntegerFilter(field_name="group")
    meeting = IntegerFilter(field_name="meeting")
    is_minutes = django_filters.BooleanFilter(field_name="meeting", lookup_expr="isnull", exclude=True)
    visibility = django_filters.ChoiceFilter(choices=Note.Visibility.choices)
    search = django_filters.CharFilter(field_name="title", lookup_expr="icontains", max_length=100)

    class Meta:
        model = Note
        fields: list[str] = []


class ActionFilter(django_filters.FilterSet):
    group = IntegerFilter(field_name="group")
    owner = IntegerFilter(field_name="owner")
    organisation = IntegerFilter(field_name="organisation")
    meeting = IntegerFilter(field_name="meeting")
    status = django_filters.MultipleChoiceFilter(choices=ActionItem.Status.choices)
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")

    class Meta:
        model = ActionItem
        fields: list[str] = []


class ConceptFilter(django_filters.FilterSet):
    programme = IntegerFilter(field_name="programme")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)
    organisation = IntegerFilter(field_name="terms__organisation", distinct=True)

    class Meta:
        model = Concept
        fields: list[str] = []
