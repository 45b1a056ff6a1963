"""Competences and profiles (programme admins) and a line manager's confirmation that a person gained a
competence elsewhere (dated, with a note, on the audit trail)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core import registry
from coordinator.core.exceptions import Conflict
from coordinator.core.services import validate
from organisations import permissions
from organisations.models import (
    Competence,
    CompetenceConfirmation,
    CompetenceSource,
    Person,
    ProfileCompetence,
    ProfileLevel,
    Programme,
    WorkRole,
)
from organisations.permissions import Actor
from organisations.services.saving import save_unique

COMPETENCE_NAME_TAKEN = gettext_noop("The programme already has a competence with this name.")
MAX_SOURCES = 50


def _require_define(actor: Actor, programme: Programme) -> None:
    if not permissions.can_define_competences(actor, programme):
        raise PermissionDenied(_("Only the programme's admins define competences and profiles."))


def _clean_sources(programme: Programme, sources: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each source must be a registered kind of evidence and one of its current choices."""
    wanted = sorted({(str(kind), str(value)) for kind, value in sources})
    if len(wanted) > MAX_SOURCES:
        raise ValidationError({"sources": _("Name at most %(n)s sources.") % {"n": MAX_SOURCES}})
    allowed: dict[str, set[str]] = {}
    errors = []
    for kind, value in wanted:
        evidence = registry.competence_evidence.get(kind)
        if evidence is None:
            errors.append(_("Unknown kind of source: %(kind)s.") % {"kind": kind[:40]})
            continue
        if kind not in allowed:
            allowed[kind] = {choice for choice, _label in evidence.choices(programme)}
        if value not in allowed[kind]:
            errors.append(_("%(kind)s: no such choice in this programme.") % {"kind": evidence.label})
    if errors:
        raise ValidationError({"sources": errors})
    return wanted


def _write_sources(competence: Competence, sources: list[tuple[str, str]]) -> None:
    current = set(competence.sources.values_list("kind", "value"))
    gone = current - set(sources)
    for kind, value in gone:
        competence.sources.filter(kind=kind, value=value).delete()
    # One by one (at most MAX_SOURCES), so that each new source is on the audit trail.
    for kind, value in sources:
        if (kind, value) not in current:
            CompetenceSource.objects.create(
                programme_id=competence.programme_id, competence=competence, kind=kind, value=value
            )


def competence_create(
    *,
    actor: Actor,
    programme: Programme,
    name: str,
    description: str = "",
    manager_sign_off: bool = True,
    sources: Iterable[tuple[str, str]] = (),
) -> Competence:
    """Define a competence and what gives it (programme admins). Names are unique in the programme."""
    _require_define(actor, programme)
    competence = Competence(
        programme=programme, name=name.strip(), description=description, manager_sign_off=manager_sign_off
    )
    validate(competence, exclude=["programme"])
    cleaned = _clean_sources(programme, sources)
    with transaction.atomic():
        save_unique(competence, field="name", taken=COMPETENCE_NAME_TAKEN)
        _write_sources(competence, cleaned)
    return competence


def competence_update(
    *,
    actor: Actor,
    competence: Competence,
    name: str,
    description: str = "",
    manager_sign_off: bool = True,
    sources: Iterable[tuple[str, str]] = (),
) -> Competence:
    """Change a competence's name, description and what gives it (programme admins)."""
    programme = competence.programme
    _require_define(actor, programme)
    competence.name, competence.description = name.strip(), description
    competence.manager_sign_off = manager_sign_off
    validate(competence, exclude=["programme"])
    cleaned = _clean_sources(programme, sources)
    with transaction.atomic():
        save_unique(
            competence,
            field="name",
            taken=COMPETENCE_NAME_TAKEN,
            update_fields=["name", "description", "manager_sign_off"],
        )
        _write_sources(competence, cleaned)
    return competence


def competence_delete(*, actor: Actor, competence: Competence) -> None:
    """Remove a competence, its place in every profile and its confirmations (programme admins)."""
    _require_define(actor, competence.programme)
    with transaction.atomic():
        competence.delete()


def role_profile_set(
    *, actor: Actor, work_role: WorkRole, levels: Mapping[int, str]
) -> list[ProfileCompetence]:
    """Set a role at work's profile: ``{competence_id: "basic" | "professional"}``; competences left out
    leave the profile (programme admins)."""
    programme = work_role.programme
    _require_define(actor, programme)
    known = set(Competence.objects.filter(programme=programme).values_list("pk", flat=True))
    errors = []
    if any(cid not in known for cid in levels):
        errors.append(_("Choose competences of this programme."))
    if any(level not in ProfileLevel.values for level in levels.values()):
        errors.append(_("Choose basic or professional."))
    if errors:
        raise ValidationError({"levels": errors})
    with transaction.atomic():
        current = {p.competence_id: p for p in ProfileCompetence.objects.filter(work_role=work_role)}
        for cid, entry in current.items():
            if cid not in levels:
                entry.delete()
            elif entry.level != levels[cid]:
                entry.level = levels[cid]
                entry.save(update_fields=["level"])
        for cid, level in levels.items():
            if cid not in current:
                ProfileCompetence.objects.create(
                    programme=programme, work_role=work_role, competence_id=cid, level=level
                )
    return list(ProfileCompetence.objects.filter(work_role=work_role).select_related("competence"))


def competence_confirm(
    *,
    actor: Actor,
    programme: Programme,
    person: Person,
    competence: Competence,
    gained_on: date,
    note: str = "",
) -> CompetenceConfirmation:
    """A line manager confirms that a person who reports to them gained a competence elsewhere, on a day
    not in the future. Recorded on the audit trail; confirming again changes the date and note."""
    if not permissions.can_confirm_competence(actor, programme, person):
        raise PermissionDenied(_("Only the person's line manager may confirm their competences."))
    if competence.programme_id != programme.pk:
        raise ValidationError({"competence": _("Choose a competence of this programme.")})
    if not competence.manager_sign_off:
        raise ValidationError({"competence": _("This competence is not given by a manager's confirmation.")})
    errors = {}
    if gained_on > timezone.localdate():
        errors["gained_on"] = _("Give a day that has passed.")
    if len(note) > 500:
        errors["note"] = _("Keep this under %(limit)s characters.") % {"limit": 500}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        confirmation, created = CompetenceConfirmation.objects.select_for_update().get_or_create(
            person=person,
            competence=competence,
            defaults={
                "programme": programme,
                "gained_on": gained_on,
                "note": note,
                "confirmed_by": actor.person,
            },
        )
        if not created:
            confirmation.gained_on, confirmation.note = gained_on, note
            confirmation.confirmed_by = actor.person
            confirmation.save(update_fields=["gained_on", "note", "confirmed_by"])
    return confirmation


def competence_confirmation_withdraw(*, actor: Actor, confirmation: CompetenceConfirmation) -> None:
    """The line manager withdraws a confirmation (recorded on the audit trail)."""
    if not permissions.can_confirm_competence(actor, confirmation.programme, confirmation.person):
        raise PermissionDenied(_("Only the person's line manager may confirm their competences."))
    with transaction.atomic():
        deleted, _rows = CompetenceConfirmation.objects.filter(pk=confirmation.pk).delete()
        if not deleted:
            raise Conflict(_("This confirmation was already withdrawn."))


def confirmations_erase(person: Person, programme_ids: Iterable[int]) -> int:
    """Personal-data erasure: the notes of a person's confirmations go (free text about them); the dated
    rows stay, counted as competences gained by a former member."""
    return (
        CompetenceConfirmation.objects.filter(person=person, programme_id__in=list(programme_ids))
        .exclude(note="")
        .update(note="")
    )
