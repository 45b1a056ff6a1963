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
The people, their memberships, roles, tokens and sessions and the enrolments are written in bulk, a few
statements for all of them: one by one, production's password hasher alone (about half a second a person)
kept a 240-person seed busy for minutes. Everyone shares one password hash, computed once.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordinator.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends.base import VALID_KEY_CHARS  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from coordinator.core.tenancy import unscoped  # noqa: E402
from focusgroups.models import GroupMembership  # noqa: E402
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
from seminars.models import Enrolment, Round  # noqa: E402
from shadowing.models import Slot, Workplace  # noqa: E402
from tests.factories import (  # noqa: E402
    OrganisationFactory,
    ProgrammeFactory,
    UnitFactory,
    WorkRoleFactory,
)
from tests.factories.focusgroups import FocusGroupFactory, make_group_member, make_note  # noqa: E402
from tests.factories.seminars import CourseFactory, RoundFactory, SessionFactory  # noqa: E402
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


FIRST_NAMES = "Anna Erik Maria Karl Sara Johan Fatima Ali Emma Lars Leila Nils Ida Omar Karin Mads".split()
LAST_NAMES = "Andersson Johansson Karlsson Nilsson Eriksson Larsson Hansen Jensen Nielsen Ahmadi".split()
PASSWORD = "load-test-password"  # noqa: S105 (a bench's people, on a throwaway database)
# The backend the sign-in views sign in with (``coordinator.pages.views.signin.BACKEND``), so the sessions
# are read as a signed-in browser's are. The sessions of an earlier seed (ModelBackend) keep working.
# LOAD_SIGN_IN_BACKEND=django.contrib.auth.backends.ModelBackend seeds sessions as signed in before.
SIGN_IN_BACKEND = os.environ.get(
    "LOAD_SIGN_IN_BACKEND", "organisations.access.backends.SessionIdentityBackend"
)


@dataclass
class Member:
    """One person to create: who they are, where they work and what they may do in the programme."""

    username: str
    organisation: Organisation
    roles: tuple[str, ...] = (PlatformRole.STAFF,)
    unit: Unit | None = None
    line_manager: Person | None = None
    work_role: WorkRole | None = None


def create_members(programme: Programme, members: list[Member], rng: random.Random) -> list[Person]:
    """The people of ``members``, each with a user, a membership of ``programme`` and their roles, in four
    bulk inserts. The same rows ``make_member`` writes one by one, with one password hash for all."""
    password = make_password(PASSWORD)
    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(
                username=member.username,
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                email=f"{member.username}@example.org",
                password=password,
                last_login=now,
            )
            for member in members
        ]
    )
    people = []
    for user, member in zip(users, members, strict=True):
        person = Person(
            user=user,
            organisation=member.organisation,
            unit=member.unit,
            line_manager=member.line_manager,
            job_title="Handläggare",
            languages=["sv", "en"],
        )
        person.renew_calendar_address()  # what save() does for a new person, and bulk_create does not
        people.append(person)
    Person.unscoped_objects.bulk_create(people)
    memberships = Membership.unscoped_objects.bulk_create(
        [
            Membership(programme=programme, person=person, work_role=member.work_role)
            for person, member in zip(people, members, strict=True)
        ]
    )
    RoleAssignment.unscoped_objects.bulk_create(
        [
            RoleAssignment(membership=membership, role=role)
            for membership, member in zip(memberships, members, strict=True)
            for role in member.roles
        ]
    )
    return people


def sign_in(people: list[Person]) -> dict[int, tuple[str, str]]:
    """Each person's API token and the key of a signed-in session (as ``Client.force_login`` leaves it),
    written in two bulk inserts: person id -> (token, session key)."""
    tokens = Token.objects.bulk_create(
        [Token(user=person.user, key=Token.generate_key()) for person in people]
    )
    store = SessionStore()
    expires = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    sessions = [
        Session(
            session_key=get_random_string(32, VALID_KEY_CHARS),
            session_data=store.encode(
                {
                    SESSION_KEY: str(person.user.pk),
                    BACKEND_SESSION_KEY: SIGN_IN_BACKEND,
                    HASH_SESSION_KEY: person.user.get_session_auth_hash(),
                }
            ),
            expire_date=expires,
        )
        for person in people
    ]
    Session.objects.bulk_create(sessions)
    return {
        person.pk: (token.key, session.session_key)
        for person, token, session in zip(people, tokens, sessions, strict=True)
    }


def fill_rounds(rounds: list[Round], candidates: list[Person], rng: random.Random) -> None:
    """Half of each round's seats confirmed (as ``make_enrolment`` leaves them), in one insert and one
    update of the seat counters."""
    now = timezone.now()
    Enrolment.unscoped_objects.bulk_create(
        [
            Enrolment(
                programme_id=round_.course.programme_id,  # what save() derives, and bulk_create does not
                round=round_,
                person=person,
                organisation_id=person.organisation_id,
                status=Enrolment.Status.CONFIRMED,
                requested_at=now,
                confirmed_at=now,
            )
            for round_ in rounds
            for person in rng.sample(candidates, round_.capacity // 2)
        ]
    )
    for round_id, taken in (
        Enrolment.unscoped_objects.filter(round__in=rounds, status__in=Enrolment.SEAT_HOLDING)
        .values_list("round")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        Round.unscoped_objects.filter(pk=round_id).update(seats_taken=taken)


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
    units = {
        organisation.pk: [
            UnitFactory(organisation=organisation, name=f"{organisation.short_name} enhet {n}")
            for n in (1, 2)
        ]
        for organisation in organisations
    }
    # The coordinator and the line managers first: the staff name their manager.
    leaders = create_members(
        programme,
        [Member("samordnare", organisations[1], roles=(PlatformRole.COORDINATOR,))]
        + [
            Member(
                f"chef.{organisation.short_name.lower()}.{n}",
                organisation,
                roles=(PlatformRole.STAFF, PlatformRole.LINE_MANAGER),
                unit=unit,
            )
            for organisation in organisations
            for n, unit in enumerate(units[organisation.pk], 1)
        ],
        rng,
    )
    coordinator, managers = leaders[0], leaders[1:]
    manager_of_unit = {manager.unit_id: manager for manager in managers}
    counts = [max(4, round(people * share)) for share in STAFF_SHARE]
    staff_members = []
    for organisation, count in zip(organisations, counts, strict=True):
        for n in range(count):
            unit = units[organisation.pk][n % 2]
            staff_members.append(
                Member(
                    f"{organisation.short_name.lower()}.{n}",
                    organisation,
                    unit=unit,
                    line_manager=manager_of_unit[unit.pk],
                    work_role=rng.choice(roles),
                )
            )
    hosts = [rng.choices(organisations, weights=STAFF_SHARE)[0] for _ in range(30)]
    created = create_members(
        programme,
        staff_members + [Member(f"vard.{n}", organisation) for n, organisation in enumerate(hosts)],
        rng,
    )
    staff, contacts = created[: len(staff_members)], created[len(staff_members) :]

    topics = [
        TopicFactory(programme=programme, name=name) for name in ("Asyl", "Etablering", "Hälsa", "Skola")
    ]
    today = timezone.localdate()
    start = today + timedelta(days=7 - today.weekday())  # next Monday
    workplaces: list[Workplace] = []
    slots: list[Slot] = []
    for number, (organisation, contact) in enumerate(zip(hosts, contacts, strict=True)):
        workplace = WorkplaceFactory(
            programme=programme,
            organisation=organisation,
            contact=contact,
            name=f"{organisation.short_name} mottagning {number + 1}",
            topics=rng.sample(topics, 2),
        )
        workplaces.append(workplace)
        weekdays = tuple(sorted(rng.sample(range(5), 3)))
        slots.extend(
            Slot(
                workplace=workplace,
                date=day,
                starts_at=time(9, 0),
                ends_at=time(15, 0),
                capacity=rng.choice((1, 1, 2, 3)),
            )
            for day in _weekdays(start, 8, weekdays)
        )
    Slot.unscoped_objects.bulk_create(slots)

    rounds: list[Round] = []
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
            rounds.append(round_)
    # Some rounds already half full, as a catalogue is some weeks after it opened.
    fill_rounds(rounds[::3], staff[people // 2 :], rng)

    groups: list[dict[str, Any]] = []
    for number, name in enumerate(FOCUS_GROUPS):
        group = FocusGroupFactory(programme=programme, code=f"fokus-{number + 1}", name=name)
        members = staff[number :: len(FOCUS_GROUPS)][:15]
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

    credentials = sign_in([coordinator, *staff, *managers])

    def describe(person: Person) -> dict[str, Any]:
        token, session = credentials[person.pk]
        return {
            "id": person.pk,
            "organisation": person.organisation_id,
            "token": token,
            "session": session,
            "calendar": person.calendar_token,
        }

    return {
        "programme": programme.pk,
        "coordinator": describe(coordinator),
        "staff": [describe(person) for person in staff],
        "managers": [describe(manager) for manager in managers],
        "workplaces": [{"id": w.pk, "organisation": w.organisation_id} for w in workplaces],
        "rounds": [round_.pk for round_ in rounds],
        "round_courses": {str(round_.pk): round_.course_id for round_ in rounds},
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
