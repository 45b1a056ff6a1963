"""Property: whatever sequence of changes a visit goes through (a day moved, the workplace renamed or given a
new address, another host contact, a cancellation), every person's last message per UID describes exactly
what the platform shows them (the current event, or a cancellation when it shows them none), and the
SEQUENCE of the messages each person gets for one UID strictly rises."""

from __future__ import annotations

from datetime import date, time

import icalendar
import pytest
from django.db import transaction
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.core.calendar import mail_address
from coordinator.core.models import OutboundEmail
from shadowing import invites
from shadowing.models import Placement, PlacementDay
from shadowing.services import placements, workplaces
from tests.factories import make_member
from tests.factories.shadowing import SlotFactory, make_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scope")]
P = Placement.Status

changes = st.lists(
    st.one_of(
        st.tuples(st.just("move"), st.integers(0, 1), st.sampled_from([8, 9, 10])),
        st.tuples(st.just("rename"), st.sampled_from(["Mottagningsenheten", "Enhet Syd", "Enhet Norr"])),
        st.tuples(st.just("re-address"), st.sampled_from(["Storgatan 1", "Nya vägen 2", "Kajen 3"])),
        st.tuples(st.just("host"), st.integers(0, 2)),
        st.tuples(st.just("cancel")),
    ),
    max_size=7,
)


class _Rollback(Exception):
    pass


def _what_the_platform_shows(placement: Placement) -> dict[tuple[int, str], icalendar.Event]:
    """(person, UID) → the event as the platform shows it now, built by the platform's own event builder."""
    placement = Placement.objects.select_related(*invites.PLACEMENT_RELATED).get(pk=placement.pk)
    if placement.status != P.CONFIRMED:
        return {}
    days = list(PlacementDay.objects.filter(placement=placement).order_by("date", "starts_at", "pk"))
    shown = {}
    for person in {p.pk: p for p in (placement.request.requester, placement.workplace.contact)}.values():
        with translation.override(person.language_in(placement.programme)):
            for index, day in enumerate(days, start=1):
                event = invites.visit_event(placement, day, index=index, total=len(days), with_people=True)
                shown[(person.pk, event.uid)] = event
    return shown


def _check(placement: Placement) -> None:
    shown = _what_the_platform_shows(placement)
    rows = OutboundEmail.unscoped_objects.exclude(ics_method="").order_by("pk")
    last: dict[tuple[int, str], tuple[str, icalendar.Event]] = {}
    sequences: dict[tuple[int, str], list[int]] = {}
    for row in rows:
        event = icalendar.Calendar.from_ical(row.ics_content).walk("VEVENT")[0]
        key = (row.recipient_id, str(event["UID"]))
        last[key] = (row.ics_method, event)
        sequences.setdefault(key, []).append(int(event["SEQUENCE"]))
    for key, numbers in sequences.items():
        assert numbers == sorted(set(numbers)), (key, numbers)
    assert {key for key, (method, _e) in last.items() if method == "REQUEST"} == set(shown)
    for key, expected in shown.items():
        _method, event = last[key]
        assert str(event["SUMMARY"]) == expected.summary
        assert str(event["LOCATION"]) == expected.location
        assert str(event["DESCRIPTION"]) == expected.description
        assert event.decoded("DTSTART") == expected.start
        assert event.decoded("DTEND") == expected.end
        attendees = event["ATTENDEE"] if isinstance(event["ATTENDEE"], list) else [event["ATTENDEE"]]
        assert sorted(str(a) for a in attendees) == sorted(
            f"mailto:{mail_address(a.email)}" for a in expected.attendees
        )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=changes)
def test_last_message_per_person_and_uid_is_what_the_platform_shows(
    steps, programme, org_a, unit_a, shadower, host_a, workplace_a, make_placement, as_actor
):
    try:
        with transaction.atomic():
            workplace_a.refresh_from_db()  # the previous example's changes were rolled back
            hosts = [host_a] + [make_member(programme, org_a, "host_contact", unit=unit_a) for _ in range(2)]
            slots = [
                SlotFactory(
                    workplace=workplace_a, date=date(2030, 3, day), starts_at=time(9), ends_at=time(15)
                )
                for day in (12, 13)
            ]
            placement = make_placement(make_request(programme, shadower, days=2), slots, P.HOST_ACCEPTED)
            placements.placement_confirm(
                actor=as_actor(shadower), placement=placement, accept_confidentiality=True
            )
            for step in steps:
                workplace_a.refresh_from_db()
                placement.refresh_from_db()
                editor = as_actor(workplace_a.contact)
                if step[0] == "move":
                    slots[step[1]].refresh_from_db()
                    workplaces.slot_update(
                        actor=editor, slot=slots[step[1]], values={"starts_at": time(step[2])}
                    )
                elif step[0] == "rename":
                    workplaces.workplace_update(actor=editor, workplace=workplace_a, values={"name": step[1]})
                elif step[0] == "re-address":
                    workplaces.workplace_update(
                        actor=editor, workplace=workplace_a, values={"street_address": step[1]}
                    )
                elif step[0] == "host":
                    workplaces.workplace_update(
                        actor=editor, workplace=workplace_a, values={"contact": hosts[step[1]]}
                    )
                elif placement.status == P.CONFIRMED:
                    placements.placement_cancel(actor=as_actor(shadower), placement=placement, reason="Sjuk")
                _check(placement)
            raise _Rollback
    except _Rollback:
        pass
