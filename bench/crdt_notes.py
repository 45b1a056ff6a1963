"""Live co-editing of one note: editors typing into the same Yjs document over real websockets.

    .venv/bin/python bench/crdt_notes.py [--editors 50] [--rate 5] [--seconds 60] [--edits 10000]
                                         [--interval-ms N] [--no-compression] [--servers 1|2|both]
    .ci/with-postgres .venv/bin/python bench/crdt_notes.py --edits 0   # the live runs on PostgreSQL

The script starts uvicorn on the project's production settings (DEBUG off) with a throwaway SQLite
database, or the PostgreSQL database of ``DATABASE_URL`` when one is given (as production runs; both runs
share it) (migrated and seeded here: one group with ``--editors`` members and one empty note): first one
process with the in-memory channel layer, then two processes sharing its own redis-server (editors split
over them; ``--servers`` measures one of the two alone). Each editor is
a pycrdt client on its own websocket (``doc.sync``, then ``doc.update`` frames) that types ``--rate``
characters a second (each keystroke one update holding that transaction alone, as Yjs in the browser
sends it; at a random position of its copy; one in ten a backspace) for ``--seconds``. Every editor
applies each update it receives, as a browser does, and must end with the server's text. All editors run
in this one asyncio process (at most one core; its share is printed), so the servers get the rest.

Reported per run: updates accepted; the p50/p95/max time from a typed character's update leaving its
editor until it has appeared in each other editor's copy (its clock is covered by the copy's state
vector; the server sends the keystrokes of one interval, ``NOTE_UPDATE_INTERVAL_MS``, merged; backspaces
add no clock and are not timed), goal p95 under 150 ms; the frames the editors received; server CPU (user
+ system of the uvicorn processes over the typing phase) per accepted update; the cores the editors'
process used; and the baseline in the same run: the round trip of a ``ping`` (no database, no
broadcast). ``--interval-ms`` sets the servers' interval (0: each batch as soon as the previous one is
stored), ``--no-compression`` makes the editors decline permessage-deflate. Finally ``--edits``
single-character edits by 50 replicas through the service layer (``document_apply``, each edit its own
change; insertions at random places, one in five a deletion) and the stored size of the note: the
compacted state plus the log not yet compacted, against the plain text's UTF-8 size (``--edits 0``: not
measured). Client and server share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.util
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The helpers of the live-notes benchmark (servers, Redis, settings); its module name is the app's.
_spec = importlib.util.spec_from_file_location("bench_focusgroups", ROOT / "bench" / "focusgroups.py")
assert _spec is not None and _spec.loader is not None
common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(common)

# Sockets are refused unless their Origin is the site's own (``SITE_URL``), as browsers send it.
ORIGIN = "http://127.0.0.1:8000"

SEED = common.SEED.replace('body="start"', 'body=""')

SIZE = """
import json, random
from pycrdt import Doc
from coordinator.core.tenancy import programme_scope
from focusgroups.models import Note, NoteDocument, NoteUpdate
from focusgroups.services import documents
from organisations.models import Person
from organisations.permissions import actor_for

random.seed(7)
note = Note.unscoped_objects.select_related("group").get(pk=%(note)d)
people = list(Person.unscoped_objects.filter(focus_group_memberships__group=note.group)[:50])
actors = [actor_for(p.user) for p in people]
with programme_scope([note.group.programme_id]):
    update, _sv, _e = documents.document_sync(actor=actors[0], note=note, state_vector=b"\\x00")
    replicas = []
    for _ in actors:
        doc = Doc(); doc.apply_update(update); replicas.append(doc)
    for i in range(%(edits)d):
        k = random.randrange(len(actors))
        doc = replicas[k]
        text = documents.body_of(doc)
        plain = str(text)
        before = doc.get_state()
        if plain and random.random() < 0.2:
            at = random.randrange(len(plain))
            offset = len(plain[:at].encode()); size = len(plain[at].encode())
            del text[offset:offset + size]
        else:
            at = random.randrange(len(plain) + 1)
            text.insert(len(plain[:at].encode()), random.choice("abcdefghijklmnopqrstuvwxyzåäö  .\\n"))
        change = doc.get_update(before)
        documents.document_apply(actor=actors[k], note=note, update=change)
        for other in replicas:  # the broadcast
            if other is not doc:
                other.apply_update(change)
document = NoteDocument.unscoped_objects.get(note=note)
rows = NoteUpdate.unscoped_objects.filter(note=note).values_list("update", flat=True)
log = sum(len(bytes(u)) for u in rows)
body = Note.unscoped_objects.get(pk=note.pk).body
print(json.dumps({"state": len(bytes(document.state)), "log": log, "rows": document.log_length,
                  "text": len(body.encode()), "chars": len(body)}))
"""


def environment(var_dir: Path, redis_url: str = "", database_url: str = "") -> dict[str, str]:
    # Production settings (DEBUG off, as docs/deployment.md runs the socket processes); the bench speaks
    # plain HTTP on loopback, so the HTTPS redirect and secure cookies are off.
    env = {
        **common.environment(var_dir, redis_url),
        "SITE_URL": ORIGIN,
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def state_vector(encoded: bytes) -> dict[int, int]:
    """A Yjs state vector (varuint count, then client and clock pairs) as a dict."""
    # Called for every frame every editor receives: one pass over the bytes (varuints end on a byte < 128).
    values: list[int] = []
    append = values.append
    value = shift = 0
    for byte in encoded:
        if byte < 0x80:
            append(value | (byte << shift))
            value = shift = 0
        else:
            value |= (byte & 0x7F) << shift
            shift += 7
    return dict(zip(values[1::2], values[2::2], strict=True))


async def measure(
    ports: list[int],
    seeded: dict[str, Any],
    editors: int,
    rate: float,
    seconds: float,
    pids: list[int],
    compression: bool = True,
) -> dict[str, Any]:
    import websockets
    from pycrdt import Doc, Text

    group, note, cookies = seeded["group"], seeded["note"], seeded["cookies"]
    latencies: list[float] = []
    refused: list[dict[str, Any]] = []
    docs = [Doc() for _ in range(editors)]
    # Per editor, its typed characters in order: (the clock after it, when it left); and per receiving
    # editor, how many of each other editor's characters have appeared in its copy.
    typed_at: list[list[tuple[int, float]]] = [[] for _ in range(editors)]
    seen: list[list[int]] = [[0] * editors for _ in range(editors)]
    frames = [0]

    async def open_socket(index: int) -> Any:
        port = ports[index % len(ports)]
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws/focusgroups/{group}/notes/",
            additional_headers={
                "Cookie": f"sessionid={cookies[index % len(cookies)]}",
                "Origin": ORIGIN,
            },
            max_size=2**22,
            open_timeout=60,
            ping_interval=None,
            compression="deflate" if compression else None,
        )
        while json.loads(await ws.recv())["type"] != "hello":
            pass
        await ws.send(json.dumps({"type": "doc.sync", "note": note, "sv": base64.b64encode(b"\0").decode()}))
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "doc.sync":
                docs[index].apply_update(base64.b64decode(message["update"]))
                return ws

    sockets = [await open_socket(i) for i in range(editors)]
    print(f"  {editors} sockets open and synced", file=sys.stderr, flush=True)
    clients = [doc.client_id for doc in docs]
    pongs: list[asyncio.Future[float]] = []

    position = {client: i for i, client in enumerate(clients)}

    last_clocks: list[dict[int, int]] = [{} for _ in range(editors)]

    def appeared(index: int) -> None:
        # Only the editors whose clock moved in this copy can have new characters in it.
        now = time.perf_counter()
        clocks = state_vector(docs[index].get_state())
        counts, last = seen[index], last_clocks[index]
        last_clocks[index] = clocks
        for client, clock in clocks.items():
            other = position.get(client)
            if other is None or other == index or last.get(client) == clock:
                continue
            keys, done = typed_at[other], counts[other]
            while done < len(keys) and keys[done][0] <= clock:
                latencies.append(now - keys[done][1])
                done += 1
            counts[other] = done

    async def listen(index: int, ws: Any) -> None:
        async for raw in ws:
            message = json.loads(raw)
            kind = message["type"]
            if kind == "doc.update":
                # Every editor applies what it receives, as a browser does; a typed character has appeared
                # once the copy's state vector covers it.
                frames[0] += 1
                docs[index].apply_update(base64.b64decode(message["update"]))
                appeared(index)
            elif kind == "pong" and pongs:
                pongs.pop(0).set_result(time.perf_counter())
            elif kind == "error":
                refused.append(message)

    listeners = [asyncio.create_task(listen(i, ws)) for i, ws in enumerate(sockets)]
    await asyncio.sleep(2)  # presence broadcasts of the arrivals settle

    pings = []
    for _ in range(30):
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        pongs.append(future)
        start = time.perf_counter()
        await sockets[-1].send(json.dumps({"type": "ping"}))
        pings.append(await asyncio.wait_for(future, 30) - start)

    rng = random.Random(1)
    typed = 0

    async def type_into(index: int) -> None:
        nonlocal typed
        doc, ws = docs[index], sockets[index]
        text = doc.get("body", type=Text)
        await asyncio.sleep(rng.random() / rate)
        deadline = time.perf_counter() + seconds
        next_at = time.perf_counter()
        clock = 0  # this editor's next clock: one per character it inserted
        while time.perf_counter() < deadline:
            # The note starts empty and every typed character is ASCII, so the text's length in UTF-8 bytes
            # (pycrdt's positions, read without copying the text out) is its length in characters.
            length = len(text)
            inserted = not (length and rng.random() < 0.1)
            # The update of this keystroke's transaction alone, as Yjs in the browser sends it (pycrdt's
            # ``get_update(state vector)`` would carry the document's whole delete set every time).
            own: list[bytes] = []
            subscription = doc.observe(lambda event, own=own: own.append(event.update))
            if not inserted:
                at = rng.randrange(length)
                del text[at : at + 1]
            else:
                text.insert(rng.randrange(length + 1), rng.choice("abcdefghij klmnopqrst"))
                clock += 1
            doc.unobserve(subscription)
            encoded = base64.b64encode(own[0]).decode()
            if inserted:
                # A backspace adds no clock (only a deletion), so only insertions are timed.
                typed_at[index].append((clock, time.perf_counter()))
            await ws.send(json.dumps({"type": "doc.update", "note": note, "update": encoded}))
            typed += 1
            next_at += 1 / rate
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    cpu_before = cpu_seconds(pids)
    client_before, wall_before = time.process_time(), time.perf_counter()
    await asyncio.gather(*(type_into(i) for i in range(editors)))
    print(f"  typed {typed} keystrokes", file=sys.stderr, flush=True)
    expected = sum(len(keys) for keys in typed_at) * (editors - 1)
    settle = time.perf_counter() + 60
    while len(latencies) < expected and time.perf_counter() < settle:
        await asyncio.sleep(0.1)  # the last deliveries arrive
    cpu = cpu_seconds(pids) - cpu_before
    client_cores = (time.process_time() - client_before) / (time.perf_counter() - wall_before)
    for task in listeners:
        task.cancel()
    for ws in sockets:
        await ws.close()
    texts = {str(doc.get("body", type=Text)) for doc in docs}
    return {
        "typed": typed,
        "cpu": cpu,
        "deliveries": len(latencies),
        "expected": expected,
        "frames": frames[0],
        "p50_ms": common.percentile(latencies, 50) * 1000 if latencies else float("nan"),
        "p95_ms": common.percentile(latencies, 95) * 1000 if latencies else float("nan"),
        "max_ms": max(latencies) * 1000 if latencies else float("nan"),
        "ping_ms": common.percentile(pings, 50) * 1000,
        "refused": len(refused),
        "client_cores": client_cores,
        "full_texts": texts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--editors", type=int, default=50)
    parser.add_argument("--rate", type=float, default=5.0, help="characters a second per editor")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--edits", type=int, default=10_000, help="edits for the stored-size figure (0: not measured)"
    )
    parser.add_argument(
        "--interval-ms",
        type=int,
        default=None,
        help="the servers' NOTE_UPDATE_INTERVAL_MS (default: the setting's, 20)",
    )
    parser.add_argument(
        "--no-compression",
        action="store_true",
        help="editors do not offer permessage-deflate (by default they do, as browsers)",
    )
    parser.add_argument(
        "--servers",
        choices=["1", "2", "both"],
        default="both",
        help="measure one process, two processes over Redis, or both (default)",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    common.MEMBERS = args.editors

    with tempfile.TemporaryDirectory(prefix="samverkan-bench-crdt-") as tmp:
        var_dir = Path(tmp)
        (var_dir / "static").mkdir()  # collected static files (none needed here) live there with DEBUG off
        given = os.environ.get("DATABASE_URL", "")
        database_url = given if given.startswith(("postgres://", "postgresql://")) else ""
        env = environment(var_dir, database_url=database_url)
        common.run(env, "manage.py", "migrate", "--noinput", "-v", "0")
        seed = "import django; django.setup()\n" + SEED % {"members": args.editors}
        seeded = json.loads(common.run(env, "-c", seed).splitlines()[-1])
        runs: list[tuple[str, str, int]] = []
        if args.servers != "2":
            runs.append(("1 process, in-memory layer", "", 1))
        redis_proc = None
        redis_server = shutil.which("redis-server") if args.servers != "1" else None
        if redis_server:
            redis_port = common.free_port()
            redis_proc = subprocess.Popen(  # noqa: S603
                [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--dir", tmp],
                stdout=subprocess.DEVNULL,
            )
            common.wait_for_port(redis_port, redis_proc, 15)
            runs.append(("2 processes, Redis pub/sub", f"redis://127.0.0.1:{redis_port}/0", 2))
        elif args.servers != "1":
            print("redis-server not found: two processes are not measured", file=sys.stderr)

        print(
            f"{args.editors} editors typing {args.rate:g} characters/s each for {args.seconds:g} s into one "
            f"note; update interval {args.interval_ms if args.interval_ms is not None else 'default'} ms; "
            f"compression {'off' if args.no_compression else 'on'}; "
            f"database {'PostgreSQL' if database_url else 'SQLite'}; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        print(
            "| servers | updates accepted | keystroke to others p50 | p95 | max | characters appeared | "
            "frames received | server CPU per update | client cores | baseline: ping p50 | "
            "replicas equal the server |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        try:
            for label, url, processes in runs:
                # The server's keepalive out of the way: on a loaded machine the one client process, late
                # with the pongs of 50 sockets, had them closed mid-run (the notes are measured here).
                server_env = environment(var_dir, url, database_url)
                if args.interval_ms is not None:
                    server_env["NOTE_UPDATE_INTERVAL_MS"] = str(args.interval_ms)
                ports, procs = common.start_servers(server_env, processes, "--ws-ping-interval", "3600")
                try:
                    result = asyncio.run(
                        measure(
                            ports,
                            seeded,
                            args.editors,
                            args.rate,
                            args.seconds,
                            [p.pid for p in procs],
                            compression=not args.no_compression,
                        )
                    )
                finally:
                    common.stop(procs)
                body = json.loads(
                    common.run(
                        env,
                        "-c",
                        "import django, json; django.setup()\nfrom focusgroups.models import Note\n"
                        f"print(json.dumps(Note.unscoped_objects.get(pk={seeded['note']}).body))",
                    ).splitlines()[-1]
                )
                equal = result["full_texts"] == {body}
                cells = [
                    label,
                    f"{result['typed'] - result['refused']} of {result['typed']}",
                    f"{result['p50_ms']:.0f} ms",
                    f"{result['p95_ms']:.0f} ms",
                    f"{result['max_ms']:.0f} ms",
                    f"{result['deliveries']} of {result['expected']}",
                    f"{result['frames']}",
                    f"{result['cpu'] / max(1, result['typed']) * 1000:.2f} ms",
                    f"{result['client_cores']:.2f}",
                    f"{result['ping_ms']:.1f} ms",
                    "yes" if equal else "NO",
                ]
                print("| " + " | ".join(cells) + " |", flush=True)
        finally:
            if redis_proc is not None:
                redis_proc.terminate()
                redis_proc.wait(timeout=10)

    if args.edits <= 0:
        return
    # The stored size on a database of its own (a fresh note, no live run before it).
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-crdt-size-") as tmp:
        env = environment(Path(tmp))
        common.run(env, "manage.py", "migrate", "--noinput", "-v", "0")
        seed = "import django; django.setup()\n" + SEED % {"members": 50}
        sized = json.loads(common.run(env, "-c", seed).splitlines()[-1])
        start = time.perf_counter()
        script = "import django; django.setup()\n" + SIZE % {"note": sized["note"], "edits": args.edits}
        size = json.loads(common.run(env, "-c", script).splitlines()[-1])
        stored = size["state"] + size["log"]
        print(
            f"\nStored size after {args.edits} edits by 50 replicas "
            f"({time.perf_counter() - start:.0f} s through the service layer): {stored:,} bytes "
            f"(state {size['state']:,} + log {size['log']:,} in {size['rows']} rows) for a plain text of "
            f"{size['text']:,} bytes ({size['chars']:,} characters): {stored / max(1, size['text']):.1f} x"
        )


if __name__ == "__main__":
    main()
