from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.urls import URLPattern, reverse
from django.utils import timezone

from coordinator.core.tenancy import programme_scope
from focusgroups import hooks
from focusgroups import urls as focusgroup_urls
from focusgroups.models import (
    ActionItem,
    Concept,
    ConceptComment,
    ConceptTerm,
    GroupMembership,
    Meeting,
    Note,
    NoteVersion,
)
from organisations.access.views import ProgrammeMixin
from organisations.models import PlatformRole
from tests.factories import make_member
from tests.factories.focusgroups import (
    ActionFactory,
    ConceptFactory,
    ConceptTermFactory,
    FocusGroupFactory,
    MeetingFactory,
    make_group_member,
    make_note,
)

Role = GroupMembership.Role


def url(name, *args):
    return reverse(f"focusgroups:{name}", args=args)


def test_every_focusgroups_page_is_built_on_the_programme_base():
    for pattern in focusgroup_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        assert issubclass(pattern.callback.view_class, ProgrammeMixin), pattern.name


@pytest.mark.parametrize("name", ["list", "my-actions", "glossary", "group-create"])
def test_anonymous_is_sent_to_sign_in(client, db, name):
    response = client.get(url(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- Who sees what --------------------------------------------------------------------------------------


def test_group_only_note_is_hidden_from_non_members(
    web, group, note, member_a, observer, nonmember, foreign_group
):
    programme_note = make_note(
        group, title="Schema för hösten", body="Alla ses i maj.", visibility="programme"
    )

    # A member and an observer read the group-only note; only the member gets the editor.
    member_page = web(member_a).get(url("note", note.pk))
    observer_page = web(observer).get(url("note", note.pk))
    assert member_page.status_code == observer_page.status_code == 200
    assert b'id="note-form"' in member_page.content
    assert b'id="note-form"' not in observer_page.content
    assert (
        web(observer).post(url("note", note.pk), {"title": "x", "body": "y", "base_version": 1}).status_code
        == 403
    )

    # Outside the group: the note answers like a missing one, and lists leave it out.
    for name in ("note", "note-history"):
        assert web(nonmember).get(url(name, note.pk)).status_code == 404
    group_page = web(nonmember).get(url("group", group.pk)).content.decode()
    notes_page = web(nonmember).get(url("notes", group.pk)).content.decode()
    assert "Rutin för överlämning" not in group_page + notes_page
    assert "Schema för hösten" in group_page and "Schema för hösten" in notes_page
    outside_reader = web(nonmember).get(url("note", programme_note.pk))
    assert outside_reader.status_code == 200
    # Readers outside the group follow a shared note live too, but are not shown who is in the room.
    assert b"focusgroups/notes-editor.js" in member_page.content
    assert b"focusgroups/notes-editor.js" in outside_reader.content
    assert b'id="presence-list"' in member_page.content
    assert b'id="presence-list"' not in outside_reader.content
    assert b'id="note-body-view"' in outside_reader.content
    assert "Fremmed" not in notes_page


def test_other_programmes_group_and_notes_answer_404(web, outsider, group, note, member_a, foreign_group):
    foreign_note = Note.unscoped_objects.filter(group=foreign_group, visibility="public").get()
    assert web(outsider).get(url("group", group.pk)).status_code == 404
    assert web(outsider).get(url("note", note.pk)).status_code == 404
    assert web(member_a).get(url("group", foreign_group.pk)).status_code == 404
    assert web(member_a).get(url("note", foreign_note.pk)).status_code == 404
    listing = web(member_a).get(url("list")).content.decode()
    assert "Informationsflödet" in listing and "Samarbejde" not in listing


def test_group_list_shows_represented_and_missing_organisations(
    web, programme, group, convener, member_a, org_a, org_b
):
    empty = FocusGroupFactory(programme=programme, code="halsa", name="Hälsoperspektivet")
    observer = make_member(programme, org_a, PlatformRole.STAFF)
    make_group_member(empty, observer, Role.OBSERVER)  # an observer does not represent the organisation

    content = web(member_a).get(url("list")).content.decode()

    cards = {card.split("</a>")[0].split(">")[-1]: card for card in content.split("<article")[1:]}
    informationsflodet, halsa = cards["Informationsflödet"], cards["Hälsoperspektivet"]
    assert "Missing" not in informationsflodet and "Every organisation is represented" in informationsflodet
    assert "Missing" in halsa
    assert "✗</span> MV" in halsa and "✗</span> Malmö stad" in halsa


def test_convener_manages_members_and_member_may_not(web, group, convener, member_a, nonmember):
    data = {
        "person": nonmember.pk,
        "role": "member",
        "mandate": "Får besluta om den egna enhetens deltagande.",
        "sent_by": "Lars Pettersson, enhetschef",
    }
    assert web(member_a).post(url("membership-add", group.pk), data).status_code == 403
    missing_mandate = web(convener).post(url("membership-add", group.pk), {**data, "mandate": ""})
    added = web(convener).post(url("membership-add", group.pk), data)

    assert missing_mandate.status_code == 400
    assert b'value="Lars Pettersson, enhetschef"' in missing_mandate.content
    assert added.status_code == 302
    membership = GroupMembership.unscoped_objects.get(group=group, person=nonmember, is_active=True)
    assert (membership.mandate, membership.sent_by) == (data["mandate"], data["sent_by"])
    page = web(convener).get(url("group", group.pk)).content.decode()
    assert "Lars Pettersson, enhetschef" in page

    edited = web(convener).post(
        url("membership-edit", membership.pk), {"role": "observer", "mandate": "Lyssnar.", "sent_by": "Lars"}
    )
    removed = web(convener).post(url("membership-remove", membership.pk))
    assert (edited.status_code, removed.status_code) == (302, 302)
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == ("observer", False)


def test_meeting_forms_keep_input_on_error_and_create_cancel_and_record(web, group, convener, member_a):
    client = web(convener)
    bad = client.post(
        url("meeting-create", group.pk),
        {
            "title": "Planering",
            "starts_at": "2030-03-05T13:00",
            "ends_at": "2030-03-05T15:00",
            "agenda": "Intro",
        },
    )
    good = client.post(
        url("meeting-create", group.pk),
        {
            "title": "Planering",
            "starts_at": "2030-03-05T13:00",
            "ends_at": "2030-03-05T15:00",
            "place": "Stadshuset, rum 3",
            "agenda": "Presentationsrunda\nÖverlämningar: vad fungerar?",
        },
    )
    assert bad.status_code == 400
    assert b"Give a place or an online link." in bad.content
    assert b'value="Planering"' in bad.content
    meeting = Meeting.unscoped_objects.get(group=group)
    assert good.status_code == 302 and good["Location"] == url("meeting", meeting.pk)
    assert meeting.starts_at.isoformat() == "2030-03-05T12:00:00+00:00"  # 13:00 in Stockholm
    assert list(
        meeting.agenda_items.model.unscoped_objects.filter(meeting=meeting).values_list("title", "note")
    ) == [
        ("Presentationsrunda", ""),
        ("Överlämningar", "vad fungerar?"),
    ]
    assert web(member_a).get(url("meeting-cancel", meeting.pk)).status_code == 403
    confirm = client.get(url("meeting-cancel", meeting.pk))
    assert b"data-confirm" not in confirm.content and b"Yes, cancel the meeting" in confirm.content
    assert Meeting.unscoped_objects.get(pk=meeting.pk).status == "scheduled"
    assert client.post(url("meeting-cancel", meeting.pk)).status_code == 302
    assert Meeting.unscoped_objects.get(pk=meeting.pk).status == "cancelled"

    past = MeetingFactory(
        group=group,
        starts_at=timezone.now() - timedelta(days=2),
        ends_at=timezone.now() - timedelta(days=2) + timedelta(hours=2),
    )
    recorded = client.post(
        url("meeting-minutes", past.pk),
        {"minutes": "Alla var där.", "decisions": "Ta fram en checklista.\n\nSes i maj."},
    )
    assert recorded.status_code == 302
    page = web(member_a).get(url("meeting", past.pk)).content.decode()
    assert (
        "Alla var där." in page
        and "<li>Ta fram en checklista.</li>" in page
        and "<li>Ses i maj.</li>" in page
    )


# --- Notes ----------------------------------------------------------------------------------------------


def test_note_create_and_save_through_the_form(web, group, member_a, member_b):
    created = web(member_a).post(
        url("notes", group.pk), {"title": "Checklista", "visibility": "group", "body": "Ett."}
    )
    note = Note.unscoped_objects.get(title="Checklista")
    saved = web(member_b).post(
        url("note", note.pk), {"title": "Checklista", "body": "Ett.\nTvå.", "base_version": 1}
    )

    assert (created.status_code, saved.status_code) == (302, 302)
    note.refresh_from_db()
    assert (note.version, note.body, note.updated_by_id) == (2, "Ett.\nTvå.", member_b.pk)
    assert list(NoteVersion.unscoped_objects.filter(note=note).values_list("version", "author_id")) == [
        (2, member_b.pk),
        (1, member_a.pk),
    ]


def test_stale_save_through_the_form_keeps_both_texts(web, note, member_a, member_b):
    web(member_a).post(
        url("note", note.pk), {"title": note.title, "body": "Rad ett.\nAnnas rad.\n", "base_version": 1}
    )

    response = web(member_b).post(
        url("note", note.pk), {"title": note.title, "body": "Rad ett.\nOmars rad.\n", "base_version": 1}
    )

    assert response.status_code == 409
    content = response.content.decode()
    assert 'id="conflict-current"' in content and "Annas rad." in content
    assert content.count("Omars rad.") == 2  # in the "your text" column and still in the editor
    assert 'name="base_version" value="2"' in content  # saving again builds on the current version
    assert "Anna Berg" in content
    note.refresh_from_db()
    assert (note.version, note.body) == (2, "Rad ett.\nAnnas rad.\n")
    resubmitted = web(member_b).post(
        url("note", note.pk),
        {"title": note.title, "body": "Rad ett.\nAnnas rad.\nOmars rad.\n", "base_version": 2},
    )
    assert resubmitted.status_code == 302
    note.refresh_from_db()
    assert (note.version, note.body) == (3, "Rad ett.\nAnnas rad.\nOmars rad.\n")


def test_bad_note_input_is_a_form_error(web, note, member_a):
    response = web(member_a).post(
        url("note", note.pk), {"title": "", "body": "Behåll mig", "base_version": "x"}
    )
    assert response.status_code == 400
    assert "Behåll mig".encode() in response.content
    note.refresh_from_db()
    assert note.version == 1


def test_history_compare_and_restore(web, note, member_a, member_b, observer):
    web(member_a).post(
        url("note", note.pk), {"title": note.title, "body": "Rad ett.\nRad två.\n", "base_version": 1}
    )
    web(member_b).post(url("note", note.pk), {"title": note.title, "body": "Rad två.\n", "base_version": 2})

    compared = web(member_a).get(url("note-history", note.pk), {"a": 3, "b": 2})
    bad = web(member_a).get(url("note-history", note.pk), {"a": 1, "b": 9})
    confirm = web(member_a).get(url("note-restore", note.pk), {"version": 1})
    observer_confirm = web(observer).get(url("note-restore", note.pk), {"version": 1})
    restored = web(member_a).post(url("note-restore", note.pk), {"version": 1, "base_version": 3})

    content = compared.content.decode()
    assert compared.status_code == 200
    assert (
        '<li class="removed"><del><span class="visually-hidden">Removed: </span>− Rad ett.</del></li>'
        in content
    )
    assert '<li class="">  Rad två.</li>' in content
    assert bad.status_code == 400
    assert confirm.status_code == 200 and b"Restore version 1" in confirm.content
    assert observer_confirm.status_code == 403
    assert restored.status_code == 302
    note.refresh_from_db()
    assert (note.version, note.body) == (4, "Rad ett.\n")
    assert NoteVersion.unscoped_objects.get(note=note, version=4).restored_from == 1


def test_stale_restore_changes_nothing(web, note, member_a):
    web(member_a).post(url("note", note.pk), {"title": note.title, "body": "Nytt.", "base_version": 1})
    response = web(member_a).post(url("note-restore", note.pk), {"version": 1, "base_version": 1})
    assert response.status_code == 302 and response["Location"] == url("note-history", note.pk)
    note.refresh_from_db()
    assert (note.version, note.body) == (2, "Nytt.")


# --- Actions --------------------------------------------------------------------------------------------


def test_actions_create_filter_and_status(web, group, convener, member_a, member_b, nonmember):
    bad = web(member_a).post(
        url("actions", group.pk), {"title": "", "owner": member_b.pk, "description": "Beskriv"}
    )
    created = web(member_a).post(
        url("actions", group.pk),
        {"title": "Skriv checklistan", "owner": member_b.pk, "status": "open", "due_on": "2030-01-10"},
    )
    other_meeting = MeetingFactory(
        group=FocusGroupFactory(programme=group.programme, code="annan", name="Annan")
    )
    foreign_meeting = web(member_a).post(
        url("actions", group.pk),
        {"title": "Fel möte", "owner": member_b.pk, "status": "open", "meeting": other_meeting.pk},
    )
    assert foreign_meeting.status_code == 400
    assert not ActionItem.unscoped_objects.filter(title="Fel möte").exists()
    assert (
        web(nonmember)
        .post(url("actions", group.pk), {"title": "x", "owner": member_b.pk, "status": "open"})
        .status_code
        == 403
    )

    assert bad.status_code == 400 and b"Beskriv" in bad.content
    assert created.status_code == 302
    action = ActionItem.unscoped_objects.get(title="Skriv checklistan")
    assert (action.owner_id, action.organisation_id) == (member_b.pk, member_b.organisation_id)
    assert web(member_a).post(url("action-status", action.pk), {"status": "done"}).status_code == 403
    assert web(member_b).post(url("action-status", action.pk), {"status": "in_progress"}).status_code == 302
    action.refresh_from_db()
    assert action.status == "in_progress"
    mine = web(member_b).get(url("my-actions")).content.decode()
    assert "Skriv checklistan" in mine
    web(member_b).post(url("action-status", action.pk), {"status": "done"})
    assert "Skriv checklistan" not in web(member_b).get(url("my-actions")).content.decode()
    assert "Skriv checklistan" not in web(member_a).get(url("actions", group.pk)).content.decode()
    assert (
        "Skriv checklistan"
        in web(member_a).get(url("actions", group.pk), {"status": "done"}).content.decode()
    )


# --- Glossary -------------------------------------------------------------------------------------------


def test_glossary_concept_terms_and_comments(
    web, programme, member_a, member_b, org_a, org_b, outsider, other_programme
):
    ConceptFactory(programme=other_programme, name="Borger")
    bad = web(member_a).post(url("glossary"), {"name": "", "description": "Vem är kunden?"})
    created = web(member_a).post(url("glossary"), {"name": "Kund", "description": "Vem är kunden?"})
    concept = Concept.unscoped_objects.get(name="Kund")
    term_a = web(member_a).post(
        url("concept", concept.pk), {"action": "term", "term": "sökande", "definition": "Den som har ansökt."}
    )
    term_b = web(member_b).post(
        url("concept", concept.pk), {"action": "term", "term": "brukare", "definition": "Den som får stöd."}
    )
    bad_comment = web(member_b).post(url("concept", concept.pk), {"action": "comment", "body": ""})
    comment = web(member_b).post(
        url("concept", concept.pk), {"action": "comment", "body": "Vi säger klient."}
    )

    assert bad.status_code == 400 and "Vem är kunden?".encode() in bad.content
    assert (created.status_code, term_a.status_code, term_b.status_code, comment.status_code) == (
        302,
        302,
        302,
        302,
    )
    assert bad_comment.status_code == 400
    assert sorted(ConceptTerm.unscoped_objects.values_list("organisation_id", "term")) == sorted(
        [(org_a.pk, "sökande"), (org_b.pk, "brukare")]
    )
    assert ConceptComment.unscoped_objects.get().author_id == member_b.pk
    listing = web(member_a).get(url("glossary")).content.decode()
    assert "sökande" in listing and "brukare" in listing and "Borger" not in listing
    assert web(outsider).get(url("concept", concept.pk)).status_code == 404


# --- Query counts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_group_list_query_count(web, programme, org_a, org_b, convener, n, django_assert_num_queries):
    for i in range(n):
        extra = FocusGroupFactory(programme=programme, code=f"extra-{i}", name=f"Extra {i}")
        make_group_member(extra, make_member(programme, org_a, PlatformRole.STAFF), Role.CONVENER)
    client = web(convener)
    with django_assert_num_queries(6):
        response = client.get(url("list"))
    assert response.content.count(b'class="card group-card"') == n + 1


@pytest.mark.parametrize("n", [1, 3])
def test_group_page_query_count(web, programme, org_a, group, convener, n, django_assert_num_queries):
    for i in range(n):
        person = make_member(programme, org_a, PlatformRole.STAFF)
        make_group_member(group, person, Role.MEMBER)
        MeetingFactory(group=group)
        make_note(group, title=f"Not {i}", author=person)
        ActionFactory(group=group, owner=person)
    client = web(convener)
    with django_assert_num_queries(11):
        response = client.get(url("group", group.pk))
    assert response.status_code == 200
    assert response.content.count(b'/remove/"') == n + 1


@pytest.mark.parametrize("n", [1, 3])
def test_notes_pages_query_count(web, group, note, member_a, n, django_assert_num_queries):
    for i in range(n):
        make_note(group, title=f"Not {i}", author=member_a)
        note.refresh_from_db()
        web(member_a).post(
            url("note", note.pk), {"title": note.title, "body": f"Text {i}", "base_version": note.version}
        )
    client = web(member_a)
    with django_assert_num_queries(6):
        listing = client.get(url("notes", group.pk))
    with django_assert_num_queries(6):
        history = client.get(url("note-history", note.pk), {"a": 1, "b": n + 1})
    with django_assert_num_queries(6):  # the page lists the actions made from the note's lines
        editor = client.get(url("note", note.pk))
    assert listing.content.count(b"/focusgroups/notes/") == n + 1
    assert history.content.count(b'<tr><th scope="row">') == n + 1
    assert editor.status_code == 200


@pytest.mark.parametrize("n", [1, 3])
def test_actions_and_glossary_query_count(
    web, programme, group, org_a, org_b, member_a, member_b, n, django_assert_num_queries
):
    for i in range(n):
        ActionFactory(group=group, owner=member_a)
        concept = ConceptFactory(programme=programme, name=f"Begrepp {i}")
        ConceptTermFactory(concept=concept, organisation=org_a)
        ConceptTermFactory(concept=concept, organisation=org_b)
        ConceptComment.unscoped_objects.create(concept=concept, author=member_b, body=f"Kommentar {i}")
    client = web(member_a)
    with django_assert_num_queries(8):
        actions = client.get(url("actions", group.pk))
    with django_assert_num_queries(4):
        mine = client.get(url("my-actions"))
    with django_assert_num_queries(6):
        glossary = client.get(url("glossary"))
    with django_assert_num_queries(7):
        concept_page = client.get(url("concept", concept.pk))
    assert actions.content.count(b'/status/"') == mine.content.count(b'/status/"') == n
    assert len(re.findall(rb'href="/focusgroups/glossary/\d+/"', glossary.content)) == n
    assert concept_page.status_code == 200


# --- Start page -----------------------------------------------------------------------------------------


def _request(person, programme):
    request = RequestFactory().get("/")
    request.user = person.user
    request.programme = programme
    return request


def test_start_page_panels(
    programme, group, convener, member_a, coordinator, nonmember, org_a, django_assert_num_queries
):
    ActionFactory(group=group, owner=member_a, title="Ring sfi")
    MeetingFactory(group=group, title="Nästa möte")
    with programme_scope([programme.pk]):
        with django_assert_num_queries(4):  # 1 of them builds the actor (cached for the rest of a request)
            mine = hooks._my_groups_panel(_request(member_a, programme))
        lacking = hooks._lacking_panel(_request(coordinator, programme))
        meetings = hooks._meetings_panel(_request(convener, programme))
        assert hooks._lacking_panel(_request(member_a, programme)) is None
        assert hooks._meetings_panel(_request(member_a, programme)) is None
        assert hooks._my_groups_panel(_request(nonmember, programme)) is None
    assert [m.group_id for m in mine["memberships"]] == [group.pk]
    assert [a.title for a in mine["actions"]] == ["Ring sfi"]
    assert lacking == {"lacking": []}
    assert [m.title for m in meetings["meetings"]] == ["Nästa möte"]


def test_home_page_shows_focus_group_panels(web, group, member_a, coordinator):
    ActionFactory(group=group, owner=member_a, title="Ring sfi")
    assert "Ring sfi" in web(member_a).get("/").content.decode()
    # Both organisations sit in the group: the coordinators' panel says so.
    assert b"Focus groups lacking an organisation" in web(coordinator).get("/").content


def test_my_page_history_and_calendar_feed_list_focus_groups(web, group, member_a):
    MeetingFactory(group=group, title="Planeringsmöte")
    history = web(member_a).get("/me/").content.decode()
    feed = web(None).get(reverse("calendar-feed", kwargs={"token": member_a.calendar_token}))

    assert "Informationsflödet" in history
    assert feed.status_code == 200
    assert "SUMMARY:" in feed.content.decode() and "Planeringsmöte" in feed.content.decode()


def test_coordinator_creates_a_group_and_the_convener_edits_it(
    web, programme, group, convener, coordinator, member_a
):
    assert web(member_a).get(url("group-create")).status_code == 403
    duplicate = web(coordinator).post(url("group-create"), {"name": "Informationsflödet", "purpose": "Kvar"})
    created = web(coordinator).post(
        url("group-create"), {"name": "Språkstöd och tolkning", "purpose": "Tolkar."}
    )
    edited = web(convener).post(
        url("group-edit", group.pk), {"name": "Informationsflödet", "purpose": "Nytt syfte."}
    )
    refused = web(member_a).post(url("group-edit", group.pk), {"name": "Kapad", "purpose": ""})

    assert duplicate.status_code == 400 and b"Kvar" in duplicate.content
    new = programme.focus_groups.model.unscoped_objects.get(name="Språkstöd och tolkning")
    assert (created.status_code, created["Location"]) == (302, url("group", new.pk))
    assert new.code == "sprakstod-och-tolkning"
    assert (edited.status_code, refused.status_code) == (302, 403)
    group.refresh_from_db()
    assert (group.name, group.purpose) == ("Informationsflödet", "Nytt syfte.")


@pytest.mark.parametrize("version", ["²", "99999999999999999999", "9223372036854775808", "-1"])
def test_restore_of_a_version_that_is_not_a_number_is_not_found(web, note, member_a, version):
    confirm = web(member_a).get(url("note-restore", note.pk), {"version": version})
    restored = web(member_a).post(url("note-restore", note.pk), {"version": version, "base_version": 1})

    assert (confirm.status_code, restored.status_code) == (404, 404)


def test_meeting_form_refuses_a_title_over_two_lines(web, group, convener, mailoutbox):
    response = web(convener).post(
        url("meeting-create", group.pk),
        {
            "title": "Planering\r\ndel 2",
            "starts_at": "2030-03-05T13:00",
            "ends_at": "2030-03-05T15:00",
            "place": "Stadshuset, rum 3",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["title"] == ["Write this on one line, without control characters."]
    assert (Meeting.unscoped_objects.filter(group=group).count(), len(mailoutbox)) == (0, 0)
