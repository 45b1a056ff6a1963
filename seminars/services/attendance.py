"""Attendance at sessions and the completions it leads to (or a passed assessment)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core.exceptions import Conflict
from coordinator.core.notifications import notify
from organisations.models import Person
from organisations.permissions import Actor
from seminars.models import (
    KIND_COMPLETION,
    Attendance,
    Completion,
    Course,
    Enrolment,
    Round,
    Session,
)
from seminars.selectors import teaching
from seminars.services._seats import (
    conflict_on_duplicate,
    require_teach,
)


def attendance_mark(*, actor: Actor, session: Session, marks: Mapping[int, bool]) -> list[Attendance]:
    """Record who was present at a session (enrolment id → present). The course's providers and the
    coordinators; only confirmed participants, and only once the session has begun. Sends nothing."""
    round_ = session.round
    require_teach(actor, round_.course)
    if not session.has_begun(timezone.now()):
        raise ValidationError({"session": _("Attendance can be marked once the session has begun.")})
    confirmed = set(
        Enrolment.objects.filter(
            round=round_, status=Enrolment.Status.CONFIRMED, pk__in=list(marks)
        ).values_list("pk", flat=True)
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
        with conflict_on_duplicate():
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
    with conflict_on_duplicate(_("This person has already completed the course.")):
        completion = Completion.objects.create(
            person=person,
            course=course,
            round=round_,
            method=method,
            completed_on=timezone.localdate(when, ZoneInfo(course.programme.time_zone)),
            recorded_by=actor.person,
            note=note,
        )
    notify(
        programme=course.programme,
        recipients=[person],
        kind=KIND_COMPLETION,
        title=gettext_noop("%(course)s is now recorded as completed"),
        body=gettext_noop("It appears in your history on My page."),
        params={"course": course.title},
        url=reverse_my_page(),
    )
    return completion


def reverse_my_page() -> str:
    return reverse("my-page")


@transaction.atomic
def completions_record(*, actor: Actor, round: Round) -> list[Completion]:
    """For a course completed on attendance: record a completion for every confirmed participant who
    attended at least the course's required share of the round's sessions. Providers and coordinators,
    once the round's last session is over. Sends each new completer a notification."""
    course = round.course
    require_teach(actor, course)
    if course.completion_rule != Course.CompletionRule.ATTENDANCE:
        raise ValidationError(
            _("This course is completed after an assessment; record each passed assessment.")
        )
    now = timezone.now()
    sessions, rows = teaching.attendance_sheet(round)
    if not Session.all_over(sessions, now):
        raise ValidationError(_("Completions can be recorded once the last session is over."))
    needed = course.sessions_needed(len(sessions))
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
    require_teach(actor, course)
    if len(note) > 500:
        raise ValidationError({"note": _("Keep the note under 500 characters.")})
    if enrolment.status != Enrolment.Status.CONFIRMED:
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
        raise Conflict(_("This person has already completed the course."))
    return completion


@transaction.atomic
def completion_revoke(*, actor: Actor, completion: Completion) -> None:
    """Remove a completion recorded by mistake. Providers of the course and coordinators."""
    require_teach(actor, completion.course)
    completion.delete()
