"""The export of a programme's people in the import's columns (``people_import.COLUMNS``), so that an
exported file imports back unchanged."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from organisations.models import Membership, Organisation, Programme, RoleAssignment, Unit
from organisations.permissions import Actor
from organisations.services.people_import import (
    COLUMNS,
    UNIT_SEPARATOR,
    can_import_people,
    importable_organisations,
)


def people_export_rows(*, actor: Actor, programme: Programme) -> tuple[list[str], list[list[object]]]:
    """The programme's people the actor may import, in the import's columns (headings in the reader's
    language), so that the file imports back unchanged."""
    if not can_import_people(actor, programme):
        raise PermissionDenied(_("You may not export people from this programme."))
    organisations = importable_organisations(actor, programme)
    units = {unit.pk: unit for unit in Unit.objects.filter(organisation__in=organisations)}
    memberships = (
        Membership.objects.filter(programme=programme, person__organisation__in=organisations)
        .select_related("person__user", "person__organisation", "person__line_manager__user", "work_role")
        .order_by("person__organisation__name", "person__user__last_name", "person__user__first_name", "pk")
    )
    roles: dict[int, list[str]] = {}
    for membership_id, role in (
        RoleAssignment.objects.filter(membership__in=memberships)
        .order_by("role")
        .values_list("membership_id", "role")
    ):
        roles.setdefault(membership_id, []).append(role)
    rows: list[list[object]] = []
    for membership in memberships:
        person = membership.person
        manager = person.line_manager
        rows.append(
            [
                person.user.email,
                person.user.first_name,
                person.user.last_name,
                person.organisation.short_name,
                _unit_path(person.unit_id, units, person.organisation),
                membership.work_role.code if membership.work_role else "",
                person.job_title,
                manager.user.email if manager is not None else "",
                person.phone,
                ", ".join(person.languages),
                person.preferred_language,
                ", ".join(roles.get(membership.pk, [])),
            ]
        )
    return [str(column.label) for column in COLUMNS], rows


def _unit_path(unit_id: int | None, units: dict[int, Unit], organisation: Organisation) -> str:
    names: list[str] = []
    while unit_id is not None and unit_id in units and len(names) < 20:
        names.append(units[unit_id].name)
        unit_id = units[unit_id].parent_id
    if not names:
        return ""
    return UNIT_SEPARATOR.join([organisation.short_name, *reversed(names)])
