"""Transfer and effect: a person's expectation before a course or a visit, and the follow-up some months
after, asked of the person and of their line manager."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coordinator.core import registry
from coordinator.core.notifications import notify
from coordinator.core.services import validate
from coordinator.core.statistics import months_before
from organisations.models import Expectation, FollowUp, Person, Programme
from organisations.permissions import Actor
from organisations.services.programmes import require_not_archived

KIND = "organisations.follow_up"
# A follow-up is sent for what was finished this many days before it became due at the latest: a job that
# was off for a while catches up, and turning follow-ups on does not ask about last year's courses.
CATCH_UP_DAYS = 30
ANSWER_FIELDS = ("used", "how_used", "shared", "rating", "comment")


def expectation_record(
    *, actor: Actor, programme: Programme, kind: str, subject_id: int, rating: int, text: str
) -> Expectation:
    """Record (or change) the actor's own expectation of something they are booked on and have not done
    yet. Anything else answers like a missing page."""
    source = registry.follow_up_sources.get(kind)
    person = actor.person
    if source is None or person is None or not actor.is_member(programme):
        raise Http404
    if subject_id not in {row.subject_id for row in source.upcoming(programme, person)}:
        raise Http404
    require_not_archived(programme)
    with transaction.atomic():
        expectation, _created = Expectation.objects.get_or_create(
            programme=programme,
            person=person,
            subject_kind=kind,
            subject_id=subject_id,
            defaults={"rating": rating, "text": text},
        )
        expectation.rating, expectation.text = rating, text
        validate(expectation, exclude=["programme", "person"])
        expectation.save()
    return expectation


def follow_up_answer(*, actor: Actor, follow_up: FollowUp, values: Mapping[str, object]) -> FollowUp:
    """Answer (or change the answer to) one's own follow-up. Only the person asked may."""
    if actor.person is None or follow_up.respondent_id != actor.person.pk:
        raise PermissionDenied(_("This follow-up is someone else's."))
    require_not_archived(follow_up.programme)
    unknown = set(values) - set(ANSWER_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    with transaction.atomic():
        for name, value in values.items():
            setattr(follow_up, name, value)
        if follow_up.rating is None or not follow_up.used or follow_up.shared is None:
            raise ValidationError(_("Answer every question with a choice."))
        follow_up.answered_at = timezone.now()
        validate(follow_up)
        follow_up.save(update_fields=[*ANSWER_FIELDS, "answered_at"])
    return follow_up


def follow_ups_send_due(*, today: date | None = None) -> int:
    """Create and send the follow-ups that have become due in every programme that asks for them: one to
    the person who finished a course or a visit, one to their line manager. Runs as a periodic job (no
    scope); a follow-up exists once per person, respondent and thing, so running twice sends nothing new.
    Returns how many were sent."""
    sent = 0
    for programme in Programme.objects.filter(archived_at__isnull=True, follow_up_months__gt=0):
        local_today = today or timezone.localdate(timezone=ZoneInfo(programme.time_zone))
        until = months_before(local_today, programme.follow_up_months)
        since = until - timedelta(days=CATCH_UP_DAYS)
        for source in registry.follow_up_sources:
            sent += _send_for(programme, source, since, until, local_today)
    return sent


def _send_for(
    programme: Programme, source: registry.FollowUpSource, since: date, until: date, today: date
) -> int:
    finished = source.finished(programme, since, until)
    if not finished:
        return 0
    with transaction.atomic():
        existing = set(
            FollowUp.objects.filter(
                programme=programme, subject_kind=source.kind, subject_id__in={f.subject_id for f in finished}
            ).values_list("person_id", "respondent_kind", "subject_id")
        )
        people = Person.objects.select_related("user", "line_manager__user").in_bulk(
            {f.person_id for f in finished}
        )
        titles = source.titles(programme, list({f.subject_id for f in finished}))
        sent = 0
        for item in finished:
            person = people.get(item.person_id)
            if person is None or person.erased_at is not None:
                continue
            asked = [(FollowUp.Respondent.PERSON, person)]
            manager = person.line_manager
            if manager is not None and manager.erased_at is None:
                asked.append((FollowUp.Respondent.MANAGER, manager))
            for respondent_kind, respondent in asked:
                if (person.pk, respondent_kind, item.subject_id) in existing:
                    continue
                follow_up = FollowUp.objects.create(
                    programme=programme,
                    person=person,
                    respondent=respondent,
                    respondent_kind=respondent_kind,
                    organisation_id=person.organisation_id,
                    subject_kind=source.kind,
                    subject_id=item.subject_id,
                    group_id=item.group_id,
                    finished_on=item.finished_on,
                    due_on=today,
                )
                _tell(programme, follow_up, respondent, person, titles.get(item.subject_id, ""))
                sent += 1
    return sent


def _tell(programme: Programme, follow_up: FollowUp, respondent: Person, person: Person, title: str) -> None:
    if follow_up.respondent_kind == FollowUp.Respondent.PERSON:
        heading = gettext_noop("Has %(title)s made a difference in your work?")
        body = gettext_noop(
            "Some months ago you took part in %(title)s. Four short questions: have you used it, how, have "
            "you shared it, and how much difference has it made? Your answers are only shown to others "
            "pooled with at least four colleagues' and never with your name."
        )
    else:
        heading = gettext_noop("Has %(title)s made a difference for %(name)s?")
        body = gettext_noop(
            "Some months ago %(name)s took part in %(title)s. As their line manager: has it been used in "
            "daily work, and shared? Your answers are only shown pooled with at least four others'."
        )
    notify(
        programme=programme,
        recipients=[respondent],
        kind=KIND,
        title=heading,
        body=body,
        params={"title": title, "name": person.full_name},
        url=reverse("organisations:follow-up", kwargs={"pk": follow_up.pk}),
    )
