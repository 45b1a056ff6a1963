"""Factories of the shadowing app. Slots start free; ``make_request`` creates a request with its windows
and preferences in one call, approved by default (the state the matcher works on)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time, timedelta
from typing import Any

import factory
from django.utils import timezone

from organisations.models import Organisation, Person, Programme
from shadowing.models import AvailabilityWindow, Preference, ShadowingRequest, Slot, Topic, Workplace
from tests.factories import TenantFactory

__all__ = ["SlotFactory", "TopicFactory", "WorkplaceFactory", "future_weekday", "make_request"]


def future_weekday(weekday: int = 1, weeks_ahead: int = 2) -> date:
    """A date ``weeks_ahead`` weeks from now on the given weekday (0 = Monday): always in the future."""
    today = timezone.localdate()
    start = today + timedelta(weeks=weeks_ahead)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


class TopicFactory(TenantFactory):
    class Meta:
        model = Topic

    name = factory.Sequence(lambda n: f"Ämne {n}")


class WorkplaceFactory(TenantFactory):
    """A published workplace; pass ``programme``, ``organisation`` and ``contact`` (a person of it)."""

    class Meta:
        model = Workplace
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Arbetsplats {n}")
    street_address = "Storgatan 1"
    postal_code = "211 20"
    city = "Malmö"
    description = "Du följer handläggarnas arbete under en dag."
    languages = factory.LazyFunction(lambda: ["sv", "en"])
    max_visitors_per_day = 3
    confidentiality_terms = "Tystnadsplikt gäller allt du ser och hör."
    is_published = True

    @factory.post_generation
    def topics(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if extracted:
            self.topics.set(extracted)


class SlotFactory(TenantFactory):
    class Meta:
        model = Slot

    date = factory.LazyFunction(future_weekday)
    starts_at = time(9, 0)
    ends_at = time(15, 0)
    capacity = 1


def make_request(
    programme: Programme,
    requester: Person,
    *,
    status: str = ShadowingRequest.Status.APPROVED,
    days: int = 1,
    consecutive: bool = False,
    windows: Sequence[tuple[date, date]] | None = None,
    preferences: Sequence[Organisation | Workplace] = (),
    topics: Sequence[Topic] = (),
    languages: Sequence[str] = (),
    **kwargs: Any,
) -> ShadowingRequest:
    """A request with its windows (default: the coming eight weeks) and ranked preferences."""
    request = ShadowingRequest.unscoped_objects.create(
        programme=programme,
        requester=requester,
        organisation_id=requester.organisation_id,
        learning_goals="Förstå hur asylprocessen går till.",
        days=days,
        consecutive=consecutive,
        languages=list(languages),
        status=status,
        **kwargs,
    )
    today = timezone.localdate()
    for starts_on, ends_on in windows or [(today + timedelta(days=1), today + timedelta(weeks=8))]:
        AvailabilityWindow.unscoped_objects.create(request=request, starts_on=starts_on, ends_on=ends_on)
    for rank, target in enumerate(preferences, start=1):
        if isinstance(target, Workplace):
            Preference.unscoped_objects.create(request=request, rank=rank, workplace=target)
        else:
            Preference.unscoped_objects.create(request=request, rank=rank, organisation=target)
    if topics:
        request.topics.set(topics)
    return request
