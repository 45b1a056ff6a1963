"""Demo data of the joint courses in Malmö's programme (DOMAIN.md, seed 001), in Swedish, as plain tables.

- **PTSD course** (one day), given by the Red Cross treatment centre, the team for war- and torture-injured
  and psychiatry in Malmö: two past rounds with 65 participants in all, and one open round.
- **Its advanced part** (conversational treatment and assessment methodology), for introduction
  secretaries, counsellors and Migrationsverket case officers first: 45 have completed it in two past rounds;
  a third round is full with a waiting list (a seat is offered to Amina Hassan).
- **Mapping-methodology course** with Malmö University's regional development centre: four full days, a
  quota for each of the three agencies (Migrationsverket, Malmö stad's introduction services,
  Arbetsförmedlingen), line-manager approval (Erik Sandberg's request waits for Per Olsson).
- **Kick-off "Kockumsdagarna"**: two seminar days for 100 people from six organisations, in mixed discussion
  groups formed by ``seminars.grouping``.
- Costs of the rounds; the programme's funders (Malmö stad 75 %, Equal 25 %) come from the organisations app.

The programme's ~35 demo people are too few for these figures, so fictitious participants with Swedish
names are added as members of the Malmö programme (``COHORTS``). Who is enrolled where is chosen by named
groups of people (``EnrolmentBatch.people``), which ``seminars.seed.loader`` picks from the programme's
members. Times are ``Moment``s relative to the day of the first run or to a round's first day.
"""

from __future__ import annotations

from dataclasses import dataclass

from seminars.models import Completion, Course, Enrolment, Round, RoundCost

MV, MS, AF, RS, RK, MAU = (
    "Migrationsverket",
    "Malmö stad",
    "Arbetsförmedlingen",
    "Region Skåne",
    "Röda korset",
    "Malmö universitet",
)

# --- Extra participants ---------------------------------------------------------------------------------

FIRST_NAMES = tuple(
    """
    Maria Anna Karin Lena Kerstin Emma Johanna Malin Linda Jenny Hanna Sofie Ida Louise Therese Frida
    Annika Susanne Cecilia Jessica Monica Åsa Ulrika Petra Marie Yasmin Leyla Amira Noor Hiba Dalia
    Zeynep Mirela Jelena Aida Lars Anders Johan Mikael Fredrik Daniel Magnus Peter Andreas Niklas Patrik
    Martin Henrik Mattias Tobias Joakim Oskar Gustav Viktor Simon Kristoffer Sebastian Emil Alexander
    Björn Ola Samir Ali Mohammed Yousef Karim Hamid Reza Emir Dragan Tomas Ibrahim Nils Axel Hugo Elsa
    Klara Linnea Matilda Rasmus Jesper Leo Amanda Sanna
    """.split()
)
LAST_NAMES = tuple(
    """
    Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson Pettersson
    Jonsson Jansson Hansson Bengtsson Jönsson Lindberg Jakobsson Magnusson Lindström Olofsson Lindqvist
    Lindgren Axelsson Berg Bergström Lundberg Lind Lundgren Lundqvist Mattsson Berglund Fredriksson
    Sandberg Henriksson Mohammadi Hosseini Abdi Demir Jovanović Hodžić Nguyen
    """.split()
)


@dataclass(frozen=True)
class Cohort:
    """Extra staff of one unit: how many, their role at work and job title, and their line manager."""

    organisation: str
    unit: str
    work_role: str
    job_title: str
    count: int
    manager: str


COHORTS = (
    Cohort(MV, "Mottagningsenheten Malmö", "case_officer", "Handläggare", 9, "lars.pettersson"),
    Cohort(MV, "Prövningsenheten Malmö", "case_officer", "Handläggare", 7, "birgitta.axelsson"),
    Cohort(
        MS,
        "Introduktionsverksamheten Rosengård",
        "introduction_secretary",
        "Introduktionssekreterare",
        12,
        "per.olsson",
    ),
    Cohort(MS, "Socialtjänsten Södra Innerstaden", "social_worker", "Socialsekreterare", 7, "anna.karlsson"),
    Cohort(MS, "Socialtjänsten Södra Innerstaden", "counsellor", "Kurator", 3, "anna.karlsson"),
    Cohort(MS, "Sfi Malmö (Komvux)", "sfi_teacher", "Sfi-lärare", 6, "goran.eriksson"),
    Cohort(
        AF,
        "Arbetsförmedlingen Malmö, etablering",
        "employment_officer",
        "Arbetsförmedlare",
        14,
        "thomas.wikstrom",
    ),
    Cohort(RS, "Vuxenpsykiatrin Malmö", "nurse", "Sjuksköterska", 5, "margareta.lund"),
    Cohort(RS, "Vuxenpsykiatrin Malmö", "counsellor", "Kurator", 4, "margareta.lund"),
    Cohort(RS, "Team för krigs- och tortyrskadade", "psychologist", "Psykolog", 3, "jan.hedlund"),
    Cohort(RK, "Röda korsets behandlingscenter Malmö", "counsellor", "Kurator", 4, "ulla.magnusson"),
    Cohort(RK, "Röda korsets behandlingscenter Malmö", "therapist", "Behandlare", 4, "ulla.magnusson"),
    Cohort(MAU, "Regionalt utvecklingscentrum", "lecturer", "Utbildningssamordnare", 6, "kristina.falk"),
)


@dataclass(frozen=True)
class Moment:
    """A time of day ``days`` after an anchor: ``"today"`` (the day of the first run) or ``"first"`` (the
    round's first day), at ``hour`` in Stockholm."""

    anchor: str
    days: int
    hour: int


@dataclass(frozen=True)
class CourseSpec:
    key: str
    title: str
    providers: tuple[str, ...]
    description: str
    completion_rule: str
    attendance_required_percent: int = 100
    prerequisites: tuple[str, ...] = ()  # course keys
    target_roles: tuple[str, ...] = ()  # work-role codes


@dataclass(frozen=True)
class QuotaSpec:
    organisation: str
    reserved: int
    maximum: int | None


@dataclass(frozen=True)
class CostSpec:
    kind: str
    amount: str
    note: str
    by: str  # username of who recorded it


@dataclass(frozen=True)
class RoundSpec:
    """A round whose sessions run 9–16 on its days: the Tuesday on or after ``first_day`` days from today,
    then ``day_steps`` days after that."""

    course: str
    label: str
    first_day: int
    place: str
    day_steps: tuple[int, ...] = (0,)
    capacity: int = 30
    registration_opens: Moment = Moment("first", -60, 9)
    registration_closes: Moment = Moment("first", -10, 9)
    cancellation_deadline: Moment = Moment("first", -7, 9)
    reserved_seats_release: Moment | None = None
    target_role_mode: str = Round.TargetRoleMode.PRIORITY
    requires_manager_approval: bool = False
    information: str = ""
    quotas: tuple[QuotaSpec, ...] = ()  # created with the round only
    costs: tuple[CostSpec, ...] = ()  # recorded once
    group_size: int | None = None  # discussion groups of the confirmed participants, formed once


@dataclass(frozen=True)
class EnrolmentBatch:
    """People of a named group (``people[start:stop]``) on a round, requested from ``requested`` on, one
    every ``spacing_minutes``; with ``completed`` their attendance and completion are recorded by
    ``recorded_by``."""

    course: str
    label: str
    people: str
    status: str
    requested: Moment
    start: int = 0
    stop: int | None = None
    spacing_minutes: int = 7
    priority: int = 0
    target_roles_first: bool = False  # priority 1 for the course's target roles only
    approval: str = Enrolment.Approval.NOT_REQUIRED
    approval_decided: Moment | None = None
    motivation: str = ""
    offer_hold_hours: int | None = None  # an offer made at the time of seeding, held this long
    completed: str = ""  # the completion method, once the round is over
    recorded_by: str = ""


PTSD_PLACE = "Röda korsets behandlingscenter, Fredsgatan 3, 211 45 Malmö"
ADVANCED_ROLES = ("introduction_secretary", "counsellor", "case_officer")

COURSES = (
    CourseSpec(
        "ptsd",
        "PTSD – att möta människor med traumatiska upplevelser",
        (RK, RS),
        "En dag för alla som i sitt arbete möter människor med traumatiska erfarenheter: hur trauma och "
        "PTSD yttrar sig, hur man bemöter och när man hänvisar vidare. Ges av Röda korsets "
        "behandlingscenter, Team för krigs- och tortyrskadade och psykiatrin i Malmö.",
        Course.CompletionRule.ATTENDANCE,
    ),
    CourseSpec(
        "advanced",
        "PTSD fördjupning – samtalsbehandling och bedömningsmetodik",
        (RK, RS),
        "Fördjupningsdelen efter PTSD-dagen: samtalsbehandling och bedömningsmetodik. Riktar sig främst "
        "till introduktionssekreterare, kuratorer och handläggare på Migrationsverket. Avslutas med en "
        "bedömningsuppgift.",
        Course.CompletionRule.ASSESSMENT,
        prerequisites=("ptsd",),
        target_roles=ADVANCED_ROLES,
    ),
    CourseSpec(
        "mapping",
        "Kartläggningsmetodik – gemensam syn på kartläggning och handlingsplan",
        (MAU,),
        "Fyra heldagar, framtagna tillsammans med Malmö universitets regionala utvecklingscentrum. Målet "
        "är att handläggare på Migrationsverket, introduktionsverksamheten och Arbetsförmedlingen får en "
        "gemensam syn på vad en kartläggning och en handlingsplan är. Kursen utgår från deltagarnas eget "
        "arbete, därför ska deltagarna komma från alla myndigheterna.",
        Course.CompletionRule.ATTENDANCE,
        attendance_required_percent=75,
        target_roles=("case_officer", "introduction_secretary", "employment_officer"),
    ),
    CourseSpec(
        "kickoff",
        "Kick-off: Kockumsdagarna",
        (MS,),
        "Två seminariedagar som startade programmet. Varje aktör presenterade sitt uppdrag, och i små "
        "blandade grupper diskuterades ett fiktivt ärende tillsammans.",
        Course.CompletionRule.ATTENDANCE,
    ),
)

_PTSD_COSTS = (
    CostSpec(
        RoundCost.Kind.LECTURE_FEES,
        "16000.00",
        "Föreläsare från psykiatrin och behandlingscentret",
        "eva.lindgren",
    ),
    CostSpec(RoundCost.Kind.PREPARATION, "6500.00", "Förberedelse och kursmaterial", "eva.lindgren"),
    CostSpec(RoundCost.Kind.OTHER, "4200.00", "Förtäring", "eva.lindgren"),
)
_ADVANCED_COSTS = (
    CostSpec(RoundCost.Kind.LECTURE_FEES, "28000.00", "Två dagar, två föreläsare", "eva.lindgren"),
    CostSpec(RoundCost.Kind.PREPARATION, "9000.00", "Bedömningsuppgifter och handledning", "eva.lindgren"),
)

# In the order they are created (their ids follow it).
ROUNDS = (
    RoundSpec("ptsd", "Omgång 1", -300, PTSD_PLACE, capacity=35, costs=_PTSD_COSTS),
    RoundSpec("ptsd", "Omgång 2", -160, PTSD_PLACE, capacity=35, costs=_PTSD_COSTS),
    RoundSpec("advanced", "Omgång 1", -120, PTSD_PLACE, day_steps=(0, 1), capacity=24, costs=_ADVANCED_COSTS),
    RoundSpec("advanced", "Omgång 2", -50, PTSD_PLACE, day_steps=(0, 1), capacity=24, costs=_ADVANCED_COSTS),
    RoundSpec(
        "ptsd",
        "Omgång 3",
        35,
        PTSD_PLACE,
        capacity=35,
        registration_opens=Moment("today", -14, 8),
        registration_closes=Moment("first", -7, 12),
        cancellation_deadline=Moment("first", -5, 12),
        information="Lunch ingår. Anmäl specialkost till samordnaren senast en vecka före kursdagen.",
    ),
    RoundSpec(
        "advanced",
        "Omgång 3",
        50,
        PTSD_PLACE,
        day_steps=(0, 1),
        capacity=12,
        registration_opens=Moment("today", -20, 8),
        registration_closes=Moment("first", -10, 9),
        cancellation_deadline=Moment("first", -7, 9),
        target_role_mode=Round.TargetRoleMode.PRIORITY,
    ),
    RoundSpec(
        "mapping",
        "Våren – omgång 1",
        60,
        "Malmö universitet, Nordenskiöldsgatan 10, 211 19 Malmö",
        day_steps=(0, 7, 14, 21),
        capacity=24,
        registration_opens=Moment("today", -10, 8),
        registration_closes=Moment("first", -14, 9),
        cancellation_deadline=Moment("first", -10, 9),
        reserved_seats_release=Moment("first", -21, 9),
        target_role_mode=Round.TargetRoleMode.EXCLUSIVE,
        requires_manager_approval=True,
        information="Ta med ett avidentifierat ärende från ditt eget arbete till dag 1.",
        quotas=(QuotaSpec(MV, 8, 10), QuotaSpec(MS, 8, 10), QuotaSpec(AF, 8, 10)),
        costs=(
            CostSpec(
                RoundCost.Kind.LECTURE_FEES,
                "48000.00",
                "Regionalt utvecklingscentrum, fyra kursdagar",
                "eva.lindgren",
            ),
            CostSpec(RoundCost.Kind.VENUE, "0.00", "Universitetets lokaler", "eva.lindgren"),
            CostSpec(
                RoundCost.Kind.PREPARATION,
                "15000.00",
                "Kursutveckling tillsammans med myndigheterna",
                "eva.lindgren",
            ),
        ),
    ),
    RoundSpec(
        "kickoff",
        "Kockumsdagarna",
        -330,
        "Konferenslokal i Västra hamnen, Malmö",
        day_steps=(0, 1),
        capacity=100,
        group_size=8,
        costs=(
            CostSpec(RoundCost.Kind.VENUE, "42000.00", "Konferenslokal två dagar", "johan.bergstrom"),
            CostSpec(
                RoundCost.Kind.LECTURE_FEES, "18000.00", "Inledningstalare och moderator", "johan.bergstrom"
            ),
            CostSpec(
                RoundCost.Kind.PREPARATION,
                "24000.00",
                "Projektledningens förberedelser och det fiktiva ärendet",
                "johan.bergstrom",
            ),
            CostSpec(RoundCost.Kind.OTHER, "36500.00", "Lunch och fika för 100 deltagare", "johan.bergstrom"),
        ),
    ),
)

# Kick-off participants per organisation (the first of each in name order).
KICKOFF_SHARES = {MV: 20, MS: 32, AF: 16, RS: 14, RK: 10, MAU: 8}
# Course providers, who teach rather than enrol.
PROVIDERS = frozenset({"sofia.ek", "jan.hedlund", "elin.sjoberg"})

_CONFIRMED = Enrolment.Status.CONFIRMED
_APPROVED = Enrolment.Approval.APPROVED
_DECIDED = Moment("today", -6, 10)

# In the order they are written. The groups of people are picked by ``seminars.seed.loader.people_groups``.
ENROLMENTS = (
    EnrolmentBatch(
        "ptsd",
        "Omgång 1",
        "ptsd",
        _CONFIRMED,
        Moment("first", -58, 9),
        stop=33,
        completed=Completion.Method.ATTENDANCE,
        recorded_by="sofia.ek",
    ),
    EnrolmentBatch(
        "ptsd",
        "Omgång 2",
        "ptsd",
        _CONFIRMED,
        Moment("first", -58, 9),
        start=33,
        completed=Completion.Method.ATTENDANCE,
        recorded_by="sofia.ek",
    ),
    EnrolmentBatch(
        "advanced",
        "Omgång 1",
        "advanced",
        _CONFIRMED,
        Moment("first", -59, 9),
        stop=23,
        priority=1,
        completed=Completion.Method.ASSESSMENT,
        recorded_by="sofia.ek",
    ),
    EnrolmentBatch(
        "advanced",
        "Omgång 2",
        "advanced",
        _CONFIRMED,
        Moment("first", -59, 9),
        start=23,
        priority=1,
        completed=Completion.Method.ASSESSMENT,
        recorded_by="sofia.ek",
    ),
    EnrolmentBatch("ptsd", "Omgång 3", "open_ptsd", _CONFIRMED, Moment("today", -12, 9)),
    EnrolmentBatch(
        "advanced", "Omgång 3", "advanced_rest", _CONFIRMED, Moment("today", -19, 8), stop=11, priority=1
    ),
    EnrolmentBatch(
        "advanced",
        "Omgång 3",
        "advanced_rest",
        Enrolment.Status.WAITING,
        Moment("today", -8, 10),
        start=11,
        stop=17,
        spacing_minutes=60,
        target_roles_first=True,
    ),
    # A seat freed yesterday was offered to Amina Hassan; she has 48 hours to accept it.
    EnrolmentBatch(
        "advanced",
        "Omgång 3",
        "amina",
        Enrolment.Status.OFFERED,
        Moment("today", -9, 14),
        priority=1,
        offer_hold_hours=48,
    ),
    EnrolmentBatch(
        "mapping",
        "Våren – omgång 1",
        "mapping_ms",
        _CONFIRMED,
        Moment("today", -9, 9),
        approval=_APPROVED,
        approval_decided=_DECIDED,
    ),
    EnrolmentBatch(
        "mapping",
        "Våren – omgång 1",
        "mapping_mv",
        _CONFIRMED,
        Moment("today", -8, 9),
        approval=_APPROVED,
        approval_decided=_DECIDED,
    ),
    EnrolmentBatch(
        "mapping",
        "Våren – omgång 1",
        "mapping_af",
        _CONFIRMED,
        Moment("today", -7, 9),
        approval=_APPROVED,
        approval_decided=_DECIDED,
    ),
    EnrolmentBatch(
        "mapping",
        "Våren – omgång 1",
        "erik",
        Enrolment.Status.PENDING_APPROVAL,
        Moment("today", -1, 15),
        approval=Enrolment.Approval.PENDING,
        motivation="Jag arbetar med etableringsplaner varje dag och vill ha samma begrepp som "
        "Arbetsförmedlingen och Migrationsverket.",
    ),
    EnrolmentBatch(
        "kickoff",
        "Kockumsdagarna",
        "kickoff",
        _CONFIRMED,
        Moment("first", -59, 9),
        completed=Completion.Method.ATTENDANCE,
        recorded_by="eva.lindgren",
    ),
)
