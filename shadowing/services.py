"""Every write of the shadowing app: workplaces, slots, requests, matching runs, placements and what was
learned.

Seats
-----
A slot's seats are the scarce thing. ``Slot.booked`` counts the days of placements in a seat-holding
status (``Placement.SEAT_HOLDING``: awaiting the host, accepted, confirmed, visited, reflected); a proposal
in an unconfirmed run holds none. Confirming a run takes every seat it needs in one step: it locks all
slots of the touched workplace-days with ``SELECT ... FOR UPDATE`` ordered by primary key (through
``Slot.unscoped_objects`` by pk, after the scoped reads that enforced the tenant), re-reads ``booked``,
refuses the whole confirmation with a conflict when a placement no longer fits, and moves the counters
with ``F("booked") + n``. Releasing seats (a decline, a cancellation) decrements in primary-key order too.
The CHECK constraint ``booked <= capacity`` is the backstop. On SQLite transactions are serialised anyway.

Placement workflow
------------------
``proposed`` (in a run) → ``awaiting_host`` (run confirmed by a coordinator) → ``host_accepted`` or
``host_declined`` (by the host) → ``confirmed`` (by the shadower, accepting the confidentiality terms;
calendar invites go out) → ``visited`` (by the host or a coordinator after the last day) → ``reflected``
(the shadower's reflection). ``awaiting_host``, ``host_accepted`` and ``confirmed`` may be cancelled by the
shadower, the host or a coordinator, with a reason. Each transition is a compare-and-set on the status
(a second, concurrent click gets a conflict instead of a second transition) and writes a
``PlacementEvent``. A host's decline, or a cancellation by the host or a coordinator, puts the request
back to ``approved`` so that the next run matches it again; a cancellation by the shadower withdraws it.

Notifications
-------------
Every step that asks something of someone tells them: line managers (a request to decide), requesters
(the decision, a match, expiry, back to matching), hosts (a visitor to accept, a confirmation or
cancellation), shadowers (a placement to confirm, a cancellation) and coordinators (a decline or
cancellation to re-match). Calendar invites are sent by ``shadowing.invites``.
"""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import F, Prefetch, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from guardian.shortcuts import assign_perm, remove_perm

from coordinator.core.notifications import notify
from coordinator.core.tenancy import unscoped
from organisations.models import Organisation, Participation, Person, PlatformRole, Programme, Unit
from organisations.permissions import Actor
from organisations.selectors import coordinators_of
from shadowing import invites
from shadowing import permissions as perms
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
    UnplacedReason,
    Workplace,
    WorkplaceUserObjectPermission,
)

P = Placement.Status
RS = ShadowingRequest.Status
R = PlatformRole

KIND_APPROVAL = "shadowing.approval"
KIND_REQUEST = "shadowing.request"
KIND_HOSTING = "shadowing.hosting"
KIND_PLACEMENT = "shadowing.placement"
KIND_COORDINATION = "shadowing.coordination"

WORKPLACE_FIELDS = {
    "unit",
    "name",
    "street_address",
    "postal_code",
    "city",
    "description",
    "languages",
    "accessibility",
    "max_visitors_per_day",
    "confidentiality_terms",
    "contact",
    "is_published",
}
REQUEST_FIELDS = {"learning_goals", "days", "consecutive", "languages"}
SLOT_FIELDS = {"starts_at", "ends_at", "capacity", "notes"}
MAX_WINDOWS = 5
MAX_PREFERENCES = 5
MAX_BULK_SLOTS = 400
CONFLICT = "conflict"


# The row locks on the slots keep seats exact. They are switched off only by the race-control test, to show
# what happens without them (``slot_lock_disabled``).
_slot_lock_enabled = True


@contextlib.contextmanager
def slot_lock_disabled() -> Iterator[None]:
    """Confirm runs without locking the slots (the race-control test only)."""
    global _slot_lock_enabled
    _slot_lock_enabled = False
    try:
        yield
    finally:
        _slot_lock_enabled = True


# --- Helpers --------------------------------------------------------------------------------------------


def is_conflict(error: ValidationError) -> bool:
    """Whether a service refused because the state changed meanwhile (the API answers 409)."""
    if hasattr(error, "error_dict"):
        return False
    return any(getattr(item, "code", None) == CONFLICT for item in error.error_list)


def _require_manage(actor: Actor, programme: Programme | int) -> None:
    if not perms.can_manage(actor, programme):
        raise PermissionDenied(_("Only the programme's coordinators may do this."))


def _require_person(actor: Actor) -> Person:
    if actor.person is None:
        raise PermissionDenied(_("Sign in with a staff profile to do this."))
    return actor.person


def _apply(instance: Any, values: Mapping[str, Any], allowed: set[str]) -> list[str]:
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    changed = []
    for name, value in values.items():
        try:
            current = getattr(instance, name)
        except ObjectDoesNotExist:  # a required relation not set yet on a new row
            current = None
        if current != value or current is None:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def _full_clean(instance: Any, exclude: Sequence[str] = ()) -> None:
    instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)


def _today(programme: Programme) -> date:
    return timezone.localtime(timezone.now(), ZoneInfo(programme.time_zone)).date()


def _language_of(person: Person, programme: Programme) -> str:
    return person.preferred_language or programme.language or settings.LANGUAGE_CODE


def _tell(
    people: Iterable[Person],
    programme: Programme,
    kind: str,
    url: str,
    title: str,
    body: str = "",
    params: Mapping[str, Any] | None = None,
    detail: str = "",
) -> None:
    """A notification to each person in their own language.

    ``title`` and ``body`` are English source strings marked with ``gettext_noop`` and translated here;
    ``detail`` is text someone typed (a reason, a note), passed on untranslated.
    """
    seen: set[int] = set()
    for person in people:
        if person.pk in seen:
            continue
        seen.add(person.pk)
        with translation.override(_language_of(person, programme)):
            values = dict(params or {})
            text = _(body) % values if body else ""
            if detail:
                text = f"{text}\n\n{detail}".strip()
            notify(
                programme=programme,
                recipients=[person],
                kind=kind,
                title=_(title) % values,
                body=text,
                url=url,
            )


def _url(name: str, **kwargs: Any) -> str:
    try:
        return reverse(f"shadowing:{name}", kwargs=kwargs or None)
    except Exception:  # the web pages are optional for the services (API-only deployments, early tests)
        return ""


def _people(ids: Iterable[int]) -> list[Person]:
    return list(Person.unscoped_objects.filter(pk__in=set(ids)).select_related("user").order_by("pk"))


def _validate_language_list(value: Any, field: str) -> None:
    from organisations.models import validate_language_codes

    try:
        validate_language_codes(value)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error


# --- Topics ---------------------------------------------------------------------------------------------


def topic_create(*, actor: Actor, programme: Programme, name: str) -> Topic:
    """Add a topic to the programme's controlled list (coordinators)."""
    _require_manage(actor, programme)
    topic = Topic(programme=programme, name=(name or "").strip())
    _full_clean(topic, exclude=["programme"])
    if Topic.objects.filter(programme=programme, name__iexact=topic.name).exists():
        raise ValidationError({"name": _("This topic is already on the list.")})
    topic.save()
    return topic


# --- Workplaces -----------------------------------------------------------------------------------------


def _check_topics(programme: Programme, topics: Sequence[Topic]) -> None:
    if any(t.programme_id != programme.pk for t in topics):
        raise ValidationError({"topics": _("Choose topics from this programme's list.")})


def _check_workplace(workplace: Workplace) -> None:
    """Relations a form or serializer cannot check alone: unit and contact of the same organisation."""
    errors: dict[str, str] = {}
    if workplace.unit_id is not None:
        unit = (
            Unit.unscoped_objects.filter(pk=workplace.unit_id)
            .values_list("organisation_id", flat=True)
            .first()
        )
        if unit != workplace.organisation_id:
            errors["unit"] = _("Choose a unit of the workplace's own organisation.")
    contact = workplace.contact
    if contact.organisation_id != workplace.organisation_id:
        errors["contact"] = _("The host contact must work at the workplace's organisation.")
    elif not contact.memberships.filter(programme_id=workplace.programme_id, is_active=True).exists():
        errors["contact"] = _("The host contact must be a member of the programme.")
    if errors:
        raise ValidationError(errors)


def sync_workplace_permissions(workplaces: Iterable[Workplace]) -> int:
    """Make guardian's ``change_workplace`` match the rule: the organisation's host contacts in the
    programme, and the workplace's contact person. Returns the number of grants and revocations.

    Called by the workplace services and by the periodic ``shadowing.sync_host_permissions`` job, which
    catches role changes made in the organisation pages.
    """
    changes = 0
    for workplace in workplaces:
        holders = set(
            Person.unscoped_objects.filter(
                organisation_id=workplace.organisation_id,
                memberships__programme_id=workplace.programme_id,
                memberships__is_active=True,
                memberships__role_assignments__role=R.HOST_CONTACT,
            ).values_list("user_id", flat=True)
        )
        holders.add(
            Person.unscoped_objects.filter(pk=workplace.contact_id).values_list("user_id", flat=True)[0]
        )
        current = set(
            WorkplaceUserObjectPermission.objects.filter(
                content_object=workplace, permission__codename=perms.CHANGE_WORKPLACE
            ).values_list("user_id", flat=True)
        )
        from django.contrib.auth.models import User

        for user in User.objects.filter(pk__in=holders - current):
            assign_perm(f"shadowing.{perms.CHANGE_WORKPLACE}", user, workplace)
            changes += 1
        for user in User.objects.filter(pk__in=current - holders):
            remove_perm(f"shadowing.{perms.CHANGE_WORKPLACE}", user, workplace)
            changes += 1
    return changes


def sync_host_permissions_job(now: datetime | None = None) -> int:
    """Periodic sweep: host-contact roles granted or taken away since a workplace was last saved."""
    with unscoped():  # a system sweep over every programme's workplaces
        return sync_workplace_permissions(Workplace.unscoped_objects.all())


def workplace_create(
    *,
    actor: Actor,
    programme: Programme,
    organisation: Organisation,
    values: Mapping[str, Any],
    topics: Sequence[Topic] = (),
) -> Workplace:
    """Open a workplace of the actor's own organisation (host contacts and organisation admins).

    The contact defaults to the actor. The organisation's host contacts get the object permission.
    """
    if not perms.can_create_workplace(actor, programme, organisation.pk):
        raise PermissionDenied(_("Only the organisation's host contacts and admins may open its workplaces."))
    if not Participation.objects.filter(programme=programme, organisation=organisation).exists():
        raise ValidationError(_("The organisation does not take part in this programme."))
    workplace = Workplace(programme=programme, organisation=organisation)
    values = dict(values)
    values.setdefault("contact", actor.person)
    _apply(workplace, values, WORKPLACE_FIELDS)
    _full_clean(workplace, exclude=["programme", "organisation"])
    _check_workplace(workplace)
    _check_topics(programme, topics)
    with transaction.atomic():
        if Workplace.objects.filter(
            programme=programme, organisation=organisation, name=workplace.name
        ).exists():
            raise ValidationError({"name": _("Your organisation already has a workplace with this name.")})
        workplace.save()
        workplace.topics.set(topics)
        sync_workplace_permissions([workplace])
    return workplace


def workplace_update(
    *,
    actor: Actor,
    workplace: Workplace,
    values: Mapping[str, Any],
    topics: Sequence[Topic] | None = None,
) -> Workplace:
    """Change a workplace (its editors). A new contact gets the object permission."""
    if not perms.can_edit_workplace(actor, workplace):
        raise PermissionDenied(_("Only the organisation's host contacts and admins may edit this workplace."))
    changed = _apply(workplace, values, WORKPLACE_FIELDS)
    _full_clean(workplace, exclude=["programme", "organisation"])
    _check_workplace(workplace)
    if topics is not None:
        _check_topics(workplace.programme, topics)
    with transaction.atomic():
        if (
            "name" in changed
            and Workplace.objects.filter(
                programme_id=workplace.programme_id,
                organisation_id=workplace.organisation_id,
                name=workplace.name,
            )
            .exclude(pk=workplace.pk)
            .exists()
        ):
            raise ValidationError({"name": _("Your organisation already has a workplace with this name.")})
        if changed:
            workplace.save(update_fields=[*changed, "updated_at"])
        if topics is not None:
            workplace.topics.set(topics)
        sync_workplace_permissions([workplace])
    return workplace


def _set_published(actor: Actor, workplace: Workplace, published: bool) -> Workplace:
    if not perms.can_edit_workplace(actor, workplace):
        raise PermissionDenied(_("Only the organisation's host contacts and admins may edit this workplace."))
    if workplace.is_published != published:
        workplace.is_published = published
        workplace.save(update_fields=["is_published", "updated_at"])
    return workplace


def workplace_publish(*, actor: Actor, workplace: Workplace) -> Workplace:
    """Show the workplace to the whole programme and offer it to the matcher."""
    return _set_published(actor, workplace, True)


def workplace_unpublish(*, actor: Actor, workplace: Workplace) -> Workplace:
    """Hide the workplace from new requests and matches; placements already made stay."""
    return _set_published(actor, workplace, False)


# --- Slots ----------------------------------------------------------------------------------------------


def _require_edit(actor: Actor, workplace: Workplace) -> None:
    if not perms.can_edit_workplace(actor, workplace):
        raise PermissionDenied(
            _("Only the organisation's host contacts and admins may manage these visit days.")
        )


def slots_bulk_create(
    *,
    actor: Actor,
    workplace: Workplace,
    starts_on: date,
    ends_on: date,
    weekdays: Sequence[int],
    starts_at: time,
    ends_at: time,
    capacity: int,
    notes: str = "",
) -> list[Slot]:
    """Create a visit day on each chosen weekday (0 = Monday) between two dates ("every Tuesday and
    Thursday in March, 2 places"). Days that already have a slot at that time are skipped."""
    _require_edit(actor, workplace)
    errors: dict[str, str] = {}
    days = sorted(set(weekdays))
    if not days or any(not isinstance(d, int) or d < 0 or d > 6 for d in days):
        errors["weekdays"] = _("Choose one or more weekdays.")
    if ends_on < starts_on:
        errors["ends_on"] = _("The last day must be on or after the first.")
    elif (ends_on - starts_on).days > 366:
        errors["ends_on"] = _("Create slots for at most one year at a time.")
    if starts_on <= _today(workplace.programme):
        errors["starts_on"] = _("Visit days can only be added from tomorrow on.")
    if errors:
        raise ValidationError(errors)
    dates = [
        starts_on + timedelta(days=i)
        for i in range((ends_on - starts_on).days + 1)
        if (starts_on + timedelta(days=i)).weekday() in days
    ]
    if len(dates) > MAX_BULK_SLOTS:
        raise ValidationError({"ends_on": _("That would create too many visit days at once.")})
    prototype = Slot(
        workplace=workplace,
        date=starts_on,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        notes=notes,
    )
    _full_clean(prototype, exclude=["workplace"])
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The visit must end after it starts.")})
    with transaction.atomic():
        taken = set(
            Slot.objects.filter(workplace=workplace, date__in=dates, starts_at=starts_at).values_list(
                "date", flat=True
            )
        )
        new = [
            Slot(
                workplace=workplace,
                date=day,
                starts_at=starts_at,
                ends_at=ends_at,
                capacity=capacity,
                notes=notes,
            )
            for day in dates
            if day not in taken
        ]
        Slot.objects.bulk_create(new)
    return new


def slots_remove_free(*, actor: Actor, workplace: Workplace, starts_on: date, ends_on: date) -> int:
    """Delete the workplace's future slots in a period that nobody has booked or been proposed for."""
    _require_edit(actor, workplace)
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("The period must end on or after its start.")})
    with transaction.atomic():
        ids = list(
            Slot.objects.filter(
                workplace=workplace,
                date__gte=max(starts_on, _today(workplace.programme) + timedelta(days=1)),
                date__lte=ends_on,
                booked=0,
            )
            # A proposal of an unconfirmed run still counts on the slot; cancelled visits do not.
            .exclude(placement_days__placement__status=P.PROPOSED)
            .values_list("pk", flat=True)
        )
        # The scoped read above enforced the tenant; deleting by pk avoids DELETE ... WHERE id IN (subquery).
        _total, per_model = Slot.unscoped_objects.filter(pk__in=ids, booked=0).delete()
    return int(per_model.get(Slot._meta.label, 0))


def slot_update(*, actor: Actor, slot: Slot, values: Mapping[str, Any]) -> Slot:
    """Change a slot's time, places or notes. A new time moves the booked placement days with it and
    sends the confirmed visitors and hosts a calendar update (same UID, SEQUENCE + 1)."""
    workplace = slot.workplace
    _require_edit(actor, workplace)
    with transaction.atomic():
        locked = Slot.unscoped_objects.select_for_update().get(pk=slot.pk)
        changed = _apply(locked, values, SLOT_FIELDS)
        _full_clean(locked, exclude=["workplace"])
        if locked.ends_at <= locked.starts_at:
            raise ValidationError({"ends_at": _("The visit must end after it starts.")})
        if locked.capacity < locked.booked:
            raise ValidationError({"capacity": _("More visitors are already booked on this day.")})
        if not changed:
            return locked
        if (
            "starts_at" in changed
            and Slot.objects.filter(workplace=workplace, date=locked.date, starts_at=locked.starts_at)
            .exclude(pk=locked.pk)
            .exists()
        ):
            raise ValidationError({"starts_at": _("Another slot that day starts at this time.")})
        locked.save(update_fields=changed)
        if {"starts_at", "ends_at"} & set(changed):
            PlacementDay.unscoped_objects.filter(slot_id=locked.pk).update(
                starts_at=locked.starts_at, ends_at=locked.ends_at
            )
            confirmed = list(
                Placement.objects.filter(days__slot_id=locked.pk, status=P.CONFIRMED)
                .select_related(*invites.PLACEMENT_RELATED)
                .distinct()
            )
            for placement in confirmed:
                Placement.unscoped_objects.filter(pk=placement.pk).update(sequence=F("sequence") + 1)
                placement.sequence += 1
                invites.send_placement_invites(placement, "REQUEST", update=True)
        slot.__dict__.update({name: getattr(locked, name) for name in changed})
    return locked


def slot_delete(*, actor: Actor, slot: Slot) -> int:
    """Delete a visit day. Its booked visitors are not dropped silently: each placement is cancelled with
    a reason, the visitor (and the coordinators) are told, confirmed visits get a calendar cancellation,
    and the requests go back to approved for the next match. Returns the number of placements cancelled."""
    workplace = slot.workplace
    _require_edit(actor, workplace)
    programme = workplace.programme
    reason = _("The host removed the visit day %(date)s.") % {"date": slot.date.isoformat()}
    with transaction.atomic():
        Slot.unscoped_objects.select_for_update().filter(pk=slot.pk).first()
        # Proposals of unconfirmed runs hold no seat; they simply leave their run.
        Placement.unscoped_objects.filter(
            pk__in=Placement.objects.filter(days__slot_id=slot.pk, status=P.PROPOSED).values("pk")
        ).delete()
        affected = list(
            Placement.objects.filter(days__slot_id=slot.pk, status__in=Placement.SEAT_HOLDING)
            .exclude(status__in=[P.VISITED, P.REFLECTED])
            .select_related(*invites.PLACEMENT_RELATED)
            .distinct()
            .order_by("pk")
        )
        for placement in affected:
            _cancel(placement, actor=actor, reason=reason, rematch=True, by_requester=False)
        Slot.unscoped_objects.filter(pk=slot.pk).delete()
    if affected:
        _tell(
            coordinators_of(programme),
            programme,
            KIND_COORDINATION,
            _url("dashboard"),
            gettext_noop("%(workplace)s removed a booked visit day"),
            gettext_noop("%(count)s placement(s) were cancelled; the requests wait for the next match."),
            {"workplace": workplace.name, "count": len(affected)},
        )
    return len(affected)


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
    topics: Sequence[Topic],
    windows: list[tuple[date, date]],
    preferences: list[tuple[int, Organisation | None, Workplace | None]],
) -> None:
    """Windows, preferences and topics of a request; never the requester's own organisation."""
    errors: dict[str, list[str]] = defaultdict(list)
    _check_topics(programme, topics)
    today = _today(programme)
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
    if len(set(ranks)) != len(ranks) or any(not isinstance(r, int) or r < 1 or r > 5 for r in ranks):
        errors["preferences"].append(_("Rank your preferences 1 to 5, each rank once."))
    participating = set(
        Participation.objects.filter(programme=programme).values_list("organisation_id", flat=True)
    )
    seen: set[tuple[str, int]] = set()
    for _rank, organisation, workplace in preferences:
        if (organisation is None) == (workplace is None):
            errors["preferences"].append(_("Each preference names an organisation or a workplace."))
            continue
        if organisation is not None:
            key = ("o", organisation.pk)
            target_org = organisation.pk
            if organisation.pk not in participating:
                errors["preferences"].append(_("Choose an organisation of this programme."))
        else:
            assert workplace is not None
            key = ("w", workplace.pk)
            target_org = workplace.organisation_id
            if workplace.programme_id != programme.pk or not workplace.is_published:
                errors["preferences"].append(_("Choose a published workplace of this programme."))
        if key in seen:
            errors["preferences"].append(_("Each preference may be given once."))
        seen.add(key)
        if target_org == organisation_id:
            errors["preferences"].append(_("Shadowing is always at another organisation than your own."))
    if errors:
        raise ValidationError({k: sorted(set(v), key=v.index) for k, v in errors.items()})


def _write_parts(
    request: ShadowingRequest,
    topics: Sequence[Topic],
    windows: list[tuple[date, date]],
    preferences: list[tuple[int, Organisation | None, Workplace | None]],
) -> None:
    request.topics.set(topics)
    AvailabilityWindow.unscoped_objects.filter(request=request).delete()
    AvailabilityWindow.unscoped_objects.bulk_create(
        [AvailabilityWindow(request=request, starts_on=a, ends_on=b) for a, b in sorted(windows)]
    )
    Preference.unscoped_objects.filter(request=request).delete()
    Preference.unscoped_objects.bulk_create(
        [Preference(request=request, rank=r, organisation=o, workplace=w) for r, o, w in preferences]
    )


def approvers_of(request: ShadowingRequest) -> list[Person]:
    """Who decides a request: the line manager; else the line managers of the requester's unit; else, when
    nobody else can, the programme's coordinators."""
    requester = request.requester
    if requester.line_manager_id is not None:
        return _people([requester.line_manager_id])
    if requester.unit_id is not None:
        unit_managers = list(
            Person.unscoped_objects.filter(
                unit_id=requester.unit_id,
                organisation_id=requester.organisation_id,
                memberships__programme_id=request.programme_id,
                memberships__is_active=True,
                memberships__role_assignments__role=R.LINE_MANAGER,
            )
            .exclude(pk=requester.pk)
            .select_related("user")
            .distinct()
            .order_by("pk")
        )
        if unit_managers:
            return unit_managers
    return list(coordinators_of(request.programme).exclude(pk=requester.pk))


def can_decide(actor: Actor, request: ShadowingRequest) -> bool:
    """The rule of ``approvers_of`` for one actor (coordinators only where nobody else can decide)."""
    if actor.person is None or actor.person.pk == request.requester_id:
        return False
    if perms.can_decide(actor, request):
        return True
    return any(p.pk == actor.person.pk for p in approvers_of(request))


def request_create(
    *,
    actor: Actor,
    programme: Programme,
    values: Mapping[str, Any],
    topics: Sequence[Topic] = (),
    windows: Sequence[Any] = (),
    preferences: Sequence[Any] = (),
) -> ShadowingRequest:
    """A staff member asks to shadow (for themselves). ``windows`` are (starts_on, ends_on) pairs,
    ``preferences`` (rank, organisation, workplace) rows with one of the two set; never the requester's
    own organisation. The line manager (see ``approvers_of``) is asked to approve."""
    person = _require_person(actor)
    if not perms.can_request(actor, programme):
        raise PermissionDenied(_("Only staff of the programme's organisations may ask to shadow."))
    request = ShadowingRequest(programme=programme, requester=person, organisation_id=person.organisation_id)
    _apply(request, values, REQUEST_FIELDS)
    _full_clean(request, exclude=["programme", "requester", "organisation", "partner"])
    window_rows = _windows(windows)
    preference_rows = _preferences(preferences)
    _check_request_parts(programme, person.organisation_id, topics, window_rows, preference_rows)
    with transaction.atomic():
        request.save()
        _write_parts(request, topics, window_rows, preference_rows)
        _tell(
            approvers_of(request),
            programme,
            KIND_APPROVAL,
            _url("approvals"),
            gettext_noop("%(person)s asks to go shadowing for %(days)s day(s)"),
            gettext_noop("Approve or decline the time away under Shadowing → Approvals."),
            {"person": person.full_name, "days": request.days},
            detail=request.learning_goals,
        )
    return request


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
    if not perms.is_requester(actor, request):
        raise PermissionDenied(_("Only the person who asked may change this request."))
    if not request.is_open:
        raise ValidationError(_("This request can no longer be changed."))
    changed = _apply(request, values, REQUEST_FIELDS)
    _full_clean(request, exclude=["programme", "requester", "organisation", "partner"])
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
    _check_request_parts(programme, request.organisation_id, topic_rows, window_rows, preference_rows)
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
        Placement.unscoped_objects.filter(request_id__in=ids, status=P.PROPOSED).delete()


def _unpair(request: ShadowingRequest) -> None:
    if request.partner_id is not None:
        ShadowingRequest.unscoped_objects.filter(pk__in=[request.pk, request.partner_id]).update(partner=None)
        request.partner_id = None


def request_withdraw(*, actor: Actor, request: ShadowingRequest) -> ShadowingRequest:
    """The requester withdraws an open request. A placed request is cancelled through its placement."""
    if not perms.is_requester(actor, request):
        raise PermissionDenied(_("Only the person who asked may withdraw this request."))
    with transaction.atomic():
        updated = ShadowingRequest.unscoped_objects.filter(
            pk=request.pk, status__in=ShadowingRequest.OPEN
        ).update(status=RS.WITHDRAWN)
        if not updated:
            raise ValidationError(
                _(
                    "Only a request waiting for approval or a match can be withdrawn; "
                    "cancel the placement instead."
                ),
                code=CONFLICT,
            )
        request.status = RS.WITHDRAWN
        _drop_proposals([request.pk])
        _unpair(request)
    return request


def _decide(actor: Actor, request: ShadowingRequest, status: str, note: str) -> ShadowingRequest:
    if not can_decide(actor, request):
        raise PermissionDenied(_("Only the requester's line manager may decide on this request."))
    if len(note) > 1000:
        raise ValidationError({"note": _("Keep the note under 1,000 characters.")})
    now = timezone.now()
    with transaction.atomic():
        updated = ShadowingRequest.unscoped_objects.filter(pk=request.pk, status=RS.PENDING_APPROVAL).update(
            status=status, approved_by=actor.person, decided_at=now, decision_note=note
        )
        if not updated:
            raise ValidationError(_("This request has already been decided."), code=CONFLICT)
        request.status, request.approved_by, request.decided_at, request.decision_note = (
            status,
            actor.person,
            now,
            note,
        )
        if status == RS.APPROVED:
            title = gettext_noop("Your shadowing request was approved")
            body = gettext_noop("The coordinator will match it with a workplace; you will hear from us.")
        else:
            title = gettext_noop("Your shadowing request was not approved")
            body = gettext_noop("Your line manager did not approve the time away.")
            _unpair(request)
        _tell(
            [request.requester],
            request.programme,
            KIND_REQUEST,
            _url("request-detail", pk=request.pk),
            title,
            body,
            detail=note,
        )
    return request


def request_approve(*, actor: Actor, request: ShadowingRequest, note: str = "") -> ShadowingRequest:
    """The line manager approves the time away; the request joins the next match."""
    return _decide(actor, request, RS.APPROVED, note)


def request_decline(*, actor: Actor, request: ShadowingRequest, note: str) -> ShadowingRequest:
    """The line manager declines, with a note to the requester."""
    if not (note or "").strip():
        raise ValidationError({"note": _("Tell the requester why.")})
    return _decide(actor, request, RS.DECLINED, note.strip())


def _prefers_organisation(request: ShadowingRequest, organisation_id: int) -> bool:
    return Preference.objects.filter(
        Q(organisation_id=organisation_id) | Q(workplace__organisation_id=organisation_id), request=request
    ).exists()


def pair_requests(*, actor: Actor, first: ShadowingRequest, second: ShadowingRequest) -> None:
    """Make two requests a reciprocal exchange (coordinators): the matcher places both or neither, each at
    the other's organisation. They must come from two organisations that each prefer the other's."""
    _require_manage(actor, first.programme_id)
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
        ShadowingRequest.unscoped_objects.filter(pk=first.pk).update(partner=second.pk)
        ShadowingRequest.unscoped_objects.filter(pk=second.pk).update(partner=first.pk)
        first.partner_id, second.partner_id = second.pk, first.pk


def pair_dissolve(*, actor: Actor, request: ShadowingRequest) -> None:
    """Undo a reciprocal exchange (coordinators)."""
    _require_manage(actor, request.programme_id)
    with transaction.atomic():
        _unpair(request)


def requests_expire(now: datetime | None = None) -> int:
    """Periodic job: open requests unplaced past their ``expires_at`` expire; the requester is told."""
    now = now or timezone.now()
    with unscoped():  # a system sweep over every programme
        due = list(
            ShadowingRequest.unscoped_objects.filter(status__in=ShadowingRequest.OPEN, expires_at__lte=now)
            .select_related("programme", "requester__user")
            .order_by("pk")
        )
        expired = 0
        for request in due:
            with transaction.atomic():
                updated = ShadowingRequest.unscoped_objects.filter(
                    pk=request.pk, status__in=ShadowingRequest.OPEN, expires_at__lte=now
                ).update(status=RS.EXPIRED)
                if not updated:
                    continue
                expired += 1
                _drop_proposals([request.pk])
                _tell(
                    [request.requester],
                    request.programme,
                    KIND_REQUEST,
                    _url("request-detail", pk=request.pk),
                    gettext_noop("Your shadowing request has expired"),
                    gettext_noop(
                        "It could not be placed in time. You are welcome to ask again with new dates or "
                        "other preferences."
                    ),
                )
    return expired


# --- Matching -------------------------------------------------------------------------------------------


def _fairness_weight(value: float | None) -> float:
    if value is None:
        return float(settings.SHADOWING_FAIRNESS_WEIGHT)
    try:
        weight = float(value)
    except (TypeError, ValueError) as error:
        raise ValidationError({"fairness_weight": _("Give a number.")}) from error
    if not math.isfinite(weight) or weight < 0 or weight > 100:
        raise ValidationError({"fairness_weight": _("Give a number between 0 and 100.")})
    return weight


def reason_text(code: str) -> str:
    """The translated text of an unplaced-reason code (in the active language)."""
    try:
        return str(UnplacedReason(code).label)
    except ValueError:
        return str(UnplacedReason.ALL_FULL.label)


def matching_run_create(
    *, actor: Actor, programme: Programme, fairness_weight: float | None = None
) -> MatchingRun:
    """Match every approved request against the free slots of the published workplaces (coordinators).

    Builds the problem with ``shadowing.matching.options.build_problem``, solves it with
    ``shadowing.matching.solver.solve`` (which also reports what first-come-first-served places, kept for
    comparison), and stores the proposal: ``proposed`` placements (no seat taken yet), the objective, the
    LP bound and the gap, and each unplaced request's reason. Nothing is sent until the run is confirmed.
    """
    _require_manage(actor, programme)
    weight = _fairness_weight(fairness_weight)
    # The solver and numpy/scipy load only on this path.
    from shadowing.matching import options as matching_options
    from shadowing.matching import solver

    today = _today(programme)
    request_specs = _approved_request_specs(programme, today, matching_options.RequestSpec)
    # Plain rows, like the requests: a related manager per workplace costs more than its query.
    workplaces = list(
        Workplace.objects.filter(programme=programme, is_published=True).values_list(
            "pk", "organisation_id", "languages", "max_visitors_per_day"
        )
    )
    organisation_of = {pk: organisation_id for pk, organisation_id, _, _ in workplaces}
    topics_of: dict[int, set[int]] = defaultdict(set)
    for workplace_id, topic_id in Workplace.topics.through.objects.filter(
        workplace__programme=programme, workplace__is_published=True
    ).values_list("workplace_id", "topic_id"):
        topics_of[workplace_id].add(topic_id)
    workplace_specs = [
        matching_options.WorkplaceSpec(
            id=pk,
            organisation=organisation_id,
            topics=frozenset(topics_of.get(pk, ())),
            languages=frozenset(languages or ()),
            max_per_day=max_per_day,
        )
        for pk, organisation_id, languages, max_per_day in workplaces
    ]
    slot_rows = list(
        Slot.objects.filter(workplace_id__in=list(organisation_of), date__gt=today).values_list(
            "pk", "workplace_id", "date", "capacity", "booked", "starts_at", "ends_at"
        )
    )
    slot_specs = [
        matching_options.SlotSpec(
            id=pk,
            workplace=wid,
            organisation=organisation_of[wid],
            day=day,
            free=max(0, cap - booked),
            booked=booked,
        )
        for pk, wid, day, cap, booked, _starts, _ends in slot_rows
    ]
    problem = matching_options.build_problem(
        request_specs, workplace_specs, slot_specs, fairness_weight=weight
    )
    solution = solver.solve(problem, time_limit=float(settings.SHADOWING_MATCHING_TIME_LIMIT))
    # `solve` runs first-come-first-served as its safety net and reports how many it placed.
    greedy_placed = solution.greedy_placed
    if greedy_placed is None:
        greedy_placed = solver.greedy(problem).placed

    unplaced: dict[str, str] = {}
    for spec in request_specs:
        if spec.id not in solution.chosen:
            code = solution.unplaced.get(spec.id) or problem.unplaced.get(spec.id) or "all_full"
            unplaced[str(spec.id)] = code
    # The slots were read with their times above: a second query with the chosen ids in an IN list
    # takes SQLite tens of seconds at 50,000 placements.
    slot_times = {pk: (day, start, end) for pk, _wid, day, _cap, _booked, start, end in slot_rows}
    with transaction.atomic():
        run = MatchingRun.objects.create(
            programme=programme,
            created_by=actor.person,
            fairness_weight=weight,
            objective=float(solution.objective),
            bound=float(solution.bound),
            gap=float(solution.gap),
            placed=int(solution.placed),
            requests_considered=len(request_specs),
            greedy_placed=int(greedy_placed),
            method=str(solution.method)[:60],
            seconds=float(solution.seconds),
            unplaced=unplaced,
        )
        _store_options(run, list(solution.chosen.values()), slot_times, actor)
        _store_reasons(unplaced, [int(k) for k in solution.chosen])
    return run


def _approved_request_specs(programme: Programme, today: date, spec: Any) -> list[Any]:
    """The approved requests of a programme as the matcher's ``RequestSpec``s, oldest first.

    Read as plain rows in four queries (requests, windows, preferences, topics) rather than as model
    instances with prefetched relations: at 5,000 requests that is the difference between a fraction of a
    second and several seconds of a matching run."""
    approved = {"request__programme": programme, "request__status": RS.APPROVED}
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
        shadowingrequest__programme=programme, shadowingrequest__status=RS.APPROVED
    ).values_list("shadowingrequest_id", "topic_id"):
        topics[request_id].add(topic_id)
    rows = (
        ShadowingRequest.objects.filter(programme=programme, status=RS.APPROVED)
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


def _store_options(
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
    _insert_rows(
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
        [(run.programme_id, o.request, o.workplace, run.pk, P.PROPOSED, 0, "", "", now, now) for o in chosen],
    )
    # A request has at most one placement per run (constraint placement_once_per_run), so the new ids
    # are read back by request. The run is not in the coordinator's programme scope here.
    placed = Placement.unscoped_objects.filter(run=run)
    if len(chosen) <= _FEW:  # a hand edit on a run that already holds other proposals
        placed = placed.filter(request_id__in=[o.request for o in chosen])
    placement_of = dict(placed.values_list("request_id", "pk"))
    ids = [placement_of[o.request] for o in chosen]
    _insert_rows(
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
    _insert_rows(
        PlacementEvent,
        ("placement", "from_status", "to_status", "actor", "at", "note"),
        [(placement_id, "", P.PROPOSED, actor_id, now, note) for placement_id in ids],
    )
    return ids


# Below this many options `_store_options` reads the new placements back by request rather than by run.
_FEW = 100


def _insert_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
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


def _store_reasons(unplaced: Mapping[str, str], placed: Sequence[int]) -> None:
    """Each request keeps the code of why the last match left it out (shown in the reader's language)."""
    by_code: dict[str, list[int]] = defaultdict(list)
    for request_id, code in unplaced.items():
        by_code[code if code in UnplacedReason.values else UnplacedReason.ALL_FULL].append(int(request_id))
    # Rows that already hold the code are left alone (on PostgreSQL every updated row is rewritten).
    for code, ids in by_code.items():
        ShadowingRequest.unscoped_objects.filter(pk__in=ids).exclude(unplaced_code=code).update(
            unplaced_code=code
        )
    if placed:
        ShadowingRequest.unscoped_objects.filter(pk__in=list(placed)).exclude(unplaced_code="").update(
            unplaced_code=""
        )


def _require_proposed(run: MatchingRun) -> None:
    if run.status != MatchingRun.Status.PROPOSED:
        raise ValidationError(_("This match has already been confirmed or discarded."), code=CONFLICT)


def _working_day_after(day: date) -> date:
    following = day + timedelta(days=1)
    while following.weekday() >= 5:
        following += timedelta(days=1)
    return following


def run_edit_assign(
    *,
    actor: Actor,
    run: MatchingRun,
    request: ShadowingRequest,
    workplace: Workplace,
    slots: Sequence[Slot],
) -> Placement:
    """Place a request by hand in a proposed run (coordinators), replacing its proposal there if any.

    The same rules as the matcher: an approved request of the programme, a published workplace of another
    organisation, one slot per day for the request's number of days, all inside one availability window,
    consecutive working days when asked, and free seats counting the run's other proposals.
    """
    _require_manage(actor, run.programme_id)
    _require_proposed(run)
    errors: list[str] = []
    if request.programme_id != run.programme_id or request.status != RS.APPROVED:
        errors.append(_("Only an approved request waiting for a match can be placed."))
    if workplace.programme_id != run.programme_id or not workplace.is_published:
        errors.append(_("Choose a published workplace of this programme."))
    if workplace.organisation_id == request.organisation_id:
        errors.append(_("Shadowing is always at another organisation than the requester's own."))
    ordered = sorted(slots, key=lambda s: (s.date, s.starts_at))
    dates = [s.date for s in ordered]
    if any(s.workplace_id != workplace.pk for s in ordered):
        errors.append(_("Every visit day must be a slot of the chosen workplace."))
    if len(ordered) != request.days or len(set(dates)) != len(dates):
        errors.append(_("Choose one slot on each of %(days)s different days.") % {"days": request.days})
    if errors:
        raise ValidationError({"slots": errors})
    if dates and dates[0] <= _today(run.programme):
        errors.append(_("Visit days must lie in the future."))
    windows = [(w.starts_on, w.ends_on) for w in request.windows.all()]
    if not any(a <= dates[0] and dates[-1] <= b for a, b in windows):
        errors.append(_("All days must fall inside one of the requester's availability windows."))
    if request.consecutive and any(
        _working_day_after(a) != b for a, b in zip(dates, dates[1:], strict=False)
    ):
        errors.append(_("The requester needs consecutive working days."))
    with transaction.atomic():
        other = PlacementDay.objects.filter(placement__run=run, placement__status=P.PROPOSED).exclude(
            placement__request=request
        )
        proposed_on: defaultdict[int, int] = defaultdict(int)
        for slot_id in other.values_list("slot_id", flat=True):
            proposed_on[slot_id] += 1
        fresh = {s.pk: s for s in Slot.objects.filter(pk__in=[s.pk for s in ordered])}
        day_load: dict[date, int] = defaultdict(int)
        for slot_id, day, booked in Slot.objects.filter(workplace=workplace, date__in=dates).values_list(
            "pk", "date", "booked"
        ):
            day_load[day] += booked + proposed_on.get(slot_id, 0)
        for slot in ordered:
            current = fresh.get(slot.pk)
            if current is None or current.booked + proposed_on.get(slot.pk, 0) >= current.capacity:
                errors.append(_("The slot on %(date)s is full.") % {"date": slot.date.isoformat()})
            elif day_load[slot.date] >= workplace.max_visitors_per_day:
                errors.append(
                    _("The workplace takes no more visitors on %(date)s.") % {"date": slot.date.isoformat()}
                )
        if errors:
            raise ValidationError({"slots": errors})
        Placement.unscoped_objects.filter(run=run, request=request, status=P.PROPOSED).delete()
        slot_times = {s.pk: (s.date, s.starts_at, s.ends_at) for s in ordered}
        option = _HandOption(request.pk, workplace.pk, tuple(s.pk for s in ordered))
        (placement_id,) = _store_options(run, [option], slot_times, actor, note=_("Placed by hand"))
        placement = Placement.unscoped_objects.get(pk=placement_id)
        run.unplaced.pop(str(request.pk), None)
        placed = Placement.unscoped_objects.filter(run=run, status=P.PROPOSED).count()
        MatchingRun.unscoped_objects.filter(pk=run.pk).update(unplaced=run.unplaced, placed=placed)
        run.placed = placed
        ShadowingRequest.unscoped_objects.filter(pk=request.pk).update(unplaced_code="")
    return placement


class _HandOption:
    """The shape of a solver option, for a placement made by hand."""

    def __init__(self, request: int, workplace: int, slots: tuple[int, ...]) -> None:
        self.request, self.workplace, self.slots = request, workplace, slots


def run_edit_remove(*, actor: Actor, run: MatchingRun, placement: Placement) -> None:
    """Take a proposal out of a proposed run (coordinators); the request stays approved."""
    _require_manage(actor, run.programme_id)
    _require_proposed(run)
    if placement.run_id != run.pk or placement.status != P.PROPOSED:
        raise ValidationError({"placement": _("This placement is not a proposal of this match.")})
    with transaction.atomic():
        Placement.unscoped_objects.filter(pk=placement.pk).delete()
        run.unplaced[str(placement.request_id)] = "removed"
        placed = Placement.unscoped_objects.filter(run=run, status=P.PROPOSED).count()
        MatchingRun.unscoped_objects.filter(pk=run.pk).update(unplaced=run.unplaced, placed=placed)
        run.placed = placed
        ShadowingRequest.unscoped_objects.filter(pk=placement.request_id).update(
            unplaced_code=UnplacedReason.REMOVED
        )


def _lock_slots(slot_ids: Iterable[int]) -> dict[int, Slot]:
    """The slots, locked in primary-key order for the rest of the transaction (by pk, unscoped: the caller
    did the scoped reads)."""
    queryset = Slot.unscoped_objects.filter(pk__in=set(slot_ids)).order_by("pk")
    if _slot_lock_enabled:
        queryset = queryset.select_for_update()
    return {s.pk: s for s in queryset}


def matching_run_confirm(*, actor: Actor, run: MatchingRun) -> MatchingRun:
    """Confirm a proposed run (coordinators): every proposal takes its seats and goes to its host.

    All slots of the touched workplace-days are locked in one sorted step; if any proposal no longer fits
    (its request was placed, withdrawn or expired meanwhile, or its seats were taken by another run), the
    whole confirmation is refused with a conflict naming them, and nothing changes: remove or re-assign
    them by hand and confirm again. The hosts are asked to accept; the requesters are told.
    """
    _require_manage(actor, run.programme_id)
    _require_proposed(run)
    programme = run.programme
    now = timezone.now()
    with transaction.atomic():
        # Compare-and-set on the run's status: a second confirm (or a discard) of the same run loses here.
        if not MatchingRun.unscoped_objects.filter(pk=run.pk, status=MatchingRun.Status.PROPOSED).update(
            status=MatchingRun.Status.CONFIRMED, confirmed_by=actor.person, confirmed_at=now
        ):
            raise ValidationError(_("This match has already been confirmed or discarded."), code=CONFLICT)
        placements = list(
            Placement.objects.filter(run=run, status=P.PROPOSED)
            .select_related(*invites.PLACEMENT_RELATED)
            .prefetch_related(Prefetch("days", queryset=PlacementDay.objects.all()))
            .order_by("request__submitted_at", "pk")
        )
        workplace_ids = {p.workplace_id for p in placements}
        dates = {d.date for p in placements for d in p.days.all()}
        neighbours = Slot.objects.filter(workplace_id__in=workplace_ids, date__in=dates).values_list(
            "pk", flat=True
        )
        slots = _lock_slots(neighbours)
        request_ids = [p.request_id for p in placements]
        statuses = dict(
            ShadowingRequest.unscoped_objects.filter(pk__in=request_ids)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", "status")
            if _slot_lock_enabled
            else ShadowingRequest.unscoped_objects.filter(pk__in=request_ids).values_list("pk", "status")
        )
        day_load: dict[tuple[int, date], int] = defaultdict(int)
        for locked in slots.values():
            day_load[(locked.workplace_id, locked.date)] += locked.booked
        taken: dict[int, int] = defaultdict(int)
        conflicts: list[str] = []
        for placement in placements:
            problem = None
            if statuses.get(placement.request_id) != RS.APPROVED:
                problem = _("the request is no longer waiting for a match")
            else:
                for day in placement.days.all():
                    slot = slots.get(day.slot_id) if day.slot_id else None
                    if slot is None or slot.booked + taken[slot.pk] + 1 > slot.capacity:
                        problem = _("the visit day %(date)s is full") % {"date": day.date.isoformat()}
                        break
                    if (
                        day_load[(slot.workplace_id, slot.date)] + 1
                        > placement.workplace.max_visitors_per_day
                    ):
                        problem = _("the workplace takes no more visitors on %(date)s") % {
                            "date": day.date.isoformat()
                        }
                        break
                    taken[slot.pk] += 1
                    day_load[(slot.workplace_id, slot.date)] += 1
            if problem:
                conflicts.append(
                    _("%(person)s at %(workplace)s: %(problem)s")
                    % {
                        "person": placement.request.requester.full_name,
                        "workplace": placement.workplace.name,
                        "problem": problem,
                    }
                )
        if conflicts:
            raise ValidationError(
                [
                    ValidationError(message, code=CONFLICT)
                    for message in (
                        _("Some proposals no longer fit; remove or re-assign them and confirm again."),
                        *conflicts,
                    )
                ]
            )
        for slot_id in sorted(taken):
            Slot.unscoped_objects.filter(pk=slot_id).update(booked=F("booked") + taken[slot_id])
        ids = [p.pk for p in placements]
        Placement.unscoped_objects.filter(pk__in=ids).update(status=P.AWAITING_HOST, updated_at=now)
        PlacementEvent.objects.bulk_create(
            [
                PlacementEvent(
                    placement=p, from_status=P.PROPOSED, to_status=P.AWAITING_HOST, actor=actor.person, at=now
                )
                for p in placements
            ]
        )
        ShadowingRequest.unscoped_objects.filter(pk__in=request_ids).update(
            status=RS.PLACED, unplaced_code=""
        )
        run.status, run.confirmed_by, run.confirmed_at = MatchingRun.Status.CONFIRMED, actor.person, now
        for placement in placements:
            placement.status = P.AWAITING_HOST
            params = _placement_params(placement)
            _tell(
                [placement.workplace.contact],
                programme,
                KIND_HOSTING,
                _url("placement-detail", pk=placement.pk),
                gettext_noop("A visitor for %(workplace)s: please accept or decline"),
                gettext_noop(
                    "%(person)s (%(organisation)s) is proposed to shadow at %(workplace)s on %(days)s."
                ),
                params,
                detail=placement.request.learning_goals,
            )
            _tell(
                [placement.request.requester],
                programme,
                KIND_PLACEMENT,
                _url("placement-detail", pk=placement.pk),
                gettext_noop("You have been matched with %(workplace)s"),
                gettext_noop(
                    "Proposed days: %(days)s. The host will now accept or decline; we will tell you."
                ),
                params,
            )
    return run


def matching_run_discard(*, actor: Actor, run: MatchingRun) -> MatchingRun:
    """Throw a proposed run away (coordinators); its proposals held no seats and are deleted."""
    _require_manage(actor, run.programme_id)
    with transaction.atomic():
        if not MatchingRun.unscoped_objects.filter(pk=run.pk, status=MatchingRun.Status.PROPOSED).update(
            status=MatchingRun.Status.DISCARDED
        ):
            raise ValidationError(_("This match has already been confirmed or discarded."), code=CONFLICT)
        Placement.unscoped_objects.filter(run_id=run.pk, status=P.PROPOSED).delete()
        run.status = MatchingRun.Status.DISCARDED
    return run


# --- Placements -----------------------------------------------------------------------------------------


def _placement_params(placement: Placement) -> dict[str, Any]:
    days = ", ".join(d.date.isoformat() for d in placement.days.all())
    return {
        "person": placement.request.requester.full_name,
        "organisation": placement.request.organisation.name,
        "workplace": placement.workplace.name,
        "days": days,
    }


def _transition(
    placement: Placement,
    *,
    actor: Actor,
    allowed_from: Sequence[str],
    to: str,
    note: str = "",
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Compare-and-set the status (by pk, unscoped, after the caller's scoped read) and record the event."""
    now = timezone.now()
    previous = placement.status
    if previous not in allowed_from:
        raise ValidationError(
            _("This placement is %(status)s; that step is not possible now.")
            % {"status": placement.get_status_display()},
            code=CONFLICT,
        )
    fields = {"status": to, "updated_at": now, **(extra or {})}
    if not Placement.unscoped_objects.filter(pk=placement.pk, status=previous).update(**fields):
        raise ValidationError(_("This placement was changed meanwhile; reload and try again."), code=CONFLICT)
    for name, value in fields.items():
        setattr(placement, name, value)
    PlacementEvent.objects.create(
        placement=placement, from_status=previous, to_status=to, actor=actor.person, at=now, note=note[:1000]
    )


def _release_seats(placement: Placement) -> None:
    slot_ids = sorted(
        d.slot_id for d in PlacementDay.unscoped_objects.filter(placement=placement) if d.slot_id
    )
    for slot_id in slot_ids:
        Slot.unscoped_objects.filter(pk=slot_id).update(booked=F("booked") - 1)


def _host_people(placement: Placement) -> list[Person]:
    return [placement.workplace.contact]


def placement_host_accept(*, actor: Actor, placement: Placement) -> Placement:
    """The host accepts the proposed visitor; the shadower is asked to confirm (with the confidentiality
    undertaking)."""
    if not perms.is_host(actor, placement.workplace):
        raise PermissionDenied(_("Only the host of this workplace may accept visitors."))
    with transaction.atomic():
        _transition(placement, actor=actor, allowed_from=[P.AWAITING_HOST], to=P.HOST_ACCEPTED)
        _tell(
            [placement.request.requester],
            placement.programme,
            KIND_PLACEMENT,
            _url("placement-detail", pk=placement.pk),
            gettext_noop("%(workplace)s welcomes you: please confirm your visit"),
            gettext_noop(
                "Read the confidentiality terms and confirm the days %(days)s; the calendar invites follow."
            ),
            _placement_params(placement),
        )
    return placement


def placement_host_decline(*, actor: Actor, placement: Placement, reason: str) -> Placement:
    """The host declines the visitor, with a reason; the seats are freed, the request goes back to the
    matching pool and the shadower and the coordinators are told."""
    if not perms.is_host(actor, placement.workplace):
        raise PermissionDenied(_("Only the host of this workplace may decline visitors."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tell the shadower and the coordinator why.")})
    if len(reason) > 1000:
        raise ValidationError({"reason": _("Keep the reason under 1,000 characters.")})
    with transaction.atomic():
        _transition(
            placement,
            actor=actor,
            allowed_from=[P.AWAITING_HOST],
            to=P.HOST_DECLINED,
            note=reason,
            extra={"decline_reason": reason},
        )
        _release_seats(placement)
        _back_to_matching(placement)
        params = _placement_params(placement)
        _tell(
            [placement.request.requester],
            placement.programme,
            KIND_PLACEMENT,
            _url("request-detail", pk=placement.request_id),
            gettext_noop("%(workplace)s could not take you this time"),
            gettext_noop("Your request goes back to the coordinator for a new match."),
            params,
            detail=reason,
        )
        _tell(
            coordinators_of(placement.programme),
            placement.programme,
            KIND_COORDINATION,
            _url("dashboard"),
            gettext_noop("%(workplace)s declined %(person)s: match again"),
            "",
            params,
            detail=reason,
        )
    return placement


def _back_to_matching(placement: Placement) -> None:
    ShadowingRequest.unscoped_objects.filter(pk=placement.request_id, status=RS.PLACED).update(
        status=RS.APPROVED
    )
    placement.request.status = RS.APPROVED


def placement_confirm(*, actor: Actor, placement: Placement, accept_confidentiality: bool) -> Placement:
    """The shadower confirms a host-accepted visit and accepts the confidentiality undertaking; the
    calendar invites (METHOD:REQUEST, one event per day) go to the shadower and the host contact."""
    if not perms.is_requester(actor, placement.request):
        raise PermissionDenied(_("Only the shadower may confirm this visit."))
    if accept_confidentiality is not True:
        raise ValidationError(
            {"accept_confidentiality": _("You must accept the confidentiality terms to confirm the visit.")}
        )
    now = timezone.now()
    with transaction.atomic():
        _transition(
            placement,
            actor=actor,
            allowed_from=[P.HOST_ACCEPTED],
            to=P.CONFIRMED,
            extra={"confidentiality_accepted_at": now},
        )
        invites.send_placement_invites(placement, "REQUEST")
        _tell(
            _host_people(placement),
            placement.programme,
            KIND_HOSTING,
            _url("placement-detail", pk=placement.pk),
            gettext_noop("%(person)s confirmed the visit to %(workplace)s"),
            gettext_noop(
                "Days: %(days)s. The confidentiality terms are accepted; the calendar invite follows."
            ),
            _placement_params(placement),
        )
    return placement


def _last_day_ended(placement: Placement) -> bool:
    days = list(placement.days.all())
    if not days:
        return True
    last = max(days, key=lambda d: (d.date, d.ends_at))
    zone = ZoneInfo(placement.programme.time_zone)
    return timezone.now() >= datetime.combine(last.date, last.ends_at, tzinfo=zone)


def placement_mark_visited(*, actor: Actor, placement: Placement) -> Placement:
    """The host or a coordinator records that the visit took place (after its last day); the shadower is
    asked for the reflection."""
    if not (perms.is_host(actor, placement.workplace) or perms.can_manage(actor, placement.programme_id)):
        raise PermissionDenied(_("Only the host or a coordinator may record the visit."))
    if placement.status == P.CONFIRMED and not _last_day_ended(placement):
        raise ValidationError(_("The visit can be recorded after its last day."))
    with transaction.atomic():
        _transition(placement, actor=actor, allowed_from=[P.CONFIRMED], to=P.VISITED)
        _tell(
            [placement.request.requester],
            placement.programme,
            KIND_PLACEMENT,
            _url("reflection", pk=placement.pk),
            gettext_noop("How was %(workplace)s? Write down what you learned"),
            gettext_noop("What you learned, how you will use it and how you shared it with colleagues."),
            _placement_params(placement),
        )
    return placement


CANCELLABLE = (P.AWAITING_HOST, P.HOST_ACCEPTED, P.CONFIRMED)


def _cancel(placement: Placement, *, actor: Actor, reason: str, rematch: bool, by_requester: bool) -> None:
    was_confirmed = placement.status == P.CONFIRMED
    _transition(
        placement,
        actor=actor,
        allowed_from=CANCELLABLE,
        to=P.CANCELLED,
        note=reason,
        extra={"cancel_reason": reason, "cancelled_by": actor.person},
    )
    _release_seats(placement)
    if by_requester:
        ShadowingRequest.unscoped_objects.filter(pk=placement.request_id).update(status=RS.WITHDRAWN)
        placement.request.status = RS.WITHDRAWN
    elif rematch:
        _back_to_matching(placement)
    if was_confirmed:
        Placement.unscoped_objects.filter(pk=placement.pk).update(sequence=F("sequence") + 1)
        placement.sequence += 1
        invites.send_placement_invites(placement, "CANCEL")
    params = _placement_params(placement)
    people = {
        placement.request.requester.pk: placement.request.requester,
        placement.workplace.contact.pk: placement.workplace.contact,
    }
    if actor.person is not None:
        people.pop(actor.person.pk, None)
    _tell(
        people.values(),
        placement.programme,
        KIND_PLACEMENT if not by_requester else KIND_HOSTING,
        _url("placement-detail", pk=placement.pk),
        gettext_noop("The visit of %(person)s to %(workplace)s is cancelled"),
        gettext_noop("Days: %(days)s."),
        params,
        detail=reason,
    )


def placement_cancel(*, actor: Actor, placement: Placement, reason: str) -> Placement:
    """Cancel a placement with a reason (the shadower, the host or a coordinator). The seats are freed, a
    confirmed visit's invites are cancelled (METHOD:CANCEL), the other side and the coordinators are told.
    A cancellation by the shadower withdraws the request; by the host or a coordinator, the request goes
    back to the matching pool."""
    is_requester = perms.is_requester(actor, placement.request)
    is_host = perms.is_host(actor, placement.workplace)
    is_coordinator = perms.can_manage(actor, placement.programme_id)
    if not (is_requester or is_host or is_coordinator):
        raise PermissionDenied(_("Only the shadower, the host or a coordinator may cancel this visit."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for the cancellation.")})
    if len(reason) > 1000:
        raise ValidationError({"reason": _("Keep the reason under 1,000 characters.")})
    with transaction.atomic():
        by_requester = is_requester and not (is_host or is_coordinator)
        _cancel(placement, actor=actor, reason=reason, rematch=True, by_requester=by_requester)
        _tell(
            [
                p
                for p in coordinators_of(placement.programme)
                if actor.person is None or p.pk != actor.person.pk
            ],
            placement.programme,
            KIND_COORDINATION,
            _url("dashboard"),
            gettext_noop("Visit cancelled: %(person)s at %(workplace)s"),
            "" if by_requester else gettext_noop("The request waits for the next match."),
            _placement_params(placement),
            detail=reason,
        )
    return placement


def reflection_submit(
    *, actor: Actor, placement: Placement, learned: str, how_used: str, how_shared: str = ""
) -> Reflection:
    """The shadower records what was learned, how it will be used and how it was shared (after the visit)."""
    if not perms.is_requester(actor, placement.request):
        raise PermissionDenied(_("Only the shadower writes the reflection."))
    reflection = Reflection(placement=placement, learned=learned, how_used=how_used, how_shared=how_shared)
    _full_clean(reflection, exclude=["placement"])
    with transaction.atomic():
        _transition(placement, actor=actor, allowed_from=[P.VISITED], to=P.REFLECTED)
        reflection.save()
    return reflection


def host_feedback_submit(*, actor: Actor, placement: Placement, feedback: str) -> HostFeedback:
    """The host's brief feedback on a visit that took place (written once, may be corrected)."""
    if not perms.is_host(actor, placement.workplace):
        raise PermissionDenied(_("Only the host writes feedback on the visit."))
    if placement.status not in (P.VISITED, P.REFLECTED):
        raise ValidationError(_("Feedback can be given after the visit."), code=CONFLICT)
    with transaction.atomic():
        existing = HostFeedback.objects.filter(placement=placement).first()
        item = existing or HostFeedback(placement=placement)
        item.feedback = feedback
        item.author = actor.person
        item.submitted_at = timezone.now()
        _full_clean(item, exclude=["placement"])
        item.save()
    return item
