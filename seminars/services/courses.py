"""Courses of a programme: create and change them, their providers, target roles and prerequisites."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from coordinator.core.services import apply_changes, validate
from organisations.models import Organisation, Programme, Unit, WorkRole
from organisations.permissions import Actor
from seminars import invites
from seminars.models import Course, Round
from seminars.services._seats import (
    conflict_on_duplicate,
    require_manage,
)

COURSE_FIELDS = {
    "title",
    "description",
    "language",
    "completion_rule",
    "attendance_required_percent",
    "is_archived",
}


def _check_provider_units(
    providers: Sequence[Organisation] | None, provider_units: Sequence[Unit] | None, course: Course | None
) -> None:
    """Units that give a course belong to organisations that give it."""
    if provider_units is None and providers is None:
        return
    if provider_units is None:
        provider_units = list(course.provider_units.all()) if course is not None else []
    if providers is None:
        providers = list(course.providers.all()) if course is not None else []
    giving = {o.pk for o in providers}
    if any(unit.organisation_id not in giving for unit in provider_units):
        raise ValidationError(
            {"provider_units": _("Choose units of the organisations that give the course.")}
        )


def _check_course_relations(
    programme: Programme,
    providers: Sequence[Organisation] | None,
    target_roles: Sequence[WorkRole] | None,
    prerequisites: Sequence[Course] | None,
    course: Course | None,
) -> None:
    errors: dict[str, str] = {}
    if providers is not None:
        if not providers:
            errors["providers"] = _("Name at least one organisation that gives the course.")
        participating = set(
            Organisation.objects.filter(participations__programme=programme).values_list("pk", flat=True)
        )
        if any(o.pk not in participating for o in providers):
            errors["providers"] = _("Choose organisations that take part in the programme.")
    if target_roles is not None and any(r.programme_id != programme.pk for r in target_roles):
        errors["target_roles"] = _("Choose roles at work from this programme's list.")
    if prerequisites is not None:
        if any(c.programme_id != programme.pk for c in prerequisites):
            errors["prerequisites"] = _("Choose courses of this programme.")
        elif course is not None and _creates_cycle(course, prerequisites):
            errors["prerequisites"] = _("A course cannot require itself, directly or through other courses.")
    if errors:
        raise ValidationError(errors)


def _creates_cycle(course: Course, prerequisites: Sequence[Course]) -> bool:
    edges: dict[int, set[int]] = {}
    for from_id, to_id in Course.prerequisites.through.objects.filter(
        from_course__programme_id=course.programme_id
    ).values_list("from_course_id", "to_course_id"):
        edges.setdefault(from_id, set()).add(to_id)
    edges[course.pk] = {c.pk for c in prerequisites}
    seen: set[int] = set()
    stack = list(edges[course.pk])
    while stack:
        node = stack.pop()
        if node == course.pk:
            return True
        if node in seen:
            continue
        seen.add(node)
        stack.extend(edges.get(node, ()))
    return False


@transaction.atomic
def course_create(
    *,
    actor: Actor,
    programme: Programme,
    values: Mapping[str, Any],
    providers: Sequence[Organisation],
    target_roles: Sequence[WorkRole] = (),
    prerequisites: Sequence[Course] = (),
    provider_units: Sequence[Unit] = (),
) -> Course:
    """Add a course to the programme. Coordinators only; sends nothing. ``provider_units`` narrow who of a
    providing organisation teaches it (its course providers in those units)."""
    require_manage(actor, programme)
    _check_course_relations(programme, providers, target_roles, prerequisites, None)
    _check_provider_units(providers, provider_units, None)
    course = Course(programme=programme)
    apply_changes(course, values, COURSE_FIELDS)
    validate(course)
    if Course.objects.filter(programme=programme, title__iexact=course.title).exists():
        raise ValidationError({"title": _("The programme already has a course with this title.")})
    with conflict_on_duplicate(_("The programme already has a course with this title.")):
        course.save()
    course.providers.set(providers)
    course.provider_units.set(provider_units)
    course.target_roles.set(target_roles)
    course.prerequisites.set(prerequisites)
    return course


@transaction.atomic
def course_update(
    *,
    actor: Actor,
    course: Course,
    values: Mapping[str, Any],
    providers: Sequence[Organisation] | None = None,
    target_roles: Sequence[WorkRole] | None = None,
    prerequisites: Sequence[Course] | None = None,
    provider_units: Sequence[Unit] | None = None,
) -> Course:
    """Change a course's details, providers, provider units, target roles or prerequisites. Coordinators
    only.

    Changes apply to new enrolments; people already booked keep their seats."""
    require_manage(actor, course.programme_id)
    _check_course_relations(course.programme, providers, target_roles, prerequisites, course)
    _check_provider_units(providers, provider_units, course)
    changed = apply_changes(course, values, COURSE_FIELDS)
    validate(course)
    if (
        "title" in changed
        and Course.objects.filter(programme_id=course.programme_id, title__iexact=course.title)
        .exclude(pk=course.pk)
        .exists()
    ):
        raise ValidationError({"title": _("The programme already has a course with this title.")})
    with transaction.atomic():
        if changed:
            course.save(update_fields=changed)
            # The course's title is in every session's summary: booked calendars follow a rename.
            for round_ in Round.objects.filter(course=course, status=Round.Status.PUBLISHED).select_related(
                "course__programme"
            ):
                invites.reconcile_round(round_)
        if providers is not None:
            course.providers.set(providers)
        if provider_units is not None:
            course.provider_units.set(provider_units)
        if target_roles is not None:
            course.target_roles.set(target_roles)
        if prerequisites is not None:
            course.prerequisites.set(prerequisites)
    return course
