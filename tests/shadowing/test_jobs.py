"""The periodic jobs of shadowing: request expiry and the host-permission sync, and their registration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from coordinator.core import registry
from coordinator.core.models import Notification
from shadowing import jobs, kinds
from shadowing.models import Placement, ShadowingRequest
from shadowing.services import shadowing_requests
from tests.factories.shadowing import make_request

pytestmark = pytest.mark.django_db
RS = ShadowingRequest.Status


def test_requests_expire_after_the_set_time_and_the_requester_is_told(
    programme, shadower, staff_a, slot_a, make_placement, foreign
):
    now = timezone.now()
    due = make_request(programme, shadower, expires_at=now - timedelta(minutes=1))
    pending_due = make_request(
        programme, staff_a, status=RS.PENDING_APPROVAL, expires_at=now - timedelta(days=1)
    )
    not_yet = make_request(programme, shadower, expires_at=now + timedelta(days=1))
    placed = make_request(programme, shadower, status=RS.PLACED, expires_at=now - timedelta(days=1))
    proposal = make_placement(due, [slot_a], Placement.Status.PROPOSED)
    ShadowingRequest.unscoped_objects.filter(pk=foreign["request"].pk).update(
        expires_at=now - timedelta(days=1)
    )

    assert shadowing_requests.requests_expire(now) == 3

    statuses = dict(ShadowingRequest.unscoped_objects.values_list("pk", "status"))
    assert statuses[due.pk] == statuses[pending_due.pk] == statuses[foreign["request"].pk] == RS.EXPIRED
    assert statuses[not_yet.pk] == RS.APPROVED
    assert statuses[placed.pk] == RS.PLACED
    assert not Placement.unscoped_objects.filter(pk=proposal.pk).exists()
    titles = list(
        Notification.unscoped_objects.filter(recipient=shadower, kind=kinds.KIND_REQUEST).values_list(
            "title", flat=True
        )
    )
    assert titles == ["Your shadowing request has expired"]
    # idempotent: a second sweep finds nothing
    assert shadowing_requests.requests_expire(now) == 0


def test_default_expiry_is_the_setting_in_days(settings, programme, shadower):
    settings.SHADOWING_REQUEST_EXPIRY_DAYS = 10
    request = ShadowingRequest.unscoped_objects.create(
        programme=programme, requester=shadower, organisation=shadower.organisation, learning_goals="x"
    )
    assert abs((request.expires_at - (timezone.now() + timedelta(days=10))).total_seconds()) < 60


def test_jobs_and_kinds_are_registered():
    assert jobs is not None
    assert "shadowing.expire_requests" in registry.periodic_jobs
    # Who edits a workplace is derived from the roles when asked: no job keeps a copy in sync.
    assert "shadowing.sync_host_permissions" not in registry.periodic_jobs
    assert "shadowing" in registry.calendar_providers
    for kind in (
        kinds.KIND_APPROVAL,
        kinds.KIND_REQUEST,
        kinds.KIND_HOSTING,
        kinds.KIND_PLACEMENT,
        kinds.KIND_COORDINATION,
    ):
        assert kind in registry.notification_kinds
