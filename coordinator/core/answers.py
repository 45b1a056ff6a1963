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
With an API token they are read in the token's own query, with the reader's memberships (``stamp_topics``
names them before the reader is known, ``stamp_of`` reads one in the membership's programme, the actor holds
them as ``ReadStamps``): a kept answer then costs that one query.
A stamp never comes again (``coordinator.core.content.STAMP``), so an entry written by a transaction that
rolls back is never met. A list whose answer changes with the clock says when
(``answer_changes_at``: the earliest moment after which its rows would be written differently), and its
entry is not served from then on. Only a ``200`` answer in JSON of a ``GET`` is kept; everything else, and
every request while ``API_ANSWER_CACHE`` is off, is answered as before.

A list whose rows hold a few values that change far more often than the rest (a round's seats, changed by
every enrolment) names them as its ``answer_live`` (``Live``): a topic of their own, the fields and a read
of their current values for the page's rows by id, in one query. The entry is keyed without that topic's
stamps and holds its rendered bytes cut at those values, with the live stamps it was built under; while
they are current the bytes are served as they are; once a write renewed them, the values are read anew,
filled in, and the entry kept again under the new stamps (the values read after the stamps, so never older
than them). The cut is checked when the entry is made: filled with the page's own values it must give the
bytes just rendered, or the answer is not kept.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.cache import cache as django_cache
from django.db.models import BigIntegerField, Model, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from rest_framework.request import Request
from rest_framework.response import Response

from coordinator.core.content import STAMP, Watch
from coordinator.core.models import AnswerStamp
from coordinator.core.prepared import PreparedRows
from coordinator.core.release import release
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


StampRow = tuple[int, str, int]  # the programme, the topic, the stamp
Stamps = tuple[StampRow, ...]
# A programme key no row has, standing for the reader's programme while the query is compiled.
_STAND_IN = -7001
_PREPARED: dict[tuple[str, ...], PreparedRows[AnswerStamp, StampRow]] = {}


def _stamp_rows(programme_ids: Sequence[int], topics: Sequence[str]) -> QuerySet[AnswerStamp, StampRow]:
    return AnswerStamp.objects.filter(programme_id__in=programme_ids, topic__in=topics).values_list(
        "programme_id", "topic", "version"
    )


def _prepared(topics: tuple[str, ...]) -> PreparedRows[AnswerStamp, StampRow]:
    prepared = _PREPARED.get(topics)
    if prepared is None:
        # ``AnswerStamp`` has no tenant scope of its own: the one branch names its programme.
        prepared = _PREPARED.setdefault(
            topics, PreparedRows(lambda programme_id: _stamp_rows([programme_id], topics), (_STAND_IN,))
        )
    return prepared


def stamp_of(topic: str) -> Coalesce:
    """The topic's stamp in the programme of the outer query's row (its ``programme_id``), ``0`` without one:
    for a query that reads the stamps in the same statement as the reader's rights (an API call's identity,
    ``organisations.permissions.token_identity``)."""
    version = AnswerStamp.objects.filter(programme_id=OuterRef("programme_id"), topic=topic).values("version")
    # (programme, topic) is unique: at most one row, so no LIMIT.
    return Coalesce(Subquery(version), Value(0), output_field=BigIntegerField())


@dataclass(frozen=True)
class ReadStamps:
    """Stamps read with the reader's rights in one statement, at the start of the request (see
    ``stamp_topics``): ``topics`` (sorted, each once) in each of ``programme_ids`` (the programmes whose
    rights were read), ``versions`` by (programme, topic). Held by the request's reader only, never kept
    beyond the request."""

    topics: tuple[str, ...]
    programme_ids: frozenset[int]
    versions: Mapping[tuple[int, str], int]

    def of(self, programme_ids: Iterable[int], topics: Sequence[str]) -> Stamps | None:
        """``stamps(programme_ids, topics)`` from what was read; ``None`` when it does not hold them all."""
        ids = sorted(programme_ids)
        wanted = tuple(sorted(set(topics)))
        if wanted != self.topics or not self.programme_ids.issuperset(ids):
            return None
        return tuple((pid, topic, self.versions.get((pid, topic), 0)) for pid in ids for topic in wanted)


def _topics_read(view: object) -> tuple[str, ...]:
    topics: tuple[str, ...] = getattr(view, "answer_topics", ())
    live: Live | None = getattr(view, "answer_live", None)
    return topics if live is None else (*topics, live.topic)


def stamp_topics(view: object, request: Request) -> tuple[str, ...]:
    """The topics whose stamps ``answer_for`` will read for this request of ``view`` (sorted, each once), as
    far as it is known before the reader is (a viewset's list, a ``GET`` in JSON while the cache is on);
    ``()`` when it reads none. For the query that reads the reader's rights: it reads these stamps too."""
    topics: tuple[str, ...] = getattr(view, "answer_topics", ())
    if not (settings.API_ANSWER_CACHE and topics) or request.method != "GET":
        return ()
    if getattr(view, "action", None) != "list" or not (settings.API_LIST_PLANS and settings.API_LIST_SHAPES):
        return ()
    # A later page is never kept (``plans.ListModelMixin``: no shape key, no answer).
    if getattr(getattr(view, "paginator", None), "page_query_param", None) in request.query_params:
        return ()
    if getattr(getattr(request, "accepted_renderer", None), "format", None) != "json":
        return ()
    return tuple(sorted(set(_topics_read(view))))


def stamps(programme_ids: Iterable[int], topics: Sequence[str]) -> tuple[tuple[int, str, int], ...]:
    """The topics' stamps in the programmes, in one query (``0``: no change since the triggers exist).

    For a reader of one programme (nearly every request) the query's SQL is compiled once per connection
    (``PreparedRows``): building and compiling the queryset cost more processor time than the database
    takes to answer it. Nothing but the SQL is kept: every call reads the stamps."""
    ids = sorted(programme_ids)
    wanted = tuple(sorted(set(topics)))
    rows = _prepared(wanted).fetch(ids[0]) if len(ids) == 1 else list(_stamp_rows(ids, wanted))
    found = {(pid, topic): version for pid, topic, version in rows}
    return tuple((pid, topic, found.get((pid, topic), 0)) for pid in ids for topic in wanted)


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


@dataclass(frozen=True)
class Live:
    """Values of a kept list's rows read anew whenever ``topic``'s stamp was renewed since the entry was
    kept: ``fields`` of each row, ``read(ids)`` their current values by the rows' ``id`` (one query; a row
    missing from it makes the list be built anew)."""

    topic: str
    fields: tuple[str, ...]
    read: Callable[[Sequence[int]], Mapping[int, Mapping[str, object]]]


@dataclass(frozen=True)
class Cut:
    """An entry's bytes cut at its live values: ``parts`` around them, ``places`` (row, field) in order,
    ``ids`` the rows' ids, ``stamps`` the live topic's stamps the bytes were built under."""

    parts: tuple[bytes, ...]
    places: tuple[tuple[int, str], ...]
    ids: tuple[int, ...]
    stamps: Stamps

    def fill(self, values: Mapping[int, Mapping[str, object]]) -> bytes | None:
        out = [self.parts[0]]
        for (row, field), part in zip(self.places, self.parts[1:], strict=True):
            current = values.get(self.ids[row])
            if current is None or field not in current:
                return None
            out.append(json.dumps(current[field]).encode())
            out.append(part)
        return b"".join(out)


def _cut(response: Response, body: bytes, live: Live, stamps: Stamps) -> Cut | None:
    """The rendered page cut at its live values: the page rendered again with a marker of its own in each
    live place, split there; ``None`` when it is not a page of rows with ids and the fields, or when the
    cut filled with the page's own values is not exactly ``body``."""
    data = response.data
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        return None
    mark = secrets.token_hex(12)  # never in a row's text: the split below finds only these places
    marked_rows: list[dict[str, object]] = []
    places: list[tuple[int, str]] = []
    ids: list[int] = []
    values: dict[int, dict[str, object]] = {}
    for index, row in enumerate(results):
        if not isinstance(row, Mapping) or not isinstance(row.get("id"), int):
            return None
        if any(field not in row for field in live.fields):
            return None
        marked = dict(row)
        for field in live.fields:
            marked[field] = f"live{mark}x{len(places)}"
            places.append((index, field))
        marked_rows.append(marked)
        ids.append(row["id"])
        values[row["id"]] = {field: row[field] for field in live.fields}
    renderer = response.accepted_renderer
    context = getattr(response, "renderer_context", None)  # set by DRF's view when it finalised the answer
    marked_body = renderer.render({**data, "results": marked_rows}, response.accepted_media_type, context)
    if not isinstance(marked_body, bytes):
        return None
    pieces = re.split(b'"live' + mark.encode() + rb'x(\d+)"', marked_body)
    if [int(n) for n in pieces[1::2]] != list(range(len(places))):
        return None
    cut = Cut(tuple(pieces[0::2]), tuple(places), tuple(ids), stamps)
    return cut if cut.fill(values) == body else None


Entry = tuple[datetime.datetime | None, bytes, Cut | None]


@dataclass
class Answer:
    """One request's entry: found, or kept once its answer is rendered."""

    key: str
    started: datetime.datetime
    changes_at: Callable[[object, datetime.datetime], datetime.datetime | None] | None
    live: Live | None = None
    live_stamps: Stamps = ()

    def lookup(self) -> StoredAnswer | None:
        try:
            entry: Entry | None = django_cache.get(self.key)
        except Exception:  # noqa: BLE001 - an unreachable cache costs speed, never the answer
            logger.warning("answer cache unreachable; list built without it", exc_info=True)
            return None
        if entry is None:
            return None
        until, body, cut = entry
        if until is not None and timezone.now() >= until:
            return None
        if cut is not None and cut.stamps != self.live_stamps:
            if self.live is None:
                return None
            filled = cut.fill(self.live.read(cut.ids))
            if filled is None:
                return None
            body = filled
            self._set((until, body, Cut(cut.parts, cut.places, cut.ids, self.live_stamps)), until)
        return StoredAnswer(body)

    def _set(self, entry: Entry, until: datetime.datetime | None) -> None:
        timeout = CACHE_SECONDS
        if until is not None:
            timeout = min(timeout, max(1, int((until - timezone.now()).total_seconds()) + 1))
        try:
            django_cache.set(self.key, entry, timeout)
        except Exception:  # noqa: BLE001 - as above
            logger.warning("answer cache unreachable; answer not kept", exc_info=True)

    def keep(self, response: Response) -> None:
        """Keep the answer once rendered, when it is a whole list's first page."""
        if type(response) is not Response or response.status_code != 200:
            return
        until = self.changes_at(response.data, self.started) if self.changes_at is not None else None
        live = self.live

        def store(rendered: Response) -> None:
            body = bytes(rendered.content)
            cut = None
            if live is not None:
                cut = _cut(rendered, body, live, self.live_stamps)
                if cut is None:
                    return  # its live values could not be found again: built anew every time, as before
            self._set((until, body, cut), until)

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
    live: Live | None = getattr(view, "answer_live", None)
    started = timezone.now()
    # Read with the reader's rights where the identity's query read them (one statement fewer), else now.
    known: ReadStamps | None = getattr(actor, "stamps", None)
    wanted = _topics_read(view)
    read = known.of(programme_ids, wanted) if known is not None else None
    if read is None:
        read = stamps(programme_ids, wanted)
    kept_stamps = tuple(stamp for stamp in read if live is None or stamp[1] != live.topic)
    live_stamps = tuple(stamp for stamp in read if live is not None and stamp[1] == live.topic)
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
        kept_stamps,
        None if live is None else ("live", live.topic, live.fields),
        release(),
    )
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return Answer(f"answer:{digest}", started, getattr(view, "answer_changes_at", None), live, live_stamps)


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
