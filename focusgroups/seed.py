"""Demo data of the focus groups in Malmö's programme (DOMAIN.md, seed 001), in Swedish, and the default
groups of the Danish demo programme.

- The **six priority areas**, each with a convener and representatives of the organisations, every one with a
  mandate (who sent them, what they may decide). *Hälsoperspektivet/empowerment* has nobody from
  Migrationsverket yet, as happens. Lina Björk (Arbetsförmedlingen) convenes three groups, Maria Forsberg
  (Region Skåne) the other three; Amina Hassan sits in *Organisationskännedom*.
- *Organisationskännedom*: a past meeting with minutes and decisions, an upcoming one, a group-only working
  note with versions by three authors, a note for the whole programme, and open actions (one is Amina's).
- *Informationsflödet*: a past meeting with minutes and a public note (on everyone's start page).
- The **shared glossary** for the politician's question (customer, client, patient, student, citizen) with
  several organisations' terms and definitions side by side, and comments.

Rows are written directly (no invites or notifications are sent for demo data); the rights of each member
follow from the membership. Idempotent:
natural keys (codes, titles, names) find existing rows and nothing that exists is changed; dates are relative
to the day of the first run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from focusgroups.models import (
    ActionItem,
    AgendaItem,
    Concept,
    ConceptComment,
    ConceptTerm,
    Decision,
    FocusGroup,
    GroupMembership,
    Meeting,
    Note,
    NoteVersion,
)
from focusgroups.services import groups
from organisations.models import Organisation, Person, Programme
from organisations.seed import COPENHAGEN_SLUG, MALMO_SLUG

MEMBER = GroupMembership.Role.MEMBER
CONVENER = GroupMembership.Role.CONVENER
OBSERVER = GroupMembership.Role.OBSERVER
MV, MS, AF, RS, RK, MAU = (
    "Migrationsverket",
    "Malmö stad",
    "Arbetsförmedlingen",
    "Region Skåne",
    "Röda korset",
    "Malmö universitet",
)
ZONE = ZoneInfo("Europe/Stockholm")


@dataclass(frozen=True)
class Seat:
    username: str
    role: str
    sent_by: str
    mandate: str


def _mandate(kind: str) -> str:
    return {
        "chef": "Får besluta om den egna enhetens deltagande och resurser inom ramen för programmet.",
        "rep": (
            "Företräder sin enhet: får föreslå gemensamma aktiviteter och besluta om den egna enhetens "
            "deltagande; större åtaganden stäms av med chefen."
        ),
        "lead": "Sammankallande: leder arbetet, får besluta om gruppens arbetsformer och mötesplan.",
        "obs": "Deltar som observatör utan beslutsmandat.",
    }[kind]


S = Seat
GROUP_SEATS: dict[str, tuple[Seat, ...]] = {
    "organisationskannedom": (
        S("lina.bjork", CONVENER, "Thomas Wikström, sektionschef", _mandate("lead")),
        S("karin.nystrom", MEMBER, "Lars Pettersson, enhetschef Mottagningsenheten", _mandate("rep")),
        S("amina.hassan", MEMBER, "Per Olsson, enhetschef Introduktionsverksamheten", _mandate("rep")),
        S("stefan.blom", MEMBER, "Margareta Lund, verksamhetschef Vuxenpsykiatrin", _mandate("rep")),
        S("daniel.nord", MEMBER, "Ulla Magnusson, verksamhetschef behandlingscentret", _mandate("rep")),
        S("peter.lindqvist", MEMBER, "Kristina Falk, föreståndare RUC", _mandate("rep")),
        S("johan.bergstrom", OBSERVER, "Eva Lindgren, projektledare", _mandate("obs")),
    ),
    "informationsflodet": (
        S("lina.bjork", CONVENER, "Thomas Wikström, sektionschef", _mandate("lead")),
        S("ahmed.karimi", MEMBER, "Lars Pettersson, enhetschef Mottagningsenheten", _mandate("rep")),
        S("erik.sandberg", MEMBER, "Per Olsson, enhetschef Introduktionsverksamheten", _mandate("rep")),
        S("elin.sjoberg", MEMBER, "Jan Hedlund, teamledare", _mandate("rep")),
        S("ulla.magnusson", MEMBER, "Röda korsets regionkontor", _mandate("chef")),
        S("kristina.falk", MEMBER, "Malmö universitet, prorektor", _mandate("chef")),
    ),
    "malgruppskannedom": (
        S("maria.forsberg", CONVENER, "Margareta Lund, verksamhetschef Vuxenpsykiatrin", _mandate("lead")),
        S("leila.haddad", MEMBER, "Birgitta Axelsson, enhetschef Prövningsenheten", _mandate("rep")),
        S("fatima.ali", MEMBER, "Per Olsson, enhetschef Introduktionsverksamheten", _mandate("rep")),
        S("omar.yusuf", MEMBER, "Thomas Wikström, sektionschef", _mandate("rep")),
        S("sofia.ek", MEMBER, "Ulla Magnusson, verksamhetschef behandlingscentret", _mandate("rep")),
        S("peter.lindqvist", MEMBER, "Kristina Falk, föreståndare RUC", _mandate("rep")),
    ),
    "kartlaggningsmetodik": (
        S("lina.bjork", CONVENER, "Thomas Wikström, sektionschef", _mandate("lead")),
        S("sara.johansson", MEMBER, "Lars Pettersson, enhetschef Mottagningsenheten", _mandate("rep")),
        S("helena.persson", MEMBER, "Anna Karlsson, sektionschef Socialtjänsten", _mandate("rep")),
        S("camilla.ek", MEMBER, "Thomas Wikström, sektionschef", _mandate("rep")),
        S("jan.hedlund", MEMBER, "Margareta Lund, verksamhetschef", _mandate("chef")),
        S("daniel.nord", MEMBER, "Ulla Magnusson, verksamhetschef behandlingscentret", _mandate("rep")),
        S("kristina.falk", MEMBER, "Malmö universitet, prorektor", _mandate("chef")),
    ),
    "samarbete-samverkan": (
        S("maria.forsberg", CONVENER, "Margareta Lund, verksamhetschef Vuxenpsykiatrin", _mandate("lead")),
        S("lars.pettersson", MEMBER, "Migrationsverket, regionchef", _mandate("chef")),
        S("anna.karlsson", MEMBER, "Malmö stad, avdelningschef", _mandate("chef")),
        S("thomas.wikstrom", MEMBER, "Arbetsförmedlingen, marknadsområdeschef", _mandate("chef")),
        S("sofia.ek", MEMBER, "Ulla Magnusson, verksamhetschef behandlingscentret", _mandate("rep")),
        S("peter.lindqvist", MEMBER, "Kristina Falk, föreståndare RUC", _mandate("rep")),
    ),
    # Nobody from Migrationsverket yet: the group page and the coordinators' start page show it missing.
    "halsoperspektivet-empowerment": (
        S("maria.forsberg", CONVENER, "Margareta Lund, verksamhetschef Vuxenpsykiatrin", _mandate("lead")),
        S("jonas.lindberg", MEMBER, "Anna Karlsson, sektionschef Socialtjänsten", _mandate("rep")),
        S("nadia.rahimi", MEMBER, "Göran Eriksson, rektor Sfi Malmö", _mandate("rep")),
        S("omar.yusuf", MEMBER, "Thomas Wikström, sektionschef", _mandate("rep")),
        S("daniel.nord", MEMBER, "Ulla Magnusson, verksamhetschef behandlingscentret", _mandate("rep")),
        S("kristina.falk", MEMBER, "Malmö universitet, prorektor", _mandate("chef")),
    ),
}

WORK_NOTE_VERSIONS = (
    (
        "lina.bjork",
        "Studiebesök och presentationer – arbetsanteckningar",
        "Mål: varje organisation presenterar sitt uppdrag för de andra under våren.\n"
        "\n"
        "- Migrationsverket: mottagning och prövning\n"
        "- Malmö stad: introduktion och socialtjänst\n",
    ),
    (
        "amina.hassan",
        "Studiebesök och presentationer – arbetsanteckningar",
        "Mål: varje organisation presenterar sitt uppdrag för de andra under våren.\n"
        "\n"
        "- Migrationsverket: mottagning och prövning\n"
        "- Malmö stad: introduktion, socialtjänst och sfi\n"
        "- Arbetsförmedlingen: etableringsuppdraget\n"
        "\n"
        "Fråga: kan introduktionssekreterare auskultera två dagar på Mottagningsenheten?\n",
    ),
    (
        "karin.nystrom",
        "Studiebesök och presentationer – arbetsanteckningar",
        "Mål: varje organisation presenterar sitt uppdrag för de andra under våren.\n"
        "\n"
        "- Migrationsverket: mottagning och prövning (Karin håller i presentationen)\n"
        "- Malmö stad: introduktion, socialtjänst och sfi\n"
        "- Arbetsförmedlingen: etableringsuppdraget\n"
        "- Region Skåne och Röda korset: vård och behandling för traumatiserade\n"
        "\n"
        "Fråga: kan introduktionssekreterare auskultera två dagar på Mottagningsenheten?\n"
        "Svar: ja, två platser i månaden från mars. Samordnaren förmedlar kontakten.\n",
    ),
)

CONCEPTS = (
    (
        "Kund",
        "Vem är 'kunden'? Ordet används olika – eller inte alls – i våra organisationer.",
        (
            (
                AF,
                "arbetssökande (kund)",
                "Den som är inskriven hos Arbetsförmedlingen; 'kund' används om både "
                "arbetssökande och arbetsgivare.",
            ),
            (
                MV,
                "sökande",
                "Den som har ansökt om asyl, uppehållstillstånd eller medborgarskap. 'Kund' används "
                "inte i ärendehandläggningen.",
            ),
            (
                MS,
                "brukare",
                "Den som tar emot stöd från kommunens verksamheter; inom socialtjänsten oftast 'klient'.",
            ),
        ),
    ),
    (
        "Klient",
        "Personen vi har ett ärende om – men med olika rättigheter och skyldigheter hos var och en.",
        (
            (MS, "klient", "Den som har ett ärende hos socialtjänsten eller introduktionsverksamheten."),
            (
                RK,
                "klient",
                "Den som får behandling eller stöd vid behandlingscentret; frivilligt och utan "
                "myndighetsbeslut.",
            ),
            (MV, "sökande", "Se 'kund': den som har ett pågående ärende hos Migrationsverket."),
            (AF, "arbetssökande", "Den som är inskriven och har en planering hos Arbetsförmedlingen."),
        ),
    ),
    (
        "Patient",
        "Den som får hälso- och sjukvård – och vad det innebär för sekretess mellan oss.",
        (
            (
                RS,
                "patient",
                "Den som får hälso- och sjukvård; uppgifterna skyddas av hälso- och sjukvårdssekretess.",
            ),
            (
                RK,
                "klient",
                "Vi säger klient även om behandlingen är vård, för att betona att den är frivillig.",
            ),
            (MS, "–", "Kommunen använder 'patient' bara inom kommunal hälso- och sjukvård."),
        ),
    ),
    (
        "Elev/studerande",
        "Den som deltar i utbildning, t.ex. sfi eller en arbetsmarknadsutbildning.",
        (
            (MS, "elev", "Den som läser svenska för invandrare (sfi) inom Komvux."),
            (AF, "deltagare", "Den som deltar i en arbetsmarknadsutbildning eller ett program."),
            (MAU, "studerande", "Den som är antagen till en kurs eller ett program vid universitetet."),
        ),
    ),
    (
        "Medborgare",
        "Medborgare, invånare eller nyanländ – vem räknas, och när?",
        (
            (MS, "invånare", "Den som bor i Malmö, oavsett medborgarskap; kommunen säger ofta 'malmöbor'."),
            (MV, "medborgare", "Den som har svenskt medborgarskap enligt medborgarskapslagen."),
            (AF, "nyanländ", "Den som har fått uppehållstillstånd och omfattas av etableringsuppdraget."),
        ),
    ),
)

COMMENTS = (
    (
        "Kund",
        "amina.hassan",
        "Bra att se det här sida vid sida – vi säger 'klient' om samma person som AF kallar 'arbetssökande'.",
    ),
    ("Kund", "lina.bjork", "Vi tar upp ordvalen på nästa möte i Organisationskännedom."),
    ("Patient", "stefan.blom", "Viktigt för samtyckesblanketterna: vad vi får lämna ut beror på ordet."),
)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def _weekday(day: date) -> date:
    """The nearest Wednesday on or after ``day`` (the groups meet mid-week)."""
    return day + timedelta(days=(2 - day.weekday()) % 7)


def _people(programme: Programme) -> dict[str, Person]:
    return {
        p.user.username: p
        for p in Person.unscoped_objects.filter(memberships__programme=programme).select_related(
            "user", "organisation"
        )
    }


def _seat(group: FocusGroup, person: Person, seat: Seat) -> None:
    membership = GroupMembership.unscoped_objects.filter(group=group, person=person, is_active=True).first()
    if membership is None:
        GroupMembership.unscoped_objects.create(
            group=group,
            person=person,
            role=seat.role,
            organisation=person.organisation,
            mandate=seat.mandate,
            sent_by=seat.sent_by,
        )
    if seat.role == CONVENER and group.convener_id is None:
        group.convener = person
        group.save(update_fields=["convener"])


def _meeting(
    group: FocusGroup,
    title: str,
    starts_at: datetime,
    hours: int,
    by: Person,
    agenda: tuple[tuple[str, str], ...],
    *,
    place: str = "",
    online_link: str = "",
    minutes: str = "",
    decisions: tuple[str, ...] = (),
) -> Meeting:
    meeting = Meeting.unscoped_objects.filter(group=group, title=title).first()
    if meeting is not None:
        return meeting
    meeting = Meeting.unscoped_objects.create(
        group=group,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        place=place,
        online_link=online_link,
        status=Meeting.Status.HELD if minutes else Meeting.Status.SCHEDULED,
        minutes=minutes,
        created_by=by,
    )
    AgendaItem.unscoped_objects.bulk_create(
        [AgendaItem(meeting=meeting, position=i, title=t, note=n) for i, (t, n) in enumerate(agenda, start=1)]
    )
    Decision.unscoped_objects.bulk_create(
        [Decision(meeting=meeting, position=i, text=t) for i, t in enumerate(decisions, start=1)]
    )
    return meeting


def _note(
    group: FocusGroup,
    visibility: str,
    versions: tuple[tuple[str, str, str], ...],
    people: dict[str, Person],
    first_saved: datetime,
) -> Note:
    """A note with one version per (author, title, body), the last being current."""
    final_title = versions[-1][1]
    note = Note.unscoped_objects.filter(group=group, title=final_title).first()
    if note is not None:
        return note
    author, title, body = versions[-1]
    last_at = first_saved + timedelta(days=2 * (len(versions) - 1), hours=1)
    note = Note.unscoped_objects.create(
        group=group,
        title=title,
        visibility=visibility,
        body=body,
        version=len(versions),
        updated_by=people[author],
        updated_at=last_at,
    )
    NoteVersion.unscoped_objects.bulk_create(
        [
            NoteVersion(
                note=note,
                version=number,
                title=v_title,
                body=v_body,
                author=people[v_author],
                created_at=first_saved + timedelta(days=2 * (number - 1), hours=number - 1),
            )
            for number, (v_author, v_title, v_body) in enumerate(versions, start=1)
        ]
    )
    return note


def _action(
    group: FocusGroup,
    title: str,
    owner: Person,
    by: Person,
    due_on: date | None,
    *,
    meeting: Meeting | None = None,
    status: str = ActionItem.Status.OPEN,
    description: str = "",
) -> None:
    if ActionItem.unscoped_objects.filter(group=group, title=title).exists():
        return
    ActionItem.unscoped_objects.create(
        group=group,
        meeting=meeting,
        title=title,
        description=description,
        owner=owner,
        organisation=owner.organisation,
        due_on=due_on,
        status=status,
        created_by=by,
    )


def _glossary(programme: Programme, people: dict[str, Person]) -> None:
    organisations = {
        o.name: o for o in Organisation.unscoped_objects.filter(participations__programme=programme)
    }
    by_organisation: dict[str, Person] = {}
    for person in sorted(people.values(), key=lambda p: p.pk):
        by_organisation.setdefault(person.organisation.name, person)
    author = people["lina.bjork"]
    concepts = {}
    for name, description, terms in CONCEPTS:
        concept, _created = Concept.unscoped_objects.get_or_create(
            programme=programme, name=name, defaults={"description": description, "created_by": author}
        )
        concepts[name] = concept
        for organisation_name, term, definition in terms:
            organisation = organisations[organisation_name]
            ConceptTerm.unscoped_objects.get_or_create(
                concept=concept,
                organisation=organisation,
                defaults={
                    "term": term,
                    "definition": definition,
                    "updated_by": by_organisation.get(organisation_name),
                },
            )
    for name, username, body in COMMENTS:
        ConceptComment.unscoped_objects.get_or_create(
            concept=concepts[name], author=people[username], body=body
        )


def seed_focusgroups() -> list[tuple[str, str]]:
    programme = Programme.unscoped_objects.get(slug=MALMO_SLUG)
    by_code = {g.code: g for g in groups.ensure_default_groups(programme)}
    people = _people(programme)
    for code, seats in GROUP_SEATS.items():
        for seat in seats:
            _seat(by_code[code], people[seat.username], seat)

    today = timezone.localdate()
    lina, amina, karin = people["lina.bjork"], people["amina.hassan"], people["karin.nystrom"]
    org = by_code["organisationskannedom"]
    past = _meeting(
        org,
        "Uppstartsmöte: hur lär vi känna varandras organisationer?",
        _at(_weekday(today - timedelta(days=24)), 13),
        2,
        lina,
        (
            ("Presentationsrunda", "Vem är vi och vilket mandat har vi?"),
            ("Erfarenheter från Kockumsdagarna", ""),
            ("Förslag: organisationspresentationer och auskultation", ""),
        ),
        place="Stadskontoret, August Palms plats 1, rum Kockum",
        minutes=(
            "Närvarande: representanter för alla sex organisationer.\n\n"
            "Gruppen gick igenom erfarenheterna från Kockumsdagarna. Alla upplevde att de vet för lite om "
            "varandras regelverk och arbetssätt. Gruppen vill börja med korta presentationer av varje "
            "organisation och att fler auskulterar hos varandra."
        ),
        decisions=(
            "Varje organisation håller en presentation på 30 minuter om sitt uppdrag under våren.",
            "Gruppen föreslår två auskultationsplatser i månaden på Mottagningsenheten.",
        ),
    )
    _meeting(
        org,
        "Organisationspresentationer: Migrationsverket och Malmö stad",
        _at(_weekday(today + timedelta(days=12)), 9),
        3,
        lina,
        (
            ("Migrationsverket: mottagning och prövning", "Karin Nyström"),
            ("Malmö stad: introduktion, socialtjänst och sfi", "Amina Hassan"),
            ("Frågor och nästa steg", ""),
        ),
        place="Migrationsverket, Jägersrovägen 160, Malmö",
        online_link="https://meet.example/organisationskannedom",
    )
    _note(
        org,
        Note.Visibility.GROUP,
        tuple((author, title, body) for author, title, body in WORK_NOTE_VERSIONS),
        people,
        timezone.now() - timedelta(days=20),
    )
    _note(
        org,
        Note.Visibility.PROGRAMME,
        (
            (
                "lina.bjork",
                "Schema för organisationspresentationer",
                "Mars: Migrationsverket och Malmö stad\nApril: Arbetsförmedlingen och Region Skåne\n"
                "Maj: Röda korset och Malmö universitet\n",
            ),
        ),
        people,
        timezone.now() - timedelta(days=15),
    )
    _action(
        org,
        "Sammanställ frågor till Mottagningsenheten inför auskultationen",
        amina,
        lina,
        today + timedelta(days=10),
        meeting=past,
        description="Frågor från introduktionssekreterarna om asylperioden: vad vet Migrationsverket om "
        "personens hälsa, utbildning och familj som vi kan få ta del av?",
    )
    _action(
        org,
        "Förbered Migrationsverkets presentation",
        karin,
        lina,
        today + timedelta(days=11),
        meeting=past,
        status=ActionItem.Status.IN_PROGRESS,
    )
    _action(
        org, "Boka lokal för presentationerna i april", lina, lina, today - timedelta(days=3), meeting=past
    )
    _action(
        org,
        "Skicka ut minnesanteckningar från uppstartsmötet",
        lina,
        lina,
        today - timedelta(days=20),
        meeting=past,
        status=ActionItem.Status.DONE,
    )

    info = by_code["informationsflodet"]
    _meeting(
        info,
        "Var stannar informationen?",
        _at(_weekday(today - timedelta(days=10)), 10),
        2,
        lina,
        (("Kartläggning av överlämningar mellan myndigheterna", ""), ("Samtycke och sekretess", "")),
        place="Arbetsförmedlingen, Södra Förstadsgatan 40",
        minutes="Gruppen ritade upp hur ett ärende går från Migrationsverket till kommunen och "
        "Arbetsförmedlingen. Överlämningen vid kommunplacering är den svagaste länken.",
        decisions=("Ta fram en gemensam checklista för överlämning vid kommunplacering.",),
    )
    _note(
        info,
        Note.Visibility.PUBLIC,
        (
            (
                "ahmed.karimi",
                "Checklista: överlämning vid kommunplacering (utkast)",
                "1. Samtycke till att lämna uppgifter\n2. Kontaktuppgifter till handläggare\n",
            ),
            (
                "erik.sandberg",
                "Checklista: överlämning vid kommunplacering (utkast)",
                "1. Samtycke till att lämna uppgifter\n2. Kontaktuppgifter till handläggare\n"
                "3. Pågående insatser inom vården\n4. Utbildningsbakgrund och språk\n",
            ),
        ),
        people,
        timezone.now() - timedelta(days=8),
    )
    _action(
        info,
        "Stäm av checklistan med socialtjänsten",
        people["erik.sandberg"],
        lina,
        today + timedelta(days=20),
    )

    health = by_code["halsoperspektivet-empowerment"]
    _note(
        health,
        Note.Visibility.GROUP,
        (
            (
                "maria.forsberg",
                "Idéer: empowerment i mötet med nyanlända",
                "Hur kan vi stärka personens egen kontroll över sin situation i varje myndighetskontakt?\n",
            ),
        ),
        people,
        timezone.now() - timedelta(days=6),
    )
    _glossary(programme, people)

    copenhagen = Programme.unscoped_objects.filter(slug=COPENHAGEN_SLUG).first()
    if copenhagen is not None:
        groups.ensure_default_groups(copenhagen)
    return []
