"""A list's first page compiled to SQL once per connection and request shape, and only run afterwards.

What is left of a planned list's cost (``coordinator.core.plans``) is mostly Django building the reader's
scoped, filtered queryset (joins, annotations, the subqueries of its nested rows) and compiling it to SQL,
on every request, for the same few SQL texts. A list's SQL is a function of what the request asks (the
view, its URL arguments, the query string, the renderer, the language and time zone) and of the reader's
rights (the user, their person row and every active membership with its roles and programme row, read
again on every request by ``organisations.permissions.actor_for``). ``ListModelMixin`` builds a key of
exactly those, and on the first request of a key runs the list as before while it records the page's
compiled SQL; later requests of the same key run that SQL and write its rows with the same plan, without
building the queryset again.

It stays correct because nothing but the SQL text and its parameters is kept: every request reads the
database (the page, its count and each nested row), and a right that changes (an ended membership, a new
role, a deactivated user) changes the key, so the very next request builds its queryset afresh. A shape is
recorded only when its SQL cannot depend on anything else:

- building the queryset ran no query (a selector or filter that reads rows to decide its SQL is never
  recorded: its SQL depends on data);
- no parameter of the SQL is a date, a time or a duration (a list filtered by "now" or "today" is never
  recorded: its SQL depends on the clock);
- the page is the first (the one read with its count in one query); a later page counts first, as before;
- nothing failed: a 400, 403 or 404 is answered by the normal path every time.

A page whose filter matches nothing by its own terms (``programme_id IN ()``, Django's ``EmptyResultSet``)
is kept as no SQL at all: later requests of its key answer the empty page without a query.

The entries are kept on the connection object (one per thread and database, as Django keeps connections,
and gone with it), at most ``MAX_SHAPES`` per connection (the least recently used goes first), and all are
dropped when a setting changes (the tests override settings).
"""

from __future__ import annotations

import contextvars
import datetime
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Lookup, Model, QuerySet
from django.db.models.expressions import BaseExpression
from django.db.models.sql import Query
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.where import WhereNode
from django.utils import timezone, translation

MAX_SHAPES = 512

_CACHE_ATTRIBUTE = "_samverkan_list_shapes"
_TEMPORAL = (datetime.date, datetime.time, datetime.timedelta)  # datetime.datetime is a date

# Bumped when a setting changes: every entry recorded before then is stale.
_generation = 0


def clear() -> None:
    """Drop every shape of every connection (they are recorded again as they are read)."""
    global _generation
    _generation += 1


def _settings_changed(**kwargs: object) -> None:
    clear()


setting_changed.connect(_settings_changed, dispatch_uid="coordinator.core.shapes")


@dataclass
class CompiledPage:
    """A page's SQL as compiled once, with what writes its rows (the plan's writer and page preparations)."""

    sql: str
    params: tuple[object, ...]
    compiler: SQLCompiler
    using: str
    width: int
    writer: Callable[..., dict[str, object]]
    prepares: list[tuple[str, list[int], Callable[..., object]]]
    bottom: int
    size: int

    def fetch(self) -> list[Sequence[object]]:
        """The page's rows as ``values_list`` would give them (the database's values converted); none,
        without a query, for a page whose filter matches nothing (no SQL)."""
        if not self.sql:
            return []
        compiler = self.compiler
        connection = connections[self.using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)  # type: ignore[arg-type]
            rows = cursor.fetchall()
        if compiler.has_extra_select:
            rows = [row[: compiler.col_count] for row in rows]
        return list(compiler.results_iter(results=[rows], tuple_expected=True))


@dataclass
class Recorder:
    """What the normal path of one request left to record: the first planned page it read, and how many
    queries ran before it."""

    queries: int = 0
    page: CompiledPage | None = None
    refused: bool = False
    built_with_queries: bool = False

    def count(
        self, execute: Callable[..., object], sql: str, params: object, many: bool, context: object
    ) -> object:
        self.queries += 1
        return execute(sql, params, many, context)

    def record(
        self,
        compiler: SQLCompiler,
        using: str,
        width: int,
        writer: Callable[..., dict[str, object]],
        prepares: list[tuple[str, list[int], Callable[..., object]]],
    ) -> CompiledPage | None:
        """The page of ``compiler`` compiled, when it is the request's first planned page and its SQL may
        be kept (else ``None``: the caller runs the query as usual)."""
        if self.page is not None or self.refused:
            return None  # a nested list of a row (a page preparation) is read by its own path
        self.built_with_queries = self.queries > 0
        query = compiler.query
        if query.low_mark != 0 or query.high_mark is None:
            self.refused = True
            return None
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            # A filter that matches nothing by its own terms (``programme_id IN ()``: a reader without the
            # role a list asks for): the page is empty without asking the database, and so it is for every
            # request of the same key, whose queryset is built the same way. Kept as an empty SQL text.
            sql, params = "", ()
            if _holds_time(query):
                self.refused = True
                return None
        except Exception:  # anything else the usual path answers
            self.refused = True
            return None
        else:
            if not sql or any(isinstance(param, _TEMPORAL) for param in params) or _holds_time(query):
                self.refused = True
                return None
        self.page = CompiledPage(
            sql, tuple(params), compiler, using, width, writer, prepares, 0, query.high_mark
        )
        return self.page


def _holds_time(node: object, depth: int = 0) -> bool:
    """Whether a query (its filters, annotations and subqueries) holds a date, a time or a duration as a
    value. Its parameters tell on PostgreSQL; SQLite's are text by the time the SQL is compiled."""
    if depth > 50:
        return True  # deeper than any list's query: not kept
    if isinstance(node, _TEMPORAL):
        return True
    if isinstance(node, Query):
        parts: list[object] = [node.where, *node.annotations.values()]
    elif isinstance(node, WhereNode):
        parts = list(node.children)
    elif isinstance(node, Lookup):
        parts = [node.lhs, node.rhs]
    elif isinstance(node, (list, tuple, set, frozenset)):
        parts = list(node)
    elif isinstance(node, BaseExpression):
        parts = [*node.get_source_expressions(), getattr(node, "value", None), getattr(node, "query", None)]
    else:
        return False
    return any(_holds_time(part, depth + 1) for part in parts)


_RECORDER: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar(
    "list_shape_recorder", default=None
)


def active_recorder() -> Recorder | None:
    return _RECORDER.get()


@contextmanager
def recording(using: str) -> Iterator[Recorder]:
    """Run the normal path of a list with its first planned page recorded (see ``Recorder``)."""
    recorder = Recorder()
    token = _RECORDER.set(recorder)
    try:
        with connections[using].execute_wrapper(recorder.count):
            yield recorder
    finally:
        _RECORDER.reset(token)


def _entries(using: str) -> OrderedDict[tuple[object, ...], CompiledPage]:
    connection = connections[using]
    entries: OrderedDict[tuple[object, ...], CompiledPage] | None = connection.__dict__.get(_CACHE_ATTRIBUTE)
    if entries is None or entries.generation != _generation:  # type: ignore[attr-defined]
        entries = OrderedDict()
        entries.generation = _generation  # type: ignore[attr-defined]
        connection.__dict__[_CACHE_ATTRIBUTE] = entries
    return entries


def lookup(key: tuple[object, ...], using: str) -> CompiledPage | None:
    entries = _entries(using)
    page = entries.get(key)
    if page is not None:
        entries.move_to_end(key)
    return page


def store(key: tuple[object, ...], using: str, recorder: Recorder) -> None:
    if recorder.page is None or recorder.refused or recorder.built_with_queries:
        return
    entries = _entries(using)
    entries[key] = recorder.page
    while len(entries) > MAX_SHAPES:
        entries.popitem(last=False)


def compiled(key: tuple[object, ...], build: Callable[[], QuerySet[Any]]) -> CompiledPage | QuerySet[Any]:
    """The query of ``build()`` compiled once per connection and ``key`` (with the active programme scope,
    language and time zone added to it), for the reads of a page's rows that build the same queryset for
    the same values again and again (a page's nested rows); or the queryset itself, to be read as usual,
    when its SQL may not be kept (as for a list's page: building it ran a query, it holds a time, or it
    compiles to nothing). ``key`` must hold every value ``build`` reads."""
    # Imported here: this module is imported with ``coordinator.core.drf`` while DRF loads its settings,
    # before the models may be defined.
    from coordinator.core.tenancy import active_programme_ids

    if not settings.API_LIST_SHAPES:
        return build()
    using = DEFAULT_DB_ALIAS
    full_key = (
        "query",
        key,
        active_programme_ids(),
        translation.get_language(),
        timezone.get_current_timezone_name(),
    )
    found = lookup(full_key, using)
    if found is not None:
        return found
    counter = Recorder()
    with connections[using].execute_wrapper(counter.count):
        queryset = build()
    if counter.queries or queryset.db != using or _holds_time(queryset.query):
        return queryset
    compiler = queryset.query.get_compiler(using)
    try:
        sql, params = compiler.as_sql()
    except Exception:  # an empty filter (EmptyResultSet) and the like: read as usual
        return queryset
    if not sql or any(isinstance(param, _TEMPORAL) for param in params):
        return queryset
    iterable = queryset._iterable_class
    entry = CompiledPage(
        sql,
        tuple(params),
        compiler,
        using,
        getattr(iterable, "width", 0),
        getattr(iterable, "writer", None),  # type: ignore[arg-type]
        getattr(iterable, "prepares", []),
        0,
        0,
    )
    entries = _entries(using)
    entries[full_key] = entry
    while len(entries) > MAX_SHAPES:
        entries.popitem(last=False)
    return entry


def _row_values(instance: object, fields: Iterable[Field[object, object]]) -> tuple[object, ...]:
    # Only what was read: a deferred column is not fetched for a key (it is then simply not part of it).
    values = vars(instance)
    return tuple(_frozen(values.get(model_field.attname)) for model_field in fields)


def _frozen(value: object) -> object:
    # A JSON column's lists and objects, as a key can hold them.
    if isinstance(value, list):
        return ("list", *(_frozen(item) for item in value))
    if isinstance(value, dict):
        return ("dict", *sorted((str(name), _frozen(item)) for name, item in value.items()))
    return value


class _Membership(Protocol):
    membership_id: int
    work_role_id: int | None
    roles: frozenset[str]


class Reader(Protocol):
    """What a shape's key reads of the reader (``organisations.permissions.Actor``)."""

    @property
    def user(self) -> object: ...

    @property
    def person(self) -> Model | None: ...

    @property
    def memberships(self) -> Mapping[int, _Membership]: ...


def shape_key(
    view: object, query_string: str, kwargs: Mapping[str, object], actor: Reader, renderer: object
) -> tuple[object, ...] | None:
    """The key of a list request: everything its SQL may depend on; ``None`` when a part of it cannot be
    a key (the entry would not be found again, so it is not kept)."""
    user = actor.user
    person = actor.person
    memberships = tuple(
        sorted(
            (pid, info.membership_id, info.work_role_id, tuple(sorted(info.roles)))
            for pid, info in actor.memberships.items()
        )
    )
    key = (
        type(view),
        query_string,
        tuple(sorted(kwargs.items())),
        renderer,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        getattr(user, "pk", None),
        bool(getattr(user, "is_active", False)),
        bool(getattr(user, "is_staff", False)),
        bool(getattr(user, "is_superuser", False)),
        None if person is None else _row_values(person, type(person)._meta.concrete_fields),
        memberships,
        # The rows of the reader's programmes, read with the memberships (a programme's settings).
        tuple(
            (pid, _row_values(programme, type(programme)._meta.concrete_fields))
            for pid, programme in sorted(getattr(actor, "programmes", {}).items())
        ),
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


@dataclass(frozen=True)
class ShapedRows:
    """A recorded first page as the paginator reads it (``coordinator.core.drf.CountingPaginator``):
    ``read()`` runs its SQL and writes its rows, each with the list's total beside it."""

    page: CompiledPage
    write: Callable[[list[Sequence[object]]], Sequence[object]]

    def read(self, bottom: int, size: int) -> Sequence[object]:
        if (bottom, size) != (self.page.bottom, self.page.size):  # the key holds the query string
            raise ValueError(f"A page of {size} from {bottom} is not the recorded one.")
        return self.write(self.page.fetch())


def recorded(using: str = DEFAULT_DB_ALIAS) -> int:
    """How many list pages this thread's connection holds compiled (for the tests and the benchmarks)."""
    return sum(1 for key in _entries(using) if key[0] != "query")


def recorded_queries(using: str = DEFAULT_DB_ALIAS) -> int:
    """How many queries of ``compiled`` this thread's connection holds (for the tests)."""
    return sum(1 for key in _entries(using) if key[0] == "query")
