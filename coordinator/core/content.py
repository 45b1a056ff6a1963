"""Pages' content that every viewer of a programme sees alike, cached under the programme's content stamp.

``ContentVersion`` stamps the changes of a programme's slow-changing rows. The stamp is renewed by database
triggers (``Watch`` below, installed by each app's migrations with ``install``/``uninstall``), in the
writer's own transaction, so every writer is covered: services, the admin site, ``update()``,
``bulk_create()``, raw SQL and other processes alike. A page reads the stamp in a query it makes anyway
(``version_rows``), and keys its cache entry by programme, language, time zone, stamp and the fingerprint
of the templates the entry was written with and the release (``cache_key``): a committed change, a new
language or a deploy never meets an old entry, and an entry of one programme is never another's.

What a viewer sees of their own (bookings, rights, seats left) is never in an entry: the page computes
it on each request and fills it into the entry's ``Fragment``s.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from django.core.cache import cache as django_cache
from django.db import models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import F, QuerySet, Value
from django.template import engines
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from coordinator.core.models import ContentVersion
from coordinator.core.release import release

TABLE = "coordinator_contentversion"
# A change writes a stamp that never comes again, not the count plus one: a transaction that renders a page
# after its own change and then rolls back leaves an entry under a stamp that no later change reuses.
SEQUENCE = "coordinator_contentversion_stamp"
STAMP = {"postgresql": f"nextval('{SEQUENCE}')", "sqlite": "random()"}
# Entries of versions no longer current are left to expire.
CACHE_SECONDS = 24 * 3600

T = TypeVar("T")
logger = logging.getLogger(__name__)


# --- The triggers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Watch:
    """One table whose rows' changes raise their programmes' content version.

    ``programmes`` selects the programme keys of one row, written with ``ROW`` for the row (``NEW`` or
    ``OLD``) and naming its column ``programme_id``, e.g. ``SELECT ROW.programme_id AS programme_id`` or
    ``SELECT programme_id FROM seminars_course WHERE id = ROW.course_id``. ``columns``: an update raises
    the version only when it sets one of these (empty: any update does); leave out the counters a page
    computes live (a round's seats taken), so a booking keeps the cached content.
    """

    name: str
    table: str
    programmes: str
    columns: tuple[str, ...] = ()

    def _bump(self, row: str, vendor: str) -> str:
        select = self.programmes.replace("ROW.", f"{row}.")
        stamp = STAMP[vendor]
        return (
            f"INSERT INTO {TABLE} (programme_id, version) "  # noqa: S608 - our own constants, never input
            f"SELECT s.programme_id, {stamp} FROM ({select}) s WHERE s.programme_id IS NOT NULL "
            f"ON CONFLICT (programme_id) DO UPDATE SET version = {stamp};"
        )

    def _update_of(self) -> str:
        return f"UPDATE OF {', '.join(self.columns)}" if self.columns else "UPDATE"

    def create_sql(self, vendor: str) -> list[str]:
        if vendor == "postgresql":
            function = f"{self.name}_bump"
            return [
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                "BEGIN\n"
                f"  IF TG_OP <> 'DELETE' THEN {self._bump('NEW', vendor)} END IF;\n"
                f"  IF TG_OP <> 'INSERT' THEN {self._bump('OLD', vendor)} END IF;\n"
                "  RETURN NULL;\n"
                "END $$;",
                f"CREATE TRIGGER {self.name} AFTER INSERT OR DELETE OR {self._update_of()} ON {self.table} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}();",
            ]
        if vendor == "sqlite":
            return [
                f"CREATE TRIGGER {self.name}_insert AFTER INSERT ON {self.table} FOR EACH ROW "
                f"BEGIN {self._bump('NEW', vendor)} END;",
                f"CREATE TRIGGER {self.name}_update AFTER {self._update_of()} ON {self.table} FOR EACH ROW "
                f"BEGIN {self._bump('NEW', vendor)} {self._bump('OLD', vendor)} END;",
                f"CREATE TRIGGER {self.name}_delete AFTER DELETE ON {self.table} FOR EACH ROW "
                f"BEGIN {self._bump('OLD', vendor)} END;",
            ]
        raise NotImplementedError(
            f"content version triggers are written for PostgreSQL and SQLite, not {vendor}"
        )

    def drop_sql(self, vendor: str) -> list[str]:
        if vendor == "postgresql":
            return [
                f"DROP TRIGGER IF EXISTS {self.name} ON {self.table};",
                f"DROP FUNCTION IF EXISTS {self.name}_bump();",
            ]
        return [f"DROP TRIGGER IF EXISTS {self.name}_{op};" for op in ("insert", "update", "delete")]


def install(watches: Iterable[Watch]) -> Callable[[object, BaseDatabaseSchemaEditor], None]:
    """A ``RunPython`` step that creates the triggers on the migrating database."""

    def run(apps: object, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}", params=None)
        for watch in watches:
            for statement in watch.create_sql(schema_editor.connection.vendor):
                schema_editor.execute(statement, params=None)

    return run


def uninstall(watches: Iterable[Watch]) -> Callable[[object, BaseDatabaseSchemaEditor], None]:
    """The reverse of ``install``."""

    def run(apps: object, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for watch in watches:
            for statement in watch.drop_sql(schema_editor.connection.vendor):
                schema_editor.execute(statement, params=None)

    return run


# --- Reading the version with other rows ----------------------------------------------------------------

VERSION_KIND = "version"


VersionRow = tuple[str, int, int, str]


def version_rows(programme_id: int) -> QuerySet[ContentVersion, VersionRow]:
    """The programme's content version as one row ``(VERSION_KIND, version, 0, "")``, to be joined with
    ``union()`` to a query of four columns of the same kinds (text, integer, integer, text) that the page
    makes anyway; no row while nothing has been written."""
    return (
        ContentVersion.objects.filter(programme_id=programme_id)
        .order_by()
        .values_list(
            Value(VERSION_KIND, output_field=models.CharField()),
            F("version"),
            Value(0, output_field=models.BigIntegerField()),
            Value("", output_field=models.CharField()),
        )
    )


# --- The cache ------------------------------------------------------------------------------------------


@cache
def _fingerprint(template_names: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for name in template_names:
        template = engines["django"].get_template(name)
        digest.update(template.template.source.encode())  # type: ignore[attr-defined]
    return digest.hexdigest()[:16]


def cache_key(page: str, programme_id: int, version: int, templates: tuple[str, ...]) -> str:
    # The zone is the programme's (set with it, and a change of it renews the stamp); in the key as well,
    # so that an entry is never read in a zone other than the one its dates were written in.
    zone = timezone.get_current_timezone_name()
    fingerprint = _fingerprint(templates)
    return f"content:{page}:{programme_id}:{get_language()}:{zone}:{version}:{fingerprint}:{release()}"


class Recent:
    """The last entries this process read or wrote, by their full key, kept as objects (a small LRU shared
    by the process's threads).

    For ``cached``: unpickling an entry from the shared cache on every request cost more than the rest of
    the page's own work. A key names programme, language, zone, stamp and templates, and a stamp is never
    reused, so an entry found here is the one the shared cache holds under the same key: it can be old
    only in being unused."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> object | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: object) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# A few pages per programme and language; entries are a programme's courses or workplace cards.
RECENT = Recent(64)


def cached(
    page: str, programme_id: int, version: int, templates: tuple[str, ...], build: Callable[[], T]
) -> T:
    """The page's entry for the programme, the active language and the version, built when missing.
    Entries are shared between the process's threads and requests: never change one."""
    # Without a stamp (a programme nothing has been written for) the key would not name the content.
    key = cache_key(page, programme_id, version, templates)
    return through_cache(key, build, RECENT if version else None, "content", page)


def through_cache(key: str, build: Callable[[], T], recent: Recent | None, cache: str, page: str) -> T:
    """The entry under ``key``: from ``recent`` (this process), else the shared cache, else ``build``
    (and kept in both). An unreachable shared cache costs speed, never the page."""
    entry: T | None = recent.get(key) if recent is not None else None  # type: ignore[assignment]
    if entry is not None:
        return entry
    try:
        entry = django_cache.get(key)
    except Exception:  # noqa: BLE001 - an unreachable cache costs speed, never the page
        logger.warning("%s cache unreachable; %s built without it", cache, page, exc_info=True)
        return build()
    if entry is None:
        entry = build()
        try:
            django_cache.set(key, entry, CACHE_SECONDS)
        except Exception:  # noqa: BLE001 - as above
            logger.warning("%s cache unreachable; %s not stored", cache, page, exc_info=True)
    if recent is not None:
        recent.put(key, entry)
    return entry


# --- Fragments: cached markup with gaps for what each viewer sees of their own --------------------------

_GAP = re.compile(r"<!--live:([a-z_]+)-->")


def gap(name: str) -> SafeString:
    """Where a fragment's template leaves room for a live part. Escaped text never holds ``<!--``, so a
    gap cannot be forged by a course title or a description."""
    return mark_safe(f"<!--live:{name}-->")  # noqa: S308 - a fixed marker of our own


@dataclass(frozen=True)
class Fragment:
    """Rendered markup split at its gaps: static text, a gap's name, static text, ..."""

    parts: tuple[str, ...]

    @classmethod
    def render(cls, template_name: str, context: Mapping[str, object]) -> Fragment:
        return cls(tuple(_GAP.split(render_to_string(template_name, dict(context)))))

    def fill(self, live: Mapping[str, str]) -> str:
        parts = self.parts
        return "".join(part if i % 2 == 0 else live[part] for i, part in enumerate(parts))


def direct(name: str, table: str, *, columns: tuple[str, ...] = ()) -> Watch:
    """A table with its own ``programme_id``."""
    return Watch(name, table, "SELECT ROW.programme_id AS programme_id", columns)


def through(name: str, table: str, column: str, parent: str, *, columns: tuple[str, ...] = ()) -> Watch:
    """A table whose ``column`` points at a row of ``parent``, which has its own ``programme_id``."""
    select = f"SELECT programme_id FROM {parent} WHERE id = ROW.{column}"  # noqa: S608 - migrations' constants
    return Watch(name, table, select, columns)
