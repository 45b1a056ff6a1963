"""Programme settings and funders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from coordinator.core.calendar import mail_address
from coordinator.core.services import apply_changes
from organisations import permissions
from organisations.models import Funder, Person, Programme
from organisations.permissions import Actor
from organisations.services.saving import save_changed

PROGRAMME_FIELDS = {"name", "description", "time_zone", "language", "coordinator_email"}


@dataclass(frozen=True)
class FunderShare:
    name: str
    share_percent: Decimal


@transaction.atomic
def programme_update(
    *,
    actor: Actor,
    programme: Programme,
    values: dict[str, Any],
    funders: Sequence[FunderShare] | None = None,
) -> Programme:
    """Change a programme's settings and, optionally, replace its funders. Programme admins only."""
    if not permissions.can_manage_programme(actor, programme):
        raise PermissionDenied(_("Only the programme's admins may change it."))
    changed = apply_changes(programme, values, PROGRAMME_FIELDS)
    if "coordinator_email" in changed:
        _check_organiser_mailbox(programme)
    save_changed(programme, changed)
    if funders is not None:
        funders_replace(actor=actor, programme=programme, funders=funders)
    return programme


def _check_organiser_mailbox(programme: Programme) -> None:
    """The organiser of every invite is a mailbox, never a participant: a member's own address there would
    make them organiser and attendee of the same event, and their replies would be read as the organiser's.
    (Events already sent keep the organiser they were sent with.)"""
    address = programme.coordinator_email.strip()
    if not address:
        return
    mailbox = mail_address(address)
    if Person.objects.filter(
        Q(user__email__iexact=address) | Q(user__email__iexact=mailbox),
        memberships__programme=programme,
    ).exists():
        raise ValidationError(
            {
                "coordinator_email": _(
                    "This is a member's own address. Use a shared mailbox that takes part in no event."
                )
            }
        )


@transaction.atomic
def funders_replace(*, actor: Actor, programme: Programme, funders: Sequence[FunderShare]) -> list[Funder]:
    """Replace the programme's funders; their shares may not exceed 100 % together."""
    if not permissions.can_manage_programme(actor, programme):
        raise PermissionDenied(_("Only the programme's admins may change its funders."))
    names = [f.name.strip() for f in funders]
    if len(set(n.casefold() for n in names)) != len(names):
        raise ValidationError({"funders": _("Each funder may appear only once.")})
    total = sum((f.share_percent for f in funders), Decimal("0"))
    if total > Decimal("100"):
        raise ValidationError(
            {
                "funders": _("The funders' shares add up to %(total)s %%; at most 100 %% is possible.")
                % {"total": format(total.normalize(), "f")}
            }
        )
    # Locks the programme row so that two admins replacing funders at once cannot interleave.
    Programme.objects.select_for_update().get(pk=programme.pk)
    Funder.objects.filter(programme=programme).delete()
    created = []
    for share in funders:
        funder = Funder(programme=programme, name=share.name.strip(), share_percent=share.share_percent)
        funder.full_clean(validate_constraints=False)
        funder.save()
        created.append(funder)
    return created
