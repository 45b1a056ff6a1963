from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import icalendar
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from coordinator.core.models import Notification, OutboundEmail
from organisations.models import PlatformRole
from seminars.models import (
    KIND_APPROVAL,
    Attendance,
    Completion,
    Course,
    Enrolment,
    OrganisationQuota,
    Round,
    RoundCost,
)
from seminars.selectors import participation, reports, teaching
from seminars.services import (
    approvals,
    attendance,
    costs,
    courses,
    discussion_groups,
    enrolments,
    quotas,
    rounds,
    sessions,
    waiting_list,
)
from tests.factories import FunderFactory
from tests.factories.seminars import (
    CompletionFactory,
    CourseFactory,
    QuotaFactory,
    RoundCostFactory,
    RoundFactory,
    SessionFactory,
    make_enrolment,
)
from tests.seminars.conftest import seats_consistent

pytestmark = pytest.mark.usefixtures("scope")
S = Enrolment.Status
R = PlatformRole


def invites_to(person, method=None):
    rows = OutboundEmail.unscoped_objects.filter(recipient=person).exclude(ics_method="").order_by("pk")
    if method:
        rows = rows.filter(ics_method=method)
    return [icalendar.Calendar.from_ical(row.ics_content) for row in rows]


def titles_to(person):
    return [n.title for n in Notification.unscoped_objects.filter(recipient=person).order_by("pk")]


# --- Enrolling ------------------------------------------------------------------------------------------


def test_enrol_with_free_seat_confirms_and_sends_one_invite_per_session(
    round_, session, staff_a, as_actor, enrol
):
    second = SessionFactory(
        round=round_,
        starts_at=session.starts_at + timedelta(days=1),
        ends_at=session.ends_at + timedelta(days=1),
    )

    enrolment = enrol(staff_a, round_)

    assert enrolment.status == S.CONFIRMED
    assert seats_consistent(round_) and round_.seats_taken == 1
    calendars = invites_to(staff_a, "REQUEST")
    assert [str(c["METHOD"]) for c in calendars] == ["REQUEST", "REQUEST"]
    uids = [str(c.walk("VEVENT")[0]["UID"]) for c in calendars]
    assert uids == [
        f"seminar-session-{session.pk}-{staff_a.pk}@samverkan.example",
        f"seminar-session-{second.pk}-{staff_a.pk}@samverkan.example",
    ]


def test_enrol_when_full_joins_queue_with_position(round_, session, people_a, as_actor):
    first, second, third, fourth, fifth = people_a(5)
    for person in (first, second, third):
        enrolments.enrolment_create(actor=as_actor(person), round=round_)

    waiting = enrolments.enrolment_create(actor=as_actor(fourth), round=round_)
    later = enrolments.enrolment_create(actor=as_actor(fifth), round=round_)

    assert (waiting.status, later.status) == (S.WAITING, S.WAITING)
    assert participation.queue_positions([round_.pk]) == {waiting.pk: 1, later.pk: 2}
    assert seats_consistent(round_) and round_.seats_taken == 3
    assert invites_to(fourth) == []
    assert titles_to(fourth) == ["You are number 1 on the waiting list for PTSD – grundkurs (Omgång 1)"]


def test_enrol_twice_on_same_round_is_refused(round_, session, staff_a, as_actor):
    enrolments.enrolment_create(actor=as_actor(staff_a), round=round_)

    with pytest.raises(ValidationError) as error:
        enrolments.enrolment_create(actor=as_actor(staff_a), round=round_)

    assert error.value.message_dict == {"round": ["There is already a booking on a round of this course."]}
    assert seats_consistent(round_) and round_.seats_taken == 1


def test_enrol_on_second_round_of_same_course_is_refused(course, round_, session, staff_a, as_actor):
    enrolments.enrolment_create(actor=as_actor(staff_a), round=round_)
    later = RoundFactory(course=course)
    SessionFactory(
        round=later,
        starts_at=session.starts_at + timedelta(days=40),
        ends_at=session.ends_at + timedelta(days=40),
    )

    with pytest.raises(ValidationError) as error:
        enrolments.enrolment_create(actor=as_actor(staff_a), round=later)

    assert error.value.message_dict["round"] == ["There is already a booking on a round of this course."]


def test_enrol_outside_registration_window_is_refused_but_coordinator_may_add(
    round_, session, staff_a, coordinator, as_actor
):
    Round.unscoped_objects.filter(pk=round_.pk).update(
        registration_opens_at=timezone.now() - timedelta(days=10),
        registration_closes_at=timezone.now() - timedelta(days=1),
    )
    round_.refresh_from_db()

    with pytest.raises(ValidationError) as error:
        enrolments.enrolment_create(actor=as_actor(staff_a), round=round_)
    assert error.value.message_dict == {"round": ["Registration has closed."]}

    added = enrolments.enrolment_create(actor=as_actor(coordinator), round=round_, person=staff_a)
    assert added.status == S.CONFIRMED
    assert added.enrolled_by == coordinator
    assert titles_to(staff_a)[-1] == "You have a seat on PTSD – grundkurs (Omgång 1)"


def test_enrol_someone_else_needs_coordinator(round_, session, staff_a, staff_b, as_actor):
    with pytest.raises(PermissionDenied):
        enrolments.enrolment_create(actor=as_actor(staff_a), round=round_, person=staff_b)
    assert Enrolment.unscoped_objects.count() == 0


def test_enrol_by_member_without_staff_role_is_refused(programme, org_a, round_, session, member, as_actor):
    host_only = member(programme, org_a, R.HOST_CONTACT)

    with pytest.raises(ValidationError) as error:
        enrolments.enrolment_create(actor=as_actor(host_only), round=round_)

    assert error.value.message_dict == {"round": ["Only staff of the programme's organisations may enrol."]}


def test_enrol_in_draft_round_is_refused(course, staff_a, as_actor):
    draft = RoundFactory(course=course, status=Round.Status.DRAFT)
    SessionFactory(round=draft)

    with pytest.raises(ValidationError) as error:
        enrolments.enrolment_create(actor=as_actor(staff_a), round=draft)

    assert error.value.message_dict == {"round": ["This round is not open for enrolment."]}


# --- Target roles and prerequisites ---------------------------------------------------------------------


def test_exclusive_round_refuses_other_roles_and_accepts_target_role(
    programme, org_a, course, case_officer, counsellor, member, as_actor
):
    course.target_roles.set([case_officer])
    exclusive = RoundFactory(course=course, target_role_mode=Round.TargetRoleMode.EXCLUSIVE)
    SessionFactory(round=exclusive)
    officer = member(programme, org_a, R.STAFF, work_role=case_officer)
    other = member(programme, org_a, R.STAFF, work_role=counsellor)

    with pytest.raises(ValidationError) as error:
        enrolments.enrolment_create(actor=as_actor(other), round=exclusive)
    accepted = enrolments.enrolment_create(actor=as_actor(officer), round=exclusive)

    assert error.value.message_dict == {"round": ["This round is only for the course's target roles."]}
    assert accepted.status == S.CONFIRMED


def test_priority_round_queues_target_role_ahead_of_earlier_people(
    programme, org_a, course, round_, session, case_officer, counsellor, member, as_actor
):
    course.target_roles.set([case_officer])
    for person in [member(programme, org_a, R.STAFF, work_role=counsellor) for _ in range(3)]:
        enrolments.enrolment_create(actor=as_actor(person), round=round_)
    early = enrolments.enrolment_create(
        actor=as_actor(member(programme, org_a, R.STAFF, work_role=counsellor)), round=round_
    )
    officer = enrolments.enrolment_create(
        actor=as_actor(member(programme, org_a, R.STAFF, work_role=case_officer)), round=round_
    )

    assert (early.priority, officer.priority) == (0, 1)
    assert participation.queue_positions([round_.pk]) == {officer.pk: 1, early.pk: 2}


def test_advanced_course_needs_basic_one_completed(programme, course, provider_org, staff_a, as_actor):
    advanced = CourseFactory(
        programme=programme, title="PTSD fördjupning", providers=[provider_org], prerequisites=[course]
    )
    advanced_round = RoundFactory(course=advanced)
    SessionFactory(round=advanced_round)

    with pytest.raises(ValidationError) as error:
        enrolments.enrolment_create(actor=as_actor(staff_a), round=advanced_round)
    assert error.value.message_dict == {"round": ["These courses must be completed first: PTSD – grundkurs."]}

    CompletionFactory(person=staff_a, course=course)
    assert enrolments.enrolment_create(actor=as_actor(staff_a), round=advanced_round).status == S.CONFIRMED


def test_completed_course_cannot_be_booked_again(course, round_, session, staff_a, as_actor):
    CompletionFactory(person=staff_a, course=course)

    with pytest.raises(ValidationError) as error:
        enrolments.enrolment_create(actor=as_actor(staff_a), round=round_)

    assert error.value.message_dict == {"round": ["This course has already been completed."]}


# --- Cancelling and the waiting list --------------------------------------------------------------------


def test_cancel_sends_calendar_cancellation_and_offers_seat_to_first_in_queue(
    round_, session, people_a, as_actor, enrol
):
    holders = people_a(3)
    seats = [enrol(p, round_) for p in holders]
    first_waiting, second_waiting = people_a(2)
    queued = enrol(first_waiting, round_)
    enrol(second_waiting, round_)

    enrolments.enrolment_cancel(actor=as_actor(holders[0]), enrolment=seats[0])

    queued.refresh_from_db()
    assert queued.status == S.OFFERED
    assert queued.hold_expires_at - queued.offered_at == timedelta(hours=48)
    [cancel] = invites_to(holders[0], "CANCEL")
    assert str(cancel["METHOD"]) == "CANCEL"
    assert int(cancel.walk("VEVENT")[0]["SEQUENCE"]) == 1
    assert titles_to(first_waiting)[-1] == "A seat is free for you: PTSD – grundkurs (Omgång 1)"
    assert seats_consistent(round_) and round_.seats_taken == 3


def test_cancellation_promotes_person_of_organisation_with_unused_reservation(
    round_, session, people_a, people_b, org_a, as_actor
):
    QuotaFactory(round=round_, organisation=org_a, reserved=1)
    b1, b2, b3 = people_b(3)
    (a1, a2) = people_a(2)
    enrolments.enrolment_create(actor=as_actor(b1), round=round_)
    enrolments.enrolment_create(actor=as_actor(b2), round=round_)
    a_seat = enrolments.enrolment_create(actor=as_actor(a1), round=round_)
    b_queued = enrolments.enrolment_create(actor=as_actor(b3), round=round_)
    a_queued = enrolments.enrolment_create(actor=as_actor(a2), round=round_)
    assert (b_queued.status, a_queued.status) == (S.WAITING, S.WAITING)

    enrolments.enrolment_cancel(actor=as_actor(a1), enrolment=a_seat)

    b_queued.refresh_from_db()
    a_queued.refresh_from_db()
    assert (b_queued.status, a_queued.status) == (S.WAITING, S.OFFERED)
    assert seats_consistent(round_)


def test_cancellation_skips_person_of_organisation_at_its_maximum(
    round_, session, people_a, people_b, org_b, as_actor
):
    QuotaFactory(round=round_, organisation=org_b, maximum=2)
    b1, b2, b3 = people_b(3)
    a1, a2 = people_a(2)
    for person in (b1, b2):
        enrolments.enrolment_create(actor=as_actor(person), round=round_)
    a_seat = enrolments.enrolment_create(actor=as_actor(a1), round=round_)
    b_queued = enrolments.enrolment_create(actor=as_actor(b3), round=round_)
    a_queued = enrolments.enrolment_create(actor=as_actor(a2), round=round_)

    enrolments.enrolment_cancel(actor=as_actor(a1), enrolment=a_seat)

    b_queued.refresh_from_db()
    a_queued.refresh_from_db()
    assert (b_queued.status, a_queued.status) == (S.WAITING, S.OFFERED)


def test_reserved_seats_hold_back_others_until_released(course, people_a, people_b, org_b, as_actor):
    round_ = RoundFactory(
        course=course, capacity=2, reserved_seats_release_at=timezone.now() + timedelta(days=5)
    )
    SessionFactory(round=round_)
    QuotaFactory(round=round_, organisation=org_b, reserved=1)
    a1, a2 = people_a(2)
    assert enrolments.enrolment_create(actor=as_actor(a1), round=round_).status == S.CONFIRMED
    held_back = enrolments.enrolment_create(actor=as_actor(a2), round=round_)
    assert held_back.status == S.WAITING

    handled = waiting_list.rounds_sweep(now=timezone.now() + timedelta(days=6))

    held_back.refresh_from_db()
    round_.refresh_from_db()
    assert handled == 2  # the release itself and the offer
    assert held_back.status == S.OFFERED
    assert round_.reserved_seats_released_at is not None
    assert seats_consistent(round_)


def test_offer_not_accepted_in_time_passes_to_next(round_, session, people_a, as_actor):
    holders = people_a(3)
    seats = [enrolments.enrolment_create(actor=as_actor(p), round=round_) for p in holders]
    first, second = people_a(2)
    offered = enrolments.enrolment_create(actor=as_actor(first), round=round_)
    nxt = enrolments.enrolment_create(actor=as_actor(second), round=round_)
    enrolments.enrolment_cancel(actor=as_actor(holders[0]), enrolment=seats[0])

    waiting_list.rounds_sweep(now=timezone.now() + timedelta(hours=49))

    offered.refresh_from_db()
    nxt.refresh_from_db()
    assert (offered.status, offered.end_reason) == (S.EXPIRED, Enrolment.EndReason.OFFER_EXPIRED)
    assert nxt.status == S.OFFERED
    with pytest.raises(ValidationError) as error:
        enrolments.offer_accept(actor=as_actor(first), enrolment=offered)
    assert error.value.messages == ["The offer lapsed and the seat has passed to the next person."]
    assert seats_consistent(round_)


def test_accept_offer_confirms_and_sends_invites(round_, session, people_a, as_actor):
    holders = people_a(3)
    seats = [enrolments.enrolment_create(actor=as_actor(p), round=round_) for p in holders]
    (person,) = people_a(1)
    queued = enrolments.enrolment_create(actor=as_actor(person), round=round_)
    enrolments.enrolment_cancel(actor=as_actor(holders[1]), enrolment=seats[1])

    accepted = enrolments.offer_accept(actor=as_actor(person), enrolment=queued)

    assert accepted.status == S.CONFIRMED
    assert [str(c["METHOD"]) for c in invites_to(person)] == ["REQUEST"]
    assert seats_consistent(round_) and round_.seats_taken == 3


def test_accept_offer_of_someone_else_is_refused(round_, session, people_a, staff_b, as_actor):
    holders = people_a(3)
    seats = [enrolments.enrolment_create(actor=as_actor(p), round=round_) for p in holders]
    (person,) = people_a(1)
    queued = enrolments.enrolment_create(actor=as_actor(person), round=round_)
    enrolments.enrolment_cancel(actor=as_actor(holders[1]), enrolment=seats[1])

    with pytest.raises(PermissionDenied):
        enrolments.offer_accept(actor=as_actor(staff_b), enrolment=queued)


def test_decline_offer_passes_seat_on(round_, session, people_a, as_actor):
    holders = people_a(3)
    seats = [enrolments.enrolment_create(actor=as_actor(p), round=round_) for p in holders]
    first, second = people_a(2)
    offered = enrolments.enrolment_create(actor=as_actor(first), round=round_)
    nxt = enrolments.enrolment_create(actor=as_actor(second), round=round_)
    enrolments.enrolment_cancel(actor=as_actor(holders[2]), enrolment=seats[2])

    enrolments.offer_decline(actor=as_actor(first), enrolment=offered)

    offered.refresh_from_db()
    nxt.refresh_from_db()
    assert (offered.status, nxt.status) == (S.DECLINED, S.OFFERED)


def test_leave_queue_any_time_but_seat_only_until_deadline(round_, session, people_a, coordinator, as_actor):
    holders = people_a(3)
    seats = [enrolments.enrolment_create(actor=as_actor(p), round=round_) for p in holders]
    (person,) = people_a(1)
    queued = enrolments.enrolment_create(actor=as_actor(person), round=round_)
    Round.unscoped_objects.filter(pk=round_.pk).update(
        cancellation_deadline=timezone.now() - timedelta(hours=1)
    )

    left = enrolments.enrolment_cancel(actor=as_actor(person), enrolment=queued)
    with pytest.raises(ValidationError) as error:
        enrolments.enrolment_cancel(actor=as_actor(holders[0]), enrolment=seats[0])
    removed = enrolments.enrolment_cancel(actor=as_actor(coordinator), enrolment=seats[0])

    assert (left.status, left.end_reason) == (S.CANCELLED, Enrolment.EndReason.LEFT_QUEUE)
    assert error.value.messages == ["The cancellation deadline has passed; ask the programme's coordinators."]
    assert (removed.status, removed.end_reason) == (S.CANCELLED, Enrolment.EndReason.REMOVED)
    assert (
        titles_to(holders[0])[-1]
        == "Your booking on PTSD – grundkurs (Omgång 1) was removed by a coordinator"
    )


def test_cancel_of_another_persons_booking_is_refused(round_, session, staff_a, staff_b, as_actor):
    enrolment = enrolments.enrolment_create(actor=as_actor(staff_a), round=round_)

    with pytest.raises(PermissionDenied):
        enrolments.enrolment_cancel(actor=as_actor(staff_b), enrolment=enrolment)
    enrolment.refresh_from_db()
    assert enrolment.status == S.CONFIRMED


def test_round_start_closes_queue_and_lapses_pending_approvals(course, people_a, manager, as_actor):
    round_ = RoundFactory(course=course, capacity=1, requires_manager_approval=True)
    session = SessionFactory(round=round_)
    first, second = people_a(2, line_manager=manager)
    pending = enrolments.enrolment_create(actor=as_actor(first), round=round_)
    queued = enrolments.enrolment_create(actor=as_actor(second), round=round_)

    waiting_list.rounds_sweep(now=session.starts_at + timedelta(minutes=1))

    pending.refresh_from_db()
    queued.refresh_from_db()
    assert (pending.status, pending.end_reason) == (S.EXPIRED, Enrolment.EndReason.APPROVAL_LAPSED)
    assert (queued.status, queued.end_reason) == (S.EXPIRED, Enrolment.EndReason.ROUND_STARTED)
    assert seats_consistent(round_) and round_.seats_taken == 0


def test_more_capacity_offers_seats_to_queue(round_, session, people_a, coordinator, as_actor):
    for person in people_a(3):
        enrolments.enrolment_create(actor=as_actor(person), round=round_)
    (person,) = people_a(1)
    queued = enrolments.enrolment_create(actor=as_actor(person), round=round_)

    rounds.round_update(actor=as_actor(coordinator), round=round_, values={"capacity": 4})

    queued.refresh_from_db()
    assert queued.status == S.OFFERED


def test_capacity_cannot_drop_below_seats_taken(round_, session, people_a, coordinator, as_actor):
    for person in people_a(2):
        enrolments.enrolment_create(actor=as_actor(person), round=round_)

    with pytest.raises(ValidationError) as error:
        rounds.round_update(actor=as_actor(coordinator), round=round_, values={"capacity": 1})

    assert error.value.message_dict == {
        "capacity": ["2 seats are already taken; the round cannot have fewer seats."]
    }


def test_round_update_by_staff_is_refused(round_, staff_a, as_actor):
    with pytest.raises(PermissionDenied):
        rounds.round_update(actor=as_actor(staff_a), round=round_, values={"capacity": 40})


# --- Line manager approval ------------------------------------------------------------------------------


def test_approval_holds_seat_and_asks_line_manager(course, people_a, manager, as_actor):
    round_ = RoundFactory(course=course, capacity=2, requires_manager_approval=True)
    SessionFactory(round=round_)
    (person,) = people_a(1, line_manager=manager)

    enrolment = enrolments.enrolment_create(
        actor=as_actor(person), round=round_, motivation="Jag möter många traumatiserade klienter."
    )

    assert (enrolment.status, enrolment.approval) == (S.PENDING_APPROVAL, Enrolment.Approval.PENDING)
    assert seats_consistent(round_) and round_.seats_taken == 1
    assert invites_to(person) == []
    [asked] = Notification.unscoped_objects.filter(recipient=manager)
    assert asked.title == f"{person.full_name} asks to take part in PTSD – grundkurs ({round_.label})"
    assert asked.body.endswith("Jag möter många traumatiserade klienter.")


def test_approve_confirms_and_sends_invites(course, people_a, manager, as_actor):
    round_ = RoundFactory(course=course, requires_manager_approval=True)
    SessionFactory(round=round_)
    (person,) = people_a(1, line_manager=manager)
    enrolment = enrolments.enrolment_create(actor=as_actor(person), round=round_)

    approved = approvals.enrolment_approve(actor=as_actor(manager), enrolment=enrolment)

    assert (approved.status, approved.approval, approved.approved_by) == (
        S.CONFIRMED,
        Enrolment.Approval.APPROVED,
        manager,
    )
    assert [str(c["METHOD"]) for c in invites_to(person)] == ["REQUEST"]


def test_approve_by_someone_else_is_refused(course, people_a, manager, staff_b, coordinator, as_actor):
    round_ = RoundFactory(course=course, requires_manager_approval=True)
    SessionFactory(round=round_)
    (person,) = people_a(1, line_manager=manager)
    enrolment = enrolments.enrolment_create(actor=as_actor(person), round=round_)

    for outsider in (staff_b, coordinator, person):
        with pytest.raises(PermissionDenied):
            approvals.enrolment_approve(actor=as_actor(outsider), enrolment=enrolment)


def test_coordinator_approves_for_person_without_line_manager(course, staff_a, coordinator, as_actor):
    round_ = RoundFactory(course=course, requires_manager_approval=True)
    SessionFactory(round=round_)
    enrolment = enrolments.enrolment_create(actor=as_actor(staff_a), round=round_)

    approved = approvals.enrolment_approve(actor=as_actor(coordinator), enrolment=enrolment)

    assert approved.status == S.CONFIRMED
    assert Notification.unscoped_objects.filter(recipient=coordinator, kind=KIND_APPROVAL).count() == 1


def test_reject_frees_held_seat_for_queue(course, people_a, manager, as_actor):
    round_ = RoundFactory(course=course, capacity=1, requires_manager_approval=True)
    SessionFactory(round=round_)
    first, second = people_a(2, line_manager=manager)
    held = enrolments.enrolment_create(actor=as_actor(first), round=round_)
    queued = enrolments.enrolment_create(actor=as_actor(second), round=round_)

    approvals.enrolment_reject(actor=as_actor(manager), enrolment=held, reason="Vi har inte tid i december.")

    held.refresh_from_db()
    queued.refresh_from_db()
    assert (held.status, held.approval) == (S.REJECTED, Enrolment.Approval.REJECTED)
    assert queued.status == S.OFFERED
    assert (
        Notification.unscoped_objects.filter(recipient=first).order_by("pk").last().body
        == "Vi har inte tid i december."
    )


def test_approved_while_waiting_is_confirmed_on_accepting_offer(course, people_a, manager, as_actor):
    round_ = RoundFactory(course=course, capacity=1, requires_manager_approval=True)
    SessionFactory(round=round_)
    first, second = people_a(2, line_manager=manager)
    held = enrolments.enrolment_create(actor=as_actor(first), round=round_)
    queued = enrolments.enrolment_create(actor=as_actor(second), round=round_)
    approvals.enrolment_approve(actor=as_actor(manager), enrolment=queued)
    enrolments.enrolment_cancel(actor=as_actor(first), enrolment=held)

    accepted = enrolments.offer_accept(actor=as_actor(second), enrolment=queued)

    assert accepted.status == S.CONFIRMED


# --- Sessions and round cancellation --------------------------------------------------------------------


def test_moving_a_session_updates_each_participant_with_higher_sequence(
    round_, session, people_a, coordinator, as_actor, enrol
):
    first, second = people_a(2)
    for person in (first, second):
        enrol(person, round_)

    sessions.session_update(
        actor=as_actor(coordinator),
        session=session,
        values={"starts_at": session.starts_at + timedelta(hours=1), "place": "Sal 2"},
    )

    for person in (first, second):
        invite, update = invites_to(person)
        assert invite.walk("VEVENT")[0]["UID"] == update.walk("VEVENT")[0]["UID"]
        assert [int(c.walk("VEVENT")[0]["SEQUENCE"]) for c in (invite, update)] == [0, 1]
        assert str(update.walk("VEVENT")[0]["LOCATION"]) == "Sal 2"
    round_.refresh_from_db()
    assert round_.starts_at == session.starts_at + timedelta(hours=1)


def test_adding_and_removing_sessions_invites_and_cancels(
    round_, session, staff_a, coordinator, as_actor, enrol
):
    enrol(staff_a, round_)

    added = sessions.session_create(
        actor=as_actor(coordinator),
        round=round_,
        values={
            "starts_at": session.starts_at + timedelta(days=1),
            "ends_at": session.ends_at + timedelta(days=1),
            "place": "Fredsgatan 3",
        },
    )
    first, second = (f"seminar-session-{pk}-{staff_a.pk}@samverkan.example" for pk in (session.pk, added.pk))
    sessions.session_delete(actor=as_actor(coordinator), session=added)

    # The first session is renumbered "(day 1 of 2)" and back, so its holder gets each change too.
    methods = [
        (str(c["METHOD"]), str(c.walk("VEVENT")[0]["UID"]), int(c.walk("VEVENT")[0]["SEQUENCE"]))
        for c in invites_to(staff_a)
    ]
    assert methods == [
        ("REQUEST", first, 0),
        ("REQUEST", first, 1),
        ("REQUEST", second, 0),
        ("REQUEST", first, 2),
        ("CANCEL", second, 1),
    ]


def test_session_without_place_or_link_is_refused(round_, coordinator, as_actor):
    start = timezone.now() + timedelta(days=3)
    with pytest.raises(ValidationError) as error:
        sessions.session_create(
            actor=as_actor(coordinator),
            round=round_,
            values={"starts_at": start, "ends_at": start + timedelta(hours=3), "place": ""},
        )
    assert error.value.message_dict == {"place": ["Give a place or an online link."]}


def test_round_cancel_ends_every_booking(round_, session, people_a, coordinator, as_actor, enrol):
    holders = people_a(4)
    for person in holders:
        enrol(person, round_)

    rounds.round_cancel(actor=as_actor(coordinator), round=round_, reason="Föreläsaren är sjuk.")

    round_.refresh_from_db()
    assert round_.status == Round.Status.CANCELLED
    assert set(Enrolment.unscoped_objects.filter(round=round_).values_list("status", flat=True)) == {
        S.CANCELLED
    }
    assert [len(invites_to(p, "CANCEL")) for p in holders] == [1, 1, 1, 0]
    assert seats_consistent(round_) and round_.seats_taken == 0


# --- Quotas ---------------------------------------------------------------------------------------------


def test_quotas_cannot_reserve_more_than_capacity(round_, org_a, org_b, coordinator, as_actor):
    quotas.quota_set(actor=as_actor(coordinator), round=round_, organisation=org_a, reserved=2, maximum=None)

    with pytest.raises(ValidationError) as error:
        quotas.quota_set(actor=as_actor(coordinator), round=round_, organisation=org_b, reserved=2, maximum=3)

    assert error.value.message_dict == {
        "reserved": ["All quotas together may reserve at most the round's 3 seats."]
    }
    assert OrganisationQuota.unscoped_objects.filter(round=round_).count() == 1


def test_quota_for_organisation_outside_programme_is_refused(round_, org_other, coordinator, as_actor):
    with pytest.raises(ValidationError):
        quotas.quota_set(
            actor=as_actor(coordinator), round=round_, organisation=org_other, reserved=1, maximum=None
        )


# --- Attendance and completion --------------------------------------------------------------------------


@pytest.fixture
def past_round(course):
    round_ = RoundFactory(
        course=course,
        capacity=10,
        registration_opens_at=timezone.now() - timedelta(days=30),
        registration_closes_at=timezone.now() - timedelta(days=5),
        cancellation_deadline=timezone.now() - timedelta(days=5),
    )
    start = (timezone.now() - timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)
    first = SessionFactory(round=round_, starts_at=start, ends_at=start + timedelta(hours=7))
    second = SessionFactory(
        round=round_, starts_at=start + timedelta(days=1), ends_at=start + timedelta(days=1, hours=7)
    )
    return round_, first, second


def test_provider_marks_attendance_and_records_completions(past_round, people_a, provider, as_actor):
    round_, first, second = past_round
    attended, missed = [make_enrolment(round_, p) for p in people_a(2)]
    actor = as_actor(provider)

    attendance.attendance_mark(actor=actor, session=first, marks={attended.pk: True, missed.pk: True})
    attendance.attendance_mark(actor=actor, session=second, marks={attended.pk: True, missed.pk: False})
    created = attendance.completions_record(actor=actor, round=round_)

    assert [c.person for c in created] == [attended.person]
    assert Attendance.unscoped_objects.filter(present=True).count() == 3
    [completion] = Completion.unscoped_objects.all()
    assert (completion.method, completion.round, completion.recorded_by) == (
        Completion.Method.ATTENDANCE,
        round_,
        provider,
    )


def test_attendance_by_staff_or_other_organisations_provider_is_refused(
    programme, org_b, past_round, staff_a, member, as_actor
):
    round_, first, _second = past_round
    enrolment = make_enrolment(round_, staff_a)
    other_provider = member(programme, org_b, R.COURSE_PROVIDER, R.STAFF)

    for outsider in (staff_a, other_provider):
        with pytest.raises(PermissionDenied):
            attendance.attendance_mark(actor=as_actor(outsider), session=first, marks={enrolment.pk: True})
    assert Attendance.unscoped_objects.count() == 0


def test_attendance_before_session_starts_is_refused(round_, session, staff_a, provider, as_actor):
    enrolment = make_enrolment(round_, staff_a)

    with pytest.raises(ValidationError) as error:
        attendance.attendance_mark(actor=as_actor(provider), session=session, marks={enrolment.pk: True})

    assert error.value.message_dict == {"session": ["Attendance can be marked once the session has begun."]}


def test_attendance_for_someone_not_confirmed_is_refused(past_round, staff_a, provider, as_actor):
    round_, first, _second = past_round
    waiting = make_enrolment(round_, staff_a, status=S.WAITING)

    with pytest.raises(ValidationError):
        attendance.attendance_mark(actor=as_actor(provider), session=first, marks={waiting.pk: True})


def test_partial_attendance_share_counts(past_round, staff_a, provider, as_actor):
    round_, first, second = past_round
    Course.unscoped_objects.filter(pk=round_.course_id).update(attendance_required_percent=50)
    round_.course.refresh_from_db()
    enrolment = make_enrolment(round_, staff_a)
    attendance.attendance_mark(actor=as_actor(provider), session=first, marks={enrolment.pk: True})
    attendance.attendance_mark(actor=as_actor(provider), session=second, marks={enrolment.pk: False})

    created = attendance.completions_record(actor=as_actor(provider), round=round_)

    assert [c.person for c in created] == [staff_a]


def test_assessment_passed_is_recorded_and_unlocks_advanced_course(
    programme, course, past_round, provider_org, staff_a, provider, as_actor
):
    round_, _first, _second = past_round
    Course.unscoped_objects.filter(pk=course.pk).update(completion_rule=Course.CompletionRule.ASSESSMENT)
    round_.course.refresh_from_db()
    enrolment = make_enrolment(round_, staff_a)
    advanced = CourseFactory(programme=programme, providers=[provider_org], prerequisites=[course])
    advanced_round = RoundFactory(course=advanced)
    SessionFactory(round=advanced_round)

    completion = attendance.completion_record(
        actor=as_actor(provider), enrolment=enrolment, note="Godkänd uppgift"
    )

    assert (completion.method, completion.note) == (Completion.Method.ASSESSMENT, "Godkänd uppgift")
    assert enrolments.enrolment_create(actor=as_actor(staff_a), round=advanced_round).status == S.CONFIRMED
    with pytest.raises(ValidationError):
        attendance.completions_record(actor=as_actor(provider), round=round_)


# --- Courses --------------------------------------------------------------------------------------------


def test_course_create_checks_providers_and_prerequisite_cycles(
    programme, org_a, org_other, coordinator, as_actor
):
    actor = as_actor(coordinator)
    with pytest.raises(ValidationError) as error:
        courses.course_create(actor=actor, programme=programme, values={"title": "X"}, providers=[org_other])
    assert error.value.message_dict == {
        "providers": ["Choose organisations that take part in the programme."]
    }

    basic = courses.course_create(
        actor=actor, programme=programme, values={"title": "Grund"}, providers=[org_a]
    )
    advanced = courses.course_create(
        actor=actor,
        programme=programme,
        values={"title": "Fördjupning"},
        providers=[org_a],
        prerequisites=[basic],
    )
    with pytest.raises(ValidationError) as error:
        courses.course_update(actor=actor, course=basic, values={}, prerequisites=[advanced])
    assert error.value.message_dict == {
        "prerequisites": ["A course cannot require itself, directly or through other courses."]
    }


def test_course_create_by_staff_is_refused(programme, org_a, staff_a, as_actor):
    with pytest.raises(PermissionDenied):
        courses.course_create(
            actor=as_actor(staff_a), programme=programme, values={"title": "X"}, providers=[org_a]
        )


# --- Costs, report and demand ---------------------------------------------------------------------------


def test_cost_report_sums_costs_funder_shares_and_staff_hours(
    programme, past_round, people_a, people_b, provider, coordinator, as_actor
):
    round_, first, second = past_round
    FunderFactory(programme=programme, name="Malmö stad", share_percent=Decimal("75.00"))
    FunderFactory(programme=programme, name="Equal", share_percent=Decimal("25.00"))
    costs.cost_add(
        actor=as_actor(coordinator), round=round_, kind=RoundCost.Kind.VENUE, amount=Decimal("12000")
    )
    costs.cost_add(
        actor=as_actor(coordinator),
        round=round_,
        kind=RoundCost.Kind.LECTURE_FEES,
        amount=Decimal("18000.50"),
    )
    a1, a2 = [make_enrolment(round_, p) for p in people_a(2)]
    b1 = make_enrolment(round_, people_b(1)[0])
    attendance.attendance_mark(
        actor=as_actor(provider), session=first, marks={a1.pk: True, a2.pk: False, b1.pk: True}
    )
    # No attendance marked for the second day: the three confirmed participants count.
    start = timezone.localdate() - timedelta(days=10)

    report = reports.cost_report(programme, start, timezone.localdate())

    assert report.total_cost == Decimal("30000.50")
    assert report.totals_by_kind[RoundCost.Kind.VENUE] == Decimal("12000.00")
    assert [(f.name, f.amount) for f in report.funders] == [
        ("Malmö stad", Decimal("22500.38")),
        ("Equal", Decimal("7500.12")),
    ]
    assert sum(f.amount for f in report.funders) == report.total_cost
    assert report.staff_hours == Decimal("35.00")  # 2 present × 7 h + 3 confirmed × 7 h
    assert [(h.name, h.participants, h.hours) for h in report.hours_by_organisation] == [
        ("Migrationsverket", 2, Decimal("21.00")),
        ("Malmö stad", 1, Decimal("14.00")),
    ]
    assert reports.cost_report(programme, start - timedelta(days=30), start).rounds == []


def test_cost_report_gives_a_marked_session_only_to_those_present(
    programme, past_round, people_a, people_b, provider, as_actor
):
    round_, first, second = past_round
    a1, a2 = [make_enrolment(round_, p) for p in people_a(2)]
    b1 = make_enrolment(round_, people_b(1)[0])
    # The first day marked with nobody present, the second with one person: no confirmed participant
    # counts for a marked day, and an organisation with no one present has no hours and no people.
    attendance.attendance_mark(
        actor=as_actor(provider), session=first, marks={a1.pk: False, a2.pk: False, b1.pk: False}
    )
    attendance.attendance_mark(
        actor=as_actor(provider), session=second, marks={a1.pk: True, a2.pk: False, b1.pk: False}
    )

    report = reports.cost_report(programme, timezone.localdate() - timedelta(days=10), timezone.localdate())

    assert [(f.participants, f.staff_hours) for f in report.rounds] == [(3, Decimal("7.00"))]
    assert report.staff_hours == Decimal("7.00")
    assert [(h.name, h.participants, h.hours) for h in report.hours_by_organisation] == [
        ("Migrationsverket", 1, Decimal("7.00"))
    ]


def test_cost_with_negative_amount_is_refused(round_, coordinator, as_actor):
    with pytest.raises(ValidationError) as error:
        costs.cost_add(actor=as_actor(coordinator), round=round_, kind="venue", amount=Decimal("-1"))
    assert error.value.message_dict == {"amount": ["Give an amount of zero or more."]}


def test_cost_by_staff_is_refused(round_, staff_a, as_actor):
    with pytest.raises(PermissionDenied):
        costs.cost_add(actor=as_actor(staff_a), round=round_, kind="venue", amount=Decimal("1"))
    cost = RoundCostFactory(round=round_)
    with pytest.raises(PermissionDenied):
        costs.cost_delete(actor=as_actor(staff_a), cost=cost)


def test_demand_shows_course_needing_another_round(programme, round_, session, people_a, as_actor):
    for person in people_a(5):
        enrolments.enrolment_create(actor=as_actor(person), round=round_)

    [row] = reports.demand(programme, timezone.now())

    assert (row.waiting, row.free_seats, row.unmet, row.needs_round, row.suggested_rounds) == (
        2,
        0,
        2,
        True,
        1,
    )
    assert row.by_organisation == [("Migrationsverket", 2)]


# --- Groups ---------------------------------------------------------------------------------------------


def test_groups_form_mixes_organisations(round_, session, people_a, people_b, coordinator, as_actor):
    Round.unscoped_objects.filter(pk=round_.pk).update(capacity=12)
    round_.refresh_from_db()
    for person in people_a(6) + people_b(6):
        make_enrolment(round_, person)

    groups = discussion_groups.groups_form(actor=as_actor(coordinator), round=round_, group_size=4)

    assert [g.name for g in groups] == ["Grupp 1", "Grupp 2", "Grupp 3"]  # stored in the programme's language
    for group in teaching.groups_of(round_):
        organisations = sorted(m.enrolment.organisation.short_name for m in group.members.all())
        assert organisations == ["MV", "MV", "Malmö stad", "Malmö stad"]


def test_groups_of_a_danish_programme_are_named_in_danish_whoever_forms_them(
    programme, round_, session, people_a, people_b, coordinator, as_actor
):
    type(programme).unscoped_objects.filter(pk=programme.pk).update(language="da")
    Round.unscoped_objects.filter(pk=round_.pk).update(capacity=12)
    round_.refresh_from_db()
    for person in people_a(2) + people_b(2):
        make_enrolment(round_, person)

    with translation.override("en"):  # the coordinator reads English; the server speaks Swedish
        groups = discussion_groups.groups_form(actor=as_actor(coordinator), round=round_, group_size=2)

    assert [g.name for g in groups] == ["Gruppe 1", "Gruppe 2"]


@pytest.mark.parametrize(
    ("preferred", "expected"),
    [
        # None chosen: the programme's language.
        ("", "Du är nummer 1 på väntelistan till PTSD – grundkurs (Omgång 1)"),
        ("da", "Du er nummer 1 på ventelisten til PTSD – grundkurs (Omgång 1)"),
        ("en", "You are number 1 on the waiting list for PTSD – grundkurs (Omgång 1)"),
    ],
)
def test_notification_speaks_the_persons_language(
    round_, session, staff_a, people_b, as_actor, preferred, expected
):
    for person in people_b(3):
        enrolments.enrolment_create(actor=as_actor(person), round=round_)
    staff_a.preferred_language = preferred
    staff_a.save(update_fields=["preferred_language"])
    enrolments.enrolment_create(actor=as_actor(staff_a), round=round_)
    assert titles_to(staff_a) == [expected]


# --- Dead ends: what a page offers is what the service allows ------------------------------------------


@pytest.fixture
def running_round(course):
    """A round whose last day is running now: it began this morning and ends tonight."""
    round_ = RoundFactory(
        course=course,
        capacity=10,
        registration_opens_at=timezone.now() - timedelta(days=30),
        registration_closes_at=timezone.now() - timedelta(days=5),
        cancellation_deadline=timezone.now() - timedelta(days=5),
    )
    now = timezone.now()
    SessionFactory(round=round_, starts_at=now - timedelta(hours=2), ends_at=now + timedelta(hours=3))
    round_.refresh_from_db()
    return round_


def test_completions_wait_until_the_last_session_is_over(running_round, people_a, provider, as_actor):
    [enrolment] = [make_enrolment(running_round, p) for p in people_a(1)]
    session = running_round.sessions.get()
    attendance.attendance_mark(actor=as_actor(provider), session=session, marks={enrolment.pk: True})
    with pytest.raises(ValidationError) as refused:
        attendance.completions_record(actor=as_actor(provider), round=running_round)
    assert refused.value.messages == ["Completions can be recorded once the last session is over."]
    assert Completion.unscoped_objects.count() == 0


def test_a_coordinator_enrols_a_walk_in_once_the_round_has_started(
    running_round, staff_a, coordinator, as_actor
):
    enrolment = enrolments.enrolment_create(actor=as_actor(coordinator), round=running_round, person=staff_a)
    assert enrolment.status == S.CONFIRMED
    assert enrolment.enrolled_by == coordinator


def test_staff_cannot_enrol_themselves_once_the_round_has_started(running_round, staff_a, as_actor):
    with pytest.raises(ValidationError) as refused:
        enrolments.enrolment_create(actor=as_actor(staff_a), round=running_round)
    assert refused.value.message_dict == {"round": ["This round has already started."]}


def test_nobody_is_enrolled_on_a_round_that_is_over(past_round, staff_a, coordinator, as_actor):
    round_, _first, _second = past_round
    with pytest.raises(ValidationError) as refused:
        enrolments.enrolment_create(actor=as_actor(coordinator), round=round_, person=staff_a)
    assert refused.value.message_dict == {"round": ["This round is over."]}
