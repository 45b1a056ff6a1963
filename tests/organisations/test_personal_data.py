"""A person's data under their control: the download, erasure by a programme admin, and retention."""

from __future__ import annotations

import json
from datetime import timedelta

import icalendar
import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from coordinator.core import jobs
from coordinator.core.calendar import CalendarEvent, Participant, build_calendar
from coordinator.core.models import Notification, OutboundEmail
from coordinator.core.notifications import send_invite
from focusgroups.models import ActionItem, GroupMembership, NoteVersion
from organisations.models import AuditEntryProgramme, Membership, Person
from organisations.models import PlatformRole as R
from organisations.permissions import actor_for
from organisations.services import people, personal_data
from tests.factories import make_member
from tests.factories.focusgroups import ActionFactory, FocusGroupFactory, make_group_member, make_note


def _body(response) -> dict:
    return json.loads(b"".join(response.streaming_content))


def _invite(programme, recipient, *attendees: Person) -> OutboundEmail:
    """A real calendar invite queued for ``recipient`` that lists ``attendees`` (name and address)."""
    start = timezone.now().replace(microsecond=0) + timedelta(days=7)
    calendar = build_calendar(
        [
            CalendarEvent(
                uid="meeting-1@samverkan.test",
                summary=f"Möte med {attendees[0].full_name}",
                start=start,
                end=start + timedelta(hours=1),
                attendees=tuple(Participant(p.email, p.full_name) for p in attendees),
            )
        ],
        time_zone=programme.time_zone,
        method="REQUEST",
    )
    with transaction.atomic():
        send_invite(
            programme=programme,
            person=recipient,
            title=f"Möte med {attendees[0].full_name}",
            body="",
            url="/",
            calendar=calendar,
            method="REQUEST",
        )
    return OutboundEmail.unscoped_objects.filter(recipient=recipient).latest("pk")


def _attendee_addresses(mail: OutboundEmail) -> list[str]:
    event = next(iter(icalendar.Calendar.from_ical(mail.ics_content).walk("VEVENT")))
    attendees = event.get("ATTENDEE", [])
    return sorted(str(a) for a in (attendees if isinstance(attendees, list) else [attendees]))


# --- The download ---------------------------------------------------------------------------------------


def test_download_holds_own_data_of_every_app_and_no_other_persons_private_data(
    programme, staff_a, staff_b, web, in_programme
):
    group = FocusGroupFactory(programme=programme)
    left_group = FocusGroupFactory(programme=programme, code="left", name="Left group")
    make_group_member(group, staff_a)
    make_group_member(left_group, staff_a, is_active=False, left_at=timezone.now())
    make_note(group, title="Readable", body="Our shared minutes", author=staff_a)
    make_note(left_group, title="Private of a left group", body="Secret minutes", author=staff_a)
    ActionFactory(group=group, owner=staff_a, title="Ring Migrationsverket")
    _invite(programme, staff_a, staff_a, staff_b)

    response = web(staff_a).get("/me/data.json")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="samverkan-my-data.json"'
    data = _body(response)
    assert data["profile"][0]["email"] == staff_a.email
    assert data["profile"][0]["last_name"] == staff_a.user.last_name
    assert [m["programme"] for m in data["memberships"]] == [programme.name]
    assert data["memberships"][0]["roles"] == ["staff"]
    assert [(v["title"], v["text"]) for v in data["note_versions"]] == [
        ("Readable", "Our shared minutes"),
        (None, None),
    ]
    assert [v["group"] for v in data["note_versions"]] == [group.name, "Left group"]
    assert [a["title"] for a in data["actions"]] == ["Ring Migrationsverket"]
    assert sorted(m["active"] for m in data["focus_group_memberships"]) == [False, True]
    assert [m["to"] for m in data["emails"]] == [staff_a.email]
    # The calendar part, which lists the other attendee's address, is not exported.
    assert staff_b.email not in json.dumps(data)
    assert "Secret minutes" not in json.dumps(data)
    assert set(data) >= {"shadowing_requests", "placements", "enrolments", "completions", "audit_entries"}


def test_download_is_only_the_signed_in_persons(programme, staff_a, staff_b, api):
    response = api(staff_b).get("/api/v1/me/data/")

    assert response.status_code == 200
    data = _body(response)
    assert data["profile"][0]["email"] == staff_b.email
    assert staff_a.email not in json.dumps(data)


def test_download_refuses_anonymous(api, web, db):
    assert api(None).get("/api/v1/me/data/").status_code == 401
    assert web(None).get("/me/data.json").status_code == 302


def test_readable_page_shows_each_section(programme, staff_a, web):
    response = web(staff_a).get("/me/data/")

    assert response.status_code == 200
    keys = [section["key"] for section in response.context["sections"]]
    assert keys[:3] == ["profile", "memberships", "notification_preferences"]
    assert "note_versions" in keys and "enrolments" in keys and "placements" in keys
    assert staff_a.email in response.content.decode()


@pytest.mark.parametrize("items", [1, 3])
def test_readable_page_costs_a_fixed_number_of_queries(
    programme, staff_a, web, items, django_assert_num_queries
):
    group = FocusGroupFactory(programme=programme)
    make_group_member(group, staff_a)
    for n in range(items):
        make_note(group, title=f"Note {n}", author=staff_a)
        ActionFactory(group=group, owner=staff_a)
    client = web(staff_a)
    client.get("/me/data/")  # the session and the actor are warm

    with django_assert_num_queries(25):
        response = client.get("/me/data/")

    assert len(response.context["sections"][-3]["rows"]) == items


# --- Erasure --------------------------------------------------------------------------------------------


@pytest.fixture
def erased_world(programme, staff_a, staff_b, programme_admin, web, in_programme):
    """Staff A with an account, a token, a note version, an owned action, mail to them and mail about them."""
    group = FocusGroupFactory(programme=programme)
    make_group_member(group, staff_a)
    make_group_member(group, staff_b)
    note = make_note(group, title="Minutes", body="Text", author=staff_a)
    action = ActionFactory(group=group, owner=staff_a, title="Boka lokal")
    Token.objects.create(user=staff_a.user)
    own_mail = _invite(programme, staff_a, staff_a, staff_b)
    other_mail = _invite(programme, staff_b, staff_a, staff_b)
    # An audit entry naming A: a change of their profile by the admin, through the service.
    with in_programme(programme):
        people.person_update(
            actor=actor_for(programme_admin.user), person=staff_a, values={"phone": "040-123456"}
        )
    return {"group": group, "note": note, "action": action, "own_mail": own_mail, "other_mail": other_mail}


def test_erase_pseudonymises_the_account_and_keeps_other_records(
    programme, staff_a, staff_b, programme_admin, erased_world, in_programme, web
):
    old = {"name": staff_a.full_name, "email": staff_a.email, "token": staff_a.calendar_token}
    old_username = staff_a.user.username
    signed_in = web(staff_a)
    assert signed_in.get("/me/").status_code == 200

    with in_programme(programme):
        outcome = personal_data.person_erase(
            actor=actor_for(programme_admin.user), person=staff_a, programme=programme
        )

    assert outcome == personal_data.ErasureOutcome("erased", frozenset({programme.pk}))
    person = Person.unscoped_objects.select_related("user").get(pk=staff_a.pk)
    user = person.user
    assert (user.first_name, user.last_name, user.email, user.is_active) == ("", "", "", False)
    assert user.username.startswith("former-member-") and user.username != old_username
    assert not user.has_usable_password()
    assert (person.phone, person.job_title, person.languages) == ("", "", [])
    assert person.full_name == "Former member"
    assert Token.objects.filter(user=user).count() == 0
    assert signed_in.get("/me/").status_code == 302  # the session no longer signs them in
    assert web(None).get(f"/calendar/{old['token']}.ics").status_code == 404
    assert list(Membership.unscoped_objects.filter(person=person).values_list("is_active", flat=True)) == [
        False
    ]
    assert GroupMembership.unscoped_objects.filter(person=person, is_active=True).count() == 0
    # Kept records: the owned action and the note version stay, shown as a former member's.
    action = ActionItem.unscoped_objects.get(pk=erased_world["action"].pk)
    assert (action.owner_id, action.owner.full_name) == (staff_a.pk, "Former member")
    version = NoteVersion.unscoped_objects.get(note=erased_world["note"])
    assert version.author.full_name == "Former member"
    # Mail: theirs is gone; the other person's invite no longer names or addresses them.
    assert OutboundEmail.unscoped_objects.filter(pk=erased_world["own_mail"].pk).count() == 0
    assert Notification.unscoped_objects.filter(recipient=person).count() == 0
    other = OutboundEmail.unscoped_objects.get(pk=erased_world["other_mail"].pk)
    assert _attendee_addresses(other) == [f"mailto:{staff_b.email}"]
    assert old["name"] not in other.ics_content and old["name"] not in other.subject
    assert other.subject == f"[{programme.name}] Möte med Former member"
    # Audit: no entry keeps their name, address or phone.
    for entry in LogEntry.objects.all():
        text = f"{entry.object_repr} {entry.changes_text} {json.dumps(entry.changes, ensure_ascii=False)}"
        assert old["name"] not in text and old["email"] not in text and "040-123456" not in text


def test_erasure_is_recorded_with_who_and_without_the_name(programme, staff_a, programme_admin, in_programme):
    name = staff_a.full_name
    with in_programme(programme):
        personal_data.person_erase(actor=actor_for(programme_admin.user), person=staff_a, programme=programme)

    entry = LogEntry.objects.filter(object_pk=str(staff_a.pk), changes__has_key="personal_data").get()
    assert entry.actor_id == programme_admin.user_id
    assert entry.object_repr == "Former member"
    assert entry.changes == {"personal_data": ["", "erased"]}
    assert name not in json.dumps(entry.changes) + entry.object_repr
    assert list(
        AuditEntryProgramme.unscoped_objects.filter(log_entry=entry).values_list("programme_id", flat=True)
    ) == [programme.pk]


def test_erase_refuses_non_admins_and_own_account(
    programme, staff_a, coordinator, programme_admin, in_programme
):
    from django.core.exceptions import PermissionDenied, ValidationError

    with in_programme(programme), pytest.raises(PermissionDenied):
        personal_data.person_erase(actor=actor_for(coordinator.user), person=staff_a, programme=programme)
    with in_programme(programme), pytest.raises(ValidationError):
        personal_data.person_erase(
            actor=actor_for(programme_admin.user), person=programme_admin, programme=programme
        )
    assert Person.unscoped_objects.get(pk=staff_a.pk).erased_at is None


# --- Two programmes -------------------------------------------------------------------------------------


@pytest.fixture
def shared_person(programme, other_programme, org_a, org_other):
    """A person active in both programmes, with mail and an audit entry in each."""
    from organisations.models import Participation

    Participation.unscoped_objects.create(programme=other_programme, organisation=org_a)
    person = make_member(programme, org_a, R.STAFF)
    membership = Membership.unscoped_objects.create(programme=other_programme, person=person)
    membership.role_assignments.create(role=R.STAFF)
    return person


def test_admin_of_one_programme_only_withdraws_a_person_active_in_another(
    programme, other_programme, shared_person, programme_admin, outsider, org_other, in_programme
):
    colleague_other = make_member(other_programme, org_other, R.STAFF)
    colleague_here = make_member(programme, shared_person.organisation, R.STAFF)
    mail_other = _invite(other_programme, colleague_other, shared_person, colleague_other)
    mail_here = _invite(programme, colleague_here, shared_person, colleague_here)
    own_other = _invite(other_programme, shared_person, shared_person, colleague_other)
    name, email = shared_person.full_name, shared_person.email
    # Audit entries filed under the other programme alone that name the person (membership and role there).
    other_entries = dict(
        LogEntry.objects.filter(object_repr__contains=name, programme_links__programme=other_programme)
        .exclude(programme_links__programme=programme)
        .values_list("pk", "object_repr")
    )

    with in_programme(programme):
        outcome = personal_data.person_erase(
            actor=actor_for(programme_admin.user), person=shared_person, programme=programme
        )

    assert outcome == personal_data.ErasureOutcome("withdrawn", frozenset({programme.pk}))
    person = Person.unscoped_objects.select_related("user").get(pk=shared_person.pk)
    assert (person.erased_at, person.user.is_active, person.user.email, person.full_name) == (
        None,
        True,
        email,
        name,
    )
    memberships = dict(
        Membership.unscoped_objects.filter(person=person).values_list("programme_id", "is_active")
    )
    assert memberships == {programme.pk: False, other_programme.pk: True}
    # This programme's copies are pseudonymised ...
    here = OutboundEmail.unscoped_objects.get(pk=mail_here.pk)
    assert _attendee_addresses(here) == [f"mailto:{colleague_here.email}"]
    # ... the other programme's are untouched.
    there = OutboundEmail.unscoped_objects.get(pk=mail_other.pk)
    assert there.ics_content == mail_other.ics_content and there.subject == mail_other.subject
    assert OutboundEmail.unscoped_objects.filter(pk=own_other.pk).count() == 1
    assert len(other_entries) == 2
    assert (
        dict(LogEntry.objects.filter(pk__in=other_entries).values_list("pk", "object_repr")) == other_entries
    )
    # ... and entries filed under this programme alone are.
    here_entries = LogEntry.objects.filter(programme_links__programme=programme).exclude(
        programme_links__programme=other_programme
    )
    assert [e for e in here_entries if name in e.object_repr] == []


def test_admin_of_every_active_programme_erases_everywhere(
    programme, other_programme, shared_person, programme_admin, in_programme
):
    Membership.unscoped_objects.filter(person=programme_admin).update(is_active=True)
    admin_there = Membership.unscoped_objects.create(programme=other_programme, person=programme_admin)
    admin_there.role_assignments.create(role=R.PROGRAMME_ADMIN)

    with in_programme(programme):
        outcome = personal_data.person_erase(
            actor=actor_for(User.objects.get(pk=programme_admin.user_id)),
            person=shared_person,
            programme=programme,
        )

    assert outcome == personal_data.ErasureOutcome("erased", frozenset({programme.pk, other_programme.pk}))
    assert Membership.unscoped_objects.filter(person=shared_person, is_active=True).count() == 0
    assert Person.unscoped_objects.get(pk=shared_person.pk).full_name == "Former member"


# --- Pages and API --------------------------------------------------------------------------------------


def test_erase_page_confirms_then_erases(programme, staff_a, programme_admin, web):
    client = web(programme_admin)
    url = f"/organisations/people/{staff_a.pk}/erase/"

    page = client.get(url)
    unconfirmed = client.post(url, {})
    done = client.post(url, {"confirm": "on"})

    assert page.status_code == 200
    assert page.context["outcome"].kind == "erased"
    assert staff_a.full_name in page.content.decode()
    assert unconfirmed.status_code == 400
    assert done.status_code == 302
    assert Person.unscoped_objects.get(pk=staff_a.pk).erased_at is not None
    assert client.get(url).status_code == 404  # already erased


def test_erase_page_refuses_others(programme, staff_a, coordinator, outsider, programme_admin, web):
    url = f"/organisations/people/{staff_a.pk}/erase/"
    assert web(coordinator).post(url, {"confirm": "on"}).status_code == 403
    assert web(programme_admin).get(f"/organisations/people/{outsider.pk}/erase/").status_code == 404
    assert Person.unscoped_objects.get(pk=staff_a.pk).erased_at is None


def test_erase_api(programme, other_programme, staff_a, programme_admin, outsider, api):
    client = api(programme_admin)

    foreign = client.post(
        f"/api/v1/people/{outsider.pk}/erase/", {"programme": programme.pk, "confirm": True}, format="json"
    )
    unconfirmed = client.post(
        f"/api/v1/people/{staff_a.pk}/erase/", {"programme": programme.pk, "confirm": False}, format="json"
    )
    other_admin = api(outsider).post(
        f"/api/v1/people/{staff_a.pk}/erase/",
        {"programme": other_programme.pk, "confirm": True},
        format="json",
    )
    done = client.post(
        f"/api/v1/people/{staff_a.pk}/erase/", {"programme": programme.pk, "confirm": True}, format="json"
    )

    assert foreign.status_code == 404
    assert unconfirmed.status_code == 400
    assert other_admin.status_code == 404
    assert done.status_code == 200
    assert done.json() == {"outcome": "erased", "programmes": [programme.pk]}
    assert Person.unscoped_objects.get(pk=staff_a.pk).full_name == "Former member"


# --- Retention ------------------------------------------------------------------------------------------


def test_retention_job_erases_people_whose_last_membership_ended_long_ago(
    programme, staff_a, staff_b, settings, db
):
    settings.PERSONAL_DATA_RETENTION_DAYS = 30
    long_ago = timezone.now() - timedelta(days=31)
    recently = timezone.now() - timedelta(days=29)
    Membership.unscoped_objects.filter(person=staff_a).update(is_active=False, ended_at=long_ago)
    Membership.unscoped_objects.filter(person=staff_b).update(is_active=False, ended_at=recently)

    first = jobs.run_due_jobs(force=True)["organisations.personal_data_retention"]
    second = jobs.run_due_jobs(force=True)["organisations.personal_data_retention"]

    assert (first, second) == (1, 0)
    assert Person.unscoped_objects.get(pk=staff_a.pk).full_name == "Former member"
    assert Person.unscoped_objects.get(pk=staff_b.pk).erased_at is None
    entry = LogEntry.objects.filter(object_pk=str(staff_a.pk), changes__has_key="personal_data").get()
    assert entry.actor_id is None


def test_retention_job_is_off_at_zero(programme, staff_a, settings, db):
    settings.PERSONAL_DATA_RETENTION_DAYS = 0
    Membership.unscoped_objects.filter(person=staff_a).update(
        is_active=False, ended_at=timezone.now() - timedelta(days=3650)
    )

    assert jobs.run_due_jobs(force=True)["organisations.personal_data_retention"] == 0
    assert Person.unscoped_objects.get(pk=staff_a.pk).erased_at is None


def test_ending_a_membership_dates_it(programme, staff_a, db):
    membership = Membership.unscoped_objects.get(person=staff_a)
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    ended = Membership.unscoped_objects.get(pk=membership.pk).ended_at

    membership.is_active = True
    membership.save(update_fields=["is_active"])

    assert ended is not None
    assert Membership.unscoped_objects.get(pk=membership.pk).ended_at is None


def test_audit_trail_page_after_erasure_names_no_one_erased(
    programme, staff_a, programme_admin, web, in_programme
):
    from auditlog.context import set_actor

    name, email = staff_a.full_name, staff_a.email
    with in_programme(programme), set_actor(staff_a.user):
        people.person_update(actor=actor_for(staff_a.user), person=staff_a, values={"phone": "0701-234567"})
    client = web(programme_admin)
    client.post(f"/organisations/people/{staff_a.pk}/erase/", {"confirm": "on"})

    page = client.get("/organisations/audit/")

    text = page.content.decode()
    assert page.status_code == 200
    assert name not in text and email not in text and "0701-234567" not in text
    actors = [row["entry"].actor_id for row in page.context["rows"]]
    assert staff_a.user_id in actors and programme_admin.user_id in actors
    assert text.count("Former member") >= 2
    erasure = next(row for row in page.context["rows"] if "personal_data" in (row["entry"].changes or {}))
    assert erasure["changes"] == [("Personal data", "", "erased")]
    assert erasure["entry"].actor_id == programme_admin.user_id


def test_erasure_replaces_whole_words_only(programme, org_a, programme_admin, in_programme):
    leaving = make_member(programme, org_a, R.STAFF, user__username="anna", user__first_name="Anna")
    colleague = make_member(programme, org_a, R.STAFF, user__first_name="Johanna", user__last_name="Berg")
    mail = _invite(programme, colleague, leaving, colleague)

    with in_programme(programme):
        personal_data.person_erase(actor=actor_for(programme_admin.user), person=leaving, programme=programme)

    event = next(
        iter(
            icalendar.Calendar.from_ical(OutboundEmail.unscoped_objects.get(pk=mail.pk).ics_content).walk(
                "VEVENT"
            )
        )
    )
    attendee = event["ATTENDEE"]
    assert (str(attendee), str(attendee.params["CN"])) == (f"mailto:{colleague.email}", "Johanna Berg")
