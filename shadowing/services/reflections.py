"""What was learned: the shadower's reflection and the host's feedback after a visit."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coordinator.core.exceptions import Conflict
from coordinator.core.services import validate
from organisations.permissions import Actor
from shadowing import permissions
from shadowing.models import (
    HostFeedback,
    Placement,
    Reflection,
)
from shadowing.services.placements import transition


def reflection_submit(
    *, actor: Actor, placement: Placement, learned: str, how_used: str, how_shared: str = ""
) -> Reflection:
    """The shadower records what was learned, how it will be used and how it was shared (after the visit)."""
    if not permissions.is_requester(actor, placement.request):
        raise PermissionDenied(_("Only the shadower writes the reflection."))
    reflection = Reflection(placement=placement, learned=learned, how_used=how_used, how_shared=how_shared)
    validate(reflection, exclude=["placement"])
    with transaction.atomic():
        transition(
            placement, actor=actor, allowed_from=[Placement.Status.VISITED], to=Placement.Status.REFLECTED
        )
        reflection.save()
    return reflection


def host_feedback_submit(*, actor: Actor, placement: Placement, feedback: str) -> HostFeedback:
    """The host's brief feedback on a visit that took place (written once, may be corrected)."""
    if not permissions.is_host(actor, placement.workplace):
        raise PermissionDenied(_("Only the host writes feedback on the visit."))
    if placement.status not in Placement.AFTER_VISIT:
        raise Conflict(_("Feedback can be given after the visit."))
    with transaction.atomic():
        existing = HostFeedback.objects.filter(placement=placement).first()
        item = existing or HostFeedback(placement=placement)
        item.feedback = feedback
        item.author = actor.person
        item.submitted_at = timezone.now()
        validate(item, exclude=["placement"])
        item.save()
    return item
