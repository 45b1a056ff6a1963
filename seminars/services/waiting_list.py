"""The waiting list and the seats it is offered: filling free seats in queue order, offers and their
hold time, the sweep of what has become due, confirmation and the line manager's approval request.

Seats
-----
A round's seats are its one scarce thing, and every change to who holds one happens while the round's row is
locked (``SELECT ... FOR UPDATE`` on that single row, always the first lock the transaction takes, so two
transactions can never wait for each other in a different order). Inside the lock the service reads
``Round.seats_taken`` and the seats each organisation holds, decides, writes the enrolment and moves the
counter with ``F("seats_taken") ± 1``. The CHECK constraint ``seats_taken <= capacity`` is the backstop: a
path that forgot the lock fails with an integrity error instead of overbooking (a programming error, which the
race-control test provokes on purpose). On SQLite transactions are serialised anyway.

A request that was sound but found the state changed under it (a booking ended meanwhile, a duplicate that a
concurrent request created first) raises ``coordinator.core.exceptions.Conflict``: 409 in the API, the message
on pages.

Seat-holding statuses are ``pending_approval`` (held while the line manager decides), ``confirmed`` and
``offered`` (held for the offer's hold time). ``waiting`` holds none.

Quotas
------
``OrganisationQuota`` gives an organisation a minimum of reserved seats and/or a maximum. A person of
organisation *O* may take a seat when a seat is free, *O* is below its maximum, and taking it leaves enough
free seats for the reservations other organisations have not used yet. At ``reserved_seats_release_at``
the periodic sweep releases the reservations and offers the seats to the queue.

Waiting list
------------
The queue is ordered by priority (1 for a target role when the round gives target roles priority), then by
the time of enrolment. Whenever a seat may have become free (a cancellation, a declined or lapsed offer, a
rejected approval, more capacity, a quota change, released reservations) ``fill_locked`` offers it to the
first person in that order who may take it under the quotas, and holds it for them for the round's
``offer_hold_hours`` (never beyond the start of the round). Lapsed offers are swept by the periodic job and,
lazily, by every service that locks the round.

Line manager approval
---------------------
Where a round requires it, an enrolment asks the person's line manager (or, if they have none on record,
the coordinators). A free seat is held while the manager decides; a person in the queue can be approved
before a seat is offered, so that accepting the offer confirms at once. Approvals still pending when the
round starts lapse.

Calendar
--------
Confirmation sends one ``METHOD:REQUEST`` per future session; a change of time or place sends an update
with SEQUENCE + 1; leaving, removal and cancellation send ``METHOD:CANCEL`` (see ``seminars.invites``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from coordinator.core import formatting
from coordinator.core.notifications import notify
from organisations.models import Person, Programme
from organisations.selectors import coordinators_of
from seminars import invites
from seminars.models import (
    KIND_APPROVAL,
    KIND_ENROLMENT,
    KIND_OFFER,
    Enrolment,
    Round,
)
from seminars.selectors import participation
from seminars.services._seats import (
    SeatBook,
    approvals_url,
    lock_round,
    move,
    my_bookings_url,
    round_params,
)


def _approvers(enrolment: Enrolment, programme: Programme) -> list[Person]:
    """The person's line manager, or the programme's coordinators when none is on record."""
    manager = enrolment.person.line_manager
    if manager is not None:
        return [manager]
    return list(coordinators_of(programme))


def ask_for_approval(enrolment: Enrolment, round_: Round) -> None:
    programme = round_.course.programme
    notify(
        programme=programme,
        recipients=_approvers(enrolment, programme),
        kind=KIND_APPROVAL,
        title=gettext_noop("%(person)s asks to take part in %(course)s (%(round)s)"),
        body=gettext_noop("Approve or decline the time away under Courses → Approvals."),
        params={**round_params(round_), "person": enrolment.person.full_name},
        detail=enrolment.motivation,
        url=approvals_url(),
    )


def _offer_seat(enrolment: Enrolment, round_: Round, book: SeatBook, now: datetime) -> None:
    hold_until = now + timedelta(hours=round_.offer_hold_hours)
    if round_.starts_at is not None:
        hold_until = min(hold_until, round_.starts_at)
    enrolment.offered_at = now
    enrolment.hold_expires_at = hold_until
    move(
        enrolment,
        Enrolment.Status.OFFERED,
        round_=round_,
        now=now,
        book=book,
        extra_fields=["offered_at", "hold_expires_at"],
    )
    programme = round_.course.programme
    with translation.override(enrolment.person.language_in(programme)):
        until = formatting.day_and_time(hold_until, ZoneInfo(programme.time_zone))
    notify(
        programme=programme,
        recipients=[enrolment.person],
        kind=KIND_OFFER,
        title=gettext_noop("A seat is free for you: %(course)s (%(round)s)"),
        body=gettext_noop("Accept it by %(until)s or it passes to the next person in the queue."),
        params={**round_params(round_), "until": until},
        url=my_bookings_url(),
    )


def fill_locked(round_: Round, now: datetime, book: SeatBook | None = None) -> list[Enrolment]:
    """Offer free seats to the queue, in queue order, to those the quotas allow (inside the round lock)."""
    if (
        round_.status != Round.Status.PUBLISHED
        or round_.has_started(now)
        or round_.seats_taken >= round_.capacity
    ):
        return []
    book = book or SeatBook.load(round_)
    waiting = list(
        Enrolment.objects.filter(round=round_, status=Enrolment.Status.WAITING)
        .select_related("person__user")
        .order_by("-priority", "requested_at", "pk")
    )
    if not waiting:
        return []
    members = participation.active_member_ids(round_.course.programme_id, {e.person_id for e in waiting})
    offered = []
    for enrolment in waiting:
        if book.free < 1:
            break
        if enrolment.person_id not in members or not book.available_for(enrolment.organisation_id):
            continue
        _offer_seat(enrolment, round_, book, now)
        offered.append(enrolment)
    return offered


def end_active(
    round_: Round,
    statuses: Sequence[str],
    status: str,
    reason: str,
    now: datetime,
    condition: Q | None = None,
) -> list[Enrolment]:
    queryset = Enrolment.objects.filter(round=round_, status__in=statuses).select_related("person__user")
    if condition is not None:
        queryset = queryset.filter(condition)
    ended = list(queryset.order_by("pk"))
    for enrolment in ended:
        move(enrolment, status, round_=round_, now=now, end_reason=reason)
    return ended


def sweep_is_due(round_: Round, now: datetime, *, lapsed_offers: int) -> bool:
    """Whether ``sweep_locked(round_, now, fill=False)`` has anything to do on a locked round, given how many
    of its offers have lapsed (``hold_expires_at`` at or before ``now``, read by the caller)."""
    return (
        lapsed_offers > 0
        or round_.has_started(now)
        or (
            round_.reserved_seats_release_at is not None
            and round_.reserved_seats_released_at is None
            and round_.reserved_seats_release_at <= now
        )
    )


def sweep_locked(round_: Round, now: datetime, *, fill: bool = True) -> int:
    """What has become due on a locked round: lapsed offers, the start of the round, released reservations,
    then free seats to the queue. Returns how many enrolments changed.

    With ``fill=False`` the queue is offered seats only if something here freed one: every service that
    frees a seat fills the queue itself, so a round nobody has touched has no seat the queue could take.
    """
    programme = round_.course.programme
    handled = 0
    for enrolment in end_active(
        round_,
        [Enrolment.Status.OFFERED],
        Enrolment.Status.EXPIRED,
        Enrolment.EndReason.OFFER_EXPIRED,
        now,
        Q(hold_expires_at__lte=now),
    ):
        notify(
            programme=programme,
            recipients=[enrolment.person],
            kind=KIND_ENROLMENT,
            title=gettext_noop(
                "The seat offered to you on %(course)s (%(round)s) has passed to the next person"
            ),
            body=gettext_noop("You did not accept it in time. You can enrol again if seats are free."),
            params=round_params(round_),
            url=my_bookings_url(),
        )
        handled += 1
    if round_.has_started(now):
        for enrolment in end_active(
            round_,
            [Enrolment.Status.PENDING_APPROVAL],
            Enrolment.Status.EXPIRED,
            Enrolment.EndReason.APPROVAL_LAPSED,
            now,
        ):
            notify(
                programme=programme,
                recipients=[enrolment.person],
                kind=KIND_ENROLMENT,
                title=gettext_noop("%(course)s (%(round)s) started before your line manager approved"),
                params=round_params(round_),
                url=my_bookings_url(),
            )
            handled += 1
        for enrolment in end_active(
            round_,
            [Enrolment.Status.WAITING, Enrolment.Status.OFFERED],
            Enrolment.Status.EXPIRED,
            Enrolment.EndReason.ROUND_STARTED,
            now,
        ):
            notify(
                programme=programme,
                recipients=[enrolment.person],
                kind=KIND_ENROLMENT,
                title=gettext_noop("%(course)s (%(round)s) has started without a free seat for you"),
                body=gettext_noop("Your place in the queue has ended. Look for a later round of the course."),
                params=round_params(round_),
                url=my_bookings_url(),
            )
            handled += 1
    if (
        round_.reserved_seats_release_at is not None
        and round_.reserved_seats_released_at is None
        and round_.reserved_seats_release_at <= now
    ):
        round_.reserved_seats_released_at = now
        round_.save(update_fields=["reserved_seats_released_at"])
        handled += 1
    if fill or handled:
        handled += len(fill_locked(round_, now))
    return handled


def rounds_sweep(now: datetime | None = None) -> int:
    """Periodic job (system work, every programme): expire lapsed offers and approvals, close the queues of
    rounds that have started, release unused reserved seats at their date, and offer free seats to the
    queue. Each round is handled in its own transaction, in id order."""
    now = now or timezone.now()
    due = (
        Round.objects.filter(
            Q(enrolments__status=Enrolment.Status.OFFERED, enrolments__hold_expires_at__lte=now)
            | Q(
                starts_at__lte=now,
                enrolments__status__in=[
                    Enrolment.Status.WAITING,
                    Enrolment.Status.OFFERED,
                    Enrolment.Status.PENDING_APPROVAL,
                ],
            )
            | Q(
                reserved_seats_release_at__lte=now,
                reserved_seats_released_at__isnull=True,
                status=Round.Status.PUBLISHED,
            )
        )
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )
    handled = 0
    for round_id in list(due):
        with transaction.atomic():
            handled += sweep_locked(lock_round(round_id), now)
    return handled


def confirm(enrolment: Enrolment, round_: Round, now: datetime, book: SeatBook | None = None) -> None:
    move(enrolment, Enrolment.Status.CONFIRMED, round_=round_, now=now, book=book)
    sent = invites.reconcile_round(round_, people=[enrolment.person])
    if not sent:
        notify(
            programme=round_.course.programme,
            recipients=[enrolment.person],
            kind=KIND_ENROLMENT,
            title=gettext_noop("Your seat on %(course)s (%(round)s) is confirmed"),
            body=gettext_noop("Calendar invites follow when the sessions are scheduled."),
            params=round_params(round_),
            url=invites.round_url(round_.pk),
        )
