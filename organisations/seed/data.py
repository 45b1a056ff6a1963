"""The demo programmes as plain tables: Malmö's local competence development programme and a small Danish one.

Every person and organisation here is fictitious except the agencies themselves. A person names their unit
(unit names are unique across the demo), their line manager by username (listed before them) and their work
role by code. ``organisations.seed.loader`` turns these tables into rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from organisations.models import OrganisationKind, PlatformRole

DEMO_PASSWORD = "samverkan-demo"
MALMO_SLUG = "malmo"
COPENHAGEN_SLUG = "kobenhavn"


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
class DemoWorkRole:
    code: str
    name: str


@dataclass(frozen=True)
class DemoFunder:
    name: str
    share_percent: Decimal


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    unit: str
    job_title: str
    work_role: str
    roles: tuple[str, ...] = (PlatformRole.STAFF,)
    manager: str = ""
    languages: tuple[str, ...] = ("sv", "en")
    login_note: str = ""


@dataclass(frozen=True)
class DemoProgramme:
    slug: str
    name: str
    description: str
    time_zone: str
    country: str
    language: str
    coordinator_email: str
    funders: tuple[DemoFunder, ...]
    work_roles: tuple[DemoWorkRole, ...]
    organisations: tuple[DemoOrganisation, ...]
    people: tuple[DemoPerson, ...]


# Platform roles, combined as the demo people hold them.
STAFF = PlatformRole.STAFF
LINE_MANAGER = PlatformRole.LINE_MANAGER
ORGANISATION_ADMIN = PlatformRole.ORGANISATION_ADMIN
HOST_CONTACT = PlatformRole.HOST_CONTACT
COORDINATOR = PlatformRole.COORDINATOR
PROGRAMME_ADMIN = PlatformRole.PROGRAMME_ADMIN
COURSE_PROVIDER = PlatformRole.COURSE_PROVIDER
FOCUS_GROUP_CONVENER = PlatformRole.FOCUS_GROUP_CONVENER

# Malmö's units.
RECEPTION_MALMO = "Mottagningsenheten Malmö"
ASYLUM_DECISIONS_MALMO = "Prövningsenheten Malmö"
PROGRAMME_OFFICE = "Stadskontoret – kompetensutvecklingsprogrammet"
INTRODUCTION_ROSENGARD = "Introduktionsverksamheten Rosengård"
SOCIAL_SERVICES_INNER_CITY = "Socialtjänsten Södra Innerstaden"
SFI_MALMO = "Sfi Malmö (Komvux)"
EMPLOYMENT_ESTABLISHMENT = "Arbetsförmedlingen Malmö, etablering"
ADULT_PSYCHIATRY = "Vuxenpsykiatrin Malmö"
TRAUMA_TEAM = "Team för krigs- och tortyrskadade"
RED_CROSS_TREATMENT_CENTRE = "Röda korsets behandlingscenter Malmö"
REGIONAL_DEVELOPMENT_CENTRE = "Regionalt utvecklingscentrum"

# Copenhagen's units.
JOBCENTRE_INTEGRATION = "Jobcenter København, Integration"
PROBATION_COPENHAGEN = "Kriminalforsorgen i Frihed, København"

MALMO_ORGANISATIONS = (
    DemoOrganisation(
        "Migrationsverket",
        "MV",
        OrganisationKind.STATE_AGENCY,
        "https://www.migrationsverket.se",
        (
            DemoUnit(
                RECEPTION_MALMO,
                "Jägersrovägen 160",
                "212 37",
                "Malmö",
                "Tar emot asylsökande, ger information om asylprocessen och ordnar boende och dagersättning.",
            ),
            DemoUnit(
                ASYLUM_DECISIONS_MALMO,
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
        OrganisationKind.MUNICIPALITY,
        "https://malmo.se",
        (
            DemoUnit(
                PROGRAMME_OFFICE,
                "August Palms plats 1",
                "205 80",
                "Malmö",
                "Projektledning och samordning av det lokala kompetensutvecklingsprogrammet.",
            ),
            DemoUnit(
                INTRODUCTION_ROSENGARD,
                "Amiralsgatan 111",
                "214 37",
                "Malmö",
                "Introduktion för nyanlända flyktingar: etableringsplan, bostad, kontakter med sfi och "
                "Arbetsförmedlingen.",
            ),
            DemoUnit(SOCIAL_SERVICES_INNER_CITY, "Bergsgatan 20", "214 22", "Malmö"),
            DemoUnit(SFI_MALMO, "Kärleksgatan 2", "211 45", "Malmö", "Svenskundervisning för invandrare."),
        ),
    ),
    DemoOrganisation(
        "Arbetsförmedlingen",
        "AF",
        OrganisationKind.EMPLOYMENT_SERVICE,
        "https://arbetsformedlingen.se",
        (
            DemoUnit(
                EMPLOYMENT_ESTABLISHMENT,
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
        OrganisationKind.REGION,
        "https://www.skane.se",
        (
            DemoUnit(ADULT_PSYCHIATRY, "Carl Bertil Laurells gata 9", "205 02", "Malmö"),
            DemoUnit(
                TRAUMA_TEAM,
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
        OrganisationKind.NGO,
        "https://www.rodakorset.se",
        (
            DemoUnit(
                RED_CROSS_TREATMENT_CENTRE,
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
        OrganisationKind.UNIVERSITY,
        "https://mau.se",
        (
            DemoUnit(
                REGIONAL_DEVELOPMENT_CENTRE,
                "Nordenskiöldsgatan 10",
                "211 19",
                "Malmö",
                "Kompetensutveckling för verksamheter i regionen.",
            ),
        ),
    ),
)

MALMO_WORK_ROLES = (
    DemoWorkRole("case_officer", "Handläggare"),
    DemoWorkRole("introduction_secretary", "Introduktionssekreterare"),
    DemoWorkRole("counsellor", "Kurator"),
    DemoWorkRole("social_worker", "Socialsekreterare"),
    DemoWorkRole("sfi_teacher", "Sfi-lärare"),
    DemoWorkRole("employment_officer", "Arbetsförmedlare"),
    DemoWorkRole("nurse", "Sjuksköterska"),
    DemoWorkRole("psychologist", "Psykolog"),
    DemoWorkRole("physician", "Läkare"),
    DemoWorkRole("therapist", "Behandlare"),
    DemoWorkRole("manager", "Chef"),
    DemoWorkRole("project_lead", "Projektledare"),
    DemoWorkRole("coordinator", "Samordnare"),
    DemoWorkRole("lecturer", "Utbildare"),
)

# In creation order: a line manager comes before the people they manage. Kept as a compact table (one
# person per few lines) rather than one field per line, which is how the formatter would lay it out.
# fmt: off
MALMO_PEOPLE = (
    # Programme management at Malmö stad
    DemoPerson(
        "eva.lindgren", "Eva", "Lindgren", PROGRAMME_OFFICE, "Projektledare", "project_lead",
        roles=(PROGRAMME_ADMIN, COORDINATOR, STAFF, LINE_MANAGER),
        login_note="programme admin",
    ),
    DemoPerson(
        "johan.bergstrom", "Johan", "Bergström", PROGRAMME_OFFICE, "Samordnare för auskultation",
        "coordinator",
        roles=(COORDINATOR, STAFF), manager="eva.lindgren", login_note="coordinator",
    ),
    # Migrationsverket
    DemoPerson(
        "lars.pettersson", "Lars", "Pettersson", RECEPTION_MALMO, "Enhetschef", "manager",
        roles=(LINE_MANAGER, ORGANISATION_ADMIN, STAFF, PlatformRole.STEERING_GROUP),
        login_note="line manager, organisation admin, steering group",
    ),
    DemoPerson(
        "karin.nystrom", "Karin", "Nyström", RECEPTION_MALMO, "Handläggare", "case_officer",
        roles=(HOST_CONTACT, STAFF), manager="lars.pettersson", languages=("sv", "en", "fr"),
        login_note="host contact",
    ),
    DemoPerson(
        "ahmed.karimi", "Ahmed", "Karimi", RECEPTION_MALMO, "Handläggare", "case_officer",
        manager="lars.pettersson", languages=("sv", "en", "fa", "ar"),
    ),
    DemoPerson(
        "sara.johansson", "Sara", "Johansson", RECEPTION_MALMO, "Handläggare", "case_officer",
        manager="lars.pettersson",
    ),
    DemoPerson(
        "birgitta.axelsson", "Birgitta", "Axelsson", ASYLUM_DECISIONS_MALMO, "Enhetschef", "manager",
        roles=(LINE_MANAGER, STAFF),
    ),
    DemoPerson(
        "mikael.stromberg", "Mikael", "Strömberg", ASYLUM_DECISIONS_MALMO, "Beslutsfattare", "case_officer",
        manager="birgitta.axelsson",
    ),
    DemoPerson(
        "leila.haddad", "Leila", "Haddad", ASYLUM_DECISIONS_MALMO, "Handläggare", "case_officer",
        manager="birgitta.axelsson", languages=("sv", "en", "ar"),
    ),
    # Malmö stad: introduction, social services, sfi
    DemoPerson(
        "per.olsson", "Per", "Olsson", INTRODUCTION_ROSENGARD, "Enhetschef", "manager",
        roles=(LINE_MANAGER, HOST_CONTACT, STAFF), login_note="line manager",
    ),
    DemoPerson(
        "amina.hassan", "Amina", "Hassan", INTRODUCTION_ROSENGARD, "Introduktionssekreterare",
        "introduction_secretary", manager="per.olsson", languages=("sv", "en", "so", "ar"),
        login_note="staff member",
    ),
    DemoPerson(
        "erik.sandberg", "Erik", "Sandberg", INTRODUCTION_ROSENGARD, "Introduktionssekreterare",
        "introduction_secretary", manager="per.olsson",
    ),
    DemoPerson(
        "fatima.ali", "Fatima", "Ali", INTRODUCTION_ROSENGARD, "Introduktionssekreterare",
        "introduction_secretary", manager="per.olsson", languages=("sv", "ar", "en"),
    ),
    DemoPerson(
        "anna.karlsson", "Anna", "Karlsson", SOCIAL_SERVICES_INNER_CITY, "Sektionschef", "manager",
        roles=(LINE_MANAGER, ORGANISATION_ADMIN, STAFF), login_note="organisation admin",
    ),
    DemoPerson(
        "jonas.lindberg", "Jonas", "Lindberg", SOCIAL_SERVICES_INNER_CITY, "Socialsekreterare",
        "social_worker",
        manager="anna.karlsson",
    ),
    DemoPerson(
        "helena.persson", "Helena", "Persson", SOCIAL_SERVICES_INNER_CITY, "Kurator", "counsellor",
        manager="anna.karlsson",
    ),
    DemoPerson(
        "goran.eriksson", "Göran", "Eriksson", SFI_MALMO, "Rektor", "manager", roles=(LINE_MANAGER, STAFF),
    ),
    DemoPerson(
        "ingrid.holm", "Ingrid", "Holm", SFI_MALMO, "Sfi-lärare", "sfi_teacher", manager="goran.eriksson",
    ),
    DemoPerson(
        "nadia.rahimi", "Nadia", "Rahimi", SFI_MALMO, "Sfi-lärare", "sfi_teacher",
        manager="goran.eriksson", languages=("sv", "fa", "en"),
    ),
    # Arbetsförmedlingen
    DemoPerson(
        "thomas.wikstrom", "Thomas", "Wikström", EMPLOYMENT_ESTABLISHMENT, "Sektionschef", "manager",
        roles=(LINE_MANAGER, ORGANISATION_ADMIN, HOST_CONTACT, STAFF),
    ),
    DemoPerson(
        "lina.bjork", "Lina", "Björk", EMPLOYMENT_ESTABLISHMENT, "Arbetsförmedlare", "employment_officer",
        roles=(STAFF, FOCUS_GROUP_CONVENER), manager="thomas.wikstrom", login_note="focus-group convener",
    ),
    DemoPerson(
        "omar.yusuf", "Omar", "Yusuf", EMPLOYMENT_ESTABLISHMENT, "Etableringshandläggare",
        "employment_officer",
        manager="thomas.wikstrom", languages=("sv", "so", "en"),
    ),
    DemoPerson(
        "camilla.ek", "Camilla", "Ek", EMPLOYMENT_ESTABLISHMENT, "Arbetsförmedlare", "employment_officer",
        manager="thomas.wikstrom",
    ),
    # Region Skåne
    DemoPerson(
        "margareta.lund", "Margareta", "Lund", ADULT_PSYCHIATRY, "Verksamhetschef", "manager",
        roles=(LINE_MANAGER, ORGANISATION_ADMIN, HOST_CONTACT, STAFF),
    ),
    DemoPerson(
        "stefan.blom", "Stefan", "Blom", ADULT_PSYCHIATRY, "Sjuksköterska", "nurse", manager="margareta.lund",
    ),
    DemoPerson(
        "maria.forsberg", "Maria", "Forsberg", ADULT_PSYCHIATRY, "Kurator", "counsellor",
        roles=(STAFF, FOCUS_GROUP_CONVENER), manager="margareta.lund",
    ),
    DemoPerson(
        "jan.hedlund", "Jan", "Hedlund", TRAUMA_TEAM, "Teamledare, överläkare", "physician",
        roles=(LINE_MANAGER, COURSE_PROVIDER, STAFF),
    ),
    DemoPerson(
        "elin.sjoberg", "Elin", "Sjöberg", TRAUMA_TEAM, "Psykolog", "psychologist",
        roles=(STAFF, COURSE_PROVIDER), manager="jan.hedlund",
    ),
    # Röda korset
    DemoPerson(
        "ulla.magnusson", "Ulla", "Magnusson", RED_CROSS_TREATMENT_CENTRE, "Verksamhetschef", "manager",
        roles=(LINE_MANAGER, ORGANISATION_ADMIN, HOST_CONTACT, STAFF),
    ),
    DemoPerson(
        "sofia.ek", "Sofia", "Ek", RED_CROSS_TREATMENT_CENTRE, "Psykoterapeut", "therapist",
        roles=(STAFF, COURSE_PROVIDER), manager="ulla.magnusson", languages=("sv", "en", "es"),
        login_note="course provider",
    ),
    DemoPerson(
        "daniel.nord", "Daniel", "Nord", RED_CROSS_TREATMENT_CENTRE, "Kurator", "counsellor",
        manager="ulla.magnusson",
    ),
    # Malmö universitet
    DemoPerson(
        "kristina.falk", "Kristina", "Falk", REGIONAL_DEVELOPMENT_CENTRE, "Föreståndare", "manager",
        roles=(LINE_MANAGER, COURSE_PROVIDER, STAFF),
    ),
    DemoPerson(
        "peter.lindqvist", "Peter", "Lindqvist", REGIONAL_DEVELOPMENT_CENTRE, "Universitetsadjunkt",
        "lecturer",
        roles=(STAFF, COURSE_PROVIDER), manager="kristina.falk",
    ),
)
# fmt: on

COPENHAGEN_ORGANISATIONS = (
    DemoOrganisation(
        "Københavns Kommune, Jobcenter København",
        "Jobcenter KK",
        OrganisationKind.MUNICIPALITY,
        "https://www.kk.dk",
        (DemoUnit(JOBCENTRE_INTEGRATION, "Gyldenløvesgade 15", "1600", "København V"),),
    ),
    DemoOrganisation(
        "Kriminalforsorgen",
        "KRIM",
        OrganisationKind.STATE_AGENCY,
        "https://www.kriminalforsorgen.dk",
        (DemoUnit(PROBATION_COPENHAGEN, "Vesterbrogade 33", "1620", "København V"),),
    ),
)

COPENHAGEN_WORK_ROLES = (
    DemoWorkRole("job_consultant", "Jobkonsulent"),
    DemoWorkRole("probation_officer", "Tilsynsførende"),
    DemoWorkRole("manager", "Leder"),
)

# fmt: off
COPENHAGEN_PEOPLE = (
    DemoPerson(
        "mette.sorensen", "Mette", "Sørensen", JOBCENTRE_INTEGRATION, "Udviklingskonsulent", "manager",
        roles=(PROGRAMME_ADMIN, COORDINATOR, LINE_MANAGER, STAFF), languages=("da", "en"),
        login_note="other programme (Danish): isolation",
    ),
    DemoPerson(
        "lars.nielsen", "Lars", "Nielsen", JOBCENTRE_INTEGRATION, "Jobkonsulent", "job_consultant",
        manager="mette.sorensen", languages=("da", "en"),
    ),
    DemoPerson(
        "anne.kristensen", "Anne", "Kristensen", PROBATION_COPENHAGEN, "Tilsynsførende", "probation_officer",
        roles=(STAFF, LINE_MANAGER), languages=("da", "en"),
    ),
    DemoPerson(
        "soren.madsen", "Søren", "Madsen", PROBATION_COPENHAGEN, "Tilsynsførende", "probation_officer",
        manager="anne.kristensen", languages=("da",),
    ),
)
# fmt: on

MALMO = DemoProgramme(
    slug=MALMO_SLUG,
    name="Lokalt kompetensutvecklingsprogram Malmö",
    description=(
        "Gemensam, organisationsöverskridande kompetensutveckling för personal som möter asylsökande "
        "och nyanlända i Malmö: Migrationsverket, Malmö stad, Arbetsförmedlingen, Region Skåne och "
        "Röda korset, med Malmö universitet som utbildningsanordnare."
    ),
    time_zone="Europe/Stockholm",
    country="SE",
    language="sv",
    coordinator_email="samverkan@malmo.example",
    funders=(
        DemoFunder("Malmö stad", Decimal("75.00")),
        DemoFunder("Equal (Europeiska socialfonden)", Decimal("25.00")),
    ),
    work_roles=MALMO_WORK_ROLES,
    organisations=MALMO_ORGANISATIONS,
    people=MALMO_PEOPLE,
)

COPENHAGEN = DemoProgramme(
    slug=COPENHAGEN_SLUG,
    name="Kompetenceløft på tværs – København",
    description="Fælles kompetenceudvikling for jobcentre og Kriminalforsorgen i København.",
    time_zone="Europe/Copenhagen",
    country="DK",
    language="da",
    coordinator_email="kompetence@kk.example",
    funders=(DemoFunder("Københavns Kommune", Decimal("100.00")),),
    work_roles=COPENHAGEN_WORK_ROLES,
    organisations=COPENHAGEN_ORGANISATIONS,
    people=COPENHAGEN_PEOPLE,
)

DEMO_PROGRAMMES = (MALMO, COPENHAGEN)
