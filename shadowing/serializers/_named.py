"""The rows a new visit request names (its programme and the workplaces it wishes for), read in one query
before its fields are validated: reading each by its id as its field does was three queries for the usual
request (a programme and two workplaces)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db.models import Model, QuerySet

from coordinator.core.prepared import ScopedPreparedQuery
from organisations.access.api import ScopedPrimaryKeyRelatedField
from organisations.models import Programme
from shadowing.models import Workplace

if TYPE_CHECKING:
    from django.db.models.base import ModelBase

# The context key under which a serializer's fields find the rows read for them.
NAMED = "named_rows"
# Ids read this way (an AutoField's range); anything else goes the field's own way.
LARGEST_ID = 2**31 - 1
MOST_WISHES = 5
Named = dict[tuple["ModelBase", int], Model]


def _workplaces(count: int) -> ScopedPreparedQuery[Workplace, Workplace]:
    def build(programme: int, *workplaces: int) -> QuerySet[Workplace, Workplace]:
        # In the reader's scope (the scoped manager): a row outside it is not read, as its field refuses it.
        return Workplace.objects.filter(pk__in=workplaces, programme_id=programme).select_related("programme")

    return ScopedPreparedQuery(build, stand_ins=tuple(-(2**62) + 4_101 + n for n in range(count + 1)))


# Per number of workplaces named, their read with the programme, compiled once per connection and scope.
_WORKPLACES = {count: _workplaces(count) for count in range(1, MOST_WISHES + 1)}


def named_rows(data: object) -> Named:
    """The programme and workplaces a request's body names by plain integer ids, read in one query: the
    workplaces of that programme among those named, each with the programme. Found rows are what their
    fields would read (``NamedRowField``); an id not found, not a plain integer or out of range is left to
    its field, which reads and refuses it as before. Nothing when the body names no workplace."""
    if not isinstance(data, Mapping):
        return {}
    programme = data.get("programme")
    wishes = data.get("preferences")
    if type(programme) is not int or not 0 < programme <= LARGEST_ID or not isinstance(wishes, list):
        return {}
    named = {wish.get("workplace") for wish in wishes[: MOST_WISHES + 1] if isinstance(wish, Mapping)}
    ids = sorted(pk for pk in named if type(pk) is int and 0 < pk <= LARGEST_ID)
    if not ids or len(ids) > MOST_WISHES:
        return {}
    found = _WORKPLACES[len(ids)].fetch(programme, *ids)
    rows: Named = {(Workplace, workplace.pk): workplace for workplace in found}
    if found:
        rows[(Programme, programme)] = found[0].programme
    return rows


class NamedRowField(ScopedPrimaryKeyRelatedField):
    """A foreign id whose row may have been read already with the others the body names (``named_rows``, in
    the serializer's context): that row is taken as it is (a plain integer id of a row in scope, which the
    field would read and accept the same); anything else goes the field's own way."""

    def to_internal_value(self, data: object) -> Model:
        named: Named | None = self.context.get(NAMED)
        if named and type(data) is int:
            row = named.get((self.scoped_model, data))
            if row is not None:
                return row
        return super().to_internal_value(data)
