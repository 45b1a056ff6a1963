"""Benchmarks of the seminars app, run by hand; each figure comes with a baseline measured in the same run.

  .ci/with-postgres .venv/bin/python bench/seminars.py          # both parts (enrolment needs PostgreSQL)
  .venv/bin/python bench/seminars.py --only feed                # the feed part alone, on SQLite

1. Feed: a person's calendar feed with 1,000 confirmed course sessions, fetched through the real
   ``/calendar/<token>.ics`` view (token lookup, every registered provider, ``build_calendar``), against
   two baselines in the same run: the trivial ``/healthz`` view, and ``build_calendar`` of the same
   1,000 events already in memory (no database, no provider).
2. Enrolment: 50 client threads, each with its own PostgreSQL connection, enrol 1,000 people on a round of
   300 seats through ``seminars.services.enrolments.enrolment_create`` (round row lock, invites,
   notifications). The baseline is a naive read-check-insert without lock or counter. Reports attempts/s,
   confirmed, waiting, errors and overbooked seats (which must be 0 for the service).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from coordinator.core.calendar import build_calendar  # noqa: E402
from coordinator.core.tenancy import programme_scope, unscoped  # noqa: E402
from organisations.models import Membership, Person, PlatformRole, RoleAssignment  # noqa: E402
from organisations.permissions import actor_for  # noqa: E402
from seminars import invites  # noqa: E402
from seminars.models import Enrolment, InviteSequence, Round, Session  # noqa: E402
from seminars.services import enrolments  # noqa: E402
from seminars.services._seats import seat_lock_disabled  # noqa: E402
from tests.factories import OrganisationFactory, ProgrammeFactory, UserFactory  # noqa: E402
from tests.factories.seminars import CourseFactory, RoundFactory  # noqa: E402

CLIENTS = 50
PEOPLE = 1000
SEATS = 300
FEED_EVENTS = 1000
REPEAT = 15


def _median_ms(run: Callable[[], Any], repeat: int) -> float:
    run()  # warm caches (templates, VTIMEZONE) before measuring
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _people(programme: Any, organisations: list[Any], count: int) -> list[Person]:
    users = [UserFactory.build(username=f"bench{programme.pk}-{i}") for i in range(count)]
    for user in users:
        user.save()
    people = [
        Person(user=user, organisation=organisations[i % len(organisations)]) for i, user in enumerate(users)
    ]
    for person in people:
        person.renew_calendar_address()  # bulk_create skips save(), which gives a new person their address
    people = Person.unscoped_objects.bulk_create(people)
    memberships = Membership.unscoped_objects.bulk_create(
        [Membership(programme=programme, person=person) for person in people]
    )
    RoleAssignment.unscoped_objects.bulk_create(
        [RoleAssignment(membership=m, role=PlatformRole.STAFF) for m in memberships]
    )
    return list(
        Person.unscoped_objects.filter(pk__in=[p.pk for p in people]).select_related("user", "organisation")
    )


def bench_feed() -> None:
    programme = ProgrammeFactory(slug="bench-feed")
    organisation = OrganisationFactory(programmes=[programme])
    [person] = _people(programme, [organisation], 1)
    course = CourseFactory(programme=programme, providers=[organisation])
    start = timezone.now().replace(hour=7, minute=0, second=0, microsecond=0) + timedelta(days=1)
    sessions = []
    for r in range(FEED_EVENTS // 4):
        round_ = RoundFactory(course=course, label=f"Omgång {r}", capacity=30)
        for day in range(4):
            begins = start + timedelta(days=r * 7 + day)
            sessions.append(
                Session(
                    round=round_,
                    programme=programme,
                    title=f"Dag {day + 1}",
                    starts_at=begins,
                    ends_at=begins + timedelta(hours=7),
                    place="Fredsgatan 3, Malmö",
                )
            )
        Enrolment.unscoped_objects.create(
            round=round_,
            person=person,
            organisation=organisation,
            status=Enrolment.Status.CONFIRMED,
            confirmed_at=timezone.now(),
        )
    Session.unscoped_objects.bulk_create(sessions)
    InviteSequence.unscoped_objects.bulk_create(
        [
            InviteSequence(
                person=person,
                session=s,
                programme=programme,
                sequence=1,
                last_method="REQUEST",
                last_sent_at=timezone.now(),
            )
            for s in sessions[::3]
        ]
    )
    client = Client()
    feed_url = f"/calendar/{person.calendar_token}.ics"
    response = client.get(feed_url)
    assert response.status_code == 200 and response.content.count(b"BEGIN:VEVENT") == FEED_EVENTS
    with programme_scope([programme.pk]):
        events = invites.feed_events(person)

    # The machine is shared and noisy: the real view and the in-memory baseline are measured in turns, so
    # that both see the same load, and the overhead is the median of the paired differences.
    client.get(feed_url)
    build_calendar(events, time_zone="Europe/Stockholm", name="Bench")
    feed_ms, builder_ms, overhead_ms = [], [], []
    for _ in range(REPEAT):
        cache.clear()  # cold: the feed is built (the view caches it under its content's fingerprint)
        started = time.perf_counter()
        client.get(feed_url)
        feed = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        build_calendar(events, time_zone="Europe/Stockholm", name="Bench")
        builder = (time.perf_counter() - started) * 1000
        feed_ms.append(feed)
        builder_ms.append(builder)
        overhead_ms.append(feed - builder)
    trivial = _median_ms(lambda: client.get("/healthz"), repeat=50)
    warm = _median_ms(lambda: client.get(feed_url), repeat=REPEAT)
    etag = client.get(feed_url)["ETag"]
    not_modified = _median_ms(lambda: client.get(feed_url, HTTP_IF_NONE_MATCH=etag), repeat=REPEAT)
    size = len(response.content)
    print(
        f"\n1. Feed of {FEED_EVENTS} course sessions ({size / 1024:.0f} KiB), "
        f"median of {REPEAT} paired runs ({connection.vendor})"
    )
    print(f"   {'GET /calendar/<token>.ics, cold (built)':45} {statistics.median(feed_ms):8.1f} ms")
    print(f"   {'GET /calendar/<token>.ics, unchanged (cached)':45} {warm:8.1f} ms")
    print(f"   {'the same with If-None-Match (304)':45} {not_modified:8.1f} ms")
    print(f"   {'baseline: build_calendar, events in memory':45} {statistics.median(builder_ms):8.1f} ms")
    print(f"   {'baseline: GET /healthz (trivial view)':45} {trivial:8.1f} ms")
    print(
        f"   the view's own work (token, scope, provider queries, HTTP): median "
        f"{statistics.median(overhead_ms):.1f} ms per request on top of building the calendar"
    )


def _naive_enrol(round_id: int, person: Person) -> str:
    """Baseline: read how many hold a seat, then insert; no lock, no counter, no CHECK."""
    with transaction.atomic():
        round_ = Round.unscoped_objects.get(pk=round_id)
        taken = Enrolment.unscoped_objects.filter(
            round_id=round_id, status=Enrolment.Status.CONFIRMED
        ).count()
        status = Enrolment.Status.CONFIRMED if taken < round_.capacity else Enrolment.Status.WAITING
        Enrolment.unscoped_objects.create(
            round=round_, person=person, organisation_id=person.organisation_id, status=status
        )
    return status


def _run_clients(name: str, enrol: Callable[[Person], str], people: list[Person], round_: Round) -> None:
    chunks = [people[i::CLIENTS] for i in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS + 1)
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    guard = threading.Lock()

    def client(chunk: list[Person]) -> None:
        try:
            barrier.wait()
            for person in chunk:
                try:
                    status = enrol(person)
                    with guard:
                        statuses[status] += 1
                except Exception as exc:  # counted and reported
                    with guard:
                        errors[type(exc).__name__] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    holding = Enrolment.unscoped_objects.filter(round=round_, status__in=Enrolment.SEAT_HOLDING).count()
    print(
        f"   {name:34} {len(people) / elapsed:8.0f} {statuses[Enrolment.Status.CONFIRMED]:10} "
        f"{statuses[Enrolment.Status.WAITING]:8} {sum(errors.values()):7} "
        f"{max(0, holding - round_.capacity):11}"
        + (f"   ({', '.join(f'{k}: {v}' for k, v in errors.items())})" if errors else "")
    )


def bench_enrolment() -> None:
    if connection.vendor != "postgresql":
        print("\n2. Enrolment under concurrency: skipped, needs PostgreSQL (run under .ci/with-postgres)")
        return
    programme = ProgrammeFactory(slug="bench-seats")
    organisations = [OrganisationFactory(programmes=[programme]) for _ in range(3)]
    people = _people(programme, organisations, PEOPLE)
    actors = {p.pk: actor_for(p.user) for p in people}
    print(f"\n2. Enrolment: {CLIENTS} clients, own connections, {PEOPLE} people, {SEATS} seats (PostgreSQL)")
    print(
        f"   {'variant':34} {'attempts/s':>8} {'confirmed':>10} {'waiting':>8} {'errors':>7} "
        f"{'overbooked':>11}"
    )

    def new_round(label: str) -> Round:
        course = CourseFactory(programme=programme, providers=organisations[:1], title=f"Bench {label}")
        round_ = RoundFactory(course=course, capacity=SEATS, label=label)
        begins = timezone.now() + timedelta(days=30)
        Session.unscoped_objects.create(
            round=round_, starts_at=begins, ends_at=begins + timedelta(hours=7), place="Fredsgatan 3"
        )
        Round.unscoped_objects.filter(pk=round_.pk).update(
            starts_at=begins, ends_at=begins + timedelta(hours=7)
        )
        return Round.unscoped_objects.select_related("course__programme").get(pk=round_.pk)

    def via_service(round_: Round) -> Callable[[Person], str]:
        def enrol(person: Person) -> str:
            with programme_scope([programme.pk]):
                return enrolments.enrolment_create(
                    actor=actors[person.pk], round=round_, person=person
                ).status

        return enrol

    locked = new_round("locked")
    _run_clients("service (round row lock + CHECK)", via_service(locked), people, locked)
    naive = new_round("naive")
    _run_clients("baseline: naive read-check-insert", lambda p: _naive_enrol(naive.pk, p), people, naive)
    unlocked = new_round("unlocked")
    with seat_lock_disabled():
        _run_clients("service with the lock switched off", via_service(unlocked), people, unlocked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["feed", "enrolment"])
    options = parser.parse_args()
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        with unscoped():  # benchmark set-up spans its own throwaway programmes
            if options.only in (None, "feed"):
                bench_feed()
            if options.only in (None, "enrolment"):
                bench_enrolment()
    finally:
        connection.close()
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
