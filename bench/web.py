"""Web tier: the same application under daphne (ASGI), uvicorn (ASGI) and gunicorn (WSGI).

Run against PostgreSQL, the production database:

    .ci/with-postgres .venv/bin/python bench/web.py [--seconds 10] [--connections 16]

Each server runs as one process (one worker) so that the figures compare per core. For each it measures,
with wrk on loopback, a trivial endpoint (/healthz, one SELECT 1) as the baseline and a real one (the
paginated people list of the API, token-authenticated, 50 rows with nested organisation and memberships).
Needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(var_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(var_dir)),
        "DJANGO_SETTINGS_MODULE": "coordinator.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN",
        "ALLOWED_HOSTS": "127.0.0.1",
        "VAR_DIR": str(var_dir),
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{var_dir / 'bench.sqlite3'}"),
        "DB_CONN_MAX_AGE": "60",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "API_THROTTLE_USER": "100000000/minute",
        # The database settings of the caller's environment (DB_SERVER_SIDE_BINDING=0, DB_POOL_MAX_SIZE=...),
        # to measure one against another.
        **{key: value for key, value in os.environ.items() if key.startswith("DB_")},
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout


SERVERS = {
    "daphne (ASGI)": lambda port: [
        str(BIN / "daphne"),
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "coordinator.asgi:application",
    ],
    "uvicorn (ASGI)": lambda port: [
        str(BIN / "uvicorn"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "coordinator.asgi:application",
    ],
    "gunicorn (WSGI)": lambda port: [
        str(BIN / "gunicorn"),
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "1",
        "--threads",
        "4",
        "-k",
        "gthread",
        "--log-level",
        "warning",
        "coordinator.wsgi:application",
    ],
}


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (local server)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def run_wrk(url: str, seconds: int, connections: int, token: str | None) -> dict[str, float]:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", url]
    if token:
        command[1:1] = ["-H", f"Authorization: Token {token}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def ms(label: str) -> float:
        found = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(found.group(1)), found.group(2)  # type: ignore[union-attr]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": ms("50"),
        "p99": ms("99"),
        "errors": float(non_2xx.group(1)) if non_2xx else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    var_dir = Path(tempfile.mkdtemp(prefix="samverkan-bench-web-"))
    env = environment(var_dir)
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--quiet")
    token = manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        (
            "from rest_framework.authtoken.models import Token; from django.contrib.auth.models import User;"
            "print(Token.objects.get_or_create(user=User.objects.get(username='johan.bergstrom'))[0].key)"
        ),
    ).strip()
    database = env["DATABASE_URL"].split(":", 1)[0]
    print(
        f"database: {database}; {args.connections} connections, {args.seconds} s per case, one server process"
    )
    print(f"{'server':<18} {'endpoint':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, command in SERVERS.items():
        port = free_port()
        process = subprocess.Popen(
            command(port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}/healthz", process)
            for label, path, auth in (
                ("/healthz (baseline)", "/healthz", None),
                ("/api/v1/people/", "/api/v1/people/", token),
            ):
                run_wrk(f"http://127.0.0.1:{port}{path}", 2, args.connections, auth)  # warm-up
                figures = run_wrk(f"http://127.0.0.1:{port}{path}", args.seconds, args.connections, auth)
                print(
                    f"{name:<18} {label:<22} {figures['rps']:>8.0f} {figures['p50']:>8.1f} "
                    f"{figures['p99']:>8.1f} {figures['errors']:>7.0f}"
                )
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # daphne waits for open connections; enough measured
                process.kill()
                process.wait()
    shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
