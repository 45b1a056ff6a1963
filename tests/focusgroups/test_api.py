"""The focus-groups API: note visibility, If-Match rules, versions, isolation from the other programme and
bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from focusgroups.models import ActionItem, Concept, GroupMembership, Meeting, Note, NoteVersion
from tests.factories.focusgroups import ConceptFactory, ConceptTermFactory, MeetingFactory, make_note

pytestmark = pytest.mark.django_db

URL = "/api/v1/focusgroups"


def _ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


# --- Notes: who reads what --------------------------------------------------------------------------------


def test_notes_group_only_are_invisible_to_non_members(api, group, member_a, nonmember, foreign_group):
    group_note = make_note(group, title="Intern", visibility=Note.Visibility.GROUP)
    programme_note = make_note(group, title="Programmet", visibility=Note.Visibility.PROGRAMME)
    public_note = make_note(group, title="Alla", visibility=Note.Visibility.PUBLIC)

    assert _ids(api(member_a).get(f"{URL}/notes/")) == sorted(
        [group_note.pk, programme_note.pk, public_note.pk]
    )
    assert _ids(api(nonmember).get(f"{URL}/notes/")) == sorted([programme_note.pk, public_note.pk])
    assert api(nonmember).get(f"{URL}/notes/{group_note.pk}/").status_code == 404
    assert api(nonmember).get(f"{URL}/notes/{group_note.pk}/versions/").status_code == 404
    assert api(nonmember).get(f"{URL}/notes/{programme_note.pk}/").status_code == 200


def test_notes_of_the_other_programme_never_show(api, group, member_a, foreign_group, outsider):
    foreign_ids = list(Note.unscoped_objects.filter(group=foreign_group).values_list("pk", flat=True))
    assert len(foreign_ids) == 3
    assert _ids(api(member_a).get(f"{URL}/notes/")) == []
    for pk in foreign_ids:
        assert api(member_a).get(f"{URL}/notes/{pk}/").status_code == 404
    assert _ids(api(outsider).get(f"{URL}/notes/")) == sorted(foreign_ids)


@pytest.mark.parametrize("count", [1, 3])
def test_notes_list_query_count_is_fixed(api, group, member_a, django_assert_num_queries, count):
    for i in range(count):
        make_note(group, title=f"Anteckning {i}", author=member_a)
    client = api(member_a)
    client.get(f"{URL}/notes/")  # warm the actor cache of the client's user
    # The rooms the reader sits in are a subquery of the note query (the one note-reading rule).
    with django_assert_num_queries(2):
        assert len(_ids(client.get(f"{URL}/notes/"))) == count


# --- Notes: If-Match ------------------------------------------------------------------------------------


def test_note_get_has_the_version_as_etag(api, member_a, note):
    response = api(member_a).get(f"{URL}/notes/{note.pk}/")
    assert (response.status_code, response["ETag"], response.json()["version"]) == (200, '"1"', 1)
    assert response.json()["can_edit"] is True


def test_note_update_without_if_match_is_merged_into_the_live_text(api, member_a, member_b, note):
    """A REST write without If-Match is not refused: the difference to the current text is applied."""
    live = api(member_b).patch(
        f"{URL}/notes/{note.pk}/", {"body": "Rad ett.\nRad två.\n"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert live.status_code == 200
    response = api(member_a).patch(f"{URL}/notes/{note.pk}/", {"body": "Rad 1.\nRad två.\n"}, format="json")
    assert (response.status_code, response["ETag"], response.json()["body"]) == (
        200,
        '"3"',
        "Rad 1.\nRad två.\n",
    )
    stored = Note.unscoped_objects.get(pk=note.pk)
    assert (stored.version, stored.body) == (3, "Rad 1.\nRad två.\n")


def test_note_update_with_old_version_is_412_with_the_current(api, member_a, member_b, note):
    ok = api(member_b).patch(f"{URL}/notes/{note.pk}/", {"body": "Omars"}, format="json", HTTP_IF_MATCH='"1"')
    assert (ok.status_code, ok["ETag"], ok.json()["body"]) == (200, '"2"', "Omars")

    stale = api(member_a).patch(
        f"{URL}/notes/{note.pk}/", {"body": "Annas"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 412
    assert (stale["ETag"], stale.json()["current_version"], stale.json()["current"]["body"]) == (
        '"2"',
        2,
        "Omars",
    )
    assert list(
        NoteVersion.unscoped_objects.filter(note=note).order_by("version").values_list("body", flat=True)
    ) == [
        "Rad ett.\n",
        "Omars",
    ]


def test_note_update_with_garbage_if_match_is_412(api, member_a, note):
    response = api(member_a).patch(f"{URL}/notes/{note.pk}/", {"body": "x"}, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 412


def test_observer_and_nonmember_may_not_edit(api, group, observer, nonmember, note):
    shared = make_note(group, title="Delad", visibility=Note.Visibility.PROGRAMME)
    assert (
        api(observer)
        .patch(f"{URL}/notes/{note.pk}/", {"body": "x"}, format="json", HTTP_IF_MATCH='"1"')
        .status_code
        == 403
    )
    assert (
        api(nonmember)
        .patch(f"{URL}/notes/{shared.pk}/", {"body": "x"}, format="json", HTTP_IF_MATCH='"1"')
        .status_code
        == 403
    )
    assert (
        api(nonmember)
        .patch(f"{URL}/notes/{note.pk}/", {"body": "x"}, format="json", HTTP_IF_MATCH='"1"')
        .status_code
        == 404
    )
    assert Note.unscoped_objects.get(pk=note.pk).version == 1


def test_note_create_versions_compare_and_restore(api, group, member_a):
    client = api(member_a)
    created = client.post(
        f"{URL}/notes/", {"group": group.pk, "title": "Rutin", "body": "a\nb\n"}, format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert (
        client.patch(f"{URL}/notes/{pk}/", {"body": "a\nc\n"}, format="json", HTTP_IF_MATCH='"1"').status_code
        == 200
    )

    versions = client.get(f"{URL}/notes/{pk}/versions/").json()["results"]
    assert [(v["version"], v["body"], v["author_name"]) for v in versions] == [
        (2, "a\nc\n", "Anna Berg"),
        (1, "a\nb\n", "Anna Berg"),
    ]
    diff = client.get(f"{URL}/notes/{pk}/compare/", {"old": 1, "new": 2}).json()
    assert diff == {"old": 1, "new": 2, "diff": ["--- v1", "+++ v2", "@@ -1,2 +1,2 @@", " a", "-b", "+c"]}
    assert client.get(f"{URL}/notes/{pk}/compare/", {"old": 1, "new": 9}).status_code == 400
    assert client.get(f"{URL}/notes/{pk}/compare/", {"old": "x", "new": 2}).status_code == 400

    restored = client.post(f"{URL}/notes/{pk}/restore/", {"version": 1}, format="json", HTTP_IF_MATCH='"2"')
    assert (restored.status_code, restored.json()["version"], restored.json()["body"]) == (200, 3, "a\nb\n")
    assert NoteVersion.unscoped_objects.get(note_id=pk, version=3).restored_from == 1
    assert (
        client.post(
            f"{URL}/notes/{pk}/restore/", {"version": 1}, format="json", HTTP_IF_MATCH='"2"'
        ).status_code
        == 412
    )


# --- Bad input ------------------------------------------------------------------------------------------


def test_bad_input_is_400_and_saves_nothing(api, group, member_a, note, foreign_group):
    client = api(member_a)
    bad = [
        {"group": group.pk, "title": "x", "colour": "red"},  # unknown field
        {"group": foreign_group.pk, "title": "x"},  # another programme's group
        {"group": "abc", "title": "x"},
        {"group": group.pk, "title": "x" * 201},
        {"group": group.pk, "title": "x", "body": "y" * 100_001},
        {"group": group.pk, "title": "x", "visibility": "everyone"},
    ]
    for payload in bad:
        response = client.post(f"{URL}/notes/", payload, format="json")
        assert response.status_code == 400, (payload, response.content)
    malformed = client.post(f"{URL}/notes/", "{not json", content_type="application/json")
    assert malformed.status_code == 400
    assert Note.unscoped_objects.filter(group=group).count() == 1
    assert (
        client.patch(f"{URL}/notes/{note.pk}/", {"body": 5}, format="json", HTTP_IF_MATCH='"1"').status_code
        == 200
    )
    assert (
        client.patch(
            f"{URL}/notes/{note.pk}/", {"body": ["x"]}, format="json", HTTP_IF_MATCH='"2"'
        ).status_code
        == 400
    )


# --- Groups, memberships --------------------------------------------------------------------------------


def test_groups_list_is_scoped_to_the_programme(api, group, member_a, foreign_group, outsider):
    assert _ids(api(member_a).get(f"{URL}/groups/")) == [group.pk]
    assert api(member_a).get(f"{URL}/groups/{foreign_group.pk}/").status_code == 404
    assert _ids(api(outsider).get(f"{URL}/groups/")) == [foreign_group.pk]


def test_coordinator_creates_a_group_and_staff_may_not(api, programme, coordinator, member_a):
    payload = {"programme": programme.pk, "code": "ny", "name": "Ny grupp", "purpose": "Prova"}
    assert api(member_a).post(f"{URL}/groups/", payload, format="json").status_code == 403
    response = api(coordinator).post(f"{URL}/groups/", payload, format="json")
    assert (response.status_code, response.json()["name"], response.json()["is_default"]) == (
        201,
        "Ny grupp",
        False,
    )
    duplicate = api(coordinator).post(f"{URL}/groups/", payload, format="json")
    assert (duplicate.status_code, sorted(duplicate.json())) == (400, ["code", "name"])


def test_convener_adds_a_member_who_then_may_edit(api, group, convener, nonmember, note):
    response = api(convener).post(
        f"{URL}/memberships/",
        {"group": group.pk, "person": nonmember.pk, "role": "member", "mandate": "Får föreslå."},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["organisation"] == nonmember.organisation_id
    edited = api(nonmember).patch(
        f"{URL}/notes/{note.pk}/", {"body": "Med"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert edited.status_code == 200

    removed = api(convener).delete(f"{URL}/memberships/{response.json()['id']}/")
    assert removed.status_code == 204
    ended = GroupMembership.unscoped_objects.get(pk=response.json()["id"])
    assert ended.is_active is False
    assert api(nonmember).get(f"{URL}/notes/{note.pk}/").status_code == 404
    # ending it again is a conflict with its state (409, documented), and changes nothing
    again = api(convener).delete(f"{URL}/memberships/{ended.pk}/")
    assert (again.status_code, again.json()) == (409, ["This membership has ended."])
    assert GroupMembership.unscoped_objects.get(pk=ended.pk).left_at == ended.left_at


def test_member_may_not_add_members_and_foreign_person_is_400(
    api, group, member_a, nonmember, convener, outsider
):
    payload = {"group": group.pk, "person": nonmember.pk}
    assert api(member_a).post(f"{URL}/memberships/", payload, format="json").status_code == 403
    foreign = api(convener).post(
        f"{URL}/memberships/", {"group": group.pk, "person": outsider.pk}, format="json"
    )
    assert (foreign.status_code, list(foreign.json())) == (400, ["person"])


# --- Meetings -------------------------------------------------------------------------------------------


def test_meeting_create_cancel_and_minutes(api, group, convener, member_a, mailoutbox):
    start = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    payload = {
        "group": group.pk,
        "title": "Arbetsmöte",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "place": "Stadshuset",
        "agenda": [{"title": "Rutiner", "note": "Överlämning"}, {"title": "Övrigt"}],
    }
    assert api(member_a).post(f"{URL}/meetings/", payload, format="json").status_code == 403
    created = api(convener).post(f"{URL}/meetings/", payload, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["sequence"], [a["title"] for a in body["agenda"]]) == (
        "scheduled",
        0,
        ["Rutiner", "Övrigt"],
    )
    cancelled = api(convener).post(f"{URL}/meetings/{body['id']}/cancel/")
    assert (cancelled.status_code, cancelled.json()["status"], cancelled.json()["sequence"]) == (
        200,
        "cancelled",
        1,
    )
    assert api(convener).post(f"{URL}/meetings/{body['id']}/cancel/").status_code == 400

    past = MeetingFactory(
        group=group,
        starts_at=timezone.now() - timedelta(days=1),
        ends_at=timezone.now() - timedelta(hours=22),
    )
    minutes = api(convener).post(
        f"{URL}/meetings/{past.pk}/minutes/",
        {"minutes": "Vi gick igenom rutinen.", "decisions": ["Anta rutinen"]},
        format="json",
    )
    assert (minutes.status_code, minutes.json()["status"], minutes.json()["decisions"]) == (
        200,
        "held",
        ["Anta rutinen"],
    )
    assert Meeting.unscoped_objects.get(pk=past.pk).status == Meeting.Status.HELD


def test_meeting_bad_times_are_400(api, group, convener):
    start = timezone.now() + timedelta(days=3)
    payload = {
        "group": group.pk,
        "title": "x",
        "starts_at": start.isoformat(),
        "ends_at": start.isoformat(),
        "place": "a",
    }
    response = api(convener).post(f"{URL}/meetings/", payload, format="json")
    assert (response.status_code, list(response.json())) == (400, ["ends_at"])
    payload["starts_at"] = "tomorrow"
    assert api(convener).post(f"{URL}/meetings/", payload, format="json").status_code == 400
    assert Meeting.unscoped_objects.count() == 0


@pytest.mark.parametrize(
    "starts_at",
    [
        "0001-01-01T00:00:00",  # (an hour before it is before the calendar begins)
        "9999-12-31T23:30:00+00:00",  # (in Stockholm it is the year 10000)
        "2027-03-28T02:30:00",  # (Stockholm's clocks go from 02:00 to 03:00 that night)
        "2027-10-31T02:30:00",  # (and from 03:00 back to 02:00: twice that night)
        "9999-06-01T10:00:00+00:00",  # (its calendar would need the zone's rules up to the year 10000)
        "1899-12-31T10:00:00+00:00",
    ],
)
def test_meeting_times_outside_the_zone_are_400(api, group, convener, starts_at):
    payload = {
        "group": group.pk,
        "title": "x",
        "starts_at": starts_at,
        "ends_at": "2027-11-01T05:00:00",
        "place": "a",
    }

    response = api(convener).post(f"{URL}/meetings/", payload, format="json")

    assert (response.status_code, list(response.json())) == (400, ["starts_at"])
    assert Meeting.unscoped_objects.count() == 0


def test_meeting_times_near_the_clock_changes_are_kept(api, group, convener):
    payload = {"group": group.pk, "title": "x", "place": "a"}
    # the second run of the hour the clocks go back, given with its offset, and the hour after the skipped one
    for starts_at, ends_at, utc in [
        ("2027-10-31T02:30:00+01:00", "2027-10-31T05:00:00", "2027-10-31T01:30:00+00:00"),
        ("2027-03-28T03:00:00", "2027-03-28T05:00:00", "2027-03-28T01:00:00+00:00"),
    ]:
        created = api(convener).post(
            f"{URL}/meetings/", {**payload, "starts_at": starts_at, "ends_at": ends_at}
        )
        assert created.status_code == 201, created.content
        meeting = Meeting.unscoped_objects.get(pk=created.json()["id"])
        assert meeting.starts_at.isoformat() == utc


# --- Actions --------------------------------------------------------------------------------------------


def test_actions_owner_moves_status_only(api, group, member_a, member_b, convener):
    created = api(member_a).post(
        f"{URL}/actions/",
        {"group": group.pk, "owner": member_b.pk, "title": "Skriv rutin", "due_on": "2030-01-15"},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["organisation"] == member_b.organisation_id
    assert api(member_b).patch(f"{URL}/actions/{pk}/", {"status": "done"}, format="json").status_code == 200
    assert api(member_b).patch(f"{URL}/actions/{pk}/", {"title": "Annat"}, format="json").status_code == 403
    mine = api(member_b).get(f"{URL}/actions/", {"owner": member_b.pk, "status": "done"})
    assert _ids(mine) == [pk]
    assert ActionItem.unscoped_objects.get(pk=pk).status == "done"


# --- Glossary -------------------------------------------------------------------------------------------


def test_glossary_terms_side_by_side_and_comments(
    api, programme, org_a, org_b, member_a, member_b, outsider, other_programme, org_other
):
    customer = ConceptFactory(programme=programme, name="kund")
    ConceptTermFactory(
        concept=customer, organisation=org_b, term="invånare", definition="Den som bor i kommunen."
    )
    ConceptFactory(programme=other_programme, name="borger")

    response = api(member_a).post(
        f"{URL}/glossary/{customer.pk}/terms/",
        {"organisation": org_a.pk, "term": "sökande", "definition": "Den som söker."},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (
        api(member_a)
        .post(f"{URL}/glossary/{customer.pk}/terms/", {"organisation": org_b.pk, "term": "x"}, format="json")
        .status_code
        == 403
    )
    assert (
        api(member_a)
        .post(
            f"{URL}/glossary/{customer.pk}/terms/", {"organisation": org_other.pk, "term": "x"}, format="json"
        )
        .status_code
        == 400
    )
    assert (
        api(member_b)
        .post(f"{URL}/glossary/{customer.pk}/comments/", {"body": "Vi säger också brukare."}, format="json")
        .status_code
        == 201
    )

    listed = api(member_a).get(f"{URL}/glossary/").json()["results"]
    assert [c["name"] for c in listed] == ["kund"]
    assert [(t["organisation_name"], t["term"]) for t in listed[0]["terms"]] == [
        ("Malmö stad", "invånare"),
        ("Migrationsverket", "sökande"),
    ]
    assert [c["body"] for c in listed[0]["comments"]] == ["Vi säger också brukare."]
    assert api(outsider).get(f"{URL}/glossary/{customer.pk}/").status_code == 404
    assert Concept.unscoped_objects.count() == 2


# --- Every list: anonymous refused, fixed query counts --------------------------------------------------

LISTS = ["groups", "memberships", "meetings", "notes", "actions", "glossary"]


@pytest.mark.parametrize("name", LISTS)
def test_anonymous_is_refused(api, group, name):
    assert api(None).get(f"{URL}/{name}/").status_code in (401, 403)


def _make(name, group, people, count):
    from tests.factories.focusgroups import ActionFactory, make_group_member

    for i in range(count):
        if name == "groups":
            from tests.factories.focusgroups import FocusGroupFactory

            FocusGroupFactory(programme=group.programme)
        elif name == "memberships":
            make_group_member(group, people[i])
        elif name == "meetings":
            MeetingFactory(group=group)
        elif name == "actions":
            ActionFactory(group=group, owner=people[i])
        elif name == "glossary":
            concept = ConceptFactory(programme=group.programme)
            ConceptTermFactory(concept=concept, organisation=people[i].organisation)


# Meetings read their agenda and decisions in the page's query; the glossary its terms there and the
# comments in one more.
QUERIES = {"groups": 1, "memberships": 1, "meetings": 1, "actions": 1, "glossary": 2}


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_list_query_count_is_fixed(
    api, programme, org_a, group, member_a, name, count, django_assert_num_queries
):
    from organisations.models import PlatformRole
    from tests.factories import make_member

    people = [make_member(programme, org_a, PlatformRole.STAFF) for _ in range(count)]
    _make(name, group, people, count)
    client = api(member_a)
    client.get(f"{URL}/{name}/")
    with django_assert_num_queries(QUERIES[name]):
        response = client.get(f"{URL}/{name}/")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "title", ["Arbetsmöte\nBcc: x@example.org", "Arbets\rmöte", "Arbets\x1bmöte", "Arbets\u2028möte"]
)
def test_meeting_title_with_a_line_break_or_control_character_is_400(api, group, convener, title, mailoutbox):
    start = timezone.now() + timedelta(days=3)
    payload = {
        "group": group.pk,
        "title": title,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "place": "Stadshuset",
    }

    response = api(convener).post(f"{URL}/meetings/", payload, format="json")

    assert response.status_code == 400
    assert response.json() == {"title": ["Write this on one line, without control characters."]}
    assert (Meeting.unscoped_objects.count(), len(mailoutbox)) == (0, 0)


# --- What the lists read --------------------------------------------------------------------------------


def _captured(client, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm the actor cache of the client's user
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return response.json()["results"], [query["sql"] for query in queries.captured_queries]


def test_membership_list_reads_only_the_names_it_shows(api, group, member_a, member_b):
    rows, sql = _captured(api(member_a), f"{URL}/memberships/")

    (page,) = [query for query in sql if "OVER ()" in query]
    outer = page.split(" WHERE ")[0]
    assert outer.count(" JOIN ") == 4  # person, user, organisation; the group for the order only
    assert ('"mandate"' in outer, '"first_name"' in outer, '"password"' in outer, '"email"' in outer) == (
        True,
        True,
        False,
        False,
    )
    assert [(row["person_name"], row["organisation_name"], row["group"]) for row in rows] == [
        ("Anna Berg", "Migrationsverket", group.pk),
        ("Omar Said", "Malmö stad", group.pk),
    ]


def test_note_list_reads_only_the_editor_name_it_shows(api, group, member_a):
    make_note(group, title="Anteckning", author=member_a)
    rows, sql = _captured(api(member_a), f"{URL}/notes/")

    (page,) = [query for query in sql if "OVER ()" in query]
    outer = page.split(" WHERE ")[0]
    assert ('"body"' in outer, '"last_name"' in outer, '"password"' in outer, '"email"' in outer) == (
        True,
        True,
        False,
        False,
    )
    assert [(row["title"], row["updated_by_name"]) for row in rows] == [("Anteckning", "Anna Berg")]


def test_glossary_comments_read_only_the_author_name_they_show(api, programme, member_a, member_b):
    concept = ConceptFactory(programme=programme, name="kund")
    api(member_b).post(f"{URL}/glossary/{concept.pk}/comments/", {"body": "Brukare."}, format="json")
    rows, sql = _captured(api(member_a), f"{URL}/glossary/")

    (comments,) = [query for query in sql if '"focusgroups_conceptcomment"' in query.split(" WHERE ")[0]]
    assert ('"body"' in comments, '"last_name"' in comments, '"password"' in comments) == (True, True, False)
    assert [(c["author_name"], c["body"]) for c in rows[0]["comments"]] == [("Omar Said", "Brukare.")]


def test_notes_list_says_per_caller_who_may_edit(api, group, member_a, nonmember):
    """The serializer's fields are worked out once per class; what depends on the caller still differs."""
    note = make_note(group, title="Programmet", visibility=Note.Visibility.PROGRAMME)

    answers = [
        [(row["id"], row["can_edit"]) for row in api(person).get(f"{URL}/notes/").json()["results"]]
        for person in (member_a, nonmember, member_a)
    ]

    assert answers == [[(note.pk, True)], [(note.pk, False)], [(note.pk, True)]]


@pytest.fixture
def built_instances():
    """The model instances Django builds while the block runs, counted by model (its ``post_init`` signal)."""
    from collections import Counter

    from django.db.models.signals import post_init

    counted: Counter[str] = Counter()

    def count(sender, **kwargs):
        counted[sender.__name__] += 1

    post_init.connect(count)
    yield counted
    post_init.disconnect(count)


def test_lists_build_no_person_user_or_organisation_per_row(
    api, programme, group, convener, member_a, member_b, built_instances
):
    from tests.factories.focusgroups import ActionFactory

    make_note(group, title="Anteckning", author=member_a)
    ActionFactory(group=group, owner=member_b, title="Ring kommunen")
    concept = ConceptFactory(programme=programme, name="kund")
    api(member_b).post(f"{URL}/glossary/{concept.pk}/comments/", {"body": "Brukare."}, format="json")
    client = api(member_a)
    paths = ["memberships", "notes", "actions", "groups", "glossary"]
    for path in paths:
        client.get(f"{URL}/{path}/")  # warm the actor cache of the client's user
    built_instances.clear()

    names = {path: client.get(f"{URL}/{path}/").json()["results"] for path in paths}

    assert {model: built_instances[model] for model in ("Person", "User", "Organisation")} == {
        "Person": 0,
        "User": 0,
        "Organisation": 0,
    }
    assert [(row["person_name"], row["organisation_name"]) for row in names["memberships"]] == [
        ("Karin Ek", "Malmö stad"),
        ("Anna Berg", "Migrationsverket"),
        ("Omar Said", "Malmö stad"),
    ]
    assert [row["updated_by_name"] for row in names["notes"]] == ["Anna Berg"]
    assert [row["owner_name"] for row in names["actions"]] == ["Omar Said"]
    assert [row["convener_name"] for row in names["groups"]] == ["Karin Ek"]
    assert [c["author_name"] for c in names["glossary"][0]["comments"]] == ["Omar Said"]


def test_names_read_as_columns_are_the_person_full_name(api, group, member_a, member_b, observer):
    """A blank name shows the username, an erased person "Former member", as Person.full_name does."""
    member_b.user.first_name = member_b.user.last_name = ""
    member_b.user.save(update_fields=["first_name", "last_name"])
    observer.erased_at = timezone.now()
    observer.save(update_fields=["erased_at"])

    rows = api(member_a).get(f"{URL}/memberships/").json()["results"]

    shown = {row["person"]: row["person_name"] for row in rows}
    for person in (member_a, member_b, observer):
        person.refresh_from_db()
    assert [shown[person.pk] for person in (member_a, member_b, observer)] == [
        member_a.full_name,
        member_b.full_name,
        observer.full_name,
    ]
    assert [shown[person.pk] for person in (member_a, member_b, observer)] == [
        "Anna Berg",
        member_b.user.username,
        "Former member",
    ]
