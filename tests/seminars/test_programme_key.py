"""Tenant rows below a round, a session or a group carry their programme's key themselves: it is copied from
the parent when a row is saved, and the scoped manager isolates the rows by it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from coordinator.core.tenancy import TenantModel, programme_scope
from organisations.models import Person, PlatformRole, Programme
from seminars.models import (
    Attendance,
    DeepTenantModel,
    DiscussionGroup,
    DiscussionGroupMember,
    Enrolment,
    InviteSequence,
    OrganisationQuota,
    Round,
    RoundCost,
    Session,
)
from tests.factories.seminars import QuotaFactory, RoundCostFactory, SessionFactory, make_enrolment

pytestmark = pytest.mark.django_db

DEEP_MODELS = [
    Session,
    OrganisationQuota,
    Enrolment,
    Attendance,
    InviteSequence,
    RoundCost,
    DiscussionGroup,
    DiscussionGroupMember,
]


def _rows_below(round_: Round, person: Person) -> list[DeepTenantModel]:
    """A row of every deep tenant model under ``round_``, each saved the ordinary way (no programme given)."""
    session = SessionFactory(round=round_)
    enrolment = make_enrolment(round_, person)
    quota = QuotaFactory(round=round_, organisation=person.organisation)
    attendance = Attendance.unscoped_objects.create(enrolment=enrolment, session=session, present=True)
    sequence = InviteSequence.unscoped_objects.create(
        person=person, session=session, sequence=1, last_method="REQUEST", last_sent_at=timezone.now()
    )
    cost = RoundCostFactory(round=round_)
    group = DiscussionGroup.unscoped_objects.create(round=round_, number=1, name="Grupp 1")
    group_member = DiscussionGroupMember.unscoped_objects.create(group=group, enrolment=enrolment)
    return [session, quota, enrolment, attendance, sequence, cost, group, group_member]


def test_no_seminars_tenant_row_is_scoped_through_more_than_one_join() -> None:
    tenant_models = [
        model for model in apps.get_app_config("seminars").get_models() if issubclass(model, TenantModel)
    ]

    assert [m for m in tenant_models if m.tenant_path.count("__") > 1] == []
    assert sorted(m.__name__ for m in tenant_models if issubclass(m, DeepTenantModel)) == sorted(
        m.__name__ for m in DEEP_MODELS
    )
    assert {m.tenant_path for m in DEEP_MODELS} == {"programme"}


def test_deep_rows_take_the_programme_of_their_parent(
    round_: Round, people_a: Callable[[int], list[Person]]
) -> None:
    [person] = people_a(1)

    rows = _rows_below(round_, person)

    assert [type(row) for row in rows] == DEEP_MODELS
    for row in rows:
        row.refresh_from_db()
        parent: Any = getattr(row, row.programme_parent)
        parent_programme_id = parent.course.programme_id if isinstance(parent, Round) else parent.programme_id
        assert (type(row).__name__, row.programme_id) == (type(row).__name__, parent_programme_id)
        assert row.programme_id == round_.course.programme_id


def test_scoped_manager_isolates_deep_rows_by_their_programme_key(
    programme: Programme,
    round_: Round,
    other_round: Round,
    people_a: Callable[[int], list[Person]],
    org_other: Any,
    member: Callable[..., Person],
) -> None:
    [person] = people_a(1)
    mine = _rows_below(round_, person)
    theirs = _rows_below(other_round, member(other_round.course.programme, org_other, PlatformRole.STAFF))

    with programme_scope([programme.pk]):
        visible = {model.__name__: set(model.objects.values_list("pk", flat=True)) for model in DEEP_MODELS}

    assert {row.programme_id for row in theirs} == {other_round.course.programme_id}
    assert visible == {type(row).__name__: {row.pk} for row in mine}
