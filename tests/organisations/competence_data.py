"""A hand-made programme whose competence gaps are known (see ``known_gaps``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from organisations.models import (
    Competence,
    CompetenceConfirmation,
    CompetenceSource,
    Membership,
    OrganisationKind,
    Person,
    ProfileCompetence,
    Programme,
)
from organisations.models import PlatformRole as R
from seminars.models import Completion
from shadowing.models import Placement, PlacementDay
from tests.factories import OrganisationFactory, UnitFactory, WorkRoleFactory, make_member
from tests.factories.focusgroups import FocusGroupFactory, make_group_member
from tests.factories.seminars import CourseFactory
from tests.factories.shadowing import WorkplaceFactory, make_request


@dataclass
class Dataset:
    programme: Programme
    org_a: Any
    org_b: Any
    asylum: Competence
    trauma: Competence
    job_centre: Competence
    case_officers: list[Person]  # org A, role "case officer"
    secretaries: list[Person]  # org B, role "introduction secretary"
    manager_b: Person
    course_asylum: Any
    course_trauma: Any
    group: Any
    units_b: list[Any]


DAY = date(2026, 3, 2)


def build(programme: Programme, org_a: Any, org_b: Any) -> Dataset:
    """Org A (a state agency): 6 case officers; the profile asks for the asylum process (basic) and
    trauma-informed conversation (professional). Org B (a municipality): 5 introduction secretaries; the
    profile asks for the asylum process and how the job centre works (both basic).

    What gives what: the asylum course or a visit made at a state agency → the asylum process; the
    trauma course → trauma-informed conversation; a seat in the focus group or a line manager's
    confirmation → how the job centre works.

    Done: a1, a2, a3 the asylum course; a1 the trauma course; b1 a visit at org A; b2 the asylum course;
    b3 a seat in the focus group; b4 their manager's confirmation.
    """
    case_officer = WorkRoleFactory(programme=programme, code="case_officer", name="Handläggare")
    secretary = WorkRoleFactory(programme=programme, code="intro", name="Introduktionssekreterare")
    course_asylum = CourseFactory(programme=programme, title="Asylprocessen")
    course_trauma = CourseFactory(programme=programme, title="Traumamedvetet samtal")
    group = FocusGroupFactory(programme=programme, name="Informationsflödet")
    asylum = Competence.unscoped_objects.create(programme=programme, name="Asylprocessen")
    trauma = Competence.unscoped_objects.create(programme=programme, name="Traumamedvetet samtal")
    job_centre = Competence.unscoped_objects.create(
        programme=programme, name="Hur Arbetsförmedlingen arbetar"
    )
    for competence, kind, value in [
        (asylum, "course", str(course_asylum.pk)),
        (asylum, "agency_kind", OrganisationKind.STATE_AGENCY),
        (trauma, "course", str(course_trauma.pk)),
        (job_centre, "focus_group", str(group.pk)),
    ]:
        CompetenceSource.unscoped_objects.create(
            programme=programme, competence=competence, kind=kind, value=value
        )
    for role, competence, level in [
        (case_officer, asylum, "basic"),
        (case_officer, trauma, "professional"),
        (secretary, asylum, "basic"),
        (secretary, job_centre, "basic"),
    ]:
        ProfileCompetence.unscoped_objects.create(
            programme=programme, work_role=role, competence=competence, level=level
        )
    units_b = [
        UnitFactory(organisation=org_b, name="Rosengård"),
        UnitFactory(organisation=org_b, name="Centrum"),
    ]
    manager_b = make_member(programme, org_b, R.LINE_MANAGER, R.STAFF, unit=units_b[0])
    case_officers = [make_member(programme, org_a, R.STAFF, work_role=case_officer) for _ in range(6)]
    secretaries = [
        make_member(programme, org_b, R.STAFF, work_role=secretary, line_manager=manager_b, unit=units_b[0])
        for _ in range(5)
    ]
    for person, course, day in [
        (case_officers[0], course_asylum, DAY),
        (case_officers[1], course_asylum, DAY + timedelta(days=1)),
        (case_officers[2], course_asylum, DAY + timedelta(days=40)),
        (case_officers[0], course_trauma, DAY + timedelta(days=2)),
        (secretaries[1], course_asylum, DAY + timedelta(days=3)),
    ]:
        Completion.unscoped_objects.create(
            person=person, course=course, method=Completion.Method.ATTENDANCE, completed_on=day
        )
    host = make_member(programme, org_a, R.HOST_CONTACT)
    workplace = WorkplaceFactory(programme=programme, organisation=org_a, contact=host)
    request = make_request(programme, secretaries[0], status="approved")
    visit = Placement.unscoped_objects.create(
        programme=programme,
        request=request,
        workplace=workplace,
        status=Placement.Status.VISITED,
        confidentiality_accepted_at=timezone.now(),
    )
    PlacementDay.unscoped_objects.create(
        placement=visit, date=DAY + timedelta(days=4), starts_at=time(9), ends_at=time(15)
    )
    make_group_member(group, secretaries[2], joined_at=datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    CompetenceConfirmation.unscoped_objects.create(
        programme=programme,
        person=secretaries[3],
        competence=job_centre,
        gained_on=DAY + timedelta(days=6),
        note="Arbetade tre år på Arbetsförmedlingen",
        confirmed_by=manager_b,
    )
    return Dataset(
        programme,
        org_a,
        org_b,
        asylum,
        trauma,
        job_centre,
        case_officers,
        secretaries,
        manager_b,
        course_asylum,
        course_trauma,
        group,
        units_b,
    )


def small_organisation(programme: Programme, data: Dataset) -> list[Person]:
    """Org C with two case officers who have nothing: a group too small to show."""
    org_c = OrganisationFactory(
        name="Region Skåne", short_name="RS", kind=OrganisationKind.REGION, programmes=[programme]
    )
    role = Membership.unscoped_objects.get(person=data.case_officers[0]).work_role
    return [make_member(programme, org_c, R.STAFF, work_role=role) for _ in range(2)]
