"""What PostgreSQL spends on each API list's queries: bound on the client, bound on the server, and prepared.

    .ci/with-postgres .venv/bin/python bench/prepared_statements.py [--repeat 100] [--only PATH]

Seeds a throwaway database as ``bench/lists.py`` does (the demo programme, then ANALYZE), reads each list
once through Django's test client as the demo coordinator and keeps the SQL and parameters of every query
the list ran. Then, on one connection, each query is run ``--repeat`` times (after as many untimed runs) in
each way, and the wall time per request (every query of the list, rows fetched) is printed:

- ``client``: parameters spliced into the SQL text by psycopg (Django's default, ``ClientCursor``);
- ``server``: parameters sent apart (server-side binding), not prepared: parsed and planned every time;
- ``prep auto``: prepared once, PostgreSQL's own choice of plan (``plan_cache_mode = auto``: a generic plan
  after five custom ones when it does not cost more), as ``prepare_threshold`` gives in production;
- ``prep custom``: prepared, but planned again for each execution's values (``force_custom_plan``);
- ``prep generic``: prepared, one generic plan (``force_generic_plan``).

It also prints, for each list's slowest query, PostgreSQL's own planning and execution time (``EXPLAIN
(ANALYZE, SUMMARY)``), and the execution time of its generic plan, to show where a generic plan is worse.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lists import COUNT_QUERIES  # noqa: E402
from web import environment, manage  # noqa: E402

MEASURE = """
import json, re, time
import psycopg
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token

PATHS = json.loads(%(paths)r)
REPEAT = %(repeat)d
token = Token.objects.get_or_create(user=User.objects.get(username="johan.bergstrom"))[0].key
client = Client(HTTP_AUTHORIZATION="Token " + token, HTTP_HOST="127.0.0.1")
captured = []

def keep(execute, sql, params, many, context):
    captured.append((sql, params))
    return execute(sql, params, many, context)

connection.ensure_connection()
raw = connection.connection
results = {}
for path in PATHS:
    client.get(path)  # the list's shapes recorded, as on a warm server
    captured.clear()
    with connection.execute_wrapper(keep):
        client.get(path)
    queries = list(captured)

    def timed(cursor, prepare, mode):
        raw.execute("SET plan_cache_mode = " + mode)
        for _ in range(REPEAT):  # untimed: prepared and, in auto mode, past the five custom plans
            for sql, params in queries:
                cursor.execute(sql, params, prepare=prepare)
                cursor.fetchall()
        started = time.perf_counter()
        for _ in range(REPEAT):
            for sql, params in queries:
                cursor.execute(sql, params, prepare=prepare)
                cursor.fetchall()
        elapsed = (time.perf_counter() - started) / REPEAT * 1000
        raw.execute("DEALLOCATE ALL")
        raw._prepared.clear()
        raw.execute("SET plan_cache_mode = auto")
        return elapsed

    figures = {
        "queries": len(queries),
        "client": timed(psycopg.ClientCursor(raw), None, "auto"),
        "server": timed(psycopg.Cursor(raw), False, "auto"),
        "prep auto": timed(psycopg.Cursor(raw), True, "auto"),
        "prep custom": timed(psycopg.Cursor(raw), True, "force_custom_plan"),
        "prep generic": timed(psycopg.Cursor(raw), True, "force_generic_plan"),
    }
    # EXPLAIN of each query: planning and execution as planned for its values, and its generic plan's run.
    slowest = None
    for sql, params in queries:
        cursor = psycopg.Cursor(raw)
        cursor.execute("EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0][0]
        numbered = iter(range(1, 10_000))
        statement = re.sub(
            r"%%(s|%%)", lambda m: "$%%d" %% next(numbered) if m.group(1) == "s" else "%%", sql
        )
        generic = None
        try:  # a PREPARE without the parameters' types may not infer one (a value in the select list)
            raw.execute("PREPARE bench_statement AS " + statement)
            raw.execute("SET plan_cache_mode = force_generic_plan")
            arguments = ", ".join(["%%s"] * len(params))
            explain = "EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) EXECUTE bench_statement"
            explain += "(" + arguments + ")" if params else ""
            client_cursor = psycopg.ClientCursor(raw)
            for _ in range(2):  # the second run reads the cached generic plan
                client_cursor.execute(explain, params)
                generic = client_cursor.fetchone()[0][0]["Execution Time"]
            raw.execute("DEALLOCATE bench_statement")
        except psycopg.Error:
            pass
        raw.execute("SET plan_cache_mode = auto")
        costs = {
            "planning": plan["Planning Time"],
            "execution": plan["Execution Time"],
            "generic execution": generic,
            "sql": sql[:90],
        }
        cost = costs["planning"] + costs["execution"]
        if slowest is None or cost > slowest["planning"] + slowest["execution"]:
            slowest = costs
    figures["slowest"] = slowest
    results[path] = figures
print(json.dumps(results))
"""

COLUMNS = ("client", "server", "prep auto", "prep custom", "prep generic")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--only", action="append", default=[], help="a list path to measure (repeatable)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("PostgreSQL only: run it under .ci/with-postgres")
    var_dir = Path(tempfile.mkdtemp(prefix="samverkan-bench-prepared-"))
    env = {**environment(var_dir), "LOG_LEVEL": "ERROR"}
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--quiet")
    manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from django.db import connection; connection.cursor().execute('ANALYZE')",
    )
    found = json.loads(manage(env, "shell", "--no-imports", "-c", COUNT_QUERIES).strip().splitlines()[-1])
    paths = args.only or sorted(found["lists"])
    load_before = os.getloadavg()
    code = MEASURE % {"paths": json.dumps(paths), "repeat": args.repeat}
    results = json.loads(manage(env, "shell", "--no-imports", "-c", code).strip().splitlines()[-1])
    load_after = os.getloadavg()
    shutil.rmtree(var_dir, ignore_errors=True)
    print(
        f"{args.repeat} timed runs of each list's queries on one connection; ms per request (all its "
        f"queries); load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    print(f"{'endpoint':<36} {'q':>2} " + " ".join(f"{name:>12}" for name in COLUMNS))
    totals = dict.fromkeys(COLUMNS, 0.0)
    for path, figures in results.items():
        print(
            f"{path:<36} {figures['queries']:>2} " + " ".join(f"{figures[name]:>12.2f}" for name in COLUMNS)
        )
        for name in COLUMNS:
            totals[name] += figures[name]
    print(f"{'all lists':<36} {'':>2} " + " ".join(f"{totals[name]:>12.2f}" for name in COLUMNS))
    print()
    print(
        "Each list's slowest query (EXPLAIN ANALYZE, ms): planning, execution, execution of its generic plan"
    )
    for path, figures in results.items():
        slowest = figures["slowest"]
        generic = slowest["generic execution"]
        print(
            f"{path:<36} {slowest['planning']:>8.2f} {slowest['execution']:>8.2f} "
            f"{'-' if generic is None else f'{generic:.2f}':>8}  {slowest['sql']}"
        )


if __name__ == "__main__":
    main()
