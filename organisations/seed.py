"""Demo data: Malmö's local competence development programme (see docs/domain) and a small Danish one.

Every person and organisation here is fictitious except the agencies themselves. Idempotent: natural keys
(slugs, usernames, names) find existing rows, and passwords are set only when a user is first created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import User

from organisations.models import (
    Funder,
    Membership,
    Organisation,
    OrganisationKind,
    Participation,
    Person,
    PlatformRole,
    Programme,
    RoleAssignment,
    Unit,
    WorkRole,
)

DEMO_PASSWORD = "samverkan-demo"
MALMO_SLUG = "malmo"
COPENHAGEN_SLUG = "kobenhavn"
R = PlatformRole
K = OrganisationKind


@dataclass(frozen=True)
class DemoUnit:
    name: str
    street: str
    postal_code: str
    city: str
    description: str = ""


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    short_name: str
    kind: str
    website: str
    units: tuple[DemoUnit, ...]


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    organisation: str
    unit: str
    job_title: str
    work_role: str
    roles: tuple[str, ...] = (R.STAFF,)
    manager: str = ""
    languages: tuple[str, ...] = ("sv", "en")
    login_note: str = ""
    extra: dict[str, str] = field(default_factory=dict)


MALMO_ORGANISATIONS = (
    DemoOrganisation(
        "Migrationsverket",
        "MV",
        K.STATE_AGENCY,
        "https://www.migrationsverket.se",
        (
            DemoUnit(
                "Mottagningsenheten Malmö",
                "Jägersrovägen 160",
                "212 37",
                "Malmö",
                "Tar emot asylsökande, ger information om asylprocessen och ordnar boende och dagersättning.",
            ),
            DemoUnit(
                "Prövningsenheten Malmö",
                "Carlsgatan 4",
                "211 20",
                "Malmö",
                "Utreder och beslutar i asylärenden.",
            ),
        ),
    ),
    DemoOrganisation(
        "Malmö stad",
        "Malmö stad",
        K.MUNICIPALITY,
        "https://malmo.se",
        (
            DemoUnit(
                "Stadskontoret – kompetensutvecklingsprogrammet",
                "August Palms plats 1",
                "205 80",
                "Malmö",
                "Projektledning och samordning av det lokala kompetensutvecklingsprogrammet.",
            ),
            DemoUnit(
                "Introduktionsverksamheten Rosengård",
                "Amiralsgatan 111",
                "214 37",
                "Malmö",
                "Introduktion för nyanlända flyktingar: etableringsplan, bostad, kontakter med sfi och "
                "Arbetsförmedlingen.",
            ),
            DemoUnit("Socialtjänsten Södra Innerstaden", "Bergsgatan 20", "214 22", "Malmö"),
            DemoUnit(
                "Sfi Malmö (Komvux)",
                "Kärleksgatan 2",
                "211 45",
                "Malmö",
                "Svenskundervisning för invandrare.",
            ),
        ),
    ),
    DemoOrganisation(
        "Arbetsförmedlingen",
        "AF",
        K.EMPLOYMENT_SERVICE,
        "https://arbetsformedlingen.se",
        (
            DemoUnit(
                "Arbetsförmedlingen Malmö, etablering",
                "Södra Förstadsgatan 40",
                "211 43",
                "Malmö",
                "Etableringsuppdraget för nyanlända: kartläggning, handlingsplan och insatser.",
            ),
        ),
    ),
    DemoOrganisation(
        "Region Skåne",
        "Region Skåne",
        K.REGION,
        "https://www.skane.se",
        (
            DemoUnit("Vuxenpsykiatrin Malmö", "Carl Bertil Laurells gata 9", "205 02", "Malmö"),
            DemoUnit(
                "Team för krigs- och tortyrskadade",
                "Carl Bertil Laurells gata 9",
                "205 02",
                "Malmö",
                "Bedömning och behandling av traumatiserade flyktingar inom psykiatrin.",
            ),
        ),
    ),
    DemoOrganisation(
        "Röda korset",
        "Röda korset",
        K.NGO,
        "https://www.rodakorset.se",
        (
            DemoUnit(
                "Röda korsets behandlingscenter Malmö",
                "Fredsgatan 3",
                "211 45",
                "Malmö",
                "Behandling för krigs- och tortyrskadade och deras familjer.",
            ),
        ),
    ),
    DemoOrganisation(
        "Malmö universitet",
        "MAU",
        K.UNIVERSITY,
        "https://mau.se",
        (
            DemoUnit(
                "Regionalt utvecklingscentrum",
                "Nordenskiöldsgatan 10",
                "211 19",
                "Malmö",
                "Kompetensutveckling för verksamheter i regionen.",
            ),
        ),
    ),
)

MALMO_WORK_ROLES = (
    ("case_officer", "Handläggare"),
    ("introduction_secretary", "Introduktionssekreterare"),
    ("counsellor", "Kurator"),
    ("social_worker", "Socialsekreterare"),
    ("sfi_teacher", "Sfi-lärare"),
    ("employment_officer", "Arbetsförmedlare"),
    ("nurse", "Sjuksköterska"),
    ("psychologist", "Psykolog"),
    ("physician", "Läkare"),
    ("therapist", "Behandlare"),
    ("manager", "Chef"),
    ("project_lead", "Projektledare"),
    ("coordinator", "Samordnare"),
    ("lecturer", "Utbildare"),
)

MV, MS, AF, RS, RK, MAU = (o.name for o in MALMO_ORGANISATIONS)
MV_MOTT, MV_PROV = "Mottagningsenheten Malmö", "Prövningsenheten Malmö"
MS_PROG, MS_INTRO, MS_SOC, MS_SFI = (u.name for u in MALMO_ORGANISATIONS[1].units)
AF_ETAB = "Arbetsförmedlingen Malmö, etablering"
RS_PSYK, RS_TEAM = "Vuxenpsykiatrin Malmö", "Team för krigs- och tortyrskadade"
RK_BC = "Röda korsets behandlingscenter Malmö"
MAU_RUC = "Regionalt utvecklingscentrum"

P = DemoPerson
MALMO_PEOPLE = (
    # Programme management at Malmö stad
    P(
        "eva.lindgren",
        "Eva",
        "Lindgren",
        MS,
        MS_PROG,
        "Projektledare",
        "project_lead",
        (R.PROGRAMME_ADMIN, R.COORDINATOR, R.STAFF, R.LINE_MANAGER),
        login_note="programme admin",
    ),
    P(
        "johan.bergstrom",
        "Johan",
        "Bergström",
        MS,
        MS_PROG,
        "Samordnare för auskultation",
        "coordinator",
        (R.COORDINATOR, R.STAFF),
        manager="eva.lindgren",
        login_note="coordinator",
    ),
    # Migrationsverket
    P(
        "lars.pettersson",
        "Lars",
        "Pettersson",
        MV,
        MV_MOTT,
        "Enhetschef",
        "manager",
        (R.LINE_MANAGER, R.ORGANISATION_ADMIN, R.STAFF),
        login_note="line manager, organisation admin",
    ),
    P(
        "karin.nystrom",
        "Karin",
        "Nyström",
        MV,
        MV_MOTT,
        "Handläggare",
        "case_officer",
        (R.HOST_CONTACT, R.STAFF),
        manager="lars.pettersson",
        languages=("sv", "en", "fr"),
        login_note="host contact",
    ),
    P(
        "ahmed.karimi",
        "Ahmed",
        "Karimi",
        MV,
        MV_MOTT,
        "Handläggare",
        "case_officer",
        manager="lars.pettersson",
        languages=("sv", "en", "fa", "ar"),
    ),
    P(
        "sara.johansson",
        "Sara",
        "Johansson",
        MV,
        MV_MOTT,
        "Handläggare",
        "case_officer",
        manager="lars.pettersson",
    ),
    P(
        "birgitta.axelsson",
        "Birgitta",
        "Axelsson",
        MV,
        MV_PROV,
        "Enhetschef",
        "manager",
        (R.LINE_MANAGER, R.STAFF),
    ),
    P(
        "mikael.stromberg",
        "Mikael",
        "Strömberg",
        MV,
        MV_PROV,
        "Beslutsfattare",
        "case_officer",
        manager="birgitta.axelsson",
    ),
    P(
        "leila.haddad",
        "Leila",
        "Haddad",
        MV,
        MV_PROV,
        "Handläggare",
        "case_officer",
        manager="birgitta.axelsson",
        languages=("sv", "en", "ar"),
    ),
    # Malmö stad: introduction, social services, sfi
    P(
        "per.olsson",
        "Per",
        "Olsson",
        MS,
        MS_INTRO,
        "Enhetschef",
        "manager",
        (R.LINE_MANAGER, R.HOST_CONTACT, R.STAFF),
        login_note="line manager",
    ),
    P(
        "amina.hassan",
        "Amina",
        "Hassan",
        MS,
        MS_INTRO,
        "Introduktionssekreterare",
        "introduction_secretary",
        manager="per.olsson",
        languages=("sv", "en", "so", "ar"),
        login_note="staff member",
    ),
    P(
        "erik.sandberg",
        "Erik",
        "Sandberg",
        MS,
        MS_INTRO,
        "Introduktionssekreterare",
        "introduction_secretary",
        manager="per.olsson",
    ),
    P(
        "fatima.ali",
        "Fatima",
        "Ali",
        MS,
        MS_INTRO,
        "Introduktionssekreterare",
        "introduction_secretary",
        manager="per.olsson",
        languages=("sv", "ar", "en"),
    ),
    P(
        "anna.karlsson",
        "Anna",
        "Karlsson",
        MS,
        MS_SOC,
        "Sektionschef",
        "manager",
        (R.LINE_MANAGER, R.ORGANISATION_ADMIN, R.STAFF),
        login_note="organisation admin",
    ),
    P(
        "jonas.lindberg",
        "Jonas",
        "Lindberg",
        MS,
        MS_SOC,
        "Socialsekreterare",
        "social_worker",
        manager="anna.karlsson",
    ),
    P("helena.persson", "Helena", "Persson", MS, MS_SOC, "Kurator", "counsellor", manager="anna.karlsson"),
    P("goran.eriksson", "Göran", "Eriksson", MS, MS_SFI, "Rektor", "manager", (R.LINE_MANAGER, R.STAFF)),
    P("ingrid.holm", "Ingrid", "Holm", MS, MS_SFI, "Sfi-lärare", "sfi_teacher", manager="goran.eriksson"),
    P(
        "nadia.rahimi",
        "Nadia",
        "Rahimi",
        MS,
        MS_SFI,
        "Sfi-lärare",
        "sfi_teacher",
        manager="goran.eriksson",
        languages=("sv", "fa", "en"),
    ),
    # Arbetsförmedlingen
    P(
        "thomas.wikstrom",
        "Thomas",
        "Wikström",
        AF,
        AF_ETAB,
        "Sektionschef",
        "manager",
        (R.LINE_MANAGER, R.ORGANISATION_ADMIN, R.HOST_CONTACT, R.STAFF),
    ),
    P(
        "lina.bjork",
        "Lina",
        "Björk",
        AF,
        AF_ETAB,
        "Arbetsförmedlare",
        "employment_officer",
        (R.STAFF, R.FOCUS_GROUP_CONVENER),
        manager="thomas.wikstrom",
        login_note="focus-group convener",
    ),
    P(
        "omar.yusuf",
        "Omar",
        "Yusuf",
        AF,
        AF_ETAB,
        "Etableringshandläggare",
        "employment_officer",
        manager="thomas.wikstrom",
        languages=("sv", "so", "en"),
    ),
    P(
        "camilla.ek",
        "Camilla",
        "Ek",
        AF,
        AF_ETAB,
        "Arbetsförmedlare",
        "employment_officer",
        manager="thomas.wikstrom",
    ),
    # Region Skåne
    P(
        "margareta.lund",
        "Margareta",
        "Lund",
        RS,
        RS_PSYK,
        "Verksamhetschef",
        "manager",
        (R.LINE_MANAGER, R.ORGANISATION_ADMIN, R.HOST_CONTACT, R.STAFF),
    ),
    P("stefan.blom", "Stefan", "Blom", RS, RS_PSYK, "Sjuksköterska", "nurse", manager="margareta.lund"),
    P(
        "maria.forsberg",
        "Maria",
        "Forsberg",
        RS,
        RS_PSYK,
        "Kurator",
        "counsellor",
        (R.STAFF, R.FOCUS_GROUP_CONVENER),
        manager="margareta.lund",
    ),
    P(
        "jan.hedlund",
        "Jan",
        "Hedlund",
        RS,
        RS_TEAM,
        "Teamledare, överläkare",
        "physician",
        (R.LINE_MANAGER, R.COURSE_PROVIDER, R.STAFF),
    ),
    P(
        "elin.sjoberg",
        "Elin",
        "Sjöberg",
        RS,
        RS_TEAM,
        "Psykolog",
        "psychologist",
        (R.STAFF, R.COURSE_PROVIDER),
        manager="jan.hedlund",
    ),
    # Röda korset
    P(
        "ulla.magnusson",
        "Ulla",
        "Magnusson",
        RK,
        RK_BC,
        "Verksamhetschef",
        "manager",
        (R.LINE_MANAGER, R.ORGANISATION_ADMIN, R.HOST_CONTACT, R.STAFF),
    ),
    P(
        "sofia.ek",
        "Sofia",
        "Ek",
        RK,
        RK_BC,
        "Psykoterapeut",
        "therapist",
        (R.STAFF, R.COURSE_PROVIDER),
        manager="ulla.magnusson",
        languages=("sv", "en", "es"),
        login_note="course provider",
    ),
    P("daniel.nord", "Daniel", "Nord", RK, RK_BC, "Kurator", "counsellor", manager="ulla.magnusson"),
    # Malmö universitet
    P(
        "kristina.falk",
        "Kristina",
        "Falk",
        MAU,
        MAU_RUC,
        "Föreståndare",
        "manager",
        (R.LINE_MANAGER, R.COURSE_PROVIDER, R.STAFF),
    ),
    P(
        "peter.lindqvist",
        "Peter",
        "Lindqvist",
        MAU,
        MAU_RUC,
        "Universitetsadjunkt",
        "lecturer",
        (R.STAFF, R.COURSE_PROVIDER),
        manager="kristina.falk",
    ),
)

COPENHAGEN_ORGANISATIONS = (
    DemoOrganisation(
        "Københavns Kommune, Jobcenter København",
        "Jobcenter KK",
        K.MUNICIPALITY,
        "https://www.kk.dk",
        (DemoUnit("Jobcenter København, Integration", "Gyldenløvesgade 15", "1600", "København V"),),
    ),
    DemoOrganisation(
        "Kriminalforsorgen",
        "KRIM",
        K.STATE_AGENCY,
        "https://www.kriminalforsorgen.dk",
        (DemoUnit("Kriminalforsorgen i Frihed, København", "Vesterbrogade 33", "1620", "København V"),),
    ),
)
COPENHAGEN_WORK_ROLES = (
    ("job_consultant", "Jobkonsulent"),
    ("probation_officer", "Tilsynsførende"),
    ("manager", "Leder"),
)
JC = COPENHAGEN_ORGANISATIONS[0].name
KR = COPENHAGEN_ORGANISATIONS[1].name
COPENHAGEN_PEOPLE = (
    P(
        "mette.sorensen",
        "Mette",
        "Sørensen",
        JC,
        "Jobcenter København, Integration",
        "Udviklingskonsulent",
        "manager",
        (R.PROGRAMME_ADMIN, R.COORDINATOR, R.LINE_MANAGER, R.STAFF),
        languages=("da", "en"),
        login_note="other programme (Danish): isolation",
    ),
    P(
        "lars.nielsen",
        "Lars",
        "Nielsen",
        JC,
        "Jobcenter København, Integration",
        "Jobkonsulent",
        "job_consultant",
        manager="mette.sorensen",
        languages=("da", "en"),
    ),
    P(
        "anne.kristensen",
        "Anne",
        "Kristensen",
        KR,
        "Kriminalforsorgen i Frihed, København",
        "Tilsynsførende",
        "probation_officer",
        (R.STAFF, R.LINE_MANAGER),
        languages=("da", "en"),
    ),
    P(
        "soren.madsen",
        "Søren",
        "Madsen",
        KR,
        "Kriminalforsorgen i Frihed, København",
        "Tilsynsførende",
        "probation_officer",
        manager="anne.kristensen",
        languages=("da",),
    ),
)


def _email(person: DemoPerson, organisation: DemoOrganisation) -> str:
    domain = organisation.short_name.lower().replace(" ", "").replace("ö", "o").replace("ø", "o")
    local = person.username.replace("ö", "o").replace("ø", "o")
    return f"{local}@{domain}.example"


def _update(instance: object, **values: object) -> None:
    """Set values and save only what differs, so that a second run writes nothing."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    if changed:
        instance.save(update_fields=changed)  # type: ignore[attr-defined]


def _programme(slug: str, **values: object) -> Programme:
    programme, created = Programme.unscoped_objects.get_or_create(slug=slug, defaults=values)
    if not created:
        _update(programme, **values)
    return programme


def _organisations(programme: Programme, specs: tuple[DemoOrganisation, ...]) -> dict[str, Organisation]:
    found: dict[str, Organisation] = {}
    for spec in specs:
        organisation, created = Organisation.unscoped_objects.get_or_create(
            name=spec.name,
            defaults={"short_name": spec.short_name, "kind": spec.kind, "website": spec.website},
        )
        Participation.unscoped_objects.get_or_create(programme=programme, organisation=organisation)
        for unit_spec in spec.units:
            unit, _created = Unit.unscoped_objects.get_or_create(
                organisation=organisation, name=unit_spec.name
            )
            _update(
                unit,
                street_address=unit_spec.street,
                postal_code=unit_spec.postal_code,
                city=unit_spec.city,
                description=unit_spec.description,
            )
        found[spec.name] = organisation
    return found


def _people(
    programme: Programme,
    organisations: dict[str, Organisation],
    specs: tuple[DemoPerson, ...],
    work_roles: tuple[tuple[str, str], ...],
    org_specs: tuple[DemoOrganisation, ...],
) -> list[tuple[str, str]]:
    roles_by_code = {}
    for code, name in work_roles:
        role, _created = WorkRole.unscoped_objects.get_or_create(
            programme=programme, code=code, defaults={"name": name}
        )
        _update(role, name=name)
        roles_by_code[code] = role
    org_spec = {o.name: o for o in org_specs}
    people: dict[str, Person] = {}
    logins: list[tuple[str, str]] = []
    for spec in specs:
        organisation = organisations[spec.organisation]
        user, created = User.objects.get_or_create(username=spec.username)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        _update(
            user,
            first_name=spec.first_name,
            last_name=spec.last_name,
            email=_email(spec, org_spec[spec.organisation]),
        )
        unit = Unit.unscoped_objects.get(organisation=organisation, name=spec.unit)
        person = Person.unscoped_objects.filter(user=user).first()
        if person is None:
            person = Person.unscoped_objects.create(user=user, organisation=organisation)
        manager = people.get(spec.manager) if spec.manager else None
        _update(
            person,
            organisation=organisation,
            unit=unit,
            job_title=spec.job_title,
            line_manager=manager,
            languages=list(spec.languages),
        )
        people[spec.username] = person
        membership, _created = Membership.unscoped_objects.get_or_create(programme=programme, person=person)
        _update(membership, work_role=roles_by_code[spec.work_role], is_active=True)
        existing = set(
            RoleAssignment.unscoped_objects.filter(membership=membership).values_list("role", flat=True)
        )
        RoleAssignment.unscoped_objects.filter(membership=membership).exclude(role__in=spec.roles).delete()
        RoleAssignment.unscoped_objects.bulk_create(
            [RoleAssignment(membership=membership, role=r) for r in sorted(set(spec.roles) - existing)]
        )
        if spec.login_note:
            logins.append(
                (
                    spec.username,
                    f"{spec.first_name} {spec.last_name}, {spec.job_title} "
                    f"({organisation.short_name}) – {spec.login_note}",
                )
            )
    return logins


def seed_organisations() -> list[tuple[str, str]]:
    malmo = _programme(
        MALMO_SLUG,
        name="Lokalt kompetensutvecklingsprogram Malmö",
        description=(
            "Gemensam, organisationsöverskridande kompetensutveckling för personal som möter asylsökande "
            "och nyanlända i Malmö: Migrationsverket, Malmö stad, Arbetsförmedlingen, Region Skåne och "
            "Röda korset, med Malmö universitet som utbildningsanordnare."
        ),
        time_zone="Europe/Stockholm",
        language="sv",
        coordinator_email="samverkan@malmo.example",
    )
    for name, share in (
        ("Malmö stad", Decimal("75.00")),
        ("Equal (Europeiska socialfonden)", Decimal("25.00")),
    ):
        funder, _created = Funder.unscoped_objects.get_or_create(
            programme=malmo, name=name, defaults={"share_percent": share}
        )
        _update(funder, share_percent=share)
    organisations = _organisations(malmo, MALMO_ORGANISATIONS)
    logins = _people(malmo, organisations, MALMO_PEOPLE, MALMO_WORK_ROLES, MALMO_ORGANISATIONS)

    copenhagen = _programme(
        COPENHAGEN_SLUG,
        name="Kompetenceløft på tværs – København",
        description="Fælles kompetenceudvikling for jobcentre og Kriminalforsorgen i København.",
        time_zone="Europe/Copenhagen",
        language="da",
        coordinator_email="kompetence@kk.example",
    )
    funder, _created = Funder.unscoped_objects.get_or_create(
        programme=copenhagen, name="Københavns Kommune", defaults={"share_percent": Decimal("100.00")}
    )
    cph_organisations = _organisations(copenhagen, COPENHAGEN_ORGANISATIONS)
    logins += _people(
        copenhagen, cph_organisations, COPENHAGEN_PEOPLE, COPENHAGEN_WORK_ROLES, COPENHAGEN_ORGANISATIONS
    )
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
