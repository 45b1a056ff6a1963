"""Report and barometer pages on a programme of realistic size, each against a trivial page in the same run.

  .venv/bin/python bench/outcomes.py                     # SQLite
  .ci/with-postgres .venv/bin/python bench/outcomes.py   # PostgreSQL

Generates, in a throwaway test database: 10,000 people in six agencies (one with 40 % of the staff), with
roles at work; 20 courses with 200 rounds and their costs, 50,000 enrolments and 30,000 completions; 40
workplaces (a few very popular) with 20,000 visit placements of one to three days over the year; six focus
groups; 5,000 answered follow-ups (and expectations); and six targets (two per kind of measure). Then
renders each page (median of ``--repeat`` runs, after one warm-up) with the real views and middleware
through Django's test client, signed in as a programme admin, and ``/healthz`` as the baseline.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from focusgroups.models import FocusGroup, GroupMembership  # noqa: E402
from organisations.models import (  # noqa: E402
    Expectation,
    FollowUp,
    Membership,
    Person,
    PlatformRole,
    RoleAssignment,
    Target,
    WorkRole,
)
from seminars.models import Completion, Course, Enrolment, Round, RoundCost  # noqa: E402
from shadowing.models import Placement, PlacementDay, ShadowingRequest, Slot, Workplace  # noqa: E402
from tests.factories import OrganisationFactory, ProgrammeFactory, UserFactory  # noqa: E402

ZONE = ZoneInfo("Europe/Stockholm")
SHARES = (0.40, 0.18, 0.14, 0.12, 0.10, 0.06)  # one dominant agency


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def build(people_count: int, enrolments: int, placements: int, answers: int) -> tuple[Person, str]:
    rng = random.Random(19)
    today = timezone.localdate()
    year_start = date(today.year, 1, 1)
    programme = ProgrammeFactory(slug="bench-outcomes", country="")
    orgs = [
        OrganisationFactory(name=f"Myndighet {i}", short_name=f"M{i}", programmes=[programme])
        for i in range(6)
    ]
    roles = [
        WorkRole.unscoped_objects.create(programme=programme, code=f"r{i}", name=f"Roll {i}")
        for i in range(5)
    ]
    users = [UserFactory.build(username=f"o{i}", password="x") for i in range(people_count)]
    from django.contrib.auth.models import User

    User.objects.bulk_create(users, batch_size=2000)
    users = list(User.objects.filter(username__startswith="o").order_by("pk"))
    org_of = rng.choices(range(6), weights=SHARES, k=people_count)
    people = []
    for user, org in zip(users, org_of, strict=True):
        person = Person(user=user, organisation=orgs[org])
        person.renew_calendar_address()
        people.append(person)
    people = Person.unscoped_objects.bulk_create(people, batch_size=2000)
    memberships = Membership.unscoped_objects.bulk_create(
        [Membership(programme=programme, person=p, work_role=roles[i % 5]) for i, p in enumerate(people)],
        batch_size=2000,
    )
    RoleAssignment.unscoped_objects.bulk_create(
        [RoleAssignment(membership=m, role=PlatformRole.STAFF) for m in memberships], batch_size=2000
    )
    admin = people[0]
    RoleAssignment.unscoped_objects.create(membership=memberships[0], role=PlatformRole.PROGRAMME_ADMIN)

    courses = [
        Course.unscoped_objects.create(
            programme=programme, title=f"Kurs {i}", language="sv", completion_rule="attendance"
        )
        for i in range(20)
    ]
    rounds = []
    for index in range(200):
        starts = datetime.combine(year_start + timedelta(days=index * 300 // 200), dtime(8), tzinfo=ZONE)
        rounds.append(
            Round(
                course=courses[index % 20],
                label=f"Omgång {index}",
                capacity=400,
                registration_opens_at=starts - timedelta(days=60),
                registration_closes_at=starts - timedelta(days=7),
                cancellation_deadline=starts - timedelta(days=3),
                status=Round.Status.PUBLISHED,
                starts_at=starts,
                ends_at=starts + timedelta(hours=7),
            )
        )
    rounds = Round.unscoped_objects.bulk_create(rounds)
    RoundCost.unscoped_objects.bulk_create(
        [RoundCost(round=r, programme=programme, kind="venue", amount=Decimal("12500.00")) for r in rounds]
    )
    pairs = set()
    while len(pairs) < enrolments:
        pairs.add((rng.randrange(200), rng.randrange(people_count)))
    Enrolment.unscoped_objects.bulk_create(
        [
            Enrolment(
                round=rounds[r],
                programme=programme,
                person=people[p],
                organisation_id=people[p].organisation_id,
                status=Enrolment.Status.CONFIRMED,
            )
            for r, p in pairs
        ],
        batch_size=5000,
    )
    completed = {}
    for r, p in sorted(pairs):
        if len(completed) >= 30_000:
            break
        completed.setdefault((p, r % 20), r)
    Completion.unscoped_objects.bulk_create(
        [
            Completion(
                person=people[p],
                course=courses[c],
                round=rounds[r],
                method="attendance",
                completed_on=min(today, rounds[r].starts_at.date()),
            )
            for (p, c), r in completed.items()
        ],
        batch_size=5000,
    )

    workplaces = Workplace.unscoped_objects.bulk_create(
        [
            Workplace(
                programme=programme,
                organisation=orgs[i % 6],
                name=f"Arbetsplats {i}",
                street_address="Gatan 1",
                city="Malmö",
                contact=admin,
            )
            for i in range(40)
        ]
    )
    days = [
        year_start + timedelta(days=d)
        for d in range(0, 360)
        if (year_start + timedelta(days=d)).weekday() < 5
    ]
    slots = Slot.unscoped_objects.bulk_create(
        [
            Slot(workplace=w, date=d, starts_at=dtime(9), ends_at=dtime(15), capacity=3)
            for w in workplaces
            for d in days
        ],
        batch_size=5000,
    )
    slot_at = {(s.workplace_id, s.date): s for s in slots}
    popular = [1 / (rank + 1) for rank in range(40)]  # Zipf: a few very popular workplaces
    requests = []
    for _ in range(placements):
        requester = people[rng.randrange(people_count)]
        requests.append(
            ShadowingRequest(
                programme=programme,
                requester=requester,
                organisation_id=requester.organisation_id,
                learning_goals="Lära mig.",
                status=ShadowingRequest.Status.PLACED,
            )
        )
    requests = ShadowingRequest.unscoped_objects.bulk_create(requests, batch_size=5000)
    now = timezone.now()
    chosen = rng.choices(workplaces, weights=popular, k=placements)
    rows = Placement.unscoped_objects.bulk_create(
        [
            Placement(
                programme=programme,
                request=req,
                workplace=w,
                status=Placement.Status.VISITED,
                confidentiality_accepted_at=now,
            )
            for req, w in zip(requests, chosen, strict=True)
        ],
        batch_size=5000,
    )
    placement_days = []
    for placement in rows:
        first = rng.randrange(len(days) - 3)
        for offset in range(rng.choice((1, 1, 2, 3))):
            day = days[first + offset]
            slot = slot_at[(placement.workplace_id, day)]
            placement_days.append(
                PlacementDay(
                    placement=placement, slot=slot, date=day, starts_at=slot.starts_at, ends_at=slot.ends_at
                )
            )
    PlacementDay.unscoped_objects.bulk_create(placement_days, batch_size=5000)

    groups = [
        FocusGroup.unscoped_objects.create(programme=programme, code=f"g{i}", name=f"Grupp {i}")
        for i in range(6)
    ]
    GroupMembership.unscoped_objects.bulk_create(
        [
            GroupMembership(
                group=g, person=people[i * 7 + j], organisation_id=people[i * 7 + j].organisation_id
            )
            for i, g in enumerate(groups)
            for j in range(7)
        ]
    )
    follow_ups, expectations = [], []
    for index, (p, c) in enumerate(list(completed)[:answers]):
        person = people[p]
        rating = 1 + (p + c) % 5
        follow_ups.append(
            FollowUp(
                programme=programme,
                person=person,
                respondent=person,
                respondent_kind="person",
                organisation_id=person.organisation_id,
                subject_kind="seminars.course",
                subject_id=courses[c].pk,
                group_id=courses[c].pk,
                finished_on=today - timedelta(days=100),
                due_on=today,
                answered_at=now,
                used="yes",
                shared=index % 2 == 0,
                rating=rating,
                how_used=f"Svar {index}",
            )
        )
        expectations.append(
            Expectation(
                programme=programme,
                person=person,
                subject_kind="seminars.course",
                subject_id=courses[c].pk,
                rating=1 + (rating + 1) % 5,
            )
        )
    FollowUp.unscoped_objects.bulk_create(follow_ups, batch_size=5000)
    Expectation.unscoped_objects.bulk_create(expectations, batch_size=5000)
    for index in range(2):
        Target.unscoped_objects.create(
            programme=programme,
            title=f"Kurs {index} för roll {index}",
            measure="seminars.completed_course",
            subject_id=courses[index].pk,
            work_role=roles[index],
            goal=100,
            starts_on=year_start,
            deadline=date(today.year, 12, 31),
        )
        Target.unscoped_objects.create(
            programme=programme,
            title=f"Besöksdagar {index}",
            measure=("shadowing.days_hosted_and_sent", "shadowing.days_hosted")[index],
            goal=500,
            starts_on=year_start,
            deadline=date(today.year, 12, 31),
        )
        Target.unscoped_objects.create(
            programme=programme,
            title=f"Grupper {index}",
            measure="focusgroups.every_organisation",
            goal=100,
            starts_on=year_start,
            deadline=date(today.year, 12, 31),
        )
    print(
        f"data: {Person.unscoped_objects.count()} people, {Enrolment.unscoped_objects.count()} enrolments, "
        f"{Completion.unscoped_objects.count()} completions, {Placement.unscoped_objects.count()} placements "
        f"({PlacementDay.unscoped_objects.count()} days), {FollowUp.unscoped_objects.count()} follow-up "
        f"answers, {Target.unscoped_objects.count()} targets"
    )
    return admin, str(programme.pk)


PAGES = [
    ("/healthz (baseline)", "/healthz"),
    ("barometer", "/barometer/"),
    ("targets", "/organisations/targets/"),
    ("weekly status", "/organisations/status/"),
    ("weekly status, print", "/organisations/status/print/"),
    ("effect and cost", "/organisations/effect/"),
    ("API progress", "/api/v1/reports/progress/?programme={programme}"),
    ("API progress CSV", "/api/v1/reports/progress/?programme={programme}&format=csv"),
    ("API follow-ups", "/api/v1/reports/follow-ups/?programme={programme}"),
    ("API costs XLSX", "/api/v1/reports/costs/?programme={programme}&format=xlsx"),
    ("API barometer", "/api/v1/reports/barometer/?programme={programme}"),
]


def _profile(client: Client, label: str, url: str) -> None:
    """cProfile's heaviest functions of one request, and its queries, slowest first, with their times."""
    import cProfile
    import pstats

    from django.conf import settings

    profiler = cProfile.Profile()
    profiler.runcall(client.get, url)
    print(f"\n=== {label}: {url}")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(
        r"/(coordinator|organisations|shadowing|seminars|focusgroups)/", 25
    )
    stats.sort_stats("tottime").print_stats(15)
    settings.DEBUG = True
    reset_queries()
    client.get(url)
    queries = sorted(connection.queries, key=lambda q: -float(q["time"]))
    settings.DEBUG = False
    print(f"{len(queries)} queries, {sum(float(q['time']) for q in queries) * 1000:.0f} ms in the database")
    for query in queries[:12]:
        print(f"  {float(query['time']) * 1000:8.1f} ms  {query['sql'][:400]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the data set (1 = full)")
    parser.add_argument("--only", action="append", default=[], help="a page's label (repeatable)")
    parser.add_argument(
        "--profile", action="store_true", help="print cProfile's heaviest functions and the slowest queries"
    )
    parser.add_argument(
        "--keep",
        metavar="FILE",
        help="SQLite only: keep the generated database in FILE and reuse it on the next run (migrations run)",
    )
    args = parser.parse_args()
    logging.getLogger("samverkan.requests").setLevel(logging.WARNING)  # a line per request drowns the table
    setup_test_environment()
    if args.keep:
        from django.conf import settings

        settings.DATABASES["default"]["TEST"]["NAME"] = str(Path(args.keep).resolve())
    old = setup_databases(verbosity=0, interactive=False, keepdb=bool(args.keep), serialized_aliases=set())
    try:
        started = time.perf_counter()
        existing = Person.unscoped_objects.filter(user__username="o0").first() if args.keep else None
        if existing is not None:
            admin, programme = existing, str(Target.unscoped_objects.values_list("programme", flat=True)[0])
            print(f"reusing the data set in {args.keep}")
        else:
            admin, programme = build(
                int(10_000 * args.scale),
                int(50_000 * args.scale),
                int(20_000 * args.scale),
                int(5_000 * args.scale),
            )
        print(f"generated in {time.perf_counter() - started:.1f} s on {connection.vendor}")
        print(f"load average {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
        client = Client()
        client.force_login(admin.user, backend="django.contrib.auth.backends.ModelBackend")
        pages = [
            (label, url.format(programme=programme))
            for label, url in PAGES
            if not args.only or label in args.only or label.startswith("/healthz")
        ]
        print(f"{'page':28} {'median ms':>10} {'× baseline':>11} {'queries':>8}")
        baseline = None
        for label, url in pages:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            median = _median_ms(lambda url=url: client.get(url), args.repeat)
            from django.conf import settings

            settings.DEBUG = True
            reset_queries()
            client.get(url)
            queries = len(connection.queries)
            settings.DEBUG = False
            baseline = baseline or median
            print(f"{label:28} {median:10.1f} {median / baseline:11.0f} {queries:8d}")
        if args.profile:
            for label, url in pages[1:]:
                _profile(client, label, url)
        print(f"load average {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
    finally:
        if not args.keep:
            teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
