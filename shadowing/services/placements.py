"""The placement state machine after a run is confirmed: the host accepts or declines, the shadower
confirms, the visit is recorded, or anyone concerned cancels.

``proposed`` (in a run) → ``awaiting_host`` (run confirmed by a coordinator) → ``host_accepted`` or
``host_declined`` (by the host) → ``confirmed`` (by the shadower, accepting the confidentiality terms;
calendar invites go out) → ``visited`` (by the host or a coordinator after the last day) → ``reflected``
(the shadower's reflection). ``awaiting_host``, ``host_accepted`` and ``confirmed`` may be cancelled by the
shadower, the host or a coordinator, with a reason. Each transition is a compare-and-set on the status
(a second, concurrent click gets a conflict instead of a second transition) and writes a
``PlacementEvent``. A host's decline, or a cancellation by the host or a coordinator, puts the request
back to ``approved`` so that the next run matches it again; a cancellation by the shadower withdraws it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core.exceptions import Conflict
from coordinator.core.formatting import lazy_days
from coordinator.core.notifications import notify
from coordinator.core.tenancy import programme_scope, unscoped
from organisations.models import Person
from organisations.permissions import Actor
from organisations.selectors import coordinators_of
from shadowing import invites, permissions
from shadowing.kinds import KIND_COORDINATION, KIND_HOSTING, KIND_PLACEMENT
from shadowing.links import page_url
from shadowing.models import (
    NOTE_MAX_LENGTH,
    Placement,
    PlacementDay,
    PlacementEvent,
    ShadowingRequest,
    Slot,
)

# --- Placements -----------------------------------------------------------------------------------------


def placement_params(placement: Placement) -> dict[str, Any]:
    days = lazy_days([d.date for d in placement.days.all()])
    return {
        "person": placement.request.requester.full_name,
        "organisation": placement.request.organisation.name,
        "workplace": placement.workplace.name,
        "days": days,
    }


def transition(
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
        raise Conflict(
            _("This placement is %(status)s; that step is not possible now.")
            % {"status": placement.get_status_display()}
        )
    fields = {"status": to, "updated_at": now, **(extra or {})}
    if not Placement.objects.filter(pk=placement.pk, status=previous).update(**fields):
        raise Conflict(_("This placement was changed meanwhile; reload and try again."))
    for name, value in fields.items():
        setattr(placement, name, value)
    # The compare-and-set sends no model signals, so the step is put on the audit trail here.
    LogEntry.objects.log_create(placement, action=LogEntry.Action.UPDATE, changes={"status": [previous, to]})
    PlacementEvent.objects.create(
        placement=placement,
        from_status=previous,
        to_status=to,
        actor=actor.person,
        at=now,
        note=note[:NOTE_MAX_LENGTH],
    )


def _release_seats(placement: Placement) -> None:
    slot_ids = sorted(d.slot_id for d in PlacementDay.objects.filter(placement=placement) if d.slot_id)
    for slot_id in slot_ids:
        # By pk, the slots of this placement read in scope above (a scoped UPDATE re-joins the workplace).
        Slot.unscoped_objects.filter(pk=slot_id).update(booked=F("booked") - 1)


def _host_people(placement: Placement) -> list[Person]:
    return [placement.workplace.contact]


def placement_host_accept(*, actor: Actor, placement: Placement) -> Placement:
    """The host accepts the proposed visitor; the shadower is asked to confirm (with the confidentiality
    undertaking)."""
    if not permissions.is_host(actor, placement.workplace):
        raise PermissionDenied(_("Only the host of this workplace may accept visitors."))
    with transaction.atomic():
        transition(
            placement,
            actor=actor,
            allowed_from=[Placement.Status.AWAITING_HOST],
            to=Placement.Status.HOST_ACCEPTED,
        )
        notify(
            programme=placement.programme,
            recipients=[placement.request.requester],
            kind=KIND_PLACEMENT,
            title=gettext_noop("%(workplace)s welcomes you: please confirm your visit"),
            body=gettext_noop(
                "Read the confidentiality terms and confirm the days %(days)s; the calendar invites follow."
            ),
            params=placement_params(placement),
            url=page_url("placement-detail", pk=placement.pk),
        )
    return placement


def placement_host_decline(*, actor: Actor, placement: Placement, reason: str) -> Placement:
    """The host declines the visitor, with a reason; the seats are freed, the request goes back to the
    matching pool and the shadower and the coordinators are told."""
    if not permissions.is_host(actor, placement.workplace):
        raise PermissionDenied(_("Only the host of this workplace may decline visitors."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tell the shadower and the coordinator why.")})
    if len(reason) > NOTE_MAX_LENGTH:
        raise ValidationError({"reason": _("Keep the reason under 1,000 characters.")})
    with transaction.atomic():
        transition(
            placement,
            actor=actor,
            allowed_from=[Placement.Status.AWAITING_HOST],
            to=Placement.Status.HOST_DECLINED,
            note=reason,
            extra={"decline_reason": reason},
        )
        _release_seats(placement)
        _back_to_matching(placement)
        params = placement_params(placement)
        notify(
            programme=placement.programme,
            recipients=[placement.request.requester],
            kind=KIND_PLACEMENT,
            title=gettext_noop("%(workplace)s could not take you this time"),
            body=gettext_noop("Your request goes back to the coordinator for a new match."),
            params=params,
            detail=reason,
            url=page_url("request-detail", pk=placement.request_id),
        )
        notify(
            programme=placement.programme,
            recipients=coordinators_of(placement.programme),
            kind=KIND_COORDINATION,
            title=gettext_noop("%(workplace)s declined %(person)s: match again"),
            params=params,
            detail=reason,
            url=page_url("dashboard"),
        )
    return placement


def _back_to_matching(placement: Placement) -> None:
    ShadowingRequest.objects.filter(pk=placement.request_id, status=ShadowingRequest.Status.PLACED).update(
        status=ShadowingRequest.Status.APPROVED
    )
    placement.request.status = ShadowingRequest.Status.APPROVED


def placement_confirm(*, actor: Actor, placement: Placement, accept_confidentiality: bool) -> Placement:
    """The shadower confirms a host-accepted visit and accepts the confidentiality undertaking; the
    calendar invites (METHOD:REQUEST, one event per day) go to the shadower and the host contact."""
    if not permissions.is_requester(actor, placement.request):
        raise PermissionDenied(_("Only the shadower may confirm this visit."))
    if accept_confidentiality is not True:
        raise ValidationError(
            {"accept_confidentiality": _("You must accept the confidentiality terms to confirm the visit.")}
        )
    now = timezone.now()
    with transaction.atomic():
        transition(
            placement,
            actor=actor,
            allowed_from=[Placement.Status.HOST_ACCEPTED],
            to=Placement.Status.CONFIRMED,
            extra={"confidentiality_accepted_at": now},
        )
        invites.reconcile_placements([placement])
        notify(
            programme=placement.programme,
            recipients=_host_people(placement),
            kind=KIND_HOSTING,
            title=gettext_noop("%(person)s confirmed the visit to %(workplace)s"),
            body=gettext_noop(
                "Days: %(days)s. The confidentiality terms are accepted; the calendar invite follows."
            ),
            params=placement_params(placement),
            url=page_url("placement-detail", pk=placement.pk),
        )
    return placement


def placement_mark_visited(*, actor: Actor, placement: Placement) -> Placement:
    """The host or a coordinator records that the visit took place (after its last day); the shadower is
    asked for the reflection."""
    if not permissions.can_record_visit(actor, placement):
        raise PermissionDenied(_("Only the host or a coordinator may record the visit."))
    if placement.status == Placement.Status.CONFIRMED and not placement.last_day_ended():
        raise ValidationError(_("The visit can be recorded after its last day."))
    with transaction.atomic():
        transition(
            placement, actor=actor, allowed_from=[Placement.Status.CONFIRMED], to=Placement.Status.VISITED
        )
        notify(
            programme=placement.programme,
            recipients=[placement.request.requester],
            kind=KIND_PLACEMENT,
            title=gettext_noop("How was %(workplace)s? Write down what you learned"),
            body=gettext_noop("What you learned, how you will use it and how you shared it with colleagues."),
            params=placement_params(placement),
            url=page_url("reflection", pk=placement.pk),
        )
    return placement


def cancel(placement: Placement, *, actor: Actor, reason: str, rematch: bool, by_requester: bool) -> None:
    transition(
        placement,
        actor=actor,
        allowed_from=Placement.CANCELLABLE,
        to=Placement.Status.CANCELLED,
        note=reason,
        extra={"cancel_reason": reason, "cancelled_by": actor.person},
    )
    _release_seats(placement)
    if by_requester:
        ShadowingRequest.objects.filter(pk=placement.request_id).update(
            status=ShadowingRequest.Status.WITHDRAWN
        )
        placement.request.status = ShadowingRequest.Status.WITHDRAWN
    elif rematch:
        _back_to_matching(placement)
    invites.reconcile_placements([placement])  # a confirmed visit's days are cancelled in both calendars
    params = placement_params(placement)
    people = {
        placement.request.requester.pk: placement.request.requester,
        placement.workplace.contact.pk: placement.workplace.contact,
    }
    if actor.person is not None:
        people.pop(actor.person.pk, None)
    notify(
        programme=placement.programme,
        recipients=people.values(),
        kind=KIND_PLACEMENT if not by_requester else KIND_HOSTING,
        title=gettext_noop("The visit of %(person)s to %(workplace)s is cancelled"),
        body=gettext_noop("Days: %(days)s."),
        params=params,
        detail=reason,
        url=page_url("placement-detail", pk=placement.pk),
    )


def placement_cancel(*, actor: Actor, placement: Placement, reason: str) -> Placement:
    """Cancel a placement with a reason (the shadower, the host or a coordinator). The seats are freed, a
    confirmed visit's invites are cancelled (METHOD:CANCEL), the other side and the coordinators are told.
    A cancellation by the shadower withdraws the request; by the host or a coordinator, the request goes
    back to the matching pool."""
    is_requester = permissions.is_requester(actor, placement.request)
    is_host = permissions.is_host(actor, placement.workplace)
    is_coordinator = permissions.can_manage(actor, placement.programme_id)
    if not permissions.can_cancel_placement(actor, placement):
        raise PermissionDenied(_("Only the shadower, the host or a coordinator may cancel this visit."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for the cancellation.")})
    if len(reason) > NOTE_MAX_LENGTH:
        raise ValidationError({"reason": _("Keep the reason under 1,000 characters.")})
    with transaction.atomic():
        by_requester = is_requester and not (is_host or is_coordinator)
        cancel(placement, actor=actor, reason=reason, rematch=True, by_requester=by_requester)
        notify(
            programme=placement.programme,
            recipients=[
                p
                for p in coordinators_of(placement.programme)
                if actor.person is None or p.pk != actor.person.pk
            ],
            kind=KIND_COORDINATION,
            title=gettext_noop("Visit cancelled: %(person)s at %(workplace)s"),
            body="" if by_requester else gettext_noop("The request waits for the next match."),
            params=placement_params(placement),
            detail=reason,
            url=page_url("dashboard"),
        )
    return placement


def placements_cancel_for_erasure(person: Person, programme_ids: frozenset[int]) -> int:
    """Part of erasing a person (``organisations.services.personal_data``): their visits not yet made in
    these programmes are cancelled as if they had withdrawn: the seats are freed, a confirmed visit's
    invites are cancelled and the host is told. Visits made keep their history. Runs inside the erasure's
    transaction, before the person's name is removed from what it writes."""
    leaving = Actor(user=person.user, person=person)
    placements = list(
        Placement.objects.filter(
            request__requester=person, programme_id__in=programme_ids, status__in=Placement.CANCELLABLE
        )
        .select_related(
            "programme", "request__requester__user", "request__organisation", "workplace__contact__user"
        )
        .order_by("pk")
    )
    for placement in placements:
        with translation.override(placement.programme.language):
            reason = _("The participant has left the programme.")
        cancel(placement, actor=leaving, reason=reason, rematch=False, by_requester=True)
    return len(placements)


def placements_show_changed_people(person_ids: list[int], details: frozenset[str]) -> int:
    """A ``calendar_people_changed`` entry (``coordinator.core.itip.people_changed``): a visit day shows
    the visitor's name and address and the host contact's name, address and phone, to both of them, so the
    confirmed visits that show these people are brought in step in both calendars (a host contact's new
    phone reaches the visitor's calendar too). Only visits with a day from yesterday on: the reconciler
    leaves past days alone. One query finds them, then one transaction per programme, in its scope.
    Returns the number of messages."""
    shows = Q(workplace__contact_id__in=person_ids)
    if details - {"phone"}:  # a visitor's phone is not shown, their name and address are
        shows |= Q(request__requester_id__in=person_ids)
    since = timezone.localdate() - timedelta(days=1)
    with unscoped():  # a task: the programmes are those of the visits found
        found = list(
            Placement.unscoped_objects.filter(shows, status=Placement.Status.CONFIRMED, days__date__gte=since)
            .values_list("programme_id", "pk")
            .distinct()
            .order_by("programme_id", "pk")
        )
    by_programme: dict[int, list[int]] = {}
    for programme_id, placement_id in found:
        by_programme.setdefault(programme_id, []).append(placement_id)
    sent = 0
    for programme_id, placement_ids in by_programme.items():
        with programme_scope([programme_id]), transaction.atomic():
            sent += invites.reconcile_placements(
                Placement.objects.filter(pk__in=placement_ids, status=Placement.Status.CONFIRMED)
                .select_related(*invites.PLACEMENT_RELATED)
                .order_by("pk")
            )
    return sent
