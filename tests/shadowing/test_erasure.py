"""Erasing a person: their visits not yet made are cancelled (seats freed, host told without their name),
visits made keep their history, and open requests leave the matching pool."""

from __future__ import annotations

from coordinator.core.models import Notification, OutboundEmail
from organisations.permissions import actor_for
from organisations.services import personal_data
from shadowing.models import Placement, PlacementEvent, ShadowingRequest, Slot
from tests.factories.shadowing import SlotFactory, future_weekday, make_request


def test_erasure_cancels_coming_visits_and_keeps_made_ones(
    programme, shadower, host_a, workplace_a, slot_a, programme_admin, make_placement, scope
):
    name = shadower.full_name
    coming = make_placement(make_request(programme, shadower), [slot_a], Placement.Status.CONFIRMED)
    past_slot = SlotFactory(workplace=workplace_a, date=future_weekday(2), capacity=1)
    made = make_placement(make_request(programme, shadower), [past_slot], Placement.Status.VISITED)
    waiting = make_request(programme, shadower)

    personal_data.person_erase(actor=actor_for(programme_admin.user), person=shadower, programme=programme)

    coming.refresh_from_db()
    made.refresh_from_db()
    assert coming.status == Placement.Status.CANCELLED
    assert Slot.unscoped_objects.get(pk=slot_a.pk).booked == 0
    assert made.status == Placement.Status.VISITED
    assert Slot.unscoped_objects.get(pk=past_slot.pk).booked == 1
    assert list(
        PlacementEvent.unscoped_objects.filter(placement=made).values_list("to_status", flat=True)
    ) == ["visited"]
    assert ShadowingRequest.unscoped_objects.get(pk=waiting.pk).status == ShadowingRequest.Status.WITHDRAWN
    # The host hears of the cancellation, without the erased person's name.
    told = Notification.unscoped_objects.filter(recipient=host_a).exclude(kind="calendar.invite").get()
    assert told.title == f"The visit of Former member to {workplace_a.name} is cancelled"
    # The mails to the host (the notice, and a calendar CANCEL where the host holds the event) never carry
    # the erased person's name or address.
    mails = list(OutboundEmail.unscoped_objects.filter(recipient=host_a))
    assert mails
    for mail in mails:
        assert name not in mail.subject and name not in mail.body_text
        assert name not in mail.ics_content and shadower.email not in mail.ics_content
