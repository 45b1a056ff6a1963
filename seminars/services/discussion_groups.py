"""Discussion groups of a round, mixed across organisations (see ``seminars.grouping``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from organisations.permissions import Actor
from seminars import grouping
from seminars.models import (
    DiscussionGroup,
    DiscussionGroupMember,
    Enrolment,
    Round,
)
from seminars.services._seats import (
    lock_round,
    require_manage,
)


@transaction.atomic
def groups_form(*, actor: Actor, round: Round, group_size: int) -> list[DiscussionGroup]:
    """Replace the round's discussion groups with mixed groups of about ``group_size`` confirmed
    participants (see ``seminars.grouping`` for the algorithm and its guarantees). Coordinators only."""
    require_manage(actor, round.course.programme_id)
    if not 2 <= group_size <= 50:
        raise ValidationError({"group_size": _("Choose a group size between 2 and 50.")})
    locked = lock_round(round.pk)
    enrolments = list(
        Enrolment.objects.filter(round=locked, status=Enrolment.Status.CONFIRMED)
        .select_related("person__user")
        .order_by("person__user__last_name", "person__user__first_name", "pk")
    )
    if len(enrolments) < 2:
        raise ValidationError(_("At least two confirmed participants are needed to form groups."))
    people = [grouping.Participant(e.pk, e.organisation_id) for e in enrolments]
    formed = grouping.form_groups(people, group_size)
    DiscussionGroup.objects.filter(round=locked).delete()
    groups = []
    with translation.override(locked.course.programme.language):
        for number, members in enumerate(formed, start=1):
            group = DiscussionGroup.objects.create(
                round=locked, number=number, name=_("Group %(n)s") % {"n": number}
            )
            DiscussionGroupMember.objects.bulk_create(
                [
                    DiscussionGroupMember(
                        group=group, enrolment_id=member.key, programme_id=group.programme_id
                    )
                    for member in members
                ]
            )
            groups.append(group)
    return groups


@transaction.atomic
def groups_clear(*, actor: Actor, round: Round) -> None:
    """Remove the round's discussion groups. Coordinators only."""
    require_manage(actor, round.course.programme_id)
    DiscussionGroup.objects.filter(round=round).delete()
