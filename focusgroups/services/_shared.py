"""What the focus-groups services share: applying and validating values, the common right checks, the
address of a group's page."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from focusgroups import permissions
from focusgroups.models import FocusGroup
from organisations.models import Membership, Person, Programme
from organisations.permissions import Actor


def require_person(actor: Actor) -> Person:
    if actor.person is None:
        raise PermissionDenied(_("You have no staff profile."))
    return actor.person


def require_manage_group(actor: Actor, group: FocusGroup) -> None:
    if not permissions.can_manage_group(actor, group):
        raise PermissionDenied(_("Only the group's convener or the programme's coordinators may do this."))


def _url(name: str, pk: int, fallback: str) -> str:
    try:
        return reverse(name, kwargs={"pk": pk})
    except NoReverseMatch:  # the web pages are optional for the API and the notifications
        return fallback


def group_url(group: FocusGroup) -> str:
    return _url("focusgroups:group", group.pk, f"/focusgroups/{group.pk}/")


def is_programme_member(person: Person, programme: Programme | int) -> bool:
    # The group's programme specifically (a person may belong to several); it is inside the caller's scope.
    programme_id = programme if isinstance(programme, int) else programme.pk
    return Membership.objects.filter(person=person, programme_id=programme_id, is_active=True).exists()
