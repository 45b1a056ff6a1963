"""Factories of the seminars app. Rounds are published with registration open by default, and
``seats_taken`` is kept in step by ``make_enrolment``, so tests start from consistent seat counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.db.models import F
from django.utils import timezone

from organisations.models import Person
from seminars.models import (
    Completion,
    Course,
    Enrolment,
    OrganisationQuota,
    Round,
    RoundCost,
    Session,
)
from tests.factories import TenantFactory
from tests.factories.organisations import ProgrammeFactory

__all__ = [
    "CompletionFactory",
    "CourseFactory",
    "QuotaFactory",
    "RoundCostFactory",
    "RoundFactory",
    "SessionFactory",
    "make_enrolment",
]


class CourseFactory(TenantFactory):
    """A course; pass ``providers``, ``target_roles`` and ``prerequisites`` as lists for its relations."""

    class Meta:
        model = Course
        skip_postgeneration_save = True

    programme = factory.SubFactory(ProgrammeFactory)
    title = factory.Sequence(lambda n: f"Kurs {n}")
    description = "Gemensam utbildning för personal som möter nyanlända."
    language = "sv"
    completion_rule = Course.CompletionRule.ATTENDANCE

    @factory.post_generation
    def providers(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if extracted:
            self.providers.set(extracted)

    @factory.post_generation
    def target_roles(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if extracted:
            self.target_roles.set(extracted)

    @factory.post_generation
    def prerequisites(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if extracted:
            self.prerequisites.set(extracted)


class RoundFactory(TenantFactory):
    """A published round whose registration is open now; add sessions with ``SessionFactory``."""

    class Meta:
        model = Round

    course = factory.SubFactory(CourseFactory)
    label = factory.Sequence(lambda n: f"Omgång {n}")
    capacity = 20
    registration_opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=7))
    registration_closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=20))
    cancellation_deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(days=25))
    status = Round.Status.PUBLISHED
    offer_hold_hours = 48


class SessionFactory(TenantFactory):
    """A day of a round, 30 days ahead by default; keeps the round's start and end dates in step."""

    class Meta:
        model = Session

    round = factory.SubFactory(RoundFactory)
    title = ""
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + timedelta(days=30)).replace(hour=8, minute=0, second=0, microsecond=0)
    )
    ends_at = factory.LazyAttribute(lambda s: s.starts_at + timedelta(hours=7))
    place = "Röda korsets behandlingscenter, Fredsgatan 3, Malmö"

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Session:
        session = super()._create(model_class, *args, **kwargs)
        round_ = session.round
        sessions = Session.unscoped_objects.filter(round=round_)
        round_.starts_at = min(s.starts_at for s in sessions)
        round_.ends_at = max(s.ends_at for s in sessions)
        Round.unscoped_objects.filter(pk=round_.pk).update(starts_at=round_.starts_at, ends_at=round_.ends_at)
        return session


class QuotaFactory(TenantFactory):
    class Meta:
        model = OrganisationQuota

    round = factory.SubFactory(RoundFactory)
    reserved = 0
    maximum = None


class CompletionFactory(TenantFactory):
    class Meta:
        model = Completion

    method = Completion.Method.ATTENDANCE
    completed_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=60))


class RoundCostFactory(TenantFactory):
    class Meta:
        model = RoundCost

    round = factory.SubFactory(RoundFactory)
    kind = RoundCost.Kind.VENUE
    amount = "10000.00"


def make_enrolment(
    round_: Round, person: Person, status: str = Enrolment.Status.CONFIRMED, **kwargs: Any
) -> Enrolment:
    """An enrolment created directly (no invites), with the round's seat counter kept in step."""
    now = timezone.now()
    values: dict[str, Any] = {"requested_at": now, "organisation_id": person.organisation_id}
    if status == Enrolment.Status.CONFIRMED:
        values["confirmed_at"] = now
    if status == Enrolment.Status.OFFERED:
        values["offered_at"] = now
        values["hold_expires_at"] = now + timedelta(hours=48)
    values.update(kwargs)
    enrolment = Enrolment.unscoped_objects.create(round=round_, person=person, status=status, **values)
    if status in Enrolment.SEAT_HOLDING:
        Round.unscoped_objects.filter(pk=round_.pk).update(seats_taken=F("seats_taken") + 1)
        round_.refresh_from_db(fields=["seats_taken"])
    return enrolment
