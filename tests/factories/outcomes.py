"""Hand-made data for targets, follow-ups and costs, with figures known in advance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from organisations.models import Organisation, Person, PlatformRole, Programme, Target, WorkRole
from seminars.models import Completion, Course
from shadowing.models import Placement, PlacementDay, ShadowingRequest, Workplace
from tests.factories import make_member
from tests.factories.organisations import OrganisationFactory, WorkRoleFactory
from tests.factories.seminars import CourseFactory
from tests.factories.shadowing import SlotFactory, make_request


def visit(
    programme: Programme,
    workplace: Workplace,
    requester: Person,
    day: date,
    status: str = Placement.Status.VISITED,
) -> Placement:
    """A placement of one visit day."""
    request = make_request(programme, requester, status=ShadowingRequest.Status.PLACED)
    placement = Placement.unscoped_objects.create(
        programme=programme,
        request=request,
        workplace=workplace,
        status=status,
        confidentiality_accepted_at=timezone.now(),
    )
    slot = SlotFactory(workplace=workplace, date=day)
    PlacementDay.unscoped_objects.create(
        placement=placement, slot=slot, date=day, starts_at=slot.starts_at, ends_at=slot.ends_at
    )
    return placement


@dataclass
class PtsdData:
    """Case officers and the basic PTSD course, with known counts per organisation:

    | org | case officers | completed by today−28 | by today |
    | MV  | 10 | 4 | 6 |
    | MS  |  6 | 0 | 3 |
    | RK  |  3 | 0 | 1 |
    | AF  |  7 | 0 | 2 |

    Plus a counsellor of MV with the course (not a case officer), and another programme's case officers
    with its own course.
    """

    today: date
    role: WorkRole
    course: Course
    target: Target
    orgs: dict[str, Organisation]
    officers: dict[str, list[Person]]


def make_ptsd_data(programme: Programme, other_programme: Programme, today: date) -> PtsdData:
    role = WorkRoleFactory(programme=programme, code="case_officer", name="Handläggare")
    counsellor = WorkRoleFactory(programme=programme, code="counsellor", name="Kurator")
    course = CourseFactory(programme=programme, title="PTSD – grundkurs")
    orgs = {
        "MV": OrganisationFactory(name="Migrationsverket", short_name="MV", programmes=[programme]),
        "MS": OrganisationFactory(name="Malmö stad", short_name="MS", programmes=[programme]),
        "RK": OrganisationFactory(name="Röda korset", short_name="RK", programmes=[programme]),
        "AF": OrganisationFactory(name="Arbetsförmedlingen", short_name="AF", programmes=[programme]),
    }
    sizes = {"MV": 10, "MS": 6, "RK": 3, "AF": 7}
    completions: dict[str, list[int]] = {
        "MV": [40, 40, 40, 40, 10, 10],
        "MS": [20, 20, 20],
        "RK": [15],
        "AF": [5, 5],
    }
    officers: dict[str, list[Person]] = {}
    for key, size in sizes.items():
        officers[key] = [
            make_member(programme, orgs[key], PlatformRole.STAFF, work_role=role) for _ in range(size)
        ]
        for person, days_ago in zip(officers[key], completions[key], strict=False):
            Completion.unscoped_objects.create(
                person=person,
                course=course,
                method=Completion.Method.ATTENDANCE,
                completed_on=today - timedelta(days=days_ago),
            )
    other = make_member(programme, orgs["MV"], PlatformRole.STAFF, work_role=counsellor)
    Completion.unscoped_objects.create(
        person=other,
        course=course,
        method=Completion.Method.ATTENDANCE,
        completed_on=today - timedelta(days=3),
    )
    # Another programme: its own case officers and course, which must never count here.
    foreign_org = OrganisationFactory(name="Jobcenter Aarhus", short_name="JA", programmes=[other_programme])
    foreign_role = WorkRoleFactory(programme=other_programme, code="case_officer", name="Sagsbehandler")
    foreign_course = CourseFactory(programme=other_programme, title="PTSD – grundkursus")
    for _ in range(8):
        person = make_member(other_programme, foreign_org, PlatformRole.STAFF, work_role=foreign_role)
        Completion.unscoped_objects.create(
            person=person, course=foreign_course, method=Completion.Method.ATTENDANCE, completed_on=today
        )
    target = Target.unscoped_objects.create(
        programme=programme,
        title="Alla handläggare har grundkursen i PTSD",
        measure="seminars.completed_course",
        subject_id=course.pk,
        work_role=role,
        goal=100,
        starts_on=today - timedelta(days=60),
        deadline=today + timedelta(days=60),
    )
    return PtsdData(today, role, course, target, orgs, officers)


def target_for(programme: Programme, **kwargs: Any) -> Target:
    today = timezone.localdate()
    values: dict[str, Any] = {
        "title": "Mål",
        "measure": "shadowing.days_hosted_and_sent",
        "goal": 10,
        "starts_on": date(today.year, 1, 1),
        "deadline": date(today.year, 12, 31),
    }
    values.update(kwargs)
    return Target.unscoped_objects.create(programme=programme, **values)
