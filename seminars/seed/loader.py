"""Writes the demo data of ``seminars.seed.data`` into Malmö's programme.

Idempotent: natural keys (titles, labels, usernames) find existing rows, and nothing that exists is changed;
dates are relative to the day of the first run. Enrolments are written directly (no invites are mailed for
demo bookings), and the rounds' seat counters are recounted at the end. Seeding is system work across the
programme before any request, so every read and write goes through ``unscoped_objects``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.utils import timezone

from coordinator.core.days_off import days_off
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
from seminars.seed.data import (
    AF,
    COHORTS,
    COURSES,
    ENROLMENTS,
    FIRST_NAMES,
    KICKOFF_SHARES,
    LAST_NAMES,
    MAU,
    MS,
    MV,
    PROVIDERS,
    RK,
    ROUNDS,
    RS,
    CourseSpec,
    EnrolmentBatch,
    Moment,
    RoundSpec,
)

ZONE = ZoneInfo("Europe/Stockholm")


def seed_seminars() -> list[tuple[str, str]]:
    """Seed the courses, rounds, bookings, completions, groups and costs (no demo logins of its own)."""
    programme = malmo()
    _extra_people(programme)
    members = Members.load(programme)
    today = timezone.localdate()
    courses = {spec.key: _course(programme, spec, members) for spec in COURSES}
    rounds = {
        (spec.course, spec.label): _round(courses[spec.course], spec, members, today) for spec in ROUNDS
    }
    groups = people_groups(members)
    enrolled: dict[tuple[str, str], list[Enrolment]] = {}
    for batch in ENROLMENTS:
        key = (batch.course, batch.label)
        made = _enrol(rounds[key], batch, groups[batch.people], courses[batch.course], members, today)
        enrolled.setdefault(key, []).extend(made)
    for spec in ROUNDS:
        round_ = rounds[(spec.course, spec.label)]
        if spec.group_size:
            _discussion_groups(round_, enrolled[(spec.course, spec.label)], spec.group_size)
        _costs(round_, spec, members)
    for round_ in Round.unscoped_objects.filter(course__programme=programme):
        _recount(round_)
    return []


# --- The programme's people -----------------------------------------------------------------------------


@dataclass
class Members:
    """The programme's people by username, with their organisation's name and work-role code."""

    programme: Programme
    people: dict[str, Person]
    organisations: dict[str, Organisation]
    roles: dict[str, WorkRole]
    work_role_of: dict[int, str]

    @classmethod
    def load(cls, programme: Programme) -> Members:
        people = {
            p.user.username: p
            for p in Person.unscoped_objects.filter(memberships__programme=programme)
            .select_related("user", "organisation")
            .order_by("pk")
        }
        return cls(
            programme,
            people,
            _organisations(programme),
            {r.code: r for r in WorkRole.unscoped_objects.filter(programme=programme)},
            dict(
                Membership.unscoped_objects.filter(programme=programme).values_list(
                    "person_id", "work_role__code"
                )
            ),
        )

    def organisation_of(self, person: Person) -> str:
        return person.organisation.name

    def in_name_order(self, people: Iterable[Person] | None = None) -> list[Person]:
        return sorted(self.people.values() if people is None else people, key=lambda p: p.user.username)


def _organisations(programme: Programme) -> dict[str, Organisation]:
    return {o.name: o for o in Organisation.unscoped_objects.filter(participations__programme=programme)}


def people_groups(members: Members) -> dict[str, list[Person]]:
    """The named groups of ``EnrolmentBatch.people``: who took which course, in a stable order."""
    people, org_of, role_of = members.people, members.organisation_of, members.work_role_of.get
    amina, erik = people["amina.hassan"], people["erik.sandberg"]
    staff = ("erik.sandberg", "eva.lindgren", "johan.bergstrom")
    pool = members.in_name_order(
        p
        for name, p in people.items()
        if org_of(p) in (MV, MS, AF, RS, RK) and name not in PROVIDERS and name not in staff
    )
    # Amina Hassan took the PTSD day in the first round; the other 64 follow in name order.
    ptsd = [amina] + [p for p in pool if p.pk != amina.pk][:64]
    # The advanced part: 45 of the 65, the target roles first.
    targets = set(next(c for c in COURSES if c.key == "advanced").target_roles)
    ordered = sorted(
        (p for p in ptsd if p.pk != amina.pk), key=lambda p: (role_of(p.pk) not in targets, p.user.username)
    )
    ptsd_pks = {p.pk for p in ptsd}
    not_done = members.in_name_order(
        p
        for p in people.values()
        if p.pk not in ptsd_pks
        and p.user.username not in PROVIDERS
        and org_of(p) != MAU
        and p.user.username not in staff[1:]
    )
    in_order = members.in_name_order()

    def officers(organisation: str, role: str) -> list[Person]:
        return [p for p in in_order if org_of(p) == organisation and role_of(p.pk) == role]

    by_org: dict[str, list[Person]] = {}
    for person in in_order:
        by_org.setdefault(org_of(person), []).append(person)
    return {
        "ptsd": ptsd,
        "advanced": ordered[:45],
        "advanced_rest": ordered[45:],
        "open_ptsd": [erik] + [p for p in not_done if p.pk != erik.pk][:13],
        "amina": [amina],
        "erik": [erik],
        "mapping_ms": [amina]
        + [p for p in officers(MS, "introduction_secretary") if p.pk not in (erik.pk, amina.pk)][:3],
        "mapping_mv": officers(MV, "case_officer")[:5],
        "mapping_af": officers(AF, "employment_officer")[:3],
        "kickoff": [p for name, count in KICKOFF_SHARES.items() for p in by_org.get(name, [])[:count]],
    }


def _ascii(text: str) -> str:
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ć": "c", "ž": "z", "ø": "o"})
    return text.lower().translate(table)


def _extra_people(programme: Programme) -> list[Person]:
    """The fictitious participants of ``COHORTS``, created once (unusable passwords: not demo logins)."""
    organisations = _organisations(programme)
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
    for cohort in COHORTS:
        organisation = organisations[cohort.organisation]
        unit = Unit.unscoped_objects.get(organisation=organisation, name=cohort.unit)
        for _ in range(cohort.count):
            user = _extra_user(next(names), len(people), organisation, taken)
            person = Person.unscoped_objects.filter(user=user).first() or Person.unscoped_objects.create(
                user=user,
                organisation=organisation,
                unit=unit,
                job_title=cohort.job_title,
                line_manager=managers.get(cohort.manager),
                languages=["sv", "en"],
            )
            _join(programme, person, roles[cohort.work_role])
            people.append(person)
    return people


def _extra_user(first: str, index: int, organisation: Organisation, taken: set[str]) -> User:
    """The user of the ``index``-th extra participant: every surname in turn (11 is coprime to 42); a name
    a demo person already has takes the next surname."""
    last = LAST_NAMES[(index * 11) % len(LAST_NAMES)]
    username = f"{_ascii(first)}.{_ascii(last)}"
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    step = 1
    while username in taken:
        last = LAST_NAMES[((index + 1) * 11 + step) % len(LAST_NAMES)]
        username = f"{_ascii(first)}.{_ascii(last)}"
        step += 1
    domain = _ascii(organisation.short_name.replace(" ", ""))
    user = User(username=username, first_name=first, last_name=last, email=f"{username}@{domain}.example")
    user.set_unusable_password()
    user.save()
    taken.add(username)
    return user


def _join(programme: Programme, person: Person, work_role: WorkRole) -> None:
    membership, created = Membership.unscoped_objects.get_or_create(
        programme=programme, person=person, defaults={"work_role": work_role}
    )
    if created:
        RoleAssignment.unscoped_objects.create(membership=membership, role=PlatformRole.STAFF)


# --- Courses and rounds ---------------------------------------------------------------------------------


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZONE)


def _first_day(days_from_today: int, today: date) -> date:
    """The nearest Tuesday on or after the day (courses here run mid-week)."""
    day = today + timedelta(days=days_from_today)
    return day + timedelta(days=(1 - day.weekday()) % 7)


def _open_days(country: str, days: list[date], today: date) -> list[date]:
    """The course days, each future one that falls on a day off moved to the next open working day."""
    closed = days_off(country, today, max(days, default=today) + timedelta(days=60))
    moved: list[date] = []
    for day in days:
        while day > today and (day in closed or day.weekday() >= 5 or (moved and day <= moved[-1])):
            day += timedelta(days=1)
        moved.append(day)
    return moved


def _moment(moment: Moment, today: date, first_day: date) -> datetime:
    anchor = today if moment.anchor == "today" else first_day
    return _at(anchor + timedelta(days=moment.days), moment.hour)


def _course(programme: Programme, spec: CourseSpec, members: Members) -> Course:
    course, created = Course.unscoped_objects.get_or_create(
        programme=programme,
        title=spec.title,
        defaults={
            "description": spec.description,
            "completion_rule": spec.completion_rule,
            "attendance_required_percent": spec.attendance_required_percent,
        },
    )
    if created:
        course.providers.set([members.organisations[name] for name in spec.providers])
    if spec.prerequisites and not course.prerequisites.exists():
        titles = [c.title for c in COURSES if c.key in spec.prerequisites]
        course.prerequisites.set(Course.unscoped_objects.filter(programme=programme, title__in=titles))
    if spec.target_roles and not course.target_roles.exists():
        course.target_roles.set([members.roles[code] for code in spec.target_roles])
    return course


def _round(course: Course, spec: RoundSpec, members: Members, today: date) -> Round:
    first_day = _first_day(spec.first_day, today)
    days = _open_days(
        course.programme.country, [first_day + timedelta(days=step) for step in spec.day_steps], today
    )
    release = spec.reserved_seats_release
    round_, created = Round.unscoped_objects.get_or_create(
        course=course,
        label=spec.label,
        defaults={
            "capacity": spec.capacity,
            "registration_opens_at": _moment(spec.registration_opens, today, first_day),
            "registration_closes_at": _moment(spec.registration_closes, today, first_day),
            "cancellation_deadline": _moment(spec.cancellation_deadline, today, first_day),
            "reserved_seats_release_at": _moment(release, today, first_day) if release else None,
            "status": Round.Status.PUBLISHED,
            "offer_hold_hours": 48,
            "target_role_mode": spec.target_role_mode,
            "requires_manager_approval": spec.requires_manager_approval,
            "information": spec.information,
            "starts_at": _at(days[0], 9),
            "ends_at": _at(days[-1], 16),
        },
    )
    if created:
        for number, day in enumerate(days, start=1):
            Session.unscoped_objects.create(
                round=round_,
                title=f"Dag {number}" if len(days) > 1 else "",
                starts_at=_at(day, 9),
                ends_at=_at(day, 16),
                place=spec.place,
            )
        for quota in spec.quotas:
            OrganisationQuota.unscoped_objects.create(
                round=round_,
                organisation=members.organisations[quota.organisation],
                reserved=quota.reserved,
                maximum=quota.maximum,
            )
    return round_


# --- Bookings, attendance, groups, costs ----------------------------------------------------------------


def _enrol(
    round_: Round,
    batch: EnrolmentBatch,
    group: Sequence[Person],
    course: Course,
    members: Members,
    today: date,
) -> list[Enrolment]:
    """The batch's bookings (existing ones are kept as they are), then attendance and completions."""
    first_day = timezone.localdate(round_.starts_at, ZONE) if round_.starts_at else today
    when = _moment(batch.requested, today, first_day)
    targets = set(next(c for c in COURSES if c.title == course.title).target_roles)
    made = []
    for offset, person in enumerate(group[batch.start : batch.stop]):
        existing = Enrolment.unscoped_objects.filter(round=round_, person=person).first()
        if existing is None:
            requested = when + timedelta(minutes=batch.spacing_minutes * offset)
            target = batch.target_roles_first and members.work_role_of.get(person.pk) in targets
            existing = Enrolment.unscoped_objects.create(
                round=round_,
                person=person,
                organisation_id=person.organisation_id,
                status=batch.status,
                requested_at=requested,
                confirmed_at=requested if batch.status == Enrolment.Status.CONFIRMED else None,
                priority=1 if target else batch.priority,
                **_decision(batch, today, first_day),
            )
        made.append(existing)
    if batch.completed:
        _attend_and_complete(round_, made, batch.completed, members.people[batch.recorded_by])
    return made


def _decision(batch: EnrolmentBatch, today: date, first_day: date) -> dict[str, object]:
    """The approval, motivation and open offer a batch's bookings are written with."""
    values: dict[str, object] = {"approval": batch.approval, "motivation": batch.motivation}
    if batch.approval_decided is not None:
        values["approval_decided_at"] = _moment(batch.approval_decided, today, first_day)
    if batch.offer_hold_hours is not None:
        now = timezone.now()
        values.update(offered_at=now, hold_expires_at=now + timedelta(hours=batch.offer_hold_hours))
    return values


def _attend_and_complete(
    round_: Round, enrolments: Sequence[Enrolment], method: str, recorded_by: Person
) -> None:
    sessions = list(Session.unscoped_objects.filter(round=round_).order_by("starts_at"))
    for enrolment in enrolments:
        for session in sessions:
            Attendance.unscoped_objects.get_or_create(
                enrolment=enrolment, session=session, defaults={"present": True, "marked_by": recorded_by}
            )
        Completion.unscoped_objects.get_or_create(
            person=enrolment.person,
            course=round_.course,
            defaults={
                "round": round_,
                "method": method,
                "recorded_by": recorded_by,
                "completed_on": timezone.localdate(sessions[-1].ends_at, ZONE),
            },
        )


def _discussion_groups(round_: Round, enrolled: Sequence[Enrolment], group_size: int) -> None:
    if DiscussionGroup.unscoped_objects.filter(round=round_).exists():
        return
    participants = [grouping.Participant(e.pk, e.organisation_id) for e in enrolled]
    for number, members in enumerate(grouping.form_groups(participants, group_size), start=1):
        group = DiscussionGroup.unscoped_objects.create(round=round_, number=number, name=f"Grupp {number}")
        DiscussionGroupMember.unscoped_objects.bulk_create(
            [
                DiscussionGroupMember(group=group, enrolment_id=m.key, programme_id=group.programme_id)
                for m in members
            ]
        )


def _costs(round_: Round, spec: RoundSpec, members: Members) -> None:
    if not spec.costs or RoundCost.unscoped_objects.filter(round=round_).exists():
        return
    for cost in spec.costs:
        RoundCost.unscoped_objects.create(
            round=round_,
            kind=cost.kind,
            amount=Decimal(cost.amount),
            note=cost.note,
            created_by=members.people[cost.by],
        )


def _recount(round_: Round) -> None:
    taken = Enrolment.unscoped_objects.filter(round=round_, status__in=Enrolment.SEAT_HOLDING).count()
    if round_.seats_taken != taken:
        Round.unscoped_objects.filter(pk=round_.pk).update(seats_taken=taken)
