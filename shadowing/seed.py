"""Demo data of job shadowing (*auskultation*) in Malmö's programme (DOMAIN.md, seed 001), in Swedish.

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
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.utils import timezone

from organisations.models import Organisation, Person, Programme, Unit
from organisations.seed import malmo
from shadowing.models import (
    AvailabilityWindow,
    HostFeedback,
    MatchingRun,
    Placement,
    PlacementDay,
    PlacementEvent,
    Preference,
    Reflection,
    ShadowingRequest,
    Slot,
    Topic,
    Workplace,
)

P = Placement.Status
RS = ShadowingRequest.Status
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
        RS.PLACED,
        (ASYLUM, RECEPTION),
        days=2,
        consecutive=True,
        languages=("sv", "so", "ar"),
        preferences=("mv",),
        windows=((-45, -5),),
        submitted_days_ago=50,
        placement=DemoPlacement(
            "mv",
            P.REFLECTED,
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
        RS.PENDING_APPROVAL,
        (TRAUMA,),
        preferences=("rs", RK),
        windows=((7, 60),),
        submitted_days_ago=2,
    ),
    DemoRequest(
        "erik.sandberg",
        "Lära mig hur Arbetsförmedlingen kartlägger och gör handlingsplaner, så att våra planer hänger ihop.",
        RS.APPROVED,
        (LABOUR, MAPPING),
        preferences=("af",),
        submitted_days_ago=12,
    ),
    DemoRequest(
        "fatima.ali",
        "Se mottagandet av asylsökande från början, särskilt hur information ges om asylprocessen.",
        RS.APPROVED,
        (ASYLUM,),
        days=2,
        preferences=("mv", MV),
        languages=("sv", "ar"),
        submitted_days_ago=10,
    ),
    DemoRequest(
        "omar.yusuf",
        "Förstå introduktionssekreterarnas arbete med etableringsplanen och hur vi kan samordna bättre.",
        RS.APPROVED,
        (INTRO,),
        preferences=("ms",),
        languages=("sv", "so"),
        submitted_days_ago=9,
    ),
    DemoRequest(
        "stefan.blom",
        "Lära av Röda korsets behandlingscenter om samtal med tortyrskadade.",
        RS.APPROVED,
        (TRAUMA,),
        preferences=("rk",),
        submitted_days_ago=8,
    ),
    DemoRequest(
        "daniel.nord",
        "Se hur psykiatrin gör sina bedömningar och hur remisserna från oss tas emot.",
        RS.APPROVED,
        (TRAUMA,),
        preferences=("rs",),
        submitted_days_ago=30,
        unplaced_code="all_full",
    ),
    DemoRequest(
        "camilla.ek",
        "Utbyte med introduktionen i Rosengård: se deras första samtal med nyanlända.",
        RS.APPROVED,
        (INTRO,),
        preferences=(MS,),
        submitted_days_ago=6,
        partner="jonas.lindberg",
    ),
    DemoRequest(
        "jonas.lindberg",
        "Utbyte med Arbetsförmedlingen: förstå etableringsuppdraget och vilka insatser som finns.",
        RS.APPROVED,
        (LABOUR,),
        preferences=(AF,),
        submitted_days_ago=6,
        partner="camilla.ek",
    ),
    DemoRequest(
        "helena.persson",
        "Lära av Röda korsets familjearbete med krigsdrabbade barn.",
        RS.DECLINED,
        (TRAUMA,),
        preferences=("rk",),
        submitted_days_ago=15,
        note="Inte under hösten – vi har hög arbetsbelastning. Sök gärna igen i vår.",
    ),
    DemoRequest(
        "ingrid.holm",
        "Se hur Arbetsförmedlingen använder språkbedömningar från sfi.",
        RS.WITHDRAWN,
        (SFI, LABOUR),
        preferences=("af",),
        submitted_days_ago=25,
    ),
    DemoRequest(
        "nadia.rahimi",
        "Förstå asylprocessen för att kunna svara på elevernas frågor.",
        RS.EXPIRED,
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
        RS.PLACED,
        (INTRO,),
        preferences=("ms",),
        submitted_days_ago=28,
        placement=DemoPlacement("ms", P.AWAITING_HOST, (8,)),
    ),
    DemoRequest(
        "ahmed.karimi",
        "Lära mig etableringsuppdraget och hur överlämningen från oss fungerar.",
        RS.PLACED,
        (LABOUR,),
        days=2,
        consecutive=True,
        preferences=("af",),
        languages=("sv", "ar"),
        submitted_days_ago=27,
        placement=DemoPlacement("af", P.HOST_ACCEPTED, (6, 7)),
    ),
    DemoRequest(
        "leila.haddad",
        "Förstå hur traumatiserade asylsökande får stöd, för bättre bemötande i utredningssamtal.",
        RS.APPROVED,
        (TRAUMA,),
        preferences=("rk", "rs"),
        languages=("sv", "ar"),
        submitted_days_ago=26,
        placement=DemoPlacement("rk", P.HOST_DECLINED, (5,), note="Vi har personalbrist just den veckan."),
    ),
    DemoRequest(
        "mikael.stromberg",
        "Se hur psykiatrin bedömer trauma, som underlag för hur vi värderar läkarintyg.",
        RS.PLACED,
        (TRAUMA,),
        preferences=("rs",),
        submitted_days_ago=26,
        placement=DemoPlacement("rs", P.CONFIRMED, (4,)),
    ),
    DemoRequest(
        "maria.forsberg",
        "Lära känna introduktionens arbete för att samordna stödet till nyanlända patienter.",
        RS.PLACED,
        (INTRO,),
        preferences=("ms",),
        submitted_days_ago=33,
        placement=DemoPlacement("ms", P.VISITED, (-3,)),
    ),
    DemoRequest(
        "lina.bjork",
        "Förstå Röda korsets arbete för att kunna hänvisa rätt.",
        RS.WITHDRAWN,
        (TRAUMA,),
        preferences=("rk",),
        submitted_days_ago=24,
        placement=DemoPlacement("rk", P.CANCELLED, (9,), note="Jag är sjukskriven den veckan."),
    ),
)

# The path of each status from the run's confirmation, with who moves it: "coordinator", "host", "shadower".
PATHS: dict[str, tuple[tuple[str, str], ...]] = {
    P.AWAITING_HOST: ((P.AWAITING_HOST, "coordinator"),),
    P.HOST_DECLINED: ((P.AWAITING_HOST, "coordinator"), (P.HOST_DECLINED, "host")),
    P.HOST_ACCEPTED: ((P.AWAITING_HOST, "coordinator"), (P.HOST_ACCEPTED, "host")),
    P.CONFIRMED: ((P.AWAITING_HOST, "coordinator"), (P.HOST_ACCEPTED, "host"), (P.CONFIRMED, "shadower")),
    P.VISITED: (
        (P.AWAITING_HOST, "coordinator"),
        (P.HOST_ACCEPTED, "host"),
        (P.CONFIRMED, "shadower"),
        (P.VISITED, "host"),
    ),
    P.REFLECTED: (
        (P.AWAITING_HOST, "coordinator"),
        (P.HOST_ACCEPTED, "host"),
        (P.CONFIRMED, "shadower"),
        (P.VISITED, "host"),
        (P.REFLECTED, "shadower"),
    ),
    P.CANCELLED: (
        (P.AWAITING_HOST, "coordinator"),
        (P.HOST_ACCEPTED, "host"),
        (P.CONFIRMED, "shadower"),
        (P.CANCELLED, "shadower"),
    ),
}


def working_day(start: date, offset: int) -> date:
    """The ``offset``-th working day (Monday–Friday) after ``start`` (before it when negative)."""
    step = 1 if offset >= 0 else -1
    day, left = start, abs(offset)
    while left:
        day += timedelta(days=step)
        if day.weekday() < 5:
            left -= 1
    return day


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=zone)


def _topics(programme: Programme) -> dict[str, Topic]:
    found = {}
    for name in TOPICS:
        found[name], _created = Topic.unscoped_objects.get_or_create(programme=programme, name=name)
    return found


def _people(programme: Programme) -> dict[str, Person]:
    return {
        p.user.username: p
        for p in Person.unscoped_objects.filter(memberships__programme=programme).select_related(
            "user", "organisation", "unit"
        )
    }


def _workplaces(
    programme: Programme, people: dict[str, Person], topics: dict[str, Topic], today: date
) -> dict[str, Workplace]:
    organisations = {
        o.name: o for o in Organisation.unscoped_objects.filter(participations__programme=programme)
    }
    found: dict[str, Workplace] = {}
    for spec in WORKPLACES:
        organisation = organisations[spec.organisation]
        unit = Unit.unscoped_objects.filter(organisation=organisation, name=spec.unit).first()
        workplace = Workplace.unscoped_objects.filter(
            programme=programme, organisation=organisation, name=spec.name
        ).first()
        if workplace is None:
            workplace = Workplace.unscoped_objects.create(
                programme=programme,
                organisation=organisation,
                unit=unit,
                name=spec.name,
                street_address=unit.street_address if unit else "",
                postal_code=unit.postal_code if unit else "",
                city=unit.city if unit else "Malmö",
                description=spec.description,
                languages=list(spec.languages),
                accessibility=spec.accessibility,
                max_visitors_per_day=spec.max_per_day,
                confidentiality_terms=CONFIDENTIALITY,
                contact=people[spec.contact],
                is_published=True,
            )
            workplace.topics.set([topics[name] for name in spec.topics])
            Slot.unscoped_objects.bulk_create(
                [
                    Slot(
                        workplace=workplace,
                        date=day,
                        starts_at=spec.starts_at,
                        ends_at=spec.ends_at,
                        capacity=spec.capacity,
                    )
                    for day in (today + timedelta(days=n) for n in range(1, 43))
                    if day.weekday() in spec.weekdays
                ]
            )
        found[spec.key] = workplace
    return found


def _slot(workplace: Workplace, spec: DemoWorkplace, day: date) -> Slot:
    slot = Slot.unscoped_objects.filter(workplace=workplace, date=day, starts_at=spec.starts_at).first()
    if slot is None:
        slot = Slot.unscoped_objects.create(
            workplace=workplace,
            date=day,
            starts_at=spec.starts_at,
            ends_at=spec.ends_at,
            capacity=spec.capacity,
        )
    return slot


def _placement(
    *,
    programme: Programme,
    request: ShadowingRequest,
    spec: DemoPlacement,
    run: MatchingRun,
    workplace: Workplace,
    people: dict[str, Person],
    today: date,
    zone: ZoneInfo,
) -> None:
    place_spec = next(w for w in WORKPLACES if w.key == spec.workplace)
    days = [working_day(today, offset) for offset in spec.day_offsets]
    slots = [_slot(workplace, place_spec, day) for day in days]
    actors = {
        "coordinator": people["johan.bergstrom"],
        "host": people[place_spec.contact],
        "shadower": request.requester,
    }
    confirmed_at = run.confirmed_at or timezone.now()
    moments = [confirmed_at + timedelta(days=i, hours=i) for i in range(6)]
    path = PATHS[spec.status]
    if spec.status in Placement.AFTER_VISIT:
        moments[3] = _at(days[-1], 17, zone)
        moments[4] = _at(days[-1] + timedelta(days=2), 10, zone)
    accepted_at = next((moments[i] for i, (s, _who) in enumerate(path) if s == P.CONFIRMED), None)
    placement = Placement.unscoped_objects.create(
        programme=programme,
        request=request,
        workplace=workplace,
        run=run,
        status=spec.status,
        sequence=1 if spec.status == P.CANCELLED else 0,
        confidentiality_accepted_at=accepted_at,
        decline_reason=spec.note if spec.status == P.HOST_DECLINED else "",
        cancel_reason=spec.note if spec.status == P.CANCELLED else "",
        cancelled_by=request.requester if spec.status == P.CANCELLED else None,
    )
    PlacementDay.unscoped_objects.bulk_create(
        [
            PlacementDay(
                placement=placement, slot=slot, date=slot.date, starts_at=slot.starts_at, ends_at=slot.ends_at
            )
            for slot in slots
        ]
    )
    events = [
        PlacementEvent(
            placement=placement,
            from_status="",
            to_status=P.PROPOSED,
            actor=actors["coordinator"],
            at=run.created_at,
            note="",
        )
    ]
    previous: str = P.PROPOSED
    for (status, who), moment in zip(path, moments, strict=False):
        note = spec.note if status in (P.HOST_DECLINED, P.CANCELLED) else ""
        events.append(
            PlacementEvent(
                placement=placement,
                from_status=previous,
                to_status=status,
                actor=actors[who],
                at=moment,
                note=note,
            )
        )
        previous = status
    PlacementEvent.unscoped_objects.bulk_create(events)
    if spec.reflection is not None:
        learned, used, shared = spec.reflection
        Reflection.unscoped_objects.create(
            placement=placement, learned=learned, how_used=used, how_shared=shared, submitted_at=moments[4]
        )
    if spec.feedback:
        HostFeedback.unscoped_objects.create(
            placement=placement, feedback=spec.feedback, author=actors["host"], submitted_at=moments[3]
        )


def _past_run(programme: Programme, people: dict[str, Person], today: date, zone: ZoneInfo) -> MatchingRun:
    """The match confirmed three weeks before the first run; found again by its creator and status."""
    coordinator = people["johan.bergstrom"]
    run = (
        MatchingRun.unscoped_objects.filter(
            programme=programme, created_by=coordinator, status=MatchingRun.Status.CONFIRMED
        )
        .order_by("pk")
        .first()
    )
    if run is None:
        when = _at(today - timedelta(days=21), 10, zone)
        run = MatchingRun.unscoped_objects.create(
            programme=programme,
            created_by=coordinator,
            status=MatchingRun.Status.CONFIRMED,
            fairness_weight=1.0,
            objective=7268.0,
            bound=7290.5,
            gap=0.0031,
            placed=7,
            requests_considered=8,
            greedy_placed=6,
            method="LP-relaxation + avrundning (HiGHS)",
            seconds=0.42,
            confirmed_by=coordinator,
            confirmed_at=when + timedelta(hours=1),
        )
        # created_at is set on insert; the demo run lies in the past.
        MatchingRun.unscoped_objects.filter(pk=run.pk).update(created_at=when)
        run.created_at = when
    return run


def _requests(
    programme: Programme,
    people: dict[str, Person],
    topics: dict[str, Topic],
    workplaces: dict[str, Workplace],
    today: date,
    zone: ZoneInfo,
) -> None:
    organisations = {
        o.name: o for o in Organisation.unscoped_objects.filter(participations__programme=programme)
    }
    run = _past_run(programme, people, today, zone)
    made: dict[str, ShadowingRequest] = {}
    created_now: set[str] = set()
    now = timezone.now()
    for spec in REQUESTS:
        requester = people[spec.requester]
        existing = ShadowingRequest.unscoped_objects.filter(
            programme=programme, requester=requester, learning_goals=spec.goals
        ).first()
        if existing is not None:
            made[spec.requester] = existing
            continue
        submitted = now - timedelta(days=spec.submitted_days_ago)
        # Withdrawn before a decision, or after an approved request was placed and then cancelled.
        decided = spec.status != RS.PENDING_APPROVAL and not (
            spec.status == RS.WITHDRAWN and not spec.placement
        )
        manager = requester.line_manager
        request = ShadowingRequest.unscoped_objects.create(
            programme=programme,
            requester=requester,
            organisation=requester.organisation,
            learning_goals=spec.goals,
            days=spec.days,
            consecutive=spec.consecutive,
            languages=list(spec.languages),
            status=spec.status,
            approved_by=manager if decided else None,
            decided_at=submitted + timedelta(days=1) if decided else None,
            decision_note=spec.note,
            submitted_at=submitted,
            expires_at=(now - timedelta(days=18))
            if spec.status == RS.EXPIRED
            else submitted + timedelta(days=182),
            unplaced_code=spec.unplaced_code,
        )
        request.topics.set([topics[name] for name in spec.topics])
        AvailabilityWindow.unscoped_objects.bulk_create(
            [
                AvailabilityWindow(
                    request=request, starts_on=today + timedelta(days=a), ends_on=today + timedelta(days=b)
                )
                for a, b in spec.windows
            ]
        )
        Preference.unscoped_objects.bulk_create(
            [
                Preference(
                    request=request,
                    rank=rank,
                    workplace=workplaces.get(wish),
                    organisation=None if wish in workplaces else organisations[wish],
                )
                for rank, wish in enumerate(spec.preferences, start=1)
            ]
        )
        if spec.placement is not None:
            _placement(
                programme=programme,
                request=request,
                spec=spec.placement,
                run=run,
                workplace=workplaces[spec.placement.workplace],
                people=people,
                today=today,
                zone=zone,
            )
        made[spec.requester] = request
        created_now.add(spec.requester)
    # Reciprocal pairs point at each other.
    for spec in REQUESTS:
        if spec.partner and spec.requester in created_now:
            ShadowingRequest.unscoped_objects.filter(pk=made[spec.requester].pk).update(
                partner=made[spec.partner]
            )


def _recount_bookings(programme: Programme) -> None:
    """``Slot.booked`` = the placement days that hold a seat; written only where it differs."""
    slots = Slot.unscoped_objects.filter(workplace__programme=programme).annotate(
        holding=Count(
            "placement_days", filter=Q(placement_days__placement__status__in=Placement.SEAT_HOLDING)
        )
    )
    for slot in slots:
        if slot.booked != slot.holding:
            Slot.unscoped_objects.filter(pk=slot.pk).update(booked=slot.holding)


def seed_shadowing() -> list[tuple[str, str]]:
    programme = malmo()
    zone = ZoneInfo(programme.time_zone)
    # Dates are anchored to the first run; a second run finds everything by its natural key.
    today = timezone.localdate(timezone=zone)
    people = _people(programme)
    topics = _topics(programme)
    workplaces = _workplaces(programme, people, topics, today)
    _requests(programme, people, topics, workplaces, today, zone)
    _recount_bookings(programme)
    return []
