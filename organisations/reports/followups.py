"""What the follow-ups say, pooled per course, per host workplace and per organisation, against what the
people expected before. A pool of fewer than five people is hidden, together with enough others that no
total reveals it; free text is shown only for pools of five or more, and never with a name."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext

from coordinator.core import registry
from coordinator.core.statistics import suppressed, total_is_hidden
from organisations.models import Expectation, FollowUp, Organisation, Programme

ONE_DECIMAL = Decimal("0.1")


@dataclass
class Pool:
    """One pool of answers: a course, a host workplace, an organisation, or everything."""

    key: tuple[str, int]
    name: str
    kind_label: str
    people: set[int] = field(default_factory=set)
    ratings: list[int] = field(default_factory=list)
    manager_ratings: list[int] = field(default_factory=list)
    expected: list[int] = field(default_factory=list)
    used: int = 0
    shared: int = 0
    texts: list[str] = field(default_factory=list)
    hidden: bool = False

    @property
    def size(self) -> int:
        return len(self.people)

    def figures(self) -> dict[str, object]:
        """The pool's figures; all None when hidden."""
        answered = len(self.ratings)
        if self.hidden:
            return {
                "respondents": None,
                "rating": None,
                "expected": None,
                "manager_rating": None,
                "used_percent": None,
                "shared_percent": None,
            }
        return {
            "respondents": self.size,
            "rating": _mean(self.ratings),
            "expected": _mean(self.expected),
            "manager_rating": _mean(self.manager_ratings) if len(self.manager_ratings) >= 5 else None,
            "used_percent": round(100 * self.used / answered) if answered else None,
            "shared_percent": round(100 * self.shared / answered) if answered else None,
        }


def _mean(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass
class Effect:
    by_group: list[Pool]
    by_organisation: list[Pool]
    total: Pool


def effect(programme: Programme, start: date, end: date) -> Effect:
    """Answers to follow-ups of what was finished in the period (four queries, plus one per kind of thing
    followed up to name its pools)."""
    answers = list(
        FollowUp.objects.filter(
            programme=programme, answered_at__isnull=False, finished_on__gte=start, finished_on__lte=end
        ).values_list(
            "person_id",
            "respondent_kind",
            "subject_kind",
            "subject_id",
            "group_id",
            "organisation_id",
            "used",
            "shared",
            "rating",
            "how_used",
            "comment",
        )
    )
    expectations = {
        (person, kind, subject): rating
        for person, kind, subject, rating in Expectation.objects.filter(
            programme=programme, person_id__in={row[0] for row in answers}
        ).values_list("person_id", "subject_kind", "subject_id", "rating")
    }
    sources = dict(registry.follow_up_sources.items())
    group_ids: dict[str, set[int]] = defaultdict(set)
    for row in answers:
        group_ids[row[2]].add(row[4])
    names: dict[tuple[str, int], str] = {}
    for kind, ids in group_ids.items():
        source = sources.get(kind)
        if source is not None:
            names.update(
                {(kind, pk): name for pk, name in source.group_names(programme, sorted(ids)).items()}
            )
    organisations = dict(
        Organisation.objects.filter(participations__programme=programme).values_list("pk", "short_name")
    )
    groups: dict[tuple[str, int], Pool] = {}
    by_organisation: dict[tuple[str, int], Pool] = {}
    total = Pool(("all", 0), gettext("All answers"), "")
    for person, respondent, kind, subject, group, organisation, used, shared, rating, how, comment in answers:
        source = sources.get(kind)
        pools = [
            groups.setdefault(
                (kind, group),
                Pool(
                    (kind, group), names.get((kind, group), "–"), str(source.group_label) if source else kind
                ),
            ),
            by_organisation.setdefault(
                ("organisation", organisation),
                Pool(("organisation", organisation), organisations.get(organisation, "–"), ""),
            ),
            total,
        ]
        for pool in pools:
            if respondent == FollowUp.Respondent.MANAGER:
                pool.manager_ratings.append(rating)
                pool.texts.extend(text for text in (how, comment) if text.strip())
                continue
            pool.people.add(person)
            pool.ratings.append(rating)
            pool.used += used in (FollowUp.Use.YES, FollowUp.Use.PARTLY)
            pool.shared += bool(shared)
            pool.texts.extend(text for text in (how, comment) if text.strip())
            if (person, kind, subject) in expectations:
                pool.expected.append(expectations[(person, kind, subject)])
    for family in (groups, by_organisation):
        for key in suppressed({key: pool.size for key, pool in family.items()}):
            family[key].hidden = True
    total.hidden = total_is_hidden({key: pool.size for key, pool in groups.items()})
    for pool in groups.values():
        # Free text only from pools shown and large enough, in an order that says nothing about who wrote it.
        pool.texts = sorted(pool.texts) if not pool.hidden and pool.size >= 5 else []
    for pool in [*by_organisation.values(), total]:
        # Never in the wider pools: a hidden course's comments there could be told apart from the shown ones.
        pool.texts = []
    return Effect(
        by_group=sorted(groups.values(), key=lambda pool: (pool.kind_label, pool.name)),
        by_organisation=sorted(by_organisation.values(), key=lambda pool: pool.name),
        total=total,
    )
