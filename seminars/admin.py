"""Seminars in the programme admins' admin site: read-only, because seats, queues and invites change only
through ``seminars.services`` (an edit here would bypass the seat counter and the calendar updates)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from organisations.access.admin import ScopedModelAdmin, site
from seminars.models import Completion, Course, Enrolment, Round, RoundCost


class ReadOnlyAdmin(ScopedModelAdmin):
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CourseAdmin(ReadOnlyAdmin):
    list_display = ["title", "programme", "completion_rule", "is_archived"]
    list_filter = ["completion_rule", "is_archived"]
    search_fields = ["title"]


class RoundAdmin(ReadOnlyAdmin):
    list_display = ["course", "label", "status", "starts_at", "capacity", "seats_taken"]
    list_filter = ["status"]
    search_fields = ["course__title", "label"]
    list_select_related = ["course"]


class EnrolmentAdmin(ReadOnlyAdmin):
    list_display = ["person", "round", "status", "approval", "requested_at", "end_reason"]
    list_filter = ["status", "approval"]
    search_fields = ["person__user__last_name", "round__course__title"]
    list_select_related = ["person__user", "round__course"]


class CompletionAdmin(ReadOnlyAdmin):
    list_display = ["person", "course", "method", "completed_on"]
    list_filter = ["method"]
    list_select_related = ["person__user", "course"]


class RoundCostAdmin(ReadOnlyAdmin):
    list_display = ["round", "kind", "amount", "note"]
    list_filter = ["kind"]
    list_select_related = ["round__course"]


site.register(Course, CourseAdmin)
site.register(Round, RoundAdmin)
site.register(Enrolment, EnrolmentAdmin)
site.register(Completion, CompletionAdmin)
site.register(RoundCost, RoundCostAdmin)
