"""The course catalogue: what every viewer of the programme sees alike comes from the cache, written once per
programme, language and content version; each viewer's bookings, eligibility and the seats left are
computed on every request and filled into it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from coordinator.core import content, frames
from coordinator.core.content import Fragment, gap
from organisations.access.views import ProgrammeMixin
from organisations.models import PlatformRole, Programme
from seminars import permissions
from seminars.models import Enrolment, Round
from seminars.selectors import catalogue
from seminars.selectors.catalogue import CourseRules

TEMPLATES = (
    "seminars/catalogue/course.html",
    "seminars/catalogue/round.html",
    "seminars/catalogue/enrol.html",
    "seminars/catalogue/other.html",
)
COURSE_END = "\n    </tbody>\n  </table></div>\n</article>\n"


@dataclass(frozen=True)
class RoundEntry:
    round: Round
    row: Fragment  # gaps: seats, you
    enrol: str


@dataclass(frozen=True)
class CourseEntry:
    pk: int
    rules: CourseRules
    has_target_roles: bool
    head: Fragment  # gaps: role_tag, completed_tag
    other: Fragment  # the course among those without a round to come; gap: completed_tag
    rounds: tuple[RoundEntry, ...]


def _build(programme: Programme, now: datetime) -> list[CourseEntry]:
    live = {"role_tag": gap("role_tag"), "completed_tag": gap("completed_tag")}
    entries = []
    for course in catalogue.catalogue_content(programme, now):
        rounds = tuple(
            RoundEntry(
                item.round,
                Fragment.render(
                    TEMPLATES[1], {"round": item.round, "seats": gap("seats"), "you": gap("you")}
                ),
                Fragment.render(TEMPLATES[2], {"round": item.round}).fill({}),
            )
            for item in course.rounds
        )
        entries.append(
            CourseEntry(
                course.course.pk,
                course.rules,
                course.has_target_roles,
                Fragment.render(TEMPLATES[0], {"course": course.course, **live}),
                Fragment.render(TEMPLATES[3], {"course": course.course, **live}),
                rounds,
            )
        )
    return entries


@lru_cache(maxsize=2048)
def _seats_in(language: str | None, free: int) -> str:
    """A round's seats left as the active language writes them (the same text for every reader of that
    language; the language is in the key so that a translated and localised line is never another's)."""
    if free:
        return escape(
            ngettext("%(counter)s free", "%(counter)s free", free) % {"counter": formats.localize(free)}
        )
    return format_html('<span class="tag warn">{}</span>', _("Full – waiting list"))


@lru_cache(maxsize=64)
def _booked_in(language: str | None, status: str) -> str:
    """A booking's status tag in the language (in the key, as for ``_seats_in``)."""
    return format_html('<span class="tag">{}</span>\n          ', Enrolment.Status(status).label)


@lru_cache(maxsize=1024)
def _problems_html(problems: tuple[str, ...]) -> str:
    """Why the reader may not enrol, as the row writes it (the texts are already in the reader's
    language, so that they are the key)."""
    return format_html('<span class="meta">{}</span>\n          ', " ".join(problems))


NO_BOOKING = (0, "")
Card = tuple[datetime, datetime | None, str]  # written at, valid until (None: for good), the card


class Cards:
    """Course cards as a reader with given facts sees them, kept in the process (a bounded dict emptied
    when full: a programme's courses times the few kinds of reader). Keys name the programme, the content
    stamp, language and zone, the reader's facts and the rounds' seats taken, so a kept card is never
    another's; its time of validity is checked on reading."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._cards: dict[tuple[object, ...], Card] = {}

    def get(self, key: tuple[object, ...]) -> Card | None:
        return self._cards.get(key)

    def put(self, key: tuple[object, ...], card: Card) -> None:
        if len(self._cards) >= self.size:
            self._cards = {}
        self._cards[key] = card

    def clear(self) -> None:
        self._cards = {}


CARDS = Cards(4096)


def _next_instant(entry: CourseEntry, now: datetime) -> datetime | None:
    """The first instant after ``now`` at which one of the course's rounds starts, ends, opens or closes
    registration: until then no round of the card changes whether it is listed or who may enrol."""
    instants = [
        instant
        for item in entry.rounds
        for instant in (
            item.round.starts_at,
            item.round.ends_at,
            item.round.registration_opens_at,
            item.round.registration_closes_at,
        )
        if instant is not None and instant > now
    ]
    return min(instants, default=None)


class CatalogueView(ProgrammeMixin, TemplateView):
    """Open courses: every course with rounds still to come, and whether I may enrol on each round."""

    template_name = "seminars/catalogue.html"

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> TemplateResponse:
        context = self.get_context_data(**kwargs)
        return frames.respond(
            request,
            self.template_name,
            context,
            live=("courses", "without_rounds"),
            shape=(context["only_mine"], context["can_manage"]),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        viewer = catalogue.catalogue_viewer(self.person, self.programme, now)
        entries: list[CourseEntry] = content.cached(
            "catalogue", self.programme.pk, viewer.version, TEMPLATES, lambda: _build(self.programme, now)
        )
        membership = self.actor.membership_in(self.programme)
        work_role_id = membership.work_role_id if membership else None
        eligibility = permissions.EnrolmentContext(
            person=self.person,
            programme_id=self.programme.pk,
            roles=membership.roles if membership else frozenset(),
            work_role_id=work_role_id,
            organisation_participates=viewer.organisation_participates,
            completed_course_ids=viewer.completed_course_ids,
            active_course_ids=frozenset(course_id for course_id, _status in viewer.bookings.values()),
        )
        only_mine = self.request.GET.get("for") == "me"
        language = get_language()
        zone = timezone.get_current_timezone_name()
        staff = PlatformRole.STAFF in eligibility.roles
        completed_tag = format_html(' <span class="tag ok">{}</span>', _("Completed"))
        role_tag = format_html('<span class="tag ok">{}</span>', _("For your role"))
        courses: list[str] = []
        without_rounds: list[str] = []
        for entry in entries:
            completed = entry.pk in viewer.completed_course_ids
            fits = permissions.is_target_role(work_role_id, entry.rules.target_role_ids)
            rounds = [r for r in entry.rounds if r.round.starts_at is None or r.round.starts_at > now]
            if not rounds:
                if not only_mine:
                    without_rounds.append(
                        entry.other.fill({"completed_tag": completed_tag if completed else ""})
                    )
                continue
            if only_mine and not (fits or not entry.has_target_roles):
                continue
            # The course's card depends on the reader only through these facts, and on the time only
            # between the instants at which one of its rounds starts, ends, opens or closes registration:
            # one card serves every reader with the same facts until the next such instant.
            missing = tuple(
                pk for pk in entry.rules.prerequisite_ids if pk not in viewer.completed_course_ids
            )
            key = (
                self.programme.pk,
                viewer.version,
                language,
                zone,
                entry.pk,
                completed,
                fits,
                staff,
                viewer.organisation_participates,
                entry.pk in eligibility.active_course_ids,
                tuple(missing),
                tuple(viewer.bookings.get(item.round.id, NO_BOOKING)[1] for item in entry.rounds),
                tuple(viewer.seats_taken.get(item.round.id, item.round.seats_taken) for item in entry.rounds),
            )
            # Without a stamp (nothing written yet) the key would not name the content.
            kept = CARDS.get(key) if viewer.version else None
            if kept is not None and kept[0] <= now and (kept[1] is None or now < kept[1]):
                courses.append(kept[2])
                continue
            parts = [
                entry.head.fill(
                    {
                        "role_tag": role_tag if fits and entry.has_target_roles else "",
                        "completed_tag": completed_tag[1:] if completed else "",
                    }
                )
            ]
            parts.extend(self._row(item, entry, eligibility, viewer, now, language) for item in rounds)
            parts.append(COURSE_END)
            card = "".join(parts)
            if viewer.version:
                CARDS.put(key, (now, _next_instant(entry, now), card))
            courses.append(card)
        context.update(
            courses=mark_safe("".join(courses)),  # noqa: S308 - fragments rendered with autoescape
            without_rounds=mark_safe("".join(without_rounds)),  # noqa: S308 - as above
            only_mine=only_mine,
            can_manage=permissions.can_manage(self.actor, self.programme),
        )
        return context

    @staticmethod
    def _row(
        item: RoundEntry,
        entry: CourseEntry,
        eligibility: permissions.EnrolmentContext,
        viewer: catalogue.CatalogueViewer,
        now: datetime,
        language: str | None,
    ) -> str:
        round_ = item.round
        round_id = round_.id
        seats_taken = viewer.seats_taken.get(round_id, round_.seats_taken)
        booking = viewer.bookings.get(round_id)
        if booking is not None:
            you = _booked_in(language, booking[1])
        else:
            problems = permissions.enrolment_problems(
                eligibility,
                round_,
                target_role_ids=entry.rules.target_role_ids,
                prerequisite_ids=entry.rules.prerequisite_ids,
                prerequisite_titles=entry.rules.prerequisite_titles,
                now=now,
            )
            you = _problems_html(tuple(str(p) for p in problems)) if problems else item.enrol
        return item.row.fill(
            {"seats": _seats_in(language, max(0, round_.capacity - seats_taken)), "you": you}
        )
