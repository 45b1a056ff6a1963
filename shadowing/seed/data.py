"""The demo data of job shadowing as plain tables (read by ``shadowing.seed.loader``).

Demo data of job shadowing (*auskultation*) in Malmö's programme (DOMAIN.md, seed 001), in Swedish.

- The five host organisations open a workplace each: Migrationsverket's reception unit (host contact Karin
  Nyström), the introduction office in Rosengård (Malmö stad), Arbetsförmedlingen's establishment office,
  Region Skåne's adult psychiatry in Malmö and the Red Cross treatment centre. Each has visit days on two
  weekdays for the coming six weeks.
- Requests in every state: Amina Hassan's new request waits for Per Olsson's approval; several approved
  requests wait for the next match (one of them a reciprocal exchange between Arbetsförmedlingen and Malmö
  stad); one declined, one withdrawn, one expired.
- A past, confirmed matching run placed visits that now stand in every state: waiting for the host, accepted
  by the host, declined by the host, confirmed, visited, reflected and cancelled. The reflected one is the
  programme's own example: an introduction secretary from Rosengård (Amina Hassan) shadowed two days at
  Migrationsverket and changed how she works.

Idempotent: workplaces, topics and requests are found by natural keys (names; requester and learning
goals), and a request that exists is left as it is with its placements. Dates are relative to the day of the
first run. Rows are written directly (no notifications or invites are sent for demo data), and every
transition of a placement is written as a ``PlacementEvent``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from shadowing.models import (
    Placement,
    ShadowingRequest,
)

MV, MS, AF, RS_ORG, RK = "Migrationsverket", "Malmö stad", "Arbetsförmedlingen", "Region Skåne", "Röda korset"

ASYLUM, INTRO, TRAUMA, LABOUR, SFI, RECEPTION, MAPPING = (
    "Asylprocessen",
    "Etableringsplan och introduktion",
    "Trauma och hälsa",
    "Arbetsmarknad",
    "Sfi och språk",
    "Mottagande och boende",
    "Kartläggning och handlingsplan",
)
TOPICS = (ASYLUM, INTRO, TRAUMA, LABOUR, SFI, RECEPTION, MAPPING)

CONFIDENTIALITY = (
    "Du kommer att ta del av uppgifter om enskilda personer som omfattas av sekretess enligt "
    "offentlighets- och sekretesslagen. Du får inte föra dem vidare, anteckna personuppgifter eller "
    "fotografera. Tystnadsplikten gäller även efter besöket."
)


@dataclass(frozen=True)
class DemoWorkplace:
    key: str
    organisation: str
    unit: str
    name: str
    contact: str
    description: str
    topics: tuple[str, ...]
    languages: tuple[str, ...]
    weekdays: tuple[int, ...]
    capacity: int
    max_per_day: int
    accessibility: str
    starts_at: time = time(8, 30)
    ends_at: time = time(16, 0)


WORKPLACES = (
    DemoWorkplace(
        "mv",
        MV,
        "Mottagningsenheten Malmö",
        "Migrationsverket, mottagningsenheten Malmö",
        "karin.nystrom",
        "Du följer en handläggare under en dag: inskrivningssamtal med nyanlända asylsökande, information om "
        "asylprocessen, beslut om boende och dagersättning. Du får sitta med på enhetens morgonmöte och "
        "ställa frågor om hur ärendena går vidare till prövningsenheten.",
        (ASYLUM, RECEPTION),
        ("sv", "en", "fr", "ar"),
        (1, 3),
        2,
        2,
        "Entré i markplan, hiss till alla plan, hörslinga i samtalsrummen.",
    ),
    DemoWorkplace(
        "ms",
        MS,
        "Introduktionsverksamheten Rosengård",
        "Introduktionsverksamheten Rosengård",
        "per.olsson",
        "Du är med när introduktionssekreterare tar emot nyanlända familjer: kartläggning av tidigare "
        "utbildning och arbete, etableringsplan, kontakter med sfi, bostad och skola. Eftermiddagen ägnas åt "
        "ärendedragningar i teamet.",
        (INTRO, SFI, LABOUR),
        ("sv", "en", "so", "ar"),
        (0, 2),
        1,
        2,
        "Trappfritt, handikapptoalett. Säg till i förväg om du behöver tolk eller hörslinga.",
    ),
    DemoWorkplace(
        "af",
        AF,
        "Arbetsförmedlingen Malmö, etablering",
        "Arbetsförmedlingen Malmö, etableringsuppdraget",
        "thomas.wikstrom",
        "Du följer en arbetsförmedlare i etableringsuppdraget: kartläggningssamtal, upprättande av "
        "handlingsplan, matchning mot arbetsgivare och insatser som praktik och arbetsmarknadsutbildning.",
        (LABOUR, MAPPING),
        ("sv", "en", "so"),
        (1, 4),
        1,
        2,
        "Entré med ramp, hiss, tyst rum finns.",
    ),
    DemoWorkplace(
        "rs",
        RS_ORG,
        "Vuxenpsykiatrin Malmö",
        "Vuxenpsykiatrin Malmö, transkulturell mottagning",
        "margareta.lund",
        "Du får en inblick i hur psykiatrin bedömer och behandlar traumatiserade flyktingar: "
        "bedömningssamtal med tolk (med patientens samtycke), teamkonferens och remissflödet från "
        "primärvården och Migrationsverkets hälsoundersökningar.",
        (TRAUMA,),
        ("sv", "en"),
        (2,),
        1,
        1,
        "Hiss och handikapptoalett. Sjukhusområdets parkering ligger 200 meter bort.",
        time(9, 0),
        time(15, 30),
    ),
    DemoWorkplace(
        "rk",
        RK,
        "Röda korsets behandlingscenter Malmö",
        "Röda korsets behandlingscenter för krigs- och tortyrskadade",
        "ulla.magnusson",
        "Du möter behandlarna på centret: hur de arbetar med samtalsbehandling för krigs- och tortyrskadade "
        "och deras familjer, hur barnen får stöd och hur centret samarbetar med psykiatrin och kommunen.",
        (TRAUMA, RECEPTION),
        ("sv", "en", "es", "ar"),
        (3,),
        1,
        1,
        "Lokalen ligger en trappa upp utan hiss; hör av dig så möts vi i entréplanet.",
        time(9, 0),
        time(15, 0),
    ),
)


@dataclass(frozen=True)
class DemoPlacement:
    workplace: str
    status: str
    day_offsets: tuple[int, ...]  # working days from the first run: negative in the past
    note: str = ""  # decline or cancel reason
    reflection: tuple[str, str, str] | None = None
    feedback: str = ""


@dataclass(frozen=True)
class DemoRequest:
    requester: str
    goals: str
    status: str
    topics: tuple[str, ...] = ()
    days: int = 1
    consecutive: bool = False
    languages: tuple[str, ...] = ("sv",)
    preferences: tuple[str, ...] = ()  # workplace keys or organisation names
    windows: tuple[tuple[int, int], ...] = ((1, 40),)  # calendar days from the first run
    submitted_days_ago: int = 20
    note: str = ""
    unplaced_code: str = ""
    placement: DemoPlacement | None = None
    partner: str = ""  # requester of the reciprocal partner request
    extra: dict[str, object] = field(default_factory=dict)


REQUESTS = (
    DemoRequest(
        "amina.hassan",
        "Jag vill förstå hur Migrationsverket tar emot asylsökande och vad som händer under asyltiden, "
        "så att vi i introduktionen kan bygga vidare på det de redan har gjort och lärt sig.",
        ShadowingRequest.Status.PLACED,
        (ASYLUM, RECEPTION),
        days=2,
        consecutive=True,
        languages=("sv", "so", "ar"),
        preferences=("mv",),
        windows=((-45, -5),),
        submitted_days_ago=50,
        placement=DemoPlacement(
            "mv",
            Placement.Status.REFLECTED,
            (-12, -11),
            reflection=(
                "Hur mycket som redan är gjort under asyltiden: kartläggning av utbildning, "
                "hälsoundersökning, kontakter. Vi har börjat om från noll i introduktionen i stället för att "
                "fråga efter det.",
                "Vi måste använda det de gjorde och lärde sig under asyltiden. Jag ber nu alltid om "
                "Migrationsverkets underlag vid första samtalet och har ändrat vår mall för kartläggning.",
                "Berättade på arbetsplatsträffen och skrev en sammanfattning till kollegorna. Jag planerar "
                "fler dagar på Migrationsverket och vill auskultera inom vården härnäst.",
            ),
            feedback="Amina var väl förberedd och ställde bra frågor. Välkommen tillbaka – och skicka gärna "
            "fler från introduktionen!",
        ),
    ),
    DemoRequest(
        "amina.hassan",
        "Nästa steg: se hur psykiatrin arbetar med traumatiserade flyktingar, så att jag vet när och hur jag "
        "ska hänvisa vidare.",
        ShadowingRequest.Status.PENDING_APPROVAL,
        (TRAUMA,),
        preferences=("rs", RK),
        windows=((7, 60),),
        submitted_days_ago=2,
    ),
    DemoRequest(
        "erik.sandberg",
        "Lära mig hur Arbetsförmedlingen kartlägger och gör handlingsplaner, så att våra planer hänger ihop.",
        ShadowingRequest.Status.APPROVED,
        (LABOUR, MAPPING),
        preferences=("af",),
        submitted_days_ago=12,
    ),
    DemoRequest(
        "fatima.ali",
        "Se mottagandet av asylsökande från början, särskilt hur information ges om asylprocessen.",
        ShadowingRequest.Status.APPROVED,
        (ASYLUM,),
        days=2,
        preferences=("mv", MV),
        languages=("sv", "ar"),
        submitted_days_ago=10,
    ),
    DemoRequest(
        "omar.yusuf",
        "Förstå introduktionssekreterarnas arbete med etableringsplanen och hur vi kan samordna bättre.",
        ShadowingRequest.Status.APPROVED,
        (INTRO,),
        preferences=("ms",),
        languages=("sv", "so"),
        submitted_days_ago=9,
    ),
    DemoRequest(
        "stefan.blom",
        "Lära av Röda korsets behandlingscenter om samtal med tortyrskadade.",
        ShadowingRequest.Status.APPROVED,
        (TRAUMA,),
        preferences=("rk",),
        submitted_days_ago=8,
    ),
    DemoRequest(
        "daniel.nord",
        "Se hur psykiatrin gör sina bedömningar och hur remisserna från oss tas emot.",
        ShadowingRequest.Status.APPROVED,
        (TRAUMA,),
        preferences=("rs",),
        submitted_days_ago=30,
        unplaced_code="all_full",
    ),
    DemoRequest(
        "camilla.ek",
        "Utbyte med introduktionen i Rosengård: se deras första samtal med nyanlända.",
        ShadowingRequest.Status.APPROVED,
        (INTRO,),
        preferences=(MS,),
        submitted_days_ago=6,
        partner="jonas.lindberg",
    ),
    DemoRequest(
        "jonas.lindberg",
        "Utbyte med Arbetsförmedlingen: förstå etableringsuppdraget och vilka insatser som finns.",
        ShadowingRequest.Status.APPROVED,
        (LABOUR,),
        preferences=(AF,),
        submitted_days_ago=6,
        partner="camilla.ek",
    ),
    DemoRequest(
        "helena.persson",
        "Lära av Röda korsets familjearbete med krigsdrabbade barn.",
        ShadowingRequest.Status.DECLINED,
        (TRAUMA,),
        preferences=("rk",),
        submitted_days_ago=15,
        note="Inte under hösten – vi har hög arbetsbelastning. Sök gärna igen i vår.",
    ),
    DemoRequest(
        "ingrid.holm",
        "Se hur Arbetsförmedlingen använder språkbedömningar från sfi.",
        ShadowingRequest.Status.WITHDRAWN,
        (SFI, LABOUR),
        preferences=("af",),
        submitted_days_ago=25,
    ),
    DemoRequest(
        "nadia.rahimi",
        "Förstå asylprocessen för att kunna svara på elevernas frågor.",
        ShadowingRequest.Status.EXPIRED,
        (ASYLUM,),
        preferences=("mv",),
        windows=((-200, -150),),
        submitted_days_ago=200,
        unplaced_code="no_slot_in_window",
    ),
    # Placed by the past run: visits in every state.
    DemoRequest(
        "sara.johansson",
        "Se hur introduktionen tar emot dem vi ger uppehållstillstånd.",
        ShadowingRequest.Status.PLACED,
        (INTRO,),
        preferences=("ms",),
        submitted_days_ago=28,
        placement=DemoPlacement("ms", Placement.Status.AWAITING_HOST, (8,)),
    ),
    DemoRequest(
        "ahmed.karimi",
        "Lära mig etableringsuppdraget och hur överlämningen från oss fungerar.",
        ShadowingRequest.Status.PLACED,
        (LABOUR,),
        days=2,
        consecutive=True,
        preferences=("af",),
        languages=("sv", "ar"),
        submitted_days_ago=27,
        placement=DemoPlacement("af", Placement.Status.HOST_ACCEPTED, (6, 7)),
    ),
    DemoRequest(
        "leila.haddad",
        "Förstå hur traumatiserade asylsökande får stöd, för bättre bemötande i utredningssamtal.",
        ShadowingRequest.Status.APPROVED,
        (TRAUMA,),
        preferences=("rk", "rs"),
        languages=("sv", "ar"),
        submitted_days_ago=26,
        placement=DemoPlacement(
            "rk", Placement.Status.HOST_DECLINED, (5,), note="Vi har personalbrist just den veckan."
        ),
    ),
    DemoRequest(
        "mikael.stromberg",
        "Se hur psykiatrin bedömer trauma, som underlag för hur vi värderar läkarintyg.",
        ShadowingRequest.Status.PLACED,
        (TRAUMA,),
        preferences=("rs",),
        submitted_days_ago=26,
        placement=DemoPlacement("rs", Placement.Status.CONFIRMED, (4,)),
    ),
    DemoRequest(
        "maria.forsberg",
        "Lära känna introduktionens arbete för att samordna stödet till nyanlända patienter.",
        ShadowingRequest.Status.PLACED,
        (INTRO,),
        preferences=("ms",),
        submitted_days_ago=33,
        placement=DemoPlacement("ms", Placement.Status.VISITED, (-3,)),
    ),
    DemoRequest(
        "lina.bjork",
        "Förstå Röda korsets arbete för att kunna hänvisa rätt.",
        ShadowingRequest.Status.WITHDRAWN,
        (TRAUMA,),
        preferences=("rk",),
        submitted_days_ago=24,
        placement=DemoPlacement(
            "rk", Placement.Status.CANCELLED, (9,), note="Jag är sjukskriven den veckan."
        ),
    ),
)

# The path of each status from the run's confirmation, with who moves it: "coordinator", "host", "shadower".
PATHS: dict[str, tuple[tuple[str, str], ...]] = {
    Placement.Status.AWAITING_HOST: ((Placement.Status.AWAITING_HOST, "coordinator"),),
    Placement.Status.HOST_DECLINED: (
        (Placement.Status.AWAITING_HOST, "coordinator"),
        (Placement.Status.HOST_DECLINED, "host"),
    ),
    Placement.Status.HOST_ACCEPTED: (
        (Placement.Status.AWAITING_HOST, "coordinator"),
        (Placement.Status.HOST_ACCEPTED, "host"),
    ),
    Placement.Status.CONFIRMED: (
        (Placement.Status.AWAITING_HOST, "coordinator"),
        (Placement.Status.HOST_ACCEPTED, "host"),
        (Placement.Status.CONFIRMED, "shadower"),
    ),
    Placement.Status.VISITED: (
        (Placement.Status.AWAITING_HOST, "coordinator"),
        (Placement.Status.HOST_ACCEPTED, "host"),
        (Placement.Status.CONFIRMED, "shadower"),
        (Placement.Status.VISITED, "host"),
    ),
    Placement.Status.REFLECTED: (
        (Placement.Status.AWAITING_HOST, "coordinator"),
        (Placement.Status.HOST_ACCEPTED, "host"),
        (Placement.Status.CONFIRMED, "shadower"),
        (Placement.Status.VISITED, "host"),
        (Placement.Status.REFLECTED, "shadower"),
    ),
    Placement.Status.CANCELLED: (
        (Placement.Status.AWAITING_HOST, "coordinator"),
        (Placement.Status.HOST_ACCEPTED, "host"),
        (Placement.Status.CONFIRMED, "shadower"),
        (Placement.Status.CANCELLED, "shadower"),
    ),
}
