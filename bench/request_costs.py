"""Server cost of each request type in the load test's mix (``bench/locustfile.py``): processor time and
queries per request, in-process, on PostgreSQL and Redis as in production.

    .venv/bin/python bench/request_costs.py [--repeat 40] [--rounds 3] [--only "page workplaces"]
                                            [--profile "page my page"] [--mix 3000]
                                            [--pending 50] 2>/dev/null

Starts a throwaway PostgreSQL (from the schema kept by an earlier run, as ``bench/load.py`` does) and Redis
(the cache, as production has it), seeds the load test's programme (``bench/load_seed.py``) and sends each
request of the mix through Django's test client with the production middleware and settings (DEBUG off),
as the person the load test would send it as: pages with the person's session, the API with their token,
the feed by its signed address. Each signed-in person has a cookie jar of their own that keeps the cookies
the answers set, as a browser does: the session cookie and, from the first page on, the CSRF cookie, so a
page reuses the person's CSRF secret (only masks it anew) instead of minting one and setting the cookie
again. (``bench/locustfile.py`` sends the session cookie alone, without a jar: each of its pages mints a
CSRF secret and sets the cookie.) The API's requests carry the token alone, as an integration sends it. Writes
(enrol, ask to shadow, approve) are made by a different person or on a different request each time, as
under load, so each one really writes.

Per request type: the queries of one request, then the processor time of this process per request (the best
of ``--rounds`` rounds of ``--repeat`` requests: on a machine shared with other work that figure moves
least) and the wall time per request (with PostgreSQL's share in it), ``/api/v1/ping/`` as the baseline.
The websocket edit is served by uvicorn and measured by ``bench/load.py`` and ``bench/crdt_notes.py``.
``--profile NAME`` prints cProfile's heaviest functions for that request type. The request log (one JSON
line a request, on stderr, as in production) is part of the cost; send stderr elsewhere.

``--mix N`` then sends N requests in the load test's weighted random order (``bench/locustfile.py``: staff and
managers in their user weights, each request type in its task weight, ping and the websocket left out), each
as the person Locust would send it as, the writes really writing (a manager's approval is Locust's: the
requests waiting for them read first, the oldest approved). Per request type: how many, the mean processor
time and queries, and how often the caches were met or built: kept API answers (``coordinator.core.answers``:
hit / missed / not kept), pages' content entries (``coordinator.core.content.cached``, and my page's history:
``coordinator.core.personal.kept``: hit / built), compiled list shapes (``coordinator.core.shapes``: hit /
missed) and prepared queries compiled (``coordinator.core.prepared``). Then the mean per mix request, weighted
by the mix's own counts, next to the same mean of the isolated figures of this run: the difference is what the
mix's writes cost the reads (caches dropped, entries built again). ``--mix-only``
skips the isolated rounds but for one warm request of each type. With ``--mix``, ``--profile NAME`` profiles
that type's requests in the mix as well, those served from kept entries and those that built (or filled) one
apart.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import itertools
import os
import pstats
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coordinator.production import Postgres, collect_static, start_redis  # noqa: E402

Request = tuple[str, str, dict[str, Any]]  # method, path, the client's keyword arguments
# The keyword argument holding the signed-in person's cookie jar (their browser's), if the request has one.
JAR = "cookie_jar"


def _call(client: Any, request: Request) -> Any:
    """Sends ``request`` with the client, with the person's cookie jar if it names one (the client sends
    the jar's cookies and keeps in it those the answer sets); without, with an empty jar."""
    from http.cookies import SimpleCookie

    method, path, kwargs = request
    kwargs = dict(kwargs)
    client.cookies = kwargs.pop(JAR, None) or SimpleCookie()
    return getattr(client, method)(path, **kwargs)


def _setup(folder: Path) -> tuple[Postgres, Any]:
    postgres = Postgres(folder / "postgres")
    postgres.init()
    restored = postgres.restore_schema()
    redis_url, redis = start_redis(folder)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="coordinator.settings",
        DATABASE_URL=postgres.url,
        REDIS_URL=redis_url,
        DEBUG="0",
        SECRET_KEY="bench-secret-key-" + os.urandom(24).hex(),
        ALLOWED_HOSTS="testserver",
        VAR_DIR=str(folder / "var"),
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        LOG_LEVEL="WARNING",
        API_THROTTLE_USER="1000000/minute",
        API_THROTTLE_PING="1000000/minute",
        # Shared with bench/load.py and make serve-prod: collected again only when a static source changed.
        STATIC_ROOT=str(ROOT / "var" / "static"),
    )
    collect_static(dict(os.environ))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    if not restored:
        postgres.save_schema()
    return postgres, redis


def _token(person: dict[str, Any]) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Token {person['token']}", "HTTP_ACCEPT_LANGUAGE": "sv"}


def _visit(seed: dict[str, Any], rng: random.Random, person: dict[str, Any]) -> Request:
    """A visit request by `person` for one day at two workplaces of other organisations, as the load test
    files one."""
    since, until = seed["window"]
    elsewhere = [w for w in seed["workplaces"] if w["organisation"] != person["organisation"]]
    body = {
        "programme": seed["programme"],
        "learning_goals": "Förstå hur de andra myndigheterna arbetar med nyanlända.",
        "days": 1,
        "windows": [{"starts_on": since, "ends_on": until}],
        "preferences": [{"rank": n, "workplace": w["id"]} for n, w in enumerate(rng.sample(elsewhere, 2), 1)],
    }
    return (
        "post",
        "/api/v1/shadowing/requests/",
        {"data": body, "content_type": "application/json", **_token(person)},
    )


def _requests(seed: dict[str, Any], client: Any) -> dict[str, Callable[[], Request]]:
    """Each request type of the mix, as a function giving the next request of that type (an approval first
    files, untimed, the visit request it approves)."""
    from coordinator.core.tenancy import unscoped
    from organisations.models import Person

    rng = random.Random(15)  # noqa: S311 (load, not security)
    staff = seed["staff"]
    managers = seed["managers"]
    since, until = seed["window"]
    by_id = {manager["id"]: manager for manager in managers}
    with unscoped():
        line_manager = dict(
            Person.unscoped_objects.filter(pk__in=[p["id"] for p in staff]).values_list(
                "pk", "line_manager_id"
            )
        )
    managed: Iterator[dict[str, Any]] = itertools.cycle([p for p in staff if line_manager[p["id"]] in by_id])

    from http.cookies import SimpleCookie

    from django.conf import settings

    jars: dict[int, SimpleCookie] = {}

    def session(person: dict[str, Any]) -> dict[str, Any]:
        """The person's browser's cookie jar: their session cookie, and what the answers set (the CSRF
        cookie) kept."""
        jar = jars.get(person["id"])
        if jar is None:
            jar = jars[person["id"]] = SimpleCookie()
            jar[settings.SESSION_COOKIE_NAME] = person["session"]
        return {JAR: jar, "HTTP_ACCEPT_LANGUAGE": "sv"}

    people: Iterator[dict[str, Any]] = itertools.cycle(staff)
    # A calendar asks for the same person's feed again and again: ten people in turn, each seen before.
    subscribers: Iterator[dict[str, Any]] = itertools.cycle(staff[:10])
    # Enrolments: each person once per course, people in turn, rounds in turn.
    # The second round of each course (the seed half fills some first rounds, by the later half of the staff).
    enrolments: Iterator[tuple[dict[str, Any], int]] = (
        (person, round_id) for person in staff[: len(staff) // 2] for round_id in seed["rounds"][1::3]
    )

    def visit(person: dict[str, Any] | None = None) -> Request:
        return _visit(seed, rng, person or next(people))

    def enrol() -> Request:
        person, round_id = next(enrolments)
        body = {"round": round_id}
        return (
            "post",
            "/api/v1/seminars/enrolments/",
            {"data": body, "content_type": "application/json", **_token(person)},
        )

    def approve() -> Request:
        requester = next(managed)
        method, path, kwargs = visit(requester)
        response = getattr(client, method)(path, **kwargs)
        if response.status_code != 201:
            raise RuntimeError(
                f"filing a request to approve: {response.status_code} {response.content[:300]!r}"
            )
        manager = by_id[line_manager[requester["id"]]]
        return (
            "post",
            f"/api/v1/shadowing/requests/{response.json()['id']}/approve/",
            {"data": {"note": "Godkänt."}, "content_type": "application/json", **_token(manager)},
        )

    return {
        "page course catalogue": lambda: ("get", "/seminars/", session(next(people))),
        "page workplaces": lambda: ("get", "/shadowing/", session(next(people))),
        "page my page": lambda: ("get", "/me/", session(next(people))),
        "page approvals": lambda: ("get", "/shadowing/approvals/", session(rng.choice(managers))),
        "api slots (free)": lambda: (
            "get",
            "/api/v1/shadowing/slots/",
            {"data": {"free": "true", "date_from": since, "date_to": until}, **_token(next(people))},
        ),
        "api courses": lambda: ("get", "/api/v1/seminars/courses/", _token(next(people))),
        "api rounds": lambda: ("get", "/api/v1/seminars/rounds/", _token(next(people))),
        "api enrolments (mine)": lambda: ("get", "/api/v1/seminars/enrolments/", _token(next(people))),
        "api requests (to decide)": lambda: (
            "get",
            "/api/v1/shadowing/requests/",
            {
                "data": {"status": "pending_approval", "ordering": "submitted_at"},
                **_token(rng.choice(managers)),
            },
        ),
        "feed calendar": lambda: ("get", f"/calendar/{next(people)['calendar']}.ics", {}),
        "feed calendar (again)": lambda: ("get", f"/calendar/{next(subscribers)['calendar']}.ics", {}),
        "api enrol (write)": enrol,
        "api request a visit (write)": visit,
        "api approve a request (write, managers)": approve,
        "ping (baseline)": lambda: ("get", "/api/v1/ping/", _token(staff[-1])),
        # The fixed cost of each kind of credential, on the same trivial view: the baseline is the token's.
        "ping (session)": lambda: ("get", "/api/v1/ping/", session(next(people))),
        "ping (no credentials, 401)": lambda: ("get", "/api/v1/ping/", {"HTTP_ACCEPT_LANGUAGE": "sv"}),
    }


EXPECTED = {"ping (no credentials, 401)": (401,)}


def _file_pending(seed: dict[str, Any], client: Any, per_manager: int) -> None:
    """``per_manager`` visit requests waiting for each line manager, filed by their staff in turn through
    the API (as the load test files them)."""
    from coordinator.core.tenancy import unscoped
    from organisations.models import Person

    by_id = {person["id"]: person for person in seed["staff"]}
    with unscoped():
        reports = Person.unscoped_objects.filter(pk__in=by_id, line_manager__isnull=False).values_list(
            "line_manager_id", "pk"
        )
    staff_of: dict[int, list[dict[str, Any]]] = {}
    for manager_id, pk in reports:
        staff_of.setdefault(manager_id, []).append(by_id[pk])
    rng = random.Random(16)  # noqa: S311 (load, not security)
    for manager in seed["managers"]:
        people = itertools.cycle(staff_of.get(manager["id"], []))
        for _ in range(per_manager if manager["id"] in staff_of else 0):
            _send(client, _visit(seed, rng, next(people)))
    print(f"{per_manager} requests wait for each of the {len(staff_of)} line managers with staff")


def _send(client: Any, request: Request, expected: tuple[int, ...] = (200, 201)) -> None:
    method, path, _kwargs = request
    response = _call(client, request)
    if response.status_code not in expected:
        raise RuntimeError(f"{method.upper()} {path}: {response.status_code} {response.content[:300]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=240)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3, help="rounds for the best processor time")
    parser.add_argument(
        "--profile", action="append", default=[], help="a request type to profile (repeatable)"
    )
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sql", action="store_true", help="print each query of one request, with its time")
    parser.add_argument("--callees", action="append", default=[], help="with --profile: what it called")
    parser.add_argument(
        "--only", action="append", default=[], help="measure only this request type (repeatable)"
    )
    parser.add_argument("--mix", type=int, default=0, help="then N requests in the load test's mix")
    parser.add_argument("--mix-only", action="store_true", help="with --mix: no isolated rounds")
    parser.add_argument("--mix-seed", type=int, default=15, help="the mix's random order")
    parser.add_argument(
        "--pending",
        type=int,
        default=0,
        help="requests waiting for each line manager's decision before measuring (as a long load test)",
    )
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="samverkan-costs-"))
    folder.chmod(0o755)
    postgres, redis = _setup(folder)
    try:
        _measure(options)
    finally:
        from django.db import connections

        connections.close_all()
        redis.terminate()
        redis.wait(timeout=10)
        postgres.stop("immediate")


def _measure(options: argparse.Namespace) -> None:
    from django.db import connection, transaction
    from django.test import Client

    sys.path.insert(0, str(ROOT / "bench"))
    import load_seed

    from coordinator.core.tenancy import unscoped

    with unscoped(), transaction.atomic():
        seed = load_seed.seed(options.people)
    client = Client()
    kinds = _requests(seed, client)
    if options.pending:
        _file_pending(seed, client, options.pending)
    # As in production (coordinator/wsgi.py): what lives as long as the process is moved out of the
    # collector's reach, so that a full collection does not walk it again on whichever request it lands.
    gc.collect()
    gc.freeze()
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f};"
        f" best of {options.rounds} × {options.repeat}"
    )
    print(f"| {'request type':<30} | queries | cpu ms | wall ms | cpu × ping |")
    print(f"| {'-' * 30} | ---: | ---: | ---: | ---: |")
    results: dict[str, tuple[int, float, float]] = {}
    statements: set[str] = set()  # the SQL texts of one request of each type: the mix's working set
    for name, make in kinds.items():
        if options.only and name not in options.only and name != "ping (baseline)":
            continue
        expected = EXPECTED.get(name, (200, 201))
        _send(client, make(), expected)  # warm: templates, caches, the pool's connection
        executed: list[tuple[str, float]] = []

        def timed(execute: Any, sql: str, *rest: Any, executed: list[tuple[str, float]] = executed) -> Any:
            started = time.perf_counter()
            try:
                return execute(sql, *rest)
            finally:
                executed.append((sql, (time.perf_counter() - started) * 1000))

        request = make()  # outside the count: an approval files its request first
        with connection.execute_wrapper(timed):
            _send(client, request, expected)
        statements.update(sql for sql, _ms in executed)
        if options.sql:
            print(f"{name}:")
            for sql, ms in executed:
                print(f"  {ms:6.2f} ms  {sql[:160]}")
        cpu = float("inf")
        wall = float("inf")
        repeat = 2 if options.mix_only else options.repeat
        for _ in range(1 if options.mix_only else options.rounds):
            batch = [make() for _ in range(repeat)]
            started, started_cpu = time.perf_counter(), time.process_time()
            for request in batch:
                _send(client, request, expected)
            cpu = min(cpu, (time.process_time() - started_cpu) / repeat * 1000)
            wall = min(wall, (time.perf_counter() - started) / repeat * 1000)
        results[name] = (len(executed), cpu, wall)
    ping_cpu = results["ping (baseline)"][1]
    for name, (queries, cpu, wall) in results.items():
        print(f"| {name:<30} | {queries} | {cpu:.1f} | {wall:.1f} | {cpu / ping_cpu:.1f} |")
    if options.mix:
        _mix(options, seed, client, kinds, results)
    connection.ensure_connection()  # the pool's connection the requests used (one: they ran one at a time)
    prepared = connection.connection._prepared  # psycopg's statements of this connection
    print(
        f"{len(statements)} distinct SQL texts in one request of each type; the connection holds "
        f"{len(prepared._names)} prepared (psycopg keeps at most {prepared.prepared_max})"
    )
    for name in options.profile:
        make = kinds[name]
        batch = [make() for _ in range(options.repeat)]
        profiler = cProfile.Profile()
        profiler.enable()
        for request in batch:
            _send(client, request, EXPECTED.get(name, (200, 201)))
        profiler.disable()
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(options.top)
            print(f"\n--- cProfile of {options.repeat} × {name} ({order}) ---\n{out.getvalue()}")
        for function in options.callees:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_callees(function)
            print(f"\n--- what {function} called ---\n{out.getvalue()}")


# --- The mix --------------------------------------------------------------------------------------------

# bench/locustfile.py's weights: users (staff 14, managers 1), then each user's tasks; a manager's
# "approve the oldest" is two requests (the requests waiting for them, then the approval).
STAFF_TASKS = {
    "page course catalogue": 3,
    "page workplaces": 3,
    "api slots (free)": 3,
    "api courses": 2,
    "api rounds": 2,
    "page my page": 1,
    "api enrol (write)": 1,
    "api request a visit (write)": 1,
    "feed calendar": 1,
}
MANAGER_TASKS = {"page approvals": 1, "approve the oldest": 2}
USERS = {"staff": 14, "managers": 1}
APPROVE = "api approve a request (write, managers)"
TO_DECIDE = "api requests (to decide)"


def _instrument(counts: Counter[str]) -> None:
    """Count, in ``counts``, the caches' hits and misses as the requests meet them (the functions wrapped
    where the views reach them: as attributes of their modules)."""
    from django.db import connection

    from coordinator.core import answers, content, personal, prepared, shapes

    lookup = answers.Answer.lookup
    answer_for = answers.answer_for
    cached = content.cached
    kept = personal.kept
    shape_lookup = shapes.lookup

    def count_answer_query(execute: Any, sql: str, *rest: Any) -> Any:
        counts["answer query"] += 1  # a query while an entry is looked up: its live values read anew
        return execute(sql, *rest)

    def counted_lookup(self: Any) -> Any:
        before = counts["answer query"]
        with connection.execute_wrapper(count_answer_query):
            found = lookup(self)
        if found is None:
            counts["answer miss"] += 1
        else:
            counts["answer filled" if counts["answer query"] > before else "answer hit"] += 1
        return found

    def counted_answer_for(*args: Any) -> Any:
        answer = answer_for(*args)
        if answer is None:
            counts["answer not kept"] += 1
        return answer

    def counted_cached(page: str, programme_id: int, version: int, templates: Any, build: Any) -> Any:
        def counted_build() -> Any:
            counts["content built"] += 1
            return build()

        key = content.cache_key(page, programme_id, version, templates)
        recent = bool(version) and content.RECENT.get(key) is not None
        before = counts["content built"]
        entry = cached(page, programme_id, version, templates, counted_build)
        if counts["content built"] == before:
            counts["content hit (process)" if recent else "content hit (shared)"] += 1
        return entry

    def counted_kept(
        page: str, person_id: int, programme_id: int, stamp: int, templates: Any, build: Any
    ) -> Any:
        # A person's part (my page's history) counts in the content columns, as a page's kept entry.
        def counted_build() -> Any:
            counts["content built"] += 1
            return build()

        key = content.cache_key(f"personal:{page}:{person_id}", programme_id, stamp, templates)
        recent = bool(stamp) and personal.RECENT.get(key) is not None
        before = counts["content built"]
        entry = kept(page, person_id, programme_id, stamp, templates, counted_build)
        if counts["content built"] == before:
            counts["content hit (process)" if recent else "content hit (shared)"] += 1
        return entry

    def counted_shape(key: Any, using: str) -> Any:
        page = shape_lookup(key, using)
        counts["shape hit" if page is not None else "shape miss"] += 1
        return page

    answers.Answer.lookup = counted_lookup  # type: ignore[method-assign]
    answers.answer_for = counted_answer_for
    content.cached = counted_cached
    personal.kept = counted_kept
    shapes.lookup = counted_shape
    for kind in (prepared.PreparedQuery, prepared.PreparedRows):
        compile_ = kind._compile

        def counted_compile(self: Any, connection: Any, compile_: Any = compile_) -> Any:
            counts["prepared compiled"] += 1
            return compile_(self, connection)

        kind._compile = counted_compile  # type: ignore[method-assign,assignment]


MISSES = ("answer miss", "content built", "shape miss", "prepared compiled", "answer filled")
COLUMNS = (
    ("answer hit", "ans hit"),
    ("answer filled", "ans filled"),
    ("answer miss", "ans miss"),
    ("content hit (process)", "cnt hit"),
    ("content hit (shared)", "cnt shared"),
    ("content built", "cnt built"),
    ("shape hit", "shp hit"),
    ("shape miss", "shp miss"),
    ("prepared compiled", "prep comp"),
)


def _mix(
    options: argparse.Namespace,
    seed: dict[str, Any],
    client: Any,
    kinds: dict[str, Callable[[], Request]],
    isolated: dict[str, tuple[int, float, float]],
) -> None:
    from django.db import connection

    rng = random.Random(options.mix_seed)
    counts: Counter[str] = Counter()
    _instrument(counts)
    managers = seed["managers"]
    per_type: dict[str, Counter[str]] = defaultdict(Counter)
    cpu: dict[str, float] = defaultdict(float)
    wall: dict[str, float] = defaultdict(float)
    queries: dict[str, int] = defaultdict(int)
    outcome_cpu: dict[tuple[str, str], list[float]] = defaultdict(list)
    executed = [0]

    def count_query(execute: Any, sql: str, *rest: Any) -> Any:
        executed[0] += 1
        return execute(sql, *rest)

    profiles: dict[str, pstats.Stats] = {}

    def send(name: str, request: Request) -> Any:
        before, queries_before = counts.copy(), executed[0]
        profiler = cProfile.Profile() if name in options.profile else None
        started, started_cpu = time.perf_counter(), time.process_time()
        method, path, _kwargs = request
        if profiler is not None:
            profiler.enable()
        response = _call(client, request)
        if profiler is not None:
            profiler.disable()
        spent = (time.process_time() - started_cpu) * 1000
        wall[name] += (time.perf_counter() - started) * 1000
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{method.upper()} {path}: {response.status_code} {response.content[:300]!r}")
        cpu[name] += spent
        queries[name] += executed[0] - queries_before
        met = counts - before
        per_type[name].update(met)
        per_type[name]["requests"] += 1
        outcome = "built" if any(met[m] for m in MISSES) else "kept"
        outcome_cpu[(name, outcome)].append(spent)
        if profiler is not None:
            if f"{name} {outcome}" in profiles:
                profiles[f"{name} {outcome}"].add(profiler)
            else:
                profiles[f"{name} {outcome}"] = pstats.Stats(profiler)
        return response

    users, user_weights = list(USERS), list(USERS.values())
    tasks = {"staff": STAFF_TASKS, "managers": MANAGER_TASKS}
    sent = 0
    skipped: Counter[str] = Counter()
    with connection.execute_wrapper(count_query):
        while sent < options.mix:
            user = rng.choices(users, user_weights)[0]
            name = rng.choices(list(tasks[user]), list(tasks[user].values()))[0]
            if name == "approve the oldest":
                manager = rng.choice(managers)
                waiting = send(
                    TO_DECIDE,
                    (
                        "get",
                        "/api/v1/shadowing/requests/",
                        {
                            "data": {"status": "pending_approval", "ordering": "submitted_at"},
                            **_token(manager),
                        },
                    ),
                )
                sent += 1
                results = waiting.json()["results"]
                if not results:
                    skipped[APPROVE] += 1
                    continue
                path = f"/api/v1/shadowing/requests/{results[0]['id']}/approve/"
                body = {"data": {"note": "Godkänt."}, "content_type": "application/json"}
                send(APPROVE, ("post", path, {**body, **_token(manager)}))
                sent += 1
                continue
            try:
                request = kinds[name]()
            except StopIteration:  # every planned enrolment made
                skipped[name] += 1
                continue
            send(name, request)
            sent += 1
    total = sum(per_type[name]["requests"] for name in per_type)
    print(
        f"\nThe mix: {total} requests in the load test's order (seed {options.mix_seed}), load average "
        f"{os.getloadavg()[0]:.1f}; skipped: {dict(skipped) or 'none'}"
    )
    header = " | ".join(label for _key, label in COLUMNS)
    print(
        f"| {'request type':<40} | n | cpu ms | wall ms | queries | isolated cpu ms | {header} |"
        " cpu ms kept / built |"
    )
    print(f"| {'-' * 40} |" + " ---: |" * (5 + len(COLUMNS) + 1))
    for name in sorted(per_type, key=lambda n: -cpu[n]):
        n = per_type[name]["requests"]
        kept, built = outcome_cpu.get((name, "kept"), []), outcome_cpu.get((name, "built"), [])
        split = (
            f"{sum(kept) / len(kept) if kept else 0:.1f} ({len(kept)}) / "
            f"{sum(built) / len(built) if built else 0:.1f} ({len(built)})"
        )
        alone = f"{isolated[name][1]:.1f}" if name in isolated else "-"
        cells = " | ".join(str(per_type[name][key]) for key, _label in COLUMNS)
        print(
            f"| {name:<40} | {n} | {cpu[name] / n:.2f} | {wall[name] / n:.2f} | {queries[name] / n:.1f} |"
            f" {alone} | {cells} | {split} |"
        )
    mix_mean = sum(cpu.values()) / total
    both = [name for name in per_type if name in isolated]
    weight = sum(per_type[name]["requests"] for name in both)
    alone_mean = sum(isolated[name][1] * per_type[name]["requests"] for name in both) / weight
    in_mix = sum(cpu[name] for name in both) / weight
    print(
        f"Mean per mix request: {mix_mean:.2f} ms processor time in the mix ({in_mix:.2f} over the types"
        f" measured alone too) against {alone_mean:.2f} ms for the same requests measured alone;"
        f" {sum(queries.values()) / total:.2f} queries a request; ping alone"
        f" {isolated['ping (baseline)'][1]:.2f} ms"
    )
    share = ", ".join(
        f"{name} {cpu[name] / sum(cpu.values()) * 100:.0f} %"
        for name in sorted(per_type, key=lambda n: -cpu[n])[:5]
    )
    print(f"Largest shares of the mix's processor time: {share}")
    for label, stats in profiles.items():  # --profile NAME: that type's requests in the mix, kept and built
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats("cumulative").print_stats(options.top)
        print(f"\n--- cProfile of {label} in the mix ---\n{out.getvalue()}")


if __name__ == "__main__":
    main()
