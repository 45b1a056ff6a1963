"""Demo targets and follow-up answers for the Malmö programme, so that the barometer,
the weekly status and the effect report have something to show. Runs after the features' demo data (it
finds the PTSD course and the visits through the registries) and is idempotent."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from coordinator.core import registry
from organisations.models import (
    Expectation,
    FollowUp,
    Person,
    Programme,
    Target,
    WorkRole,
)
from organisations.seed.loader import malmo

COMMENTS = (
    "Jag ställer andra frågor i samtalen nu och vet när jag ska hänvisa vidare.",
    "Vi har tagit upp det på arbetsplatsträffen och gjort en gemensam rutin.",
    "Mer förståelse för hur de andra myndigheterna arbetar; färre missförstånd i ärendena.",
    "Har inte hunnit använda det så mycket än.",
)


def seed_outcomes() -> list[tuple[str, str]]:
    programme = malmo()
    today = timezone.localdate()
    _targets(programme, today)
    _answers(programme, today)
    return []


def _next_june_30(today: date) -> date:
    this_year = date(today.year, 6, 30)
    return this_year if today <= this_year else date(today.year + 1, 6, 30)


def _targets(programme: Programme, today: date) -> None:
    courses = registry.measures.get("seminars.completed_course")
    ptsd = next(
        (
            pk
            for pk, title in (courses.subjects(programme) if courses else [])
            if title.startswith("PTSD – att")
        ),
        None,
    )
    case_officer = WorkRole.unscoped_objects.filter(programme=programme, code="case_officer").first()
    year_start, year_end = date(today.year, 1, 1), date(today.year, 12, 31)
    wanted = [
        (
            "Alla handläggare har PTSD-grundkursen senast 30 juni",
            "seminars.completed_course",
            ptsd,
            case_officer,
            100,
            today - timedelta(days=180),
            _next_june_30(today),
        ),
        (
            "Varje organisation tar emot och skickar minst 10 besöksdagar i år",
            "shadowing.days_hosted_and_sent",
            None,
            None,
            10,
            year_start,
            year_end,
        ),
        (
            "Varje fokusgrupp har en representant från varje organisation",
            "focusgroups.every_organisation",
            None,
            None,
            100,
            year_start,
            year_end,
        ),
    ]
    for title, measure, subject, role, goal, starts_on, deadline in wanted:
        if measure.startswith("seminars") and subject is None:
            continue
        Target.unscoped_objects.get_or_create(
            programme=programme,
            title=title,
            defaults={
                "measure": measure,
                "subject_id": subject,
                "work_role": role,
                "goal": goal,
                "starts_on": starts_on,
                "deadline": deadline,
            },
        )


def _answers(programme: Programme, today: date) -> None:
    """Answers for what was finished in the last year: the people's own (ratings that vary by person) and
    an expectation for most of them; deterministic, so a second run finds them all."""
    people = Person.unscoped_objects.in_bulk()
    for source in registry.follow_up_sources:
        for index, item in enumerate(source.finished(programme, today - timedelta(days=365), today)):
            person = people.get(item.person_id)
            if person is None:
                continue
            rating = 2 + (item.person_id + index) % 4
            FollowUp.unscoped_objects.get_or_create(
                programme=programme,
                person=person,
                respondent_kind=FollowUp.Respondent.PERSON,
                subject_kind=source.kind,
                subject_id=item.subject_id,
                defaults={
                    "respondent": person,
                    "organisation_id": person.organisation_id,
                    "group_id": item.group_id,
                    "finished_on": item.finished_on,
                    "due_on": item.finished_on + timedelta(days=91),
                    "answered_at": timezone.now(),
                    "used": ("yes", "partly", "partly", "no")[index % 4],
                    "shared": index % 3 != 0,
                    "rating": rating,
                    "how_used": COMMENTS[index % len(COMMENTS)],
                },
            )
            if index % 4 != 3:
                Expectation.unscoped_objects.get_or_create(
                    programme=programme,
                    person=person,
                    subject_kind=source.kind,
                    subject_id=item.subject_id,
                    defaults={
                        "rating": min(5, rating + (index % 2)),
                        "text": "Bättre förståelse för mötet med nyanlända.",
                    },
                )
