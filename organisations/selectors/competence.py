"""Reads of competences: what each person has (filled from what they did on the platform, through
``registry.competence_evidence``, and from their line manager's confirmations), what their role's profile
asks for, and the gaps for a person, a line manager's team, an organisation and the programme.

A person's competences are computed when read, not stored: the evidence lives in the features (course
completions, visits made, focus-group seats) and changes through many of their workflows, so a stored copy
would need every one of them to keep it in step. Reading costs a fixed number of queries (two for the
competences and their sources, one per kind of evidence in use, one for confirmations, one for the
members and one for the profiles), whatever the number of people; ``bench/competence.py`` measures it at
10,000 people.

Aggregates never break down a group smaller than ``MIN_GROUP`` people: such a cell is hidden, and so is
a second cell (or the total) of each row and column that would otherwise let a total minus the visible
cells reveal it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from types import EllipsisType

from django.db.models import OuterRef, QuerySet
from django.utils.translation import gettext as _

from coordinator.core import registry
from coordinator.core.prepared import PreparedRows
from coordinator.core.rows import JSONRows, Rows
from organisations.models import (
    Competence,
    CompetenceConfirmation,
    CompetenceSource,
    Membership,
    Person,
    ProfileCompetence,
    ProfileLevel,
    Programme,
    WorkRole,
)

# The smallest group an aggregate shows.
MIN_GROUP = 5
MANAGER_SIGN_OFF = "sign_off"


def source_rows() -> Rows:
    """Each competence's sources as ``CompetenceSerializer`` shows them (kind, then value), for the
    competences' own query (``coordinator.core.rows``)."""
    return Rows(
        "sources",
        CompetenceSource.objects.filter(competence=OuterRef("pk")).order_by("kind", "value"),
        ("kind", "value"),
    )


@dataclass(frozen=True)
class CompetenceInfo:
    id: int
    name: str
    description: str
    manager_sign_off: bool
    sources: tuple[tuple[str, str], ...]  # (kind, value)


def _competence_rows(programme_id: int) -> QuerySet[Competence, tuple[int, str, str, bool, list[list[str]]]]:
    # Each competence with what gives it (kind and value, in that order) as one JSON array in its own row.
    sources = CompetenceSource.objects.filter(
        competence=OuterRef("pk"), programme_id=OuterRef("programme_id")
    ).order_by("kind", "value")
    return (
        Competence.objects.filter(programme_id=programme_id)
        .annotate(_sources=JSONRows(sources, ["kind", "value"]))
        .order_by("name", "pk")
        .values_list("pk", "name", "description", "manager_sign_off", "_sources")
    )


# Read by my page and the competence pages on every request: compiled once per connection. The competences
# name their programme, their sources their competence's.
_COMPETENCE_ROWS: PreparedRows[Competence, tuple[int, str, str, bool, list[list[str]]]] = PreparedRows(
    _competence_rows, stand_ins=(-(2**62) + 31,)
)


def competences_of(programme: Programme) -> list[CompetenceInfo]:
    """The programme's competences with what gives each, by name (1 query)."""
    return [
        CompetenceInfo(pk, name, description, sign_off, tuple((kind, value) for kind, value in sources))
        for pk, name, description, sign_off, sources in _COMPETENCE_ROWS.fetch(programme.pk)
    ]


def gained(
    programme: Programme, competences: list[CompetenceInfo], person_ids: Iterable[int] | None = None
) -> dict[int, dict[int, date]]:
    """``{person_id: {competence_id: date first gained}}`` from the features' evidence and the line
    managers' confirmations (one query per kind of evidence in use, plus one)."""
    return _gained(programme, competences, person_ids)[0]


def _gained(
    programme: Programme, competences: list[CompetenceInfo], person_ids: Iterable[int] | None = None
) -> tuple[dict[int, dict[int, date]], set[tuple[int, int]]]:
    """What ``gained`` answers, and the (person, competence) pairs a line manager confirmed, from the same
    read of the confirmations."""
    ids = None if person_ids is None else list(person_ids)
    by_kind: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for competence in competences:
        for kind, value in competence.sources:
            by_kind[kind][value].append(competence.id)
    result: dict[int, dict[int, date]] = defaultdict(dict)

    def note(person_id: int, competence_id: int, when: date) -> None:
        mine = result[person_id]
        if competence_id not in mine or when < mine[competence_id]:
            mine[competence_id] = when

    for kind, values in by_kind.items():
        evidence = registry.competence_evidence.get(kind)
        if evidence is None:
            continue
        for person_id, done in evidence.completed(programme, ids).items():
            for value, when in done.items():
                for competence_id in values.get(value, ()):
                    note(person_id, competence_id, when)
    confirmations = CompetenceConfirmation.objects.filter(programme=programme)
    if ids is not None:
        confirmations = confirmations.filter(person_id__in=ids)
    confirmed: set[tuple[int, int]] = set()
    for person_id, competence_id, when in confirmations.values_list(
        "person_id", "competence_id", "gained_on"
    ):
        note(person_id, competence_id, when)
        confirmed.add((person_id, competence_id))
    return result, confirmed


def competences_gained_count(programme: Programme, start: date, end: date) -> int:
    """How many competences people gained in a period (both days included): each person's competence
    counts once, on the day it was first gained (a course completed, a visit made, a focus-group seat
    taken, a line manager's confirmation). A fixed number of queries."""
    found = gained(programme, competences_of(programme))
    return sum(1 for mine in found.values() for when in mine.values() if start <= when <= end)


@dataclass(frozen=True)
class MemberRow:
    person_id: int
    name: str
    organisation_id: int
    unit_id: int | None
    line_manager_id: int | None
    work_role_id: int | None


def members_with_roles(
    programme: Programme, person_ids: Iterable[int] | None = None, *, line_manager_id: int | None = None
) -> list[MemberRow]:
    """The programme's active members with their role at work, or those who report to one line manager
    (1 query)."""
    rows = Membership.objects.filter(programme=programme, is_active=True, person__erased_at__isnull=True)
    if line_manager_id is not None:
        rows = rows.filter(person__line_manager_id=line_manager_id)
    if person_ids is not None:
        rows = rows.filter(person_id__in=list(person_ids))
    return [
        MemberRow(pid, f"{first} {last}".strip() or username, org, unit, manager, role)
        for pid, first, last, username, org, unit, manager, role in rows.order_by(
            "person__user__last_name", "person__user__first_name", "person_id"
        ).values_list(
            "person_id",
            "person__user__first_name",
            "person__user__last_name",
            "person__user__username",
            "person__organisation_id",
            "person__unit_id",
            "person__line_manager_id",
            "work_role_id",
        )
    ]


def profiles_of(programme: Programme, work_role_id: int | None = None) -> dict[int, dict[int, str]]:
    """``{work_role_id: {competence_id: level}}``, of every role or of one (1 query)."""
    profiles: dict[int, dict[int, str]] = defaultdict(dict)
    rows = ProfileCompetence.objects.filter(programme=programme)
    if work_role_id is not None:
        rows = rows.filter(work_role_id=work_role_id)
    for role_id, competence_id, level in rows.values_list("work_role_id", "competence_id", "level"):
        profiles[role_id][competence_id] = level
    return profiles


# --- One person's profile -------------------------------------------------------------------------------


@dataclass
class ProfileLine:
    competence: CompetenceInfo
    level: str  # basic, professional, or "" (not in the profile but gained)
    gained_on: date | None
    confirmed: bool
    ways: list[str] = field(default_factory=list)  # what gives it, in words
    suggestions: list[registry.CompetenceSuggestion] = field(default_factory=list)

    @property
    def has(self) -> bool:
        return self.gained_on is not None


@dataclass
class PersonProfile:
    person: Person
    work_role: str
    lines: list[ProfileLine]

    @property
    def basic(self) -> list[ProfileLine]:
        return [line for line in self.lines if line.level == ProfileLevel.BASIC]

    @property
    def professional(self) -> list[ProfileLine]:
        return [line for line in self.lines if line.level == ProfileLevel.PROFESSIONAL]

    @property
    def other(self) -> list[ProfileLine]:
        return [line for line in self.lines if not line.level]

    @property
    def sections(self) -> list[tuple[str, list[ProfileLine]]]:
        """The profile as the pages show it: basic, professional, and what else was gained."""
        return [
            (_("Basic profile"), self.basic),
            (_("Professional profile"), self.professional),
            (_("Also gained"), self.other),
        ]

    @property
    def lacking(self) -> list[ProfileLine]:
        return [line for line in self.lines if line.level and not line.has]


def source_labels(programme: Programme, competences: list[CompetenceInfo]) -> dict[tuple[str, str], str]:
    """What each source in use is called, in words (one query per kind of evidence in use)."""
    labels: dict[tuple[str, str], str] = {}
    for kind in sorted({kind for c in competences for kind, _value in c.sources}):
        evidence = registry.competence_evidence.get(kind)
        if evidence is None:
            continue
        for value, label in evidence.choices(programme):
            labels[(kind, value)] = f"{evidence.label}: {label}"
    return labels


def person_profile(
    programme: Programme,
    person: Person,
    *,
    suggest: bool = True,
    work_role_id: int | None | EllipsisType = ...,
    work_role_name: str | None = None,
) -> PersonProfile:
    """A person's competences: what their role's profile asks for (had or lacking, and how to get what
    they lack, with what is open now), and what else they gained. A fixed number of queries: two for the
    programme's competences, one for the role's name, and, where the programme has competences, one for
    the role's profile (when the person has a role) and one per kind of evidence in use plus one.

    ``work_role_id`` is the person's role at work in the programme where the caller knows it already (my
    page: the actor read the memberships); otherwise the membership is read. ``work_role_name`` is that
    role's name where the caller read it with the role (a page's identity); otherwise it is read."""
    competences = competences_of(programme)
    by_id = {c.id: c for c in competences}
    if work_role_id is ...:
        membership = (
            Membership.objects.filter(programme=programme, person=person)
            .select_related("work_role")
            .only("work_role__name", "work_role__id")
            .first()
        )
        role = membership.work_role if membership else None
        role_id, role_name = (role.pk, role.name) if role else (None, "")
    else:
        role_id = work_role_id
        if role_id is None:
            role_name = ""
        elif work_role_name is not None:
            role_name = work_role_name
        else:
            role_name = WorkRole.objects.filter(pk=role_id).values_list("name", flat=True).first() or ""
    if not competences:
        # Nothing is defined, so nothing can be asked for, gained or confirmed: the reads below would
        # all come back empty.
        return PersonProfile(person, role_name, [])
    wanted = profiles_of(programme, role_id).get(role_id, {}) if role_id is not None else {}
    found, confirmed_pairs = _gained(programme, competences, [person.pk])
    mine = found.get(person.pk, {})
    confirmed = {competence_id for _person, competence_id in confirmed_pairs}
    labels = source_labels(programme, competences)
    lines = [
        ProfileLine(by_id[cid], level, mine.get(cid), cid in confirmed)
        for cid, level in wanted.items()
        if cid in by_id
    ]
    lines += [
        ProfileLine(by_id[cid], "", when, cid in confirmed) for cid, when in mine.items() if cid not in wanted
    ]
    lines.sort(key=lambda line: (line.competence.name, line.competence.id))
    lacking = [line for line in lines if line.level and not line.has]
    for line in lacking:
        line.ways = [labels[s] for s in line.competence.sources if s in labels]
        if line.competence.manager_sign_off:
            line.ways.append(_("Your line manager's confirmation that you gained it elsewhere"))
    if suggest and lacking:
        _attach_suggestions(programme, lacking)
    return PersonProfile(person, role_name, lines)


def _attach_suggestions(programme: Programme, lacking: list[ProfileLine]) -> None:
    """What is open now that would close each gap (one call per kind of evidence)."""
    values: dict[str, set[str]] = defaultdict(set)
    for line in lacking:
        for kind, value in line.competence.sources:
            values[kind].add(value)
    offered: dict[tuple[str, str], list[registry.CompetenceSuggestion]] = defaultdict(list)
    for kind, wanted in sorted(values.items()):
        evidence = registry.competence_evidence.get(kind)
        if evidence is None:
            continue
        for suggestion in evidence.suggest(programme, sorted(wanted)):
            offered[(kind, suggestion.value)].append(suggestion)
    for line in lacking:
        seen: set[str] = set()
        for source in line.competence.sources:
            for suggestion in offered.get(source, ()):
                if suggestion.url not in seen:
                    seen.add(suggestion.url)
                    line.suggestions.append(suggestion)


def gaps_by_person(programme: Programme, person_ids: Iterable[int] | None = None) -> dict[int, set[int]]:
    """``{person_id: competence ids their profile asks for and they lack}`` for active members."""
    competences = competences_of(programme)
    members = members_with_roles(programme, person_ids)
    profiles = profiles_of(programme)
    have = gained(programme, competences, person_ids)
    return {
        m.person_id: {
            cid for cid in profiles.get(m.work_role_id or 0, {}) if cid not in have.get(m.person_id, {})
        }
        for m in members
    }


def personal_data_sections(person: Person) -> Iterable[registry.PersonalDataSection]:
    """For a person's own download: the competences their line managers confirmed (1 query). Their profile
    is computed from what the other sections already hold (courses completed, visits made, focus-group
    seats), so it is not repeated here."""
    yield registry.PersonalDataSection(
        "competence_confirmations",
        _("Competences confirmed by your line manager"),
        (
            {
                "programme": programme_name,
                "competence": name,
                "gained_on": gained_on.isoformat(),
                "note": note,
                "confirmed_at": confirmed_at.isoformat(),
            }
            for programme_name, name, gained_on, note, confirmed_at in CompetenceConfirmation.objects.filter(
                person=person
            )
            .order_by("gained_on", "pk")
            .values_list("programme__name", "competence__name", "gained_on", "note", "confirmed_at")
            .iterator()
        ),
    )
