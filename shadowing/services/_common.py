"""What the shadowing services share: permission guards, field application, the programme's
today, links and small look-ups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from coordinator.core.notifications import notify
from organisations.models import Person, PlatformRole, Programme
from organisations.permissions import Actor
from shadowing import permissions
from shadowing.models import (
    Placement,
    ShadowingRequest,
    Topic,
)

P = Placement.Status
RS = ShadowingRequest.Status
R = PlatformRole
CONFLICT = "conflict"
# --- Helpers --------------------------------------------------------------------------------------------


def is_conflict(error: ValidationError) -> bool:
    """Whether a service refused because the state changed meanwhile (the API answers 409)."""
    if hasattr(error, "error_dict"):
        return False
    return any(getattr(item, "code", None) == CONFLICT for item in error.error_list)


def require_manage(actor: Actor, programme: Programme | int) -> None:
    if not permissions.can_manage(actor, programme):
        raise PermissionDenied(_("Only the programme's coordinators may do this."))


def require_person(actor: Actor) -> Person:
    if actor.person is None:
        raise PermissionDenied(_("Sign in with a staff profile to do this."))
    return actor.person


def apply_values(instance: Any, values: Mapping[str, Any], allowed: set[str]) -> list[str]:
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    changed = []
    for name, value in values.items():
        try:
            current = getattr(instance, name)
        except ObjectDoesNotExist:  # a required relation not set yet on a new row
            current = None
        if current != value or current is None:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def full_clean(instance: Any, exclude: Sequence[str] = ()) -> None:
    instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)


def today_in(programme: Programme) -> date:
    return timezone.localtime(timezone.now(), ZoneInfo(programme.time_zone)).date()


def language_of(person: Person, programme: Programme) -> str:
    return person.preferred_language or programme.language or settings.LANGUAGE_CODE


def tell(
    people: Iterable[Person],
    programme: Programme,
    kind: str,
    url: str,
    title: str,
    body: str = "",
    params: Mapping[str, Any] | None = None,
    detail: str = "",
) -> None:
    """A notification to each person in their own language.

    ``title`` and ``body`` are English source strings marked with ``gettext_noop`` and translated here;
    ``detail`` is text someone typed (a reason, a note), passed on untranslated.
    """
    seen: set[int] = set()
    for person in people:
        if person.pk in seen:
            continue
        seen.add(person.pk)
        with translation.override(language_of(person, programme)):
            values = dict(params or {})
            text = _(body) % values if body else ""
            if detail:
                text = f"{text}\n\n{detail}".strip()
            notify(
                programme=programme,
                recipients=[person],
                kind=kind,
                title=_(title) % values,
                body=text,
                url=url,
            )


def page_url(name: str, **kwargs: Any) -> str:
    try:
        return reverse(f"shadowing:{name}", kwargs=kwargs or None)
    except Exception:  # the web pages are optional for the services (API-only deployments, early tests)
        return ""


def people_by_id(ids: Iterable[int]) -> list[Person]:
    return list(Person.unscoped_objects.filter(pk__in=set(ids)).select_related("user").order_by("pk"))


def validate_language_list(value: Any, field: str) -> None:
    from organisations.models import validate_language_codes

    try:
        validate_language_codes(value)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error


def check_topics(programme: Programme, topics: Sequence[Topic]) -> None:
    if any(t.programme_id != programme.pk for t in topics):
        raise ValidationError({"topics": _("Choose topics from this programme's list.")})
