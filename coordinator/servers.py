"""The server commands, with the options every deployment needs:
``python -m coordinator.servers gunicorn|uvicorn|daphne [the server's own options]``.

- ``gunicorn``: HTTP (WSGI), the production web process.
- ``uvicorn``: websockets (ASGI), the production socket process.
- ``daphne``: HTTP and websockets from one process (``make run`` and the browser tests).
- ``prod``: all of production behind one port (``make serve-prod``; ``coordinator/production.py``).

Each serves this project's application, sends no ``Server`` header (it tells an attacker which software
and so which advisories to try), and the ASGI servers refuse a websocket frame larger than
``WEBSOCKET_FRAME_MAX_BYTES`` from its header, closing with 1009, before reading it whole. Options given
after the server's name come after these, so they may override them.
"""

from __future__ import annotations

import sys

from coordinator.core.validators import WEBSOCKET_FRAME_MAX_BYTES

WSGI_APPLICATION = "coordinator.wsgi:application"
ASGI_APPLICATION = "coordinator.asgi:application"
USAGE = "usage: python -m coordinator.servers gunicorn|uvicorn|daphne|prod [the server's options]"


def uvicorn_arguments(options: list[str]) -> list[str]:
    return [ASGI_APPLICATION, "--ws-max-size", str(WEBSOCKET_FRAME_MAX_BYTES), "--no-server-header", *options]


def daphne_arguments(options: list[str]) -> list[str]:
    limit = str(WEBSOCKET_FRAME_MAX_BYTES)
    limits = ["--websocket-max-frame-size", limit, "--websocket-max-message-size", limit]
    return [*limits, "--no-server-name", *options, ASGI_APPLICATION]


def _gunicorn_without_server_header() -> None:
    # gunicorn writes "Server: gunicorn" into every response and has no setting to leave it out (its
    # maintainers declined one), so its response class is narrowed here, in the one process that runs it.
    from gunicorn.http import wsgi

    class Response(wsgi.Response):  # type: ignore[misc]  # gunicorn ships no type hints
        def default_headers(self) -> list[str]:
            return [line for line in super().default_headers() if not line.lower().startswith("server:")]

    wsgi.Response = Response


def _daphne_closes_with_a_reason() -> None:
    # Daphne's websocket library (autobahn) drops the TCP connection on an oversized frame unless told to
    # close it properly, and daphne passes no option for that: the client would see an abnormal closure
    # (1006) instead of 1009, "message too big". The refusal itself happens at the frame's header either way.
    from daphne import server as daphne_server

    class WebSocketFactory(daphne_server.WebSocketFactory):  # type: ignore[misc]  # no type hints
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self.setProtocolOptions(failByDrop=False)

    daphne_server.WebSocketFactory = WebSocketFactory


def run(server: str, options: list[str]) -> None:
    if server == "gunicorn":
        from gunicorn.app.wsgiapp import WSGIApplication

        _gunicorn_without_server_header()
        sys.argv = ["gunicorn", *options, WSGI_APPLICATION]
        WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]", prog="gunicorn").run()
    elif server == "uvicorn":
        from uvicorn.main import main as uvicorn_main

        uvicorn_main.main(args=uvicorn_arguments(options), prog_name="uvicorn")
    elif server == "daphne":
        from daphne.cli import CommandLineInterface

        _daphne_closes_with_a_reason()
        CommandLineInterface().run(daphne_arguments(options))
    elif server == "prod":
        from coordinator.production import serve

        raise SystemExit(serve(options))
    else:
        raise SystemExit(f"{USAGE}; not {server!r}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(USAGE)
    run(sys.argv[1], sys.argv[2:])
