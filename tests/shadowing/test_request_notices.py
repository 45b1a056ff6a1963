"""What a visit request's steps tell people is written and mailed by the task queue after the step's commit
(``shadowing.services.request_notices``): once, however often the task runs, and again after a database
failure."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from coordinator.core.models import Notification, OutboundEmail
from shadowing.models import ShadowingRequest
from shadowing.services.request_notices import request_notices
from tests.factories.shadowing import future_weekday, make_request
from tests.support.notices import notice_writes

pytestmark = pytest.mark.django_db

BASE = "/api/v1/shadowing"
TASK = "shadowing.services.request_notices.request_notices"


def _body(programme, workplace) -> dict:
    start = future_weekday(0)
    return {
        "programme": programme.pk,
        "learning_goals": "Förstå mottagandet.",
        "days": 2,
        "windows": [{"starts_on": start.isoformat(), "ends_on": (start + timedelta(days=14)).isoformat()}],
        "preferences": [{"rank": 1, "workplace": workplace.pk}],
    }


def test_a_visit_request_mails_the_line_manager_exactly_once_after_the_commit(
    api,
    programme,
    shadower,
    manager_b,
    workplace_a,
    database_queue,
    smtp_sink,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(shadower).post(f"{BASE}/requests/", _body(programme, workplace_a), format="json")
    created = ShadowingRequest.unscoped_objects.get()
    answered = (Notification.unscoped_objects.count(), OutboundEmail.unscoped_objects.count())

    with django_capture_on_commit_callbacks(execute=True):
        database_queue()  # the notice: the notification and its mail, in one transaction
    database_queue()  # the mail, sent after that commit
    # A worker that died after the commit runs the task again: nobody is told twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = request_notices.call(created.pk, "submitted")
    database_queue()

    assert (response.status_code, answered) == (201, (0, 0))
    assert again == 0
    assert smtp_sink.count_by_address() == Counter({manager_b.user.email: 1})
    assert list(Notification.unscoped_objects.values_list("recipient", "title", "once_key")) == [
        (
            manager_b.pk,
            f"{shadower.full_name} asks to go shadowing for 2 days",
            f"shadowing.request.{created.pk}.submitted",
        )
    ]
    assert list(OutboundEmail.unscoped_objects.values_list("to_address", "status")) == [
        (manager_b.user.email, OutboundEmail.Status.SENT)
    ]


def test_a_rolled_back_decision_queues_no_notice(
    scope, programme, shadower, manager_b, as_actor, django_capture_on_commit_callbacks, database_queue
):
    from shadowing.services import shadowing_requests

    waiting = make_request(programme, shadower, status=ShadowingRequest.Status.PENDING_APPROVAL)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            shadowing_requests.request_approve(actor=as_actor(manager_b), request=waiting, note="Ja")
            raise RuntimeError("something after the decision failed")

    assert callbacks == []
    assert DBTaskResult.objects.count() == 0
    assert (
        ShadowingRequest.unscoped_objects.get(pk=waiting.pk).status
        == ShadowingRequest.Status.PENDING_APPROVAL
    )


def test_a_second_notification_of_the_same_step_is_refused_by_the_database(programme, shadower):
    told = {"programme": programme, "recipient": shadower, "kind": "shadowing.request", "title": "Approved"}
    Notification.objects.create(**told, once_key="shadowing.request.1.approved")
    Notification.objects.create(**told)  # notifications without a name repeat freely
    Notification.objects.create(**told)

    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(**told, once_key="shadowing.request.1.approved")


def test_notices_the_database_failed_are_tried_again_after_the_back_off(
    programme, shadower, manager_b, database_queue, settings
):
    decided = make_request(programme, shadower, status=ShadowingRequest.Status.APPROVED)
    ShadowingRequest.unscoped_objects.filter(pk=decided.pk).update(decision_note="Gärna!")
    queries: list[str] = []

    def fails_once(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        if len(queries) == 2:  # the task's second query: the request, say, while the database restarts
            raise OperationalError("the database system is starting up")
        return execute(sql, params, many, context)

    before = timezone.now()
    with connection.execute_wrapper(fails_once):
        written = request_notices.call(decided.pk, "approved")

    retry = DBTaskResult.objects.get(task_path=TASK)
    assert written == 0
    assert Notification.unscoped_objects.count() == 0
    assert retry.status == TaskResultStatus.READY
    assert retry.args_kwargs == {"args": [decided.pk, "approved"], "kwargs": {"attempt": 1}}
    assert before + timedelta(seconds=9) <= retry.run_after <= timezone.now() + timedelta(seconds=11)

    # The next attempt, once the database is back, tells the requester; a third run tells nobody again.
    assert request_notices.call(decided.pk, "approved", attempt=1) == 1
    assert request_notices.call(decided.pk, "approved", attempt=1) == 0
    assert list(Notification.unscoped_objects.values_list("recipient", "title", "body")) == [
        (
            shadower.pk,
            "Your shadowing request was approved",
            "The coordinator will match it with a workplace; you will hear from us.\n\nGärna!",
        )
    ]
    assert OutboundEmail.unscoped_objects.filter(recipient=shadower).count() == 1

    # The last attempt is not put off again: the failure is raised and the task recorded as failed.
    settings.TASKS_MAX_ATTEMPTS = 2
    queries.clear()
    with connection.execute_wrapper(fails_once), pytest.raises(OperationalError):
        request_notices.call(decided.pk, "declined", attempt=1)
    assert DBTaskResult.objects.count() == 1


def test_a_request_deleted_before_its_notice_tells_nobody(programme, shadower):
    gone = make_request(programme, shadower)
    pk = gone.pk
    ShadowingRequest.unscoped_objects.filter(pk=pk).delete()

    assert request_notices.call(pk, "submitted") == 0
    assert Notification.unscoped_objects.count() == 0


def test_a_submitted_notice_reads_the_request_with_its_line_manager_in_one_query(
    programme, shadower, manager_b, django_assert_num_queries
):
    waiting = make_request(programme, shadower, status=ShadowingRequest.Status.PENDING_APPROVAL)

    # The request with its programme, requester, line manager and filer (1), whether the step was told and
    # the manager's mail preference, in one (1), the mail and the notification (2; 1 on PostgreSQL), inside
    # a savepoint (2).
    with django_assert_num_queries(4 + notice_writes()):
        told = request_notices.call(waiting.pk, "submitted")

    assert told == 1
    assert list(Notification.unscoped_objects.values_list("recipient", "title", "once_key")) == [
        (
            manager_b.pk,
            f"{shadower.full_name} asks to go shadowing for 1 day",
            f"shadowing.request.{waiting.pk}.submitted",
        )
    ]
    assert list(OutboundEmail.unscoped_objects.values_list("to_address", flat=True)) == [manager_b.user.email]


def test_a_decided_notice_reads_the_request_in_one_query(
    programme, shadower, manager_b, django_assert_num_queries
):
    decided = make_request(programme, shadower, status=ShadowingRequest.Status.APPROVED)

    with django_assert_num_queries(4 + notice_writes()):
        told = request_notices.call(decided.pk, "approved")

    assert told == 1
    assert list(Notification.unscoped_objects.values_list("recipient", "title")) == [
        (shadower.pk, "Your shadowing request was approved")
    ]


def test_without_a_line_manager_on_record_the_unit_managers_are_asked(
    programme, org_b, unit_b, manager_b, django_assert_num_queries
):
    from organisations.models import PlatformRole as R
    from tests.factories.organisations import make_member

    second_manager = make_member(programme, org_b, R.LINE_MANAGER, R.STAFF, unit=unit_b)
    requester = make_member(programme, org_b, R.STAFF, unit=unit_b)
    waiting = make_request(programme, requester, status=ShadowingRequest.Status.PENDING_APPROVAL)

    # The request (1), the unit's line managers (1), whether the step was told and the recipients' mail
    # preferences, in one (1), their mail (1) and their notifications (1; both in 1 on PostgreSQL), whatever
    # their number, inside a savepoint (2).
    with django_assert_num_queries(5 + notice_writes()):
        told = request_notices.call(waiting.pk, "submitted")

    assert told == 2
    assert sorted(Notification.unscoped_objects.values_list("recipient", "once_key")) == [
        (manager_b.pk, f"shadowing.request.{waiting.pk}.submitted"),
        (second_manager.pk, f"shadowing.request.{waiting.pk}.submitted"),
    ]
