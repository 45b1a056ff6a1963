"""Who may do what with courses, rounds and enrolments, and who may enrol at all, in one place.

Roles (``organisations.models.PlatformRole``):

- **coordinators** (and programme admins) manage courses, rounds, sessions, quotas, groups and costs, see
  every enrolment of their programme, may enrol or remove anyone and approve on behalf of a person who has
  no line manager on record;
- **course providers** whose organisation gives a course mark attendance and record completions for it,
  and see its participants;
- **line managers** approve or turn down their own reports' enrolments where a round asks for approval;
- **staff** of the programme's organisations enrol themselves, manage their own bookings and see their
  own history.

``enrolment_problems`` is the eligibility rule as a pure function over data the caller has fetched, so the
catalogue can evaluate many rounds for one person without a query per round.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from organisations.models import Person, PlatformRole, Programme
from organisations.permissions import Actor
from seminars.models import Course, Enrolment, Round


def can_manage(actor: Actor, programme: Programme | int) -> bool:
    """Coordinators and programme admins run the programme's courses."""
    return actor.is_coordinator(programme)


def is_provider_of(actor: Actor, course: Course, provider_ids: Collection[int] | None = None) -> bool:
    """A course provider of one of the organisations that give the course; where the course names units of
    that organisation (``Course.provider_units``), of one of those units."""
    if actor.person is None or not actor.has_role(course.programme_id, PlatformRole.COURSE_PROVIDER):
        return False
    if provider_ids is None:
        provider_ids = {org.pk for org in course.providers.all()}
    if actor.organisation_id not in provider_ids:
        return False
    own_units = {u.pk for u in course.provider_units.all() if u.organisation_id == actor.organisation_id}
    return not own_units or actor.person.unit_id in own_units


def courses_taught_by(actor: Actor) -> Q:
    """The courses (a ``Course`` filter) the actor's organisation gives, as ``is_provider_of`` decides:
    given by the organisation, and either by no unit of it or by the actor's own unit."""
    organisation_id = actor.organisation_id
    unit_id = actor.person.unit_id if actor.person is not None else None
    return Q(providers=organisation_id) & (
        ~Q(provider_units__organisation=organisation_id) | Q(provider_units=unit_id)
    )


def can_teach(actor: Actor, course: Course, provider_ids: Collection[int] | None = None) -> bool:
    """Mark attendance, record completions and see the participant list of a course's rounds."""
    return can_manage(actor, course.programme_id) or is_provider_of(actor, course, provider_ids)


def can_approve(actor: Actor, enrolment: Enrolment) -> bool:
    """Who decides on a person's enrolment: their line manager; a coordinator when the person has no line
    manager on record. (Whether there is still something to decide is the service's check.)"""
    if actor.person is None:
        return False
    manager_id = enrolment.person.line_manager_id
    if manager_id is not None:
        return manager_id == actor.person.pk
    return can_manage(actor, enrolment.round.course.programme_id)


def is_own(actor: Actor, enrolment: Enrolment) -> bool:
    return actor.person is not None and enrolment.person_id == actor.person.pk


def can_cancel(actor: Actor, enrolment: Enrolment, now: datetime) -> bool:
    """The person until the cancellation deadline (a waiting-list place any time); coordinators any time."""
    if not enrolment.is_active:
        return False
    if can_manage(actor, enrolment.round.course.programme_id):
        return True
    return is_own(actor, enrolment) and enrolment.person_may_cancel(now)


# --- Eligibility ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrolmentContext:
    """What the eligibility rule needs to know about one person, fetched once.

    ``roles`` are the person's platform roles in the round's programme, ``work_role_id`` their role at work
    there, ``completed_course_ids`` the courses they have completed, ``active_course_ids`` the courses in
    which they hold an active enrolment (on any round) and ``organisation_participates`` whether their
    organisation takes part in the programme.
    """

    person: Person
    programme_id: int
    roles: frozenset[str]
    work_role_id: int | None
    organisation_participates: bool
    completed_course_ids: frozenset[int]
    active_course_ids: frozenset[int]


def is_target_role(work_role_id: int | None, target_role_ids: Collection[int]) -> bool:
    return work_role_id is not None and work_role_id in target_role_ids


def enrolment_problems(
    context: EnrolmentContext,
    round_: Round,
    *,
    target_role_ids: Collection[int],
    prerequisite_ids: Collection[int],
    prerequisite_titles: dict[int, str],
    now: datetime,
    check_window: bool = True,
) -> list[str]:
    """Why ``context.person`` may not enrol on ``round_`` (an empty list: they may).

    Staff of the programme's organisations may enrol while registration is open; in a round that is
    exclusive to target roles only those roles may; every prerequisite course must be completed; a person
    holds at most one active booking per course and does not retake a course they have completed.
    A coordinator enrolling someone skips the registration window (``check_window=False``), also once the
    round has started (a walk-in on the first day), until its last session is over.
    """
    problems: list[str] = []
    course = round_.course
    if context.programme_id != course.programme_id or PlatformRole.STAFF not in context.roles:
        problems.append(_("Only staff of the programme's organisations may enrol."))
        return problems
    if not context.organisation_participates:
        problems.append(_("The organisation does not take part in this programme."))
        return problems
    if round_.status != Round.Status.PUBLISHED:
        problems.append(_("This round is not open for enrolment."))
        return problems
    if round_.has_ended(now):
        problems.append(_("This round is over."))
        return problems
    if check_window and round_.has_started(now):
        problems.append(_("This round has already started."))
        return problems
    if check_window and not round_.registration_is_open(now):
        if now < round_.registration_opens_at:
            problems.append(_("Registration has not opened yet."))
        else:
            problems.append(_("Registration has closed."))
    if (
        round_.target_role_mode == Round.TargetRoleMode.EXCLUSIVE
        and target_role_ids
        and not is_target_role(context.work_role_id, target_role_ids)
    ):
        problems.append(_("This round is only for the course's target roles."))
    missing = [pk for pk in prerequisite_ids if pk not in context.completed_course_ids]
    if missing:
        titles = ", ".join(sorted(prerequisite_titles.get(pk, str(pk)) for pk in missing))
        problems.append(_("These courses must be completed first: %(titles)s.") % {"titles": titles})
    if course.pk in context.completed_course_ids:
        problems.append(_("This course has already been completed."))
    elif course.pk in context.active_course_ids:
        problems.append(_("There is already a booking on a round of this course."))
    return problems
