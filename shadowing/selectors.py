"""Reads of the shadowing app, already limited to what the actor may see (inside the tenant scope).

The within-programme rules themselves live in ``shadowing.permissions`` (``visible_*_filter``); these
functions add the joins each list needs, so that a list costs a fixed number of queries.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from organisations.permissions import COORDINATING_ROLES, Actor
from shadowing import permissions
from shadowing.models import (
    AvailabilityWindow,
    MatchingRun,
    Placement,
    PlacementDay,
    PlacementEvent,
    Preference,
    Reflection,
    ShadowingRequest,
    Slot,
    Topic,
    Workplace,
)


def workplaces_for(actor: Actor) -> QuerySet[Workplace]:
    """Published workplaces, the actor's own organisation's drafts, and every one for coordinators."""
    return (
        Workplace.objects.filter(permissions.visible_workplaces_filter(actor))
        .select_related("organisation")
        .prefetch_related(Prefetch("topics", queryset=Topic.objects.all()))
        .order_by("name", "pk")
    )


def editable_workplaces(actor: Actor, queryset: QuerySet[Workplace]) -> QuerySet[Workplace]:
    """Narrow a scoped queryset to the workplaces the actor may edit (``permissions.can_edit_workplace``)."""
    return queryset.filter(permissions.editable_workplaces_filter(actor))


def slots_for(actor: Actor) -> QuerySet[Slot]:
    visible = Workplace.objects.filter(permissions.visible_workplaces_filter(actor)).values("pk")
    return Slot.objects.filter(workplace__in=visible).order_by("date", "starts_at", "pk")


def requests_for(actor: Actor) -> QuerySet[ShadowingRequest]:
    """Own requests, those the actor decides on as line manager, and all for coordinators."""
    return (
        ShadowingRequest.objects.filter(permissions.visible_requests_filter(actor))
        .select_related("requester__user")
        .prefetch_related(
            Prefetch("topics", queryset=Topic.objects.all()),
            Prefetch("windows", queryset=AvailabilityWindow.objects.order_by("starts_on", "pk")),
            Prefetch("preferences", queryset=Preference.objects.order_by("rank")),
        )
        .order_by("-submitted_at", "-pk")
    )


def with_placement_joins(queryset: QuerySet[Placement]) -> QuerySet[Placement]:
    return queryset.select_related("request__requester__user", "workplace").prefetch_related(
        Prefetch("days", queryset=PlacementDay.objects.order_by("date", "starts_at", "pk")),
        Prefetch("events", queryset=PlacementEvent.objects.order_by("at", "pk")),
    )


def placements_for(actor: Actor) -> QuerySet[Placement]:
    """The shadower's own, the host's, and all for coordinators (proposals for coordinators only)."""
    return with_placement_joins(
        Placement.objects.filter(permissions.visible_placements_filter(actor))
    ).order_by("-created_at", "-pk")


def runs_for(actor: Actor) -> QuerySet[MatchingRun]:
    """Matching runs of the programmes the actor coordinates, with their proposals."""
    coordinated = actor.programmes_with_role(*COORDINATING_ROLES)
    return (
        MatchingRun.objects.filter(programme_id__in=coordinated)
        .prefetch_related(
            Prefetch("placements", queryset=with_placement_joins(Placement.objects.order_by("pk")))
        )
        .order_by("-created_at", "-pk")
    )


def reflections_for(actor: Actor) -> QuerySet[Reflection]:
    """Own reflections, those of the actor's reports (line managers), and all for coordinators."""
    person = actor.person
    if person is None:
        return Reflection.objects.none()
    coordinated = actor.programmes_with_role(*COORDINATING_ROLES)
    return Reflection.objects.filter(
        Q(placement__request__requester=person)
        | Q(placement__request__requester__line_manager=person)
        | Q(placement__programme_id__in=coordinated)
    ).order_by("-submitted_at", "-pk")
