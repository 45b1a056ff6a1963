"""How a matching run meets the database as plain rows: the approved requests read as the solver's specs,
and the chosen options written as proposed placements, their days and first events (bulk inserts: at
thousands of placements a model instance per row would cost more than the solver)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection, models
from django.utils import timezone

from organisations.models import Programme
from organisations.permissions import Actor
from organisations.selectors.competence import competences_of, gaps_by_person
from shadowing.models import (
    AvailabilityWindow,
    MatchingRun,
    Placement,
    PlacementDay,
    PlacementEvent,
    Preference,
    ShadowingRequest,
    UnplacedReason,
    Workplace,
)

if TYPE_CHECKING:  # the solver's module loads numpy; only the matching path imports it
    from django.db.models import QuerySet

    from shadowing.matching.options import Option, RequestSpec


def approved_request_specs(programme: Programme, today: date, spec: Any) -> list[Any]:
    """The approved requests of a programme as the matcher's ``RequestSpec``s, oldest first.

    Read as plain rows in four queries (requests, windows, preferences, topics) rather than as model
    instances with prefetched relations: at 5,000 requests that is the difference between a fraction of a
    second and several seconds of a matching run."""
    approved = {"request__programme": programme, "request__status": ShadowingRequest.Status.APPROVED}
    windows: dict[int, list[tuple[date, date]]] = defaultdict(list)
    first_day = today + timedelta(days=1)
    for request_id, starts_on, ends_on in (
        AvailabilityWindow.objects.filter(**approved, ends_on__gt=today)
        .order_by("request_id", "starts_on", "pk")
        .values_list("request_id", "starts_on", "ends_on")
    ):
        windows[request_id].append((max(starts_on, first_day), ends_on))
    by_workplace: dict[int, dict[int, int]] = defaultdict(dict)
    by_organisation: dict[int, dict[int, int]] = defaultdict(dict)
    for request_id, rank, workplace_id, organisation_id in Preference.objects.filter(**approved).values_list(
        "request_id", "rank", "workplace_id", "organisation_id"
    ):
        if workplace_id:
            by_workplace[request_id][workplace_id] = rank
        elif organisation_id:
            by_organisation[request_id][organisation_id] = rank
    topics: dict[int, set[int]] = defaultdict(set)
    # The topic links carry no programme of their own: they are read through their requests' programme.
    for request_id, topic_id in ShadowingRequest.topics.through.objects.filter(
        shadowingrequest__programme=programme, shadowingrequest__status=ShadowingRequest.Status.APPROVED
    ).values_list("shadowingrequest_id", "topic_id"):
        topics[request_id].add(topic_id)
    rows = (
        ShadowingRequest.objects.filter(programme=programme, status=ShadowingRequest.Status.APPROVED)
        .order_by("submitted_at", "pk")
        .values_list(
            "pk", "organisation_id", "days", "consecutive", "languages", "partner_id", "submitted_at"
        )
    )
    return [
        spec(
            id=pk,
            organisation=organisation_id,
            days=days,
            consecutive=consecutive,
            windows=tuple(windows.get(pk, ())),
            topics=frozenset(topics.get(pk, ())),
            languages=frozenset(languages or ()),
            preferred_workplaces=by_workplace.get(pk, {}),
            preferred_organisations=by_organisation.get(pk, {}),
            partner=partner_id,
            submitted_at=submitted_at,
        )
        for pk, organisation_id, days, consecutive, languages, partner_id, submitted_at in rows
    ]


def store_options(
    run: MatchingRun,
    chosen: Sequence[Any],
    slot_times: Mapping[int, tuple[date, time, time]],
    actor: Actor,
    note: str = "",
) -> list[int]:
    """Store the options as proposed placements of the run, with their days and first event; returns the
    new placements' ids in the order of `chosen`.

    Everything is written as plain rows: at thousands of placements, building a model instance per row
    would cost more than the solver."""
    if not chosen:
        return []
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    insert_rows(
        Placement,
        (
            "programme",
            "request",
            "workplace",
            "run",
            "status",
            "sequence",
            "decline_reason",
            "cancel_reason",
            "created_at",
            "updated_at",
        ),
        [
            (run.programme_id, o.request, o.workplace, run.pk, Placement.Status.PROPOSED, 0, "", "", now, now)
            for o in chosen
        ],
    )
    # A request has at most one placement per run (constraint placement_once_per_run), so the new ids
    # are read back by request.
    placed = Placement.objects.filter(run=run)
    if len(chosen) <= FEW:  # a hand edit on a run that already holds other proposals
        placed = placed.filter(request_id__in=[o.request for o in chosen])
    placement_of = dict(placed.values_list("request_id", "pk"))
    ids = [placement_of[o.request] for o in chosen]
    insert_rows(
        PlacementDay,
        ("placement", "slot", "date", "starts_at", "ends_at"),
        [
            (
                placement_id,
                slot_id,
                ops.adapt_datefield_value(slot_times[slot_id][0]),
                ops.adapt_timefield_value(slot_times[slot_id][1]),
                ops.adapt_timefield_value(slot_times[slot_id][2]),
            )
            for placement_id, option in zip(ids, chosen, strict=True)
            for slot_id in option.slots
        ],
    )
    actor_id = actor.person.pk if actor.person else None
    insert_rows(
        PlacementEvent,
        ("placement", "from_status", "to_status", "actor", "at", "note"),
        [(placement_id, "", Placement.Status.PROPOSED, actor_id, now, note) for placement_id in ids],
    )
    return ids


# Below this many options `store_options` reads the new placements back by request rather than by run.
FEW = 100


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert rows of values (already adapted for the database) into a model's table: with COPY on
    PostgreSQL, else one prepared statement for all rows. Only for rows that need no model logic: no
    signals, defaults or validation run."""
    if not rows:
        return
    ops = connection.ops
    concrete = {field.name: field.column for field in model._meta.concrete_fields}
    columns = ", ".join(ops.quote_name(str(concrete[name])) for name in fields)
    table = ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg's executemany and long multi-row statements both spend seconds per 10,000 rows
            # in Python; COPY does not.
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(fields))
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
            rows,
        )


def insert_from(model: type[models.Model], fields: Sequence[str], rows: QuerySet[Any, Any]) -> None:
    """Insert the rows a query selects into a model's table in one ``INSERT ... SELECT``: the rows never
    leave the database (a confirmation's thousands of events in one statement). ``rows`` selects one value
    per field, in order; as with ``insert_rows``, no signals, defaults or validation run."""
    ops = connection.ops
    concrete = {field.name: field.column for field in model._meta.concrete_fields}
    columns = ", ".join(ops.quote_name(str(concrete[name])) for name in fields)
    table = ops.quote_name(model._meta.db_table)
    select, params = rows.query.get_compiler(using=rows.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {select}", params)  # noqa: S608


def store_reasons(unplaced: Mapping[str, str], placed: Sequence[int]) -> None:
    """Each request keeps the code of why the last match left it out (shown in the reader's language)."""
    by_code: dict[str, list[int]] = defaultdict(list)
    for request_id, code in unplaced.items():
        by_code[code if code in UnplacedReason.values else UnplacedReason.ALL_FULL].append(int(request_id))
    # Rows that already hold the code are left alone (on PostgreSQL every updated row is rewritten).
    for code, ids in by_code.items():
        ShadowingRequest.objects.filter(pk__in=ids).exclude(unplaced_code=code).update(unplaced_code=code)
    if placed:
        ShadowingRequest.objects.filter(pk__in=list(placed)).exclude(unplaced_code="").update(
            unplaced_code=""
        )


class HandOption:
    """The shape of a solver option, for a placement made by hand."""

    def __init__(self, request: int, workplace: int, slots: tuple[int, ...]) -> None:
        self.request, self.workplace, self.slots = request, workplace, slots


# What a visit that would close a gap in the requester's competence profile adds to an option's preference
# score, where the programme asks the matcher to weigh gaps: above an unranked workplace (0.5) and a
# preferred organisation of rank 3 to 5, below a preferred workplace or a first or second preferred
# organisation, and far below placing one more person (1000).
# A workplace whose kind of agency closes one of the requester's competence gaps counts as an organisation
# the requester ranked first, in the builder and in the pricing alike, so the certified bound stays valid.
GAP_RANK = 1


def weigh_competence_gaps(programme: Programme, specs: list[RequestSpec]) -> list[RequestSpec]:
    """Each request, with every organisation whose kind of agency gives a competence the requester's profile
    asks for and they lack ranked as a first choice (``Programme.matching_closes_gaps``). A fixed number of
    queries."""
    requester_of = dict(
        ShadowingRequest.objects.filter(programme=programme, pk__in=[s.id for s in specs]).values_list(
            "pk", "requester_id"
        )
    )
    closing: dict[int, set[str]] = {
        c.id: {value for kind, value in c.sources if kind == "agency_kind"} for c in competences_of(programme)
    }
    if not any(closing.values()):
        return specs
    gaps = gaps_by_person(programme, set(requester_of.values()))
    kinds_for: dict[int, set[str]] = {}
    for request_id, person_id in requester_of.items():
        kinds = set().union(*(closing.get(cid, set()) for cid in gaps.get(person_id, ())))
        if kinds:
            kinds_for[request_id] = kinds
    if not kinds_for:
        return specs
    kind_of = dict(
        Workplace.objects.filter(programme=programme).values_list("organisation_id", "organisation__kind")
    )
    weighed = []
    for spec in specs:
        wanted = kinds_for.get(spec.id)
        if wanted:
            ranks = dict(spec.preferred_organisations)
            for organisation, kind in kind_of.items():
                if kind in wanted:
                    ranks[organisation] = GAP_RANK
            spec = replace(spec, preferred_organisations=ranks)
        weighed.append(spec)
    return weighed


def previous_proposal(programme: Programme) -> dict[int, Option]:
    """The latest proposed (unconfirmed) run's placements as solver options {request id: option}: the
    matcher starts from them (it re-checks each against today's seats and rules, and re-scores it)."""
    previous = (
        MatchingRun.objects.filter(programme=programme, status=MatchingRun.Status.PROPOSED)
        .order_by("-created_at", "-pk")
        .first()
    )
    if previous is None:
        return {}
    from shadowing.matching.options import Option  # noqa: PLC0415 (numpy loads only on this path)

    slots: dict[int, list[int]] = defaultdict(list)
    placed: dict[int, int] = {}
    for request_id, workplace_id, slot_id in (
        PlacementDay.objects.filter(placement__run=previous, slot__isnull=False)
        .order_by("placement_id", "date", "slot_id")
        .values_list("placement__request_id", "placement__workplace_id", "slot_id")
    ):
        placed[request_id] = workplace_id
        slots[request_id].append(slot_id)
    return {rid: Option(rid, wid, 0, tuple(slots[rid]), 0.0) for rid, wid in placed.items()}
