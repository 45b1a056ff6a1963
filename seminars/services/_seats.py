"""What the seminars workflows share: the round lock every seat change takes first, the seat book
counted inside it, status moves that keep the seat counter exact, and the small checks and helpers of every
service (rights, applying values, addresses in notifications)."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connections, transaction
from django.db.models import Count, F
from django.urls import reverse
from django.utils.translation import gettext as _

from coordinator.core.exceptions import Conflict
from coordinator.core.prepared import PreparedQuery
from coordinator.core.prepared_writes import PreparedUpdate
from organisations.models import Programme
from organisations.permissions import Actor
from seminars import permissions
from seminars.models import (
    Course,
    Enrolment,
    OrganisationQuota,
    Round,
)

# The row lock on the round is what keeps seats exact. It is switched off only by the race-control test and
# the benchmark's baseline (``seat_lock_disabled``), to show what happens without it.
_seat_lock_enabled = True


@contextlib.contextmanager
def seat_lock_disabled() -> Iterator[None]:
    """Take seats without locking the round (race-control tests and the benchmark baseline only)."""
    global _seat_lock_enabled
    _seat_lock_enabled = False
    try:
        yield
    finally:
        _seat_lock_enabled = True


def require_manage(actor: Actor, programme: Programme | int) -> None:
    if not permissions.can_manage(actor, programme):
        raise PermissionDenied(_("Only the programme's coordinators may do this."))


# The round's row by its id, locked (or not, for the race-control tests), compiled to SQL once per
# connection: an enrolment takes it with the round's course already read in scope.
_LOCK_ROUND: PreparedQuery[Round] = PreparedQuery(
    lambda pk: Round.unscoped_objects.select_for_update().filter(pk=pk), stand_in=-(2**62) + 17
)
_READ_ROUND: PreparedQuery[Round] = PreparedQuery(
    lambda pk: Round.unscoped_objects.filter(pk=pk), stand_in=-(2**62) + 19
)


def lock_round(round_id: int, *, course: Course | None = None) -> Round:
    """The round, locked for the rest of the transaction (the one lock every seat change takes first).
    ``course``: the round's course with its programme, read within the tenant scope in this transaction
    (the round is then locked by its id alone, and the course not read again)."""
    if course is not None:
        found = next(iter((_LOCK_ROUND if _seat_lock_enabled else _READ_ROUND).fetch(round_id)), None)
        if found is None or found.course_id != course.pk:
            raise ValidationError({"round": _("This round does not exist.")})
        found.course = course
        return found
    queryset = Round.objects.select_related("course__programme")
    if _seat_lock_enabled:
        queryset = queryset.select_for_update(of=("self",))
    found = queryset.filter(pk=round_id).first()
    if found is None:
        raise ValidationError({"round": _("This round does not exist.")})
    return found


@dataclass
class SeatBook:
    """The round's seats as seen inside the lock: capacity, what is taken, and the quotas."""

    capacity: int
    taken: int
    reservations_released: bool
    quotas: dict[int, tuple[int, int | None]] = field(default_factory=dict)
    taken_by_organisation: Counter[int] = field(default_factory=Counter)

    @classmethod
    def load(cls, round_: Round) -> SeatBook:
        quotas = {
            q.organisation_id: (q.reserved, q.maximum) for q in OrganisationQuota.objects.filter(round=round_)
        }
        taken_by_organisation: Counter[int] = Counter()
        if quotas:
            rows = (
                Enrolment.objects.filter(round=round_, status__in=Enrolment.SEAT_HOLDING)
                .values_list("organisation_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
            taken_by_organisation.update(dict(rows))
        return cls(
            round_.capacity,
            round_.seats_taken,
            round_.reserved_seats_released_at is not None,
            quotas,
            taken_by_organisation,
        )

    @property
    def free(self) -> int:
        return self.capacity - self.taken

    def unused_reservations(self, *, excluding: int | None = None) -> int:
        if self.reservations_released:
            return 0
        return sum(
            max(0, reserved - self.taken_by_organisation[org])
            for org, (reserved, _maximum) in self.quotas.items()
            if org != excluding
        )

    def available_for(self, organisation_id: int) -> bool:
        if self.free < 1:
            return False
        quota = self.quotas.get(organisation_id)
        if quota and quota[1] is not None and self.taken_by_organisation[organisation_id] >= quota[1]:
            return False
        return self.free - self.unused_reservations(excluding=organisation_id) >= 1

    def take(self, organisation_id: int) -> None:
        self.taken += 1
        self.taken_by_organisation[organisation_id] += 1

    def give_back(self, organisation_id: int) -> None:
        self.taken -= 1
        self.taken_by_organisation[organisation_id] -= 1


@dataclass(frozen=True)
class EnrolmentSeatFacts:
    """What an enrolment decides inside the round's lock: whether the person already holds a booking on the
    round, the seats (``SeatBook``), and whether a session of the round is still to end."""

    has_booking: bool
    book: SeatBook
    sessions_ahead: bool
    lapsed_offers: int


# The person's bookings on the round, the quotas, the seats each organisation holds, the sessions still to
# end and the offers whose hold has lapsed, in one query (five before): each row is (kind, a, b, c). The
# round is the locked one, read within the tenant scope. Plain SQL, because compiling five querysets cost
# more than running them.
_BOOKED, _QUOTA, _HELD, _AHEAD, _LAPSED = range(1, 6)
_ENROLMENT_SEAT_FACTS_SQL = f"""
SELECT {_BOOKED}, COUNT(*), 0, NULL FROM seminars_enrolment
    WHERE round_id = %s AND person_id = %s AND status IN ({", ".join(["%s"] * len(Enrolment.ACTIVE))})
UNION ALL
SELECT {_QUOTA}, organisation_id, reserved, maximum FROM seminars_organisationquota WHERE round_id = %s
UNION ALL
SELECT {_HELD}, organisation_id, COUNT(*), NULL FROM seminars_enrolment
    WHERE round_id = %s AND status IN ({", ".join(["%s"] * len(Enrolment.SEAT_HOLDING))})
    GROUP BY organisation_id
UNION ALL
SELECT {_AHEAD}, COUNT(*), 0, NULL FROM seminars_session WHERE round_id = %s AND ends_at > %s
UNION ALL
SELECT {_LAPSED}, COUNT(*), 0, NULL FROM seminars_enrolment
    WHERE round_id = %s AND status = %s AND hold_expires_at <= %s
"""  # noqa: S608 (only the placeholders are formatted in; every value is a parameter)


def enrolment_seat_facts(locked: Round, person_id: int, now: datetime) -> EnrolmentSeatFacts:
    """``EnrolmentSeatFacts`` of a locked round for one person, in one query: what the duplicate check,
    ``SeatBook.load``, ``invites.invites_follow`` and the sweep's lapsed offers read in five."""
    connection = connections[Round.objects.db]
    active: list[int | str | datetime | None] = [str(status) for status in Enrolment.ACTIVE]
    holding: list[int | str | datetime | None] = [str(status) for status in Enrolment.SEAT_HOLDING]
    at: int | str | datetime | None = connection.ops.adapt_datetimefield_value(now)
    offered: int | str | datetime | None = str(Enrolment.Status.OFFERED)
    round_id: int | str | datetime | None = locked.pk
    params: list[int | str | datetime | None] = [
        *[round_id, person_id, *active],
        round_id,
        *[round_id, *holding],
        *[round_id, at],
        *[round_id, offered, at],
    ]
    booked = ahead = lapsed = 0
    quotas: dict[int, tuple[int, int | None]] = {}
    held: Counter[int] = Counter()
    with connection.cursor() as cursor:
        cursor.execute(_ENROLMENT_SEAT_FACTS_SQL, params)
        for kind, a, b, c in cursor.fetchall():
            if kind == _BOOKED:
                booked = a
            elif kind == _QUOTA:
                quotas[a] = (b, c)
            elif kind == _HELD:
                held[a] = b
            elif kind == _AHEAD:
                ahead = a
            else:
                lapsed = a
    book = SeatBook(
        locked.capacity,
        locked.seats_taken,
        locked.reserved_seats_released_at is not None,
        quotas,
        held if quotas else Counter(),
    )
    return EnrolmentSeatFacts(
        has_booking=booked > 0, book=book, sessions_ahead=ahead > 0, lapsed_offers=lapsed
    )


# The round's seat counter moved by a delta, by the round's id: SQL written once per connection.
_ADJUST_SEATS: PreparedUpdate[Round] = PreparedUpdate(
    lambda pk, delta: (Round.unscoped_objects.filter(pk=pk), {"seats_taken": F("seats_taken") + delta}),
    stand_ins=(-(2**62) + 31, -(2**62) + 37),
)


def adjust_seats(round_: Round, delta: int) -> None:
    if delta:
        # The round was fetched (and locked) through the scoped manager; updating it by primary key avoids
        # the scope's join, which would turn this into an UPDATE ... WHERE id IN (subquery).
        _ADJUST_SEATS.update(round_.pk, delta)
        round_.seats_taken += delta


def move(
    enrolment: Enrolment,
    status: str,
    *,
    round_: Round,
    now: datetime,
    book: SeatBook | None = None,
    end_reason: str = "",
    extra_fields: Sequence[str] = (),
) -> None:
    """Change an enrolment's status, keeping the seat counter (and the in-memory seat book) in step."""
    held_before = enrolment.status in Enrolment.SEAT_HOLDING
    enrolment.status = status
    fields = ["status", *extra_fields]
    if status == Enrolment.Status.CONFIRMED:
        enrolment.confirmed_at = now
        fields.append("confirmed_at")
    if status != Enrolment.Status.OFFERED:
        enrolment.hold_expires_at = None
        fields.append("hold_expires_at")
    if status not in Enrolment.ACTIVE:
        enrolment.ended_at = now
        enrolment.end_reason = end_reason
        fields += ["ended_at", "end_reason"]
    enrolment.save(update_fields=sorted(set(fields)))
    held_after = status in Enrolment.SEAT_HOLDING
    if held_before != held_after:
        adjust_seats(round_, 1 if held_after else -1)
        if book is not None:
            (book.take if held_after else book.give_back)(enrolment.organisation_id)


def round_params(round_: Round) -> dict[str, str]:
    return {"course": round_.course.title, "round": round_.label}


def approvals_url() -> str:
    return reverse("seminars:approvals")


def my_bookings_url() -> str:
    return reverse("seminars:my-bookings")


def refetch_enrolment(enrolment: Enrolment) -> Enrolment:
    return Enrolment.objects.select_related("person__user", "person__line_manager__user", "round").get(
        pk=enrolment.pk
    )


def require_teach(actor: Actor, course: Course) -> None:
    if not permissions.can_teach(actor, course):
        raise PermissionDenied(_("Only the course's providers and the coordinators may do this."))


@contextlib.contextmanager
def conflict_on_duplicate(message: str | None = None, *, savepoint: bool = True) -> Iterator[None]:
    """A unique constraint that a concurrent request satisfied first answers as a ``Conflict`` (409, or the
    message on the form) instead of a database error; the savepoint keeps the caller's transaction usable.
    ``savepoint=False`` for a caller whose own ``atomic`` block ends with the conflict (the error marks that
    block for rollback, which its own savepoint or transaction undoes): two statements fewer."""
    try:
        with transaction.atomic(savepoint=savepoint):
            yield
    except IntegrityError as error:
        raise Conflict(message) from error
