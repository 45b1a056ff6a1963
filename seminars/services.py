"""Every write of the seminars app: courses, rounds, sessions, quotas, enrolments, waiting lists, attendance,
completions, discussion groups and costs.

Seats
-----
A round's seats are its one scarce thing, and every change to who holds one happens while the round's row is
locked (``SELECT ... FOR UPDATE`` on that single row, always the first lock the transaction takes, so two
transactions can never wait for each other in a different order). Inside the lock the service reads
``Round.seats_taken`` and the seats each organisation holds, decides, writes the enrolment and moves the
counter with ``F("seats_taken") ± 1``. The CHECK constraint ``seats_taken <= capacity`` is the backstop: a
path that forgot the lock fails with an integrity error (409 in the API) instead of overbooking. On SQLite
transactions are serialised anyway.

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
rejected approval, more capacity, a quota change, released reservations) ``_fill_locked`` offers it to the
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

import contextlib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core.notifications import notify
from organisations.models import Organisation, Person, Programme, WorkRole
from organisations.permissions import Actor
from organisations.selectors import coordinators_of
from seminars import grouping, invites, selectors
from seminars import permissions as perms
from seminars.models import (
    Attendance,
    Completion,
    Course,
    DiscussionGroup,
    DiscussionGroupMember,
    Enrolment,
    OrganisationQuota,
    Round,
    RoundCost,
    Session,
)

S = Enrolment.Status
A = Enrolment.Approval
E = Enrolment.EndReason

KIND_ENROLMENT = "seminars.enrolment"
KIND_OFFER = "seminars.offer"
KIND_APPROVAL = "seminars.approval"
KIND_COMPLETION = "seminars.completion"

COURSE_FIELDS = {
    "title",
    "description",
    "language",
    "completion_rule",
    "attendance_required_percent",
    "is_archived",
}
ROUND_FIELDS = {
    "label",
    "information",
    "capacity",
    "registration_opens_at",
    "registration_closes_at",
    "cancellation_deadline",
    "target_role_mode",
    "requires_manager_approval",
    "offer_hold_hours",
    "reserved_seats_release_at",
    "status",
}
SESSION_FIELDS = {"title", "starts_at", "ends_at", "place", "online_url"}
# A change to one of these is news for the participants' calendars.
SESSION_CALENDAR_FIELDS = {"title", "starts_at", "ends_at", "place", "online_url"}

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


def _require_manage(actor: Actor, programme: Programme | int) -> None:
    if not perms.can_manage(actor, programme):
        raise PermissionDenied(_("Only the programme's coordinators may do this."))


def _apply(instance: Any, values: Mapping[str, Any], allowed: set[str]) -> list[str]:
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    changed = []
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def _full_clean(instance: Any, exclude: Sequence[str] = ()) -> None:
    instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)


# --- Seat bookkeeping -----------------------------------------------------------------------------------


def _lock_round(round_id: int) -> Round:
    """The round, locked for the rest of the transaction (the one lock every seat change takes first)."""
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


def _adjust_seats(round_: Round, delta: int) -> None:
    if delta:
        # The round was fetched (and locked) through the scoped manager; updating it by primary key avoids
        # the scope's join, which would turn this into an UPDATE ... WHERE id IN (subquery).
        Round.unscoped_objects.filter(pk=round_.pk).update(seats_taken=F("seats_taken") + delta)
        round_.seats_taken += delta


def _move(
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
    if status == S.CONFIRMED:
        enrolment.confirmed_at = now
        fields.append("confirmed_at")
    if status != S.OFFERED:
        enrolment.hold_expires_at = None
        fields.append("hold_expires_at")
    if status not in Enrolment.ACTIVE:
        enrolment.ended_at = now
        enrolment.end_reason = end_reason
        fields += ["ended_at", "end_reason"]
    enrolment.save(update_fields=sorted(set(fields)))
    held_after = status in Enrolment.SEAT_HOLDING
    if held_before != held_after:
        _adjust_seats(round_, 1 if held_after else -1)
        if book is not None:
            (book.take if held_after else book.give_back)(enrolment.organisation_id)


def _tell(
    person: Person,
    programme: Programme,
    kind: str,
    url: str,
    title: str,
    body: str = "",
    params: Mapping[str, Any] | None = None,
    detail: str = "",
) -> None:
    """A notification in the person's own language.

    ``title`` and ``body`` are English source strings marked with ``gettext_noop`` and translated here, in
    the recipient's language; ``detail`` is text someone typed (a reason, a note), passed on untranslated.
    """
    with translation.override(invites.language_of(person, programme)):
        values = dict(params or {})
        text = _(body) % values if body else ""
        if detail:
            text = f"{text}\n\n{detail}".strip()
        notify(
            programme=programme, recipients=[person], kind=kind, title=_(title) % values, body=text, url=url
        )


def _round_params(round_: Round) -> dict[str, str]:
    return {"course": round_.course.title, "round": round_.label}


def _approvers(enrolment: Enrolment, programme: Programme) -> list[Person]:
    manager = enrolment.person.line_manager
    if manager is not None:
        return [manager]
    return list(coordinators_of(programme))


def _ask_for_approval(enrolment: Enrolment, round_: Round) -> None:
    programme = round_.course.programme
    for approver in _approvers(enrolment, programme):
        _tell(
            approver,
            programme,
            KIND_APPROVAL,
            _approvals_url(),
            gettext_noop("%(person)s asks to take part in %(course)s (%(round)s)"),
            gettext_noop("Approve or decline the time away under Courses → Approvals."),
            {**_round_params(round_), "person": enrolment.person.full_name},
            detail=enrolment.motivation,
        )


def _approvals_url() -> str:
    return reverse("seminars:approvals")


def _my_url() -> str:
    return reverse("seminars:my-bookings")


def _offer_seat(enrolment: Enrolment, round_: Round, book: SeatBook, now: datetime) -> None:
    hold_until = now + timedelta(hours=round_.offer_hold_hours)
    if round_.starts_at is not None:
        hold_until = min(hold_until, round_.starts_at)
    enrolment.offered_at = now
    enrolment.hold_expires_at = hold_until
    _move(
        enrolment,
        S.OFFERED,
        round_=round_,
        now=now,
        book=book,
        extra_fields=["offered_at", "hold_expires_at"],
    )
    programme = round_.course.programme
    with translation.override(invites.language_of(enrolment.person, programme)):
        until = formats.date_format(
            timezone.localtime(hold_until, ZoneInfo(programme.time_zone)), "DATETIME_FORMAT"
        )
    _tell(
        enrolment.person,
        programme,
        KIND_OFFER,
        _my_url(),
        gettext_noop("A seat is free for you: %(course)s (%(round)s)"),
        gettext_noop("Accept it by %(until)s or it passes to the next person in the queue."),
        {**_round_params(round_), "until": until},
    )


def _fill_locked(round_: Round, now: datetime, book: SeatBook | None = None) -> list[Enrolment]:
    """Offer free seats to the queue, in queue order, to those the quotas allow (inside the round lock)."""
    if (
        round_.status != Round.Status.PUBLISHED
        or round_.has_started(now)
        or round_.seats_taken >= round_.capacity
    ):
        return []
    book = book or SeatBook.load(round_)
    waiting = list(
        Enrolment.objects.filter(round=round_, status=S.WAITING)
        .select_related("person__user")
        .order_by("-priority", "requested_at", "pk")
    )
    if not waiting:
        return []
    members = selectors.active_member_ids(round_.course.programme_id, {e.person_id for e in waiting})
    offered = []
    for enrolment in waiting:
        if book.free < 1:
            break
        if enrolment.person_id not in members or not book.available_for(enrolment.organisation_id):
            continue
        _offer_seat(enrolment, round_, book, now)
        offered.append(enrolment)
    return offered


def _end_active(
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
        _move(enrolment, status, round_=round_, now=now, end_reason=reason)
    return ended


def _sweep_locked(round_: Round, now: datetime, *, fill: bool = True) -> int:
    """What has become due on a locked round: lapsed offers, the start of the round, released reservations,
    then free seats to the queue. Returns how many enrolments changed.

    With ``fill=False`` the queue is offered seats only if something here freed one: every service that
    frees a seat fills the queue itself, so a round nobody has touched has no seat the queue could take.
    """
    programme = round_.course.programme
    handled = 0
    for enrolment in _end_active(
        round_, [S.OFFERED], S.EXPIRED, E.OFFER_EXPIRED, now, Q(hold_expires_at__lte=now)
    ):
        _tell(
            enrolment.person,
            programme,
            KIND_ENROLMENT,
            _my_url(),
            gettext_noop("The seat offered to you on %(course)s (%(round)s) has passed to the next person"),
            gettext_noop("You did not accept it in time. You can enrol again if seats are free."),
            _round_params(round_),
        )
        handled += 1
    if round_.has_started(now):
        for enrolment in _end_active(round_, [S.PENDING_APPROVAL], S.EXPIRED, E.APPROVAL_LAPSED, now):
            _tell(
                enrolment.person,
                programme,
                KIND_ENROLMENT,
                _my_url(),
                gettext_noop("%(course)s (%(round)s) started before your line manager approved"),
                "",
                _round_params(round_),
            )
            handled += 1
        for enrolment in _end_active(round_, [S.WAITING, S.OFFERED], S.EXPIRED, E.ROUND_STARTED, now):
            _tell(
                enrolment.person,
                programme,
                KIND_ENROLMENT,
                _my_url(),
                gettext_noop("%(course)s (%(round)s) has started without a free seat for you"),
                gettext_noop("Your place in the queue has ended. Look for a later round of the course."),
                _round_params(round_),
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
        handled += len(_fill_locked(round_, now))
    return handled


def rounds_sweep(now: datetime | None = None) -> int:
    """Periodic job (system work, every programme): expire lapsed offers and approvals, close the queues of
    rounds that have started, release unused reserved seats at their date, and offer free seats to the
    queue. Each round is handled in its own transaction, in id order."""
    now = now or timezone.now()
    due = (
        Round.objects.filter(
            Q(enrolments__status=S.OFFERED, enrolments__hold_expires_at__lte=now)
            | Q(starts_at__lte=now, enrolments__status__in=[S.WAITING, S.OFFERED, S.PENDING_APPROVAL])
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
            handled += _sweep_locked(_lock_round(round_id), now)
    return handled


# --- Courses --------------------------------------------------------------------------------------------


def _check_course_relations(
    programme: Programme,
    providers: Sequence[Organisation] | None,
    target_roles: Sequence[WorkRole] | None,
    prerequisites: Sequence[Course] | None,
    course: Course | None,
) -> None:
    errors: dict[str, str] = {}
    if providers is not None:
        if not providers:
            errors["providers"] = _("Name at least one organisation that gives the course.")
        participating = set(
            Organisation.objects.filter(participations__programme=programme).values_list("pk", flat=True)
        )
        if any(o.pk not in participating for o in providers):
            errors["providers"] = _("Choose organisations that take part in the programme.")
    if target_roles is not None and any(r.programme_id != programme.pk for r in target_roles):
        errors["target_roles"] = _("Choose roles at work from this programme's list.")
    if prerequisites is not None:
        if any(c.programme_id != programme.pk for c in prerequisites):
            errors["prerequisites"] = _("Choose courses of this programme.")
        elif course is not None and _creates_cycle(course, prerequisites):
            errors["prerequisites"] = _("A course cannot require itself, directly or through other courses.")
    if errors:
        raise ValidationError(errors)


def _creates_cycle(course: Course, prerequisites: Sequence[Course]) -> bool:
    edges: dict[int, set[int]] = {}
    for from_id, to_id in Course.prerequisites.through.objects.filter(
        from_course__programme_id=course.programme_id
    ).values_list("from_course_id", "to_course_id"):
        edges.setdefault(from_id, set()).add(to_id)
    edges[course.pk] = {c.pk for c in prerequisites}
    seen: set[int] = set()
    stack = list(edges[course.pk])
    while stack:
        node = stack.pop()
        if node == course.pk:
            return True
        if node in seen:
            continue
        seen.add(node)
        stack.extend(edges.get(node, ()))
    return False


@transaction.atomic
def course_create(
    *,
    actor: Actor,
    programme: Programme,
    values: Mapping[str, Any],
    providers: Sequence[Organisation],
    target_roles: Sequence[WorkRole] = (),
    prerequisites: Sequence[Course] = (),
) -> Course:
    """Add a course to the programme. Coordinators only; sends nothing."""
    _require_manage(actor, programme)
    _check_course_relations(programme, providers, target_roles, prerequisites, None)
    course = Course(programme=programme)
    _apply(course, values, COURSE_FIELDS)
    _full_clean(course)
    if Course.objects.filter(programme=programme, title__iexact=course.title).exists():
        raise ValidationError({"title": _("The programme already has a course with this title.")})
    course.save()
    course.providers.set(providers)
    course.target_roles.set(target_roles)
    course.prerequisites.set(prerequisites)
    return course


@transaction.atomic
def course_update(
    *,
    actor: Actor,
    course: Course,
    values: Mapping[str, Any],
    providers: Sequence[Organisation] | None = None,
    target_roles: Sequence[WorkRole] | None = None,
    prerequisites: Sequence[Course] | None = None,
) -> Course:
    """Change a course's details, providers, target roles or prerequisites. Coordinators only.

    Changes apply to new enrolments; people already booked keep their seats."""
    _require_manage(actor, course.programme_id)
    _check_course_relations(course.programme, providers, target_roles, prerequisites, course)
    changed = _apply(course, values, COURSE_FIELDS)
    _full_clean(course)
    if (
        "title" in changed
        and Course.objects.filter(programme_id=course.programme_id, title__iexact=course.title)
        .exclude(pk=course.pk)
        .exists()
    ):
        raise ValidationError({"title": _("The programme already has a course with this title.")})
    if changed:
        course.save(update_fields=changed)
    if providers is not None:
        course.providers.set(providers)
    if target_roles is not None:
        course.target_roles.set(target_roles)
    if prerequisites is not None:
        course.prerequisites.set(prerequisites)
    return course


# --- Rounds ---------------------------------------------------------------------------------------------


def _check_round(round_: Round, reserved_total: int) -> None:
    errors: dict[str, str] = {}
    if round_.registration_closes_at <= round_.registration_opens_at:
        errors["registration_closes_at"] = _("Registration must close after it opens.")
    if round_.capacity < round_.seats_taken:
        errors["capacity"] = _("%(taken)s seats are already taken; the round cannot have fewer seats.") % {
            "taken": round_.seats_taken
        }
    elif round_.capacity < reserved_total:
        errors["capacity"] = _(
            "The quotas reserve %(reserved)s seats; the round needs at least that many."
        ) % {"reserved": reserved_total}
    if round_.starts_at is not None:
        if round_.registration_opens_at >= round_.starts_at:
            errors["registration_opens_at"] = _("Registration must open before the first session.")
        if (
            round_.reserved_seats_release_at is not None
            and round_.reserved_seats_release_at > round_.starts_at
        ):
            errors["reserved_seats_release_at"] = _("Release reserved seats before the first session.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def round_create(*, actor: Actor, course: Course, values: Mapping[str, Any]) -> Round:
    """Add a round to a course (a draft unless ``status`` says published). Coordinators only."""
    _require_manage(actor, course.programme_id)
    round_ = Round(course=course)
    _apply(round_, values, ROUND_FIELDS)
    if round_.status == Round.Status.CANCELLED:
        raise ValidationError({"status": _("A new round cannot be cancelled.")})
    _full_clean(round_, exclude=["course"])
    _check_round(round_, 0)
    round_.save()
    return round_


@transaction.atomic
def round_update(*, actor: Actor, round: Round, values: Mapping[str, Any]) -> Round:
    """Change a round's seats, dates and rules; more seats or a publication offer seats to the queue.

    Coordinators only. A round cannot shrink below the seats already taken or reserved, and goes back to
    draft only while nobody has enrolled. Cancelling is ``round_cancel``."""
    _require_manage(actor, round.course.programme_id)
    now = timezone.now()
    locked = _lock_round(round.pk)
    before_status = locked.status
    changed = _apply(locked, values, ROUND_FIELDS)
    if "status" in changed:
        if locked.status == Round.Status.CANCELLED or before_status == Round.Status.CANCELLED:
            raise ValidationError(
                {"status": _("Cancel a round with the cancel action; it cannot be reopened.")}
            )
        if locked.status == Round.Status.DRAFT and Enrolment.objects.filter(round=locked).exists():
            raise ValidationError({"status": _("People have enrolled; the round cannot go back to draft.")})
    _full_clean(locked, exclude=["course"])
    reserved_total = sum(OrganisationQuota.objects.filter(round=locked).values_list("reserved", flat=True))
    _check_round(locked, reserved_total)
    if changed:
        locked.save(update_fields=changed)
    _sweep_locked(locked, now)
    return locked


@transaction.atomic
def round_cancel(*, actor: Actor, round: Round, reason: str = "") -> Round:
    """Cancel a round: every booking ends, confirmed participants get a calendar cancellation for each
    session, everyone else a notification. Coordinators only."""
    _require_manage(actor, round.course.programme_id)
    if len(reason) > 300:
        raise ValidationError({"reason": _("Keep the reason under 300 characters.")})
    now = timezone.now()
    locked = _lock_round(round.pk)
    if locked.status == Round.Status.CANCELLED:
        raise ValidationError({"status": _("This round is already cancelled.")})
    programme = locked.course.programme
    confirmed_ids = set(
        Enrolment.objects.filter(round=locked, status=S.CONFIRMED).values_list("pk", flat=True)
    )
    ended = _end_active(locked, Enrolment.ACTIVE, S.CANCELLED, E.ROUND_CANCELLED, now)
    for enrolment in ended:
        if enrolment.pk in confirmed_ids:
            invites.send_enrolment_messages(enrolment, locked, "CANCEL", now)
        _tell(
            enrolment.person,
            programme,
            KIND_ENROLMENT,
            _my_url(),
            gettext_noop("%(course)s (%(round)s) has been cancelled"),
            "",
            _round_params(locked),
            detail=reason,
        )
    locked.status = Round.Status.CANCELLED
    locked.cancelled_reason = reason
    locked.save(update_fields=["status", "cancelled_reason"])
    return locked


def _refresh_round_dates(round_: Round) -> None:
    bounds = list(
        Session.objects.filter(round=round_).order_by("starts_at").values_list("starts_at", "ends_at")
    )
    starts = bounds[0][0] if bounds else None
    ends = max((b[1] for b in bounds), default=None)
    if (round_.starts_at, round_.ends_at) != (starts, ends):
        round_.starts_at, round_.ends_at = starts, ends
        round_.save(update_fields=["starts_at", "ends_at"])


# --- Sessions -------------------------------------------------------------------------------------------


def _check_session(session: Session) -> None:
    errors: dict[str, str] = {}
    if session.ends_at <= session.starts_at:
        errors["ends_at"] = _("A session must end after it starts.")
    elif session.ends_at - session.starts_at > timedelta(hours=24):
        errors["ends_at"] = _("A session is one day or part of a day; add one session per day.")
    if not session.place and not session.online_url:
        errors["place"] = _("Give a place or an online link.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def session_create(*, actor: Actor, round: Round, values: Mapping[str, Any]) -> Session:
    """Add a day or half-day to a round; confirmed participants get an invite for it. Coordinators only."""
    _require_manage(actor, round.course.programme_id)
    now = timezone.now()
    locked = _lock_round(round.pk)
    if locked.status == Round.Status.CANCELLED:
        raise ValidationError({"round": _("This round is cancelled.")})
    session = Session(round=locked)
    _apply(session, values, SESSION_FIELDS)
    _full_clean(session, exclude=["round"])
    _check_session(session)
    session.save()
    _refresh_round_dates(locked)
    _check_round(locked, 0)
    invites.send_session_to_participants(session, locked, selectors.confirmed_people(locked), "REQUEST", now)
    return session


@transaction.atomic
def session_update(*, actor: Actor, session: Session, values: Mapping[str, Any]) -> Session:
    """Change a session's time, place or link; each confirmed participant gets an update of the same
    calendar event (same UID, SEQUENCE + 1). Coordinators only."""
    _require_manage(actor, session.round.course.programme_id)
    now = timezone.now()
    locked = _lock_round(session.round_id)
    session = Session.objects.get(pk=session.pk)
    changed = _apply(session, values, SESSION_FIELDS)
    if not changed:
        return session
    _full_clean(session, exclude=["round"])
    _check_session(session)
    session.save(update_fields=[*changed, "updated_at"])
    _refresh_round_dates(locked)
    _check_round(locked, 0)
    if set(changed) & SESSION_CALENDAR_FIELDS and locked.status == Round.Status.PUBLISHED:
        invites.send_session_to_participants(
            session, locked, selectors.confirmed_people(locked), "REQUEST", now, update=True
        )
    return session


@transaction.atomic
def session_delete(*, actor: Actor, session: Session) -> None:
    """Remove a session; confirmed participants get a calendar cancellation for it. Coordinators only.
    A session with recorded attendance stays (it is part of people's completions)."""
    _require_manage(actor, session.round.course.programme_id)
    now = timezone.now()
    locked = _lock_round(session.round_id)
    if Attendance.objects.filter(session=session).exists():
        raise ValidationError(_("Attendance has been recorded for this session; it cannot be removed."))
    if (
        Session.objects.filter(round=locked).count() == 1
        and Enrolment.objects.filter(round=locked, status__in=Enrolment.ACTIVE).exists()
    ):
        raise ValidationError(
            _("This is the round's only session and people are booked; cancel the round instead.")
        )
    if locked.status == Round.Status.PUBLISHED:
        invites.send_session_to_participants(
            session, locked, selectors.confirmed_people(locked), "CANCEL", now
        )
    session.delete()
    _refresh_round_dates(locked)


# --- Quotas ---------------------------------------------------------------------------------------------


@transaction.atomic
def quota_set(
    *,
    actor: Actor,
    round: Round,
    organisation: Organisation,
    reserved: int,
    maximum: int | None,
) -> OrganisationQuota:
    """Reserve seats for an organisation and/or cap its seats on a round; may offer seats to the queue.
    Coordinators only."""
    _require_manage(actor, round.course.programme_id)
    now = timezone.now()
    locked = _lock_round(round.pk)
    if not Organisation.objects.filter(
        pk=organisation.pk, participations__programme_id=locked.course.programme_id
    ).exists():
        raise ValidationError({"organisation": _("Choose an organisation that takes part in the programme.")})
    if reserved < 0 or (maximum is not None and maximum < 1):
        raise ValidationError({"reserved": _("Give whole numbers; a maximum is at least 1.")})
    if maximum is not None and maximum < reserved:
        raise ValidationError({"maximum": _("The maximum cannot be below the reserved seats.")})
    others = sum(
        OrganisationQuota.objects.filter(round=locked)
        .exclude(organisation=organisation)
        .values_list("reserved", flat=True)
    )
    if others + reserved > locked.capacity:
        raise ValidationError(
            {
                "reserved": _("All quotas together may reserve at most the round's %(n)s seats.")
                % {"n": locked.capacity}
            }
        )
    held = Enrolment.objects.filter(
        round=locked, organisation=organisation, status__in=Enrolment.SEAT_HOLDING
    ).count()
    if maximum is not None and maximum < held:
        raise ValidationError(
            {
                "maximum": _("The organisation already holds %(n)s seats; the maximum cannot be lower.")
                % {"n": held}
            }
        )
    quota, _created = OrganisationQuota.objects.update_or_create(
        round=locked, organisation=organisation, defaults={"reserved": reserved, "maximum": maximum}
    )
    _sweep_locked(locked, now)
    return quota


@transaction.atomic
def quota_delete(*, actor: Actor, quota: OrganisationQuota) -> None:
    """Remove an organisation's quota from a round; may offer seats to the queue. Coordinators only."""
    _require_manage(actor, quota.round.course.programme_id)
    locked = _lock_round(quota.round_id)
    quota.delete()
    _sweep_locked(locked, timezone.now())


# --- Enrolment ------------------------------------------------------------------------------------------


def _refetch(enrolment: Enrolment) -> Enrolment:
    return Enrolment.objects.select_related("person__user", "person__line_manager__user", "round").get(
        pk=enrolment.pk
    )


def _confirm(enrolment: Enrolment, round_: Round, now: datetime, book: SeatBook | None = None) -> None:
    _move(enrolment, S.CONFIRMED, round_=round_, now=now, book=book)
    sent = invites.send_enrolment_messages(enrolment, round_, "REQUEST", now)
    if not sent:
        _tell(
            enrolment.person,
            round_.course.programme,
            KIND_ENROLMENT,
            invites.round_url(round_.pk),
            gettext_noop("Your seat on %(course)s (%(round)s) is confirmed"),
            gettext_noop("Calendar invites follow when the sessions are scheduled."),
            _round_params(round_),
        )


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
    any time before the round starts. Eligibility (staff of a taking-part organisation, target roles when
    the round is exclusive, prerequisites completed, one booking per course) is read just before the round
    lock; the round's own state, the person's booking on it and the seats are decided inside it.
    Sends: calendar invites (confirmed), or a notification of the queue place or the pending approval, and
    an approval request to the line manager where the round needs one.
    """
    if actor.person is None:
        raise PermissionDenied(_("You have no staff profile."))
    programme = round.course.programme
    person = person or actor.person
    on_behalf = person.pk != actor.person.pk
    if on_behalf and not perms.can_manage(actor, programme):
        raise PermissionDenied(_("Only coordinators may enrol other people."))
    if len(motivation) > 1000:
        raise ValidationError({"motivation": _("Keep the note under 1,000 characters.")})
    now = timezone.now()
    # Who the person is and what the course asks for is read before the lock, so that the locked part of
    # the transaction (which every other enrolment on this round waits for) stays short.
    course = (
        Course.objects.select_related("programme")
        .prefetch_related("target_roles", "prerequisites", "providers")
        .get(pk=round.course_id)
    )
    rules = selectors.course_rules(course)
    context = selectors.enrolment_context(person, programme)
    locked = _lock_round(round.pk)
    locked.course = course
    _sweep_locked(locked, now, fill=False)
    problems = perms.enrolment_problems(
        context,
        locked,
        target_role_ids=rules.target_role_ids,
        prerequisite_ids=rules.prerequisite_ids,
        prerequisite_titles=rules.prerequisite_titles,
        now=now,
        check_window=not on_behalf,
    )
    # Inside the lock this is exact: a second request of the same person for this round waits for the first.
    if (
        not problems
        and Enrolment.objects.filter(round=locked, person=person, status__in=Enrolment.ACTIVE).exists()
    ):
        problems = [_("There is already a booking on a round of this course.")]
    if problems:
        raise ValidationError({"round": problems})
    is_target = perms.is_target_role(context.work_role_id, rules.target_role_ids)
    approval = A.PENDING if locked.requires_manager_approval else A.NOT_REQUIRED
    book = SeatBook.load(locked)
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
        enrolment.status = S.PENDING_APPROVAL if approval == A.PENDING else S.CONFIRMED
    else:
        enrolment.status = S.WAITING
    if enrolment.status == S.CONFIRMED:
        enrolment.confirmed_at = now
    enrolment.save()
    if seat:
        _adjust_seats(locked, 1)
        book.take(person.organisation_id)
    if enrolment.status == S.CONFIRMED:
        sent = invites.send_enrolment_messages(enrolment, locked, "REQUEST", now)
        if not sent or on_behalf:
            _tell(
                person,
                programme,
                KIND_ENROLMENT,
                invites.round_url(locked.pk),
                gettext_noop("You have a seat on %(course)s (%(round)s)"),
                gettext_noop("Calendar invites follow for every session that is scheduled."),
                _round_params(locked),
            )
    elif enrolment.status == S.PENDING_APPROVAL:
        _tell(
            person,
            programme,
            KIND_ENROLMENT,
            _my_url(),
            gettext_noop("A seat on %(course)s (%(round)s) is held for you"),
            gettext_noop("Your line manager has been asked to approve. The seat is confirmed when they do."),
            _round_params(locked),
        )
    else:
        position = selectors.queue_position(enrolment)
        _tell(
            person,
            programme,
            KIND_ENROLMENT,
            _my_url(),
            gettext_noop("You are number %(position)s on the waiting list for %(course)s (%(round)s)"),
            gettext_noop(
                "If a seat becomes free it is offered to you by email and held for %(hours)s hours."
            ),
            {**_round_params(locked), "position": position, "hours": locked.offer_hold_hours},
        )
    if approval == A.PENDING:
        _ask_for_approval(enrolment, locked)
    return enrolment


@transaction.atomic
def enrolment_cancel(*, actor: Actor, enrolment: Enrolment) -> Enrolment:
    """End a booking: the person cancels (until the round's cancellation deadline) or leaves the queue (any
    time); a coordinator removes anyone at any time. A freed seat is offered to the next in the queue.
    Sends: calendar cancellations for a confirmed seat; a notification when a coordinator removes someone.
    """
    now = timezone.now()
    locked = _lock_round(enrolment.round_id)
    _sweep_locked(locked, now, fill=False)
    enrolment = _refetch(enrolment)
    enrolment.round = locked
    if not enrolment.is_active:
        raise ValidationError(_("This booking has already ended."))
    own = perms.is_own(actor, enrolment)
    manager = perms.can_manage(actor, locked.course.programme_id)
    if not own and not manager:
        raise PermissionDenied(_("You may not change this booking."))
    if not perms.can_cancel(actor, enrolment, now):
        raise ValidationError(_("The cancellation deadline has passed; ask the programme's coordinators."))
    was_confirmed = enrolment.status == S.CONFIRMED
    if own:
        reason = E.LEFT_QUEUE if enrolment.status == S.WAITING else E.CANCELLED_BY_PERSON
    else:
        reason = E.REMOVED
    _move(enrolment, S.CANCELLED, round_=locked, now=now, end_reason=reason)
    if was_confirmed:
        invites.send_enrolment_messages(enrolment, locked, "CANCEL", now)
    if not own:
        _tell(
            enrolment.person,
            locked.course.programme,
            KIND_ENROLMENT,
            _my_url(),
            gettext_noop("Your booking on %(course)s (%(round)s) was removed by a coordinator"),
            "",
            _round_params(locked),
        )
    _fill_locked(locked, now)
    return enrolment


@transaction.atomic
def offer_accept(*, actor: Actor, enrolment: Enrolment) -> Enrolment:
    """Accept the seat offered from the queue, before the offer lapses. The person themselves only.
    Sends calendar invites, or asks the line manager first where approval is still pending."""
    now = timezone.now()
    locked = _lock_round(enrolment.round_id)
    _sweep_locked(locked, now, fill=False)
    enrolment = _refetch(enrolment)
    if not perms.is_own(actor, enrolment):
        raise PermissionDenied(_("Only the person offered the seat may accept it."))
    if enrolment.status != S.OFFERED:
        if enrolment.end_reason == E.OFFER_EXPIRED:
            raise ValidationError(_("The offer lapsed and the seat has passed to the next person."))
        raise ValidationError(_("There is no open offer on this booking."))
    if enrolment.approval == A.PENDING:
        _move(enrolment, S.PENDING_APPROVAL, round_=locked, now=now)
        _tell(
            enrolment.person,
            locked.course.programme,
            KIND_ENROLMENT,
            _my_url(),
            gettext_noop("The seat on %(course)s (%(round)s) is held while your line manager decides"),
            "",
            _round_params(locked),
        )
        _ask_for_approval(enrolment, locked)
    else:
        _confirm(enrolment, locked, now)
    return enrolment


@transaction.atomic
def offer_decline(*, actor: Actor, enrolment: Enrolment) -> Enrolment:
    """Turn down an offered seat; it goes to the next in the queue. The person themselves only."""
    now = timezone.now()
    locked = _lock_round(enrolment.round_id)
    _sweep_locked(locked, now, fill=False)
    enrolment = _refetch(enrolment)
    if not perms.is_own(actor, enrolment):
        raise PermissionDenied(_("Only the person offered the seat may decline it."))
    if enrolment.status != S.OFFERED:
        raise ValidationError(_("There is no open offer on this booking."))
    _move(enrolment, S.DECLINED, round_=locked, now=now, end_reason=E.OFFER_DECLINED)
    _fill_locked(locked, now)
    return enrolment


def _decide(actor: Actor, enrolment: Enrolment) -> tuple[Round, Enrolment, datetime]:
    now = timezone.now()
    locked = _lock_round(enrolment.round_id)
    _sweep_locked(locked, now, fill=False)
    enrolment = _refetch(enrolment)
    enrolment.round = locked
    manager_id = enrolment.person.line_manager_id
    allowed = actor.person is not None and (
        manager_id == actor.person.pk
        or (manager_id is None and perms.can_manage(actor, locked.course.programme_id))
    )
    if not allowed:
        raise PermissionDenied(_("Only the person's line manager may decide."))
    if enrolment.approval != A.PENDING or not enrolment.is_active:
        raise ValidationError(_("This request has already been decided or has ended."))
    enrolment.approved_by = actor.person
    enrolment.approval_decided_at = now
    return locked, enrolment, now


@transaction.atomic
def enrolment_approve(*, actor: Actor, enrolment: Enrolment) -> Enrolment:
    """The line manager approves the time away. A held seat becomes confirmed (invites are sent); a person
    in the queue is confirmed at once when they accept a later offer."""
    locked, enrolment, now = _decide(actor, enrolment)
    enrolment.approval = A.APPROVED
    enrolment.save(update_fields=["approval", "approved_by", "approval_decided_at"])
    if enrolment.status == S.PENDING_APPROVAL:
        _confirm(enrolment, locked, now)
    else:
        _tell(
            enrolment.person,
            locked.course.programme,
            KIND_ENROLMENT,
            _my_url(),
            gettext_noop("Your line manager approved %(course)s (%(round)s)"),
            gettext_noop(
                "You keep your place in the queue; an offered seat is confirmed as soon as you accept it."
            ),
            _round_params(locked),
        )
    return enrolment


@transaction.atomic
def enrolment_reject(*, actor: Actor, enrolment: Enrolment, reason: str = "") -> Enrolment:
    """The line manager turns the request down; the booking ends and a held seat goes to the queue."""
    if len(reason) > 500:
        raise ValidationError({"reason": _("Keep the reason under 500 characters.")})
    locked, enrolment, now = _decide(actor, enrolment)
    enrolment.approval = A.REJECTED
    _move(
        enrolment,
        S.REJECTED,
        round_=locked,
        now=now,
        end_reason=E.APPROVAL_REJECTED,
        extra_fields=["approval", "approved_by", "approval_decided_at"],
    )
    _tell(
        enrolment.person,
        locked.course.programme,
        KIND_ENROLMENT,
        _my_url(),
        gettext_noop("Your line manager did not approve %(course)s (%(round)s)"),
        "",
        _round_params(locked),
        detail=reason,
    )
    _fill_locked(locked, now)
    return enrolment


# --- Attendance and completion --------------------------------------------------------------------------


def _require_teach(actor: Actor, course: Course) -> None:
    if not perms.can_teach(actor, course):
        raise PermissionDenied(_("Only the course's providers and the coordinators may do this."))


@transaction.atomic
def attendance_mark(*, actor: Actor, session: Session, marks: Mapping[int, bool]) -> list[Attendance]:
    """Record who was present at a session (enrolment id → present). The course's providers and the
    coordinators; only confirmed participants, and only once the session has begun. Sends nothing."""
    round_ = session.round
    _require_teach(actor, round_.course)
    if session.starts_at > timezone.now():
        raise ValidationError({"session": _("Attendance can be marked once the session has begun.")})
    confirmed = set(
        Enrolment.objects.filter(round=round_, status=S.CONFIRMED, pk__in=list(marks)).values_list(
            "pk", flat=True
        )
    )
    unknown = sorted(set(marks) - confirmed)
    if unknown:
        raise ValidationError(
            {
                "enrolment": _("Not confirmed participants of this round: %(ids)s")
                % {"ids": ", ".join(map(str, unknown))}
            }
        )
    saved = []
    for enrolment_id, present in sorted(marks.items()):
        attendance, _created = Attendance.objects.update_or_create(
            enrolment_id=enrolment_id,
            session=session,
            defaults={"present": bool(present), "marked_by": actor.person},
        )
        saved.append(attendance)
    return saved


def _complete(
    person: Person,
    course: Course,
    round_: Round | None,
    method: str,
    actor: Actor,
    when: datetime,
    note: str = "",
) -> Completion | None:
    if Completion.objects.filter(person=person, course=course).exists():
        return None
    completion = Completion.objects.create(
        person=person,
        course=course,
        round=round_,
        method=method,
        completed_on=timezone.localdate(when, ZoneInfo(course.programme.time_zone)),
        recorded_by=actor.person,
        note=note,
    )
    _tell(
        person,
        course.programme,
        KIND_COMPLETION,
        reverse_my_page(),
        gettext_noop("%(course)s is now recorded as completed"),
        gettext_noop("It appears in your history on My page."),
        {"course": course.title},
    )
    return completion


def reverse_my_page() -> str:
    return reverse("my-page")


@transaction.atomic
def completions_record(*, actor: Actor, round: Round) -> list[Completion]:
    """For a course completed on attendance: record a completion for every confirmed participant who
    attended at least the course's required share of the round's sessions. Providers and coordinators,
    once the round's last session has begun. Sends each new completer a notification."""
    course = round.course
    _require_teach(actor, course)
    if course.completion_rule != Course.CompletionRule.ATTENDANCE:
        raise ValidationError(
            _("This course is completed after an assessment; record each passed assessment.")
        )
    now = timezone.now()
    sessions, rows = selectors.attendance_sheet(round)
    if not sessions or sessions[-1].starts_at > now:
        raise ValidationError(_("Completions can be recorded once the last session has begun."))
    needed = -(-len(sessions) * course.attendance_required_percent // 100)  # ceiling
    created = []
    for row in rows:
        if row.completion is None and row.attended >= needed:
            completion = _complete(
                row.enrolment.person, course, round, Completion.Method.ATTENDANCE, actor, sessions[-1].ends_at
            )
            if completion:
                created.append(completion)
    return created


@transaction.atomic
def completion_record(*, actor: Actor, enrolment: Enrolment, note: str = "") -> Completion:
    """Record that a confirmed participant passed the course's assessment. Providers and coordinators.
    Sends the person a notification."""
    round_ = enrolment.round
    course = round_.course
    _require_teach(actor, course)
    if len(note) > 500:
        raise ValidationError({"note": _("Keep the note under 500 characters.")})
    if enrolment.status != S.CONFIRMED:
        raise ValidationError({"enrolment": _("Only confirmed participants can complete the course.")})
    if round_.starts_at is None or round_.starts_at > timezone.now():
        raise ValidationError({"enrolment": _("The round has not started yet.")})
    method = (
        Completion.Method.ASSESSMENT
        if course.completion_rule == Course.CompletionRule.ASSESSMENT
        else Completion.Method.ATTENDANCE
    )
    completion = _complete(enrolment.person, course, round_, method, actor, timezone.now(), note)
    if completion is None:
        raise ValidationError({"enrolment": _("This person has already completed the course.")})
    return completion


@transaction.atomic
def completion_revoke(*, actor: Actor, completion: Completion) -> None:
    """Remove a completion recorded by mistake. Providers of the course and coordinators."""
    _require_teach(actor, completion.course)
    completion.delete()


# --- Discussion groups ----------------------------------------------------------------------------------


@transaction.atomic
def groups_form(*, actor: Actor, round: Round, group_size: int) -> list[DiscussionGroup]:
    """Replace the round's discussion groups with mixed groups of about ``group_size`` confirmed
    participants (see ``seminars.grouping`` for the algorithm and its guarantees). Coordinators only."""
    _require_manage(actor, round.course.programme_id)
    if not 2 <= group_size <= 50:
        raise ValidationError({"group_size": _("Choose a group size between 2 and 50.")})
    locked = _lock_round(round.pk)
    enrolments = list(
        Enrolment.objects.filter(round=locked, status=S.CONFIRMED)
        .select_related("person__user")
        .order_by("person__user__last_name", "person__user__first_name", "pk")
    )
    if len(enrolments) < 2:
        raise ValidationError(_("At least two confirmed participants are needed to form groups."))
    people = [grouping.Participant(e.pk, e.organisation_id) for e in enrolments]
    formed = grouping.form_groups(people, group_size)
    DiscussionGroup.objects.filter(round=locked).delete()
    groups = []
    with translation.override(locked.course.programme.language):
        for number, members in enumerate(formed, start=1):
            group = DiscussionGroup.objects.create(
                round=locked, number=number, name=_("Group %(n)s") % {"n": number}
            )
            DiscussionGroupMember.objects.bulk_create(
                [DiscussionGroupMember(group=group, enrolment_id=member.key) for member in members]
            )
            groups.append(group)
    return groups


@transaction.atomic
def groups_clear(*, actor: Actor, round: Round) -> None:
    """Remove the round's discussion groups. Coordinators only."""
    _require_manage(actor, round.course.programme_id)
    DiscussionGroup.objects.filter(round=round).delete()


# --- Costs ----------------------------------------------------------------------------------------------


def _check_cost(kind: str, amount: Decimal, note: str) -> None:
    errors = {}
    if kind not in RoundCost.Kind.values:
        errors["kind"] = _("Choose a kind of cost.")
    if amount < 0 or amount >= Decimal("10000000000"):
        errors["amount"] = _("Give an amount of zero or more.")
    if len(note) > 300:
        errors["note"] = _("Keep the note under 300 characters.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def cost_add(*, actor: Actor, round: Round, kind: str, amount: Decimal, note: str = "") -> RoundCost:
    """Record a cost of a round (venue, lecture fees, preparation, other). Coordinators only."""
    _require_manage(actor, round.course.programme_id)
    _check_cost(kind, amount, note)
    return RoundCost.objects.create(round=round, kind=kind, amount=amount, note=note, created_by=actor.person)


@transaction.atomic
def cost_update(*, actor: Actor, cost: RoundCost, kind: str, amount: Decimal, note: str) -> RoundCost:
    """Correct a recorded cost. Coordinators only."""
    _require_manage(actor, cost.round.course.programme_id)
    _check_cost(kind, amount, note)
    cost.kind, cost.amount, cost.note = kind, amount, note
    cost.save(update_fields=["kind", "amount", "note"])
    return cost


@transaction.atomic
def cost_delete(*, actor: Actor, cost: RoundCost) -> None:
    """Remove a recorded cost. Coordinators only."""
    _require_manage(actor, cost.round.course.programme_id)
    cost.delete()
