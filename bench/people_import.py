"""Importing 10,000 people from a spreadsheet, against a plain bulk insert of the same rows, run by hand::

    .ci/with-postgres .venv/bin/python bench/people_import.py           # on a throwaway PostgreSQL
    .venv/bin/python bench/people_import.py --people 2000               # SQLite, smaller

A programme shaped like a real one: one dominant agency with 40 % of the staff and five smaller ones, each
with a tree of units (departments and their offices), a head per agency, a manager per unit reporting to
the head and everyone else reporting to their unit's manager, in a file whose rows come in random order
(managers often below the people they manage). The file is the semicolon CSV Swedish Excel writes.

Timed, in turns, ``--repeat`` times each (medians printed), every write rolled back so each turn starts
from the same database:

- baseline: a plain ``bulk_create`` of the same accounts, people (managers level by level, as a plain
  insert must), memberships and roles, from values already in memory;
- dry run: ``people_import(dry_run=True)``: reading the file, every check, nothing written;
- import: ``people_import(dry_run=False)``: the same checks and the writes, in one transaction.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402

from coordinator.core.spreadsheets import write_csv  # noqa: E402
from coordinator.core.tenancy import programme_scope  # noqa: E402
from organisations.models import (  # noqa: E402
    Membership,
    Organisation,
    Person,
    PlatformRole,
    Programme,
    RoleAssignment,
    Unit,
    WorkRole,
)
from organisations.permissions import actor_for  # noqa: E402
from organisations.services.people_import import COLUMNS, people_import  # noqa: E402
from tests.factories import OrganisationFactory, ProgrammeFactory, UnitFactory, WorkRoleFactory, make_member  # noqa: E402

SHARES = [0.40, 0.16, 0.14, 0.12, 0.10, 0.08]


class Rollback(Exception):
    pass


def _programme(n_people: int, seed: int) -> tuple[Programme, Person, list[list[object]]]:
    """The programme, its agencies and units, and the rows of the file (not yet imported)."""
    rng = random.Random(seed)
    programme = ProgrammeFactory(name="Bench", slug="bench")
    roles = [WorkRoleFactory(programme=programme, code=f"role_{i}", name=f"Roll {i}") for i in range(6)]
    organisations = [
        OrganisationFactory(name=f"Myndighet {i}", short_name=f"M{i}", programmes=[programme])
        for i in range(len(SHARES))
    ]
    admin = make_member(programme, organisations[0], PlatformRole.PROGRAMME_ADMIN, PlatformRole.STAFF)
    rows: list[list[object]] = []
    sizes = [max(3, int(n_people * share)) for share in SHARES]
    sizes[0] += n_people - sum(sizes)
    for index, (organisation, staff) in enumerate(zip(organisations, sizes, strict=True)):
        departments = [UnitFactory(organisation=organisation, name=f"Avdelning {d}") for d in range(4)]
        offices = [
            UnitFactory(organisation=organisation, name=f"Kontor {d}-{o}", parent=departments[d])
            for d in range(4)
            for o in range(max(1, staff // 400))
        ]
        head = f"chef{index}@m{index}.example"
        rows.append(
            [
                head,
                "Chef",
                f"M{index}",
                organisation.short_name,
                "",
                "",
                "Myndighetschef",
                "",
                "",
                "sv",
                "",
                "staff, line_manager",
            ]
        )
        managers = {}
        for office in offices:
            email = f"enhetschef.{office.pk}@m{index}.example"
            managers[office.pk] = email
            path = f"{organisation.short_name} / {office.parent.name} / {office.name}"  # type: ignore[union-attr]
            rows.append(
                [
                    email,
                    "Enhetschef",
                    office.name,
                    organisation.short_name,
                    path,
                    roles[0].code,
                    "Enhetschef",
                    head,
                    "040-10 10 10",
                    "sv, en",
                    "sv",
                    "staff, line_manager",
                ]
            )
        for n in range(staff - len(offices) - 1):
            office = rng.choice(offices)
            path = f"{organisation.short_name} / {office.parent.name} / {office.name}"  # type: ignore[union-attr]
            rows.append(
                [
                    f"person{n}@m{index}.example",
                    f"Förnamn{n}",
                    f"Efternamn{n}",
                    organisation.short_name,
                    path,
                    rng.choice(roles).code,
                    "Handläggare",
                    managers[office.pk],
                    f"07{n:08d}",
                    "sv, ar",
                    "",
                    "staff",
                ]
            )
    rng.shuffle(rows)
    return programme, admin, rows


def _baseline(programme: Programme, rows: list[list[object]]) -> None:
    """A plain bulk insert of the same rows: values resolved in memory beforehand, no checks."""
    organisations = {
        o.short_name: o for o in Organisation.objects.filter(participations__programme=programme)
    }
    units = {
        (u.organisation_id, u.name): u for u in Unit.objects.filter(organisation__in=organisations.values())
    }
    roles = {r.code: r for r in WorkRole.objects.filter(programme=programme)}
    t0 = time.perf_counter()
    users = [
        User(
            username=str(r[0]),
            email=str(r[0]),
            first_name=str(r[1]),
            last_name=str(r[2]),
            password=make_password(None),
        )
        for r in rows
    ]
    User.objects.bulk_create(users)
    people: dict[str, Person] = {}
    for row, user in zip(rows, users, strict=True):
        organisation = organisations[str(row[3])]
        unit = units.get((organisation.pk, str(row[4]).rsplit(" / ", 1)[-1]))
        person = Person(
            user=user,
            organisation=organisation,
            unit=unit,
            job_title=str(row[6]),
            phone=str(row[8]),
            languages=str(row[9]).split(", "),
            preferred_language=str(row[10]),
        )
        person.renew_calendar_address()
        people[str(row[0])] = person
    manager = {str(r[0]): str(r[7]) for r in rows}
    level = {email: 0 if not manager[email] else None for email in manager}
    while any(v is None for v in level.values()):
        for email, value in level.items():
            if value is None and level.get(manager[email]) is not None:
                level[email] = level[manager[email]] + 1  # type: ignore[operator]
    for depth in range(max(v for v in level.values() if v is not None) + 1):
        batch = [people[e] for e, v in level.items() if v == depth]
        for person in batch:
            email = person.user.username
            person.line_manager = people.get(manager[email])
        Person.objects.bulk_create(batch)
    memberships = [
        Membership(programme=programme, person=people[str(r[0])], work_role=roles.get(str(r[5])))
        for r in rows
    ]
    Membership.objects.bulk_create(memberships)
    RoleAssignment.objects.bulk_create(
        RoleAssignment(membership=m, role=role.strip())
        for m, r in zip(memberships, rows, strict=True)
        for role in str(r[11]).split(",")
    )
    return time.perf_counter() - t0  # type: ignore[return-value]


def _rolled_back(run: object) -> float:
    started = time.perf_counter()
    try:
        with transaction.atomic():
            result = run()  # type: ignore[operator]
            raise Rollback(result)
    except Rollback as done:
        value = done.args[0]
    elapsed = time.perf_counter() - started
    return float(value) if isinstance(value, float) else elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        programme, admin, rows = _programme(args.people, args.seed)
        data = write_csv([str(column.label) for column in COLUMNS], rows)
        actor = actor_for(admin.user)
        print(
            f"{connection.vendor}: {len(rows):,} people in a {len(data) / 1024:.0f} KiB CSV, "
            f"{args.repeat} turns each"
        )
        figures: dict[str, list[float]] = {"baseline": [], "dry run": [], "import": []}
        with programme_scope([programme.pk]):
            for _turn in range(args.repeat):
                figures["baseline"].append(_rolled_back(lambda: _baseline(programme, rows)))
                started = time.perf_counter()
                report = people_import(actor=actor, programme=programme, data=data, dry_run=True)
                figures["dry run"].append(time.perf_counter() - started)
                assert report.ok, report.errors[:5]

                def commit() -> float:
                    began = time.perf_counter()
                    done = people_import(actor=actor, programme=programme, data=data, dry_run=False)
                    assert done.committed and done.counts()["create"] == len(rows)
                    return time.perf_counter() - began

                figures["import"].append(_rolled_back(commit))
        base = statistics.median(figures["baseline"])
        for name, values in figures.items():
            median = statistics.median(values)
            print(
                f"  {name:9s} median {median:6.2f} s  ({', '.join(f'{v:.2f}' for v in values)})"
                + ("" if name == "baseline" else f"  = {median / base:.1f}× the bulk insert")
            )
    finally:
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
