"""Registries through which the feature apps plug into shared views without knowing each other.

Each feature app registers its providers in ``AppConfig.ready()``. Shared views (the start page, the
personal calendar feed, a person's history, reports, demo data, periodic jobs) ask the registry.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from django.utils.functional import Promise

from coordinator.core.spreadsheets import Column, ImportReport

if TYPE_CHECKING:
    from coordinator.core.models import CalendarCopy

T = TypeVar("T")


class Registry(Generic[T]):
    """An ordered collection of named entries; registering a name twice replaces the entry."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: dict[str, tuple[int, T]] = {}

    def register(self, key: str, entry: T, *, order: int = 100) -> T:
        self._entries[key] = (order, entry)
        return entry

    def __iter__(self) -> Iterator[T]:
        return iter(entry for _, entry in sorted(self._entries.values(), key=lambda item: item[0]))

    def items(self) -> list[tuple[str, T]]:
        return [(k, v[1]) for k, v in sorted(self._entries.items(), key=lambda item: item[1][0])]

    def get(self, key: str) -> T | None:
        found = self._entries.get(key)
        return found[1] if found else None

    def __contains__(self, key: str) -> bool:
        return key in self._entries


# --- Navigation and start page ------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    """A link in the main navigation, shown when ``visible(request)`` is true."""

    label: str | Promise
    url_name: str
    visible: Callable[[Any], bool] = lambda request: True
    icon: str = ""


@dataclass(frozen=True)
class DashboardPanel:
    """A panel on the start page. ``build(request)`` returns its template context, or None to hide it.

    The template receives the context under ``panel``; ``build`` must use a fixed number of queries.
    """

    template: str
    build: Callable[[Any], dict[str, Any] | None]


# --- Calendar, history, reports -------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a person's history: a course completed, a visit made and what was learned."""

    when: date | datetime
    kind: str
    title: str
    detail: str = ""
    url: str = ""


@dataclass(frozen=True)
class ReportTable:
    """A table in a barometer section: a caption, column headings and rows of plain values."""

    caption: str | Promise
    columns: list[str | Promise]
    rows: list[list[Any]]


@dataclass(frozen=True)
class ReportSection:
    """One feature's part of the programme barometer for a period: headline figures, optional tables and a
    link to the feature's own detailed report. Providers use a fixed number of queries.

    ``link_roles`` are the roles the linked page requires (its view's ``required_roles``; empty: every
    member of the programme); the barometer shows the link only to a reader with one of them."""

    title: str | Promise
    figures: list[tuple[str | Promise, Any]]
    tables: list[ReportTable] = field(default_factory=list)
    link_label: str | Promise = ""
    link_url: str = ""
    link_roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class NotificationKind:
    key: str
    label: str | Promise
    default_email: bool = True


@dataclass(frozen=True)
class PeriodicJob:
    """Idempotent work that the job runner repeats: it sweeps the database for what has become due."""

    name: str
    run: Callable[[], int]  # returns how many things it handled
    every_seconds: int = 60


@dataclass(frozen=True)
class DemoSeeder:
    """A step of ``seed_demo``: loads one app's demo data idempotently and returns demo logins to print."""

    name: str
    run: Callable[[], list[tuple[str, str]]]
    depends_on: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PersonalDataSection:
    """One part of what the platform holds about a person, for their own download: a key in the JSON, a
    heading on the readable page, and rows of plain JSON values. ``rows`` is read lazily (a generator over
    an iterating query), so a long history is streamed rather than held in memory."""

    key: str
    title: str | Promise
    rows: Iterable[dict[str, object]]


nav_items: Registry[NavItem] = Registry("nav")
dashboard_panels: Registry[DashboardPanel] = Registry("dashboard")
# provider(person) -> list[coordinator.core.calendar.CalendarEvent] of confirmed things for the personal feed
calendar_providers: Registry[Callable[[Any], list[Any]]] = Registry("calendar")
# provider(person) -> list[HistoryEntry]
history_providers: Registry[Callable[[Any], list[HistoryEntry]]] = Registry("history")
# provider(programme, start, end) -> ReportSection (or None) for the programme barometer
report_providers: Registry[Callable[[Any, date, date], ReportSection | None]] = Registry("reports")
notification_kinds: Registry[NotificationKind] = Registry("notification kinds")
periodic_jobs: Registry[PeriodicJob] = Registry("jobs")
demo_seeders: Registry[DemoSeeder] = Registry("demo data")
# exporter(person) -> the person's data held by one app, run inside the scope of the person's programmes
personal_data_exporters: Registry[Callable[..., Iterable[PersonalDataSection]]] = Registry("personal data")
# eraser(person, programme_ids) -> rows changed: ends or pseudonymises one app's records of a person in
# those programmes; runs inside the erasure's transaction, in the scope of those programmes
personal_data_erasers: Registry[Callable[..., int]] = Registry("personal data erasers")
# Who is told when a message could not be delivered after every retry: ``(programme) -> people``. The
# organisations app registers the programme's coordinators.
delivery_failure_recipients: Registry[Callable[[Any], Iterable[Any]]] = Registry(
    "delivery failure recipients"
)
# What a new programme starts with: ``handler(programme)`` runs inside the transaction that creates it, in
# the new programme's scope (the focus-groups app creates the six default groups, the organisations app the
# default roles at work). Rows are written in the programme's language.
programme_created: Registry[Callable[[Any], None]] = Registry("programme created")


@dataclass(frozen=True)
class OnboardingStep:
    """One line of a programme admin's onboarding checklist: what to set up, whether it is done, how far
    it has come (``detail``) and the page where it is done."""

    label: str | Promise
    done: bool
    detail: str | Promise
    url: str


# provider(programme) -> OnboardingStep, in the order a new programme sets itself up; one or two queries.
onboarding_steps: Registry[Callable[[Any], OnboardingStep]] = Registry("onboarding steps")


# --- Imports ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryImporter:
    """One feature's import of past records from a spreadsheet (course completions, visits made).

    ``columns`` are ``coordinator.core.spreadsheets.Column``s (for the template and the page's help);
    ``run(actor=, programme=, data=, dry_run=)`` returns an ``ImportReport`` and saves all or nothing.
    ``allowed(actor, programme)`` says who may use it.
    """

    key: str
    label: str | Promise
    description: str | Promise
    columns: list[Column]
    run: Callable[..., ImportReport]
    allowed: Callable[..., bool]


history_importers: Registry[HistoryImporter] = Registry("history importers")
# Called after an import (or any other workflow) has committed new people who are to be invited:
# ``handler(actor, programme, people)``. The invitations workflow registers here (organisations/hooks.py).
person_invited: Registry[Callable[..., None]] = Registry("person invited")

# What a change of people's own details means for the calendars of one app: ``handler(person_ids, details)``
# brings in step every calendar that holds (or should hold) an event of the app that shows one of these
# people, where it shows the changed ``details`` (any of "name", "email", "phone"), and returns the number
# of messages sent. Runs in a task after the change's commit (``coordinator.core.itip.people_changed``),
# outside any programme scope; it may run again for the same change (a retry) and then sends nothing.
calendar_people_changed: Registry[Callable[[list[int], frozenset[str]], int]] = Registry(
    "calendar people changed"
)

# What a decline in a calendar means for the app that sent the event, keyed by the first part of a
# ``CalendarCopy.source`` ("seminars.round"): ``(copy) -> None``, run in the copy's programme scope.
calendar_decline_handlers: Registry[Callable[[CalendarCopy], None]] = Registry("calendar decline handlers")


# --- Competences ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompetenceSuggestion:
    """Something open now that would give a competence: a course round with free seats, workplaces of a
    kind of agency that receive visitors. ``value`` is the evidence value it gives (a course id, an agency
    kind)."""

    value: str
    label: str
    detail: str
    url: str


@dataclass(frozen=True)
class CompetenceEvidence:
    """One kind of thing done on the platform that gives a competence (a completed course, a visit made at
    a kind of agency, membership of a focus group), provided by the feature that records it.

    ``choices(programme)`` lists what a programme admin may name as a source: ``(value, label)`` pairs.
    ``completed(programme, person_ids)`` answers, for the programme's people (all when ``person_ids`` is
    None), which values each person has completed and on what date: ``{person_id: {value: date}}``, in a
    fixed number of queries whatever the number of people. ``suggest(programme, values)`` lists what is
    open now for those values (a fixed number of queries).
    """

    kind: str
    label: str | Promise
    # (programme) -> [(value, label)]
    choices: Callable[..., list[tuple[str, str]]]
    # (programme, person_ids or None) -> {person_id: {value: date}}
    completed: Callable[..., dict[int, dict[str, date]]]
    # (programme, values) -> what is open now
    suggest: Callable[..., list[CompetenceSuggestion]]


# Keyed by ``kind``; each feature registers its own in its ``hooks.py``.
competence_evidence: Registry[CompetenceEvidence] = Registry("competence evidence")
# --- Targets, follow-ups and costs -----------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureCounts:
    """What a measure counted at each asked date (cumulative up to and including that date), in the whole
    programme and per organisation (by id). ``population`` is how many there are to count among (the
    people in the role, the focus groups) when the measure is a share, else None (a plain count)."""

    total: list[int]
    by_organisation: dict[int, list[int]]
    population: int | None = None
    population_by_organisation: dict[int, int] | None = None


# Rows that several measures read alike (visit days for "hosted" and for "hosted and sent"), read once per
# reading of a page's targets: a dict per ``one_reading()`` block, absent outside one.
_readings: contextvars.ContextVar[dict[Hashable, object] | None] = contextvars.ContextVar(
    "measure_readings", default=None
)


@contextmanager
def one_reading() -> Iterator[None]:
    """Within the block, measures that ask ``read_once`` for the same key share one read: every target of
    a page is counted from the same rows, in fewer queries. Nothing outlives the block."""
    token = _readings.set({})
    try:
        yield
    finally:
        _readings.reset(token)


def read_once(key: Hashable, read: Callable[[], T]) -> T:
    """``read()``, or inside ``one_reading()`` the result of the first read under ``key``."""
    readings = _readings.get()
    if readings is None:
        return read()
    if key not in readings:
        readings[key] = read()
    return cast(T, readings[key])


@dataclass(frozen=True)
class MeasureAsk:
    """One target's question to a measure: about what (a course), among whom (a role at work), counting
    from ``since``, at each of ``dates`` (ascending)."""

    subject_id: int | None
    work_role_id: int | None
    since: date
    dates: list[date]


@dataclass(frozen=True)
class Measure:
    """Something a programme target can measure, offered by a feature.

    ``kind`` is ``"share"`` (how many of a population: people with a course, groups with every agency; the
    target is a percentage) or ``"count"`` (how many per organisation: visit days; the target is a number
    each organisation must reach). ``subjects(programme)`` lists what it can be about (the courses), or
    ``[]``. ``people`` says that it counts people, so its cells under 5 are suppressed.
    ``counts(programme, asks)`` answers every target's ``MeasureAsk`` at once (one ``MeasureCounts``
    each, in order) in a fixed number of queries, however many targets use the measure."""

    key: str
    label: str | Promise
    kind: str
    unit: str | Promise
    counts: Callable[..., list[MeasureCounts]]
    subjects: Callable[..., list[tuple[int, str]]] = lambda programme: []
    subject_label: str | Promise = ""
    uses_work_role: bool = False
    people: bool = False


# The measures targets are built from, keyed "app.measure".
measures: Registry[Measure] = Registry("measures")


@dataclass(frozen=True)
class Finished:
    """One thing a person finished that is followed up later: a course completed, a visit made.
    ``group_id`` is what answers are pooled by (the course, the host workplace)."""

    person_id: int
    subject_id: int
    group_id: int
    finished_on: date


@dataclass(frozen=True)
class Upcoming:
    """One thing a person is booked on and may record an expectation for."""

    subject_id: int
    title: str
    starts_on: date


@dataclass(frozen=True)
class FollowUpSource:
    """A kind of thing a feature lets the programme follow up (``kind`` "seminars.course").

    ``finished(programme, since, until)`` lists what was finished in those days; ``upcoming(programme,
    person)`` what the person is booked on and has not done yet; ``titles(programme, subject_ids)`` and
    ``group_names(programme, group_ids)`` name them (one query each)."""

    kind: str
    label: str | Promise
    group_label: str | Promise
    finished: Callable[..., list[Finished]]
    upcoming: Callable[..., list[Upcoming]]
    titles: Callable[..., dict[int, str]]
    group_names: Callable[..., dict[int, str]]


follow_up_sources: Registry[FollowUpSource] = Registry("follow-up sources")


@dataclass(frozen=True)
class CostPart:
    """One part of an activity's cost, named in the report: a standard rate times the units (``rate`` and
    ``units`` set; ``amount`` None when the programme has set no rate), or costs recorded as they fell."""

    label: str | Promise
    amount: Decimal | None
    rate: Decimal | None = None
    units: int | None = None


@dataclass(frozen=True)
class ActivityCost:
    """What one kind of activity cost in a period and how many units it produced (completed participants,
    visit days). ``amount`` is None when the feature has no cost records for the period; ``parts`` say
    what the amount is made of, where it is more than one kind of cost."""

    key: str
    label: str | Promise
    unit_label: str | Promise
    amount: Decimal | None
    units: int
    parts: tuple[CostPart, ...] = ()


# provider(programme, start, end) -> ActivityCost, one or two queries
activity_costs: Registry[Callable[..., ActivityCost]] = Registry("activity costs")
# counter(programme, start, end) -> how many competences people gained in the period. Empty until the
# competence profiles are connected; reports then say there are no competence data.
competence_gain_counters: Registry[Callable[..., int]] = Registry("competence gain counters")
