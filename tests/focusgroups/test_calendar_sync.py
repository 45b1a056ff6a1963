"""Members who leave and rejoin a group: SEQUENCE only rises, and the wording says what happened to them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from coordinator.core.models import OutboundEmail
from focusgroups.models import GroupMembership
from focusgroups.services import groups, meetings
from organisations.permissions import actor_for
from organisations.services.people_import import people_import

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scope")]
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def meeting(group, convener, member_a, as_actor):
    start = datetime(2030, 3, 12, 9, 0, tzinfo=STOCKHOLM)
    return meetings.meeting_create(
        actor=as_actor(convener),
        group=group,
        values={
            "title": "Arbetsmöte",
            "starts_at": start,
            "ends_at": start + timedelta(hours=2),
            "place": "A",
        },
    )


def _sent(person):
    rows = OutboundEmail.unscoped_objects.filter(recipient=person).exclude(ics_method="").order_by("pk")
    return [(row, icalendar.Calendar.from_ical(row.ics_content).walk("VEVENT")[0]) for row in rows]


def test_removal_and_readding_raise_the_sequence_and_say_what_happened(
    group, meeting, convener, member_a, as_actor
):
    membership = GroupMembership.unscoped_objects.get(group=group, person=member_a, is_active=True)
    groups.membership_remove(actor=as_actor(convener), membership=membership)
    groups.membership_add(actor=as_actor(convener), group=group, person=member_a)

    sent = _sent(member_a)
    assert [(row.ics_method, int(e["SEQUENCE"])) for row, e in sent] == [
        ("REQUEST", 0),
        ("CANCEL", 1),
        ("REQUEST", 2),
    ]
    assert len({str(e["UID"]) for _row, e in sent}) == 1
    removal = sent[1][0]
    assert removal.subject.startswith(
        f"[{group.programme.name}] No longer in your calendar: Informationsflödet"
    )
    assert "You no longer take part, so the event has been removed from your calendar." in removal.body_text
    assert "cancelled" not in removal.body_text
    # The convener's copy is untouched by someone else's membership.
    assert [(row.ics_method, int(e["SEQUENCE"])) for row, e in _sent(convener)] == [("REQUEST", 0)]


def test_renamed_group_updates_the_members_meetings(group, meeting, convener, member_a, as_actor):
    groups.group_update(actor=as_actor(convener), group=group, values={"name": "Informationsflöde"})

    assert [(row.ics_method, str(e["SUMMARY"]), int(e["SEQUENCE"])) for row, e in _sent(member_a)] == [
        ("REQUEST", "Informationsflödet: Arbetsmöte", 0),
        ("REQUEST", "Informationsflöde: Arbetsmöte", 1),
    ]


def test_name_changed_by_the_people_import_updates_the_members_meeting(
    programme, programme_admin, meeting, convener, member_a, django_capture_on_commit_callbacks
):
    data = f"E-post;Förnamn;Efternamn;Organisation\r\n{member_a.user.email};Anna;Lindqvist;MV\r\n".encode()

    with django_capture_on_commit_callbacks(execute=True):
        report = people_import(
            actor=actor_for(programme_admin.user), programme=programme, data=data, dry_run=False
        )

    assert [row.outcome for row in report.rows] == ["update"]
    sent = _sent(member_a)
    assert [(row.ics_method, int(e["SEQUENCE"])) for row, e in sent] == [("REQUEST", 0), ("REQUEST", 1)]
    assert str(sent[1][1]["UID"]) == str(sent[0][1]["UID"])
    assert (str(sent[1][1]["ATTENDEE"]), sent[1][1]["ATTENDEE"].params["CN"]) == (
        f"mailto:{member_a.user.email}",
        "Anna Lindqvist",
    )
    assert [int(e["SEQUENCE"]) for _row, e in _sent(convener)] == [0]
