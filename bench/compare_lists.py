"""Every API list's answers, saved once and compared byte for byte after a change to the API's code.

    .venv/bin/python bench/compare_lists.py --database /tmp/lists.sqlite3 --save /tmp/before.json
    # ... change the code ...
    .venv/bin/python bench/compare_lists.py --database /tmp/lists.sqlite3 --check /tmp/before.json

The first run migrates and seeds the SQLite database at ``--database`` (the demo programmes); later runs
reuse it, so both runs read the same rows, ids and times. For a coordinator and two staff members of the
demo programmes (``--user`` to choose others), every list route of the URL resolver is read at its default
page, at ``page_size=200``, with a filter-free ordering and in Danish, and every row of it through its
detail route; without a token too. Each answer's status, content type and body are kept; ``--check``
prints every answer that differs and exits 1 if any does (``--only /api/v1/seminars/`` checks only
those lists).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

USERS = ["johan.bergstrom", "lars.pettersson", "karin.nystrom"]


def setup_django(database: Path) -> None:
    fresh = not database.exists()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="coordinator.settings",
        DEBUG="0",
        SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN",
        ALLOWED_HOSTS="testserver,127.0.0.1",
        VAR_DIR=tempfile.mkdtemp(prefix="samverkan-bench-compare-"),
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="ERROR",
        API_THROTTLE_USER="100000000/minute",
        API_THROTTLE_ANON="100000000/minute",
        REDIS_URL="",
        DATABASE_URL=f"sqlite:///{database}",
    )
    import django

    django.setup()
    if fresh:
        from django.core.management import call_command

        call_command("migrate", "--noinput", verbosity=0)
        call_command("seed_demo", "--quiet")


def answers(users: list[str], only: tuple[str, ...] = ()) -> dict[str, list[object]]:
    from django.contrib.auth.models import User
    from django.test import Client
    from profile_lists import list_paths  # type: ignore[import-not-found]
    from rest_framework.authtoken.models import Token

    found: dict[str, list[object]] = {}

    def get(client: Client, key: str, path: str, **headers: str) -> object:
        response = client.get(path, **headers)
        found[key] = [response.status_code, response.get("Content-Type", ""), response.content.decode()]
        return response

    paths = [path for path in list_paths() if path.startswith(only)]
    for path in paths:
        get(Client(), f"anonymous {path}", path)
    for username in users:
        token = Token.objects.get_or_create(user=User.objects.get(username=username))[0].key
        client = Client(HTTP_AUTHORIZATION=f"Token {token}")
        for path in paths:
            get(client, f"{username} {path}", path)
            get(client, f"{username} {path} da", path, HTTP_ACCEPT_LANGUAGE="da")
            get(client, f"{username} {path}?ordering=-id", f"{path}?ordering=-id")
            response = get(client, f"{username} {path}?page_size=200", f"{path}?page_size=200")
            if getattr(response, "status_code", 0) != 200:
                continue
            for row in response.json().get("results", []):  # type: ignore[attr-defined]
                if isinstance(row, dict) and "id" in row:
                    detail = f"{path}{row['id']}/"
                    get(client, f"{username} {detail}", detail)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--user", action="append", default=[])
    parser.add_argument(
        "--only", action="append", default=[], help="--check only lists whose path starts so (repeatable)"
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--save", type=Path)
    action.add_argument("--check", type=Path)
    args = parser.parse_args()
    setup_django(args.database.resolve())
    only = tuple(args.only) or ("/",)
    found = answers(args.user or USERS, only)
    if args.save:
        args.save.write_text(json.dumps(found, ensure_ascii=False, indent=0))
        print(f"{len(found)} answers saved to {args.save}")
        return
    saved = {
        key: value
        for key, value in json.loads(args.check.read_text()).items()
        if key.split(" ")[1].startswith(only)
    }
    differ = sorted(key for key in saved.keys() | found.keys() if saved.get(key) != found.get(key))
    for key in differ:
        print(f"DIFFERS {key}\n  before: {str(saved.get(key))[:400]}\n  after:  {str(found.get(key))[:400]}")
    print(f"{len(found)} answers, {len(differ)} differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
