"""What the garbage collector's full collections cost an API request, and what freezing the loaded application
(``coordinator/wsgi.py`` does so under a WSGI server) saves: every API list in-process, interleaved rounds
with the application's objects frozen and not, mean processor time per request over all requests (full
collections included, unlike the best-of-rounds figure of ``profile_lists.py``) and the collector's own time.

    .venv/bin/python bench/gc_freeze.py [--repeat 10] [--rounds 6]
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from profile_lists import list_paths, setup_django  # noqa: E402 (the bench folder is not a package)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--user", default="johan.bergstrom")
    args = parser.parse_args()
    setup_django()
    logging.disable(logging.INFO)
    from django.contrib.auth.models import User
    from django.test import Client
    from rest_framework.authtoken.models import Token

    import coordinator.urls  # noqa: F401 (loaded before freezing, as coordinator/wsgi.py does)

    token = Token.objects.get_or_create(user=User.objects.get(username=args.user))[0].key
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    paths = ["/healthz", *list_paths()]
    for path in paths:
        client.get(path)
    collector = {"started": 0.0, "seconds": 0.0}

    def measure(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collector["started"] = time.perf_counter()
        else:
            collector["seconds"] += time.perf_counter() - collector["started"]

    gc.callbacks.append(measure)
    cpu = {False: 0.0, True: 0.0}
    spent_in_gc = {False: 0.0, True: 0.0}
    requests = 0
    for round_number in range(args.rounds * 2):
        frozen = round_number % 2 == 1
        if frozen:
            gc.freeze()
        else:
            gc.unfreeze()
        collector["seconds"] = 0.0
        started = time.process_time()
        for path in paths:
            for _ in range(args.repeat):
                client.get(path)
        cpu[frozen] += time.process_time() - started
        spent_in_gc[frozen] += collector["seconds"]
        requests += len(paths) * args.repeat if frozen else 0
    gc.unfreeze()
    print(
        f"{len(paths)} paths (/healthz and every API list), {args.repeat} requests each, {args.rounds} rounds"
    )
    for frozen in (False, True):
        label = "frozen" if frozen else "not frozen"
        print(
            f"{label:<11} processor ms per request {cpu[frozen] / requests * 1000:6.2f}"
            f"   of which garbage collector {spent_in_gc[frozen] / requests * 1000:5.2f}"
        )


if __name__ == "__main__":
    main()
