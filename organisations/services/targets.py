"""A programme's targets: set, changed and removed by its admins."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from coordinator.core import registry
from coordinator.core.services import apply_changes, validate
from organisations import permissions
from organisations.models import Programme, Target
from organisations.permissions import Actor
from organisations.services.programmes import require_not_archived

TARGET_FIELDS = {"title", "measure", "subject_id", "work_role", "goal", "starts_on", "deadline"}


def _check(programme: Programme, target: Target) -> None:
    """What the database cannot check: the measure exists, it is about one of its subjects (a course of
    this programme) when it has subjects, the role at work is this programme's, a share is at most 100 %."""
    errors: dict[str, str] = {}
    measure = registry.measures.get(target.measure)
    if measure is None:
        errors["measure"] = _("Choose one of the measures offered.")
    else:
        subjects = {pk for pk, _title in measure.subjects(programme)}
        if subjects and target.subject_id not in subjects:
            errors["subject_id"] = _("Choose one of the programme's own.")
        if not subjects:
            target.subject_id = None
        if not measure.uses_work_role:
            target.work_role = None
        if measure.kind == "share" and target.goal is not None and target.goal > 100:
            errors["goal"] = _("A share is at most 100 per cent.")
    if target.work_role_id is not None and target.work_role is not None:
        if target.work_role.programme_id != programme.pk:
            errors["work_role"] = _("Choose one of the programme's own.")
    if target.starts_on and target.deadline and target.deadline < target.starts_on:
        errors["deadline"] = _("The deadline must be on or after the day the target counts from.")
    if errors:
        raise ValidationError(errors)


def _require_admin(actor: Actor, programme: Programme) -> None:
    if not permissions.can_manage_programme(actor, programme):
        raise PermissionDenied(_("Only the programme's admins may set its targets."))
    require_not_archived(programme)


def target_create(*, actor: Actor, programme: Programme, values: Mapping[str, object]) -> Target:
    """Set a new target for the programme. Programme admins only."""
    _require_admin(actor, programme)
    with transaction.atomic():
        target = Target(programme=programme, created_by=actor.person)
        apply_changes(target, values, TARGET_FIELDS)
        validate(target, exclude=["programme", "created_by"])
        _check(programme, target)
        target.save()
    return target


def target_update(*, actor: Actor, target: Target, values: Mapping[str, object]) -> Target:
    """Change a target. Programme admins only."""
    _require_admin(actor, target.programme)
    with transaction.atomic():
        changed = apply_changes(target, values, TARGET_FIELDS)
        validate(target, exclude=["programme", "created_by"])
        _check(target.programme, target)
        target.save(update_fields=[*{*changed, "subject_id", "work_role"}])
    return target


def target_delete(*, actor: Actor, target: Target) -> None:
    """Remove a target (its progress is computed, so nothing else goes). Programme admins only."""
    _require_admin(actor, target.programme)
    with transaction.atomic():
        target.delete()


def default_dates(today: date) -> tuple[date, date]:
    """A new target counts from 1 January and is due on 31 December of this year."""
    return date(today.year, 1, 1), date(today.year, 12, 31)
