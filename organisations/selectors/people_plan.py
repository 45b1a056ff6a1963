"""What the people list's plan (``coordinator.core.plans``) reads besides the person's own columns: the
memberships of the page's people in one query of values, written as ``PersonSerializer.get_programmes``
writes them, and whether the reader may see a person's contact details, as
``permissions.can_see_contact_details`` decides it."""

from __future__ import annotations

from collections.abc import Mapping

from coordinator.core.aggregates import split_joined
from coordinator.core.plans import Page
from organisations.permissions import Actor, sees_contact_details_of
from organisations.selectors import membership_rows


def page_memberships(rows: list[tuple[object, ...]], context: Mapping[str, object]) -> object:
    """Per person of the page (one-tuples of their ids), their memberships in the reader's programmes."""
    actor = context.get("actor")
    if not isinstance(actor, Actor):
        return {}
    return membership_rows(actor, [pk for (pk,) in rows])  # type: ignore[misc]


def _memberships(page: Page, person: object) -> list[tuple[object, ...]]:
    found: dict[object, list[tuple[object, ...]]] = page.prepared["programmes"]  # type: ignore[assignment]
    return found.get(person, [])


def programmes(values: tuple[object, ...], page: Page) -> list[dict[str, object]]:
    """The person's active memberships in the reader's programmes, as ``get_programmes`` writes them."""
    actor = page.context.get("actor")
    visible = actor.programme_ids if isinstance(actor, Actor) else frozenset()
    return [
        {
            "programme": programme,
            "work_role": work_role,
            "work_role_name": work_role_name,
            "roles": split_joined(role_names),  # type: ignore[arg-type]
        }
        for programme, work_role, work_role_name, is_active, role_names in _memberships(page, values[0])
        if programme in visible and is_active
    ]


# What ``PersonSerializer`` leaves out for a reader who may not see a person's contact details.
CONTACT_FIELDS_AND_LANGUAGE = (
    "email",
    "phone",
    "line_manager",
    "line_manager_name",
    "languages",
    "preferred_language",
)


def omitted(values: tuple[object, ...], page: Page) -> tuple[str, ...]:
    """What ``PersonSerializer.to_representation`` leaves out of the row of the person ``values`` (id and
    organisation) for this reader: the contact fields, unless the reader may see them."""
    person, organisation = values
    actor = page.context.get("actor")
    memberships = _memberships(page, person)
    if isinstance(actor, Actor) and sees_contact_details_of(
        actor,
        organisation,  # type: ignore[arg-type]
        lambda: {programme for programme, *_rest in memberships},  # type: ignore[misc]
    ):
        return ()
    return CONTACT_FIELDS_AND_LANGUAGE
