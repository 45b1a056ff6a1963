from __future__ import annotations

import re

import icalendar
import pytest

from coordinator.core.models import Notification, NotificationPreference
from organisations.models import Membership, Person, RoleAssignment
from tests.factories import make_member


def _without_csrf(content: bytes) -> bytes:
    """A page minus what differs per request anyway: the CSRF token and the current path."""
    return re.sub(rb'name="(csrfmiddlewaretoken|next)" value="[^"]+"', b"", content)


def test_anonymous_is_sent_to_login(client, programme):
    response = client.get("/me/")
    assert (response.status_code, response["Location"]) == (302, "/login/?next=/me/")


def test_start_page_shows_programme_panel(web, staff_a, programme):
    response = web(staff_a).get("/")
    assert response.status_code == 200
    assert response.templates[0].name == "home.html"
    assert programme.name.encode() in response.content


def test_member_without_programme_sees_explanation(web, org_a):
    from tests.factories import PersonFactory

    lonely = PersonFactory(organisation=org_a)
    response = web(lonely).get("/me/")
    assert response.status_code == 403
    assert b"You are not part of a programme yet" in response.content


def test_organisation_of_other_programme_is_404(web, staff_a, org_other):
    missing = web(staff_a).get("/organisations/987654/")
    foreign = web(staff_a).get(f"/organisations/{org_other.pk}/")
    assert foreign.status_code == missing.status_code == 404
    assert _without_csrf(foreign.content) == _without_csrf(missing.content)


def test_organisation_page_hides_contacts_from_other_organisations(web, staff_a, staff_b, org_b):
    page = web(staff_a).get(f"/organisations/{org_b.pk}/")
    assert page.status_code == 200
    assert staff_b.full_name.encode() in page.content
    assert staff_b.user.email.encode() not in page.content
    own = web(staff_b).get(f"/organisations/{org_b.pk}/")
    assert staff_b.user.email.encode() in own.content


@pytest.mark.parametrize("count", [1, 3])
def test_organisation_list_query_count(
    count, web, programme, org_a, staff_a, django_assert_num_queries, other_programme, org_other
):
    from tests.factories import OrganisationFactory

    for i in range(count - 1):
        OrganisationFactory(name=f"Byrå {i}", programmes=[programme])
    client = web(staff_a)
    client.get("/organisations/")  # warm the session
    with django_assert_num_queries(6):
        response = client.get("/organisations/")
    assert len(response.context["organisations"]) == count


def test_language_switch_is_remembered_on_the_profile(web, staff_a):
    client = web(staff_a)
    response = client.post("/i18n/setlang/", {"language": "da", "next": "/me/"})
    assert (response.status_code, response["Location"]) == (302, "/me/")
    assert Person.unscoped_objects.get(pk=staff_a.pk).preferred_language == "da"
    page = web(staff_a).get("/me/")  # a fresh session: the profile decides
    assert page["Content-Language"] == "da"


def test_settings_form_error_keeps_what_was_typed(web, staff_a):
    response = web(staff_a).post(
        "/me/settings/", {"phone": "040-1", "languages": ["sv", "not a code"], "job_title": "Kurator"}
    )
    assert response.status_code == 400
    assert b'value="040-1"' in response.content
    assert b'value="sv"' in response.content
    assert Person.unscoped_objects.get(pk=staff_a.pk).phone == ""


def test_settings_saves_profile_and_email_choices(web, staff_a):
    response = web(staff_a).post(
        "/me/settings/",
        {
            "phone": "040-1",
            "languages": ["sv", "ar"],
            "preferred_language": "en",
            "email_outbox.failed": "on",
        },
    )
    assert response.status_code == 302
    person = Person.unscoped_objects.get(pk=staff_a.pk)
    assert (person.phone, person.languages, person.preferred_language) == ("040-1", ["sv", "ar"], "en")
    chosen = dict(
        NotificationPreference.unscoped_objects.filter(person=staff_a).values_list("kind", "email_enabled")
    )
    assert (chosen["outbox.failed"], chosen["seminars.enrolment"]) == (True, False)


def test_settings_do_not_offer_calendar_invites_as_a_choice(web, staff_a):
    client = web(staff_a)

    page = client.get("/me/settings/")
    saved = client.post("/me/settings/", {"phone": "", "email_calendar.invite": "on"})

    assert page.status_code == 200
    assert "calendar.invite" not in [kind["key"] for kind in page.context["kinds"]]
    assert b'name="email_calendar.invite"' not in page.content
    assert (
        b"Calendar invites, updates and cancellations always come by email, so that your calendar stays up "
        b"to date." in page.content
    )
    assert saved.status_code == 302
    assert NotificationPreference.unscoped_objects.filter(person=staff_a, kind="calendar.invite").count() == 0


def test_notifications_are_personal(web, programme, staff_a, staff_b):
    Notification.unscoped_objects.create(programme=programme, recipient=staff_b, kind="x", title="Till B")
    mine = Notification.unscoped_objects.create(
        programme=programme, recipient=staff_a, kind="x", title="Till A"
    )
    page = web(staff_a).get("/notifications/")
    assert [n.title for n in page.context["notifications"]] == ["Till A"]
    web(staff_a).post("/notifications/read/", {"id": str(mine.pk)})
    assert Notification.unscoped_objects.get(pk=mine.pk).read_at is not None


def test_mark_read_cannot_touch_someone_elses(web, programme, staff_a, staff_b):
    theirs = Notification.unscoped_objects.create(programme=programme, recipient=staff_b, kind="x", title="B")
    web(staff_a).post("/notifications/read/", {"id": str(theirs.pk)})
    assert Notification.unscoped_objects.get(pk=theirs.pk).read_at is None


def test_switch_programme_only_to_own_memberships(web, programme, other_programme, staff_a, org_a):
    client = web(staff_a)
    refused = client.post("/programme/", {"programme": str(other_programme.pk)})
    assert refused.status_code == 404
    membership = Membership.unscoped_objects.create(programme=other_programme, person=staff_a)
    RoleAssignment.unscoped_objects.create(membership=membership, role="staff")
    accepted = web(staff_a).post("/programme/", {"programme": str(other_programme.pk)})
    assert accepted.status_code == 302


def test_calendar_feed_serves_the_persons_feed(client, staff_a):
    response = client.get(f"/calendar/{staff_a.calendar_token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    again = client.get(f"/calendar/{staff_a.calendar_token}.ics", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_calendar_feed_unknown_and_rotated_tokens_are_404(client, web, staff_a):
    old = staff_a.calendar_token
    unknown = client.get("/calendar/not-a-token.ics")
    web(staff_a).post("/me/calendar/rotate/")
    rotated = client.get(f"/calendar/{old}.ics")
    fresh = client.get(f"/calendar/{Person.unscoped_objects.get(pk=staff_a.pk).calendar_token}.ics")
    assert unknown.status_code == rotated.status_code == 404
    assert _without_csrf(unknown.content) == _without_csrf(rotated.content)
    assert b"VCALENDAR" not in rotated.content
    assert fresh.status_code == 200


def test_pages_answer_404_with_the_same_body_for_anonymous_feed_guess(client):
    assert client.get("/calendar/" + "x" * 80 + ".ics").status_code == 404


def test_admin_is_for_programme_admins_only(web, staff_a, programme_admin):
    assert web(staff_a).get("/admin/").status_code == 302
    assert web(programme_admin).get("/admin/").status_code == 200


def test_admin_shows_only_own_programme(web, programme_admin, staff_a, outsider, org_other):
    client = web(programme_admin)
    people = client.get("/admin/organisations/person/")
    assert people.status_code == 200
    names = [p.full_name for p in people.context["cl"].result_list]
    assert staff_a.full_name in names and outsider.full_name not in names
    foreign = client.get(f"/admin/organisations/organisation/{org_other.pk}/change/")
    assert foreign.status_code == 302  # the admin's "does not exist" redirect, same as for a missing id
    missing = client.get("/admin/organisations/organisation/987654/change/")
    assert missing.status_code == 302


def test_healthz(client, db):
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")


def test_api_docs_and_schema_render(web, staff_a):
    client = web(staff_a)
    assert client.get("/api/docs/").status_code == 200
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/people/me/" in schema.content


def test_member_of_two_programmes_sees_current_one_only(web, programme, other_programme, org_a, org_other):
    person = make_member(programme, org_a)
    membership = Membership.unscoped_objects.create(programme=other_programme, person=person)
    RoleAssignment.unscoped_objects.create(membership=membership, role="staff")
    client = web(person)
    client.post("/programme/", {"programme": str(programme.pk)})
    page = client.get("/organisations/")
    assert [o.name for o in page.context["organisations"]] == ["Migrationsverket"]
    client.post("/programme/", {"programme": str(other_programme.pk)})
    page = client.get("/organisations/")
    assert [o.name for o in page.context["organisations"]] == ["Jobcenter København"]


def test_calendar_feed_is_rebuilt_when_an_event_changes_and_served_from_cache_otherwise(
    client, staff_a, monkeypatch, settings
):
    # The body kept by its events' fingerprint, below the per-person entry (which a provider outside the
    # database cannot renew; tests/coordinator/test_personal_feed.py covers that entry and its stamp).
    settings.CALENDAR_FEED_CACHE = False
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from coordinator.core import registry
    from coordinator.core.calendar import CalendarEvent
    from coordinator.pages.views import feed

    start = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    state = {"summary": "Auskultation", "builds": 0}

    def provider(person):
        return [
            CalendarEvent(
                uid="feed-test@samverkan.example",
                summary=state["summary"],
                start=start,
                end=start + timedelta(hours=6),
            )
        ]

    real_build = feed.feed_text

    def counting_build(*args, **kwargs):
        state["builds"] += 1
        return real_build(*args, **kwargs)

    monkeypatch.setattr(registry.calendar_providers, "_entries", {"test": (1, provider)})
    monkeypatch.setattr(feed, "feed_text", counting_build)
    url = f"/calendar/{staff_a.calendar_token}.ics"

    first = client.get(url)
    second = client.get(url)
    assert (first.content, first["ETag"]) == (second.content, second["ETag"])
    assert state["builds"] == 1
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert state["builds"] == 1

    state["summary"] = "Auskultation – flyttad"
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    events = icalendar.Calendar.from_ical(changed.content).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Auskultation – flyttad"]
    assert state["builds"] == 2


def test_settings_offer_languages_by_name_in_the_readers_language(web, staff_a):
    client = web(staff_a)
    client.post("/i18n/setlang/", {"language": "sv"})
    content = client.get("/me/settings/").content.decode()
    assert '<input type="checkbox" name="languages" value="ar" id="id_languages_4">' in content
    assert '<label for="id_languages_4">' in content
    labels = re.findall(r'<label for="id_languages_\d+">\s*<input[^>]*>\s*([^<]+?)\s*</label>', content)
    assert labels[:5] == ["svenska", "danska", "norska", "engelska", "arabiska"]
    assert re.findall(r'<option value="(sv|da|en)"[^>]*>([^<]+)</option>', content)[-3:] == [
        ("sv", "svenska"),
        ("da", "dansk"),
        ("en", "English"),
    ]


def test_my_page_query_count_with_a_line_manager_outside_the_programme(
    web, programme, other_programme, org_a, unit_a, org_other, django_assert_num_queries
):
    manager = make_member(other_programme, org_other, "line_manager")
    manager.user.first_name, manager.user.last_name = "Karin", "Lund"
    manager.user.save()
    person = make_member(programme, org_a, "staff", unit=unit_a, line_manager=manager)
    client = web(person)
    client.get("/me/")

    # Session, user, the identity (person, memberships and unread count in one query); the person's stamp
    # with the line manager and their name (the history is kept under the stamp: read on the first request
    # only); the competence profile: the programme's competences with their sources (none defined: nothing
    # else to read; no role at work in the memberships the actor read, so no role to name).
    with django_assert_num_queries(5):
        response = client.get("/me/")

    assert response.status_code == 200
    assert "<dt>Line manager</dt><dd>Karin Lund</dd>" in response.content.decode()


def test_calendar_feed_query_count(client, programme, staff_a, django_assert_num_queries, settings):
    programme.time_zone = "Europe/Copenhagen"
    programme.save(update_fields=["time_zone"])
    client.get(f"/calendar/{staff_a.calendar_token}.ics")

    # Unchanged: the person with their stamp, and the entry kept under it.
    with django_assert_num_queries(1):
        kept = client.get(f"/calendar/{staff_a.calendar_token}.ics")
    settings.CALENDAR_FEED_CACHE = False
    # Built: the person with their stamp (with what the actor needs of them), the memberships with their
    # programmes; the three features' events; the calendar copies' sequences.
    with django_assert_num_queries(6):
        response = client.get(f"/calendar/{staff_a.calendar_token}.ics")

    assert response.status_code == 200
    assert kept.content == response.content
    # The zone of the person's programme, taken from the memberships the actor read.
    assert b"X-WR-TIMEZONE:Europe/Copenhagen" in response.content
