"""Services of the focus groups: default groups, memberships and their object permissions, meeting invites
(parsed back with icalendar), notes and their versions, actions and notifications."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from coordinator.core.exceptions import Conflict
from coordinator.core.models import Notification, OutboundEmail
from focusgroups import invites, permissions, selectors
from focusgroups.models import FocusGroup, GroupMembership, Meeting, Note, NoteVersion
from focusgroups.services import actions, groups, meetings, notes
from tests.factories.focusgroups import MeetingFactory, make_note

pytestmark = pytest.mark.usefixtures("scope")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _calendars(person, method=None):
    rows = OutboundEmail.unscoped_objects.filter(recipient=person).exclude(ics_method="").order_by("pk")
    if method:
        rows = rows.filter(ics_method=method)
    return [(row, icalendar.Calendar.from_ical(row.ics_content)) for row in rows]


def _event(calendar):
    [event] = calendar.walk("VEVENT")
    return event


# --- Groups and memberships -----------------------------------------------------------------------------


def test_ensure_default_groups_creates_the_six_areas_once(programme, other_programme):
    first = groups.ensure_default_groups(programme)
    again = groups.ensure_default_groups(programme)
    assert [g.pk for g in first] == [g.pk for g in again]
    assert [g.name for g in first] == [
        "Organisationskännedom",
        "Informationsflödet",
        "Målgruppskännedom",
        "Kartläggningsmetodik",
        "Samarbete/samverkan",
        "Hälsoperspektivet/empowerment",
    ]
    assert FocusGroup.unscoped_objects.filter(programme=other_programme).count() == 0
    assert all(g.is_default for g in first)


def test_membership_roles_become_object_permissions(group, convener, nonmember, as_actor):
    membership = groups.membership_add(
        actor=as_actor(convener), group=group, person=nonmember, role="observer", mandate="Lyssnar."
    )
    assert permissions.group_rights(as_actor(nonmember), group) == {"view_focusgroup"}
    groups.membership_update(actor=as_actor(convener), membership=membership, values={"role": "member"})
    assert permissions.group_rights(as_actor(nonmember), group) == {"view_focusgroup", "edit_notes"}
    groups.membership_remove(actor=as_actor(convener), membership=membership)
    assert permissions.group_rights(as_actor(nonmember), group) == frozenset()
    assert list(selectors.my_groups(as_actor(nonmember))) == []


def test_rights_come_with_the_membership_and_go_with_it_at_once(group, convener, nonmember, as_actor):
    """No stored copy of the rights and no job: the check right after the service already answers."""
    note = make_note(group, title="Internt", visibility=Note.Visibility.GROUP)
    user = nonmember.user
    assert not user.has_perm("focusgroups.view_focusgroup", group)

    membership = groups.membership_add(
        actor=as_actor(convener), group=group, person=nonmember, role="member", mandate="Får föreslå."
    )

    assert [user.has_perm(f"focusgroups.{codename}", group) for codename in permissions.ALL_GROUP_RIGHTS] == [
        True,
        True,
        False,
    ]
    assert list(selectors.my_groups(as_actor(nonmember))) == [group]
    assert list(selectors.notes_for(as_actor(nonmember))) == [note]

    groups.membership_remove(actor=as_actor(convener), membership=membership)

    assert [user.has_perm(f"focusgroups.{codename}", group) for codename in permissions.ALL_GROUP_RIGHTS] == [
        False,
        False,
        False,
    ]
    assert list(selectors.my_groups(as_actor(nonmember))) == []
    assert list(selectors.notes_for(as_actor(nonmember))) == []


def test_only_coordinators_appoint_a_convener(group, convener, coordinator, member_a, as_actor):
    membership = GroupMembership.objects.get(group=group, person=member_a)
    with pytest.raises(PermissionDenied):
        groups.membership_update(actor=as_actor(convener), membership=membership, values={"role": "convener"})
    groups.membership_update(actor=as_actor(coordinator), membership=membership, values={"role": "convener"})
    group.refresh_from_db()
    assert group.convener == member_a
    # The previous convener is a member now and lost the right to manage the group.
    assert GroupMembership.objects.get(group=group, person=convener, is_active=True).role == "member"
    assert permissions.group_rights(as_actor(convener), group) == {"view_focusgroup", "edit_notes"}
    assert permissions.group_rights(as_actor(member_a), group) == {
        "view_focusgroup",
        "edit_notes",
        "change_focusgroup",
    }


def test_adding_someone_twice_or_from_outside_is_refused(group, convener, member_a, outsider, as_actor):
    with pytest.raises(ValidationError) as twice:
        groups.membership_add(actor=as_actor(convener), group=group, person=member_a)
    assert list(twice.value.message_dict) == ["person"]
    with pytest.raises(ValidationError) as foreign:
        groups.membership_add(actor=as_actor(convener), group=group, person=outsider)
    assert list(foreign.value.message_dict) == ["person"]


def test_representation_lists_missing_organisations(group, member_a, observer, org_a, org_b):
    shown = selectors.representation(group)
    assert ([o.name for o in shown.represented], [o.name for o in shown.missing]) == (
        ["Migrationsverket"],
        ["Malmö stad"],
    )


# --- Meetings and invites -------------------------------------------------------------------------------


@pytest.fixture
def meeting(group, convener, member_a, member_b, as_actor):
    start = datetime(2030, 3, 12, 9, 0, tzinfo=STOCKHOLM)
    return meetings.meeting_create(
        actor=as_actor(convener),
        group=group,
        values={
            "title": "Arbetsmöte",
            "starts_at": start,
            "ends_at": start + timedelta(hours=2),
            "place": "Stadshuset",
        },
        agenda=[{"title": "Rutin för överlämning", "note": ""}, {"title": "Övrigt"}],
    )


def test_meeting_invites_every_active_member_with_itip_request(
    meeting, convener, member_a, member_b, nonmember
):
    for person in (convener, member_a, member_b):
        [(row, calendar)] = _calendars(person)
        assert (row.ics_method, str(calendar["METHOD"])) == ("REQUEST", "REQUEST")
        event = _event(calendar)
        assert str(event["UID"]) == f"focusgroup-meeting-{meeting.pk}-{person.pk}@samverkan.example"
        assert int(event["SEQUENCE"]) == 0
        assert str(event["SUMMARY"]) == "Informationsflödet: Arbetsmöte"
        assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
        assert event["DTSTART"].dt == datetime(2030, 3, 12, 9, 0, tzinfo=STOCKHOLM)
        assert str(event["LOCATION"]) == "Stadshuset"
        assert str(event["ATTENDEE"]) == f"mailto:{person.user.email}"
        assert "1. Rutin för överlämning" in str(event["DESCRIPTION"])
    assert _calendars(nonmember) == []


def test_meeting_update_resends_with_the_same_uid_and_sequence_plus_one(
    meeting, convener, member_a, as_actor
):
    meetings.meeting_update(actor=as_actor(convener), meeting=meeting, values={"place": "Rådhuset"})
    meetings.meeting_update(
        actor=as_actor(convener), meeting=meeting, values={"place": "Rådhuset"}
    )  # no change
    first, update = _calendars(member_a)
    assert str(_event(first[1])["UID"]) == str(_event(update[1])["UID"])
    assert (int(_event(update[1])["SEQUENCE"]), str(_event(update[1])["LOCATION"])) == (1, "Rådhuset")
    assert update[0].subject.startswith("[Lokalt kompetensutvecklingsprogram Malmö] Updated:")

    meetings.meeting_cancel(actor=as_actor(convener), meeting=meeting)
    [(row, calendar)] = _calendars(member_a, "CANCEL")
    event = _event(calendar)
    assert (str(calendar["METHOD"]), str(event["STATUS"]), int(event["SEQUENCE"])) == (
        "CANCEL",
        "CANCELLED",
        2,
    )
    assert str(event["UID"]) == invites.meeting_uid(meeting.pk, member_a.pk)
    with pytest.raises(ValidationError):
        meetings.meeting_cancel(actor=as_actor(convener), meeting=meeting)


def test_meeting_moved_to_a_past_day_updates_the_calendars_that_hold_it_ahead(
    meeting, convener, member_a, as_actor
):
    start = (
        (timezone.now() - timedelta(days=1))
        .astimezone(STOCKHOLM)
        .replace(hour=13, minute=0, second=0, microsecond=0)
    )

    meetings.meeting_update(
        actor=as_actor(convener),
        meeting=meeting,
        values={"starts_at": start, "ends_at": start + timedelta(hours=2)},
    )

    first, update = _calendars(member_a)
    assert update[0].ics_method == "REQUEST"
    assert str(_event(update[1])["UID"]) == str(_event(first[1])["UID"])
    assert int(_event(update[1])["SEQUENCE"]) == 1
    assert _event(update[1]).decoded("DTSTART") == start
    assert _event(update[1]).decoded("DTEND") == start + timedelta(hours=2)


def test_member_joining_later_gets_the_upcoming_meeting_and_leaving_cancels_it(
    meeting, convener, nonmember, as_actor
):
    membership = groups.membership_add(actor=as_actor(convener), group=meeting.group, person=nonmember)
    assert [r.ics_method for r, _ in _calendars(nonmember)] == ["REQUEST"]
    groups.membership_remove(actor=as_actor(nonmember), membership=membership)  # a member may leave
    assert [r.ics_method for r, _ in _calendars(nonmember)] == ["REQUEST", "CANCEL"]


def test_members_may_not_schedule_meetings(group, member_a, as_actor):
    start = timezone.now() + timedelta(days=2)
    with pytest.raises(PermissionDenied):
        meetings.meeting_create(
            actor=as_actor(member_a),
            group=group,
            values={"title": "x", "starts_at": start, "ends_at": start + timedelta(hours=1), "place": "a"},
        )
    assert Meeting.objects.count() == 0


def test_minutes_notify_the_members(group, convener, member_a, as_actor):
    past = MeetingFactory(
        group=group,
        starts_at=timezone.now() - timedelta(hours=3),
        ends_at=timezone.now() - timedelta(hours=1),
    )
    meetings.meeting_record_minutes(
        actor=as_actor(convener), meeting=past, minutes="Protokoll", decisions=["Beslut 1", " ", "Beslut 2"]
    )
    past.refresh_from_db()
    assert (past.status, [d.text for d in past.decisions.all()]) == ("held", ["Beslut 1", "Beslut 2"])
    assert list(
        Notification.unscoped_objects.filter(kind=meetings.KIND_MEETING).values_list(
            "recipient_id", flat=True
        )
    ) == [member_a.pk]


def test_feed_lists_the_members_meetings_with_the_invite_uid(meeting, member_a, nonmember):
    [event] = invites.feed_events(member_a)
    assert (event.uid, event.sequence) == (invites.meeting_uid(meeting.pk, member_a.pk), 0)
    assert invites.feed_events(nonmember) == []


# --- Notes ----------------------------------------------------------------------------------------------


def test_note_save_keeps_every_version_and_refuses_stale(note, member_a, member_b, as_actor):
    notes.note_update(actor=as_actor(member_a), note=note, body="två", base_version=1)
    stale_copy = Note.objects.get(pk=note.pk)
    notes.note_update(actor=as_actor(member_b), note=stale_copy, body="tre", base_version=2)
    with pytest.raises(Conflict) as stale:
        notes.note_update(actor=as_actor(member_a), note=note, body="fyra", base_version=2)
    assert (stale.value.current.version, stale.value.current.body, stale.value.current.updated_by) == (
        3,
        "tre",
        member_b,
    )
    assert list(NoteVersion.objects.filter(note=note).order_by("version").values_list("version", "body")) == [
        (1, "Rad ett.\n"),
        (2, "två"),
        (3, "tre"),
    ]


def test_stale_update_that_also_changes_visibility_changes_nothing(note, member_a, member_b, as_actor):
    """Text and visibility change in one transaction: with the old two services (visibility committed
    first, then the text refused as stale) the note became readable programme-wide although the save was
    refused."""
    read_by_a = Note.objects.get(pk=note.pk)
    notes.note_update(actor=as_actor(member_b), note=note, body="Omars text", base_version=1)

    with pytest.raises(Conflict) as conflict:
        notes.note_update(
            actor=as_actor(member_a),
            note=read_by_a,
            base_version=1,
            body="Annas text",
            visibility=Note.Visibility.PROGRAMME,
        )

    assert conflict.value.current.version == 2
    stored = Note.unscoped_objects.get(pk=note.pk)
    assert (stored.version, stored.body, stored.visibility) == (2, "Omars text", Note.Visibility.GROUP)
    assert NoteVersion.objects.filter(note=note).count() == 2


def test_visibility_change_on_the_current_version_keeps_the_text_version(note, member_a, as_actor):
    notes.note_update(actor=as_actor(member_a), note=note, base_version=1, visibility=Note.Visibility.PUBLIC)
    stored = Note.unscoped_objects.get(pk=note.pk)
    assert (stored.version, stored.body, stored.visibility) == (1, "Rad ett.\n", Note.Visibility.PUBLIC)
    assert NoteVersion.objects.filter(note=note).count() == 1


def test_unchanged_save_writes_no_version(note, member_a, as_actor):
    notes.note_update(actor=as_actor(member_a), note=note, body="Rad ett.\n", base_version=1)
    assert NoteVersion.objects.filter(note=note).count() == 1


def test_restore_is_a_new_version_equal_to_the_old(note, member_a, as_actor):
    notes.note_update(actor=as_actor(member_a), note=note, body="två", title="Ny titel", base_version=1)
    restored = notes.note_restore(actor=as_actor(member_a), note=note, version=1, base_version=2)
    assert (restored.version, restored.body, restored.title) == (3, "Rad ett.\n", "Rutin för överlämning")
    with pytest.raises(ValidationError):
        notes.note_restore(actor=as_actor(member_a), note=note, version=7, base_version=3)


def test_compare_versions_diffs_lines(note, member_a, as_actor):
    notes.note_update(actor=as_actor(member_a), note=note, body="Rad ett.\nRad två.\n", base_version=1)
    diff = selectors.compare_versions(note, 1, 2)
    assert diff is not None
    assert diff.unified == ["--- v1", "+++ v2", "@@ -1 +1,2 @@", " Rad ett.", "+Rad två."]
    assert '<span class="diff_add">Rad&nbsp;två.</span>' in diff.html_table()


def test_compare_table_escapes_the_text(note, member_a, as_actor):
    notes.note_update(actor=as_actor(member_a), note=note, body="<script>x</script>", base_version=1)
    table = selectors.compare_versions(note, 1, 2).html_table()  # type: ignore[union-attr]
    assert ("<script>" in table, "&lt;script&gt;" in table) == (False, True)


def test_group_notes_are_read_by_members_only(group, note, member_a, observer, nonmember, as_actor):
    public = make_note(group, title="Öppen", visibility=Note.Visibility.PUBLIC)
    assert list(selectors.notes_for(as_actor(observer)).order_by("pk")) == [note, public]
    assert list(selectors.notes_for(as_actor(nonmember))) == [public]
    assert selectors.public_notes_for(as_actor(nonmember)) == [public]
    with pytest.raises(PermissionDenied):
        notes.note_update(actor=as_actor(observer), note=note, body="x", base_version=1)
    with pytest.raises(PermissionDenied):
        notes.note_create(actor=as_actor(nonmember), group=group, title="x")


# --- Actions --------------------------------------------------------------------------------------------


def test_assigned_action_notifies_the_owner_and_shows_among_open_actions(group, member_a, member_b, as_actor):
    action = actions.action_create(
        actor=as_actor(member_a),
        group=group,
        owner=member_b,
        values={"title": "Skriv rutinen", "due_on": None},
    )
    [notification] = Notification.unscoped_objects.filter(kind=actions.KIND_ACTION)
    assert (notification.recipient_id, notification.title) == (
        member_b.pk,
        "New action for you in Informationsflödet: Skriv rutinen",
    )
    assert selectors.open_actions_for(member_b) == [action]
    actions.action_update(actor=as_actor(member_b), action=action, values={"status": "done"})
    assert selectors.open_actions_for(member_b) == []


def test_an_invite_for_a_meeting_titled_over_two_lines_is_sent_not_retried(
    meeting, convener, nonmember, as_actor, django_capture_on_commit_callbacks, mailoutbox
):
    # A title saved before titles were checked (written straight to the database).
    Meeting.unscoped_objects.filter(pk=meeting.pk).update(title="Arbetsmöte\ndel 2")

    with django_capture_on_commit_callbacks(execute=True):
        groups.membership_add(actor=as_actor(convener), group=meeting.group, person=nonmember)

    [(row, calendar)] = _calendars(nonmember)
    assert (row.status, row.attempts, row.last_error) == (OutboundEmail.Status.SENT, 1, "")
    assert row.subject == (
        "[Lokalt kompetensutvecklingsprogram Malmö] Invitation: Informationsflödet: Arbetsmöte del 2, "
        "12 Mar 2030, 09:00–11:00"
    )
    assert row.subject in [m.subject for m in mailoutbox]
    assert str(_event(calendar)["SUMMARY"]) == "Informationsflödet: Arbetsmöte\ndel 2"


def test_a_meeting_title_with_a_line_break_is_refused(meeting, convener, as_actor):
    with pytest.raises(ValidationError) as refused:
        meetings.meeting_update(
            actor=as_actor(convener), meeting=meeting, values={"title": "Arbetsmöte\ndel 2"}
        )

    assert refused.value.message_dict == {"title": ["Write this on one line, without control characters."]}
    assert Meeting.unscoped_objects.get(pk=meeting.pk).title == "Arbetsmöte"
