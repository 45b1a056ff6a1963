"""What a visit request's steps tell people, sent by the task queue after the step's commit: a new request
asks the line manager to decide (and tells the person a coordinator filed it for), a decision tells the
requester. The request answers without writing them (they were about a quarter of its queries); the task
writes each notification and its mail once, however often it runs."""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_noop, ngettext_lazy
from django_tasks import task

from coordinator.core.notifications import notify
from coordinator.core.prepared import PreparedQuery
from coordinator.core.tasks import on_commit_enqueue, retry_later
from coordinator.core.tenancy import programme_scope, unscoped
from organisations.models import Person
from shadowing import permissions
from shadowing.kinds import KIND_APPROVAL, KIND_REQUEST
from shadowing.links import page_url
from shadowing.models import ShadowingRequest

logger = logging.getLogger(__name__)

SUBMITTED = "submitted"
APPROVED = "approved"
DECLINED = "declined"
EVENTS = (SUBMITTED, APPROVED, DECLINED)


def tell_after_commit(request: ShadowingRequest, event: str) -> None:
    """Queue the notices of a step once the caller's transaction commits (never for a rolled-back one)."""
    on_commit_enqueue(request_notices, request.pk, event)


@task()
def request_notices(request_id: int, event: str, attempt: int = 0) -> int:
    """Tell the people a visit request's step concerns (``event``: submitted, approved or declined); returns
    how many notifications were written.

    Idempotent: each notification is named after the request and the step (``notify(once=...)``) and
    written with its mail in one transaction, so a second run (a worker that died after the commit) tells
    nobody twice. A run the database fails is tried again after the back-off; when the attempts are used
    up the failure is raised and the task is recorded as failed."""
    try:
        return _notices(request_id, event)
    except DatabaseError:
        if not retry_later(request_notices, attempt, request_id, event):
            raise
        logger.warning(
            "The notices of request %s (%s) could not be written (attempt %s)",
            request_id,
            event,
            attempt + 1,
            exc_info=True,
        )
        return 0


def _request_with_people(request_id: int | str) -> QuerySet[ShadowingRequest]:
    # A task has no request scope: the request by its id, with its programme, the requester (and their line
    # manager, the usual approver) and whoever filed it, in one query.
    return ShadowingRequest.unscoped_objects.filter(pk=request_id).select_related(
        "programme", "requester__user", "requester__line_manager__user", "filed_by__user"
    )


# Compiled once per connection: the joins cost the worker more processor time than the database's answer.
_REQUEST_WITH_PEOPLE: PreparedQuery[ShadowingRequest] = PreparedQuery(
    _request_with_people, stand_in=-(2**62) + 15
)


def _notices(request_id: int, event: str) -> int:
    if event not in EVENTS:
        raise ValueError(f"Unknown step of a visit request: {event}")
    with transaction.atomic():
        with unscoped():  # a task has no request scope: the request's programme, by the request's id
            found = _REQUEST_WITH_PEOPLE.fetch(request_id)
        if not found:
            return 0  # the request was deleted since (its programme or its person erased): nobody to tell
        request = found[0]
        with programme_scope([request.programme_id]):
            once = f"shadowing.request.{request.pk}.{event}"
            if event == SUBMITTED:
                return _submitted(request, once)
            return _decided(request, event, once)


def _approvers(request: ShadowingRequest) -> list[Person]:
    """``permissions.approvers_of``, with the line manager already read with the request (the usual case)."""
    line_manager = request.requester.line_manager
    if line_manager is not None:
        return [line_manager]
    return permissions.approvers_of(request)


# Made once: a lazy text is written in the language active where it is rendered (each recipient's), and
# making one per notice cost the worker more than its rendering.
_ASKS_TO_GO = ngettext_lazy(
    "%(person)s asks to go shadowing for %(days)s day",
    "%(person)s asks to go shadowing for %(days)s days",
    "days",
)


def _submitted(request: ShadowingRequest, once: str) -> int:
    person = request.requester
    told = notify(
        programme=request.programme,
        recipients=_approvers(request),
        kind=KIND_APPROVAL,
        title=_ASKS_TO_GO,
        body=gettext_noop("Approve or decline the time away under Shadowing → Approvals."),
        params={"person": person.full_name, "days": request.days},
        detail=request.learning_goals,
        url=page_url("approvals"),
        once=once,
    )
    if request.filed_by is not None:
        told += notify(
            programme=request.programme,
            recipients=[person],
            kind=KIND_REQUEST,
            title=gettext_noop("%(coordinator)s asked for a shadowing visit on your behalf"),
            body=gettext_noop(
                "Your line manager is asked to approve it. You can change or withdraw it under "
                "Shadowing → My requests."
            ),
            params={"coordinator": request.filed_by.full_name},
            detail=request.learning_goals,
            url=page_url("request-detail", pk=request.pk),
            once=f"{once}.on_behalf",
        )
    return len(told)


def _decided(request: ShadowingRequest, event: str, once: str) -> int:
    if event == APPROVED:
        title = gettext_noop("Your shadowing request was approved")
        body = gettext_noop("The coordinator will match it with a workplace; you will hear from us.")
    else:
        title = gettext_noop("Your shadowing request was not approved")
        body = gettext_noop("Your line manager did not approve the time away.")
    return len(
        notify(
            programme=request.programme,
            recipients=[request.requester],
            kind=KIND_REQUEST,
            title=title,
            body=body,
            detail=request.decision_note,
            url=page_url("request-detail", pk=request.pk),
            once=once,
        )
    )
