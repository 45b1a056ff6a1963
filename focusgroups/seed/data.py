"""The focus-group demo data of Malmö's programme (DOMAIN.md, seed 001), in Swedish, as plain tables.

- The **six priority areas**, each with a convener and representatives of the organisations, every one with a
  mandate (who sent them, what they may decide). *Hälsoperspektivet/empowerment* has nobody from
  Migrationsverket yet, as happens. Lina Björk (Arbetsförmedlingen) convenes three groups, Maria Forsberg
  (Region Skåne) the other three; Amina Hassan sits in *Organisationskännedom*.
- *Organisationskännedom*: a past meeting with minutes and decisions, an upcoming one, a group-only working
  note with versions by three authors, a note for the whole programme, and open actions (one is Amina's).
- *Informationsflödet*: a past meeting with minutes and a public note (on everyone's start page).
- The **shared glossary** for the politician's question (customer, client, patient, student, citizen) with
  several organisations' terms and definitions side by side, and comments.

Dates are days relative to the day of the first run; ``focusgroups.seed.loader`` writes the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from focusgroups.models import ActionItem, GroupMembership, Note

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

MANDATE_CHEF = "Får besluta om den egna enhetens deltagande och resurser inom ramen för programmet."
MANDATE_REP = (
    "Företräder sin enhet: får föreslå gemensamma aktiviteter och besluta om den egna enhetens "
    "deltagande; större åtaganden stäms av med chefen."
)
MANDATE_LEAD = "Sammankallande: leder arbetet, får besluta om gruppens arbetsformer och mötesplan."
MANDATE_OBS = "Deltar som observatör utan beslutsmandat."


@dataclass(frozen=True)
class Seat:
    username: str
    role: str
    sent_by: str
    mandate: str


@dataclass(frozen=True)
class GroupSeats:
    group: str  # the group's code
    seats: tuple[Seat, ...]


@dataclass(frozen=True)
class MeetingRow:
    group: str
    title: str
    days_from_today: int  # moved to the nearest Wednesday on or after that day
    hour: int
    hours: int
    by: str
    agenda: tuple[tuple[str, str], ...]  # (title, note)
    place: str = ""
    online_link: str = ""
    minutes: str = ""
    decisions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Version:
    author: str
    title: str
    body: str


@dataclass(frozen=True)
class NoteRow:
    group: str
    visibility: str
    versions: tuple[Version, ...]  # the last one is current
    first_saved_days_ago: int


@dataclass(frozen=True)
class ActionRow:
    group: str
    title: str
    owner: str
    by: str
    due_in_days: int | None
    meeting: str = ""  # the title of the meeting it was agreed at
    status: str = ActionItem.Status.OPEN
    description: str = ""


@dataclass(frozen=True)
class Term:
    organisation: str
    term: str
    definition: str


@dataclass(frozen=True)
class ConceptRow:
    name: str
    description: str
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class CommentRow:
    concept: str
    author: str
    body: str


GROUP_SEATS: tuple[GroupSeats, ...] = (
    GroupSeats(
        "organisationskannedom",
        (
            Seat("lina.bjork", CONVENER, "Thomas Wikström, sektionschef", MANDATE_LEAD),
            Seat("karin.nystrom", MEMBER, "Lars Pettersson, enhetschef Mottagningsenheten", MANDATE_REP),
            Seat("amina.hassan", MEMBER, "Per Olsson, enhetschef Introduktionsverksamheten", MANDATE_REP),
            Seat("stefan.blom", MEMBER, "Margareta Lund, verksamhetschef Vuxenpsykiatrin", MANDATE_REP),
            Seat("daniel.nord", MEMBER, "Ulla Magnusson, verksamhetschef behandlingscentret", MANDATE_REP),
            Seat("peter.lindqvist", MEMBER, "Kristina Falk, föreståndare RUC", MANDATE_REP),
            Seat("johan.bergstrom", OBSERVER, "Eva Lindgren, projektledare", MANDATE_OBS),
        ),
    ),
    GroupSeats(
        "informationsflodet",
        (
            Seat("lina.bjork", CONVENER, "Thomas Wikström, sektionschef", MANDATE_LEAD),
            Seat("ahmed.karimi", MEMBER, "Lars Pettersson, enhetschef Mottagningsenheten", MANDATE_REP),
            Seat("erik.sandberg", MEMBER, "Per Olsson, enhetschef Introduktionsverksamheten", MANDATE_REP),
            Seat("elin.sjoberg", MEMBER, "Jan Hedlund, teamledare", MANDATE_REP),
            Seat("ulla.magnusson", MEMBER, "Röda korsets regionkontor", MANDATE_CHEF),
            Seat("kristina.falk", MEMBER, "Malmö universitet, prorektor", MANDATE_CHEF),
        ),
    ),
    GroupSeats(
        "malgruppskannedom",
        (
            Seat("maria.forsberg", CONVENER, "Margareta Lund, verksamhetschef Vuxenpsykiatrin", MANDATE_LEAD),
            Seat("leila.haddad", MEMBER, "Birgitta Axelsson, enhetschef Prövningsenheten", MANDATE_REP),
            Seat("fatima.ali", MEMBER, "Per Olsson, enhetschef Introduktionsverksamheten", MANDATE_REP),
            Seat("omar.yusuf", MEMBER, "Thomas Wikström, sektionschef", MANDATE_REP),
            Seat("sofia.ek", MEMBER, "Ulla Magnusson, verksamhetschef behandlingscentret", MANDATE_REP),
            Seat("peter.lindqvist", MEMBER, "Kristina Falk, föreståndare RUC", MANDATE_REP),
        ),
    ),
    GroupSeats(
        "kartlaggningsmetodik",
        (
            Seat("lina.bjork", CONVENER, "Thomas Wikström, sektionschef", MANDATE_LEAD),
            Seat("sara.johansson", MEMBER, "Lars Pettersson, enhetschef Mottagningsenheten", MANDATE_REP),
            Seat("helena.persson", MEMBER, "Anna Karlsson, sektionschef Socialtjänsten", MANDATE_REP),
            Seat("camilla.ek", MEMBER, "Thomas Wikström, sektionschef", MANDATE_REP),
            Seat("jan.hedlund", MEMBER, "Margareta Lund, verksamhetschef", MANDATE_CHEF),
            Seat("daniel.nord", MEMBER, "Ulla Magnusson, verksamhetschef behandlingscentret", MANDATE_REP),
            Seat("kristina.falk", MEMBER, "Malmö universitet, prorektor", MANDATE_CHEF),
        ),
    ),
    GroupSeats(
        "samarbete-samverkan",
        (
            Seat("maria.forsberg", CONVENER, "Margareta Lund, verksamhetschef Vuxenpsykiatrin", MANDATE_LEAD),
            Seat("lars.pettersson", MEMBER, "Migrationsverket, regionchef", MANDATE_CHEF),
            Seat("anna.karlsson", MEMBER, "Malmö stad, avdelningschef", MANDATE_CHEF),
            Seat("thomas.wikstrom", MEMBER, "Arbetsförmedlingen, marknadsområdeschef", MANDATE_CHEF),
            Seat("sofia.ek", MEMBER, "Ulla Magnusson, verksamhetschef behandlingscentret", MANDATE_REP),
            Seat("peter.lindqvist", MEMBER, "Kristina Falk, föreståndare RUC", MANDATE_REP),
        ),
    ),
    # Nobody from Migrationsverket yet: the group page and the coordinators' start page show it missing.
    GroupSeats(
        "halsoperspektivet-empowerment",
        (
            Seat("maria.forsberg", CONVENER, "Margareta Lund, verksamhetschef Vuxenpsykiatrin", MANDATE_LEAD),
            Seat("jonas.lindberg", MEMBER, "Anna Karlsson, sektionschef Socialtjänsten", MANDATE_REP),
            Seat("nadia.rahimi", MEMBER, "Göran Eriksson, rektor Sfi Malmö", MANDATE_REP),
            Seat("omar.yusuf", MEMBER, "Thomas Wikström, sektionschef", MANDATE_REP),
            Seat("daniel.nord", MEMBER, "Ulla Magnusson, verksamhetschef behandlingscentret", MANDATE_REP),
            Seat("kristina.falk", MEMBER, "Malmö universitet, prorektor", MANDATE_CHEF),
        ),
    ),
)

CONCEPTS: tuple[ConceptRow, ...] = (
    ConceptRow(
        "Kund",
        "Vem är 'kunden'? Ordet används olika – eller inte alls – i våra organisationer.",
        (
            Term(
                AF,
                "arbetssökande (kund)",
                "Den som är inskriven hos Arbetsförmedlingen; 'kund' används om både "
                "arbetssökande och arbetsgivare.",
            ),
            Term(
                MV,
                "sökande",
                "Den som har ansökt om asyl, uppehållstillstånd eller medborgarskap. 'Kund' används "
                "inte i ärendehandläggningen.",
            ),
            Term(
                MS,
                "brukare",
                "Den som tar emot stöd från kommunens verksamheter; inom socialtjänsten oftast 'klient'.",
            ),
        ),
    ),
    ConceptRow(
        "Klient",
        "Personen vi har ett ärende om – men med olika rättigheter och skyldigheter hos var och en.",
        (
            Term(MS, "klient", "Den som har ett ärende hos socialtjänsten eller introduktionsverksamheten."),
            Term(
                RK,
                "klient",
                "Den som får behandling eller stöd vid behandlingscentret; frivilligt och utan "
                "myndighetsbeslut.",
            ),
            Term(MV, "sökande", "Se 'kund': den som har ett pågående ärende hos Migrationsverket."),
            Term(AF, "arbetssökande", "Den som är inskriven och har en planering hos Arbetsförmedlingen."),
        ),
    ),
    ConceptRow(
        "Patient",
        "Den som får hälso- och sjukvård – och vad det innebär för sekretess mellan oss.",
        (
            Term(
                RS,
                "patient",
                "Den som får hälso- och sjukvård; uppgifterna skyddas av hälso- och sjukvårdssekretess.",
            ),
            Term(
                RK,
                "klient",
                "Vi säger klient även om behandlingen är vård, för att betona att den är frivillig.",
            ),
            Term(MS, "–", "Kommunen använder 'patient' bara inom kommunal hälso- och sjukvård."),
        ),
    ),
    ConceptRow(
        "Elev/studerande",
        "Den som deltar i utbildning, t.ex. sfi eller en arbetsmarknadsutbildning.",
        (
            Term(MS, "elev", "Den som läser svenska för invandrare (sfi) inom Komvux."),
            Term(AF, "deltagare", "Den som deltar i en arbetsmarknadsutbildning eller ett program."),
            Term(MAU, "studerande", "Den som är antagen till en kurs eller ett program vid universitetet."),
        ),
    ),
    ConceptRow(
        "Medborgare",
        "Medborgare, invånare eller nyanländ – vem räknas, och när?",
        (
            Term(
                MS, "invånare", "Den som bor i Malmö, oavsett medborgarskap; kommunen säger ofta 'malmöbor'."
            ),
            Term(MV, "medborgare", "Den som har svenskt medborgarskap enligt medborgarskapslagen."),
            Term(AF, "nyanländ", "Den som har fått uppehållstillstånd och omfattas av etableringsuppdraget."),
        ),
    ),
)

COMMENTS: tuple[CommentRow, ...] = (
    CommentRow(
        "Kund",
        "amina.hassan",
        "Bra att se det här sida vid sida – vi säger 'klient' om samma person som AF kallar 'arbetssökande'.",
    ),
    CommentRow("Kund", "lina.bjork", "Vi tar upp ordvalen på nästa möte i Organisationskännedom."),
    CommentRow(
        "Patient", "stefan.blom", "Viktigt för samtyckesblanketterna: vad vi får lämna ut beror på ordet."
    ),
)

WORK_NOTE_VERSIONS: tuple[Version, ...] = (
    Version(
        "lina.bjork",
        "Studiebesök och presentationer – arbetsanteckningar",
        "Mål: varje organisation presenterar sitt uppdrag för de andra under våren.\n"
        "\n"
        "- Migrationsverket: mottagning och prövning\n"
        "- Malmö stad: introduktion och socialtjänst\n",
    ),
    Version(
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
    Version(
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


ORG, INFO, HEALTH = "organisationskannedom", "informationsflodet", "halsoperspektivet-empowerment"
KICK_OFF = "Uppstartsmöte: hur lär vi känna varandras organisationer?"

MEETINGS: tuple[MeetingRow, ...] = (
    MeetingRow(
        ORG,
        KICK_OFF,
        -24,
        13,
        2,
        "lina.bjork",
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
    ),
    MeetingRow(
        ORG,
        "Organisationspresentationer: Migrationsverket och Malmö stad",
        12,
        9,
        3,
        "lina.bjork",
        (
            ("Migrationsverket: mottagning och prövning", "Karin Nyström"),
            ("Malmö stad: introduktion, socialtjänst och sfi", "Amina Hassan"),
            ("Frågor och nästa steg", ""),
        ),
        place="Migrationsverket, Jägersrovägen 160, Malmö",
        online_link="https://meet.example/organisationskannedom",
    ),
    MeetingRow(
        INFO,
        "Var stannar informationen?",
        -10,
        10,
        2,
        "lina.bjork",
        (("Kartläggning av överlämningar mellan myndigheterna", ""), ("Samtycke och sekretess", "")),
        place="Arbetsförmedlingen, Södra Förstadsgatan 40",
        minutes="Gruppen ritade upp hur ett ärende går från Migrationsverket till kommunen och "
        "Arbetsförmedlingen. Överlämningen vid kommunplacering är den svagaste länken.",
        decisions=("Ta fram en gemensam checklista för överlämning vid kommunplacering.",),
    ),
)

NOTES: tuple[NoteRow, ...] = (
    NoteRow(ORG, Note.Visibility.GROUP, WORK_NOTE_VERSIONS, 20),
    NoteRow(
        ORG,
        Note.Visibility.PROGRAMME,
        (
            Version(
                "lina.bjork",
                "Schema för organisationspresentationer",
                "Mars: Migrationsverket och Malmö stad\nApril: Arbetsförmedlingen och Region Skåne\n"
                "Maj: Röda korset och Malmö universitet\n",
            ),
        ),
        15,
    ),
    NoteRow(
        INFO,
        Note.Visibility.PUBLIC,
        (
            Version(
                "ahmed.karimi",
                "Checklista: överlämning vid kommunplacering (utkast)",
                "1. Samtycke till att lämna uppgifter\n2. Kontaktuppgifter till handläggare\n",
            ),
            Version(
                "erik.sandberg",
                "Checklista: överlämning vid kommunplacering (utkast)",
                "1. Samtycke till att lämna uppgifter\n2. Kontaktuppgifter till handläggare\n"
                "3. Pågående insatser inom vården\n4. Utbildningsbakgrund och språk\n",
            ),
        ),
        8,
    ),
    NoteRow(
        HEALTH,
        Note.Visibility.GROUP,
        (
            Version(
                "maria.forsberg",
                "Idéer: empowerment i mötet med nyanlända",
                "Hur kan vi stärka personens egen kontroll över sin situation i varje myndighetskontakt?\n",
            ),
        ),
        6,
    ),
)

ACTIONS: tuple[ActionRow, ...] = (
    ActionRow(
        ORG,
        "Sammanställ frågor till Mottagningsenheten inför auskultationen",
        "amina.hassan",
        "lina.bjork",
        10,
        meeting=KICK_OFF,
        description="Frågor från introduktionssekreterarna om asylperioden: vad vet Migrationsverket om "
        "personens hälsa, utbildning och familj som vi kan få ta del av?",
    ),
    ActionRow(
        ORG,
        "Förbered Migrationsverkets presentation",
        "karin.nystrom",
        "lina.bjork",
        11,
        meeting=KICK_OFF,
        status=ActionItem.Status.IN_PROGRESS,
    ),
    ActionRow(
        ORG, "Boka lokal för presentationerna i april", "lina.bjork", "lina.bjork", -3, meeting=KICK_OFF
    ),
    ActionRow(
        ORG,
        "Skicka ut minnesanteckningar från uppstartsmötet",
        "lina.bjork",
        "lina.bjork",
        -20,
        meeting=KICK_OFF,
        status=ActionItem.Status.DONE,
    ),
    ActionRow(INFO, "Stäm av checklistan med socialtjänsten", "erik.sandberg", "lina.bjork", 20),
)
