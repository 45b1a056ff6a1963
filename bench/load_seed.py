"""Seed the programme that ``bench/load.py`` puts under load, in the database the running stack uses.

  DJANGO_SETTINGS_MODULE=coordinator.settings DATABASE_URL=... SECRET_KEY=... \\
      .venv/bin/python bench/load_seed.py --people 240 --out seed.json

Shaped like a real programme: six agencies, one with 40 % of the staff; two units each with a line manager
who approves their staff's time away; every staff member has an API token and a signed-in session (the
socket and the pages use the session, the API the token) and a calendar address. Workplaces of every
agency with Zipf-like popularity and slots on three weekdays over the next eight weeks; courses with
several rounds (with sessions, some of them already half full); the six focus groups with members and
notes. Writes what the load test needs (tokens, session cookies, ids) as JSON to ``--out``.

It runs with the stack's own settings and ``SECRET_KEY`` (the calendar addresses are signed with it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordinator.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from coordinator.core.tenancy import unscoped  # noqa: E402
from focusgroups.models import GroupMembership  # noqa: E402
from organisations.models import Organisation, Person, PlatformRole, Programme  # noqa: E402
from seminars.models import Round  # noqa: E402
from shadowing.models import Slot, Workplace  # noqa: E402
from tests.factories import (  # noqa: E402
    OrganisationFactory,
    ProgrammeFactory,
    UnitFactory,
    WorkRoleFactory,
    make_member,
)
from tests.factories.focusgroups import FocusGroupFactory, make_group_member, make_note  # noqa: E402
from tests.factories.seminars import CourseFactory, RoundFactory, SessionFactory, make_enrolment  # noqa: E402
from tests.factories.shadowing import TopicFactory, WorkplaceFactory  # noqa: E402

AGENCIES = [
    ("Migrationsverket", "MV"),
    ("Malmö stad", "MS"),
    ("Arbetsförmedlingen", "AF"),
    ("Region Skåne", "RS"),
    ("Röda korset", "RK"),
    ("Komvux sfi", "SFI"),
]
STAFF_SHARE = [0.4, 0.2, 0.12, 0.12, 0.08, 0.08]
FOCUS_GROUPS = [
    "Organisationskännedom",
    "Informationsflödet",
    "Målgruppskännedom",
    "Kartläggningsmetodik",
    "Samarbete och samverkan",
    "Hälsoperspektivet och empowerment",
]
COURSES = [
    "PTSD grundkurs",
    "PTSD fördjupning",
    "Kartläggningsmetodik",
    "Asylprocessen i praktiken",
    "Samtal med tolk",
    "Etableringsuppdraget",
    "Psykisk hälsa hos nyanlända",
    "Sfi och samhällsorientering",
    "Barnrättsperspektivet",
    "Hedersrelaterat våld",
]


def _weekdays(start: date, weeks: int, weekdays: tuple[int, ...]) -> list[date]:
    days = [start + timedelta(days=offset) for offset in range(weeks * 7)]
    return [day for day in days if day.weekday() in weekdays]


def _session_cookie(person: Person) -> str:
    client = Client()
    client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")
    return client.cookies["sessionid"].value


def seed(people: int, seed_value: int = 15) -> dict[str, Any]:  # noqa: PLR0915 (one linear script)
    rng = random.Random(seed_value)
    programme: Programme = ProgrammeFactory(name="Malmö lokala kompetensutveckling", slug="malmo-load")
    organisations: list[Organisation] = [
        OrganisationFactory(name=name, short_name=short, programmes=[programme]) for name, short in AGENCIES
    ]
    roles = [
        WorkRoleFactory(programme=programme, code=code, name=name)
        for code, name in (
            ("handlaggare", "Handläggare"),
            ("introduktionssekreterare", "Introduktionssekreterare"),
            ("kurator", "Kurator"),
            ("larare", "Lärare"),
        )
    ]
    coordinator = make_member(
        programme, organisations[1], PlatformRole.COORDINATOR, user__username="samordnare"
    )
    managers: list[Person] = []
    staff: list[dict[str, Any]] = []
    counts = [max(4, round(people * share)) for share in STAFF_SHARE]
    for organisation, count in zip(organisations, counts, strict=True):
        units = [
            UnitFactory(organisation=organisation, name=f"{organisation.short_name} enhet {n}")
            for n in (1, 2)
        ]
        unit_managers = [
            make_member(
                programme,
                organisation,
                PlatformRole.STAFF,
                PlatformRole.LINE_MANAGER,
                unit=unit,
                user__username=f"chef.{organisation.short_name.lower()}.{n}",
            )
            for n, unit in enumerate(units, 1)
        ]
        managers.extend(unit_managers)
        for n in range(count):
            unit_index = n % 2
            person = make_member(
                programme,
                organisation,
                unit=units[unit_index],
                line_manager=unit_managers[unit_index],
                work_role=rng.choice(roles),
                user__username=f"{organisation.short_name.lower()}.{n}",
            )
            staff.append({"person": person, "organisation": organisation.pk})

    topics = [
        TopicFactory(programme=programme, name=name) for name in ("Asyl", "Etablering", "Hälsa", "Skola")
    ]
    today = timezone.localdate()
    start = today + timedelta(days=7 - today.weekday())  # next Monday
    workplaces: list[Workplace] = []
    for number in range(30):
        organisation = rng.choices(organisations, weights=STAFF_SHARE)[0]
        contact = make_member(programme, organisation, PlatformRole.STAFF, user__username=f"vard.{number}")
        workplace = WorkplaceFactory(
            programme=programme,
            organisation=organisation,
            contact=contact,
            name=f"{organisation.short_name} mottagning {number + 1}",
            topics=rng.sample(topics, 2),
        )
        workplaces.append(workplace)
        weekdays = tuple(sorted(rng.sample(range(5), 3)))
        Slot.unscoped_objects.bulk_create(
            [
                Slot(
                    workplace=workplace,
                    date=day,
                    starts_at=time(9, 0),
                    ends_at=time(15, 0),
                    capacity=rng.choice((1, 1, 2, 3)),
                )
                for day in _weekdays(start, 8, weekdays)
            ]
        )

    rounds: list[int] = []
    for number, title in enumerate(COURSES):
        course = CourseFactory(
            programme=programme,
            title=title,
            providers=[organisations[(number % 5) + 1]],
        )
        for round_number in range(3):
            round_ = RoundFactory(
                course=course,
                label=f"Omgång {round_number + 1}",
                capacity=rng.choice((20, 30, 40)),
            )
            first = timezone.now().replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(
                days=30 + 14 * round_number + number
            )
            for day in range(1 + number % 3):
                SessionFactory(round=round_, starts_at=first + timedelta(days=day))
            rounds.append(round_.pk)
    # Some rounds already half full, as a catalogue is some weeks after it opened.
    for round_id in rounds[::3]:
        round_ = Round.unscoped_objects.get(pk=round_id)
        for entry in rng.sample(staff[people // 2 :], round_.capacity // 2):
            make_enrolment(round_, entry["person"])

    groups: list[dict[str, Any]] = []
    for number, name in enumerate(FOCUS_GROUPS):
        group = FocusGroupFactory(programme=programme, code=f"fokus-{number + 1}", name=name)
        members = [entry["person"] for entry in staff[number :: len(FOCUS_GROUPS)][:15]]
        make_group_member(group, members[0], role=GroupMembership.Role.CONVENER)
        for member in members[1:]:
            make_group_member(group, member)
        notes = [
            make_note(
                group, title=f"Möte {n}", body=f"Anteckningar från möte {n} i {name}.\n", author=members[0]
            )
            for n in (1, 2, 3)
        ]
        groups.append({"id": group.pk, "members": [m.pk for m in members], "notes": [n.pk for n in notes]})

    def describe(person: Person) -> dict[str, Any]:
        return {
            "id": person.pk,
            "organisation": person.organisation_id,
            "token": Token.objects.create(user=person.user).key,
            "session": _session_cookie(person),
            "calendar": person.calendar_token,
        }

    return {
        "programme": programme.pk,
        "coordinator": describe(coordinator),
        "staff": [describe(entry["person"]) for entry in staff],
        "managers": [describe(manager) for manager in managers],
        "workplaces": [{"id": w.pk, "organisation": w.organisation_id} for w in workplaces],
        "rounds": rounds,
        "groups": groups,
        "window": [(start).isoformat(), (start + timedelta(weeks=8)).isoformat()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=240, help="staff members (besides managers and hosts)")
    parser.add_argument("--out", type=Path, required=True)
    options = parser.parse_args()
    with unscoped(), transaction.atomic():
        data = seed(options.people)
    options.out.write_text(json.dumps(data))
    print(
        f"seeded {len(data['staff'])} staff, {len(data['managers'])} line managers, "
        f"{len(data['rounds'])} rounds"
    )


if __name__ == "__main__":
    main()
