"""Every change of a visit reaches both calendars: workplace address and host contact, organiser, addresses.

The mails are parsed back from the outbox (and, for addresses, from the message Django sends)."""

from __future__ import annotations

from datetime import date, time, timedelta

import icalendar
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.http import http_date

from coordinator.core.models import CalendarCopy, Notification, OutboundEmail
from organisations.permissions import actor_for
from organisations.services import people, personal_data
from organisations.services.programmes import programme_update
from shadowing.models import Placement
from shadowing.services import placements, workplaces
from tests.factories import make_member
from tests.factories.shadowing import SlotFactory, make_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scope")]
P = Placement.Status


def _messages(person):
    rows = OutboundEmail.unscoped_objects.filter(recipient=person).exclude(ics_method="").order_by("pk")
    return [(row, icalendar.Calendar.from_ical(row.ics_content).walk("VEVENT")[0]) for row in rows]


@pytest.fixture
def visit(programme, shadower, workplace_a, make_placement, as_actor):
    programme.coordinator_email = "samordnare@malmo.example"
    programme.save(update_fields=["coordinator_email"])
    slot = SlotFactory(workplace=workplace_a, date=date(2030, 3, 12), starts_at=time(9), ends_at=time(15))
    placement = make_placement(make_request(programme, shadower), [slot], P.HOST_ACCEPTED)
    placements.placement_confirm(actor=as_actor(shadower), placement=placement, accept_confidentiality=True)
    return placement


def test_new_workplace_address_updates_both_calendars_once(visit, shadower, host_a, workplace_a, as_actor):
    workplaces.workplace_update(
        actor=as_actor(host_a), workplace=workplace_a, values={"street_address": "Nya vägen 1"}
    )
    workplaces.workplace_update(
        actor=as_actor(host_a), workplace=workplace_a, values={"street_address": "Nya vägen 1"}
    )

    for person in (shadower, host_a):
        sent = _messages(person)
        assert [(row.ics_method, int(event["SEQUENCE"])) for row, event in sent] == [
            ("REQUEST", 0),
            ("REQUEST", 1),
        ]
        assert str(
            sent[1][1]["LOCATION"]
        ) == f"Mottagningsenheten, Nya vägen 1, {workplace_a.postal_code} " + (workplace_a.city)
        assert sent[1][0].subject.startswith(f"[{visit.programme.name}] Updated: Shadowing:")


def test_new_host_contact_gets_the_invite_and_the_old_one_a_cancel(
    programme, visit, shadower, host_a, org_a, unit_a, workplace_a, as_actor
):
    new_host = make_member(programme, org_a, "host_contact", unit=unit_a)

    workplaces.workplace_update(actor=as_actor(host_a), workplace=workplace_a, values={"contact": new_host})

    uid = f"shadowing-visit-{visit.pk}-{visit.days.get().pk}@samverkan.example"
    old = _messages(host_a)
    assert [(row.ics_method, str(e["UID"]), int(e["SEQUENCE"])) for row, e in old] == [
        ("REQUEST", uid, 0),
        ("CANCEL", uid, 1),
    ]
    assert old[1][0].subject.startswith(f"[{programme.name}] No longer in your calendar: Shadowing:")
    assert "You no longer take part, so the event has been removed from your calendar." in old[1][0].body_text
    new = _messages(new_host)
    assert [(row.ics_method, str(e["UID"]), int(e["SEQUENCE"])) for row, e in new] == [("REQUEST", uid, 1)]
    attendees = sorted(str(a) for a in new[0][1]["ATTENDEE"])
    assert attendees == sorted([f"mailto:{shadower.user.email}", f"mailto:{new_host.user.email}"])
    # The visitor's copy names the new host contact too.
    shadower_sent = _messages(shadower)
    assert [(row.ics_method, int(e["SEQUENCE"])) for row, e in shadower_sent] == [
        ("REQUEST", 0),
        ("REQUEST", 1),
    ]
    assert new_host.full_name in str(shadower_sent[1][1]["DESCRIPTION"])


def test_cancelled_visit_is_worded_as_cancelled(visit, shadower, as_actor):
    placements.placement_cancel(actor=as_actor(shadower), placement=visit, reason="Sjuk")

    row, event = _messages(shadower)[-1]
    assert (row.ics_method, int(event["SEQUENCE"]), str(event["STATUS"])) == ("CANCEL", 1, "CANCELLED")
    assert "This event has been cancelled and removed from your calendar." in row.body_text


def test_attendee_is_exactly_the_address_the_mail_goes_to(
    programme, shadower, workplace_a, make_placement, as_actor, django_capture_on_commit_callbacks
):
    shadower.user.email = "maria@regionskåne.example"
    shadower.user.save(update_fields=["email"])
    slot = SlotFactory(workplace=workplace_a, date=date(2030, 3, 12), starts_at=time(9), ends_at=time(15))
    placement = make_placement(make_request(programme, shadower), [slot], P.HOST_ACCEPTED)

    with django_capture_on_commit_callbacks(execute=True):
        placements.placement_confirm(
            actor=as_actor(shadower), placement=placement, accept_confidentiality=True
        )

    punycode = "maria@xn--regionskne-85a.example"
    [sent] = [m for m in mail.outbox if m.to == [punycode]]
    message = sent.message()
    assert message["To"] == punycode
    [calendar] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    event = icalendar.Calendar.from_ical(calendar.get_payload(decode=True)).walk("VEVENT")[0]
    assert f"mailto:{punycode}" in [str(a) for a in event["ATTENDEE"]]
    assert str(event["ORGANIZER"]) == f"mailto:{programme.coordinator_email}"


def test_organiser_is_kept_for_the_events_life(programme, programme_admin, visit, shadower, host_a, as_actor):
    programme_update(
        actor=as_actor(programme_admin), programme=programme, values={"coordinator_email": "ny@malmo.example"}
    )
    workplaces.workplace_update(
        actor=as_actor(host_a), workplace=visit.workplace, values={"street_address": "Nya vägen 1"}
    )

    organisers = [str(e["ORGANIZER"]) for _row, e in _messages(shadower)]
    assert organisers == ["mailto:samordnare@malmo.example", "mailto:samordnare@malmo.example"]
    assert set(CalendarCopy.unscoped_objects.values_list("organizer", flat=True)) == {
        "samordnare@malmo.example"
    }


def test_organiser_mailbox_cannot_be_a_members_address(programme, programme_admin, shadower, as_actor):
    with pytest.raises(ValidationError) as error:
        programme_update(
            actor=as_actor(programme_admin),
            programme=programme,
            values={"coordinator_email": shadower.user.email.upper()},
        )
    assert error.value.message_dict == {
        "coordinator_email": [
            "This is a member's own address. Use a shared mailbox that takes part in no event."
        ]
    }


# --- A person's own details, shown in the visit's event -----------------------------------------------------


def _held_an_hour_ago(placement):
    """As if the visit's invites had gone out an hour ago (a change now is then a later second)."""
    earlier = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    CalendarCopy.unscoped_objects.update(changed_at=earlier)
    Placement.unscoped_objects.filter(pk=placement.pk).update(updated_at=earlier)
    return earlier


def test_host_contacts_new_phone_updates_both_calendars_and_the_feed(
    client, visit, shadower, host_a, web, django_capture_on_commit_callbacks
):
    earlier = _held_an_hour_ago(visit)
    before = client.get(f"/calendar/{shadower.calendar_token}.ics")

    with django_capture_on_commit_callbacks(execute=True):
        saved = web(host_a).post("/me/settings/", {"phone": "040-999 99 99", "preferred_language": "en"})
    after = client.get(f"/calendar/{shadower.calendar_token}.ics")
    revalidated = client.get(
        f"/calendar/{shadower.calendar_token}.ics", HTTP_IF_MODIFIED_SINCE=before["Last-Modified"]
    )

    assert saved.status_code == 302
    uid = f"shadowing-visit-{visit.pk}-{visit.days.get().pk}@samverkan.example"
    for person in (shadower, host_a):
        sent = _messages(person)
        assert [(row.ics_method, str(e["UID"]), int(e["SEQUENCE"])) for row, e in sent] == [
            ("REQUEST", uid, 0),
            ("REQUEST", uid, 1),
        ]
        assert "Phone: 040-999 99 99" not in str(sent[0][1]["DESCRIPTION"])
        assert "Phone: 040-999 99 99" in str(sent[1][1]["DESCRIPTION"]).split("\n")
        assert sent[1][0].subject.startswith(f"[{visit.programme.name}] Updated: Shadowing:")
    copy = CalendarCopy.unscoped_objects.get(person=shadower, uid=uid)
    assert copy.changed_at > earlier
    assert before["Last-Modified"] == http_date(earlier.timestamp())
    assert after["Last-Modified"] == http_date(int(copy.changed_at.timestamp()))
    [event] = icalendar.Calendar.from_ical(after.content).walk("VEVENT")
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (uid, 1)
    assert event.decoded("LAST-MODIFIED") == copy.changed_at.replace(microsecond=0)
    assert "Phone: 040-999 99 99" in str(event["DESCRIPTION"]).split("\n")
    assert revalidated.status_code == 200


def test_visitors_new_phone_is_in_no_event_and_sends_nothing(
    visit, shadower, host_a, as_actor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        people.person_update(actor=as_actor(shadower), person=shadower, values={"phone": "040-123 45 67"})

    for person in (shadower, host_a):
        assert [int(e["SEQUENCE"]) for _row, e in _messages(person)] == [0]


def test_host_contacts_phone_changed_in_the_admin_updates_both_calendars(
    visit, shadower, host_a, programme_admin, web, django_capture_on_commit_callbacks
):
    client = web(programme_admin)
    url = f"/admin/organisations/person/{host_a.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, False)}

    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(url, {**data, "phone": "040-222 22 22", "_save": "Save"})

    assert saved.status_code == 302
    for person in (shadower, host_a):
        sent = _messages(person)
        assert [(row.ics_method, int(e["SEQUENCE"])) for row, e in sent] == [("REQUEST", 0), ("REQUEST", 1)]
        assert "Phone: 040-222 22 22" in str(sent[1][1]["DESCRIPTION"]).split("\n")


def test_erased_host_contact_leaves_the_visitors_calendar_and_is_sent_nothing(
    programme, visit, shadower, host_a, programme_admin, django_capture_on_commit_callbacks
):
    host_a.phone = "040-333 33 33"
    host_a.save(update_fields=["phone"])
    name, address = host_a.full_name, host_a.user.email

    with django_capture_on_commit_callbacks(execute=True):
        personal_data.person_erase(actor=actor_for(programme_admin.user), person=host_a, programme=programme)

    sent = _messages(shadower)
    assert [(row.ics_method, int(e["SEQUENCE"])) for row, e in sent] == [("REQUEST", 0), ("REQUEST", 1)]
    event = sent[1][1]
    assert "Host contact: Former member" in str(event["DESCRIPTION"]).split("\n")
    assert name not in event.to_ical().decode()
    assert address not in event.to_ical().decode() and "040-333 33 33" not in event.to_ical().decode()
    assert str(event["ATTENDEE"]) == f"mailto:{shadower.user.email}"  # the only attendee left
    assert OutboundEmail.unscoped_objects.filter(recipient=host_a).count() == 0
    assert Notification.unscoped_objects.filter(recipient=host_a).count() == 0
    assert CalendarCopy.unscoped_objects.filter(person=host_a).count() == 0
