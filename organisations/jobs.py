"""The organisations app's periodic sweeps: the weekly status to management and the follow-ups that have
become due. Both are idempotent: a week's status is sent once, a follow-up is asked once."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from coordinator.core.notifications import notify
from coordinator.core.statistics import week_start
from organisations.models import Person, PlatformRole, Programme, WeeklyStatus
from organisations.reports import status as weekly
from organisations.services.followups import follow_ups_send_due

STATUS_KIND = "organisations.weekly_status"
# The status goes out on the first run after this time on Monday, in the programme's time zone.
SEND_FROM = time(7, 0)


def weekly_status_send(*, now: datetime | None = None) -> int:
    """Send this week's status of every running programme that has not had it yet: each organisation's
    admins get the programme's progress with their organisation's line, the steering group (else the
    programme admins) the programme's. Each in their own language. Returns how many people were told."""
    told = 0
    for programme in Programme.objects.filter(archived_at__isnull=True):
        local = (now or timezone.now()).astimezone(ZoneInfo(programme.time_zone))
        week = week_start(local.date())
        if local < datetime.combine(week, SEND_FROM, tzinfo=local.tzinfo):
            continue
        told += _send(programme, week, local.date())
    return told


def _recipients(programme: Programme) -> tuple[list[Person], dict[int, list[Person]]]:
    """The steering group (else the programme admins) and each organisation's admins (one query)."""
    rows = (
        Person.objects.filter(
            memberships__programme=programme,
            memberships__is_active=True,
            memberships__role_assignments__role__in=(
                PlatformRole.STEERING_GROUP,
                PlatformRole.PROGRAMME_ADMIN,
                PlatformRole.ORGANISATION_ADMIN,
            ),
            erased_at__isnull=True,
        )
        .select_related("user")
        .values_list("pk", "memberships__role_assignments__role")
    )
    roles: dict[int, set[str]] = defaultdict(set)
    for pk, role in rows:
        roles[pk].add(role)
    people = Person.objects.select_related("user").in_bulk(list(roles))
    steering = [people[pk] for pk in roles if PlatformRole.STEERING_GROUP in roles[pk]]
    if not steering:
        steering = [people[pk] for pk in roles if PlatformRole.PROGRAMME_ADMIN in roles[pk]]
    admins: dict[int, list[Person]] = defaultdict(list)
    for pk in roles:
        if PlatformRole.ORGANISATION_ADMIN in roles[pk]:
            admins[people[pk].organisation_id].append(people[pk])
    return steering, admins


def _send(programme: Programme, week: date, today: date) -> int:
    try:
        with transaction.atomic():
            # The row is the once-a-week guard: a second run (or a second runner) fails to insert it.
            sent = WeeklyStatus.objects.create(programme=programme, week_starts_on=week)
            steering, admins = _recipients(programme)
            told = _tell(programme, steering, today, None)
            for organisation_id, people in admins.items():
                told += _tell(programme, people, today, organisation_id)
            sent.recipients = told
            sent.progress = weekly.progress_snapshot(weekly.build(programme, today))
            sent.save(update_fields=["recipients", "progress"])
    except IntegrityError:
        return 0
    return told


def _tell(programme: Programme, people: list[Person], today: date, organisation_id: int | None) -> int:
    by_language: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        by_language[person.language_in(programme)].append(person)
    status = weekly.build(programme, today, organisation_id=organisation_id)
    url = reverse("organisations:status")
    for language, group in by_language.items():
        with translation.override(language):
            text = weekly.as_text(status)
        notify(
            programme=programme,
            recipients=group,
            kind=STATUS_KIND,
            title=gettext_noop("Weekly status of %(programme)s"),
            body=gettext_noop(
                "Progress against the targets, what changed this week and what needs a decision."
            ),
            params={"programme": programme.name},
            detail=text,
            url=url + (f"?organisation={organisation_id}" if organisation_id else ""),
        )
    return len(people)


def follow_ups() -> int:
    return follow_ups_send_due()
