"""Invites sent before the calendar reconciler existed are known to it after the migration, so a member who
leaves then gets the cancellation, with a SEQUENCE above the one they hold."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.apps import apps

from coordinator.core.models import CalendarCopy, OutboundEmail
from focusgroups.models import GroupMembership, Meeting
from focusgroups.services import groups

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scope")]
migration = importlib.import_module("focusgroups.migrations.0004_calendar_copies_of_sent_invites")


def test_members_of_meetings_invited_before_the_reconciler_get_their_cancellation(
    group, convener, member_a, as_actor
):
    start = datetime(2030, 3, 12, 9, tzinfo=ZoneInfo("Europe/Stockholm"))
    Meeting.unscoped_objects.create(
        group=group,
        title="Arbetsmöte",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="A",
        sequence=3,
    )

    migration.forwards(apps, None)
    membership = GroupMembership.unscoped_objects.get(group=group, person=member_a, is_active=True)
    groups.membership_remove(actor=as_actor(convener), membership=membership)

    assert CalendarCopy.unscoped_objects.filter(person=convener).values_list("sequence", "method").get() == (
        3,
        "REQUEST",
    )
    [row] = OutboundEmail.unscoped_objects.filter(recipient=member_a).exclude(ics_method="")
    event = icalendar.Calendar.from_ical(row.ics_content).walk("VEVENT")[0]
    assert (row.ics_method, int(event["SEQUENCE"]), str(event["SUMMARY"])) == (
        "CANCEL",
        4,
        "Informationsflödet: Arbetsmöte",
    )
