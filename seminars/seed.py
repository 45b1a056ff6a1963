"""Demo data of the joint courses in Malmö's programme (DOMAIN.md, seed 001), in Swedish.

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
names are added as members of the Malmö programme. Idempotent: natural keys (titles, labels, usernames)
find existing rows, and nothing that exists is changed; dates are relative to the day of the first run.
Enrolments are written directly (no invites are mailed for demo bookings).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.utils import timezone

from organisations.models import (
    Membership,
    Organisation,
    Person,
    PlatformRole,
    Programme,
    RoleAssignment,
    Unit,
    WorkRole,
)
from organisations.seed import malmo
from seminars import grouping
from seminars.models import (
    Attendance,
    Completion,
    Course,
    DiscussionGroup,
    DiscussionGroupMember,
    Enrolment,
    OrganisationQuota,
    Round,
    RoundCost,
    Session,
)

S = Enrolment.Status
MV, MS, AF, RS, RK, MAU = (
    "Migrationsverket",
    "Malmö stad",
    "Arbetsförmedlingen",
    "Region Skåne",
    "Röda korset",
    "Malmö universitet",
)

# --- Extra participants ---------------------------------------------------------------------------------

FIRST_NAMES = (
    "Maria",
    "Anna",
    "Karin",
    "Lena",
    "Kerstin",
    "Emma",
    "Johanna",
    "Malin",
    "Linda",
    "Jenny",
    "Hanna",
    "Sofie",
    "Ida",
    "Louise",
    "Therese",
    "Frida",
    "Annika",
    "Susanne",
    "Cecilia",
    "Jessica",
    "Monica",
    "Åsa",
    "Ulrika",
    "Petra",
    "Marie",
    "Yasmin",
    "Leyla",
    "Amira",
    "Noor",
    "Hiba",
    "Dalia",
    "Zeynep",
    "Mirela",
    "Jelena",
    "Aida",
    "Lars",
    "Anders",
    "Johan",
    "Mikael",
    "Fredrik",
    "Daniel",
    "Magnus",
    "Peter",
    "Andreas",
    "Niklas",
    "Patrik",
    "Martin",
    "Henrik",
    "Mattias",
    "Tobias",
    "Joakim",
    "Oskar",
    "Gustav",
    "Viktor",
    "Simon",
    "Kristoffer",
    "Sebastian",
    "Emil",
    "Alexander",
    "Björn",
    "Ola",
    "Samir",
    "Ali",
    "Mohammed",
    "Yousef",
    "Karim",
    "Hamid",
    "Reza",
    "Emir",
    "Dragan",
    "Tomas",
    "Ibrahim",
    "Nils",
    "Axel",
    "Hugo",
    "Elsa",
    "Klara",
    "Linnea",
    "Matilda",
    "Rasmus",
    "Jesper",
    "Leo",
    "Amanda",
    "Sanna",
)
LAST_NAMES = (
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Jansson",
    "Hansson",
    "Bengtsson",
    "Jönsson",
    "Lindberg",
    "Jakobsson",
    "Magnusson",
    "Lindström",
    "Olofsson",
    "Lindqvist",
    "Lindgren",
    "Axelsson",
    "Berg",
    "Bergström",
    "Lundberg",
    "Lind",
    "Lundgren",
    "Lundqvist",
    "Mattsson",
    "Berglund",
    "Fredriksson",
    "Sandberg",
    "Henriksson",
    "Mohammadi",
    "Hosseini",
    "Abdi",
    "Demir",
    "Jovanović",
    "Hodžić",
    "Nguyen",
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


def _ascii(text: str) -> str:
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ć": "c", "ž": "z", "ø": "o"})
    return text.lower().translate(table)


def _email_domain(organisation: Organisation) -> str:
    return _ascii(organisation.short_name.replace(" ", ""))


def _extra_people(programme: Programme) -> list[Person]:
    """The fictitious participants, created once (unusable passwords: they are not demo logins)."""
    organisations = {
        o.name: o for o in Organisation.unscoped_objects.filter(participations__programme=programme)
    }
    roles = {r.code: r for r in WorkRole.unscoped_objects.filter(programme=programme)}
    managers = {
        p.user.username: p
        for p in Person.unscoped_objects.select_related("user").filter(
            user__username__in={c.manager for c in COHORTS}
        )
    }
    taken = set(User.objects.values_list("username", flat=True))
    names = iter(FIRST_NAMES)
    people: list[Person] = []
    index = 0
    for cohort in COHORTS:
        organisation = organisations[cohort.organisation]
        unit = Unit.unscoped_objects.get(organisation=organisation, name=cohort.unit)
        for _ in range(cohort.count):
            first = next(names)
            last = LAST_NAMES[(index * 11) % len(LAST_NAMES)]  # 11 is coprime to 42: every surname in turn
            index += 1
            username = f"{_ascii(first)}.{_ascii(last)}"
            user = User.objects.filter(username=username).first()
            if user is None:
                step = 1
                while username in taken:  # a demo person already has this name: take the next surname
                    last = LAST_NAMES[(index * 11 + step) % len(LAST_NAMES)]
                    username = f"{_ascii(first)}.{_ascii(last)}"
                    step += 1
                user = User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@{_email_domain(organisation)}.example",
                )
                user.set_unusable_password()
                user.save()
                taken.add(username)
            person = Person.unscoped_objects.filter(user=user).first()
            if person is None:
                person = Person.unscoped_objects.create(
                    user=user,
                    organisation=organisation,
                    unit=unit,
                    job_title=cohort.job_title,
                    line_manager=managers.get(cohort.manager),
                    languages=["sv", "en"],
                )
            membership, created = Membership.unscoped_objects.get_or_create(
                programme=programme, person=person, defaults={"work_role": roles[cohort.work_role]}
            )
            if created:
                RoleAssignment.unscoped_objects.create(membership=membership, role=PlatformRole.STAFF)
            people.append(person)
    return people


# --- Helpers --------------------------------------------------------------------------------------------


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo("Europe/Stockholm"))


def _weekday(day: date) -> date:
    """The nearest Tuesday on or after ``day`` (courses here run mid-week)."""
    return day + timedelta(days=(1 - day.weekday()) % 7)


def _course(programme: Programme, title: str, providers: Sequence[Organisation], **values: object) -> Course:
    course, created = Course.unscoped_objects.get_or_create(programme=programme, title=title, defaults=values)
    if created:
        course.providers.set(providers)
    return course


def _round(
    course: Course,
    label: str,
    days: Sequence[date],
    *,
    hours: tuple[int, int] = (9, 16),
    place: str,
    **values: object,
) -> tuple[Round, bool]:
    first = _at(days[0], hours[0])
    defaults: dict[str, object] = {
        "capacity": 30,
        "registration_opens_at": first - timedelta(days=60),
        "registration_closes_at": first - timedelta(days=10),
        "cancellation_deadline": first - timedelta(days=7),
        "status": Round.Status.PUBLISHED,
        "offer_hold_hours": 48,
        "starts_at": first,
        "ends_at": _at(days[-1], hours[1]),
    }
    defaults.update(values)
    round_, created = Round.unscoped_objects.get_or_create(course=course, label=label, defaults=defaults)
    if created:
        for number, day in enumerate(days, start=1):
            Session.unscoped_objects.create(
                round=round_,
                title=f"Dag {number}" if len(days) > 1 else "",
                starts_at=_at(day, hours[0]),
                ends_at=_at(day, hours[1]),
                place=place,
            )
    return round_, created


def _enrol(
    round_: Round, people: Iterable[Person], status: str, when: datetime, **values: object
) -> list[Enrolment]:
    made = []
    for offset, person in enumerate(people):
        existing = Enrolment.unscoped_objects.filter(round=round_, person=person).first()
        if existing is None:
            existing = Enrolment.unscoped_objects.create(
                round=round_,
                person=person,
                organisation_id=person.organisation_id,
                status=status,
                requested_at=when + timedelta(minutes=7 * offset),
                confirmed_at=when + timedelta(minutes=7 * offset) if status == S.CONFIRMED else None,
                **values,
            )
        made.append(existing)
    return made


def _attend_and_complete(
    round_: Round,
    enrolments: Sequence[Enrolment],
    method: str,
    recorded_by: Person,
    absent_from: dict[int, int] | None = None,
) -> None:
    sessions = list(Session.unscoped_objects.filter(round=round_).order_by("starts_at"))
    for enrolment in enrolments:
        for index, session in enumerate(sessions):
            present = not (absent_from and absent_from.get(enrolment.pk) == index)
            Attendance.unscoped_objects.get_or_create(
                enrolment=enrolment, session=session, defaults={"present": present, "marked_by": recorded_by}
            )
        Completion.unscoped_objects.get_or_create(
            person=enrolment.person,
            course=round_.course,
            defaults={
                "round": round_,
                "method": method,
                "recorded_by": recorded_by,
                "completed_on": timezone.localdate(sessions[-1].ends_at, ZoneInfo("Europe/Stockholm")),
            },
        )


def _costs(round_: Round, items: Sequence[tuple[str, str, str]], by: Person) -> None:
    if RoundCost.unscoped_objects.filter(round=round_).exists():
        return
    for kind, amount, note in items:
        RoundCost.unscoped_objects.create(
            round=round_, kind=kind, amount=Decimal(amount), note=note, created_by=by
        )


def _recount(round_: Round) -> None:
    taken = Enrolment.unscoped_objects.filter(round=round_, status__in=Enrolment.SEAT_HOLDING).count()
    if round_.seats_taken != taken:
        Round.unscoped_objects.filter(pk=round_.pk).update(seats_taken=taken)


def _by_username(people: Iterable[Person]) -> list[Person]:
    return sorted(people, key=lambda p: p.user.username)


# --- The courses ----------------------------------------------------------------------------------------


def seed_seminars() -> list[tuple[str, str]]:
    programme = malmo()
    _extra_people(programme)
    people = {
        p.user.username: p
        for p in Person.unscoped_objects.filter(memberships__programme=programme)
        .select_related("user", "organisation")
        .order_by("pk")
    }
    organisations = {
        o.name: o for o in Organisation.unscoped_objects.filter(participations__programme=programme)
    }
    roles = {r.code: r for r in WorkRole.unscoped_objects.filter(programme=programme)}
    work_role_of = dict(
        Membership.unscoped_objects.filter(programme=programme).values_list("person_id", "work_role__code")
    )
    org_of = {p.pk: p.organisation.name for p in people.values()}
    coordinator = people["johan.bergstrom"]
    sofia, eva = people["sofia.ek"], people["eva.lindgren"]
    # Dates are anchored to the first run; a second run finds the rounds by name and changes nothing.
    today = timezone.localdate()

    # --- PTSD course and its advanced part -------------------------------------------------------------
    ptsd = _course(
        programme,
        "PTSD – att möta människor med traumatiska upplevelser",
        [organisations[RK], organisations[RS]],
        description=(
            "En dag för alla som i sitt arbete möter människor med traumatiska erfarenheter: hur trauma och "
            "PTSD yttrar sig, hur man bemöter och när man hänvisar vidare. Ges av Röda korsets "
            "behandlingscenter, Team för krigs- och tortyrskadade och psykiatrin i Malmö."
        ),
        completion_rule=Course.CompletionRule.ATTENDANCE,
    )
    advanced = _course(
        programme,
        "PTSD fördjupning – samtalsbehandling och bedömningsmetodik",
        [organisations[RK], organisations[RS]],
        description=(
            "Fördjupningsdelen efter PTSD-dagen: samtalsbehandling och bedömningsmetodik. Riktar sig främst "
            "till introduktionssekreterare, kuratorer och handläggare på Migrationsverket. Avslutas med en "
            "bedömningsuppgift."
        ),
        completion_rule=Course.CompletionRule.ASSESSMENT,
    )
    if not advanced.prerequisites.exists():
        advanced.prerequisites.set([ptsd])
        advanced.target_roles.set(
            [roles["introduction_secretary"], roles["counsellor"], roles["case_officer"]]
        )
    ptsd_place = "Röda korsets behandlingscenter, Fredsgatan 3, 211 45 Malmö"

    providers = {"sofia.ek", "jan.hedlund", "elin.sjoberg"}
    pool = _by_username(
        p
        for name, p in people.items()
        if org_of[p.pk] in (MV, MS, AF, RS, RK)
        and name not in providers
        and name not in ("erik.sandberg", "eva.lindgren", "johan.bergstrom")
    )
    # Amina Hassan took the PTSD day in the first round; the other 64 follow in name order.
    amina = people["amina.hassan"]
    ptsd_people = [amina] + [p for p in pool if p.pk != amina.pk][:64]
    round1, _created = _round(
        ptsd, "Omgång 1", [_weekday(today - timedelta(days=300))], place=ptsd_place, capacity=35
    )
    round2, _created = _round(
        ptsd, "Omgång 2", [_weekday(today - timedelta(days=160))], place=ptsd_place, capacity=35
    )
    enrolled1 = _enrol(
        round1, ptsd_people[:33], S.CONFIRMED, round1.registration_opens_at + timedelta(days=2)
    )
    enrolled2 = _enrol(
        round2, ptsd_people[33:], S.CONFIRMED, round2.registration_opens_at + timedelta(days=2)
    )
    _attend_and_complete(round1, enrolled1, Completion.Method.ATTENDANCE, sofia)
    _attend_and_complete(round2, enrolled2, Completion.Method.ATTENDANCE, sofia)
    for past in (round1, round2):
        _costs(
            past,
            [
                (
                    RoundCost.Kind.LECTURE_FEES,
                    "16000.00",
                    "Föreläsare från psykiatrin och behandlingscentret",
                ),
                (RoundCost.Kind.PREPARATION, "6500.00", "Förberedelse och kursmaterial"),
                (RoundCost.Kind.OTHER, "4200.00", "Förtäring"),
            ],
            eva,
        )

    # The advanced part: 45 of the 65, the target roles first.
    target_codes = {"introduction_secretary", "counsellor", "case_officer"}
    completers = [p for p in ptsd_people if p.pk != amina.pk]
    ordered = sorted(completers, key=lambda p: (work_role_of.get(p.pk) not in target_codes, p.user.username))
    advanced_people, remaining = ordered[:45], [amina] + ordered[45:]
    adv1, _created = _round(
        advanced,
        "Omgång 1",
        [_weekday(today - timedelta(days=120)), _weekday(today - timedelta(days=120)) + timedelta(days=1)],
        place=ptsd_place,
        capacity=24,
    )
    adv2, _created = _round(
        advanced,
        "Omgång 2",
        [_weekday(today - timedelta(days=50)), _weekday(today - timedelta(days=50)) + timedelta(days=1)],
        place=ptsd_place,
        capacity=24,
    )
    enrolled = _enrol(
        adv1, advanced_people[:23], S.CONFIRMED, adv1.registration_opens_at + timedelta(days=1), priority=1
    )
    _attend_and_complete(adv1, enrolled, Completion.Method.ASSESSMENT, sofia)
    enrolled = _enrol(
        adv2, advanced_people[23:], S.CONFIRMED, adv2.registration_opens_at + timedelta(days=1), priority=1
    )
    _attend_and_complete(adv2, enrolled, Completion.Method.ASSESSMENT, sofia)
    for past in (adv1, adv2):
        _costs(
            past,
            [
                (RoundCost.Kind.LECTURE_FEES, "28000.00", "Två dagar, två föreläsare"),
                (RoundCost.Kind.PREPARATION, "9000.00", "Bedömningsuppgifter och handledning"),
            ],
            eva,
        )

    # Open rounds: the PTSD day in five weeks, and a full advanced round with a waiting list.
    ptsd_day = _weekday(today + timedelta(days=35))
    round3, created = _round(
        ptsd,
        "Omgång 3",
        [ptsd_day],
        place=ptsd_place,
        capacity=35,
        registration_opens_at=_at(today - timedelta(days=14), 8),
        registration_closes_at=_at(ptsd_day, 12) - timedelta(days=7),
        cancellation_deadline=_at(ptsd_day, 12) - timedelta(days=5),
        information="Lunch ingår. Anmäl specialkost till samordnaren senast en vecka före kursdagen.",
    )
    not_done = _by_username(
        p
        for p in people.values()
        if p.pk not in {q.pk for q in ptsd_people}
        and p.user.username not in providers
        and org_of[p.pk] != MAU
        and p.user.username not in ("eva.lindgren", "johan.bergstrom")
    )
    erik = people["erik.sandberg"]
    open_ptsd = [erik] + [p for p in not_done if p.pk != erik.pk][:13]
    _enrol(round3, open_ptsd, S.CONFIRMED, _at(today - timedelta(days=12), 9))
    adv_day = _weekday(today + timedelta(days=50))
    adv3, created = _round(
        advanced,
        "Omgång 3",
        [adv_day, adv_day + timedelta(days=1)],
        place=ptsd_place,
        capacity=12,
        registration_opens_at=_at(today - timedelta(days=20), 8),
        registration_closes_at=_at(adv_day, 9) - timedelta(days=10),
        cancellation_deadline=_at(adv_day, 9) - timedelta(days=7),
        target_role_mode=Round.TargetRoleMode.PRIORITY,
    )
    others = [p for p in remaining if p.pk != amina.pk]
    _enrol(adv3, others[:11], S.CONFIRMED, _at(today - timedelta(days=19), 8), priority=1)
    for offset, person in enumerate(others[11:17]):
        _enrol(
            adv3,
            [person],
            S.WAITING,
            _at(today - timedelta(days=8), 10) + timedelta(hours=offset),
            priority=1 if work_role_of.get(person.pk) in target_codes else 0,
        )
    if created:
        # A seat freed yesterday was offered to Amina Hassan; she has 48 hours to accept it.
        now = timezone.now()
        _enrol(
            adv3,
            [amina],
            S.OFFERED,
            _at(today - timedelta(days=9), 14),
            priority=1,
            offered_at=now,
            hold_expires_at=now + timedelta(hours=48),
        )

    # --- Mapping methodology: four full days, a quota per agency, line-manager approval ------------------
    mapping = _course(
        programme,
        "Kartläggningsmetodik – gemensam syn på kartläggning och handlingsplan",
        [organisations[MAU]],
        description=(
            "Fyra heldagar, framtagna tillsammans med Malmö universitets regionala utvecklingscentrum. Målet "
            "är att handläggare på Migrationsverket, introduktionsverksamheten och Arbetsförmedlingen får en "
            "gemensam syn på vad en kartläggning och en handlingsplan är. Kursen utgår från deltagarnas eget "
            "arbete, därför ska deltagarna komma från alla myndigheterna."
        ),
        completion_rule=Course.CompletionRule.ATTENDANCE,
        attendance_required_percent=75,
    )
    if not mapping.target_roles.exists():
        mapping.target_roles.set(
            [roles["case_officer"], roles["introduction_secretary"], roles["employment_officer"]]
        )
    first_day = _weekday(today + timedelta(days=60))
    days = [first_day + timedelta(weeks=week) for week in range(4)]
    mapping_round, created = _round(
        mapping,
        "Våren – omgång 1",
        days,
        place="Malmö universitet, Nordenskiöldsgatan 10, 211 19 Malmö",
        capacity=24,
        registration_opens_at=_at(today - timedelta(days=10), 8),
        registration_closes_at=_at(first_day, 9) - timedelta(days=14),
        cancellation_deadline=_at(first_day, 9) - timedelta(days=10),
        reserved_seats_release_at=_at(first_day, 9) - timedelta(days=21),
        target_role_mode=Round.TargetRoleMode.EXCLUSIVE,
        requires_manager_approval=True,
        information="Ta med ett avidentifierat ärende från ditt eget arbete till dag 1.",
    )
    if created:
        for name in (MV, MS, AF):
            OrganisationQuota.unscoped_objects.create(
                round=mapping_round, organisation=organisations[name], reserved=8, maximum=10
            )
    officers = {
        MV: [
            p
            for p in _by_username(people.values())
            if org_of[p.pk] == MV and work_role_of.get(p.pk) == "case_officer"
        ],
        MS: [
            p
            for p in _by_username(people.values())
            if org_of[p.pk] == MS
            and work_role_of.get(p.pk) == "introduction_secretary"
            and p.pk not in (erik.pk, amina.pk)
        ],
        AF: [
            p
            for p in _by_username(people.values())
            if org_of[p.pk] == AF and work_role_of.get(p.pk) == "employment_officer"
        ],
    }
    approved = {
        "approval": Enrolment.Approval.APPROVED,
        "approval_decided_at": _at(today - timedelta(days=6), 10),
    }
    _enrol(
        mapping_round, [amina] + officers[MS][:3], S.CONFIRMED, _at(today - timedelta(days=9), 9), **approved
    )
    _enrol(mapping_round, officers[MV][:5], S.CONFIRMED, _at(today - timedelta(days=8), 9), **approved)
    _enrol(mapping_round, officers[AF][:3], S.CONFIRMED, _at(today - timedelta(days=7), 9), **approved)
    _enrol(
        mapping_round,
        [erik],
        S.PENDING_APPROVAL,
        _at(today - timedelta(days=1), 15),
        approval=Enrolment.Approval.PENDING,
        motivation="Jag arbetar med etableringsplaner varje dag och vill ha samma begrepp som "
        "Arbetsförmedlingen och Migrationsverket.",
    )
    _costs(
        mapping_round,
        [
            (RoundCost.Kind.LECTURE_FEES, "48000.00", "Regionalt utvecklingscentrum, fyra kursdagar"),
            (RoundCost.Kind.VENUE, "0.00", "Universitetets lokaler"),
            (RoundCost.Kind.PREPARATION, "15000.00", "Kursutveckling tillsammans med myndigheterna"),
        ],
        eva,
    )

    # --- Kick-off: Kockumsdagarna, 100 people from six organisations ------------------------------------
    kickoff = _course(
        programme,
        "Kick-off: Kockumsdagarna",
        [organisations[MS]],
        description=(
            "Två seminariedagar som startade programmet. Varje aktör presenterade sitt uppdrag, och i små "
            "blandade grupper diskuterades ett fiktivt ärende tillsammans."
        ),
        completion_rule=Course.CompletionRule.ATTENDANCE,
    )
    kick_day = _weekday(today - timedelta(days=330))
    kick_round, created = _round(
        kickoff,
        "Kockumsdagarna",
        [kick_day, kick_day + timedelta(days=1)],
        hours=(9, 16),
        place="Konferenslokal i Västra hamnen, Malmö",
        capacity=100,
    )
    by_org: dict[str, list[Person]] = {}
    for person in _by_username(people.values()):
        by_org.setdefault(org_of[person.pk], []).append(person)
    quota = {MV: 20, MS: 32, AF: 16, RS: 14, RK: 10, MAU: 8}
    kick_people = [p for name, count in quota.items() for p in by_org.get(name, [])[:count]]
    enrolled = _enrol(
        kick_round, kick_people, S.CONFIRMED, kick_round.registration_opens_at + timedelta(days=1)
    )
    _attend_and_complete(kick_round, enrolled, Completion.Method.ATTENDANCE, eva)
    if not DiscussionGroup.unscoped_objects.filter(round=kick_round).exists():
        participants = [grouping.Participant(e.pk, e.organisation_id) for e in enrolled]
        for number, members in enumerate(grouping.form_groups(participants, 8), start=1):
            group = DiscussionGroup.unscoped_objects.create(
                round=kick_round, number=number, name=f"Grupp {number}"
            )
            DiscussionGroupMember.unscoped_objects.bulk_create(
                [
                    DiscussionGroupMember(group=group, enrolment_id=m.key, programme_id=group.programme_id)
                    for m in members
                ]
            )
    _costs(
        kick_round,
        [
            (RoundCost.Kind.VENUE, "42000.00", "Konferenslokal två dagar"),
            (RoundCost.Kind.LECTURE_FEES, "18000.00", "Inledningstalare och moderator"),
            (
                RoundCost.Kind.PREPARATION,
                "24000.00",
                "Projektledningens förberedelser och det fiktiva ärendet",
            ),
            (RoundCost.Kind.OTHER, "36500.00", "Lunch och fika för 100 deltagare"),
        ],
        coordinator,
    )

    for round_ in Round.unscoped_objects.filter(course__programme=programme):
        _recount(round_)
    return []
