"""A person's own data held by the seminars app, for their download: enrolments, attendance, completions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from coordinator.core import registry
from organisations.models import Person
from seminars.models import Attendance, Completion, Enrolment

EXPORT_BATCH = 500


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def personal_data_sections(person: Person) -> Iterator[registry.PersonalDataSection]:
    yield registry.PersonalDataSection(
        "enrolments", _("Course enrolments and attendance"), _enrolments(person)
    )
    yield registry.PersonalDataSection(
        "completions",
        _("Courses completed"),
        (
            {"course": course, "method": method, "completed_on": completed.isoformat(), "note": note}
            for course, method, completed, note in Completion.objects.filter(person=person)
            .order_by("completed_on", "pk")
            .values_list("course__title", "method", "completed_on", "note")
            .iterator(EXPORT_BATCH)
        ),
    )


def _enrolments(person: Person) -> Iterator[dict[str, object]]:
    enrolments = (
        Enrolment.objects.filter(person=person)
        .select_related("round__course")
        .prefetch_related(
            Prefetch(
                "attendances",
                queryset=Attendance.objects.select_related("session").order_by("session__starts_at", "pk"),
            )
        )
        .order_by("requested_at", "pk")
    )
    for enrolment in enrolments.iterator(EXPORT_BATCH):
        yield {
            "course": enrolment.round.course.title,
            "round": enrolment.round.label,
            "status": enrolment.status,
            "approval": enrolment.approval,
            "requested_at": _when(enrolment.requested_at),
            "confirmed_at": _when(enrolment.confirmed_at),
            "ended_at": _when(enrolment.ended_at),
            "end_reason": enrolment.end_reason,
            "motivation": enrolment.motivation,
            "attendance": [
                {"session": _when(a.session.starts_at), "present": a.present}
                for a in enrolment.attendances.all()
            ],
        }
