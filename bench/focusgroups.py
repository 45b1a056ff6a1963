"""Live notes: 100 and 500 sockets in one focus group, edits broadcast; delivery latency with the in-memory
and the Redis channel layer (goals: p99 under 100 ms to 100 sockets, under 250 ms to 500 over two processes).

    .venv/bin/python bench/focusgroups.py [--sockets 100 500] [--edits 30] [--layers memory redis1 redis2]
        [--profile DIR] [--no-compression]

For each layer the script starts uvicorn (one process; for Redis also a run with the sockets split over two
processes) on the project's settings with a throwaway SQLite database (migrated and seeded here: one group,
20 members, one note), starts its own redis-server on a free loopback port for the Redis runs, and opens
``--sockets`` websockets to ``/ws/focusgroups/<group>/notes/`` signed in as the 20 members in turn. One more
socket (the editor) then saves the note ``--edits`` times, waiting each time until every socket has
received the ``saved`` broadcast; the delivery latency of a socket is the time from sending the save to
that socket receiving the broadcast. The save itself (permission check, compare-and-set, version row,
commit) is inside that time. Baseline in the same run: the round trip of a ``ping`` (no database, no
broadcast) on the editor's socket. Client and server share the machine's two cores: each row also gives
the client's own CPU while the saves run (a share of one core). The servers run with DEBUG off, as in
production. ``--profile DIR`` records each server with py-spy (collapsed stacks, one file per process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = 20
# Sockets are refused unless their Origin is the site's own (``SITE_URL``), as browsers send it.
ORIGIN = "http://127.0.0.1:8000"

SEED = """
import json
from django.test import Client
from focusgroups.models import GroupMembership
from organisations.models import PlatformRole
from tests.factories import OrganisationFactory, ProgrammeFactory, make_member
from tests.factories.focusgroups import FocusGroupFactory, make_group_member, make_note

programme = ProgrammeFactory(name="Bench", slug="bench")
orgs = [
    OrganisationFactory(name=f"Organisation {i}", short_name=f"O{i}", programmes=[programme])
    for i in range(4)
]
group = FocusGroupFactory(programme=programme, code="bench", name="Bench")
cookies = []
for i in range(%(members)d):
    person = make_member(programme, orgs[i %% 4], PlatformRole.STAFF)
    make_group_member(group, person, GroupMembership.Role.MEMBER)
    client = Client()
    client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")
    cookies.append(client.cookies["sessionid"].value)
note = make_note(group, title="Bench", body="start")
print(json.dumps({"group": group.pk, "note": note.pk, "cookies": cookies}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[Any], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process on {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listened on {port} within {seconds} s")


def environment(var_dir: Path, redis_url: str = "") -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(var_dir)),
        "DJANGO_SETTINGS_MODULE": "coordinator.settings",
        # As production runs (DEBUG on would also keep every query's SQL in memory).
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN",
        "ALLOWED_HOSTS": "127.0.0.1",
        "VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{var_dir / 'bench.sqlite3'}",
        "DB_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": redis_url,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SITE_URL": ORIGIN,
    }


def run(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603 (our own interpreter and scripts)
        [sys.executable, *args], cwd=ROOT, env=env, check=False, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return result.stdout


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def measure(ports: list[int], seeded: dict[str, Any], sockets: int, edits: int) -> dict[str, Any]:
    import websockets

    group, note = seeded["group"], seeded["note"]
    cookies = seeded["cookies"]

    def connect(index: int, port: int) -> Any:
        return websockets.connect(
            f"ws://127.0.0.1:{port}/ws/focusgroups/{group}/notes/",
            additional_headers={
                "Cookie": f"sessionid={cookies[index % len(cookies)]}",
                # What a browser sends: the site's own address (SITE_URL), whichever process answers.
                "Origin": ORIGIN,
            },
            max_size=2**22,
            open_timeout=60,
            ping_interval=None,
        )

    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    first: dict[int, float] = {}  # per edit: the first socket to hear of it (the save plus one hop)
    received: dict[int, int] = {}
    all_in: dict[int, asyncio.Event] = {}

    async def listen(ws: Any) -> None:
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") != "saved":
                continue
            version = message["version"]
            if version in sent_at:
                latency = time.perf_counter() - sent_at[version]
                latencies.append(latency)
                first.setdefault(version, latency)
                received[version] = received.get(version, 0) + 1
                if received[version] == sockets:
                    all_in[version].set()

    watchers = []
    tasks = []
    for i in range(sockets):
        ws = await connect(i, ports[i % len(ports)])
        watchers.append(ws)
        while json.loads(await ws.recv())["type"] != "hello":
            pass
        # Read from the start: an unread socket would stop answering the keepalive pings.
        tasks.append(asyncio.create_task(listen(ws)))
        if (i + 1) % 50 == 0:
            print(f"  {i + 1} sockets open", file=sys.stderr, flush=True)
    editor = await connect(0, ports[0])
    version = 1
    for message in [json.loads(await editor.recv())]:
        if message["type"] == "hello":
            version = next(n["version"] for n in message["notes"] if n["id"] == note)
    await asyncio.sleep(2)  # let the presence broadcasts of 200 arrivals settle

    async def editor_reply(kind: str) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(editor.recv(), timeout=60))
            if message["type"] == kind:
                return message  # type: ignore[no-any-return]

    pings = []
    for _ in range(edits):
        start = time.perf_counter()
        await editor.send(json.dumps({"type": "ping"}))
        await editor_reply("pong")
        pings.append(time.perf_counter() - start)

    # The client's own CPU while the saves are measured (it shares the machine's cores with the servers).
    cpu_start, saves_start = time.process_time(), time.perf_counter()
    for i in range(edits):
        next_version = version + 1
        all_in[next_version] = asyncio.Event()
        sent_at[next_version] = time.perf_counter()
        await editor.send(
            json.dumps({"type": "save", "note": note, "base_version": version, "body": f"edit {i}\n" * 20})
        )
        try:
            await asyncio.wait_for(all_in[next_version].wait(), timeout=60)
        except TimeoutError:
            print(
                f"edit {i}: {received.get(next_version, 0)} of {sockets} sockets received it", file=sys.stderr
            )
        await editor_reply("saved")
        version = next_version

    cpu_seconds = time.process_time() - cpu_start
    wall_seconds = time.perf_counter() - saves_start
    for task in tasks:
        task.cancel()
    for ws in [*watchers, editor]:
        await ws.close()
    return {
        "client_cpu_s": cpu_seconds,
        "saves_wall_s": wall_seconds,
        "deliveries": len(latencies),
        "expected": sockets * edits,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
        "ping_p50_ms": statistics.median(pings) * 1000,
        "first_p50_ms": statistics.median(first.values()) * 1000,
    }


def start_servers(
    env: dict[str, str], processes: int, *extra: str
) -> tuple[list[int], list[subprocess.Popen[Any]]]:
    ports = [free_port() for _ in range(processes)]
    procs = [
        subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "uvicorn",
                "coordinator.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--ws-max-size",
                "4194304",
                *extra,
            ],
            cwd=ROOT,
            env=env,
        )
        for port in ports
    ]
    for port, proc in zip(ports, procs, strict=True):
        wait_for_port(port, proc)
    return ports, procs


def profile(folder: Path, name: str, procs: list[subprocess.Popen[Any]]) -> list[subprocess.Popen[Any]]:
    """py-spy recording each server process until stopped: collapsed stacks (``<name>-<n>.txt``, one line per
    stack with its sample count, as flame-graph tools read them) into ``folder``."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        raise SystemExit("--profile needs py-spy in the virtualenv (.venv/bin/pip install py-spy)")
    folder.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(  # noqa: S603 (the virtualenv's py-spy on our own server processes)
            [
                str(spy),
                "record",
                "--pid",
                str(proc.pid),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(folder / f"{name}-{index}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for index, proc in enumerate(procs)
    ]


def stop(procs: list[subprocess.Popen[Any]], how: int = signal.SIGTERM) -> None:
    for proc in procs:
        proc.send_signal(how)
    for proc in procs:
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sockets", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument(
        "--layers",
        nargs="+",
        choices=["memory", "redis1", "redis2"],
        default=["memory", "redis1", "redis2"],
        help="which configurations to measure (in-memory; Redis with one process; Redis with two)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="record each server process with py-spy into this folder (flame graphs, one per process)",
    )
    parser.add_argument(
        "--no-compression",
        action="store_true",
        help="servers without permessage-deflate (by default it is offered, and every socket takes it)",
    )
    args = parser.parse_args()
    extra = ["--ws-per-message-deflate", "false"] if args.no_compression else []
    # Stopped with SIGTERM, still stop the servers and Redis started here (the finally blocks below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    with tempfile.TemporaryDirectory(prefix="samverkan-bench-fg-") as tmp:
        var_dir = Path(tmp)
        env = environment(var_dir)
        run(env, "manage.py", "migrate", "--noinput", "-v", "0")
        seeded = json.loads(
            run(env, "-c", "import django; django.setup()\n" + SEED % {"members": MEMBERS}).splitlines()[-1]
        )

        redis_server = shutil.which("redis-server")
        redis_proc = None
        runs: list[tuple[str, str, str, int]] = [("memory", "in-memory", "", 1)]
        if redis_server:
            redis_port = free_port()
            redis_proc = subprocess.Popen(  # noqa: S603
                [
                    redis_server,
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    tmp,
                ],
                stdout=subprocess.DEVNULL,
            )
            wait_for_port(redis_port, redis_proc, 15)
            url = f"redis://127.0.0.1:{redis_port}/0"
            runs += [
                ("redis1", "redis (pub/sub), 1 process", url, 1),
                ("redis2", "redis (pub/sub), 2 processes", url, 2),
            ]
        else:
            print("redis-server not found: only the in-memory layer is measured", file=sys.stderr)

        print(
            f"{', '.join(map(str, args.sockets))} sockets, {args.edits} edits of a "
            f"{len('edit 0' * 20) + 20}-character note; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(
            "| sockets | layer | deliveries | p50 | p95 | p99 | max | first socket p50 | "
            "baseline: ping round trip p50 | client CPU | load average after |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        try:
            for sockets, (key, label, url, processes) in [(n, run) for n in args.sockets for run in runs]:
                if key not in args.layers:
                    continue
                ports, procs = start_servers(environment(var_dir, url), processes, *extra)
                spies = profile(args.profile, f"{sockets}-{key}", procs) if args.profile else []
                try:
                    result = asyncio.run(measure(ports, seeded, sockets, args.edits))
                finally:
                    stop(spies, signal.SIGINT)
                    stop(procs)
                cells = [
                    str(sockets),
                    label,
                    f"{result['deliveries']} of {result['expected']}",
                    f"{result['p50_ms']:.0f} ms",
                    f"{result['p95_ms']:.0f} ms",
                    f"{result['p99_ms']:.0f} ms",
                    f"{result['max_ms']:.0f} ms",
                    f"{result['first_p50_ms']:.0f} ms",
                    f"{result['ping_p50_ms']:.1f} ms",
                    f"{result['client_cpu_s'] / result['saves_wall_s']:.0%}",
                    f"{os.getloadavg()[0]:.1f}",
                ]
                print("| " + " | ".join(cells) + " |", flush=True)
        finally:
            if redis_proc is not None:
                redis_proc.terminate()
                redis_proc.wait(timeout=10)


if __name__ == "__main__":
    main()
