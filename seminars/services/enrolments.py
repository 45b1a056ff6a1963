"""Enrolment on a round: taking a seat or a queue place, cancelling, and answering an offered seat."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tasks import task

from coordinator.core.audit import insert_audited
from coordinator.core.exceptions import Conflict
from coordinator.core.notifications import notify
from coordinator.core.prepared_writes import PreparedInsert
from coordinator.core.tasks import on_commit_enqueue, retry_later
from coordinator.core.tenancy import programme_scope, unscoped
from organisations.models import Person
from organisations.permissions import Actor
from seminars import invites, permissions
from seminars.models import (
    KIND_ENROLMENT,
    Course,
    Enrolment,
    Round,
)
from seminars.selectors import catalogue, participation
from seminars.services._seats import (
    adjust_seats,
    conflict_on_duplicate,
    enrolment_seat_facts,
    lock_round,
    move,
    my_bookings_url,
    refetch_enrolment,
    round_params,
)
from seminars.services.waiting_list import (
    ask_for_approval,
    confirm,
    fill_locked,
    sweep_is_due,
    sweep_locked,
)

logger = logging.getLogger(__name__)

# A new booking's row, its SQL written once per connection (with its audit entry: ``insert_audited``).
_ENROLMENT_INSERT: PreparedInsert[Enrolment] = PreparedInsert(Enrolment)


@transaction.atomic
def enrolment_create(
    *,
    actor: Actor,
    round: Round,
    person: Person | None = None,
    motivation: str = "",
) -> Enrolment:
    """Enrol a person on a round: a seat if one is free for their organisation, else a place in the queue.

    Staff enrol themselves while registration is open; coordinators may enrol anyone of the programme at
    any time until its last session is over (a walk-in on the first day). Eligibility (staff of a
    taking-part organisation, target roles when the round is exclusive, prerequisites completed, one
    booking per course) is read just before the round lock; the round's own state, the person's booking
    on it and the seats are decided inside it.
    Sends: calendar invites (confirmed; built by the task ``booking_invites`` after the commit, or a notice
    of the seat when no session is scheduled), or a notification of the queue place or the pending
    approval, and an approval request to the line manager where the round needs one.
    """
    if actor.person is None:
        raise PermissionDenied(_("You have no staff profile."))
    # The course with its programme: read with the round by the API (and most callers), else read now. Who
    # the person is and what the course asks for is read before the lock, so that the locked part of the
    # transaction (which every other enrolment on this round waits for) stays short.
    if Round.course.is_cached(round) and Course.programme.is_cached(round.course):  # type: ignore[attr-defined]
        course = round.course
    else:
        course = Course.objects.select_related("programme").get(pk=round.course_id)
    programme = course.programme
    person = person or actor.person
    on_behalf = person.pk != actor.person.pk
    if on_behalf and not permissions.can_manage(actor, programme):
        raise PermissionDenied(_("Only coordinators may enrol other people."))
    if len(motivation) > 1000:
        raise ValidationError({"motivation": _("Keep the note under 1,000 characters.")})
    now = timezone.now()
    rules, context = catalogue.enrolment_facts(course, person, actor=actor)
    locked = lock_round(round.pk, course=course)
    # What the round's lock decides by, with whether lapsed offers are due to be swept: most enrolments find
    # nothing due and sweep nothing; one that does reads the seats again after the sweep.
    seats = enrolment_seat_facts(locked, person.pk, now)
    if sweep_is_due(locked, now, lapsed_offers=seats.lapsed_offers):
        sweep_locked(locked, now, fill=False)
        seats = enrolment_seat_facts(locked, person.pk, now)
    problems = permissions.enrolment_problems(
        context,
        locked,
        target_role_ids=rules.target_role_ids,
        prerequisite_ids=rules.prerequisite_ids,
        prerequisite_titles=rules.prerequisite_titles,
        now=now,
        check_window=not on_behalf,
    )
    # Inside the lock this is exact: a second request of the same person for this round waits for the first.
    if not problems and seats.has_booking:
        problems = [_("There is already a booking on a round of this course.")]
    if problems:
        raise ValidationError({"round": problems})
    is_target = permissions.is_target_role(context.work_role_id, rules.target_role_ids)
    approval = (
        Enrolment.Approval.PENDING if locked.requires_manager_approval else Enrolment.Approval.NOT_REQUIRED
    )
    book = seats.book
    enrolment = Enrolment(
        round=locked,
        person=person,
        organisation_id=person.organisation_id,
        priority=1 if is_target and locked.target_role_mode == Round.TargetRoleMode.PRIORITY else 0,
        approval=approval,
        requested_at=now,
        motivation=motivation,
        enrolled_by=actor.person if on_behalf else None,
    )
    seat = book.available_for(person.organisation_id)
    if seat:
        enrolment.status = (
            Enrolment.Status.PENDING_APPROVAL
            if approval == Enrolment.Approval.PENDING
            else Enrolment.Status.CONFIRMED
        )
    else:
        enrolment.status = Enrolment.Status.WAITING
    if enrolment.status == Enrolment.Status.CONFIRMED:
        enrolment.confirmed_at = now
    enrolment.fill_programme()
    # No savepoint of its own: the conflict leaves this function's atomic block, which is rolled back.
    with conflict_on_duplicate(_("There is already a booking on a round of this course."), savepoint=False):
        insert_audited(_ENROLMENT_INSERT, enrolment)
    if seat:
        adjust_seats(locked, 1)
        book.take(person.organisation_id)
    if enrolment.status == Enrolment.Status.CONFIRMED:
        # The invites are rendered and written by the task queue after the commit (``booking_invites``):
        # building one iCalendar message and mail per session was half of an enrolment's time.
        on_commit_enqueue(booking_invites, locked.pk, [person.pk])
        if on_behalf or not invites.invites_follow(locked, person, now, sessions_ahead=seats.sessions_ahead):
            notify(
                programme=programme,
                recipients=[person],
                kind=KIND_ENROLMENT,
                title=gettext_noop("You have a seat on %(course)s (%(round)s)"),
                body=gettext_noop("Calendar invites follow for every session that is scheduled."),
                params=round_params(locked),
                url=invites.round_url(locked.pk),
            )
    elif enrolment.status == Enrolment.Status.PENDING_APPROVAL:
        notify(
            programme=programme,
            recipients=[person],
            kind=KIND_ENROLMENT,
            title=gettext_noop("A seat on %(course)s (%(round)s) is held for you"),
            body=gettext_noop(
                "Your line manager has been asked to approve. The seat is confirmed when they do."
            ),
            params=round_params(locked),
            url=my_bookings_url(),
        )
    else:
        position = participation.queue_position(enrolment)
        notify(
            programme=programme,
            recipients=[person],
            kind=KIND_ENROLMENT,
            title=gettext_noop("You are number %(position)s on the waiting list for %(course)s (%(round)s)"),
            body=gettext_noop(
                "If a seat becomes free it is offered to you by email and held for %(hours)s hours."
            ),
            params={**round_params(locked), "position": position, "hours": locked.offer_hold_hours},
            url=my_bookings_url(),
        )
    if approval == Enrolment.Approval.PENDING:
        ask_for_approval(enrolment, locked)
    return enrolment


@task()
def booking_invites(round_id: int, person_ids: list[int], attempt: int = 0) -> int:
    """Send the calendar invites of new bookings (the task ``enrolment_create`` queues after its commit):
    bring these people's calendars in step with the round, under the round's lock like every other
    reconciliation of it, so that two never compare the same calendar at once. Idempotent: the invites are
    written to the outbox with the calendar copies in one transaction, and a second run (a worker that died
    after the commit) finds the calendars in step and sends nothing. Returns the number of messages.

    A run the database fails (a restart, a lock it gave up on) is tried again after the back-off, so a
    booking's invites are never silently lost; when the attempts are used up the failure is raised and the
    task is recorded as failed."""
    try:
        return _booking_invites(round_id, person_ids)
    except DatabaseError:
        if not retry_later(booking_invites, attempt, round_id, person_ids):
            raise
        logger.warning(
            "The invites of round %s could not be built (attempt %s)", round_id, attempt + 1, exc_info=True
        )
        return 0


def _booking_invites(round_id: int, person_ids: list[int]) -> int:
    with unscoped():  # a task has no request scope: the round's programme, by the round's id
        programme_id = (
            Round.unscoped_objects.filter(pk=round_id).values_list("course__programme_id", flat=True).first()
        )
    if programme_id is None:
        return 0  # the round was deleted since: its calendars were dealt with then
    with programme_scope([programme_id]), transaction.atomic():
        locked = lock_round(round_id)
        # The persons are read with their bookings (a person whose booking ended holds only copies).
        return invites.reconcile_round(locked, person_ids=person_ids)


@transaction.atomic
def enrolment_cancel(*, actor: Actor, enrolment: Enrolment) -> Enrolment:
    """End a booking: the person cancels (until the round's cancellation deadline) or leaves the queue (any
    time); a coordinator removes anyone at any time. A freed seat is offered to the next in the queue.
    Sends: calendar cancellations for a confirmed seat; a notification when a coordinator removes someone.
    """
    now = timezone.now()
    locked = lock_round(enrolment.round_id)
    sweep_locked(locked, now, fill=False)
    enrolment = refetch_enrolment(enrolment)
    enrolment.round = locked
    if not enrolment.is_active:
        raise Conflict(_("This booking has already ended."))
    own = permissions.is_own(actor, enrolment)
    manager = permissions.can_manage(actor, locked.course.programme_id)
    if not own and not manager:
        raise PermissionDenied(_("You may not change this booking."))
    if not permissions.can_cancel(actor, enrolment, now):
        raise ValidationError(_("The cancellation deadline has passed; ask the programme's coordinators."))
    was_confirmed = enrolment.status == Enrolment.Status.CONFIRMED
    if own:
        reason = (
            Enrolment.EndReason.LEFT_QUEUE
            if enrolment.status == Enrolment.Status.WAITING
            else Enrolment.EndReason.CANCELLED_BY_PERSON
        )
    else:
        reason = Enrolment.EndReason.REMOVED
    move(enrolment, Enrolment.Status.CANCELLED, round_=locked, now=now, end_reason=reason)
    if was_confirmed:
        invites.reconcile_round(locked, people=[enrolment.person])
    if not own:
        notify(
            programme=locked.course.programme,
            recipients=[enrolment.person],
            kind=KIND_ENROLMENT,
            title=gettext_noop("Your booking on %(course)s (%(round)s) was removed by a coordinator"),
            params=round_params(locked),
            url=my_bookings_url(),
        )
    fill_locked(locked, now)
    return enrolment


@transaction.atomic
def offer_accept(*, actor: Actor, enrolment: Enrolment) -> Enrolment:
    """Accept the seat offered from the queue, before the offer lapses. The person themselves only.
    Sends calendar invites, or asks the line manager first where approval is still pending."""
    now = timezone.now()
    locked = lock_round(enrolment.round_id)
    sweep_locked(locked, now, fill=False)
    enrolment = refetch_enrolment(enrolment)
    if not permissions.is_own(actor, enrolment):
        raise PermissionDenied(_("Only the person offered the seat may accept it."))
    if enrolment.status != Enrolment.Status.OFFERED:
        if enrolment.end_reason == Enrolment.EndReason.OFFER_EXPIRED:
            raise ValidationError(_("The offer lapsed and the seat has passed to the next person."))
        raise ValidationError(_("There is no open offer on this booking."))
    if enrolment.approval == Enrolment.Approval.PENDING:
        move(enrolment, Enrolment.Status.PENDING_APPROVAL, round_=locked, now=now)
        notify(
            programme=locked.course.programme,
            recipients=[enrolment.person],
            kind=KIND_ENROLMENT,
            title=gettext_noop("The seat on %(course)s (%(round)s) is held while your line manager decides"),
            params=round_params(locked),
            url=my_bookings_url(),
        )
        ask_for_approval(enrolment, locked)
    else:
        confirm(enrolment, locked, now)
    return enrolment


@transaction.atomic
def offer_decline(*, actor: Actor, enrolment: Enrolment) -> Enrolment:
    """Turn down an offered seat; it goes to the next in the queue. The person themselves only."""
    now = timezone.now()
    locked = lock_round(enrolment.round_id)
    sweep_locked(locked, now, fill=False)
    enrolment = refetch_enrolment(enrolment)
    if not permissions.is_own(actor, enrolment):
        raise PermissionDenied(_("Only the person offered the seat may decline it."))
    if enrolment.status != Enrolment.Status.OFFERED:
        raise ValidationError(_("There is no open offer on this booking."))
    move(
        enrolment,
        Enrolment.Status.DECLINED,
        round_=locked,
        now=now,
        end_reason=Enrolment.EndReason.OFFER_DECLINED,
    )
    fill_locked(locked, now)
    return enrolment


def enrolments_end_for_erasure(person: Person, programme_ids: frozenset[int]) -> int:
    """Part of erasing a person (``organisations.services.personal_data``): their bookings and queue places
    in rounds of these programmes that have not started end as removed, and each freed seat is offered to
    the next in the queue. Rounds under way or over keep the enrolment, its attendance and completion.
    No message is sent to the person: mail to an erased person is not kept."""
    now = timezone.now()
    round_ids = sorted(
        set(
            Enrolment.objects.filter(
                person=person, programme_id__in=programme_ids, status__in=Enrolment.ACTIVE
            ).values_list("round_id", flat=True)
        )
    )
    ended = 0
    for round_id in round_ids:  # one lock per round, in primary-key order
        locked = lock_round(round_id)
        if locked.has_started(now):
            continue
        for enrolment in Enrolment.objects.filter(round=locked, person=person, status__in=Enrolment.ACTIVE):
            move(
                enrolment,
                Enrolment.Status.CANCELLED,
                round_=locked,
                now=now,
                end_reason=Enrolment.EndReason.REMOVED,
            )
            ended += 1
        fill_locked(locked, now)
    return ended


def bookings_show_changed_people(person_ids: list[int], details: frozenset[str]) -> int:
    """A ``calendar_people_changed`` entry (``coordinator.core.itip.people_changed``): a session's event
    shows its participant's own name and address (ATTENDEE), so these people's calendars are brought in
    step with every published round they are booked on that has a session still to end. One query finds
    the rounds; then one transaction per programme, in its scope, taking the rounds' locks in key order as
    every reconciliation of a round does. Erased people are left out: their calendars are written to no
    more. Returns the number of messages."""
    if not details & {"name", "email"}:
        return 0
    now = timezone.now()
    with unscoped():  # a task: the programmes are those of the bookings found
        found = list(
            Enrolment.unscoped_objects.filter(
                person_id__in=person_ids,
                person__erased_at__isnull=True,
                status=Enrolment.Status.CONFIRMED,
                round__status=Round.Status.PUBLISHED,
                round__sessions__ends_at__gt=now,
            )
            .values_list("programme_id", "round_id", "person_id")
            .distinct()
            .order_by("programme_id", "round_id", "person_id")
        )
    booked: dict[int, dict[int, list[int]]] = {}
    for programme_id, round_id, person_id in found:
        booked.setdefault(programme_id, {}).setdefault(round_id, []).append(person_id)
    sent = 0
    for programme_id, rounds in booked.items():
        with programme_scope([programme_id]), transaction.atomic():
            for round_id, people in rounds.items():
                sent += invites.reconcile_round(lock_round(round_id), person_ids=people)
    return sent
