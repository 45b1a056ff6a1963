"""``make serve-prod``: the platform as production runs it, on this machine, behind one port.

``python -m coordinator.servers prod [--port 8000] [--web-workers N] [--socket-workers N] [--task-workers N]``

- PostgreSQL and Redis: the ones ``DATABASE_URL`` and ``REDIS_URL`` name, or, where a variable is not set, a
  throwaway server started for this run (PostgreSQL in a temporary data folder owned by an unprivileged
  user, listening on a Unix socket; Redis on a free loopback port, no persistence), removed at the end.
- ``migrate``, ``compilemessages`` and ``collectstatic`` (whitenoise serves the hashed, compressed files).
  A throwaway PostgreSQL starts from the schema an earlier run migrated, kept in ``var/cache/`` under a
  fingerprint of everything that decides it (the migration files, the installed packages, the server's
  version), so ``migrate`` only checks it; ``collectstatic`` runs only when a static source or an
  installed package changed since the files in ``STATIC_ROOT`` were collected.
- gunicorn (WSGI, HTTP) and uvicorn (ASGI, websockets), several workers each, on loopback ports of their own,
  and nginx in front on the one public port: ``/ws/`` to uvicorn, everything else to gunicorn, keep-alive
  to both. The generated configuration is the one ``docs/deployment.md`` documents.
- N task workers (``--task-workers``, default 1), each running ``--task-command`` (default ``manage.py
  task_worker --queue-name '*'``); 0 starts none.

DEBUG is off. With no ``SECRET_KEY`` a random one is made for the run; with no ``SITE_URL`` the site is
``http://127.0.0.1:<port>`` and, being plain HTTP on loopback, neither redirects to HTTPS nor marks cookies
Secure. If any process ends, the others are stopped and the command exits with an error; Ctrl-C stops all.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import importlib.metadata
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
# Kept between runs, named by content: what a throwaway server would otherwise build again each time.
CACHE = ROOT / "var" / "cache"
DEFAULT_TASK_COMMAND = "manage.py task_worker --queue-name '*'"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on port {port} within {seconds:.0f} s")


def installed_packages() -> bytes:
    """Every installed distribution with its version, sorted: a third-party app's migrations and static files
    change only with its version."""
    names = {f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()}
    return "\n".join(sorted(names)).encode()


def _add_files(digest: hashlib._Hash, paths: Sequence[Path]) -> None:
    for path in sorted(paths):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")


def static_sources_fingerprint() -> str:
    """A digest of what ``collectstatic`` collects: the project's static folders (without the bundles'
    sources, as ``coordinator.staticfiles`` leaves them out, and without ``var/``, where the collected
    files go) and the installed packages."""
    digest = hashlib.sha256(installed_packages())
    files: list[Path] = []
    tops = [*ROOT.glob("*/static"), *ROOT.glob("*/*/static")]
    for top in [t for t in tops if t.relative_to(ROOT).parts[0] not in ("var", "node_modules")]:
        for folder, subfolders, names in os.walk(top):
            subfolders[:] = [d for d in subfolders if d != "node_modules" and not d.endswith("-src")]
            files.extend(Path(folder, name) for name in names)
    _add_files(digest, files)
    return digest.hexdigest()[:32]


def collect_static(env: dict[str, str]) -> None:
    """``collectstatic`` into ``STATIC_ROOT`` (as the settings derive it), unless the files there were
    collected from the same sources: hashing and compressing every file takes a minute on two cores."""
    root = Path(env.get("STATIC_ROOT") or Path(env.get("VAR_DIR") or ROOT / "var") / "static")
    marker = root / ".sources"
    fingerprint = static_sources_fingerprint()
    if (root / "staticfiles.json").exists() and marker.exists() and marker.read_text() == fingerprint:
        return
    _manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    marker.write_text(fingerprint)


def _as_unprivileged() -> list[str]:
    # initdb refuses to run as root; nginx's workers drop to nobody when started as root.
    return ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []


@dataclass
class Postgres:
    """A throwaway PostgreSQL server in ``folder`` (data, Unix socket and log), owned by an unprivileged user
    when run as root."""

    folder: Path
    # Where the migrated schema is kept between runs (``schema_file``).
    cache: Path = CACHE
    bin_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
        if not found or not Path(found[-1], "initdb").exists():
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
        self.bin_dir = Path(found[-1])

    @property
    def url(self) -> str:
        return f"postgres://postgres@{quote(str(self.folder), safe='')}/samverkan"

    def _run(self, *command: str, stdin: bytes | None = None) -> bytes:
        return subprocess.run(  # noqa: S603 (the server's own binaries with fixed arguments)
            [*_as_unprivileged(), *command], cwd=self.folder, check=True, capture_output=True, input=stdin
        ).stdout

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "nobody")
        self._run(
            str(self.bin_dir / "initdb"),
            *("-D", str(self.folder / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8"),
            "--locale=C.UTF-8",
        )
        self.start()
        self._run(str(self.bin_dir / "createdb"), "-h", str(self.folder), "-U", "postgres", "samverkan")

    def start(self) -> None:
        options = f"-k {self.folder} -c listen_addresses='' -c max_connections=300"
        self._run(
            str(self.bin_dir / "pg_ctl"),
            *("-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"), "-w", "-o", options),
            "start",
        )

    @property
    def schema_file(self) -> Path:
        """Where the schema that ``migrate`` builds on this server is kept between runs, named after
        everything that decides it: the project's migrations, the installed packages and the server."""
        digest = hashlib.sha256(self._run(str(self.bin_dir / "postgres"), "--version"))
        digest.update(installed_packages())
        _add_files(digest, [*ROOT.glob("*/migrations/*.py"), *ROOT.glob("*/*/migrations/*.py")])
        return self.cache / f"postgres-schema-{digest.hexdigest()[:32]}.dump"

    def restore_schema(self) -> bool:
        """Loads the schema an earlier run migrated, if one was kept (``migrate`` then finds nothing to do
        and only runs its checks); True if it did. The database must be empty."""
        schema = self.schema_file
        if not schema.exists():
            return False
        self._run(
            str(self.bin_dir / "pg_restore"),
            *("-h", str(self.folder), "-U", "postgres", "-d", "samverkan", "--exit-on-error"),
            stdin=schema.read_bytes(),
        )
        return True

    def save_schema(self) -> None:
        """Keeps the migrated schema (and the rows the migrations write) for the next run."""
        schema = self.schema_file
        dump = self._run(
            str(self.bin_dir / "pg_dump"), "-h", str(self.folder), "-U", "postgres", "-Fc", "samverkan"
        )
        schema.parent.mkdir(parents=True, exist_ok=True)
        partial = schema.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(dump)
        partial.replace(schema)  # atomic: a run beside this one reads the whole file or none

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", mode, "-w", "stop")


def start_redis(folder: Path) -> tuple[str, subprocess.Popen[bytes]]:
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError(
            "redis-server is not installed (apt-get install redis-server), and REDIS_URL is not set"
        )
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 (a fixed local binary and arguments)
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_for_port(port, process, "redis-server", seconds=15)
    return f"redis://127.0.0.1:{port}/0", process


def nginx_config(*, port: int, web_port: int, socket_port: int, folder: Path, host: str = "127.0.0.1") -> str:
    """The one-port front: websockets to uvicorn, the rest to gunicorn, keep-alive on both sides, the
    client's request id passed on (or nginx's own), no access log (the application logs each request)."""
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    return f"""{user}
worker_processes auto;
daemon off;
pid {folder}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server_tokens off;
    client_max_body_size 25m;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    keepalive_requests 10000;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    map $http_x_request_id $samverkan_request_id {{ default $http_x_request_id; '' $request_id; }}
    upstream web {{ server 127.0.0.1:{web_port}; keepalive 64; }}
    upstream sockets {{ server 127.0.0.1:{socket_port}; }}
    server {{
        listen {host}:{port} backlog=4096;
        # Each location sets all its headers: one that sets any inherits none from here.
        location /ws/ {{
            proxy_pass http://sockets;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $samverkan_request_id;
            proxy_read_timeout 1h;
        }}
        location / {{
            proxy_pass http://web;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $samverkan_request_id;
        }}
    }}
}}
"""


def task_worker_commands(count: int, command: str = DEFAULT_TASK_COMMAND) -> list[list[str]]:
    """The task workers' command lines: ``count`` copies of ``command`` (a ``manage.py`` command line, run
    with this Python in the project folder). The one place that says how task workers start."""
    words = shlex.split(command)
    if words and words[0].endswith(".py"):
        words = [sys.executable, *words]
    return [list(words) for _ in range(count)]


def server_commands(
    *, web_port: int, socket_port: int, web_workers: int, socket_workers: int, web_threads: int = 4
) -> dict[str, list[str]]:
    servers = [sys.executable, "-m", "coordinator.servers"]
    return {
        "gunicorn": [
            *servers,
            "gunicorn",
            *("-k", "gthread", "-w", str(web_workers), "--threads", str(web_threads)),
            *("--bind", f"127.0.0.1:{web_port}", "--keep-alive", "75", "--backlog", "4096"),
            *("--graceful-timeout", "10", "--log-level", "warning"),
        ],
        "uvicorn": [
            *servers,
            "uvicorn",
            *("--host", "127.0.0.1", "--port", str(socket_port), "--workers", str(socket_workers)),
            *("--log-level", "warning", "--no-access-log"),
        ],
    }


def production_environment(base: dict[str, str], *, port: int, folder: Path) -> dict[str, str]:
    """The settings every process of the run shares: the caller's, with production defaults filled in."""
    env = dict(base)
    env["DEBUG"] = "0"
    env.setdefault("DJANGO_SETTINGS_MODULE", "coordinator.settings")
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    env.setdefault("VAR_DIR", str(ROOT / "var"))
    # nginx appends the address it saw to X-Forwarded-For: one proxy to trust.
    env.setdefault("TRUSTED_PROXY_COUNT", "1")
    env.setdefault("LOG_FORMAT", "json")
    if env["SITE_URL"].startswith("http://"):
        # Plain HTTP on this machine: no redirect to an HTTPS that nothing here answers, and cookies that a
        # browser sends back over HTTP.
        for name in (
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_HSTS_SECONDS",
        ):
            env.setdefault(name, "0")
    # prometheus_client's multiprocess mode: every worker writes its metrics here, the scrape sums them.
    metrics = folder / "metrics"
    metrics.mkdir(parents=True, exist_ok=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    return env


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:  # ended meanwhile
        pass


@dataclass
class Stack:
    """The running processes and what to remove at the end."""

    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def start(self, name: str, command: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(list(command), cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
        self.processes[name] = process
        return process

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        for cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except (OSError, subprocess.CalledProcessError) as exc:
                print(f"serve-prod: clean-up failed: {exc}", file=sys.stderr)

    def first_exit(self) -> tuple[str, int] | None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                return name, process.returncode
        return None


def _stop_on_signal(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def parse(argv: Sequence[str]) -> argparse.Namespace:
    cores = os.cpu_count() or 2
    parser = argparse.ArgumentParser(
        prog="python -m coordinator.servers prod", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default="127.0.0.1", help="the address nginx listens on")
    parser.add_argument("--web-workers", type=int, default=2 * cores, help="gunicorn worker processes")
    parser.add_argument("--web-threads", type=int, default=4, help="threads of each gunicorn worker")
    parser.add_argument("--socket-workers", type=int, default=cores, help="uvicorn worker processes")
    parser.add_argument("--task-workers", type=int, default=1, help="task worker processes (0: none)")
    parser.add_argument("--task-command", default=DEFAULT_TASK_COMMAND, help="one task worker's command line")
    parser.add_argument("--seed-demo", action="store_true", help="load the demo programme after migrating")
    return parser.parse_args(list(argv))


def serve(argv: Sequence[str]) -> int:
    options = parse(argv)
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        raise SystemExit("nginx is not installed (apt-get install nginx; .ci/ensure-system-packages)")
    folder = Path(tempfile.mkdtemp(prefix="samverkan-prod-"))
    folder.chmod(0o755)
    stack = Stack()
    signal.signal(signal.SIGTERM, _stop_on_signal)
    stack.cleanups.append(lambda: shutil.rmtree(folder, ignore_errors=True))
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    try:
        postgres: Postgres | None = None
        restored = False
        if not env.get("DATABASE_URL"):
            postgres = Postgres(folder / "postgres")
            postgres.init()
            stack.cleanups.append(lambda: postgres.stop("immediate"))
            env["DATABASE_URL"] = postgres.url
            restored = postgres.restore_schema()
            print(f"serve-prod: PostgreSQL in {postgres.folder}", file=sys.stderr)
        if not env.get("REDIS_URL"):
            env["REDIS_URL"], redis = start_redis(folder)
            stack.processes["redis"] = redis
            print(f"serve-prod: Redis at {env['REDIS_URL']}", file=sys.stderr)
        env = production_environment(env, port=options.port, folder=folder)
        _manage(env, "migrate", "--noinput", "--verbosity", "0")
        if postgres is not None and not restored:
            postgres.save_schema()
        collect_static(env)
        if options.seed_demo:
            _manage(env, "seed_demo", "--quiet")
        web_port, socket_port = free_port(), free_port()
        commands = server_commands(
            web_port=web_port,
            socket_port=socket_port,
            web_workers=options.web_workers,
            socket_workers=options.socket_workers,
            web_threads=options.web_threads,
        )
        for name, command in commands.items():
            stack.start(name, command, env)
        for number, command in enumerate(task_worker_commands(options.task_workers, options.task_command), 1):
            stack.start(f"task worker {number}", command, env)
        wait_for_port(web_port, stack.processes["gunicorn"], "gunicorn")
        wait_for_port(socket_port, stack.processes["uvicorn"], "uvicorn")
        proxy = folder / "nginx"
        proxy.mkdir()
        if os.geteuid() == 0:
            shutil.chown(proxy, "nobody")
        config = proxy / "nginx.conf"
        config.write_text(
            nginx_config(
                port=options.port, web_port=web_port, socket_port=socket_port, folder=proxy, host=options.host
            )
        )
        stack.start("nginx", [nginx, "-p", str(proxy), "-c", str(config)], env)
        wait_for_port(options.port, stack.processes["nginx"], "nginx")
        print(f"serve-prod: serving {env['SITE_URL']} (Ctrl-C stops)", file=sys.stderr, flush=True)
        while (ended := stack.first_exit()) is None:
            time.sleep(0.5)
        print(f"serve-prod: {ended[0]} ended with {ended[1]}; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()
