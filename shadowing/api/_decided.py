"""A request a line manager decides on, read as ``get_object()`` reads it, with the SQL of that read
compiled once per database connection and reader: building and compiling the viewset's queryset (the
reader's visibility, the scope, the request's topics, windows and wishes) was most of a decision's
processor time after its queries."""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.query import MAX_GET_RESULTS

from coordinator.core import shapes
from coordinator.core.prepared import KeyedPreparedQuery
from coordinator.core.tenancy import active_programme_ids
from organisations.access.api import ProgrammeScopedViewSet
from shadowing.models import ShadowingRequest

DECIDED = KeyedPreparedQuery[ShadowingRequest](stand_in=-987_654_321)
# The largest id read this way; another (or a malformed one) goes DRF's way and answers as it does.
LARGEST_ID = 2**31 - 1


def decided_object(view: ProgrammeScopedViewSet) -> ShadowingRequest:
    """``view.get_object()`` of a decision. The key holds everything the queryset is built from but the id
    (the reader's rights, ``coordinator.core.shapes.shape_key``; the programme scope; the action; the
    query string, language and time zone). What it reads and refuses is ``get_object()``'s: a missing,
    foreign or malformed id takes that path and answers as it does."""
    value = str(view.kwargs.get(view.lookup_url_kwarg or view.lookup_field, ""))
    query_string = view.request.META.get("QUERY_STRING", "")
    # The actor's memberships are a dict of what the protocol reads (its Mapping is invariant in the value).
    reader = shapes.shape_key(view, query_string, {}, view.actor, None)  # type: ignore[arg-type]
    if reader is None or not (value.isascii() and value.isdigit()) or int(value) > LARGEST_ID:
        return view.get_object()  # type: ignore[no-any-return]

    def build(pk: int | str) -> QuerySet[ShadowingRequest]:
        # What ``get_object()`` and ``QuerySet.get()`` make of the viewset's queryset.
        queryset = view.filter_queryset(view.get_queryset()).filter(pk=pk)
        if queryset.query.can_filter() and not queryset.query.distinct_fields:
            queryset = queryset.order_by()
        return queryset[:MAX_GET_RESULTS]  # type: ignore[no-any-return]

    found = DECIDED.fetch((view.action, reader, active_programme_ids()), build, int(value))
    if found is None or len(found) != 1:
        return view.get_object()  # type: ignore[no-any-return]
    view.check_object_permissions(view.request, found[0])
    return found[0]
