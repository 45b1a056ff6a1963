"""A page's own reads made in the same statement as its reader's identity.

A signed-in page reads its reader's identity (the user, the person, their memberships, roles and
programmes: ``organisations.permissions``) and then its own rows that change with every write (the content
stamp, the seats taken, the reader's bookings, the free days). A page whose own rows need nothing of the
identity but the user's key names them as its ``page_reads`` (``PageReads``): each branch of its query
reads its rows in every programme of the user's active memberships, by the user's key, with the programme
as its first column. The identity and those rows are then one statement
(``coordinator.core.prepared.PreparedQueryWithRows``), and the page keeps the rows of its current
programme (``PageRows.of``), read at the moment the request began (``PageRows.moment``: the page computes
with that moment, so its rows and its own filters agree).

Nothing is kept beyond the request: every request reads the database, so a right lost or a write counts on
the very next page. A page whose rows were not read with the identity (a session of another sign-in
backend, an identity read before the page was known) reads them itself as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db.models import Model
from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils import timezone

from coordinator.core.prepared import PreparedRows

PageRow = tuple[object, ...]


@dataclass(frozen=True, eq=False)
class PageReads:
    """``rows``: a ``PreparedRows`` whose first value is the user's key and whose rows begin with their
    programme's key; ``values``: the further values from the moment the request began (a time, dates)."""

    rows: PreparedRows[Model, PageRow]
    values: Callable[[datetime], tuple[int | date, ...]]


@dataclass(frozen=True)
class PageRows:
    """``reads``' rows for the request's reader, read with their identity at ``moment``."""

    reads: PageReads
    moment: datetime
    rows: Sequence[PageRow]

    def of(self, reads: PageReads, programme_id: int) -> list[PageRow] | None:
        """The rows of ``programme_id`` without their programme column; ``None`` for another page's reads."""
        if reads is not self.reads:
            return None
        return [row[1:] for row in self.rows if row[0] == programme_id]


# The page reads of the request being answered, with its moment, while its reader's identity is read.
_PENDING: ContextVar[tuple[PageReads, datetime] | None] = ContextVar("page_reads", default=None)


def pending() -> tuple[PageReads, datetime] | None:
    """The page reads to make with the identity being read now, if any."""
    return _PENDING.get()


class _ByPath:
    """The page reads of the view each path resolves to, remembered per path (a bounded dict emptied when
    full: the pages with reads have fixed addresses, and others are few per process)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._found: dict[str, PageReads | None] = {}
        self._lock = threading.Lock()

    def get(self, path: str) -> PageReads | None:
        try:
            return self._found[path]
        except KeyError:
            pass
        try:
            view = resolve(path).func
        except Resolver404:
            found = None
        else:
            found = getattr(getattr(view, "view_class", None), "page_reads", None)
        with self._lock:
            if len(self._found) >= self.size:
                self._found = {}
            self._found[path] = found
        return found


BY_PATH = _ByPath(1024)


def begin(request: HttpRequest) -> Token[tuple[PageReads, datetime] | None] | None:
    """Before the reader's identity is read: name the page's reads (a ``GET`` with a session of a page with
    ``page_reads``, by the default address resolver) and the moment. Returns what ``end`` takes."""
    if (
        request.method != "GET"
        or settings.SESSION_COOKIE_NAME not in request.COOKIES
        or getattr(request, "urlconf", None) is not None
    ):
        return None
    reads = BY_PATH.get(request.path_info)
    if reads is None:
        return None
    return _PENDING.set((reads, timezone.now()))


def end(token: Token[tuple[PageReads, datetime] | None] | None) -> None:
    if token is not None:
        _PENDING.reset(token)


@contextmanager
def reading(reads: PageReads, moment: datetime) -> Iterator[None]:
    """An identity read inside makes ``reads`` with it, at ``moment`` (as ``begin`` names them for a page)."""
    token = _PENDING.set((reads, moment))
    try:
        yield
    finally:
        _PENDING.reset(token)
