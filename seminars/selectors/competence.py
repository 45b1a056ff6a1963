"""What the seminars app tells the competence profiles: which courses people completed, and which rounds
are open now for a course."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from coordinator.core import formatting
from coordinator.core.registry import CompetenceSuggestion
from organisations.models import Programme
from seminars.models import Completion, Course, Round


def course_choices(programme: Programme) -> list[tuple[str, str]]:
    """The programme's courses that are not archived, by title (1 query)."""
    return [
        (str(pk), title)
        for pk, title in Course.objects.filter(programme=programme, is_archived=False)
        .order_by("title", "pk")
        .values_list("pk", "title")
    ]


def courses_completed(programme: Programme, person_ids: Iterable[int] | None) -> dict[int, dict[str, date]]:
    """``{person_id: {course_id: completed_on}}`` (1 query)."""
    rows = Completion.objects.filter(course__programme=programme)
    if person_ids is not None:
        rows = rows.filter(person_id__in=list(person_ids))
    done: dict[int, dict[str, date]] = defaultdict(dict)
    for person_id, course_id, completed_on in rows.values_list("person_id", "course_id", "completed_on"):
        done[person_id][str(course_id)] = completed_on
    return done


def open_rounds_of(programme: Programme, course_ids: Iterable[str]) -> list[CompetenceSuggestion]:
    """Rounds of those courses open for registration now, with free seats, soonest first (1 query)."""
    ids = [int(value) for value in course_ids if value.isdigit()]
    now = timezone.now()
    rounds = (
        Round.objects.filter(
            course__programme=programme,
            course_id__in=ids,
            status=Round.Status.PUBLISHED,
            registration_opens_at__lte=now,
            registration_closes_at__gt=now,
            seats_taken__lt=F("capacity"),
        )
        .exclude(starts_at__lte=now)
        .select_related("course")
        .order_by("starts_at", "pk")[:20]
    )
    return [
        CompetenceSuggestion(
            value=str(r.course_id),
            label=str(r),
            detail=_("%(seats)s seats free, registration closes %(closes)s")
            % {
                "seats": r.seats_free,
                "closes": formatting.day(timezone.localtime(r.registration_closes_at)),
            },
            url=reverse("seminars:round-detail", args=[r.pk]),
        )
        for r in rounds
    ]
