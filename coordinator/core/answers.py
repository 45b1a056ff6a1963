"""A list's first page answered whole from the cache while nothing it shows has changed.

A list of the API (``coordinator.core.plans.ListModelMixin``) that names its ``answer_topics`` keeps the
rendered bytes of its first page in the cache (Redis in production, shared by every process), keyed by:

- what the request asks: the view, its full address (the pagination links hold it), the accepted media
  type, the renderer, the API version, the language and the time zone, and the rows of the reader's
  programmes (their settings);
- the reader's rights as far as the list reads them (``answer_reader``: by default everything the list's
  shape key holds of the reader, their user, person and memberships; a list that reads less says so, e.g.
  the roles in each programme and the organisation, so that readers of the same rights share entries);
- the stamps of every topic the list shows, in every programme of the reader (``AnswerStamp``).

A topic's stamp is renewed by database triggers (``TopicWatch``, installed by the apps' migrations with
``coordinator.core.content.install``) in the writer's own transaction, whoever writes: services, the admin
site, ``update()``, ``bulk_create()``, raw SQL and other processes alike. Topics are narrow, so frequent
writes only drop the lists they change: an enrolment renews ``rounds`` (seats taken, the queue), not
``slots`` or ``courses``; a visit request renews ``requests``, not ``rounds``.

The stamps are read in one query before anything else of the list, so an entry never holds rows older than
its stamps: a change committed between the two reads is under a newer stamp, which the next request reads.
A stamp never comes again (``coordinator.core.content.STAMP``), so an entry written by a transaction that
rolls back is never met. A list whose answer changes with the clock says when
(``answer_changes_at``: the earliest moment after which its rows would be written differently), and its
entry is not served from then on. Only a ``200`` answer in JSON of a ``GET`` is kept; everything else, and
every request while ``API_ANSWER_CACHE`` is off, is answered as before.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.cache import cache as django_cache
from django.db.models import Model
from django.utils import timezone, translation
from rest_framework.request import Request
from rest_framework.response import Response

from coordinator.core.content import STAMP, Watch
from coordinator.core.models import AnswerStamp
from coordinator.core.tenancy import active_programme_ids

TABLE = "coordinator_answerstamp"
# Entries of stamps no longer current are left to expire: soon, since a list read per reader (requests)
# leaves an entry behind at every change of its topic, and a list read often is built again within minutes.
CACHE_SECONDS = 15 * 60

logger = logging.getLogger(__name__)


# --- The triggers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicWatch(Watch):
    """A table whose rows' changes renew a topic's stamp in their programmes (``Watch``'s triggers, writing
    to ``AnswerStamp``). ``columns``: an update renews the stamp only when it sets one of these."""

    topic: str = ""

    def _bump(self, row: str, vendor: str) -> str:
        select = self.programmes.replace("ROW.", f"{row}.")
        stamp = STAMP[vendor]
        # Each programme once, before the stamp is drawn: a row reached through several rows of one programme
        # (a user with two requests in it) would otherwise propose that programme twice, which PostgreSQL's
        # ON CONFLICT refuses (a stamp drawn per row makes the rows distinct).
        return (
            f"INSERT INTO {TABLE} (programme_id, topic, version) "  # noqa: S608 - our own constants, never input
            f"SELECT d.programme_id, '{self.topic}', {stamp} FROM (SELECT DISTINCT s.programme_id "
            f"FROM ({select}) s) d WHERE d.programme_id IS NOT NULL "  # SQLite's upsert needs a WHERE here
            f"ON CONFLICT (programme_id, topic) DO UPDATE SET version = {stamp};"
        )


def watch(topic: str, table: str, programmes: str, *, columns: tuple[str, ...] = ()) -> TopicWatch:
    """``programmes`` selects the programme keys of one row, as for ``Watch``."""
    return TopicWatch(f"{table}_answers_{topic}", table, programmes, columns, topic)


def direct(topic: str, table: str, *, columns: tuple[str, ...] = ()) -> TopicWatch:
    """A table with its own ``programme_id``."""
    return watch(topic, table, "SELECT ROW.programme_id AS programme_id", columns=columns)


def through(topic: str, table: str, column: str, parent: str, *, columns: tuple[str, ...] = ()) -> TopicWatch:
    """A table whose ``column`` points at a row of ``parent``, which has its own ``programme_id``."""
    select = f"SELECT programme_id FROM {parent} WHERE id = ROW.{column}"  # noqa: S608 - migrations' constants
    return watch(topic, table, select, columns=columns)


# --- The readers' rights --------------------------------------------------------------------------------


class _Membership(Protocol):
    roles: frozenset[str]


class Reader(Protocol):
    @property
    def user(self) -> object: ...

    @property
    def memberships(self) -> Mapping[int, _Membership]: ...

    @property
    def organisation_id(self) -> int | None: ...


def _user_flags(actor: Reader) -> tuple[bool, bool, bool]:
    user = actor.user
    return (
        bool(getattr(user, "is_active", False)),
        bool(getattr(user, "is_staff", False)),
        bool(getattr(user, "is_superuser", False)),
    )


def roles(actor: Reader) -> tuple[object, ...]:
    """The reader's programmes with their roles: for a list that shows every member of a programme the
    same rows, and more to some roles (drafts to coordinators)."""
    held = tuple(sorted((pid, tuple(sorted(info.roles))) for pid, info in actor.memberships.items()))
    return ("roles", _user_flags(actor), held)


def roles_and_organisation(actor: Reader) -> tuple[object, ...]:
    """``roles``, and the reader's organisation (a list that shows its own organisation's drafts)."""
    return (*roles(actor), actor.organisation_id)


# --- The entries ----------------------------------------------------------------------------------------


def _programme_rows(actor: object) -> tuple[object, ...]:
    programmes: Mapping[int, Model] = getattr(actor, "programmes", {})
    return tuple(
        (pid, tuple(getattr(programme, f.attname) for f in type(programme)._meta.concrete_fields))
        for pid, programme in sorted(programmes.items())
    )


def stamps(programme_ids: Iterable[int], topics: Sequence[str]) -> tuple[tuple[int, str, int], ...]:
    """The topics' stamps in the programmes, in one query (``0``: no change since the triggers exist)."""
    ids = sorted(programme_ids)
    found = {
        (pid, topic): version
        for pid, topic, version in AnswerStamp.objects.filter(
            programme_id__in=ids, topic__in=topics
        ).values_list("programme_id", "topic", "version")
    }
    return tuple((pid, topic, found.get((pid, topic), 0)) for pid in ids for topic in sorted(topics))


class StoredAnswer(Response):
    """A kept answer: the rendered bytes, with the ``Content-Type`` DRF's ``Response`` would set."""

    def __init__(self, body: bytes) -> None:
        super().__init__(data=None)
        self.body = body

    @property
    def rendered_content(self) -> bytes:  # type: ignore[override]  # DRF renders bytes, as here
        renderer = self.accepted_renderer
        content_type = self.content_type
        if content_type is None and renderer.charset is not None:
            content_type = f"{renderer.media_type}; charset={renderer.charset}"
        elif content_type is None:
            content_type = renderer.media_type
        self["Content-Type"] = content_type
        return self.body


@dataclass
class Answer:
    """One request's entry: found, or kept once its answer is rendered."""

    key: str
    started: datetime.datetime
    changes_at: Callable[[object, datetime.datetime], datetime.datetime | None] | None

    def lookup(self) -> StoredAnswer | None:
        try:
            entry: tuple[datetime.datetime | None, bytes] | None = django_cache.get(self.key)
        except Exception:  # noqa: BLE001 - an unreachable cache costs speed, never the answer
            logger.warning("answer cache unreachable; list built without it", exc_info=True)
            return None
        if entry is None:
            return None
        until, body = entry
        if until is not None and timezone.now() >= until:
            return None
        return StoredAnswer(body)

    def keep(self, response: Response) -> None:
        """Keep the answer once rendered, when it is a whole list's first page."""
        if type(response) is not Response or response.status_code != 200:
            return
        until = self.changes_at(response.data, self.started) if self.changes_at is not None else None
        timeout = CACHE_SECONDS
        if until is not None:
            timeout = min(timeout, max(1, int((until - self.started).total_seconds()) + 1))

        def store(rendered: Response) -> None:
            try:
                django_cache.set(self.key, (until, bytes(rendered.content)), timeout)
            except Exception:  # noqa: BLE001 - as above
                logger.warning("answer cache unreachable; answer not kept", exc_info=True)

        response.add_post_render_callback(store)


def answer_for(view: object, request: Request, shape_key: tuple[object, ...]) -> Answer | None:
    """The entry of this list request (``shape_key``: ``coordinator.core.shapes.shape_key``), its topics'
    stamps read now; ``None`` when it is answered the usual way (the cache off, a list without topics, not
    a ``GET`` in JSON, no programme scope)."""
    topics: tuple[str, ...] = getattr(view, "answer_topics", ())
    if not (settings.API_ANSWER_CACHE and topics) or request.method != "GET":
        return None
    renderer = getattr(request, "accepted_renderer", None)
    if getattr(renderer, "format", None) != "json":
        return None
    programme_ids = active_programme_ids()
    actor = getattr(view, "actor", None)
    if programme_ids is None or actor is None:
        return None
    reader: Callable[[Reader], tuple[object, ...]] | None = getattr(view, "answer_reader", None)
    rights = reader(actor) if reader is not None else shape_key
    started = timezone.now()
    parts = (
        type(view).__module__,
        type(view).__qualname__,
        request.build_absolute_uri(),
        getattr(request, "accepted_media_type", None),
        renderer.format,  # type: ignore[union-attr]
        getattr(request, "version", None),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        _programme_rows(actor),
        rights,
        stamps(programme_ids, topics),
    )
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return Answer(f"answer:{digest}", started, getattr(view, "answer_changes_at", None))


def next_moment(data: object, after: datetime.datetime, fields: Sequence[str]) -> datetime.datetime:
    """The earliest of the page's ``fields`` (date-times as written in the answer) later than ``after``:
    for a list whose rows are written by comparing these columns with the clock. ``CACHE_SECONDS`` ahead at
    most (an entry is kept no longer anyway); ``after`` itself (never served) when the answer is not a
    page."""
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        return after
    moment = after + datetime.timedelta(seconds=CACHE_SECONDS)
    for row in results:
        for name in fields:
            value = row.get(name) if isinstance(row, dict) else None
            if value is None:
                continue
            try:
                at = datetime.datetime.fromisoformat(str(value))
            except ValueError:
                return after
            if at.tzinfo is None:
                return after
            if after < at < moment:
                moment = at
    return moment
