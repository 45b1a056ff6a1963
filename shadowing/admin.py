"""Job shadowing in the programme admins' admin site: read-only, because slot seats, placements, their
events and calendar invites change only through ``shadowing.services`` (an edit here would bypass the seat
counter, the workflow's checks and the invites)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from organisations.access.admin import ScopedModelAdmin, site
from shadowing.models import MatchingRun, Placement, PlacementCost, ShadowingRequest, Slot, Topic, Workplace


class ReadOnlyAdmin(ScopedModelAdmin):
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TopicAdmin(ReadOnlyAdmin):
    list_display = ["name", "programme"]
    search_fields = ["name"]
    list_select_related = ["programme"]


class WorkplaceAdmin(ReadOnlyAdmin):
    list_display = ["name", "organisation", "city", "max_visitors_per_day", "is_published"]
    list_filter = ["is_published"]
    search_fields = ["name", "city", "organisation__name"]
    list_select_related = ["organisation"]


class SlotAdmin(ReadOnlyAdmin):
    list_display = ["workplace", "date", "starts_at", "ends_at", "capacity", "booked"]
    search_fields = ["workplace__name"]
    list_select_related = ["workplace"]
    date_hierarchy = "date"


class ShadowingRequestAdmin(ReadOnlyAdmin):
    list_display = ["requester", "organisation", "status", "days", "submitted_at", "expires_at"]
    list_filter = ["status"]
    search_fields = ["requester__user__last_name", "requester__user__first_name"]
    list_select_related = ["requester__user", "organisation"]


class MatchingRunAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "status", "placed", "requests_considered", "objective", "bound", "gap"]
    list_filter = ["status"]


class PlacementAdmin(ReadOnlyAdmin):
    list_display = ["request", "workplace", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["request__requester__user__last_name", "workplace__name"]
    list_select_related = ["request__requester__user", "workplace"]


class PlacementCostAdmin(ReadOnlyAdmin):
    list_display = ["placement", "kind", "amount", "note"]
    list_filter = ["kind"]
    list_select_related = ["placement__request__requester__user", "placement__workplace"]


site.register(Topic, TopicAdmin)
site.register(Workplace, WorkplaceAdmin)
site.register(Slot, SlotAdmin)
site.register(ShadowingRequest, ShadowingRequestAdmin)
site.register(MatchingRun, MatchingRunAdmin)
site.register(Placement, PlacementAdmin)
site.register(PlacementCost, PlacementCostAdmin)
