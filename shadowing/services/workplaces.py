"""Workplaces (opened, edited and published by their organisation's host contacts and admins) with the topics
they offer, and the visit days (slots) a workplace offers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext_lazy

from coordinator.core import formatting
from coordinator.core.days_off import days_off
from coordinator.core.exceptions import Conflict
from coordinator.core.notifications import notify
from coordinator.core.services import apply_changes, validate
from organisations.models import Organisation, Participation, Programme, Unit
from organisations.permissions import Actor
from organisations.selectors import coordinators_of
from shadowing import invites, permissions
from shadowing.kinds import KIND_COORDINATION
from shadowing.links import page_url
from shadowing.models import (
    Placement,
    PlacementDay,
    ShadowingRequest,
    Slot,
    Topic,
    Workplace,
)
from shadowing.services._common import (
    check_topics,
    require_manage,
    today_in,
)
from shadowing.services.placements import cancel

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
SLOT_FIELDS = {"starts_at", "ends_at", "capacity", "notes"}
MAX_BULK_SLOTS = 400
# --- Workplaces -----------------------------------------------------------------------------------------


def _check_workplace(workplace: Workplace) -> None:
    """Relations a form or serializer cannot check alone: unit and contact of the same organisation."""
    errors: dict[str, str] = {}
    if workplace.unit_id is not None:
        unit = Unit.objects.filter(pk=workplace.unit_id).values_list("organisation_id", flat=True).first()
        if unit != workplace.organisation_id:
            errors["unit"] = _("Choose a unit of the workplace's own organisation.")
    contact = workplace.contact
    if contact.organisation_id != workplace.organisation_id:
        errors["contact"] = _("The host contact must work at the workplace's organisation.")
    elif not contact.memberships.filter(programme_id=workplace.programme_id, is_active=True).exists():
        errors["contact"] = _("The host contact must be a member of the programme.")
    if errors:
        raise ValidationError(errors)


def workplace_create(
    *,
    actor: Actor,
    programme: Programme,
    organisation: Organisation,
    values: Mapping[str, Any],
    topics: Sequence[Topic] = (),
) -> Workplace:
    """Open a workplace of the actor's own organisation (host contacts and organisation admins).

    The contact defaults to the actor. The organisation's host contacts and admins may edit it (by role).
    """
    if not permissions.can_create_workplace(actor, programme, organisation.pk):
        raise PermissionDenied(_("Only the organisation's host contacts and admins may open its workplaces."))
    if not Participation.objects.filter(programme=programme, organisation=organisation).exists():
        raise ValidationError(_("The organisation does not take part in this programme."))
    workplace = Workplace(programme=programme, organisation=organisation)
    values = dict(values)
    values.setdefault("contact", actor.person)
    apply_changes(workplace, values, WORKPLACE_FIELDS)
    validate(workplace, exclude=["programme", "organisation"])
    _check_workplace(workplace)
    check_topics(programme, topics)
    with transaction.atomic():
        if Workplace.objects.filter(
            programme=programme, organisation=organisation, name=workplace.name
        ).exists():
            raise ValidationError({"name": _("Your organisation already has a workplace with this name.")})
        workplace.save()
        workplace.topics.set(topics)
    return workplace


def workplace_update(
    *,
    actor: Actor,
    workplace: Workplace,
    values: Mapping[str, Any],
    topics: Sequence[Topic] | None = None,
) -> Workplace:
    """Change a workplace (its editors: the organisation's host contacts and admins)."""
    if not permissions.can_edit_workplace(actor, workplace):
        raise PermissionDenied(_("Only the organisation's host contacts and admins may edit this workplace."))
    changed = apply_changes(workplace, values, WORKPLACE_FIELDS)
    validate(workplace, exclude=["programme", "organisation"])
    _check_workplace(workplace)
    if topics is not None:
        check_topics(workplace.programme, topics)
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
            # Name, address, host contact and accessibility are in every visit's calendar event (and the
            # contact is an attendee): the reconciler sends what changed and nothing else.
            invites.reconcile_placements(
                Placement.objects.filter(workplace=workplace, status=Placement.Status.CONFIRMED)
                .select_related(*invites.PLACEMENT_RELATED)
                .order_by("pk")
            )
        if topics is not None:
            workplace.topics.set(topics)
    return workplace


def _set_published(actor: Actor, workplace: Workplace, published: bool) -> Workplace:
    if not permissions.can_edit_workplace(actor, workplace):
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


@dataclass(frozen=True)
class SlotsCreated:
    """The visit days a bulk publication created, and the days off it left out (date -> name)."""

    created: list[Slot]
    skipped_days_off: dict[date, str]


def _require_edit(actor: Actor, workplace: Workplace) -> None:
    if not permissions.can_edit_workplace(actor, workplace):
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
    on_days_off: bool = False,
) -> SlotsCreated:
    """Create a visit day on each chosen weekday (0 = Monday) between two dates ("every Tuesday and
    Thursday in March, 2 places"). Days that already have a slot at that time are skipped, and so are the
    public holidays and de facto days off of the programme's country unless ``on_days_off``. A single
    day that is a day off is refused with its name unless ``on_days_off`` (the host confirms it)."""
    _require_edit(actor, workplace)
    errors: dict[str, str] = {}
    days = sorted(set(weekdays))
    if not days or any(not isinstance(d, int) or d < 0 or d > 6 for d in days):
        errors["weekdays"] = _("Choose one or more weekdays.")
    if ends_on < starts_on:
        errors["ends_on"] = _("The last day must be on or after the first.")
    elif (ends_on - starts_on).days > 366:
        errors["ends_on"] = _("Create slots for at most one year at a time.")
    if starts_on <= today_in(workplace.programme):
        errors["starts_on"] = _("Visit days can only be added from tomorrow on.")
    if errors:
        raise ValidationError(errors)
    dates = [
        starts_on + timedelta(days=i)
        for i in range((ends_on - starts_on).days + 1)
        if (starts_on + timedelta(days=i)).weekday() in days
    ]
    programme = workplace.programme
    off = days_off(programme.country, starts_on, ends_on)
    if starts_on == ends_on and off and not on_days_off:
        raise ValidationError(
            {
                "starts_on": _(
                    "%(date)s is %(name)s, a day off. Confirm that visitors are welcome on that day."
                )
                % {"date": formatting.day(starts_on), "name": off[starts_on]}
            },
            code="day_off",
        )
    skipped = {} if on_days_off else {day: off[day] for day in dates if day in off}
    dates = [day for day in dates if day not in skipped]
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
    validate(prototype, exclude=["workplace"])
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
    return SlotsCreated(created=new, skipped_days_off=skipped)


def slots_remove_free(*, actor: Actor, workplace: Workplace, starts_on: date, ends_on: date) -> int:
    """Delete the workplace's future slots in a period that nobody has booked or been proposed for."""
    _require_edit(actor, workplace)
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("The period must end on or after its start.")})
    with transaction.atomic():
        ids = list(
            Slot.objects.filter(
                workplace=workplace,
                date__gte=max(starts_on, today_in(workplace.programme) + timedelta(days=1)),
                date__lte=ends_on,
                booked=0,
            )
            # A proposal of an unconfirmed run still counts on the slot; cancelled visits do not.
            .exclude(placement_days__placement__status=Placement.Status.PROPOSED)
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
        # Lock by pk after the caller's scoped read: a scoped query would join (and lock) the workplace too.
        locked = Slot.unscoped_objects.select_for_update().get(pk=slot.pk)
        changed = apply_changes(locked, values, SLOT_FIELDS)
        validate(locked, exclude=["workplace"])
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
            PlacementDay.objects.filter(slot_id=locked.pk).update(
                starts_at=locked.starts_at, ends_at=locked.ends_at
            )
            confirmed = list(
                Placement.objects.filter(days__slot_id=locked.pk, status=Placement.Status.CONFIRMED)
                .select_related(*invites.PLACEMENT_RELATED)
                .distinct()
            )
            invites.reconcile_placements(confirmed)
        slot.__dict__.update({name: getattr(locked, name) for name in changed})
    return locked


def slot_delete(*, actor: Actor, slot: Slot) -> int:
    """Delete a visit day. Its booked visitors are not dropped silently: each placement is cancelled with
    a reason, the visitor (and the coordinators) are told, confirmed visits get a calendar cancellation,
    and the requests go back to approved for the next match. Returns the number of placements cancelled."""
    workplace = slot.workplace
    _require_edit(actor, workplace)
    programme = workplace.programme
    reason = _("The host removed the visit day %(date)s.") % {"date": formatting.day(slot.date)}
    with transaction.atomic():
        # Lock by pk after the caller's scoped read: a scoped query would join (and lock) the workplace too.
        Slot.unscoped_objects.select_for_update().filter(pk=slot.pk).first()
        # Proposals of unconfirmed runs hold no seat; they simply leave their run.
        Placement.objects.filter(
            pk__in=Placement.objects.filter(days__slot_id=slot.pk, status=Placement.Status.PROPOSED).values(
                "pk"
            )
        ).delete()
        affected = list(
            Placement.objects.filter(days__slot_id=slot.pk, status__in=Placement.CANCELLABLE)
            .select_related(*invites.PLACEMENT_RELATED)
            .distinct()
            .order_by("pk")
        )
        for placement in affected:
            cancel(placement, actor=actor, reason=reason, rematch=True, by_requester=False)
        Slot.objects.filter(pk=slot.pk).delete()
    if affected:
        notify(
            programme=programme,
            recipients=coordinators_of(programme),
            kind=KIND_COORDINATION,
            title=gettext_noop("%(workplace)s removed a booked visit day"),
            body=ngettext_lazy(
                "%(count)s placement was cancelled; the request waits for the next match.",
                "%(count)s placements were cancelled; the requests wait for the next match.",
                "count",
            ),
            params={"workplace": workplace.name, "count": len(affected)},
            url=page_url("dashboard"),
        )
    return len(affected)


# --- Topics: the programme's controlled list ------------------------------------------------------------


def _save_topic(topic: Topic, update_fields: list[str] | None = None) -> None:
    validate(topic)
    if (
        Topic.objects.filter(programme_id=topic.programme_id, name__iexact=topic.name)
        .exclude(pk=topic.pk)
        .exists()
    ):
        raise ValidationError({"name": _("The programme already has a topic with this name.")})
    try:
        with transaction.atomic():
            topic.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise Conflict(_("The programme already has a topic with this name.")) from exc


@transaction.atomic
def topic_create(*, actor: Actor, programme: Programme, name: str) -> Topic:
    """Add a topic to the programme's list (workplaces offer topics, requests ask for them). Coordinators."""
    require_manage(actor, programme)
    topic = Topic(programme=programme, name=name.strip())
    _save_topic(topic)
    return topic


@transaction.atomic
def topic_update(*, actor: Actor, topic: Topic, name: str) -> Topic:
    """Rename a topic; workplaces and requests keep it. Coordinators."""
    require_manage(actor, topic.programme_id)
    if topic.name != name.strip():
        topic.name = name.strip()
        _save_topic(topic, update_fields=["name"])
    return topic


@transaction.atomic
def topic_delete(*, actor: Actor, topic: Topic) -> None:
    """Remove a topic that no workplace offers and no open request asks for. Coordinators."""
    require_manage(actor, topic.programme_id)
    if (
        Workplace.objects.filter(topics=topic).exists()
        or ShadowingRequest.objects.filter(topics=topic, status__in=ShadowingRequest.OPEN).exists()
    ):
        raise ValidationError(
            _("Workplaces offer this topic or open requests ask for it; rename it instead.")
        )
    topic.delete()
