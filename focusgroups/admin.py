"""Focus groups in the programme admins' admin site: read-only, because memberships, notes and meetings
change only through ``focusgroups.services`` (an edit here would bypass the rights checks, the note
versions and the calendar updates)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from focusgroups.models import ActionItem, Concept, FocusGroup, GroupMembership, Meeting, Note
from focusgroups.permissions import readable_notes_filter
from organisations.access.admin import ScopedModelAdmin, site
from organisations.permissions import actor_for


class ReadOnlyAdmin(ScopedModelAdmin):
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FocusGroupAdmin(ReadOnlyAdmin):
    list_display = ["name", "programme", "code", "convener", "is_default"]
    list_filter = ["is_default"]
    search_fields = ["name", "code"]
    list_select_related = ["programme", "convener__user"]


class GroupMembershipAdmin(ReadOnlyAdmin):
    list_display = ["person", "group", "role", "organisation", "is_active", "joined_at"]
    list_filter = ["role", "is_active"]
    search_fields = ["person__user__last_name", "group__name"]
    list_select_related = ["person__user", "group", "organisation"]


class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["title", "group", "starts_at", "status", "sequence"]
    list_filter = ["status"]
    search_fields = ["title", "group__name"]
    list_select_related = ["group"]


class NoteAdmin(ReadOnlyAdmin):
    list_display = ["title", "group", "visibility", "version", "updated_at"]
    list_filter = ["visibility"]
    search_fields = ["title", "group__name"]
    list_select_related = ["group"]

    def narrow_queryset(self, request: HttpRequest, queryset: QuerySet[Model]) -> QuerySet[Model]:
        # Programme admins read group-only notes only of groups they are in, as on the pages and the API.
        return queryset.filter(readable_notes_filter(actor_for(request.user)))


class ActionItemAdmin(ReadOnlyAdmin):
    list_display = ["title", "group", "owner", "organisation", "due_on", "status"]
    list_filter = ["status"]
    search_fields = ["title"]
    list_select_related = ["group", "owner__user", "organisation"]


class ConceptAdmin(ReadOnlyAdmin):
    list_display = ["name", "programme", "created_at"]
    search_fields = ["name"]
    list_select_related = ["programme"]


site.register(FocusGroup, FocusGroupAdmin)
site.register(GroupMembership, GroupMembershipAdmin)
site.register(Meeting, MeetingAdmin)
site.register(Note, NoteAdmin)
site.register(ActionItem, ActionItemAdmin)
site.register(Concept, ConceptAdmin)
