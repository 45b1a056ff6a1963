"""Sessions (days or half-days) of a round, and the calendar messages their changes send."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from coordinator.core.exceptions import Conflict
from coordinator.core.services import apply_changes, validate
from organisations.permissions import Actor
from seminars import invites
from seminars.models import (
    Attendance,
    Enrolment,
    Round,
    Session,
)
from seminars.services._seats import (
    lock_round,
    require_manage,
)
from seminars.services.rounds import check_round, refresh_round_dates

SESSION_FIELDS = {"title", "starts_at", "ends_at", "place", "online_url"}
# A change to one of these is news for the participants' calendars.
SESSION_CALENDAR_FIELDS = {"title", "starts_at", "ends_at", "place", "online_url"}


def _check_session(session: Session) -> None:
    errors: dict[str, str] = {}
    if session.ends_at <= session.starts_at:
        errors["ends_at"] = _("A session must end after it starts.")
    elif session.ends_at - session.starts_at > timedelta(hours=24):
        errors["ends_at"] = _("A session is one day or part of a day; add one session per day.")
    if not session.place and not session.online_url:
        errors["place"] = _("Give a place or an online link.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def session_create(*, actor: Actor, round: Round, values: Mapping[str, Any]) -> Session:
    """Add a day or half-day to a round; confirmed participants get an invite for it. Coordinators only."""
    require_manage(actor, round.course.programme_id)
    locked = lock_round(round.pk)
    if locked.status == Round.Status.CANCELLED:
        raise ValidationError({"round": _("This round is cancelled.")})
    session = Session(round=locked)
    apply_changes(session, values, SESSION_FIELDS)
    validate(session, exclude=["round"])
    _check_session(session)
    session.save()
    refresh_round_dates(locked)
    check_round(locked, 0)
    invites.reconcile_round(locked)  # the new session, and "day n of m" in the others
    return session


@transaction.atomic
def session_update(*, actor: Actor, session: Session, values: Mapping[str, Any]) -> Session:
    """Change a session's time, place or link; each confirmed participant gets an update of the same
    calendar event (same UID, SEQUENCE + 1). Coordinators only."""
    require_manage(actor, session.round.course.programme_id)
    locked = lock_round(session.round_id)
    current = Session.objects.filter(pk=session.pk).first()
    if current is None:
        raise Conflict()  # removed by someone else meanwhile
    session = current
    changed = apply_changes(session, values, SESSION_FIELDS)
    if not changed:
        return session
    validate(session, exclude=["round"])
    _check_session(session)
    session.save(update_fields=[*changed, "updated_at"])
    refresh_round_dates(locked)
    check_round(locked, 0)
    if set(changed) & SESSION_CALENDAR_FIELDS:
        invites.reconcile_round(locked)  # a move may renumber the other sessions too
    return session


@transaction.atomic
def session_delete(*, actor: Actor, session: Session) -> None:
    """Remove a session; confirmed participants get a calendar cancellation for it. Coordinators only.
    A session with recorded attendance stays (it is part of people's completions)."""
    require_manage(actor, session.round.course.programme_id)
    locked = lock_round(session.round_id)
    if Attendance.objects.filter(session=session).exists():
        raise ValidationError(_("Attendance has been recorded for this session; it cannot be removed."))
    if (
        Session.objects.filter(round=locked).count() == 1
        and Enrolment.objects.filter(round=locked, status__in=Enrolment.ACTIVE).exists()
    ):
        raise ValidationError(
            _("This is the round's only session and people are booked; cancel the round instead.")
        )
    session.delete()
    refresh_round_dates(locked)
    invites.reconcile_round(locked)  # the removed session, and "day n of m" in the others
