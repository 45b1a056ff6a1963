"""Turns the demo tables of ``organisations.seed.data`` into rows, idempotently.

Natural keys (slugs, usernames, names) find existing rows, a second run writes nothing, and passwords are
set only when a user is first created. The demo spans both programmes, so every query here is unscoped;
``seed_demo`` runs the seeders inside ``unscoped()``.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Model

from organisations.models import (
    Funder,
    Membership,
    Organisation,
    Participation,
    Person,
    Programme,
    RoleAssignment,
    Unit,
    WorkRole,
)
from organisations.seed.data import (
    DEMO_PASSWORD,
    DEMO_PROGRAMMES,
    MALMO_SLUG,
    DemoOrganisation,
    DemoPerson,
    DemoProgramme,
)


def seed_organisations() -> list[tuple[str, str]]:
    """Load every demo programme; return ``(username, description)`` of the people worth signing in as."""
    logins: list[tuple[str, str]] = []
    for spec in DEMO_PROGRAMMES:
        logins += _load_programme(spec)
    return logins


def malmo() -> Programme:
    """The demo programme, for the other apps' demo data."""
    return Programme.unscoped_objects.get(slug=MALMO_SLUG)


def demo_person(username: str) -> Person:
    return Person.unscoped_objects.select_related("user", "organisation", "unit").get(user__username=username)


def demo_people(programme: Programme) -> list[Person]:
    return list(
        Person.unscoped_objects.filter(memberships__programme=programme)
        .select_related("user", "organisation", "unit")
        .order_by("pk")
    )


def _load_programme(spec: DemoProgramme) -> list[tuple[str, str]]:
    programme, created = Programme.unscoped_objects.get_or_create(slug=spec.slug, defaults=_fields(spec))
    if not created:
        _update(programme, **_fields(spec))
    for funder_spec in spec.funders:
        funder, _created = Funder.unscoped_objects.get_or_create(
            programme=programme, name=funder_spec.name, defaults={"share_percent": funder_spec.share_percent}
        )
        _update(funder, share_percent=funder_spec.share_percent)
    units = {}
    for organisation_spec in spec.organisations:
        units.update(_load_organisation(programme, organisation_spec))
    work_roles = {}
    for role_spec in spec.work_roles:
        work_role, _created = WorkRole.unscoped_objects.get_or_create(
            programme=programme, code=role_spec.code, defaults={"name": role_spec.name}
        )
        _update(work_role, name=role_spec.name)
        work_roles[role_spec.code] = work_role
    people: dict[str, Person] = {}
    logins = []
    for person_spec in spec.people:
        unit, organisation_spec = units[person_spec.unit]
        manager = people[person_spec.manager] if person_spec.manager else None
        person = _load_person(person_spec, unit, organisation_spec, manager)
        _load_membership(programme, person, person_spec, work_roles[person_spec.work_role])
        people[person_spec.username] = person
        if person_spec.login_note:
            logins.append((person_spec.username, _login_description(person_spec, organisation_spec)))
    return logins


def _fields(spec: DemoProgramme) -> dict[str, object]:
    return {
        "name": spec.name,
        "description": spec.description,
        "time_zone": spec.time_zone,
        "country": spec.country,
        "language": spec.language,
        "coordinator_email": spec.coordinator_email,
    }


def _load_organisation(
    programme: Programme, spec: DemoOrganisation
) -> dict[str, tuple[Unit, DemoOrganisation]]:
    """The organisation, its participation in the programme and its units, by unit name."""
    organisation, _created = Organisation.unscoped_objects.get_or_create(
        name=spec.name, defaults={"short_name": spec.short_name, "kind": spec.kind, "website": spec.website}
    )
    Participation.unscoped_objects.get_or_create(programme=programme, organisation=organisation)
    units = {}
    for unit_spec in spec.units:
        unit, _created = Unit.unscoped_objects.get_or_create(organisation=organisation, name=unit_spec.name)
        _update(
            unit,
            street_address=unit_spec.street,
            postal_code=unit_spec.postal_code,
            city=unit_spec.city,
            description=unit_spec.description,
        )
        units[unit_spec.name] = (unit, spec)
    return units


def _load_person(
    spec: DemoPerson, unit: Unit, organisation_spec: DemoOrganisation, manager: Person | None
) -> Person:
    user, created = User.objects.get_or_create(username=spec.username)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    _update(user, first_name=spec.first_name, last_name=spec.last_name, email=_email(spec, organisation_spec))
    person = Person.unscoped_objects.filter(user=user).first()
    if person is None:
        person = Person.unscoped_objects.create(user=user, organisation_id=unit.organisation_id)
    _update(
        person,
        organisation_id=unit.organisation_id,
        unit=unit,
        job_title=spec.job_title,
        line_manager=manager,
        languages=list(spec.languages),
    )
    return person


def _load_membership(programme: Programme, person: Person, spec: DemoPerson, work_role: WorkRole) -> None:
    """The person's active membership with exactly the platform roles of ``spec``."""
    membership, _created = Membership.unscoped_objects.get_or_create(programme=programme, person=person)
    _update(membership, work_role=work_role, is_active=True)
    assignments = RoleAssignment.unscoped_objects.filter(membership=membership)
    held = set(assignments.values_list("role", flat=True))
    assignments.exclude(role__in=spec.roles).delete()
    RoleAssignment.unscoped_objects.bulk_create(
        [RoleAssignment(membership=membership, role=role) for role in sorted(set(spec.roles) - held)]
    )


def _email(person: DemoPerson, organisation: DemoOrganisation) -> str:
    domain = organisation.short_name.lower().replace(" ", "").replace("ö", "o").replace("ø", "o")
    local = person.username.replace("ö", "o").replace("ø", "o")
    return f"{local}@{domain}.example"


def _login_description(person: DemoPerson, organisation: DemoOrganisation) -> str:
    return (
        f"{person.first_name} {person.last_name}, {person.job_title} "
        f"({organisation.short_name}) – {person.login_note}"
    )


def _update(instance: Model, **values: object) -> None:
    """Set values and save only what differs, so that a second run writes nothing."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    if changed:
        instance.save(update_fields=changed)
