"""Competence gap pages with 10,000 people, against a trivial page in the same run.

    .venv/bin/python bench/competence.py [--people 10000] [--repeat 7]
    .ci/with-postgres .venv/bin/python bench/competence.py      # on a throwaway PostgreSQL

The script creates its own throwaway test database (through Django's test set-up) and removes it. The
programme is shaped like a real one: one dominant agency with 40 % of the staff, four smaller ones, 40
units, 8 roles at work of which 5 have profiles, 6 competences given by 4 courses, visits at 3 kinds of
agency and 2 focus groups; each person completed each course with probability 0.45 (about 18,000
completions), 20,000 visits made (with their days), 300 focus-group seats and about 2,000 line managers'
confirmations. Each page is
requested through Django's test client (the whole middleware stack), signed in, as a coordinator; the
figures are medians of ``--repeat`` runs after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from coordinator.core.tenancy import unscoped  # noqa: E402
from focusgroups.models import FocusGroup, GroupMembership  # noqa: E402
from organisations.models import (  # noqa: E402
    Competence,
    CompetenceConfirmation,
    CompetenceSource,
    Membership,
    Organisation,
    OrganisationKind,
    Participation,
    Person,
    PlatformRole,
    ProfileCompetence,
    Programme,
    RoleAssignment,
    Unit,
    WorkRole,
)
from seminars.models import Completion, Course  # noqa: E402
from shadowing.models import Placement, PlacementDay, ShadowingRequest, Workplace  # noqa: E402

KINDS = [
    OrganisationKind.STATE_AGENCY,
    OrganisationKind.MUNICIPALITY,
    OrganisationKind.EMPLOYMENT_SERVICE,
    OrganisationKind.REGION,
    OrganisationKind.NGO,
]


def build(people: int) -> tuple[Programme, Person, Person, Organisation]:
    rng = random.Random(19)
    programme = Programme.unscoped_objects.create(name="Bench", slug="bench-competence", country="")
    organisations = [
        Organisation.unscoped_objects.create(name=f"Myndighet {i}", short_name=f"M{i}", kind=KINDS[i])
        for i in range(5)
    ]
    for organisation in organisations:
        Participation.unscoped_objects.create(programme=programme, organisation=organisation)
    units = [
        Unit.unscoped_objects.create(organisation=organisations[i % 5 if i >= 16 else 0], name=f"Enhet {i}")
        for i in range(40)
    ]
    roles = [
        WorkRole.unscoped_objects.create(programme=programme, code=f"role_{i}", name=f"Roll {i}")
        for i in range(8)
    ]
    courses = [Course.unscoped_objects.create(programme=programme, title=f"Kurs {i}") for i in range(4)]
    groups = [
        FocusGroup.unscoped_objects.create(programme=programme, code=f"g{i}", name=f"Grupp {i}", purpose="-")
        for i in range(2)
    ]
    sources = [
        [("course", str(courses[0].pk)), ("agency_kind", KINDS[3])],
        [("course", str(courses[1].pk))],
        [("agency_kind", KINDS[0])],
        [("agency_kind", KINDS[2])],
        [("course", str(courses[2].pk)), ("focus_group", str(groups[0].pk))],
        [("course", str(courses[3].pk)), ("focus_group", str(groups[1].pk))],
    ]
    competences = []
    for i, given_by in enumerate(sources):
        competence = Competence.unscoped_objects.create(programme=programme, name=f"Kompetens {i}")
        competences.append(competence)
        for kind, value in given_by:
            CompetenceSource.unscoped_objects.create(
                programme=programme, competence=competence, kind=kind, value=value
            )
    for r, role in enumerate(roles[:5]):
        for c, competence in enumerate(competences):
            if (r + c) % 3 != 2:
                ProfileCompetence.unscoped_objects.create(
                    programme=programme,
                    work_role=role,
                    competence=competence,
                    level="basic" if c < 3 else "professional",
                )
    # People: 40 % at the dominant agency; each unit's first person is the line manager of the rest.
    users = User.objects.bulk_create(
        [User(username=f"p{i}", first_name=f"F{i}", last_name=f"L{i}") for i in range(people)]
    )
    persons = []
    for i, user in enumerate(users):
        organisation = organisations[0] if i < people * 0.4 else organisations[1 + i % 4]
        own_units = [u for u in units if u.organisation_id == organisation.pk]
        person = Person(user=user, organisation=organisation, unit=own_units[i % len(own_units)])
        person.renew_calendar_address()
        persons.append(person)
    persons = Person.unscoped_objects.bulk_create(persons)
    managers: dict[int, Person] = {}
    for person in persons:
        managers.setdefault(person.unit_id, person)
    for person in persons:
        manager = managers[person.unit_id]
        if manager.pk != person.pk:
            person.line_manager_id = manager.pk
    Person.unscoped_objects.bulk_update(persons, ["line_manager"], batch_size=2000)
    memberships = Membership.unscoped_objects.bulk_create(
        [Membership(programme=programme, person=p, work_role=roles[i % 8]) for i, p in enumerate(persons)]
    )
    RoleAssignment.unscoped_objects.bulk_create(
        [RoleAssignment(membership=m, role=PlatformRole.STAFF) for m in memberships]
        + [
            RoleAssignment(membership=m, role=PlatformRole.LINE_MANAGER)
            for m in memberships
            if m.person in managers.values()
        ]
    )
    coordinator = persons[-1]
    RoleAssignment.unscoped_objects.create(membership=memberships[-1], role=PlatformRole.COORDINATOR)
    day = date(2026, 1, 5)
    Completion.unscoped_objects.bulk_create(
        [
            Completion(
                person=p,
                course=course,
                method="attendance",
                completed_on=day + timedelta(days=rng.randrange(300)),
            )
            for p in persons
            for course in courses
            if rng.random() < 0.45
        ],
        batch_size=5000,
    )
    hosts = [
        Workplace.unscoped_objects.create(
            programme=programme,
            organisation=o,
            name=f"Arbetsplats {o.short_name}",
            street_address="Gatan 1",
            city="Malmö",
            contact=next(p for p in persons if p.organisation_id == o.pk),
        )
        for o in organisations
    ]
    visitors = (
        rng.sample(persons, min(len(persons), 20_000))
        if len(persons) > 20_000
        else [persons[i % len(persons)] for i in range(20_000)]
    )
    requests = ShadowingRequest.unscoped_objects.bulk_create(
        [
            ShadowingRequest(
                programme=programme,
                requester=p,
                organisation_id=p.organisation_id,
                learning_goals="-",
                days=1,
                status=ShadowingRequest.Status.APPROVED,
            )
            for p in visitors
        ],
        batch_size=5000,
    )
    placements = Placement.unscoped_objects.bulk_create(
        [
            Placement(
                programme=programme,
                request=r,
                workplace=hosts[
                    (i + 1 + hosts.index(next(h for h in hosts if h.organisation_id == r.organisation_id)))
                    % 5
                ],
                status=Placement.Status.VISITED,
                confidentiality_accepted_at=timezone.now(),
            )
            for i, r in enumerate(requests)
        ],
        batch_size=5000,
    )
    PlacementDay.unscoped_objects.bulk_create(
        [
            PlacementDay(
                placement=p, date=day + timedelta(days=rng.randrange(300)), starts_at="09:00", ends_at="15:00"
            )
            for p in placements
        ],
        batch_size=5000,
    )
    GroupMembership.unscoped_objects.bulk_create(
        [
            GroupMembership(group=groups[i % 2], person=p, organisation_id=p.organisation_id)
            for i, p in enumerate(rng.sample(persons, min(300, len(persons) // 5)))
        ]
    )
    confirmations = [
        CompetenceConfirmation(
            programme=programme,
            person=p,
            competence=competences[3],
            gained_on=day,
            confirmed_by_id=p.line_manager_id,
        )
        for p in rng.sample(persons, min(2000, len(persons) // 5))
        if p.line_manager_id
    ]
    CompetenceConfirmation.unscoped_objects.bulk_create(confirmations)
    manager = managers[units[0].pk]
    return programme, coordinator, manager, organisations[0]


def median_ms(run: Callable[[], Any], repeat: int) -> tuple[float, int]:
    run()
    samples = []
    for _ in range(repeat):
        reset_queries()
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), len(connection.queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args()
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        started = time.perf_counter()
        with unscoped():  # benchmark set-up spans its own throwaway programme
            programme, coordinator, manager, dominant = build(options.people)
        print(f"data set built in {time.perf_counter() - started:.0f} s ({connection.vendor})")
        staff = Client()
        staff.force_login(coordinator.user, backend="django.contrib.auth.backends.ModelBackend")
        boss = Client()
        boss.force_login(manager.user, backend="django.contrib.auth.backends.ModelBackend")
        with unscoped():
            counts = {
                "people": Person.unscoped_objects.count(),
                "completions": Completion.unscoped_objects.count(),
                "visits made": Placement.unscoped_objects.count(),
                "confirmations": CompetenceConfirmation.unscoped_objects.count(),
                "team size": Person.unscoped_objects.filter(line_manager=manager).count(),
            }
        print(", ".join(f"{k}: {v:,}" for k, v in counts.items()))
        from django.conf import settings

        settings.DEBUG = True  # count queries
        pages = [
            ("baseline: /healthz", staff, "/healthz"),
            ("gaps by organisation", staff, "/organisations/competences/gaps/"),
            (
                "gaps by unit (dominant agency)",
                staff,
                f"/organisations/competences/gaps/?organisation={dominant.pk}",
            ),
            ("gap table as CSV", staff, "/organisations/competences/gaps/?format=csv"),
            ("API gap table (JSON)", staff, f"/api/v1/competence/gaps/?programme={programme.pk}"),
            ("a line manager's team", boss, "/organisations/competences/team/"),
            ("a person's profile", staff, f"/organisations/competences/people/{manager.pk}/"),
            ("my page", boss, "/me/"),
        ]
        print("| page | median ms | queries |\n| --- | --- | --- |")
        for label, client, url in pages:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            ms, queries = median_ms(lambda c=client, u=url: c.get(u), options.repeat)
            print(f"| {label} | {ms:,.1f} | {queries} |")
    finally:
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
