"""What one person's own calendar shows them, stamped per person.

``PersonalStamp`` holds, per person, a value renewed by database triggers (``PersonWatch``: the machinery of
``coordinator.core.content.Watch``, installed by the apps' migrations with ``content.install``) whenever a
row their personal feed shows changes: their enrolments, the sessions, rounds and courses of those, their
visits and the workplaces, requests, organisations and people of those, their focus groups' meetings and
agendas, their memberships, their feed address, their language and their programmes. The triggers run in
the writer's own transaction, whoever writes: services, the admin site, ``update()``, ``bulk_create()``,
raw SQL and other processes alike. A change seen by many people (a moved session) renews the stamp of each
of them, and only theirs: a booking renews its own person's stamp, not everyone's in the programme.

A stamp never comes again (``coordinator.core.content.STAMP``), so a cache entry keyed by it and written by
a transaction that rolls back is never met. ``0`` means nothing the person sees has changed since the
triggers exist. A reader takes the stamp before the rows it shows (``stamp_of`` or, in the query that reads
the person anyway, ``stamp_subquery``): an entry then never holds rows older than its stamp.

Another page may key its personal parts by the same stamp only as far as they show what the feed shows:
the stamp covers every booking's status (waiting, offered and cancelled ones too), placements and their
days, group memberships and meetings, memberships and the account's name, address, phone and language; it
does not cover shadowing requests that have no placement yet (so that filing one renews nothing),
notifications, roles, or seats taken. My page keeps its history under the stamp (``kept``): the stamp also
covers course completions and their courses, visits' reflections and hosts' feedback, and focus-group
seats' roles and dates (``MY_PAGE_MIGRATIONS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import BigIntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from coordinator.core.content import STAMP, Recent, Watch, cache_key, through_cache
from coordinator.core.models import PersonalStamp

T = TypeVar("T")

TABLE = "coordinator_personalstamp"


@dataclass(frozen=True)
class PersonWatch(Watch):
    """A table whose rows' changes renew the stamps of some people (``Watch``'s triggers, writing to
    ``PersonalStamp``). Here ``programmes`` selects the *person* keys of one row, naming its column
    ``person_id`` (e.g. ``SELECT ROW.person_id AS person_id``); ``columns``: an update renews the stamps
    only when it sets one of these (empty: any update does)."""

    def _bump(self, row: str, vendor: str) -> str:
        select = self.programmes.replace("ROW.", f"{row}.")
        stamp = STAMP[vendor]
        # Each person once, before the stamp is drawn (PostgreSQL's ON CONFLICT refuses a row proposed twice),
        # and in the order of their keys, so that two writers renewing overlapping people lock the rows in the
        # same order.
        return (
            f"INSERT INTO {TABLE} (person_id, version) "  # noqa: S608 - our own constants, never input
            f"SELECT d.person_id, {stamp} FROM (SELECT DISTINCT s.person_id FROM ({select}) s) d "
            "WHERE d.person_id IS NOT NULL ORDER BY d.person_id "  # SQLite's upsert needs a WHERE here
            f"ON CONFLICT (person_id) DO UPDATE SET version = {stamp};"
        )


def watch(label: str, table: str, people: str, *, columns: tuple[str, ...] = ()) -> PersonWatch:
    """``people`` selects the person keys of one row, written with ``ROW`` for the row (``NEW``/``OLD``)."""
    return PersonWatch(f"{table}_personal_{label}", table, people, columns)


def own(table: str, column: str = "person_id", *, columns: tuple[str, ...] = ()) -> PersonWatch:
    """A table whose ``column`` names the person the row belongs to."""
    return watch("own", table, f"SELECT ROW.{column} AS person_id", columns=columns)


def stamp_of(person_id: int) -> int:
    """The person's stamp now, in one query."""
    found = PersonalStamp.objects.filter(person_id=person_id).values_list("version", flat=True).first()
    return found or 0


def stamp_subquery(person: str = "pk") -> Coalesce:
    """The stamp of the person in the outer query's ``person`` column, to annotate a query that reads the
    person anyway (no query of its own): ``Person.objects.annotate(stamp=stamp_subquery())``."""
    versions = PersonalStamp.objects.filter(person_id=OuterRef(person)).values("version")[:1]
    return Coalesce(Subquery(versions), Value(0), output_field=BigIntegerField())


# --- Parts of pages kept per person -----------------------------------------------------------------------

# The migrations whose triggers renew the stamp for what my page keeps, beyond the feed's.
MY_PAGE_MIGRATIONS = (
    "seminars.migrations.0011_my_page_stamp_triggers",
    "shadowing.migrations.0012_my_page_stamp_triggers",
    "focusgroups.migrations.0009_my_page_stamp_triggers",
)


# The people signed in to one process at a time; an entry is a few kilobytes of text.
RECENT = Recent(512)


def kept(
    page: str,
    person_id: int,
    programme_id: int,
    stamp: int,
    templates: tuple[str, ...],
    build: Callable[[], T],
) -> T:
    """A page's part for one person in one programme, kept under their stamp (read before ``build`` reads
    its rows), the active language and zone and the templates' fingerprint; built when missing. Without
    a stamp (nothing of the person written since the triggers exist) nothing is kept. Entries are shared
    between the process's threads: never change one."""
    if not stamp:
        return build()
    key = cache_key(f"personal:{page}:{person_id}", programme_id, stamp, templates)
    return through_cache(key, build, RECENT, "personal", page)
