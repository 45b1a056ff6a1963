"""Every change of a visit reaches both calendars: workplace address and host contact, organiser, addresses.

The mails are parsed back from the outbox (and, for addresses, from the message Django sends)."""

from __future__ import annotations

from datetime import date, time

import icalendar
import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from coordinator.core.models import CalendarCopy, OutboundEmail
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
