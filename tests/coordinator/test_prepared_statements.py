"""On PostgreSQL the parameters travel apart from the SQL (server-side binding), so a connection prepares a
query it runs often and afterwards only executes it; the setting comes from the environment and fails loudly.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from organisations.models import Programme
from tests.coordinator.test_settings import PRODUCTION, ROOT, _clean_environment

POSTGRES = {**PRODUCTION, "DATABASE_URL": "postgres://samverkan@localhost:5432/samverkan"}
PRINT_OPTIONS = (
    "import json; from django.conf import settings; "
    "options = settings.DATABASES['default'].get('OPTIONS', {}); "
    "print(json.dumps({k: options[k] for k in ('server_side_binding', 'prepare_threshold') if k in options}))"
)


def _database_options(**extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PRINT_OPTIONS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=_clean_environment(**extra),
    )


@pytest.mark.parametrize(
    ("extra", "options"),
    [
        ({}, {"server_side_binding": True, "prepare_threshold": 5}),
        ({"DB_PREPARE_THRESHOLD": "0"}, {"server_side_binding": True, "prepare_threshold": 0}),
        ({"DB_PREPARE_THRESHOLD": "20"}, {"server_side_binding": True, "prepare_threshold": 20}),
        ({"DB_SERVER_SIDE_BINDING": "0"}, {}),
        ({"DB_SERVER_SIDE_BINDING": "0", "DB_PREPARE_THRESHOLD": "5"}, {}),
    ],
)
def test_postgres_binds_on_the_server_and_prepares_unless_switched_off(extra, options):
    result = _database_options(**POSTGRES, **extra)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == options


def test_sqlite_has_no_server_side_binding():
    result = _database_options(**PRODUCTION, DB_SERVER_SIDE_BINDING="1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"DB_PREPARE_THRESHOLD": "-1"}, "DB_PREPARE_THRESHOLD=-1 is below the minimum of 0."),
        ({"DB_PREPARE_THRESHOLD": "often"}, "DB_PREPARE_THRESHOLD='often' is not a whole number."),
        ({"DB_SERVER_SIDE_BINDING": "maybe"}, "DB_SERVER_SIDE_BINDING='maybe' is not a boolean"),
    ],
)
def test_prepared_statement_settings_fail_loudly(extra, message):
    result = _database_options(**POSTGRES, **extra)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.django_db
def test_postgres_test_run_prepares_a_query_run_often(postgres_only, programme, in_programme):
    """The suite runs on PostgreSQL with the production value: the sixth run of the same SQL on a
    connection executes a statement the server holds prepared, with its parameter bound as $1."""
    assert settings.DATABASES["default"]["OPTIONS"]["server_side_binding"] is True
    assert settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"] == 5
    with in_programme(programme):
        names = Programme.objects.filter(pk=programme.pk).values_list("name", flat=True)
        sql, params = names.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        before = [row[0] for row in cursor.fetchall()]

        with in_programme(programme):
            results = [list(names.all()) for _ in range(6)]

        cursor.execute("SELECT statement FROM pg_prepared_statements")
        after = [row[0] for row in cursor.fetchall()]
    assert results == [[programme.name]] * 6
    assert programme.pk in params
    numbers = iter(range(1, len(params) + 1))
    prepared = re.sub("%s", lambda _: f"${next(numbers)}", sql)
    assert prepared not in before
    assert after.count(prepared) == 1


@pytest.fixture
def widened_table(postgres_only):
    """A table of its own, and a function that widens its text column from another connection (as a
    migration run by another process does) while this connection holds a statement that reads it."""
    import psycopg

    params = connection.get_connection_params()
    other = psycopg.connect(
        **{key: value for key, value in params.items() if key not in ("cursor_factory", "context")},
        autocommit=True,
    )
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE test_replanned (id integer PRIMARY KEY, label varchar(10))")
        cursor.execute("INSERT INTO test_replanned VALUES (1, 'first')")
    try:
        yield lambda: other.execute("ALTER TABLE test_replanned ALTER COLUMN label TYPE varchar(20)")
    finally:
        other.execute("DROP TABLE test_replanned")
        other.close()


def _label_read_seven_times(widen):
    with connection.cursor() as cursor:
        for _ in range(6):  # prepared at the sixth run
            cursor.execute("SELECT label FROM test_replanned WHERE id = %s", [1])
            assert cursor.fetchall() == [("first",)]
        widen()
        cursor.execute("SELECT label FROM test_replanned WHERE id = %s", [1])
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_prepared_read_survives_a_column_widened_by_another_connection(widened_table):
    assert _label_read_seven_times(widened_table) == [("first",)]
    with connection.cursor() as cursor:  # and stays readable, prepared afresh
        for _ in range(7):
            cursor.execute("SELECT label FROM test_replanned WHERE id = %s", [1])
            assert cursor.fetchall() == [("first",)]


@pytest.mark.django_db(transaction=True)
def test_prepared_read_fails_on_a_widened_column_without_the_wrapper(widened_table):
    """The control: the error is real, and without the wrapper it stays on the connection."""
    from django.db import NotSupportedError

    from coordinator.core.statements import replan_after_schema_change

    connection.ensure_connection()
    connection.execute_wrappers.remove(replan_after_schema_change)
    try:
        with pytest.raises(NotSupportedError, match="cached plan must not change result type"):
            _label_read_seven_times(widened_table)
        with pytest.raises(NotSupportedError, match="cached plan must not change result type"):
            with connection.cursor() as cursor:
                cursor.execute("SELECT label FROM test_replanned WHERE id = %s", [1])
    finally:
        connection.execute_wrappers.insert(0, replan_after_schema_change)
