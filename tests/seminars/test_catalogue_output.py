"""The course catalogue's HTML, kept byte for byte: several viewers (a booking, a completion, a target
role, a coordinator, a stranger to the programme's organisations) in the three languages, compared with
pages recorded in ``tests/seminars/pages/``. Keys are written as names, so the pages hold across runs."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from organisations.models import Person
from organisations.models import PlatformRole as R
from seminars.models import Round
from tests.factories.organisations import OrganisationFactory, WorkRoleFactory, make_member
from tests.factories.seminars import (
    CompletionFactory,
    CourseFactory,
    RoundFactory,
    SessionFactory,
    make_enrolment,
)

PAGES = Path(__file__).parent / "pages"
# Record the pages again (on code whose output is known to be right): RECORD_PAGES=1 pytest this_file
RECORD = os.environ.get("RECORD_PAGES") == "1"


def at(month: int, day: int, hour: int = 8, year: int = 2031) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _round(course: Any, label: str, *sessions: datetime, **kwargs: Any) -> Round:
    values: dict[str, Any] = {
        "registration_opens_at": at(1, 1, year=2020),
        "registration_closes_at": at(2, 1),
        "cancellation_deadline": at(2, 15),
        "capacity": 4,
        **kwargs,
    }
    round_ = RoundFactory(course=course, label=label, **values)
    for start in sessions:
        SessionFactory(round=round_, starts_at=start)
    return round_


@pytest.fixture
def catalogue_world(programme, org_a, org_b, provider_org, staff_a, staff_b, coordinator):
    """Courses of every shape the catalogue shows, and the names their keys are written as."""
    nurse = WorkRoleFactory(programme=programme, name="Sjuksköterska")
    basics = CourseFactory(
        programme=programme,
        title="Bemötande & <trauma>",
        providers=[provider_org, org_b],
        target_roles=[nurse],
        description="Ett " + "långt ord " * 70,
        language="en",
    )
    advanced = CourseFactory(
        programme=programme, title="Tolkning", providers=[org_a], prerequisites=[basics], language="da"
    )
    past = CourseFactory(programme=programme, title="Arkiv", providers=[org_a])
    CourseFactory(programme=programme, title="Gammal", providers=[org_a], is_archived=True)
    done = CourseFactory(programme=programme, title="Avklarad", providers=[org_b], description="")
    first = _round(basics, "Vår", at(3, 10), at(3, 12), at(3, 11))
    _round(basics, "Höst", at(9, 1), capacity=2)
    _round(basics, "Senare")  # no session yet
    _round(basics, "Utkast", at(5, 1), status=Round.Status.DRAFT)
    _round(advanced, "Enda", at(4, 2), target_role_mode=Round.TargetRoleMode.EXCLUSIVE)
    _round(advanced, "Sen anmälan", at(10, 2), registration_opens_at=at(6, 1, year=2030))
    _round(past, "Förr", at(1, 2, year=2021), registration_closes_at=at(1, 1, year=2021))
    make_enrolment(first, staff_a)
    make_enrolment(first, staff_b, status="waiting")
    CompletionFactory(person=staff_a, course=done)
    nursing = make_member(programme, org_a, R.STAFF, work_role=nurse)
    stranger_org = OrganisationFactory(name="Utanför", short_name="U")
    stranger = make_member(programme, stranger_org, R.STAFF)
    return {
        "people": {
            "booked": staff_a,
            "waiting": staff_b,
            "coordinator": coordinator,
            "nurse": nursing,
            "stranger": stranger,
        },
    }


def main_of(html: str) -> str:
    return html[html.index('<main id="main"') : html.index("</main>")]


def named(html: str, names: dict[str, str]) -> str:
    """The page with each key in an address or anchor written as the object's name."""

    def replace(match: re.Match[str]) -> str:
        kind, pk = match.group(1), match.group(2)
        return f"{kind}{{{names.get(f'{kind}{pk}', pk)}}}"

    return re.sub(r"(/seminars/rounds/|/seminars/courses/|course-)(\d+)", replace, html)


def _names() -> dict[str, str]:
    from seminars.models import Course

    names = {}
    for course in Course.unscoped_objects.all():
        names[f"/seminars/courses/{course.pk}"] = course.title
        names[f"course-{course.pk}"] = course.title
    for round_ in Round.unscoped_objects.select_related("course"):
        names[f"/seminars/rounds/{round_.pk}"] = f"{round_.course.title}/{round_.label}"
    return names


VIEWS = [
    ("booked", "en", ""),
    ("booked", "sv", "?for=me"),
    ("waiting", "da", ""),
    ("coordinator", "sv", ""),
    ("nurse", "en", "?for=me"),
    ("nurse", "da", ""),
    ("stranger", "en", ""),
]


@pytest.mark.parametrize(("who", "language", "query"), VIEWS)
def test_catalogue_page_is_written_as_recorded(catalogue_world, web, who, language, query):
    if connection.vendor != "sqlite":
        pytest.skip("recorded on SQLite, which sorts a round without sessions (no start yet) first")
    person = catalogue_world["people"][who]
    Person.unscoped_objects.filter(pk=person.pk).update(preferred_language=language)
    client = web(person)

    first = client.get(reverse("seminars:catalogue") + query).content.decode()
    again = client.get(reverse("seminars:catalogue") + query).content.decode()

    page = named(main_of(first), _names())
    recorded = PAGES / f"catalogue-{who}-{language}{'-mine' if query else ''}.html"
    if RECORD:
        recorded.write_text(page)
    assert page == recorded.read_text()
    assert main_of(again) == main_of(first)  # the second, from the cache, as the first
