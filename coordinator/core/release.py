"""The release: what every kept answer, page part and feed is keyed by besides its data.

Entries in the shared cache are keyed by the stamps of the rows they show and by the fingerprint of the
templates they were rendered with, so a committed change or new markup never meets an old entry. The code
that builds them changes with a deploy as well (a view that shows one more column, a serializer that
formats a date anew): the release names the code, so that a deploy never serves an entry built by the
code it replaced.

``RELEASE`` (the environment) names it where the deployment does, e.g. the commit being deployed. Without
it, the release is a digest of the project's own code, templates and compiled translations, read once per
process (about 550 files, a few milliseconds).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from django.conf import settings

# The project's own parts whose change can change what an entry holds.
PARTS = ("coordinator", "organisations", "shadowing", "seminars", "focusgroups", "templates", "locale")
SUFFIXES = frozenset({".py", ".html", ".txt", ".mo", ".json"})


@cache
def release() -> str:
    named: str = getattr(settings, "RELEASE", "")
    if named:
        return named
    return source_digest(Path(settings.BASE_DIR))


def source_digest(base: Path) -> str:
    """A digest of the project's files under ``base``, by relative path and content, in a fixed order."""
    digest = hashlib.sha256()
    for part in PARTS:
        root = base / part
        if not root.is_dir():
            continue
        files = sorted(
            path
            for path in root.rglob("*")
            if path.suffix in SUFFIXES and "__pycache__" not in path.parts and path.is_file()
        )
        for path in files:
            digest.update(path.relative_to(base).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]
