from __future__ import annotations

from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from coordinator.core.models import OutboundEmail
from coordinator.core.tenancy import programme_scope
from organisations.models import Person
from seminars.models import Completion, Course, DiscussionGroup, Enrolment, OrganisationQuota, Round

S = Enrolment.Status


def _snapshot():
    return {
        model.__name__: sorted(model.unscoped_objects.values_list("pk", flat=True))
        for model in (Course, Round, Enrolment, Completion, DiscussionGroup, OrganisationQuota, Person)
    } | {"seats": sorted(Round.unscoped_objects.values_list("pk", "seats_taken"))}


def test_demo_data_is_true_to_the_programme_and_idempotent(db):
    call_command("seed_demo", "--quiet")
    first = _snapshot()
    call_command("seed_demo", "--quiet")

    assert _snapshot() == first
    ptsd = Course.unscoped_objects.get(title__startswith="PTSD – att möta")
    advanced = Course.unscoped_objects.get(title__startswith="PTSD fördjupning")
    now = timezone.now()
    past_ptsd = Round.unscoped_objects.filter(course=ptsd, ends_at__lt=now)
    assert past_ptsd.count() == 2
    assert Enrolment.unscoped_objects.filter(round__in=past_ptsd, status=S.CONFIRMED).count() == 65
    assert Round.unscoped_objects.filter(course=ptsd, starts_at__gt=now, status="published").count() == 1
    assert Completion.unscoped_objects.filter(course=advanced).count() == 45
    with programme_scope([ptsd.programme_id]):  # related managers read through the scoped managers
        assert sorted(advanced.target_roles.values_list("code", flat=True)) == [
            "case_officer",
            "counsellor",
            "introduction_secretary",
        ]
        assert list(advanced.prerequisites.all()) == [ptsd]
    # Everyone who completed the advanced part completed the basic one first.
    advanced_people = set(
        Completion.unscoped_objects.filter(course=advanced).values_list("person_id", flat=True)
    )
    basic_people = set(Completion.unscoped_objects.filter(course=ptsd).values_list("person_id", flat=True))
    assert advanced_people <= basic_people

    mapping = Round.unscoped_objects.get(course__title__startswith="Kartläggningsmetodik")
    assert mapping.sessions.model.unscoped_objects.filter(round=mapping).count() == 4
    assert sorted(
        OrganisationQuota.unscoped_objects.filter(round=mapping).values_list("organisation__name", flat=True)
    ) == ["Arbetsförmedlingen", "Malmö stad", "Migrationsverket"]

    kick = Round.unscoped_objects.get(label="Kockumsdagarna")
    confirmed = Enrolment.unscoped_objects.filter(round=kick, status=S.CONFIRMED)
    assert confirmed.count() == 100
    assert confirmed.aggregate(n=Count("organisation", distinct=True))["n"] == 6
    groups = DiscussionGroup.unscoped_objects.filter(round=kick).annotate(
        orgs=Count("members__enrolment__organisation", distinct=True)
    )
    assert groups.count() == 13 and min(g.orgs for g in groups) >= 5

    for round_ in Round.unscoped_objects.all():
        holding = Enrolment.unscoped_objects.filter(round=round_, status__in=Enrolment.SEAT_HOLDING).count()
        assert round_.seats_taken == holding <= round_.capacity
    assert OutboundEmail.unscoped_objects.count() == 0
