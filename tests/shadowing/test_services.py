"""The rules of the shadowing services: who may edit workplaces, slots, requests and their approval, the
own-organisation rule, matching runs and their confirmation, the placement workflow and its role checks."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from coordinator.core import formatting
from coordinator.core.exceptions import Conflict
from coordinator.core.models import CalendarCopy, Notification, OutboundEmail
from organisations.models import Membership, Person, PlatformRole, RoleAssignment
from organisations.permissions import forget_actor
from shadowing import invites, kinds, permissions
from shadowing.models import (
    MatchingRun,
    Placement,
    PlacementEvent,
    ShadowingRequest,
    Slot,
    Workplace,
)
from shadowing.services import matching_runs, placements, reflections, shadowing_requests, workplaces
from tests.factories import make_member
from tests.factories.shadowing import SlotFactory, future_weekday, make_request

pytestmark = pytest.mark.django_db
R = PlatformRole
P = Placement.Status
RS = ShadowingRequest.Status


def _kinds(person) -> list[str]:
    return list(
        Notification.unscoped_objects.filter(recipient=person).order_by("pk").values_list("kind", flat=True)
    )


# --- Workplaces -----------------------------------------------------------------------------------------


def _may_edit(person: Person, workplace: Workplace) -> bool:
    """The ``shadowing.change_workplace`` right as Django's permission check answers it now."""
    forget_actor(person.user)
    return person.user.has_perm("shadowing.change_workplace", workplace)


def test_workplace_create_by_host_contact_is_editable_by_the_organisations_host_contacts_at_once(
    scope, programme, org_a, host_a, host_b, staff_a, as_actor, topic
):
    other_host = make_member(programme, org_a, R.HOST_CONTACT)
    workplace = workplaces.workplace_create(
        actor=as_actor(host_a),
        programme=programme,
        organisation=org_a,
        values={
            "name": "Asylprövning",
            "street_address": "Carlsgatan 12",
            "city": "Malmö",
            "description": "Sitt med vid asylutredningar.",
            "max_visitors_per_day": 2,
        },
        topics=[topic],
    )
    editors = {person.pk for person in (host_a, other_host, host_b, staff_a) if _may_edit(person, workplace)}
    assert editors == {host_a.pk, other_host.pk}
    assert workplace.contact == host_a
    assert list(workplace.topics.all()) == [topic]
    assert permissions.can_edit_workplace(as_actor(other_host), workplace) is True


def test_workplace_create_for_another_organisation_is_refused(scope, programme, org_b, host_a, as_actor):
    with pytest.raises(PermissionDenied):
        workplaces.workplace_create(
            actor=as_actor(host_a),
            programme=programme,
            organisation=org_b,
            values={"name": "X", "street_address": "Y", "city": "Malmö", "description": "Z"},
        )
    assert Workplace.unscoped_objects.count() == 0


@pytest.mark.parametrize("who", ["host_b", "coordinator", "staff_a", "outsider"])
def test_workplace_update_by_anyone_but_its_organisations_hosts_and_admins_is_refused(
    scope, workplace_a, as_actor, request, who
):
    person = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        workplaces.workplace_update(
            actor=as_actor(person), workplace=workplace_a, values={"name": "Nytt namn"}
        )
    workplace_a.refresh_from_db()
    assert workplace_a.name == "Mottagningsenheten"


def test_workplace_update_by_host_contact_and_organisation_admin(
    scope, workplace_a, host_a, org_admin_a, as_actor
):
    workplaces.workplace_update(actor=as_actor(host_a), workplace=workplace_a, values={"city": "Lund"})
    workplaces.workplace_update(
        actor=as_actor(org_admin_a), workplace=workplace_a, values={"max_visitors_per_day": 4}
    )
    workplace_a.refresh_from_db()
    assert (workplace_a.city, workplace_a.max_visitors_per_day) == ("Lund", 4)


def test_person_made_host_contact_edits_the_workplace_at_once_and_loses_it_with_the_role(
    scope, programme, workplace_a, org_a, as_actor
):
    colleague = make_member(programme, org_a, R.STAFF)
    assert permissions.can_edit_workplace(as_actor(colleague), workplace_a) is False
    membership = Membership.unscoped_objects.get(person=colleague, programme=programme)
    RoleAssignment.unscoped_objects.create(membership=membership, role=R.HOST_CONTACT)

    # No job runs in between: the right follows the role.
    workplaces.workplace_update(actor=as_actor(colleague), workplace=workplace_a, values={"city": "Lund"})
    assert _may_edit(colleague, workplace_a) is True

    RoleAssignment.unscoped_objects.filter(membership=membership, role=R.HOST_CONTACT).delete()
    assert _may_edit(colleague, workplace_a) is False
    with pytest.raises(PermissionDenied):
        workplaces.workplace_update(
            actor=as_actor(colleague), workplace=workplace_a, values={"city": "Ystad"}
        )
    workplace_a.refresh_from_db()
    assert workplace_a.city == "Lund"


def test_workplace_contact_of_another_organisation_is_refused(scope, workplace_a, host_a, host_b, as_actor):
    with pytest.raises(ValidationError) as error:
        workplaces.workplace_update(actor=as_actor(host_a), workplace=workplace_a, values={"contact": host_b})
    assert list(error.value.message_dict) == ["contact"]


# --- Slots ----------------------------------------------------------------------------------------------


def test_slots_bulk_create_every_tuesday_and_thursday(scope, workplace_a, host_a, as_actor):
    monday = future_weekday(0)
    created = workplaces.slots_bulk_create(
        actor=as_actor(host_a),
        workplace=workplace_a,
        starts_on=monday,
        ends_on=monday + timedelta(days=20),
        weekdays=[1, 3],
        starts_at=time(9),
        ends_at=time(15),
        capacity=2,
    )
    assert [s.date for s in created.created] == [monday + timedelta(days=d) for d in (1, 3, 8, 10, 15, 17)]
    assert {s.capacity for s in created.created} == {2}
    assert created.skipped_days_off == {}
    again = workplaces.slots_bulk_create(
        actor=as_actor(host_a),
        workplace=workplace_a,
        starts_on=monday,
        ends_on=monday + timedelta(days=20),
        weekdays=[1, 3],
        starts_at=time(9),
        ends_at=time(15),
        capacity=2,
    )
    assert again.created == []
    assert Slot.unscoped_objects.filter(workplace=workplace_a).count() == 6


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weekdays": []}, "weekdays"),
        ({"weekdays": [7]}, "weekdays"),
        ({"capacity": 4}, "capacity"),
        ({"ends_at": time(8)}, "ends_at"),
        ({"notes": "x" * 501}, "notes"),
    ],
)
def test_slots_bulk_create_bad_input_saves_nothing(scope, workplace_a, host_a, as_actor, changes, field):
    monday = future_weekday(0)
    values = {
        "starts_on": monday,
        "ends_on": monday + timedelta(days=6),
        "weekdays": [1],
        "starts_at": time(9),
        "ends_at": time(15),
        "capacity": 2,
        **changes,
    }
    with pytest.raises(ValidationError) as error:
        workplaces.slots_bulk_create(actor=as_actor(host_a), workplace=workplace_a, **values)
    assert field in error.value.message_dict
    assert Slot.unscoped_objects.count() == 0


def test_slots_bulk_create_by_other_organisation_is_refused(scope, workplace_a, host_b, as_actor):
    monday = future_weekday(0)
    with pytest.raises(PermissionDenied):
        workplaces.slots_bulk_create(
            actor=as_actor(host_b),
            workplace=workplace_a,
            starts_on=monday,
            ends_on=monday,
            weekdays=[0],
            starts_at=time(9),
            ends_at=time(15),
            capacity=1,
        )


def test_slots_remove_free_keeps_booked_and_past_slots(
    scope, programme, workplace_a, host_a, shadower, as_actor, make_placement
):
    monday = future_weekday(0)
    free = [SlotFactory(workplace=workplace_a, date=monday + timedelta(days=d)) for d in range(3)]
    booked = SlotFactory(workplace=workplace_a, date=monday + timedelta(days=3))
    past = SlotFactory(workplace=workplace_a, date=timezone.localdate() - timedelta(days=2))
    make_placement(make_request(programme, shadower), [booked], P.AWAITING_HOST)
    removed = workplaces.slots_remove_free(
        actor=as_actor(host_a),
        workplace=workplace_a,
        starts_on=timezone.localdate() - timedelta(days=10),
        ends_on=monday + timedelta(days=10),
    )
    assert removed == 3
    assert set(Slot.unscoped_objects.values_list("pk", flat=True)) == {booked.pk, past.pk}
    assert all(not Slot.unscoped_objects.filter(pk=s.pk).exists() for s in free)


def test_slot_delete_with_booking_cancels_tells_the_visitor_and_rematches(
    scope, programme, workplace_a, slot_a, host_a, shadower, coordinator, as_actor, make_placement
):
    request = make_request(programme, shadower)
    placement = make_placement(request, [slot_a], P.CONFIRMED)
    invites.reconcile_placements([placement])  # what the confirmation sent
    cancelled = workplaces.slot_delete(actor=as_actor(host_a), slot=slot_a)
    placement.refresh_from_db()
    request.refresh_from_db()
    assert cancelled == 1
    assert not Slot.unscoped_objects.filter(pk=slot_a.pk).exists()
    assert placement.status == P.CANCELLED
    assert placement.cancel_reason.startswith("The host removed the visit day")
    assert placement.days.get().slot_id is None
    assert request.status == RS.APPROVED
    assert kinds.KIND_PLACEMENT in _kinds(shadower)
    assert kinds.KIND_COORDINATION in _kinds(coordinator)
    # the confirmed visit is removed from both calendars
    assert sorted(
        OutboundEmail.unscoped_objects.filter(ics_method="CANCEL").values_list("to_address", flat=True)
    ) == sorted([shadower.user.email, host_a.user.email])


def test_slot_update_time_moves_the_booked_days_and_sends_an_update(
    scope, programme, slot_a, host_a, shadower, as_actor, make_placement
):
    placement = make_placement(make_request(programme, shadower), [slot_a], P.CONFIRMED)
    invites.reconcile_placements([placement])  # what the confirmation sent
    workplaces.slot_update(
        actor=as_actor(host_a), slot=slot_a, values={"starts_at": time(10), "ends_at": time(14)}
    )
    placement.refresh_from_db()
    day = placement.days.get()
    assert (day.starts_at, day.ends_at) == (time(10), time(14))
    held = CalendarCopy.unscoped_objects.filter(source=f"shadowing.placement:{placement.pk}")
    assert sorted(held.values_list("person_id", "sequence", "method")) == sorted(
        [(shadower.pk, 1, "REQUEST"), (host_a.pk, 1, "REQUEST")]
    )


def test_slot_update_capacity_below_booked_is_refused(
    scope, programme, workplace_a, host_a, shadower, as_actor, make_placement
):
    slot = SlotFactory(workplace=workplace_a, capacity=2)
    make_placement(make_request(programme, shadower), [slot], P.AWAITING_HOST)
    make_placement(
        make_request(programme, make_member(programme, shadower.organisation)), [slot], P.AWAITING_HOST
    )
    with pytest.raises(ValidationError):
        workplaces.slot_update(actor=as_actor(host_a), slot=slot, values={"capacity": 1})
    slot.refresh_from_db()
    assert (slot.capacity, slot.booked) == (2, 2)


# --- Requests and approval ------------------------------------------------------------------------------


def _request_values() -> dict:
    return {"learning_goals": "Lära mig asylprocessen.", "days": 2, "consecutive": True, "languages": ["sv"]}


def _window() -> list[tuple]:
    return [(future_weekday(0), future_weekday(0) + timedelta(days=30))]


def test_request_create_asks_the_line_manager(
    scope, programme, shadower, manager_b, org_a, workplace_a, as_actor, django_capture_on_commit_callbacks
):
    # The line manager is asked by the task queue after the commit.
    with django_capture_on_commit_callbacks(execute=True):
        request = shadowing_requests.request_create(
            actor=as_actor(shadower),
            programme=programme,
            values=_request_values(),
            windows=_window(),
            preferences=[(1, None, workplace_a), (2, org_a, None)],
        )
    assert request.status == RS.PENDING_APPROVAL
    assert request.organisation_id == shadower.organisation_id
    assert [(p.rank, p.workplace_id, p.organisation_id) for p in request.preferences.order_by("rank")] == [
        (1, workplace_a.pk, None),
        (2, None, org_a.pk),
    ]
    assert _kinds(manager_b) == [kinds.KIND_APPROVAL]
    expected_expiry = timezone.now() + timedelta(days=182)
    assert abs((request.expires_at - expected_expiry).total_seconds()) < 60


@pytest.mark.parametrize(
    ("language", "one_day", "two_days"),
    [
        ("sv", "{} vill auskultera i 1 dag", "{} vill auskultera i 2 dagar"),
        ("da", "{} anmoder om jobskygning i 1 dag", "{} anmoder om jobskygning i 2 dage"),
        ("en", "{} asks to go shadowing for 1 day", "{} asks to go shadowing for 2 days"),
    ],
)
def test_the_approval_subject_says_day_or_days_in_the_managers_language(
    scope,
    programme,
    shadower,
    manager_b,
    workplace_a,
    as_actor,
    language,
    one_day,
    two_days,
    django_capture_on_commit_callbacks,
):
    Person.unscoped_objects.filter(pk=manager_b.pk).update(preferred_language=language)
    for days in (1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            shadowing_requests.request_create(
                actor=as_actor(shadower),
                programme=programme,
                values={**_request_values(), "days": days, "consecutive": days > 1},
                windows=_window(),
            )
    titles = list(
        Notification.objects.filter(recipient=manager_b).order_by("pk").values_list("title", flat=True)
    )
    subjects = list(
        OutboundEmail.objects.filter(recipient=manager_b).order_by("pk").values_list("subject", flat=True)
    )
    expected = [one_day.format(shadower.full_name), two_days.format(shadower.full_name)]
    assert (titles, subjects) == (expected, [f"[{programme.name}] {title}" for title in expected])


@pytest.mark.parametrize("target", ["organisation", "workplace"])
def test_request_preferring_own_organisation_is_refused(
    scope, programme, shadower, org_b, workplace_b, as_actor, target
):
    preference = (1, org_b, None) if target == "organisation" else (1, None, workplace_b)
    with pytest.raises(ValidationError) as error:
        shadowing_requests.request_create(
            actor=as_actor(shadower),
            programme=programme,
            values=_request_values(),
            windows=_window(),
            preferences=[preference],
        )
    assert error.value.message_dict == {
        "preferences": ["Shadowing is always at another organisation than your own."]
    }
    assert ShadowingRequest.unscoped_objects.count() == 0


def test_request_with_bad_parts_saves_nothing(scope, programme, shadower, org_a, as_actor):
    with pytest.raises(ValidationError) as error:
        shadowing_requests.request_create(
            actor=as_actor(shadower),
            programme=programme,
            values={**_request_values(), "days": 4, "learning_goals": "x" * 3001},
            windows=[],
            preferences=[(1, org_a, None), (1, org_a, None)],
        )
    assert set(error.value.message_dict) == {"days", "learning_goals"}
    with pytest.raises(ValidationError) as error:
        shadowing_requests.request_create(
            actor=as_actor(shadower),
            programme=programme,
            values=_request_values(),
            windows=[],
            preferences=[(1, org_a, None), (1, org_a, None)],
        )
    assert set(error.value.message_dict) == {"windows", "preferences"}
    assert ShadowingRequest.unscoped_objects.count() == 0


def test_request_by_non_staff_is_refused(scope, programme, org_a, as_actor):
    host_only = make_member(programme, org_a, R.HOST_CONTACT)
    with pytest.raises(PermissionDenied):
        shadowing_requests.request_create(
            actor=as_actor(host_only), programme=programme, values=_request_values(), windows=_window()
        )


def test_request_approve_by_the_line_manager(
    scope, programme, shadower, manager_b, as_actor, django_capture_on_commit_callbacks
):
    request = make_request(programme, shadower, status=RS.PENDING_APPROVAL)
    with django_capture_on_commit_callbacks(execute=True):
        shadowing_requests.request_approve(actor=as_actor(manager_b), request=request, note="Gärna!")
    request.refresh_from_db()
    assert (request.status, request.approved_by, request.decision_note) == (RS.APPROVED, manager_b, "Gärna!")
    assert _kinds(shadower) == [kinds.KIND_REQUEST]


@pytest.mark.parametrize("who", ["shadower", "coordinator", "host_a", "other_manager"])
def test_request_approve_by_anyone_but_the_line_manager_is_refused(
    scope, programme, org_b, unit_b, shadower, as_actor, request, who
):
    person = (
        make_member(programme, org_b, R.LINE_MANAGER, unit=unit_b)
        if who == "other_manager"
        else request.getfixturevalue(who)
    )
    item = make_request(programme, shadower, status=RS.PENDING_APPROVAL)
    with pytest.raises(PermissionDenied):
        shadowing_requests.request_approve(actor=as_actor(person), request=item)
    item.refresh_from_db()
    assert item.status == RS.PENDING_APPROVAL


def test_without_line_manager_a_line_manager_of_the_unit_decides(
    scope, programme, org_b, unit_b, manager_b, as_actor
):
    requester = make_member(programme, org_b, R.STAFF, unit=unit_b)
    elsewhere = make_member(programme, org_b, R.LINE_MANAGER)
    item = make_request(programme, requester, status=RS.PENDING_APPROVAL)
    assert permissions.approvers_of(item) == [manager_b]
    with pytest.raises(PermissionDenied):
        shadowing_requests.request_decline(actor=as_actor(elsewhere), request=item, note="Nej")
    shadowing_requests.request_decline(actor=as_actor(manager_b), request=item, note="Inte nu")
    item.refresh_from_db()
    assert item.status == RS.DECLINED


def test_request_decided_twice_is_a_conflict(scope, programme, shadower, manager_b, as_actor):
    item = make_request(programme, shadower, status=RS.PENDING_APPROVAL)
    stale = ShadowingRequest.unscoped_objects.get(pk=item.pk)
    shadowing_requests.request_approve(actor=as_actor(manager_b), request=item)
    with pytest.raises(Conflict):
        shadowing_requests.request_decline(actor=as_actor(manager_b), request=stale, note="Nej")
    item.refresh_from_db()
    assert item.status == RS.APPROVED


def test_request_withdraw_only_by_requester_and_while_open(scope, programme, shadower, staff_b, as_actor):
    item = make_request(programme, shadower)
    with pytest.raises(PermissionDenied):
        shadowing_requests.request_withdraw(actor=as_actor(staff_b), request=item)
    shadowing_requests.request_withdraw(actor=as_actor(shadower), request=item)
    assert ShadowingRequest.unscoped_objects.get(pk=item.pk).status == RS.WITHDRAWN
    with pytest.raises(Conflict):
        shadowing_requests.request_withdraw(actor=as_actor(shadower), request=item)


def test_pair_requests_needs_different_organisations_that_prefer_each_other(
    scope, programme, org_a, org_b, shadower, staff_a, staff_b, coordinator, as_actor
):
    first = make_request(programme, shadower, preferences=[org_a])
    second = make_request(programme, staff_a, preferences=[org_b])
    same_org = make_request(programme, staff_b, preferences=[org_a])
    with pytest.raises(ValidationError):
        shadowing_requests.pair_requests(actor=as_actor(coordinator), first=first, second=same_org)
    with pytest.raises(PermissionDenied):
        shadowing_requests.pair_requests(actor=as_actor(shadower), first=first, second=second)
    shadowing_requests.pair_requests(actor=as_actor(coordinator), first=first, second=second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.partner_id, second.partner_id) == (second.pk, first.pk)


# --- Matching -------------------------------------------------------------------------------------------


def test_matching_places_only_approved_requests_never_at_own_organisation(
    scope, programme, org_a, org_b, workplace_a, workplace_b, shadower, staff_a, coordinator, as_actor
):
    day = future_weekday(1)
    slot_a = SlotFactory(workplace=workplace_a, date=day, capacity=2)
    slot_b = SlotFactory(workplace=workplace_b, date=day, capacity=2)
    approved = make_request(programme, shadower)
    pending = make_request(programme, make_member(programme, org_b, R.STAFF), status=RS.PENDING_APPROVAL)
    from_a = make_request(programme, staff_a)
    run = matching_runs.matching_run_create(
        actor=as_actor(coordinator), programme=programme, fairness_weight=0
    )
    placements = {p.request_id: p for p in Placement.unscoped_objects.filter(run=run)}
    assert set(placements) == {approved.pk, from_a.pk}
    assert placements[approved.pk].workplace_id == workplace_a.pk
    assert placements[from_a.pk].workplace_id == workplace_b.pk
    assert [d.slot_id for d in placements[approved.pk].days.all()] == [slot_a.pk]
    assert [d.slot_id for d in placements[from_a.pk].days.all()] == [slot_b.pk]
    assert {p.status for p in placements.values()} == {P.PROPOSED}
    assert (run.placed, run.requests_considered, run.status) == (2, 2, MatchingRun.Status.PROPOSED)
    assert run.bound >= run.objective > 0
    assert run.gap == pytest.approx((run.bound - run.objective) / run.bound, abs=1e-6) or run.gap >= 0
    # a proposal holds no seat
    assert Slot.unscoped_objects.get(pk=slot_a.pk).booked == 0
    assert ShadowingRequest.unscoped_objects.get(pk=pending.pk).status == RS.PENDING_APPROVAL


def test_matching_gives_unplaced_requests_a_translated_reason(
    scope, programme, org_b, workplace_a, shadower, coordinator, as_actor
):
    SlotFactory(workplace=workplace_a, date=future_weekday(1), capacity=1)
    first = make_request(programme, shadower, submitted_at=timezone.now() - timedelta(days=2))
    second = make_request(programme, make_member(programme, org_b, R.STAFF))
    own_only = make_request(programme, make_member(programme, workplace_a.organisation, R.STAFF))
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    placed = set(Placement.unscoped_objects.filter(run=run).values_list("request_id", flat=True))
    assert len(placed) == 1 and placed <= {first.pk, second.pk}
    loser = (second if first.pk in placed else first).pk
    assert run.unplaced[str(loser)] == "all_full"
    assert run.unplaced[str(own_only.pk)] == "only_own_organisation"
    # Stored as the code, shown in each reader's language.
    stored = ShadowingRequest.unscoped_objects.get(pk=own_only.pk)
    assert stored.unplaced_code == "only_own_organisation"
    with translation.override("sv"):
        assert stored.unplaced_reason == (
            "Bara din egen organisation erbjuder det du frågade efter, och auskultation sker alltid någon "
            "annanstans."
        )
    with translation.override("en"):
        assert stored.unplaced_reason == (
            "Only your own organisation offers what you asked for, and shadowing is always elsewhere."
        )
    assert ShadowingRequest.unscoped_objects.get(pk=next(iter(placed))).unplaced_code == ""


def test_matching_places_a_reciprocal_pair_both_or_neither(
    scope, programme, org_a, org_b, workplace_a, workplace_b, shadower, staff_a, coordinator, as_actor
):
    first = make_request(programme, shadower, preferences=[org_a])
    second = make_request(programme, staff_a, preferences=[org_b])
    shadowing_requests.pair_requests(actor=as_actor(coordinator), first=first, second=second)
    SlotFactory(workplace=workplace_a, date=future_weekday(1))
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    assert Placement.unscoped_objects.filter(run=run).count() == 0
    # the second has no slot at the first's organisation; the first could go, but not without its partner
    assert run.unplaced == {str(first.pk): "partner_not_placed", str(second.pk): "no_slot_in_window"}
    SlotFactory(workplace=workplace_b, date=future_weekday(2))
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    assert dict(Placement.unscoped_objects.filter(run=run).values_list("request_id", "workplace_id")) == {
        first.pk: workplace_a.pk,
        second.pk: workplace_b.pk,
    }


def test_matching_run_by_non_coordinator_is_refused(scope, programme, shadower, host_a, as_actor):
    for person in (shadower, host_a):
        with pytest.raises(PermissionDenied):
            matching_runs.matching_run_create(actor=as_actor(person), programme=programme)
    assert MatchingRun.unscoped_objects.count() == 0


def test_matching_run_bad_fairness_weight(scope, programme, coordinator, as_actor):
    for bad in (-1, float("nan"), "many", 1000):
        with pytest.raises(ValidationError):
            matching_runs.matching_run_create(
                actor=as_actor(coordinator), programme=programme, fairness_weight=bad
            )


def test_confirm_books_seats_and_asks_hosts(
    scope, programme, workplace_a, slot_a, shadower, host_a, coordinator, as_actor
):
    request = make_request(programme, shadower)
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    matching_runs.matching_run_confirm(actor=as_actor(coordinator), run=run)
    placement = Placement.unscoped_objects.get(run=run)
    request.refresh_from_db()
    slot_a.refresh_from_db()
    run.refresh_from_db()
    assert (run.status, run.confirmed_by) == (MatchingRun.Status.CONFIRMED, coordinator)
    assert placement.status == P.AWAITING_HOST
    assert request.status == RS.PLACED
    assert slot_a.booked == 1
    assert list(placement.events.values_list("from_status", "to_status")) == [
        ("", P.PROPOSED),
        (P.PROPOSED, P.AWAITING_HOST),
    ]
    assert _kinds(host_a) == [kinds.KIND_HOSTING]
    assert _kinds(shadower) == [kinds.KIND_PLACEMENT]


def test_confirm_of_second_run_whose_slot_filled_meanwhile_is_a_conflict_and_changes_nothing(
    scope, programme, org_b, workplace_a, slot_a, shadower, coordinator, programme_admin, as_actor
):
    make_request(programme, shadower)
    make_request(programme, make_member(programme, org_b, R.STAFF))
    first = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    second = matching_runs.matching_run_create(actor=as_actor(programme_admin), programme=programme)
    first_request = Placement.unscoped_objects.get(run=first).request_id
    second_request = Placement.unscoped_objects.get(run=second).request_id
    matching_runs.matching_run_confirm(actor=as_actor(coordinator), run=first)
    with pytest.raises(Conflict) as error:
        matching_runs.matching_run_confirm(actor=as_actor(programme_admin), run=second)
    assert (
        error.value.messages[0] == "Some proposals no longer fit; remove or re-assign them and confirm again."
    )
    second.refresh_from_db()
    slot_a.refresh_from_db()
    assert second.status == MatchingRun.Status.PROPOSED
    assert slot_a.booked == 1
    assert Placement.unscoped_objects.get(run=second).status == P.PROPOSED
    expected = RS.APPROVED if second_request != first_request else RS.PLACED
    assert ShadowingRequest.unscoped_objects.get(pk=second_request).status == expected


def test_hand_edits_assign_and_remove(scope, programme, org_b, workplace_a, shadower, coordinator, as_actor):
    day = future_weekday(1)
    slot_1 = SlotFactory(workplace=workplace_a, date=day, capacity=1)
    slot_2 = SlotFactory(workplace=workplace_a, date=day + timedelta(days=1), capacity=1)
    request = make_request(programme, shadower, status=RS.PENDING_APPROVAL)
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    assert run.placed == 0
    with pytest.raises(ValidationError):  # not approved
        matching_runs.run_edit_assign(
            actor=as_actor(coordinator), run=run, request=request, workplace=workplace_a, slots=[slot_1]
        )
    ShadowingRequest.unscoped_objects.filter(pk=request.pk).update(status=RS.APPROVED)
    request.refresh_from_db()
    placement = matching_runs.run_edit_assign(
        actor=as_actor(coordinator), run=run, request=request, workplace=workplace_a, slots=[slot_2]
    )
    assert [d.slot_id for d in placement.days.all()] == [slot_2.pk]
    other = make_request(programme, make_member(programme, org_b, R.STAFF))
    with pytest.raises(ValidationError) as error:  # slot_2 is taken by the first proposal
        matching_runs.run_edit_assign(
            actor=as_actor(coordinator), run=run, request=other, workplace=workplace_a, slots=[slot_2]
        )
    assert error.value.message_dict == {"slots": [f"The slot on {formatting.day(slot_2.date)} is full."]}
    matching_runs.run_edit_remove(actor=as_actor(coordinator), run=run, placement=placement)
    assert not Placement.unscoped_objects.filter(run=run).exists()
    assert run.unplaced[str(request.pk)] == "removed"


def test_hand_assign_at_own_organisation_is_refused(
    scope, programme, workplace_b, shadower, coordinator, as_actor
):
    slot = SlotFactory(workplace=workplace_b)
    request = make_request(programme, shadower)
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    with pytest.raises(ValidationError) as error:
        matching_runs.run_edit_assign(
            actor=as_actor(coordinator), run=run, request=request, workplace=workplace_b, slots=[slot]
        )
    assert "Shadowing is always at another organisation than the requester's own." in error.value.messages


def test_discard_deletes_proposals(scope, programme, slot_a, shadower, coordinator, as_actor):
    make_request(programme, shadower)
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    matching_runs.matching_run_discard(actor=as_actor(coordinator), run=run)
    assert MatchingRun.unscoped_objects.get(pk=run.pk).status == MatchingRun.Status.DISCARDED
    assert not Placement.unscoped_objects.filter(run=run).exists()
    with pytest.raises(Conflict):
        matching_runs.matching_run_confirm(actor=as_actor(coordinator), run=run)


# --- Placement workflow ---------------------------------------------------------------------------------


def test_full_workflow_records_every_transition(
    scope, programme, slot_a, shadower, host_a, coordinator, as_actor
):
    request = make_request(programme, shadower)
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    matching_runs.matching_run_confirm(actor=as_actor(coordinator), run=run)
    placement = Placement.objects.get(run=run)
    placements.placement_host_accept(actor=as_actor(host_a), placement=placement)
    with pytest.raises(ValidationError):
        placements.placement_confirm(
            actor=as_actor(shadower), placement=placement, accept_confidentiality=False
        )
    placements.placement_confirm(actor=as_actor(shadower), placement=placement, accept_confidentiality=True)
    placement.days.update(date=timezone.localdate() - timedelta(days=1))
    placements.placement_mark_visited(actor=as_actor(host_a), placement=placement)
    reflections.reflection_submit(
        actor=as_actor(shadower),
        placement=placement,
        learned="Mycket",
        how_used="I mitt arbete",
        how_shared="APT",
    )
    reflections.host_feedback_submit(actor=as_actor(host_a), placement=placement, feedback="Bra besök")
    placement.refresh_from_db()
    assert placement.status == P.REFLECTED
    assert placement.confidentiality_accepted_at is not None
    assert list(
        PlacementEvent.unscoped_objects.filter(placement=placement).values_list("to_status", "actor")
    ) == [
        (P.PROPOSED, coordinator.pk),
        (P.AWAITING_HOST, coordinator.pk),
        (P.HOST_ACCEPTED, host_a.pk),
        (P.CONFIRMED, shadower.pk),
        (P.VISITED, host_a.pk),
        (P.REFLECTED, shadower.pk),
    ]
    assert request.pk == placement.request_id
    assert placement.reflection.learned == "Mycket"
    assert placement.host_feedback.feedback == "Bra besök"


TRANSITIONS = {
    # name: (start status, call, people allowed)
    "accept": (
        P.AWAITING_HOST,
        lambda a, p: placements.placement_host_accept(actor=a, placement=p),
        {"host_a", "org_admin_a"},
    ),
    "decline": (
        P.AWAITING_HOST,
        lambda a, p: placements.placement_host_decline(actor=a, placement=p, reason="Fullt"),
        {"host_a", "org_admin_a"},
    ),
    "confirm": (
        P.HOST_ACCEPTED,
        lambda a, p: placements.placement_confirm(actor=a, placement=p, accept_confidentiality=True),
        {"shadower"},
    ),
    "visited": (
        P.CONFIRMED,
        lambda a, p: placements.placement_mark_visited(actor=a, placement=p),
        {"host_a", "org_admin_a", "coordinator"},
    ),
    "cancel": (
        P.HOST_ACCEPTED,
        lambda a, p: placements.placement_cancel(actor=a, placement=p, reason="Sjuk"),
        {"host_a", "org_admin_a", "coordinator", "shadower"},
    ),
    "reflect": (
        P.VISITED,
        lambda a, p: reflections.reflection_submit(actor=a, placement=p, learned="x", how_used="y"),
        {"shadower"},
    ),
    "feedback": (
        P.VISITED,
        lambda a, p: reflections.host_feedback_submit(actor=a, placement=p, feedback="Bra"),
        {"host_a", "org_admin_a"},
    ),
}
PEOPLE = ["host_a", "org_admin_a", "coordinator", "shadower", "manager_b", "host_b", "staff_a", "outsider"]


@pytest.mark.parametrize("transition", sorted(TRANSITIONS))
@pytest.mark.parametrize("who", PEOPLE)
def test_each_transition_only_by_the_right_role(
    scope, programme, workplace_a, shadower, as_actor, make_placement, request, transition, who
):
    start, call, allowed = TRANSITIONS[transition]
    slot = SlotFactory(workplace=workplace_a, date=timezone.localdate() - timedelta(days=1))
    if start == P.HOST_ACCEPTED or start == P.AWAITING_HOST:
        slot = SlotFactory(workplace=workplace_a, date=future_weekday(2))
    placement = make_placement(make_request(programme, shadower), [slot], start)
    person = request.getfixturevalue(who)
    if who in allowed:
        call(as_actor(person), placement)
        assert Placement.unscoped_objects.get(pk=placement.pk).status != start or transition == "feedback"
    else:
        with pytest.raises(PermissionDenied):
            call(as_actor(person), placement)
        assert Placement.unscoped_objects.get(pk=placement.pk).status == start
        assert PlacementEvent.unscoped_objects.filter(placement=placement).count() == 1


def test_transition_from_the_wrong_state_is_a_conflict(
    scope, programme, slot_a, shadower, host_a, as_actor, make_placement
):
    placement = make_placement(make_request(programme, shadower), [slot_a], P.AWAITING_HOST)
    with pytest.raises(Conflict):
        placements.placement_confirm(
            actor=as_actor(shadower), placement=placement, accept_confidentiality=True
        )
    stale = Placement.unscoped_objects.get(pk=placement.pk)
    placements.placement_host_accept(actor=as_actor(host_a), placement=placement)
    with pytest.raises(Conflict):
        placements.placement_host_accept(actor=as_actor(host_a), placement=stale)
    assert PlacementEvent.unscoped_objects.filter(placement=placement).count() == 2


def test_mark_visited_before_the_last_day_is_refused(
    scope, programme, slot_a, shadower, host_a, as_actor, make_placement
):
    placement = make_placement(make_request(programme, shadower), [slot_a], P.CONFIRMED)
    with pytest.raises(ValidationError):
        placements.placement_mark_visited(actor=as_actor(host_a), placement=placement)
    assert Placement.unscoped_objects.get(pk=placement.pk).status == P.CONFIRMED


def test_host_decline_frees_the_seat_and_rematches(
    scope, programme, slot_a, shadower, host_a, coordinator, as_actor, make_placement
):
    request = make_request(programme, shadower)
    placement = make_placement(request, [slot_a], P.AWAITING_HOST)
    with pytest.raises(ValidationError):
        placements.placement_host_decline(actor=as_actor(host_a), placement=placement, reason=" ")
    placements.placement_host_decline(actor=as_actor(host_a), placement=placement, reason="Vi har inspektion")
    placement.refresh_from_db()
    assert (placement.status, placement.decline_reason) == (P.HOST_DECLINED, "Vi har inspektion")
    assert Slot.unscoped_objects.get(pk=slot_a.pk).booked == 0
    assert ShadowingRequest.unscoped_objects.get(pk=request.pk).status == RS.APPROVED
    assert kinds.KIND_COORDINATION in _kinds(coordinator)
    assert kinds.KIND_PLACEMENT in _kinds(shadower)


def test_cancel_by_shadower_withdraws_by_coordinator_rematches(
    scope, programme, workplace_a, shadower, coordinator, as_actor, make_placement
):
    first = make_request(programme, shadower)
    p1 = make_placement(first, [SlotFactory(workplace=workplace_a, date=future_weekday(1))], P.HOST_ACCEPTED)
    placements.placement_cancel(actor=as_actor(shadower), placement=p1, reason="Jag har bytt jobb")
    assert ShadowingRequest.unscoped_objects.get(pk=first.pk).status == RS.WITHDRAWN
    second = make_request(programme, shadower)
    p2 = make_placement(second, [SlotFactory(workplace=workplace_a, date=future_weekday(2))], P.HOST_ACCEPTED)
    placements.placement_cancel(actor=as_actor(coordinator), placement=p2, reason="Värden är sjuk")
    assert ShadowingRequest.unscoped_objects.get(pk=second.pk).status == RS.APPROVED
    assert set(Slot.unscoped_objects.values_list("booked", flat=True)) == {0}
    p2.refresh_from_db()
    assert (p2.cancel_reason, p2.cancelled_by) == ("Värden är sjuk", coordinator)


def test_capacity_check_constraint_is_the_last_line_of_defence(scope, slot_a):
    from django.db import IntegrityError, transaction
    from django.db.models import F

    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.unscoped_objects.filter(pk=slot_a.pk).update(booked=F("booked") + 2)
    assert Slot.unscoped_objects.get(pk=slot_a.pk).booked == 0


def test_request_update_drops_its_stale_proposals(scope, programme, slot_a, shadower, coordinator, as_actor):
    request = make_request(programme, shadower)
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    assert Placement.unscoped_objects.filter(run=run, request=request).count() == 1
    shadowing_requests.request_update(actor=as_actor(shadower), request=request, values={"days": 2})
    assert Placement.unscoped_objects.filter(run=run, request=request).count() == 0
    assert ShadowingRequest.unscoped_objects.get(pk=request.pk).days == 2


def test_every_step_that_asks_something_notifies_the_person_asked(
    scope,
    programme,
    slot_a,
    shadower,
    manager_b,
    host_a,
    coordinator,
    as_actor,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        request = shadowing_requests.request_create(
            actor=as_actor(shadower),
            programme=programme,
            values={"learning_goals": "Asylprocessen", "days": 1},
            windows=[(future_weekday(0), future_weekday(0) + timedelta(days=14))],
        )
    assert _kinds(manager_b) == [kinds.KIND_APPROVAL]  # approve
    with django_capture_on_commit_callbacks(execute=True):
        shadowing_requests.request_approve(actor=as_actor(manager_b), request=request)
    run = matching_runs.matching_run_create(actor=as_actor(coordinator), programme=programme)
    matching_runs.matching_run_confirm(actor=as_actor(coordinator), run=run)
    assert _kinds(host_a) == [kinds.KIND_HOSTING]  # accept as host
    placement = Placement.objects.get(run=run)
    placements.placement_host_accept(actor=as_actor(host_a), placement=placement)
    titles = list(
        Notification.unscoped_objects.filter(recipient=shadower)
        .order_by("pk")
        .values_list("title", flat=True)
    )
    assert titles == [
        "Your shadowing request was approved",
        "You have been matched with Mottagningsenheten",
        "Mottagningsenheten welcomes you: please confirm your visit",  # confirm
    ]
    placements.placement_cancel(actor=as_actor(host_a), placement=placement, reason="Stängt")
    assert _kinds(coordinator)[-1] == kinds.KIND_COORDINATION  # re-match


def test_slots_remove_free_keeps_proposed_but_not_cancelled_days(
    scope, programme, workplace_a, host_a, shadower, as_actor, make_placement
):
    proposed = SlotFactory(workplace=workplace_a, date=future_weekday(1))
    cancelled = SlotFactory(workplace=workplace_a, date=future_weekday(2))
    make_placement(make_request(programme, shadower), [proposed], P.PROPOSED)
    make_placement(make_request(programme, shadower), [cancelled], P.CANCELLED)
    removed = workplaces.slots_remove_free(
        actor=as_actor(host_a),
        workplace=workplace_a,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + timedelta(days=60),
    )
    assert removed == 1
    assert list(Slot.unscoped_objects.values_list("pk", flat=True)) == [proposed.pk]
