"""Reads of the shadowing app, already limited to what the actor may see (inside the tenant scope).

The within-programme rules themselves live in ``shadowing.permissions`` (``visible_*_filter``); these
functions add the joins each list needs, so that a list costs a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar, cast

from django.contrib.auth.models import User
from django.db import models
from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from coordinator.core import content, registry, shapes
from coordinator.core.models import ContentVersion
from coordinator.core.prepared import PreparedRows
from coordinator.core.registry import CompetenceSuggestion
from coordinator.core.rows import JSONRows, Rows, with_rows
from organisations.models import Organisation, OrganisationKind, Person, Programme
from organisations.permissions import COORDINATING_ROLES, Actor
from shadowing import permissions
from shadowing.models import (
    AvailabilityWindow,
    HostFeedback,
    MatchingRun,
    Placement,
    PlacementDay,
    PlacementEvent,
    Preference,
    Reflection,
    ShadowingRequest,
    Slot,
    Topic,
    Workplace,
)


def workplaces_for(actor: Actor) -> QuerySet[Workplace]:
    """Published workplaces, the actor's own organisation's drafts, and every one for coordinators."""
    # The topics' ids come in the page's own query (``coordinator.core.rows``), in their order by name.
    return with_rows(
        Workplace.objects.filter(permissions.visible_workplaces_filter(actor)).select_related("organisation"),
        Rows("topics", Topic.objects.filter(workplaces=OuterRef("pk")).order_by("name", "pk"), ()),
    ).order_by("name", "pk")


def editable_workplaces(actor: Actor, queryset: QuerySet[Workplace]) -> QuerySet[Workplace]:
    """Narrow a scoped queryset to the workplaces the actor may edit (``permissions.can_edit_workplace``)."""
    return queryset.filter(permissions.editable_workplaces_filter(actor))


def slots_for(actor: Actor) -> QuerySet[Slot]:
    visible = Workplace.objects.filter(permissions.visible_workplaces_filter(actor)).values("pk")
    return Slot.objects.filter(workplace__in=visible).order_by("date", "starts_at", "pk")


# What ``Person.full_name`` reads of a person reached through ``<path>``: the rest of the person's and the
# user's row (password hash, tokens, contact details) stays in the database.
def _name_columns(path: str) -> tuple[str, ...]:
    return (
        f"{path}__erased_at",
        f"{path}__user__first_name",
        f"{path}__user__last_name",
        f"{path}__user__username",
    )


def requests_for(actor: Actor, *, shown_only: bool = False) -> QuerySet[ShadowingRequest]:
    """Own requests, those the actor decides on as line manager, and all for coordinators.

    ``shown_only``: of the requester, only what ``serializers.ShadowingRequestSerializer`` shows (the name),
    for reads that only serialise; a workflow given the request gets the whole requester."""
    requests = ShadowingRequest.objects.filter(permissions.visible_requests_filter(actor)).select_related(
        "requester__user"
    )
    if shown_only:
        requests = requests.only(
            *(field.name for field in ShadowingRequest._meta.concrete_fields), *_name_columns("requester")
        )
    return with_rows(
        requests,
        Rows("topics", Topic.objects.filter(requests=OuterRef("pk")).order_by("name", "pk"), ()),
        Rows(
            "windows",
            AvailabilityWindow.objects.filter(request=OuterRef("pk")).order_by("starts_on", "pk"),
            ("starts_on", "ends_on"),
        ),
        Rows(
            "preferences",
            Preference.objects.filter(request=OuterRef("pk")).order_by("rank", "pk"),
            ("rank", "organisation", "workplace"),
        ),
    ).order_by("-submitted_at", "-pk")


APPROVALS_PAGE_SIZE = 20
# An offset past this is past any real list: the number waiting is counted before such a page is read (the
# database refuses an offset it cannot represent).
_LAST_READ_OFFSET = 1_000_000


@dataclass(frozen=True)
class ApprovalCard:
    """What the approvals page shows of one request waiting for a decision."""

    pk: int
    name: str
    unit: str | None
    learning_goals: str
    days: int
    consecutive: bool
    windows: list[tuple[date, date]]
    wishes: list[tuple[int, str]]  # rank, the workplace's name or else the organisation's
    topics: list[str]


@dataclass(frozen=True)
class DecidedRequest:
    """A request the line manager decided, as the approvals page lists it."""

    pk: int
    name: str
    status: str
    status_label: str
    decided_at: datetime


def _full_name(first_name: str, last_name: str, username: str, erased_at: datetime | None) -> str:
    # The person's own rule for their name (a former member's is not shown), on the columns read.
    user = User(first_name=first_name, last_name=last_name, username=username)
    return Person(user=user, erased_at=erased_at).full_name


# The columns of a card and of a decided request, in the order the queries below read them.
_CardRow = tuple[
    int,
    str,
    str,
    str,
    datetime | None,
    str | None,
    str,
    int,
    bool,
    list[list[str]],
    list[list[str]],
    list[tuple[int, str | None, str | None]],
    int,
]
_DecidedRow = tuple[int, str, str, str, datetime | None, str, datetime]
_RowT = TypeVar("_RowT", bound=tuple)  # type: ignore[type-arg]

_NAME = ("requester__user__first_name", "requester__user__last_name", "requester__user__username")


def _card_rows(requests: QuerySet[ShadowingRequest], bottom: int) -> QuerySet[ShadowingRequest, _CardRow]:
    # The page's requests are chosen first, and only theirs are then read with their rows: the database
    # builds the JSON of 20 requests, not of every request waiting. The number waiting is counted beside.
    waiting = requests.filter(status=ShadowingRequest.Status.PENDING_APPROVAL)
    page = waiting.order_by("submitted_at", "pk").values("pk")[bottom : bottom + APPROVALS_PAGE_SIZE]
    total = waiting.order_by().values("status").annotate(n=Count("pk")).values("n")
    return (
        requests.filter(pk__in=page)
        .annotate(
            _in_list=Subquery(total, output_field=models.IntegerField()),
            _topics=JSONRows(Topic.objects.filter(requests=OuterRef("pk")).order_by("name", "pk"), ["name"]),
            _windows=JSONRows(
                AvailabilityWindow.objects.filter(request=OuterRef("pk")).order_by("starts_on", "pk"),
                ["starts_on", "ends_on"],
            ),
            _wishes=JSONRows(
                Preference.objects.filter(request=OuterRef("pk")).order_by("rank", "pk"),
                ["rank", "workplace__name", "organisation__name"],
            ),
        )
        .order_by("submitted_at", "pk")
        .values_list(
            "pk",
            *_NAME,
            "requester__erased_at",
            "requester__unit__name",
            "learning_goals",
            "days",
            "consecutive",
            "_topics",
            "_windows",
            "_wishes",
            "_in_list",
        )
    )


def _card(row: _CardRow) -> ApprovalCard:
    pk, first, last, username, erased_at, unit, goals, days, consecutive, topics, windows, wishes, _n = row
    return ApprovalCard(
        pk,
        _full_name(first, last, username, erased_at),
        unit,
        goals,
        days,
        consecutive,
        [(date.fromisoformat(starts_on), date.fromisoformat(ends_on)) for starts_on, ends_on in windows],
        [
            (rank, (workplace if workplace is not None else organisation) or "")
            for rank, workplace, organisation in wishes
        ],
        [name for (name,) in topics],
    )


def approval_page(
    requests: Callable[[], QuerySet[ShadowingRequest]], key: Hashable, number: int
) -> tuple[list[ApprovalCard], int, int]:
    """Page ``number`` (from 1) of the requests waiting for a decision among ``requests()`` (those the actor
    may decide, in scope), oldest first: its cards, how many wait in all, and the number of the page given
    (the last one for a page past the end). ``key`` must hold everything ``requests()`` depends on (the
    actor's rights): the page's SQL, with each request's topics, windows and wishes and the number waiting,
    is compiled once per connection and key, and each page is one query, however many wait."""
    if (number - 1) * APPROVALS_PAGE_SIZE <= _LAST_READ_OFFSET:
        rows = _read(
            ("approval cards", key, number),
            lambda: _card_rows(requests(), (number - 1) * APPROVALS_PAGE_SIZE),
        )
        if rows or number == 1:
            return [_card(row) for row in rows], rows[0][-1] if rows else 0, number
    # Past the end: the last page (requests leave the list as they are decided, so a page can run out).
    total = requests().filter(status=ShadowingRequest.Status.PENDING_APPROVAL).count()
    last = max(1, -(-total // APPROVALS_PAGE_SIZE))
    rows = _read(
        ("approval cards", key, last), lambda: _card_rows(requests(), (last - 1) * APPROVALS_PAGE_SIZE)
    )
    return [_card(row) for row in rows], rows[0][-1] if rows else 0, last


def decided_requests(
    requests: Callable[[], QuerySet[ShadowingRequest]], key: Hashable, person: Person
) -> list[DecidedRequest]:
    """The ten requests among ``requests()`` that ``person`` decided last (compiled once per ``key``, as
    ``approval_page``)."""

    def build() -> QuerySet[ShadowingRequest, _DecidedRow]:
        return (
            requests()
            .filter(approved_by=person)
            .exclude(decided_at=None)
            .order_by("-decided_at")
            .values_list("pk", *_NAME, "requester__erased_at", "status", "decided_at")[:10]
        )

    labels = dict(ShadowingRequest.Status.choices)
    return [
        DecidedRequest(
            pk, _full_name(first, last, username, erased_at), status, str(labels.get(status, status)), when
        )
        for pk, first, last, username, erased_at, status, when in _read(
            ("decided requests", key, person.pk), build
        )
    ]


def _read(key: Hashable, build: Callable[[], QuerySet[ShadowingRequest, _RowT]]) -> list[_RowT]:
    found = shapes.compiled((key,), build)
    if isinstance(found, shapes.CompiledPage):
        return cast(list[_RowT], found.fetch())  # the rows of build()'s values, as it would give them
    return list(found)


def with_placement_joins(queryset: QuerySet[Placement], *, shown_only: bool = False) -> QuerySet[Placement]:
    """Placements with their requester and workplace joined, and their days and steps in the same query.

    ``shown_only``: of the request, the requester and the workplace only what
    ``serializers.PlacementSerializer`` shows (the requester's id and name, the workplace's name), for reads
    that only serialise; a workflow given a placement gets the whole rows."""
    queryset = queryset.select_related("request__requester__user", "workplace")
    if shown_only:
        queryset = queryset.only(
            *(field.name for field in Placement._meta.concrete_fields),
            "request__requester",
            *_name_columns("request__requester"),
            "workplace__name",
        )
    return with_rows(
        queryset,
        Rows(
            "days",
            PlacementDay.objects.filter(placement=OuterRef("pk")).order_by("date", "starts_at", "pk"),
            ("slot", "date", "starts_at", "ends_at"),
        ),
        Rows(
            "events",
            PlacementEvent.objects.filter(placement=OuterRef("pk")).order_by("at", "pk"),
            ("from_status", "to_status", "actor", "at", "note"),
        ),
    )


def placements_for(actor: Actor, *, shown_only: bool = False) -> QuerySet[Placement]:
    """The shadower's own, the host's, and all for coordinators (proposals for coordinators only)."""
    return with_placement_joins(
        Placement.objects.filter(permissions.visible_placements_filter(actor)), shown_only=shown_only
    ).order_by("-created_at", "-pk")


def runs_for(actor: Actor, *, shown_only: bool = False) -> QuerySet[MatchingRun]:
    """Matching runs of the programmes the actor coordinates, with their proposals (``shown_only``: as
    ``with_placement_joins``)."""
    coordinated = actor.programmes_with_role(*COORDINATING_ROLES)
    placements = with_placement_joins(Placement.objects.order_by("pk"), shown_only=shown_only)
    return (
        MatchingRun.objects.filter(programme_id__in=coordinated)
        .prefetch_related(Prefetch("placements", queryset=placements))
        .order_by("-created_at", "-pk")
    )


def reflections_for(actor: Actor) -> QuerySet[Reflection]:
    """Own reflections, those of the actor's reports (line managers), and all for coordinators."""
    person = actor.person
    if person is None:
        return Reflection.objects.none()
    coordinated = actor.programmes_with_role(*COORDINATING_ROLES)
    return Reflection.objects.filter(
        Q(placement__request__requester=person)
        | Q(placement__request__requester__line_manager=person)
        | Q(placement__programme_id__in=coordinated)
    ).order_by("-submitted_at", "-pk")


# --- A person's own data (their download) ---------------------------------------------------------------

EXPORT_BATCH = 500


def personal_data_sections(person: Person) -> Iterator[registry.PersonalDataSection]:
    """What this app holds about a person: their requests, their visits with each step, what they wrote
    after them, the workplaces they are host contact for and the feedback they gave as host."""
    yield registry.PersonalDataSection("shadowing_requests", _("Shadowing requests"), _requests(person))
    yield registry.PersonalDataSection("placements", _("Shadowing visits"), _placements(person))
    yield registry.PersonalDataSection(
        "hosted_workplaces",
        _("Workplaces you are host contact for"),
        (
            {"programme": programme, "workplace": name}
            for programme, name in Workplace.objects.filter(contact=person)
            .order_by("programme__name", "name")
            .values_list("programme__name", "name")
        ),
    )
    yield registry.PersonalDataSection(
        "host_feedback",
        _("Feedback you gave as host"),
        (
            {"placement": placement, "feedback": feedback, "submitted_at": submitted.isoformat()}
            for placement, feedback, submitted in HostFeedback.objects.filter(author=person)
            .order_by("submitted_at", "pk")
            .values_list("placement_id", "feedback", "submitted_at")
            .iterator(EXPORT_BATCH)
        ),
    )


def _requests(person: Person) -> Iterator[dict[str, object]]:
    requests = (
        ShadowingRequest.objects.filter(requester=person)
        .select_related("programme")
        .prefetch_related(Prefetch("windows", queryset=AvailabilityWindow.objects.order_by("starts_on")))
        .order_by("submitted_at", "pk")
    )
    for shadowing_request in requests.iterator(EXPORT_BATCH):
        yield {
            "id": shadowing_request.pk,
            "programme": shadowing_request.programme.name,
            "learning_goals": shadowing_request.learning_goals,
            "days": shadowing_request.days,
            "languages": shadowing_request.languages,
            "status": shadowing_request.status,
            "submitted_at": shadowing_request.submitted_at.isoformat(),
            "decided_at": shadowing_request.decided_at.isoformat() if shadowing_request.decided_at else None,
            "decision_note": shadowing_request.decision_note,
            "available": [
                [w.starts_on.isoformat(), w.ends_on.isoformat()] for w in shadowing_request.windows.all()
            ],
        }


def _placements(person: Person) -> Iterator[dict[str, object]]:
    placements = (
        Placement.objects.filter(request__requester=person)
        .select_related("workplace", "reflection")
        .prefetch_related(
            Prefetch("days", queryset=PlacementDay.objects.order_by("date")),
            Prefetch("events", queryset=PlacementEvent.objects.order_by("at", "pk")),
        )
        .order_by("created_at", "pk")
    )
    for placement in placements.iterator(EXPORT_BATCH):
        reflection = getattr(placement, "reflection", None)
        yield {
            "id": placement.pk,
            "request": placement.request_id,
            "workplace": placement.workplace.name,
            "status": placement.status,
            "days": [day.date.isoformat() for day in placement.days.all()],
            "confidentiality_accepted_at": (
                placement.confidentiality_accepted_at.isoformat()
                if placement.confidentiality_accepted_at
                else None
            ),
            "decline_reason": placement.decline_reason,
            "cancel_reason": placement.cancel_reason,
            # Each step, and whether it was the person's own; who else took a step is not theirs to export.
            "steps": [
                {"to": e.to_status, "at": e.at.isoformat(), "by_you": e.actor_id == person.pk}
                for e in placement.events.all()
            ],
            "reflection": (
                {
                    "learned": reflection.learned,
                    "how_used": reflection.how_used,
                    "how_shared": reflection.how_shared,
                    "submitted_at": reflection.submitted_at.isoformat(),
                }
                if reflection is not None
                else None
            ),
        }


# --- Competence profiles ------------------------------------------------------------------------------------


def agency_kind_choices(programme: Programme) -> list[tuple[str, str]]:
    """The kinds of agency a visit may be made at (no query)."""
    return [(str(value), str(label)) for value, label in OrganisationKind.choices]


def visits_made_by_agency_kind(
    programme: Programme, person_ids: Iterable[int] | None
) -> dict[int, dict[str, date]]:
    """``{person_id: {agency kind: last day of the first visit made there}}`` (1 query)."""
    rows = Placement.objects.filter(programme=programme, status__in=Placement.AFTER_VISIT)
    if person_ids is not None:
        rows = rows.filter(request__requester_id__in=list(person_ids))
    done: dict[int, dict[str, date]] = defaultdict(dict)
    grouped = (
        rows.values("pk", "request__requester_id", "workplace__organisation__kind")
        .annotate(last_day=Max("days__date"))
        .order_by()
    )
    for row in grouped:
        person_id, kind, last_day = (
            row["request__requester_id"],
            row["workplace__organisation__kind"],
            row["last_day"],
        )
        if last_day is None:
            continue
        mine = done[person_id]
        if kind not in mine or last_day < mine[kind]:
            mine[kind] = last_day
    return done


def workplaces_of_agency_kinds(programme: Programme, kinds: Iterable[str]) -> list[CompetenceSuggestion]:
    """Published workplaces at agencies of those kinds with a free visit day ahead (1 query)."""
    today = timezone.localdate()
    free = Slot.objects.filter(workplace=OuterRef("pk"), date__gt=today, booked__lt=F("capacity"))
    workplaces = (
        Workplace.objects.filter(programme=programme, is_published=True, organisation__kind__in=list(kinds))
        .filter(Exists(free))
        .select_related("organisation")
        .order_by("organisation__name", "name", "pk")[:20]
    )
    return [
        CompetenceSuggestion(
            value=w.organisation.kind,
            label=f"{w.name} ({w.organisation.short_name})",
            detail=gettext("Visit days free at %(kind)s") % {"kind": w.organisation.get_kind_display()},
            url=reverse("shadowing:workplace-detail", args=[w.pk]),
        )
        for w in workplaces
    ]


# --- The workplaces page --------------------------------------------------------------------------------

CARD_FIELDS = (
    "pk",
    "programme_id",
    "organisation__name",
    "name",
    "street_address",
    "postal_code",
    "city",
    "description",
    "languages",
)


def published_workplaces(programme: Programme) -> list[Workplace]:
    """The programme's published workplaces with what a card shows (its unit, contact and long texts stay
    in the database) and their topics by name, by organisation and name: two queries."""
    return list(
        Workplace.objects.filter(programme=programme, is_published=True)
        .select_related("organisation")
        .only(*CARD_FIELDS)
        .prefetch_related(Prefetch("topics", queryset=Topic.objects.only("pk", "name")))
        .order_by("organisation__name", "name", "pk")
    )


def filter_choices(programme: Programme) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The workplaces filter's organisations (those taking part) and topics, as ``(key, name)`` by name."""
    organisations = list(
        Organisation.objects.filter(participations__programme=programme)
        .order_by("name")
        .values_list("pk", "name")
    )
    topics = list(Topic.objects.filter(programme=programme).order_by("name").values_list("pk", "name"))
    return organisations, topics


def _free_slot_rows(programme_id: int, today: date) -> QuerySet[ContentVersion, content.VersionRow]:
    text = models.CharField()
    free = (
        Slot.objects.filter(
            workplace__programme_id=programme_id,
            workplace__is_published=True,
            date__gte=today,
            booked__lt=F("capacity"),
        )
        .order_by()
        .values("workplace_id")
        .annotate(kind=Value("free", text), n=Count("pk"), extra=Value("", text))
        .values_list("kind", "workplace_id", "n", "extra")
    )
    return content.version_rows(programme_id).union(free, all=True)


# Compiled once per connection (building and compiling the union cost more than the database's answer);
# both branches name the programme, read in scope by the page.
_FREE_SLOT_ROWS: PreparedRows[ContentVersion, content.VersionRow] = PreparedRows(
    _free_slot_rows, stand_ins=(-(2**62) + 31, date(1901, 2, 3))
)


def free_slot_counts(programme: Programme, today: date) -> tuple[int, dict[int, int]]:
    """In one query: the programme's content stamp (``coordinator.core.content``) and, per published
    workplace, how many of its slots from ``today`` on have a free place."""
    version = 0
    counts: dict[int, int] = {}
    for kind, first, second, _extra in _FREE_SLOT_ROWS.fetch(programme.pk, today):
        if kind == content.VERSION_KIND:
            version = first
        else:
            counts[first] = second
    return version, counts
