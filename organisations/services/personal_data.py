"""A person's control over their data: erasure by a programme admin, and the retention sweep.

Erasure pseudonymises; it does not delete rows. What a person took part in stays (an action they own, a
placement and its steps, an enrolment and its attendance, a note version they saved), so that other people's
records and the programme's figures stay whole; what identifies the person goes: their account's name,
username, email and password, their profile's contact details, their sessions' rights, API tokens and
calendar address, what their calendar was sent, their notifications and the mail addressed to them, and
their name and address wherever the platform copied them as text (audit entries, other people's queued mail
and its calendar attendees). Everywhere the platform shows a person it then shows "Former member", and the
calendars of events that showed them (a visit's, of its host contact) are sent that as an update.

A person may take part in several programmes. A programme admin erases the person only when every programme
in which the person is still an active member is one that admin administers. Otherwise the person's
membership of the admin's programme ends and that programme's copies are pseudonymised (its notifications
and mail to them, their name in its queued mail and in audit entries filed under it alone), while the
account and everything another programme still needs stay; the person is erased later by the last
programme's admin or by the retention sweep.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import icalendar
from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from coordinator.core import itip, registry
from coordinator.core.exceptions import Conflict
from coordinator.core.models import CalendarCopy, Notification, NotificationPreference, OutboundEmail
from coordinator.core.tenancy import programme_scope
from organisations.models import (
    AuditEntryProgramme,
    Membership,
    Person,
    PlatformRole,
    Programme,
    RoleAssignment,
)
from organisations.permissions import Actor, forget_actor

# Written into kept text (audit entries, other people's mail) in place of the person; stored text is not
# translated per reader, so it is the English source of the "Former member" label the pages show.
REPLACEMENT = "Former member"
# Values of an erased person's own profile fields in their audit entries.
REMOVED = "–"
# Identifiers shorter than this are not searched for in free text: they would match parts of other words.
MIN_IDENTIFIER_LENGTH = 3
BATCH = 500
# The field name of the audit entry that records an erasure (its value: the outcome's kind).
ERASURE_FIELD = "personal_data"


# The person's row lock makes a second, simultaneous erasure see the first and stop. It is switched off only
# by the race-control test (``erasure_lock_disabled``), to show what happens without it.
_erasure_lock_enabled = True


@contextlib.contextmanager
def erasure_lock_disabled() -> Iterator[None]:
    """Erase without locking the person's row (the race-control test only)."""
    global _erasure_lock_enabled
    _erasure_lock_enabled = False
    try:
        yield
    finally:
        _erasure_lock_enabled = True


@dataclass(frozen=True)
class ErasureOutcome:
    """What an erasure did: ``erased`` (the account is pseudonymised) or ``withdrawn`` (only the programmes
    in ``programme_ids`` let the person go, because another programme still has them as an active member)."""

    kind: Literal["erased", "withdrawn"]
    programme_ids: frozenset[int]


def erasure_scope(*, actor: Actor | None, person: Person) -> ErasureOutcome:
    """What erasing ``person`` would do for ``actor`` (None: the retention sweep, which acts everywhere)."""
    # The person's memberships in every programme decide what may be erased, so they are read whatever
    # programmes the admin is in; nothing of another programme is shown or returned, only this decision.
    memberships = list(
        Membership.unscoped_objects.filter(person=person).values_list("programme_id", "is_active")
    )
    everywhere = frozenset(pid for pid, _active in memberships)
    active = {pid for pid, is_active in memberships if is_active}
    if actor is None:
        return ErasureOutcome("erased", everywhere)
    administered = actor.programmes_with_role(PlatformRole.PROGRAMME_ADMIN)
    if active <= administered:
        return ErasureOutcome("erased", everywhere)
    return ErasureOutcome("withdrawn", frozenset(active & administered))


def _check(actor: Actor, person: Person, programme: Programme) -> None:
    if not actor.is_programme_admin(programme):
        raise PermissionDenied(_("Only the programme's admins may erase a person's data."))
    if not Membership.objects.filter(programme=programme, person=person).exists():
        raise PermissionDenied(_("This person is not a member of the programme."))
    if actor.person is not None and actor.person.pk == person.pk:
        raise ValidationError(_("You cannot erase your own data; ask another programme admin."))
    if person.user.is_superuser:
        raise PermissionDenied(_("A platform operator's account cannot be erased here."))
    if person.erased_at is not None:
        raise Conflict(_("This person's data has already been erased."))


@transaction.atomic
def person_erase(*, actor: Actor, person: Person, programme: Programme) -> ErasureOutcome:
    """Erase (pseudonymise) a person, as a programme admin of ``programme``, in one transaction.

    When every programme in which the person is still active is administered by ``actor``, the person is
    erased everywhere; otherwise only the programmes ``actor`` administers let them go (see the module
    docstring). Sends nothing to the person; the erasure itself is on the audit trail without their name.
    """
    _check(actor, person, programme)
    outcome = erasure_scope(actor=actor, person=person)
    if outcome.kind == "withdrawn":
        outcome = ErasureOutcome("withdrawn", frozenset({programme.pk}) | outcome.programme_ids)
    _erase(person, outcome, actor_user=actor.user)
    return outcome


def _erase(person: Person, outcome: ErasureOutcome, *, actor_user: object | None) -> None:
    people = Person.unscoped_objects.select_related("user")
    person = (people.select_for_update() if _erasure_lock_enabled else people).get(pk=person.pk)
    if person.erased_at is not None:  # another erasure committed first
        raise Conflict(_("This person's data has already been erased."))
    identifiers = _identifiers(person)
    programme_ids = outcome.programme_ids
    everywhere = outcome.kind == "erased"
    # The erasure's own changes would copy the old values onto the trail: they are left off it, and one
    # entry (without the name) records the erasure instead.
    with disable_auditlog(), programme_scope(programme_ids):
        for eraser in registry.personal_data_erasers:
            eraser(person, programme_ids)
        memberships = Membership.objects.filter(person=person, programme_id__in=programme_ids)
        RoleAssignment.objects.filter(membership__in=memberships).delete()
        for membership in memberships.filter(is_active=True):
            membership.is_active = False
            membership.save(update_fields=["is_active"])
        Notification.objects.filter(recipient=person, programme_id__in=programme_ids).delete()
        _drop_own_mail(person, programme_ids)
        _scrub_other_mail(identifiers, programme_ids)
        _scrub_notifications(identifiers, programme_ids)
        _scrub_audit(person, identifiers, None if everywhere else programme_ids)
        if everywhere:
            NotificationPreference.objects.filter(person=person).delete()
            # What their calendar was sent (their address and the events' text): their calendar is written
            # to no more, so no later change mails them an update or a cancellation.
            CalendarCopy.objects.filter(person=person).delete()
            _pseudonymise_account(person)
            # Others' events showed their name, address or phone (a host contact's, in a visit): those
            # calendars get the update that shows a former member instead, after the commit.
            itip.people_changed([person.pk], itip.PERSON_DETAILS)
    forget_actor(person.user)
    _record(person, outcome, actor_user)


def _identifiers(person: Person) -> list[str]:
    user = person.user
    found = {person.full_name, user.get_full_name(), user.email, user.get_username(), person.phone}
    return sorted((s for s in found if len(s.strip()) >= MIN_IDENTIFIER_LENGTH), key=len, reverse=True)


def _replacer(identifiers: list[str]) -> Callable[[str], str]:
    if not identifiers:
        return lambda text: text
    # Whole words only: a username "anna" must not turn "Johanna" into "JohFormer member".
    alternatives = "|".join(re.escape(s) for s in identifiers)
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    return lambda text: pattern.sub(REPLACEMENT, text)


def _replace_in(value: object, replace: Callable[[str], str]) -> object:
    """``replace`` applied to every string inside a JSON value."""
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, list):
        return [_replace_in(item, replace) for item in value]
    if isinstance(value, dict):
        return {key: _replace_in(item, replace) for key, item in value.items()}
    return value


def _drop_own_mail(person: Person, programme_ids: frozenset[int]) -> None:
    """Mail addressed to the person is deleted, queued or sent; a message another process is sending at
    this instant is left to finish and then scrubbed with the rest by the next erasure step."""
    OutboundEmail.objects.filter(recipient=person, programme_id__in=programme_ids).exclude(
        status=OutboundEmail.Status.SENDING
    ).delete()


def _scrub_other_mail(identifiers: list[str], programme_ids: frozenset[int]) -> None:
    """The person's name and address are removed from every other stored message of these programmes:
    their ATTENDEE line leaves the calendar part, and their name in the text becomes "Former member"."""
    if not identifiers:
        return
    mentions = Q()
    for identifier in identifiers:
        mentions |= (
            Q(subject__icontains=identifier)
            | Q(body_text__icontains=identifier)
            | Q(body_html__icontains=identifier)
            | Q(ics_content__icontains=identifier)
            | Q(to_address__iexact=identifier)
        )
    replace = _replacer(identifiers)
    addresses = {f"mailto:{s}".lower() for s in identifiers if "@" in s}
    for mail in OutboundEmail.objects.filter(mentions, programme_id__in=programme_ids).iterator(BATCH):
        mail.subject = replace(mail.subject)
        mail.body_text = replace(mail.body_text)
        mail.body_html = replace(mail.body_html)
        if mail.ics_content:
            mail.ics_content = _scrub_calendar(mail.ics_content, addresses, replace)
        if mail.to_address.lower() in {a.removeprefix("mailto:") for a in addresses}:
            mail.to_address = ""
        mail.save(update_fields=["subject", "body_text", "body_html", "ics_content", "to_address"])


def _scrub_notifications(identifiers: list[str], programme_ids: frozenset[int]) -> None:
    """Other people's notifications of these programmes that name the person name a former member."""
    mentions = Q()
    for identifier in identifiers:
        mentions |= Q(title__icontains=identifier) | Q(body__icontains=identifier)
    if not identifiers:
        return
    replace = _replacer(identifiers)
    for notification in Notification.objects.filter(mentions, programme_id__in=programme_ids).iterator(BATCH):
        notification.title = replace(notification.title)
        notification.body = replace(notification.body)
        notification.save(update_fields=["title", "body"])


def _scrub_calendar(content: str, addresses: set[str], replace: Callable[[str], str]) -> str:
    calendar = icalendar.Calendar.from_ical(content)
    for event in calendar.walk("VEVENT"):
        attendees = event.get("ATTENDEE")
        if attendees is not None:
            listed = attendees if isinstance(attendees, list) else [attendees]
            kept = [a for a in listed if str(a).lower() not in addresses]
            del event["ATTENDEE"]
            for attendee in kept:
                if "CN" in attendee.params:
                    attendee.params["CN"] = replace(str(attendee.params["CN"]))
                event.add("ATTENDEE", attendee, encode=False)
        for name in ("SUMMARY", "DESCRIPTION", "COMMENT", "LOCATION"):
            if name in event:
                event[name] = icalendar.vText(replace(str(event[name])))
    return calendar.to_ical().decode()


def _audit_entries(person: Person, identifiers: list[str]) -> Q:
    user = person.user
    person_type = ContentType.objects.get_for_model(Person)
    found = Q(actor=user) | Q(content_type=person_type, object_pk=str(person.pk))
    for identifier in identifiers:
        # The JSON column as text: raw characters on PostgreSQL, \\u escapes in SQLite's stored JSON.
        escaped = json.dumps(identifier)[1:-1]
        found |= (
            Q(object_repr__icontains=identifier)
            | Q(changes_text__icontains=identifier)
            | Q(changes_as_text__icontains=identifier)
            | Q(changes_as_text__icontains=escaped)
        )
    return found


def _scrub_audit(person: Person, identifiers: list[str], only_programmes: frozenset[int] | None) -> None:
    """Pseudonymise the person in audit entries: their name, username, email and phone in what each entry
    says, the values of their own profile's changes, and the address they acted from.

    ``only_programmes``: touch only entries filed under these programmes and no other (a withdrawal);
    None touches every entry about the person (an erasure)."""
    entries = LogEntry.objects.annotate(changes_as_text=Cast("changes", TextField())).filter(
        _audit_entries(person, identifiers)
    )
    if only_programmes is not None:
        # Whether an entry is also filed under another programme decides whether it may be changed; that
        # programme's links are read (not shown) whatever the scope.
        entries = entries.filter(
            pk__in=AuditEntryProgramme.objects.filter(programme_id__in=only_programmes).values("log_entry")
        ).exclude(
            pk__in=AuditEntryProgramme.unscoped_objects.exclude(programme_id__in=only_programmes).values(
                "log_entry"
            )
        )
    replace = _replacer(identifiers)
    person_type = ContentType.objects.get_for_model(Person)
    ids = list(entries.values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        batch = list(LogEntry.objects.filter(pk__in=ids[start : start + BATCH]))
        for entry in batch:
            entry.object_repr = replace(entry.object_repr)
            entry.changes_text = replace(entry.changes_text)
            own_profile = entry.content_type_id == person_type.pk and entry.object_pk == str(person.pk)
            if own_profile and isinstance(entry.changes, dict):
                entry.changes = {field: [REMOVED, REMOVED] for field in entry.changes}
            else:
                entry.changes = _replace_in(entry.changes, replace)
            entry.serialized_data = None
            if entry.actor_id == person.user_id:
                entry.actor_email = None
                entry.remote_addr = None
                entry.remote_port = None
        LogEntry.objects.bulk_update(
            batch,
            [
                "object_repr",
                "changes_text",
                "changes",
                "serialized_data",
                "actor_email",
                "remote_addr",
                "remote_port",
            ],
        )


def _pseudonymise_account(person: Person) -> None:
    user = person.user
    user.username = f"former-member-{secrets.token_hex(8)}"
    user.first_name = user.last_name = user.email = ""
    user.is_active = user.is_staff = False
    user.set_unusable_password()  # also ends every signed-in session (their hash no longer matches)
    user.save()
    Token.objects.filter(user=user).delete()
    person.phone = person.job_title = person.preferred_language = ""
    person.languages = []
    person.line_manager = None
    person.erased_at = timezone.now()
    person.renew_calendar_address()  # the old feed address is dead
    person.save(
        update_fields=[
            "phone",
            "job_title",
            "preferred_language",
            "languages",
            "line_manager",
            "erased_at",
            "calendar_nonce",
            "calendar_token_hash",
            "legacy_calendar_token_hash",
        ]
    )


def _record(person: Person, outcome: ErasureOutcome, actor_user: object | None) -> None:
    """One audit entry for the erasure: who did it, whom (by number, not by name), and what kind."""
    entry = LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Person),
        object_pk=str(person.pk),
        object_id=person.pk,
        object_repr=REPLACEMENT,
        action=LogEntry.Action.UPDATE,
        changes={ERASURE_FIELD: ["", outcome.kind]},
        changes_text="",
        actor=actor_user if getattr(actor_user, "is_authenticated", False) else None,
        additional_data={"programmes": sorted(outcome.programme_ids)},
    )
    assert entry.pk is not None


def retention_cutoff() -> timedelta | None:
    days = settings.PERSONAL_DATA_RETENTION_DAYS
    return timedelta(days=days) if days else None


def erase_expired_people() -> int:
    """Periodic job: erase everyone whose last membership ended longer ago than the retention period
    (``PERSONAL_DATA_RETENTION_DAYS``; 0 switches the sweep off). Idempotent: erased people are skipped."""
    cutoff = retention_cutoff()
    if cutoff is None:
        return 0
    due = (
        Person.objects.filter(erased_at__isnull=True, user__is_superuser=False, memberships__isnull=False)
        .exclude(memberships__is_active=True)
        .annotate(last_ended=Max("memberships__ended_at"))
        .filter(last_ended__lt=timezone.now() - cutoff)
        .values_list("pk", flat=True)
    )
    handled = 0
    for pk in list(due):
        with transaction.atomic():
            person = Person.objects.select_related("user").get(pk=pk)
            if person.erased_at is not None:
                continue
            _erase(person, erasure_scope(actor=None, person=person), actor_user=None)
        handled += 1
    return handled
