"""Programme settings and funders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from coordinator.core.services import apply_changes
from organisations import permissions
from organisations.models import (
    Funder,
    Programme,
)
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
    save_changed(programme, apply_changes(programme, values, PROGRAMME_FIELDS))
    if funders is not None:
        funders_replace(actor=actor, programme=programme, funders=funders)
    return programme


def check_funders(funders: Sequence[FunderShare]) -> None:
    """A programme's funders: each named once, their shares at most 100 % together (the API, the pages
    and the admin's funder rows ask the same)."""
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


@transaction.atomic
def funders_replace(*, actor: Actor, programme: Programme, funders: Sequence[FunderShare]) -> list[Funder]:
    """Replace the programme's funders; their shares may not exceed 100 % together."""
    if not permissions.can_manage_programme(actor, programme):
        raise PermissionDenied(_("Only the programme's admins may change its funders."))
    check_funders(funders)
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
