"""The shadowing match end to end through the database, run by hand (not part of `make test`)::

    .venv/bin/python bench/matching_db.py                          # SQLite, 5,000 requests
    .ci/with-postgres .venv/bin/python bench/matching_db.py        # the same on a throwaway PostgreSQL
    .venv/bin/python bench/matching_db.py --requests 1000
    .venv/bin/python bench/matching_db.py --tight                  # the tight variant

Stores the synthetic programme of `bench/matching.py` (same generator and seed: 500 workplaces, 60 days
of slots, 5,000 approved requests with windows, topics, preferences and pairs) in a throwaway test
database, then times `shadowing.services.matching_run_create` as a coordinator calls it: loading the
requests, workplaces and slots, building the options, solving (matcher and the greedy baseline it stores
for comparison) and saving the proposed placements, their days and each unplaced request's reason. The
in-memory part (build + solve) is timed separately in the same run as the baseline.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import time as clock
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402

from bench.matching import synthetic  # noqa: E402
from coordinator.core.tenancy import programme_scope  # noqa: E402
from organisations.models import Membership, Person, PlatformRole, RoleAssignment  # noqa: E402
from organisations.permissions import actor_for  # noqa: E402
from shadowing.matching.options import build_problem  # noqa: E402
from shadowing.matching.solver import greedy, solve  # noqa: E402
from shadowing.models import (  # noqa: E402
    AvailabilityWindow,
    Placement,
    PlacementDay,
    Preference,
    ShadowingRequest,
    Slot,
    Topic,
    Workplace,
)
from shadowing.services import matching_runs  # noqa: E402
from tests.factories import OrganisationFactory, ProgrammeFactory, make_member  # noqa: E402


def _store(n_requests: int, seed: int, tight: bool) -> tuple[Any, Person, dict[str, int]]:
    requests, workplaces, slots = synthetic(n_requests, n_requests // 10, tight=tight, seed=seed)
    programme = ProgrammeFactory()
    n_orgs = max([w.organisation for w in workplaces] + [r.organisation for r in requests])
    orgs = {i: OrganisationFactory(programmes=[programme]) for i in range(1, n_orgs + 1)}
    coordinator = make_member(programme, orgs[1], PlatformRole.COORDINATOR, PlatformRole.STAFF)
    n_topics = max(t for w in workplaces for t in w.topics)
    topics = {
        i: t
        for i, t in enumerate(
            Topic.unscoped_objects.bulk_create(
                [Topic(programme=programme, name=f"Topic {i}") for i in range(1, n_topics + 1)]
            ),
            start=1,
        )
    }
    # One requester per request (staff members of the requesting organisation), and host contacts.
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"bench-{i}") for i in range(len(requests))])
    people = [Person(user=u, organisation=orgs[r.organisation]) for u, r in zip(users, requests, strict=True)]
    for person in people:
        person.renew_calendar_address()  # bulk_create skips save(), which gives a new person their address
    people = Person.unscoped_objects.bulk_create(people)
    memberships = Membership.unscoped_objects.bulk_create(
        [Membership(programme=programme, person=p) for p in people]
    )
    RoleAssignment.unscoped_objects.bulk_create(
        [RoleAssignment(membership=m, role=PlatformRole.STAFF) for m in memberships]
    )
    contact_of = {r.organisation: p for r, p in zip(requests, people, strict=True)}
    contact_of.setdefault(1, coordinator)
    wp_rows = Workplace.unscoped_objects.bulk_create(
        [
            Workplace(
                programme=programme,
                organisation=orgs[w.organisation],
                name=f"Workplace {w.id}",
                street_address="Storgatan 1",
                city="Malmö",
                description="Reception and casework.",
                languages=sorted(w.languages),
                max_visitors_per_day=w.max_per_day,
                contact=contact_of.get(w.organisation, coordinator),
                is_published=True,
            )
            for w in workplaces
        ]
    )
    wp = {w.id: row for w, row in zip(workplaces, wp_rows, strict=True)}
    Workplace.topics.through.objects.bulk_create(
        [
            Workplace.topics.through(workplace_id=wp[w.id].pk, topic_id=topics[t].pk)
            for w in workplaces
            for t in w.topics
        ]
    )
    Slot.unscoped_objects.bulk_create(
        [
            Slot(
                workplace=wp[s.workplace],
                date=s.day,
                starts_at=clock(9 + 4 * (s.id % 2)),
                ends_at=clock(12 + 4 * (s.id % 2)),
                capacity=s.free,
            )
            for s in slots
        ]
    )
    req_rows = ShadowingRequest.unscoped_objects.bulk_create(
        [
            ShadowingRequest(
                programme=programme,
                requester=person,
                organisation=orgs[r.organisation],
                learning_goals="See how the other agency works.",
                days=r.days,
                consecutive=r.consecutive,
                languages=sorted(r.languages),
                status=ShadowingRequest.Status.APPROVED,
                submitted_at=r.submitted_at,
            )
            for r, person in zip(requests, people, strict=True)
        ]
    )
    row_of = {r.id: row for r, row in zip(requests, req_rows, strict=True)}
    AvailabilityWindow.unscoped_objects.bulk_create(
        [
            AvailabilityWindow(request=row_of[r.id], starts_on=a, ends_on=b)
            for r in requests
            for a, b in r.windows
        ]
    )
    Preference.unscoped_objects.bulk_create(
        [
            Preference(request=row_of[r.id], rank=rank, workplace=wp[wid])
            for r in requests
            for wid, rank in r.preferred_workplaces.items()
        ]
        + [
            Preference(request=row_of[r.id], rank=rank, organisation=orgs[org])
            for r in requests
            for org, rank in r.preferred_organisations.items()
        ]
    )
    ShadowingRequest.topics.through.objects.bulk_create(
        [
            ShadowingRequest.topics.through(shadowingrequest_id=row_of[r.id].pk, topic_id=topics[t].pk)
            for r in requests
            for t in r.topics
        ]
    )
    partnered = [row_of[r.id] for r in requests if r.partner is not None]
    for r in requests:
        if r.partner is not None:
            row_of[r.id].partner = row_of[r.partner]
    ShadowingRequest.unscoped_objects.bulk_update(partnered, ["partner"])
    counts = {
        "requests": len(requests),
        "workplaces": len(workplaces),
        "slots": len(slots),
    }
    return programme, coordinator, counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tight", action="store_true", help="the variant where demand far exceeds supply")
    args = parser.parse_args()

    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        started = time.perf_counter()
        programme, coordinator, counts = _store(args.requests, args.seed, args.tight)
        stored = time.perf_counter() - started
        vendor = connection.vendor
        print(
            f"{vendor}: stored {counts['requests']:,} approved requests{' (tight)' if args.tight else ''}, "
            f"{counts['workplaces']:,} workplaces, "
            f"{counts['slots']:,} slots in {stored:.1f} s (not timed below); "
            f"time limit {settings.SHADOWING_MATCHING_TIME_LIMIT} s"
        )
        # Baseline: the same work in memory only (no database), in this process.
        requests, workplaces, slots = synthetic(
            args.requests, args.requests // 10, tight=args.tight, seed=args.seed
        )
        t0 = time.perf_counter()
        problem = build_problem(
            requests, workplaces, slots, fairness_weight=settings.SHADOWING_FAIRNESS_WEIGHT
        )
        t1 = time.perf_counter()
        solution = solve(problem, time_limit=float(settings.SHADOWING_MATCHING_TIME_LIMIT))
        t2 = time.perf_counter()
        baseline = greedy(problem)
        t3 = time.perf_counter()
        print(
            f"  in memory: build {t1 - t0:.2f} s + solve {t2 - t1:.2f} s + greedy {t3 - t2:.2f} s "
            f"= {t3 - t0:.2f} s; placed {solution.placed:,} (greedy {baseline.placed:,}), "
            f"gap {solution.gap * 100:.3f} %"
        )
        actor = actor_for(coordinator.user)
        with programme_scope([programme.pk]):
            t0 = time.perf_counter()
            if os.environ.get("PROFILE"):
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                run = profiler.runcall(matching_runs.matching_run_create, actor=actor, programme=programme)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            elif os.environ.get("QUERIES"):
                from django.test.utils import CaptureQueriesContext

                with CaptureQueriesContext(connection) as queries:
                    run = matching_runs.matching_run_create(actor=actor, programme=programme)
                for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:8]:
                    print(f"  {float(q['time']):7.2f} s  {q['sql'][:300]}")
            else:
                run = matching_runs.matching_run_create(actor=actor, programme=programme)
            total = time.perf_counter() - t0
            placements = Placement.objects.filter(run=run).count()
            days = PlacementDay.objects.filter(placement__run=run).count()
        print(
            f"  matching_run_create end to end: {total:.2f} s (solver's own {run.seconds:.2f} s); "
            f"placed {run.placed:,} (greedy {run.greedy_placed:,}) of {run.requests_considered:,}, "
            f"{placements:,} proposed placements with {days:,} days stored; objective {run.objective:,.1f}, "
            f"LP bound {run.bound:,.1f}, gap {run.gap * 100:.3f} %, method {run.method}"
        )
    finally:
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
