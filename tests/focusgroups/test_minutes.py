"""A meeting's minutes as a live note of its group: started with the meeting, written by the members (readers
of the programme read them), recorded by the convener or coordinators into the live document with a version
check, kept as versions, with actions from a line linked to the meeting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from coordinator.core.exceptions import Conflict
from coordinator.core.models import Notification
from focusgroups import permissions
from focusgroups.models import ActionItem, Decision, GroupMembership, Meeting, Note, NoteVersion
from focusgroups.services import actions, documents, groups, meetings, notes
from tests.factories.focusgroups import MeetingFactory
from tests.focusgroups.replica import Replica

pytestmark = [pytest.mark.django_db]

URL = "/api/v1/focusgroups"


def _past(group: Any, **values: Any) -> Meeting:
    start = timezone.now() - timedelta(hours=3)
    meeting: Meeting = MeetingFactory(
        group=group, starts_at=start, ends_at=start + timedelta(hours=2), **values
    )
    return meeting


def _minutes(meeting: Meeting) -> Note:
    return Note.unscoped_objects.get(meeting=meeting)


def _versions(note: Note) -> list[tuple[int, str, list[str]]]:
    rows = NoteVersion.unscoped_objects.filter(note=note).order_by("version")
    return [(v.version, v.body, sorted(p.full_name for p in v.authors.all())) for v in rows]


# --- Services ---------------------------------------------------------------------------------------------


def test_a_new_meeting_starts_its_minutes_read_by_the_programme(scope, group, convener, as_actor):
    start = timezone.now() + timedelta(days=3)
    meeting = meetings.meeting_create(
        actor=as_actor(convener),
        group=group,
        values={
            "title": "Arbetsmöte",
            "starts_at": start,
            "ends_at": start + timedelta(hours=2),
            "place": "A",
        },
    )

    note = _minutes(meeting)
    assert (note.group_id, note.title, note.visibility, note.body, note.version, meeting.minutes) == (
        group.pk,
        "Minnesanteckningar: Arbetsmöte",
        "programme",
        "",
        1,
        "",
    )
    assert _versions(note) == [(1, "", ["Karin Ek"])]


def test_renaming_the_meeting_renames_its_minutes(scope, group, convener, as_actor):
    meeting = MeetingFactory(group=group, title="Arbetsmöte")
    meetings.minutes_note(meeting)

    meetings.meeting_update(actor=as_actor(convener), meeting=meeting, values={"title": "Uppföljning"})

    assert _minutes(meeting).title == "Minnesanteckningar: Uppföljning"


def test_members_write_the_minutes_live_and_recording_merges_the_convener_s_text(
    scope, group, convener, member_a, member_b, as_actor
):
    meeting = _past(group)
    note = meetings.minutes_note(meeting)
    replica = Replica()
    replica.apply(
        documents.encode(
            documents.document_sync(actor=as_actor(member_a), note=note, state_vector=b"\x00")[0]
        )
    )
    documents.document_apply(
        actor=as_actor(member_a), note=note, update=replica.edit(0, "Närvarande: alla.\n")
    )
    documents.document_apply(
        actor=as_actor(member_b), note=note, update=replica.edit(len(str(replica)), "Punkt 1: rutinen.\n")
    )

    meetings.meeting_record_minutes(
        actor=as_actor(convener),
        meeting=meeting,
        minutes="Närvarande: alla.\nPunkt 1: rutinen antogs.\n",
        decisions=["Anta rutinen"],
        base_version=3,
    )

    meeting = Meeting.unscoped_objects.get(pk=meeting.pk)
    assert (meeting.status, meeting.minutes, _minutes(meeting).version) == (
        "held",
        "Närvarande: alla.\nPunkt 1: rutinen antogs.\n",
        4,
    )
    assert _versions(note)[-1] == (
        4,
        "Närvarande: alla.\nPunkt 1: rutinen antogs.\n",
        ["Anna Berg", "Karin Ek", "Omar Said"],
    )
    assert list(Decision.unscoped_objects.filter(meeting=meeting).values_list("text", flat=True)) == [
        "Anta rutinen"
    ]
    told = Notification.unscoped_objects.filter(kind=meetings.KIND_MEETING).values_list(
        "recipient_id", flat=True
    )
    assert sorted(told) == sorted([member_a.pk, member_b.pk])


def test_recording_without_a_text_keeps_the_live_minutes_as_they_stand(
    scope, group, convener, member_a, as_actor
):
    meeting = _past(group)
    note = meetings.minutes_note(meeting)
    notes.note_update(actor=as_actor(member_a), note=note, base_version=1, body="Skrivet under mötet.\n")

    meetings.meeting_record_minutes(actor=as_actor(convener), meeting=meeting, minutes=None, decisions=[])

    assert Meeting.unscoped_objects.get(pk=meeting.pk).minutes == "Skrivet under mötet.\n"
    assert [(v, body) for v, body, _ in _versions(note)] == [(1, ""), (2, "Skrivet under mötet.\n")]


def test_recording_on_a_stale_version_is_refused_and_writes_nothing(
    scope, group, convener, member_a, as_actor
):
    meeting = _past(group)
    note = meetings.minutes_note(meeting)
    notes.note_update(actor=as_actor(member_a), note=note, base_version=1, body="Annas rad.\n")

    with pytest.raises(Conflict):
        meetings.meeting_record_minutes(
            actor=as_actor(convener), meeting=meeting, minutes="Min text.\n", decisions=["X"], base_version=1
        )

    meeting = Meeting.unscoped_objects.get(pk=meeting.pk)
    assert (meeting.status, meeting.minutes, _minutes(meeting).version) == ("scheduled", "Annas rad.\n", 2)
    assert Decision.unscoped_objects.filter(meeting=meeting).count() == 0


@pytest.mark.parametrize(
    ("minutes", "field"),
    [("x" * 100_001, "minutes"), (17, "minutes")],
)
def test_recording_bad_minutes_is_a_field_error_and_writes_nothing(
    scope, group, convener, as_actor, minutes, field
):
    meeting = _past(group)

    with pytest.raises(ValidationError) as refused:
        meetings.meeting_record_minutes(
            actor=as_actor(convener), meeting=meeting, minutes=minutes, decisions=[]
        )

    assert list(refused.value.message_dict) == [field]
    assert Meeting.unscoped_objects.get(pk=meeting.pk).status == "scheduled"


def test_who_reads_and_who_writes_the_minutes(
    scope, group, convener, member_a, observer, nonmember, outsider, as_actor
):
    note = meetings.minutes_note(_past(group))

    rights = {
        person.user.first_name: (
            permissions.can_read_note(as_actor(person), note),
            permissions.can_edit_note(as_actor(person), note),
        )
        for person in (convener, member_a, observer, nonmember, outsider)
    }
    assert rights == {
        "Karin": (True, True),
        "Anna": (True, True),
        "Olle": (True, False),
        "Nils": (True, False),
        outsider.user.first_name: (False, False),
    }
    with pytest.raises(PermissionDenied):
        documents.document_apply(actor=as_actor(nonmember), note=note, update=Replica().edit(0, "Nej"))
    with pytest.raises(PermissionDenied):
        meetings.meeting_record_minutes(
            actor=as_actor(member_a), meeting=note.meeting, minutes="x", decisions=[]
        )
    assert _minutes(note.meeting).body == ""


def test_a_removed_member_no_longer_writes_the_minutes(scope, group, convener, member_a, as_actor):
    note = meetings.minutes_note(_past(group))
    membership = GroupMembership.unscoped_objects.get(group=group, person=member_a, is_active=True)
    groups.membership_remove(actor=as_actor(convener), membership=membership)

    with pytest.raises(PermissionDenied):
        documents.document_apply(actor=as_actor(member_a), note=note, update=Replica().edit(0, "Sent"))
    assert _minutes(note.meeting).version == 1


def test_the_minutes_stay_readable_by_the_programme(scope, group, member_a, as_actor):
    note = meetings.minutes_note(_past(group))

    with pytest.raises(ValidationError) as refused:
        notes.note_update(actor=as_actor(member_a), note=note, base_version=1, visibility="group")

    assert list(refused.value.message_dict) == ["visibility"]
    assert _minutes(note.meeting).visibility == "programme"


def test_an_action_from_a_line_of_the_minutes_is_agreed_at_the_meeting(scope, group, member_a, as_actor):
    meeting, other = _past(group), _past(group)
    note = meetings.minutes_note(meeting)

    action = actions.action_create(
        actor=as_actor(member_a),
        group=group,
        owner=member_a,
        values={"title": "Skriv checklistan", "note": note, "note_line": "- [ ] Skriv checklistan"},
    )
    with pytest.raises(ValidationError) as refused:
        actions.action_create(
            actor=as_actor(member_a),
            group=group,
            owner=member_a,
            values={"title": "Annat", "note": note, "note_line": "rad", "meeting": other},
        )

    assert (action.meeting_id, action.note_id, action.note_line) == (
        meeting.pk,
        note.pk,
        "- [ ] Skriv checklistan",
    )
    assert list(refused.value.message_dict) == ["meeting"]
    assert ActionItem.unscoped_objects.filter(group=group).count() == 1


# --- Pages ------------------------------------------------------------------------------------------------


def test_the_meeting_page_mounts_the_live_editor_for_members_and_reads_for_the_programme(
    web, group, member_a, nonmember, outsider
):
    meeting = _past(group)

    as_member = web(member_a).get(reverse("focusgroups:meeting", args=[meeting.pk]))
    as_reader = web(nonmember).get(reverse("focusgroups:meeting", args=[meeting.pk]))
    as_outsider = web(outsider).get(reverse("focusgroups:meeting", args=[meeting.pk]))

    note = _minutes(meeting)
    member_page, reader_page = as_member.content.decode(), as_reader.content.decode()
    assert (as_member.status_code, as_reader.status_code, as_outsider.status_code) == (200, 200, 404)
    assert f'data-note="{note.pk}"' in member_page and 'data-can-edit="true"' in member_page
    assert f'action="/focusgroups/notes/{note.pk}/"' in member_page and "notes-editor.js" in member_page
    assert 'data-can-edit="false"' in reader_page and 'id="note-form"' not in reader_page
    assert 'id="note-body-view"' in reader_page


def test_the_minutes_form_without_javascript_saves_with_its_version_check(web, group, member_a, member_b):
    meeting = _past(group)
    web(member_a).get(reverse("focusgroups:meeting", args=[meeting.pk]))
    note = _minutes(meeting)
    target = reverse("focusgroups:note", args=[note.pk])

    saved = web(member_a).post(target, {"title": note.title, "body": "Annas rad.\n", "base_version": 1})
    stale = web(member_b).post(target, {"title": note.title, "body": "Omars rad.\n", "base_version": 1})

    assert (saved.status_code, saved["Location"]) == (302, f"/focusgroups/meetings/{meeting.pk}/#minutes")
    assert stale.status_code == 409 and "Omars rad." in stale.content.decode()
    assert (_minutes(meeting).body, _minutes(meeting).version) == ("Annas rad.\n", 2)


def test_recording_page_on_stale_minutes_shows_both_texts_and_saves_the_merge(
    web, group, convener, member_a, as_actor, scope
):
    meeting = _past(group)
    page = web(convener).get(reverse("focusgroups:meeting-minutes", args=[meeting.pk]))
    note = _minutes(meeting)
    notes.note_update(actor=as_actor(member_a), note=note, base_version=1, body="Annas rad.\n")
    target = reverse("focusgroups:meeting-minutes", args=[meeting.pk])

    stale = web(convener).post(target, {"minutes": "Min rad.\n", "decisions": "", "base_version": 1})
    merged = web(convener).post(
        target, {"minutes": "Annas rad.\nMin rad.\n", "decisions": "", "base_version": 2}
    )

    content = stale.content.decode()
    assert page.status_code == 200 and 'name="base_version" value="1"' in page.content.decode()
    assert stale.status_code == 409 and 'name="base_version" value="2"' in content
    assert "Min rad." in content and "Annas rad." in content
    assert merged.status_code == 302
    assert Meeting.unscoped_objects.get(pk=meeting.pk).minutes == "Annas rad.\nMin rad.\n"


def test_minutes_are_not_listed_among_the_group_s_notes(web, group, member_a, note):
    meeting = _past(group, title="Arbetsmöte")
    web(member_a).get(reverse("focusgroups:meeting", args=[meeting.pk]))

    listed = web(member_a).get(reverse("focusgroups:notes", args=[group.pk])).content.decode()
    group_page = web(member_a).get(reverse("focusgroups:group", args=[group.pk])).content.decode()

    assert "Rutin för överlämning" in listed and "Minnesanteckningar: Arbetsmöte" not in listed
    assert "Minnesanteckningar: Arbetsmöte" not in group_page


# --- API --------------------------------------------------------------------------------------------------


def test_api_records_minutes_merged_and_answers_a_stale_if_match_with_412(
    api, group, convener, member_a, scope
):
    meeting = _past(group)
    note = meetings.minutes_note(meeting)
    notes.note_update(actor=_actor(member_a), note=note, base_version=1, body="Annas rad.\n")
    path = f"{URL}/meetings/{meeting.pk}/minutes/"

    stale = api(convener).post(path, {"minutes": "Skrivet över."}, format="json", HTTP_IF_MATCH='"1"')
    read = api(convener).get(f"{URL}/meetings/{meeting.pk}/")
    merged = api(convener).post(
        path, {"minutes": "Annas rad.\nBeslut.\n"}, format="json", HTTP_IF_MATCH='"2"'
    )
    as_is = api(convener).post(path, {"decisions": ["Ses i maj"]}, format="json")

    assert (stale.status_code, stale["ETag"], stale.json()["current_version"]) == (412, '"2"', 2)
    assert (read.json()["minutes"], read.json()["minutes_note"], read.json()["minutes_version"]) == (
        "Annas rad.\n",
        note.pk,
        2,
    )
    assert (merged.status_code, merged.json()["minutes"], merged.json()["status"]) == (
        200,
        "Annas rad.\nBeslut.\n",
        "held",
    )
    assert (as_is.status_code, as_is.json()["minutes"], as_is.json()["decisions"]) == (
        200,
        "Annas rad.\nBeslut.\n",
        ["Ses i maj"],
    )


def _actor(person: Any) -> Any:
    from organisations.permissions import actor_for, forget_actor

    forget_actor(person.user)
    return actor_for(person.user)


@pytest.mark.parametrize(
    "payload",
    [
        {"minutes": ["inte text"]},
        {"minutes": "x" * 100_001},
        {"minutes": "ok", "unknown": 1},
        {"decisions": "inte en lista"},
    ],
)
def test_api_bad_minutes_are_400_and_nothing_is_recorded(api, group, convener, payload):
    meeting = _past(group)

    answer = api(convener).post(f"{URL}/meetings/{meeting.pk}/minutes/", payload, format="json")

    assert answer.status_code == 400
    assert Meeting.unscoped_objects.get(pk=meeting.pk).status == "scheduled"


def test_api_minutes_rights_and_isolation(api, group, member_a, nonmember, outsider, foreign_group):
    meeting = _past(group)
    foreign = _past(foreign_group)
    path = f"{URL}/meetings/{meeting.pk}/minutes/"

    answers = (
        api(member_a).post(path, {"minutes": "x"}, format="json").status_code,
        api(nonmember).post(path, {"minutes": "x"}, format="json").status_code,
        api(outsider).post(path, {"minutes": "x"}, format="json").status_code,
        api(member_a).get(f"{URL}/meetings/{foreign.pk}/").status_code,
        api(outsider)
        .post(f"{URL}/meetings/{foreign.pk}/minutes/", {"minutes": "x"}, format="json")
        .status_code,
    )

    assert answers == (403, 403, 404, 404, 200)
    assert Meeting.unscoped_objects.get(pk=meeting.pk).minutes == ""
    ids = {row["id"] for row in api(outsider).get(f"{URL}/notes/?is_minutes=true").json()["results"]}
    assert ids == {Note.unscoped_objects.get(meeting=foreign).pk}


def test_api_note_write_to_the_minutes_merges_and_keeps_if_match(api, group, member_a, member_b, scope):
    meeting = _past(group)
    note = meetings.minutes_note(meeting)
    path = f"{URL}/notes/{note.pk}/"

    first = api(member_a).patch(path, {"body": "Rad A.\n"}, format="json", HTTP_IF_MATCH='"1"')
    stale = api(member_b).patch(path, {"body": "Rad B.\n"}, format="json", HTTP_IF_MATCH='"1"')
    merged = api(member_b).patch(path, {"body": "Rad A.\nRad B.\n"}, format="json")
    hidden = api(member_a).patch(path, {"visibility": "group"}, format="json")

    assert (first.status_code, stale.status_code, merged.status_code, hidden.status_code) == (
        200,
        412,
        200,
        400,
    )
    assert (merged.json()["meeting"], Meeting.unscoped_objects.get(pk=meeting.pk).minutes) == (
        meeting.pk,
        "Rad A.\nRad B.\n",
    )
