"""Organisation quotas of a round: reserved seats and maxima."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organisations.models import Organisation
from organisations.permissions import Actor
from seminars.models import (
    Enrolment,
    OrganisationQuota,
    Round,
)
from seminars.services._seats import (
    conflict_on_duplicate,
    lock_round,
    require_manage,
)
from seminars.services.waiting_list import sweep_locked


@transaction.atomic
def quota_set(
    *,
    actor: Actor,
    round: Round,
    organisation: Organisation,
    reserved: int,
    maximum: int | None,
) -> OrganisationQuota:
    """Reserve seats for an organisation and/or cap its seats on a round; may offer seats to the queue.
    Coordinators only."""
    require_manage(actor, round.course.programme_id)
    now = timezone.now()
    locked = lock_round(round.pk)
    if not Organisation.objects.filter(
        pk=organisation.pk, participations__programme_id=locked.course.programme_id
    ).exists():
        raise ValidationError({"organisation": _("Choose an organisation that takes part in the programme.")})
    if reserved < 0 or (maximum is not None and maximum < 1):
        raise ValidationError({"reserved": _("Give whole numbers; a maximum is at least 1.")})
    if maximum is not None and maximum < reserved:
        raise ValidationError({"maximum": _("The maximum cannot be below the reserved seats.")})
    others = sum(
        OrganisationQuota.objects.filter(round=locked)
        .exclude(organisation=organisation)
        .values_list("reserved", flat=True)
    )
    if others + reserved > locked.capacity:
        raise ValidationError(
            {
                "reserved": _("All quotas together may reserve at most the round's %(n)s seats.")
                % {"n": locked.capacity}
            }
        )
    held = Enrolment.objects.filter(
        round=locked, organisation=organisation, status__in=Enrolment.SEAT_HOLDING
    ).count()
    if maximum is not None and maximum < held:
        raise ValidationError(
            {
                "maximum": _("The organisation already holds %(n)s seats; the maximum cannot be lower.")
                % {"n": held}
            }
        )
    with conflict_on_duplicate():
        quota, _created = OrganisationQuota.objects.update_or_create(
            round=locked, organisation=organisation, defaults={"reserved": reserved, "maximum": maximum}
        )
    sweep_locked(locked, now)
    return quota


@transaction.atomic
def quota_delete(*, actor: Actor, quota: OrganisationQuota) -> None:
    """Remove an organisation's quota from a round; may offer seats to the queue. Coordinators only."""
    require_manage(actor, quota.round.course.programme_id)
    locked = lock_round(quota.round_id)
    quota.delete()
    sweep_locked(locked, timezone.now())
