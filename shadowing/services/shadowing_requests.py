"""Requests to go shadowing: made and changed by the staff member, decided by the line manager,
paired into reciprocal exchanges by coordinators, and expired by the periodic sweep."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core.audit import insert_audited, log_changes
from coordinator.core.exceptions import Conflict
from coordinator.core.notifications import notify
from coordinator.core.prepared_writes import PreparedInsert
from coordinator.core.rows import hold_written
from coordinator.core.services import apply_changes, validate
from coordinator.core.tenancy import unscoped
from organisations.models import Organisation, Participation, Person, PlatformRole, Programme, RoleAssignment
from organisations.permissions import Actor
from shadowing import permissions
from shadowing.kinds import KIND_REQUEST
from shadowing.links import page_url
from shadowing.models import (
    NOTE_MAX_LENGTH,
    AvailabilityWindow,
    Placement,
    Preference,
    ShadowingRequest,
    Topic,
    Workplace,
)
from shadowing.services import request_notices
from shadowing.services._common import (
    check_topics,
    require_manage,
    require_person,
    today_in,
)

REQUEST_FIELDS = {"learning_goals", "days", "consecutive", "languages"}
MAX_WINDOWS = 5
MAX_PREFERENCES = 5
# A new request's row, its SQL written once per connection (with its audit entry: ``insert_audited``).
_REQUEST_INSERT: PreparedInsert[ShadowingRequest] = PreparedInsert(ShadowingRequest)
# Its windows and wishes, as ``bulk_create`` writes them, the SQL written once per number of rows.
_WINDOW_INSERT: PreparedInsert[AvailabilityWindow] = PreparedInsert(AvailabilityWindow)
_PREFERENCE_INSERT: PreparedInsert[Preference] = PreparedInsert(Preference)
# --- Requests -------------------------------------------------------------------------------------------


def _windows(raw: Sequence[Any]) -> list[tuple[date, date]]:
    windows: list[tuple[date, date]] = []
    for item in raw:
        if isinstance(item, Mapping):
            windows.append((item["starts_on"], item["ends_on"]))
        else:
            starts_on, ends_on = item
            windows.append((starts_on, ends_on))
    return windows


def _preferences(raw: Sequence[Any]) -> list[tuple[int, Organisation | None, Workplace | None]]:
    """(rank, organisation, workplace) rows from tuples or mappings; missing ranks follow the order."""
    rows: list[tuple[int, Organisation | None, Workplace | None]] = []
    for index, item in enumerate(raw, start=1):
        if isinstance(item, Mapping):
            rows.append((item.get("rank") or index, item.get("organisation"), item.get("workplace")))
        else:
            rank, organisation, workplace = item
            rows.append((rank or index, organisation, workplace))
    return rows


def _check_request_parts(
    programme: Programme,
    organisation_id: int,
    unit_id: int | None,
    topics: Sequence[Topic],
    windows: list[tuple[date, date]],
    preferences: list[tuple[int, Organisation | None, Workplace | None]],
) -> None:
    """Windows, preferences and topics of a request; never the requester's own organisation."""
    errors: dict[str, list[str]] = defaultdict(list)
    check_topics(programme, topics)
    today = today_in(programme)
    if not windows:
        errors["windows"].append(_("Give at least one period in which you can go."))
    if len(windows) > MAX_WINDOWS:
        errors["windows"].append(_("Give at most five periods."))
    for starts_on, ends_on in windows:
        if ends_on < starts_on:
            errors["windows"].append(_("A period must end on or after its start."))
        elif ends_on <= today:
            errors["windows"].append(_("A period must reach into the future."))
        elif (ends_on - starts_on).days > 366:
            errors["windows"].append(_("A period can be at most a year long."))
    if len(preferences) > MAX_PREFERENCES:
        errors["preferences"].append(_("Give at most five preferences."))
    ranks = [rank for rank, _o, _w in preferences]
    if len(set(ranks)) != len(ranks) or any(
        not isinstance(r, int) or r < 1 or r > MAX_PREFERENCES for r in ranks
    ):
        errors["preferences"].append(_("Rank your preferences 1 to 5, each rank once."))
    # Only a wish for an organisation needs the programme's organisations and hosts (a workplace carries
    # its own programme and state): most requests name workplaces, and skip both reads.
    participating: set[int] = set()
    hosting: set[int] = set()
    if any(organisation is not None for _rank, organisation, _workplace in preferences):
        participating = set(
            Participation.objects.filter(programme=programme).values_list("organisation_id", flat=True)
        )
        # An organisation is a preference only once it has a workplace to visit: the matcher could never
        # honour a wish for one without.
        hosting = set(
            Workplace.objects.filter(programme=programme, is_published=True).values_list(
                "organisation_id", flat=True
            )
        )
    seen: set[tuple[str, int]] = set()
    for _rank, organisation, workplace in preferences:
        if (organisation is None) == (workplace is None):
            errors["preferences"].append(_("Each preference names an organisation or a workplace."))
            continue
        target_unit: int | None = None
        if organisation is not None:
            key = ("o", organisation.pk)
            target_org = organisation.pk
            if organisation.pk not in participating:
                errors["preferences"].append(_("Choose an organisation of this programme."))
        else:
            assert workplace is not None
            key = ("w", workplace.pk)
            target_org = workplace.organisation_id
            target_unit = workplace.unit_id
            if workplace.programme_id != programme.pk or not workplace.is_published:
                errors["preferences"].append(_("Choose a published workplace of this programme."))
        if key in seen:
            errors["preferences"].append(_("Each preference may be given once."))
        seen.add(key)
        if not permissions.can_shadow_at(
            organisation_id,
            target_org,
            own_rule=programme.own_rule,
            requester_unit_id=unit_id,
            host_unit_id=target_unit,
        ):
            errors["preferences"].append(_("Shadowing is always at another organisation than your own."))
        elif organisation is not None and organisation.pk in participating and organisation.pk not in hosting:
            errors["preferences"].append(
                _("%(name)s has no published workplace to visit yet.") % {"name": organisation.name}
            )
    if errors:
        raise ValidationError({k: sorted(set(v), key=v.index) for k, v in errors.items()})


def _write_parts(
    request: ShadowingRequest,
    topics: Sequence[Topic],
    windows: list[tuple[date, date]],
    preferences: list[tuple[int, Organisation | None, Workplace | None]],
    *,
    new: bool = False,
) -> None:
    """Write the request's topics, windows and preferences (``new``: a request just inserted, which has
    none yet to compare or delete)."""
    if not new:
        request.topics.set(topics)
        AvailabilityWindow.objects.filter(request=request).delete()
        Preference.objects.filter(request=request).delete()
    elif topics:
        request.topics.add(*topics)
    written_windows = [
        AvailabilityWindow(request=request, starts_on=a, ends_on=b) for a, b in sorted(windows)
    ]
    _WINDOW_INSERT.insert_rows(written_windows)
    written_preferences = [
        Preference(request=request, rank=r, organisation=o, workplace=w) for r, o, w in preferences
    ]
    _PREFERENCE_INSERT.insert_rows(written_preferences)
    if new:
        # A new request holds all of its rows now, in the order ``selectors.requests_for`` reads them
        # (topics by name, windows by start, wishes by rank; the ranks are distinct): the answer to the
        # request is written from them without reading them back.
        unique_topics: dict[int, Topic] = {topic.pk: topic for topic in topics}
        topic_rows: list[Topic] = sorted(unique_topics.values(), key=lambda t: (t.name, t.pk))
        preference_rows: list[Preference] = sorted(written_preferences, key=lambda p: p.rank)
        hold_written(request, "topics", topic_rows)
        hold_written(request, "windows", written_windows)
        hold_written(request, "preferences", preference_rows)


def request_create(
    *,
    actor: Actor,
    programme: Programme,
    values: Mapping[str, Any],
    topics: Sequence[Topic] = (),
    windows: Sequence[Any] = (),
    preferences: Sequence[Any] = (),
    person: Person | None = None,
) -> ShadowingRequest:
    """A staff member asks to shadow, for themselves; or a coordinator files the request on a staff
    member's behalf (``person``), as they may enrol people on courses. ``windows`` are (starts_on, ends_on)
    pairs, ``preferences`` (rank, organisation, workplace) rows with one of the two set; never the
    requester's own organisation (or unit, see ``Programme.own_rule``). The line manager (see
    ``permissions.approvers_of``) is asked to approve; a person asked for is told who filed it."""
    me = require_person(actor)
    person = person or me
    on_behalf = person.pk != me.pk
    if on_behalf:
        if not permissions.can_manage(actor, programme):
            raise PermissionDenied(_("Only the programme's coordinators may ask on someone's behalf."))
        if not is_staff_of(person, programme):
            raise ValidationError({"person": _("Choose a staff member of this programme.")})
    elif not permissions.can_request(actor, programme):
        raise PermissionDenied(_("Only staff of the programme's organisations may ask to shadow."))
    request = ShadowingRequest(
        programme=programme,
        requester=person,
        organisation_id=person.organisation_id,
        filed_by=me if on_behalf else None,
    )
    apply_changes(request, values, REQUEST_FIELDS)
    validate(request, exclude=["programme", "requester", "organisation", "partner"])
    window_rows = _windows(windows)
    preference_rows = _preferences(preferences)
    _check_request_parts(
        programme, person.organisation_id, person.unit_id, topics, window_rows, preference_rows
    )
    with transaction.atomic():
        insert_audited(_REQUEST_INSERT, request)
        _write_parts(request, topics, window_rows, preference_rows, new=True)
        # The line manager is asked (and a person asked for is told) by the task queue after the commit.
        request_notices.tell_after_commit(request, request_notices.SUBMITTED)
    return request


def is_staff_of(person: Person, programme: Programme) -> bool:
    """Whether a person is an active staff member of the programme."""
    return RoleAssignment.objects.filter(
        membership__programme=programme,
        membership__person=person,
        membership__is_active=True,
        role=PlatformRole.STAFF,
    ).exists()


def request_update(
    *,
    actor: Actor,
    request: ShadowingRequest,
    values: Mapping[str, Any],
    topics: Sequence[Topic] | None = None,
    windows: Sequence[Any] | None = None,
    preferences: Sequence[Any] | None = None,
) -> ShadowingRequest:
    """The requester changes an open request (waiting for approval or for a match)."""
    if not permissions.is_requester(actor, request):
        raise PermissionDenied(_("Only the person who asked may change this request."))
    if not request.is_open:
        raise ValidationError(_("This request can no longer be changed."))
    changed = apply_changes(request, values, REQUEST_FIELDS)
    validate(request, exclude=["programme", "requester", "organisation", "partner"])
    programme = request.programme
    topic_rows = list(request.topics.all()) if topics is None else list(topics)
    window_rows = (
        [(w.starts_on, w.ends_on) for w in request.windows.all()] if windows is None else _windows(windows)
    )
    preference_rows = (
        [(p.rank, p.organisation, p.workplace) for p in request.preferences.select_related("workplace")]
        if preferences is None
        else _preferences(preferences)
    )
    _check_request_parts(
        programme,
        request.organisation_id,
        request.requester.unit_id,
        topic_rows,
        window_rows,
        preference_rows,
    )
    with transaction.atomic():
        if changed:
            request.save(update_fields=changed)
        _write_parts(request, topic_rows, window_rows, preference_rows)
        # Proposals of unconfirmed runs were made for the old wishes; the next run matches the new ones.
        _drop_proposals([request.pk])
    return request


def _drop_proposals(request_ids: Iterable[int]) -> None:
    """Proposals of unconfirmed runs for requests that left the pool (they held no seat)."""
    ids = list(request_ids)
    if ids:
        Placement.objects.filter(request_id__in=ids, status=Placement.Status.PROPOSED).delete()


def _unpair(request: ShadowingRequest) -> None:
    if request.partner_id is not None:
        ShadowingRequest.objects.filter(pk__in=[request.pk, request.partner_id]).update(partner=None)
        request.partner_id = None


def request_withdraw(*, actor: Actor, request: ShadowingRequest) -> ShadowingRequest:
    """The requester withdraws an open request. A placed request is cancelled through its placement."""
    if not permissions.is_requester(actor, request):
        raise PermissionDenied(_("Only the person who asked may withdraw this request."))
    with transaction.atomic():
        updated = ShadowingRequest.objects.filter(pk=request.pk, status__in=ShadowingRequest.OPEN).update(
            status=ShadowingRequest.Status.WITHDRAWN
        )
        if not updated:
            raise Conflict(
                _(
                    "Only a request waiting for approval or a match can be withdrawn; "
                    "cancel the placement instead."
                )
            )
        request.status = ShadowingRequest.Status.WITHDRAWN
        _drop_proposals([request.pk])
        _unpair(request)
    return request


def _decide(actor: Actor, request: ShadowingRequest, status: str, note: str) -> ShadowingRequest:
    if not permissions.can_decide(actor, request):
        raise PermissionDenied(_("Only the requester's line manager may decide on this request."))
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": _("Keep the note under 1,000 characters.")})
    now = timezone.now()
    with transaction.atomic():
        updated = ShadowingRequest.objects.filter(
            pk=request.pk, status=ShadowingRequest.Status.PENDING_APPROVAL
        ).update(status=status, approved_by=actor.person, decided_at=now, decision_note=note)
        if not updated:
            raise Conflict(_("This request has already been decided."))
        # The compare-and-set sends no model signals, so the decision is put on the audit trail here.
        log_changes(request, {"status": [ShadowingRequest.Status.PENDING_APPROVAL.value, status]})
        request.status, request.approved_by, request.decided_at, request.decision_note = (
            status,
            actor.person,
            now,
            note,
        )
        if status == ShadowingRequest.Status.DECLINED:
            _unpair(request)
        # The requester is told by the task queue after the commit.
        approved = status == ShadowingRequest.Status.APPROVED
        request_notices.tell_after_commit(
            request, request_notices.APPROVED if approved else request_notices.DECLINED
        )
    return request


def request_approve(*, actor: Actor, request: ShadowingRequest, note: str = "") -> ShadowingRequest:
    """The line manager approves the time away; the request joins the next match."""
    return _decide(actor, request, ShadowingRequest.Status.APPROVED, note)


def request_decline(*, actor: Actor, request: ShadowingRequest, note: str) -> ShadowingRequest:
    """The line manager declines, with a note to the requester."""
    if not (note or "").strip():
        raise ValidationError({"note": _("Tell the requester why.")})
    return _decide(actor, request, ShadowingRequest.Status.DECLINED, note.strip())


def _prefers_organisation(request: ShadowingRequest, organisation_id: int) -> bool:
    return Preference.objects.filter(
        Q(organisation_id=organisation_id) | Q(workplace__organisation_id=organisation_id), request=request
    ).exists()


def pair_requests(*, actor: Actor, first: ShadowingRequest, second: ShadowingRequest) -> None:
    """Make two requests a reciprocal exchange (coordinators): the matcher places both or neither, each at
    the other's organisation. They must come from two organisations that each prefer the other's."""
    require_manage(actor, first.programme_id)
    errors = []
    if first.pk == second.pk:
        errors.append(_("Choose two different requests."))
    elif first.programme_id != second.programme_id:
        errors.append(_("Both requests must belong to the same programme."))
    elif first.organisation_id == second.organisation_id:
        errors.append(_("An exchange is between two different organisations."))
    elif not (first.is_open and second.is_open):
        errors.append(_("Both requests must still wait for approval or a match."))
    elif (first.partner_id not in (None, second.pk)) or (second.partner_id not in (None, first.pk)):
        errors.append(_("One of the requests already has another partner."))
    elif not (
        _prefers_organisation(first, second.organisation_id)
        and _prefers_organisation(second, first.organisation_id)
    ):
        errors.append(
            _("Each request must name the other's organisation (or one of its workplaces) as a preference.")
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        ShadowingRequest.objects.filter(pk=first.pk).update(partner=second.pk)
        ShadowingRequest.objects.filter(pk=second.pk).update(partner=first.pk)
        first.partner_id, second.partner_id = second.pk, first.pk


def pair_dissolve(*, actor: Actor, request: ShadowingRequest) -> None:
    """End a reciprocal exchange (coordinators): both requests are matched on their own again."""
    require_manage(actor, request.programme_id)
    if request.partner_id is None:
        raise ValidationError(_("This request is not part of an exchange."))
    with transaction.atomic():
        _unpair(request)


def requests_expire(now: datetime | None = None) -> int:
    """Periodic job: open requests unplaced past their ``expires_at`` expire; the requester is told."""
    now = now or timezone.now()
    with unscoped():  # a periodic job: a system sweep over every programme
        due = list(
            ShadowingRequest.objects.filter(status__in=ShadowingRequest.OPEN, expires_at__lte=now)
            .select_related("programme", "requester__user")
            .order_by("pk")
        )
        expired = 0
        for request in due:
            with transaction.atomic():
                updated = ShadowingRequest.objects.filter(
                    pk=request.pk, status__in=ShadowingRequest.OPEN, expires_at__lte=now
                ).update(status=ShadowingRequest.Status.EXPIRED)
                if not updated:
                    continue
                expired += 1
                _drop_proposals([request.pk])
                notify(
                    programme=request.programme,
                    recipients=[request.requester],
                    kind=KIND_REQUEST,
                    title=gettext_noop("Your shadowing request has expired"),
                    body=gettext_noop(
                        "It could not be placed in time. You are welcome to ask again with new dates or "
                        "other preferences."
                    ),
                    url=page_url("request-detail", pk=request.pk),
                )
    return expired


def requests_withdraw_for_erasure(person: Person, programme_ids: frozenset[int]) -> int:
    """Part of erasing a person (``organisations.services.personal_data``): their requests still in play
    in these programmes are withdrawn, so no later matching places someone who has left. Visits already
    placed keep their history. Runs inside the erasure's transaction; notifies no one."""
    return ShadowingRequest.objects.filter(
        requester=person, programme_id__in=programme_ids, status__in=ShadowingRequest.OPEN
    ).update(status=ShadowingRequest.Status.WITHDRAWN)
