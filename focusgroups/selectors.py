"""Reads of the focus-groups app, already limited to what the actor may see (inside the tenant scope the
caller activated), and the small providers the app's hooks register."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from coordinator.core import registry
from coordinator.core.registry import CompetenceSuggestion
from focusgroups import permissions
from focusgroups.models import (
    ActionItem,
    ConceptComment,
    FocusGroup,
    GroupMembership,
    LivePresence,
    Note,
    NoteVersion,
)
from organisations.models import Organisation, Person, Programme
from organisations.permissions import Actor, actor_for

# --- Groups and memberships -----------------------------------------------------------------------------


def groups_for(actor: Actor) -> QuerySet[FocusGroup]:
    """Every group of the actor's programmes (group names, purposes and members are shared programme-wide)."""
    if actor.person is None:
        return FocusGroup.objects.none()
    return FocusGroup.objects.filter(programme_id__in=actor.programme_ids)


def my_groups(actor: Actor) -> QuerySet[FocusGroup]:
    """The groups the actor sits in (any role)."""
    return permissions.groups_with_right(actor, permissions.VIEW, groups_for(actor))


@dataclass(frozen=True)
class Representation:
    """Which of the programme's organisations sit in a group and which are missing."""

    represented: list[Organisation]
    missing: list[Organisation]


def split_by_representation(organisations: list[Organisation], present: set[int]) -> Representation:
    """The organisations split into those with a representative (ids in ``present``) and the rest."""
    return Representation(
        represented=[o for o in organisations if o.pk in present],
        missing=[o for o in organisations if o.pk not in present],
    )


def representative_ids(memberships: Iterable[GroupMembership]) -> set[int]:
    """Ids of the organisations the given memberships represent (``GroupMembership.REPRESENTING_ROLES``)."""
    return {
        m.organisation_id for m in memberships if m.is_active and m.role in GroupMembership.REPRESENTING_ROLES
    }


def represented_by_group(programme: Programme | int) -> dict[int, set[int]]:
    """For each group of the programme, the ids of the organisations with an active representative (one
    query)."""
    programme_id = programme if isinstance(programme, int) else programme.pk
    present: dict[int, set[int]] = {}
    for group_id, organisation_id in (
        GroupMembership.objects.filter(
            group__programme_id=programme_id,
            is_active=True,
            role__in=GroupMembership.REPRESENTING_ROLES,
        )
        .values_list("group_id", "organisation_id")
        .distinct()
    ):
        present.setdefault(group_id, set()).add(organisation_id)
    return present


def representation(group: FocusGroup) -> Representation:
    """Organisations of the programme with an active representative in the group, and the rest (two
    queries)."""
    organisations = list(
        Organisation.objects.filter(participations__programme_id=group.programme_id)
        .order_by("name")
        .distinct()
    )
    return split_by_representation(
        organisations, represented_by_group(group.programme_id).get(group.pk, set())
    )


# --- Notes ----------------------------------------------------------------------------------------------


def notes_for(actor: Actor) -> QuerySet[Note]:
    """Notes the actor may read (``permissions.readable_notes_filter``, the rule of ``can_read_note``):
    shared notes of their programmes, and every note of the groups whose room they may enter."""
    if actor.person is None:
        return Note.objects.none()
    return Note.objects.filter(permissions.readable_notes_filter(actor))


def public_notes_for(actor: Actor, limit: int = 10) -> list[Note]:
    """The programme's shared (public) notes, newest first, for the start page (one query)."""
    if actor.person is None:
        return []
    return list(
        Note.objects.filter(group__programme_id__in=actor.programme_ids, visibility=Note.Visibility.PUBLIC)
        .select_related("group", "updated_by__user")
        .order_by("-updated_at", "pk")[:limit]
    )


def room_notes(group: FocusGroup) -> list[Note]:
    """Every note of a group, for a member of it (the live room)."""
    return list(Note.objects.filter(group=group).select_related("updated_by__user").order_by("title", "pk"))


def versions_of(note: Note) -> QuerySet[NoteVersion]:
    return NoteVersion.objects.filter(note=note).select_related("author__user").order_by("-version")


@dataclass(frozen=True)
class VersionDiff:
    """A comparison of two versions of a note: a unified diff and a side-by-side HTML table."""

    old: NoteVersion
    new: NoteVersion
    unified: list[str]

    def html_table(self) -> str:
        """An HTML table of the two texts side by side (difflib escapes the text)."""
        return difflib.HtmlDiff(wrapcolumn=80).make_table(
            self.old.body.splitlines(),
            self.new.body.splitlines(),
            fromdesc=f"v{self.old.version}",
            todesc=f"v{self.new.version}",
            context=True,
        )


def compare_versions(note: Note, old: int, new: int) -> VersionDiff | None:
    """The diff between two versions of a note; None when either does not exist."""
    rows = {v.version: v for v in NoteVersion.objects.filter(note=note, version__in=[old, new])}
    if old not in rows or new not in rows:
        return None
    a, b = rows[old], rows[new]
    lines = list(
        difflib.unified_diff(
            a.body.splitlines(),
            b.body.splitlines(),
            fromfile=f"v{a.version}",
            tofile=f"v{b.version}",
            lineterm="",
        )
    )
    if a.title != b.title:
        lines = [f"- title: {a.title}", f"+ title: {b.title}", *lines]
    return VersionDiff(old=a, new=b, unified=lines)


# --- Presence -------------------------------------------------------------------------------------------


def presence_ttl() -> timedelta:
    return timedelta(seconds=settings.FOCUSGROUPS_PRESENCE_TTL_SECONDS)


def roster(group_id: int) -> list[dict[str, Any]]:
    """Who has the group's live notes open now: one entry per person, sorted by name.

    Rows not refreshed within the presence TTL belong to sockets that vanished without a goodbye (a process
    that died); they are deleted here.
    """
    cutoff = timezone.now() - presence_ttl()
    LivePresence.objects.filter(group_id=group_id, seen_at__lt=cutoff).delete()
    people: dict[int, str] = {}
    for person_id, first, last in (
        LivePresence.objects.filter(group_id=group_id)
        .order_by("connected_at", "pk")
        .values_list("person_id", "person__user__first_name", "person__user__last_name")
    ):
        people.setdefault(person_id, f"{first} {last}".strip())
    return [
        {"person": pk, "name": name} for pk, name in sorted(people.items(), key=lambda kv: (kv[1], kv[0]))
    ]


# --- Actions --------------------------------------------------------------------------------------------


def open_actions_for(person: Person, limit: int = 20) -> list[ActionItem]:
    """A person's open actions across their groups, soonest due first (start page; one query)."""
    return list(
        ActionItem.objects.filter(owner=person, status__in=ActionItem.OPEN_STATUSES)
        .select_related("group", "organisation")
        .order_by(F("due_on").asc(nulls_last=True), "pk")[:limit]
    )


# --- A person's own data (their download) ---------------------------------------------------------------

EXPORT_BATCH = 500


def personal_data_sections(person: Person) -> Iterator[registry.PersonalDataSection]:
    """What this app holds about a person: their group seats and mandates, the note versions they saved,
    the actions they own or created, and their glossary comments.

    A version's text is included only while the person may still read the note (``readable_notes_filter``):
    a version holds the whole note as the group wrote it, and a group-only note of a group they have left is
    that group's record, not theirs; of those they get that they saved a version, and when."""
    actor = actor_for(person.user)
    yield registry.PersonalDataSection(
        "focus_group_memberships",
        _("Focus-group memberships"),
        (
            {
                "group": group,
                "role": role,
                "organisation": organisation,
                "mandate": mandate,
                "joined_at": joined.isoformat(),
                "left_at": left.isoformat() if left else None,
                "active": active,
            }
            for group, role, organisation, mandate, joined, left, active in GroupMembership.objects.filter(
                person=person
            )
            .order_by("joined_at", "pk")
            .values_list(
                "group__name", "role", "organisation__name", "mandate", "joined_at", "left_at", "is_active"
            )
        ),
    )
    readable = set(Note.objects.filter(permissions.readable_notes_filter(actor)).values_list("pk", flat=True))
    yield registry.PersonalDataSection(
        "note_versions",
        _("Note versions you saved"),
        (
            {
                "note": note_id,
                "group": group,
                "version": version,
                "saved_at": saved.isoformat(),
                "title": title if note_id in readable else None,
                "text": body if note_id in readable else None,
            }
            for note_id, group, version, saved, title, body in NoteVersion.objects.filter(author=person)
            .order_by("created_at", "pk")
            .values_list("note_id", "note__group__name", "version", "created_at", "title", "body")
            .iterator(EXPORT_BATCH)
        ),
    )
    yield registry.PersonalDataSection(
        "actions",
        _("Actions you own or created"),
        (
            {
                "group": group,
                "title": title,
                "description": description,
                "due_on": due.isoformat() if due else None,
                "status": status,
                "owner": owner_id == person.pk,
            }
            for group, title, description, due, status, owner_id in ActionItem.objects.filter(
                Q(owner=person) | Q(created_by=person)
            )
            .order_by("created_at", "pk")
            .values_list("group__name", "title", "description", "due_on", "status", "owner_id")
            .iterator(EXPORT_BATCH)
        ),
    )
    yield registry.PersonalDataSection(
        "glossary_comments",
        _("Your comments on the glossary"),
        (
            {"concept": concept, "comment": body, "at": at.isoformat()}
            for concept, body, at in ConceptComment.objects.filter(author=person)
            .order_by("created_at", "pk")
            .values_list("concept__name", "body", "created_at")
            .iterator(EXPORT_BATCH)
        ),
    )


# --- Competence profiles ------------------------------------------------------------------------------------


def group_choices(programme: Programme) -> list[tuple[str, str]]:
    """The programme's focus groups, by name (1 query)."""
    return [
        (str(pk), name)
        for pk, name in FocusGroup.objects.filter(programme=programme)
        .order_by("name", "pk")
        .values_list("pk", "name")
    ]


def group_seats_taken(programme: Programme, person_ids: Iterable[int] | None) -> dict[int, dict[str, date]]:
    """``{person_id: {group_id: the day they first took a seat}}``, past seats included (1 query)."""
    rows = GroupMembership.objects.filter(group__programme=programme)
    if person_ids is not None:
        rows = rows.filter(person_id__in=list(person_ids))
    done: dict[int, dict[str, date]] = defaultdict(dict)
    for person_id, group_id, joined_at in rows.values_list("person_id", "group_id", "joined_at"):
        day = timezone.localdate(joined_at)
        mine = done[person_id]
        key = str(group_id)
        if key not in mine or day < mine[key]:
            mine[key] = day
    return done


def groups_to_join(programme: Programme, group_ids: Iterable[str]) -> list[CompetenceSuggestion]:
    """The focus groups themselves: a seat is asked of the convener (1 query)."""
    ids = [int(value) for value in group_ids if value.isdigit()]
    return [
        CompetenceSuggestion(
            value=str(pk),
            label=name,
            detail=gettext("Ask the convener for a seat"),
            url=reverse("focusgroups:group", args=[pk]),
        )
        for pk, name in FocusGroup.objects.filter(programme=programme, pk__in=ids)
        .order_by("name", "pk")
        .values_list("pk", "name")
    ]
