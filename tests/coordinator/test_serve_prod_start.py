"""``make serve-prod`` starts in seconds: a throwaway PostgreSQL starts from the schema an earlier run kept,
and the static files are collected only when their sources changed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.production import (
    ROOT,
    Postgres,
    collect_static,
    parse,
    server_commands,
    static_sources_fingerprint,
)


@pytest.fixture
def folder() -> Iterator[Path]:
    # Not under pytest's own temporary folder: that one is private to root, and the server runs as nobody.
    path = Path(tempfile.mkdtemp(prefix="samverkan-test-schema-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _server(folder: Path, name: str) -> Postgres:
    server = Postgres(folder / name, cache=folder / "cache")
    try:
        server.init()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"PostgreSQL could not be started: {exc}")
    return server


def _psql(server: Postgres, sql: str) -> str:
    return server._run(  # noqa: SLF001 (the server's own client, as the class runs its tools)
        str(server.bin_dir / "psql"),
        *("-h", str(server.folder), "-U", "postgres", "-d", "samverkan", "-tA", "-c", sql),
    ).decode()


def test_a_throwaway_postgres_starts_from_the_schema_a_previous_run_kept(folder):
    first = _server(folder, "first")
    try:
        assert first.restore_schema() is False  # nothing kept yet: the caller migrates
        _psql(first, "CREATE TABLE kept (id serial PRIMARY KEY, name text NOT NULL)")
        _psql(first, "INSERT INTO kept (name) VALUES ('migrated once')")
        first.save_schema()
    finally:
        first.stop("immediate")

    second = _server(folder, "second")
    try:
        assert second.schema_file == first.schema_file
        assert second.restore_schema() is True
        assert _psql(second, "SELECT id, name FROM kept") == "1|migrated once\n"
        assert _psql(second, "INSERT INTO kept (name) VALUES ('next') RETURNING id") == "2\nINSERT 0 1\n"
    finally:
        second.stop("immediate")
    assert [p.name for p in (folder / "cache").iterdir()] == [first.schema_file.name]


def test_static_files_collected_from_the_same_sources_are_not_collected_again(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    (static / ".sources").write_text(static_sources_fingerprint())

    collect_static({"STATIC_ROOT": str(static), "VAR_DIR": str(tmp_path)})

    assert sorted(p.name for p in static.iterdir()) == [".sources", "staticfiles.json"]
    assert (static / "staticfiles.json").read_text() == '{"paths": {}, "version": "1.1"}'


def test_files_collected_under_var_do_not_change_the_sources_fingerprint():
    before = static_sources_fingerprint()
    collected = ROOT / "var" / "static" / "test-collected"
    collected.mkdir(parents=True, exist_ok=True)
    try:
        (collected / "app.0123456789ab.js").write_text("console.log('collected');")

        assert static_sources_fingerprint() == before
    finally:
        shutil.rmtree(collected)


def test_gunicorn_runs_the_workers_and_threads_asked_for_with_four_threads_by_default():
    chosen = parse(["--web-workers", "3", "--web-threads", "8"])

    command = server_commands(
        web_port=8001,
        socket_port=8002,
        web_workers=chosen.web_workers,
        socket_workers=1,
        web_threads=chosen.web_threads,
    )["gunicorn"]

    assert parse([]).web_threads == 4
    start = command.index("-k")
    assert command[start : start + 6] == ["-k", "gthread", "-w", "3", "--threads", "8"]
