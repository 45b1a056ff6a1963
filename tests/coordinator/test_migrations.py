"""Data migrations of the coordinator app, run forward over rows written before them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from coordinator.core.models import NotificationPreference

BEFORE_INVITE_CHOICES_DROPPED = [("coordinator", "0007_personal_stamp")]


@pytest.mark.django_db(transaction=True)
def test_stored_calendar_invite_choices_are_dropped_and_other_choices_kept(staff_a, staff_b):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_INVITE_CHOICES_DROPPED)
    old_apps = executor.loader.project_state(BEFORE_INVITE_CHOICES_DROPPED).apps
    stored = old_apps.get_model("coordinator", "NotificationPreference")._base_manager
    stored.create(person_id=staff_a.pk, kind="calendar.invite", email_enabled=False)
    stored.create(person_id=staff_b.pk, kind="calendar.invite", email_enabled=True)
    stored.create(person_id=staff_a.pk, kind="seminars.enrolment", email_enabled=False)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert list(
        NotificationPreference.unscoped_objects.order_by("pk").values_list(
            "person_id", "kind", "email_enabled"
        )
    ) == [(staff_a.pk, "seminars.enrolment", False)]
