"""The task queue: mail in batches over one SMTP connection, retries with back-off, tasks of dead workers
run again, a message in doubt is never sent twice, and each periodic job has exactly one pending run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from coordinator.core import jobs, notifications, registry, tasks
from coordinator.core.models import JobRun, Notification, OutboundEmail, TaskWorker
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def _notify(programme, people, title="Hej") -> None:
    notifications.notify(programme=programme, recipients=people, kind="test.kind", title=title)


def test_a_batch_of_mail_goes_over_one_smtp_connection(
    programme, org_a, database_queue, smtp_sink, django_capture_on_commit_callbacks, settings
):
    settings.OUTBOX_BATCH_SIZE = 5
    people = [make_member(programme, org_a) for _ in range(12)]
    with django_capture_on_commit_callbacks(execute=True):
        _notify(programme, people)
    # Queued after the commit: three tasks of at most five, nothing sent yet.
    assert DBTaskResult.objects.filter(task_path="coordinator.core.notifications.after_commit").count() == 3
    assert smtp_sink.received == []

    database_queue()

    assert sorted(smtp_sink.count_by_address().values()) == [1] * 12
    assert smtp_sink.connections == 3
    assert OutboundEmail.unscoped_objects.filter(status=OutboundEmail.Status.SENT).count() == 12


def test_an_unreachable_mail_server_keeps_the_batch_and_retries_it_later(
    programme, staff_a, database_queue, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    with django_capture_on_commit_callbacks(execute=True):
        _notify(programme, [staff_a])
    before = timezone.now()

    database_queue()

    outbound = OutboundEmail.unscoped_objects.get()
    assert (outbound.status, outbound.attempts) == (OutboundEmail.Status.PENDING, 0)
    retry = DBTaskResult.objects.get(task_path="coordinator.core.notifications.deliver_outbox")
    assert retry.status == TaskResultStatus.READY
    assert retry.args_kwargs == {"args": [[outbound.pk]], "kwargs": {"attempt": 1}}
    assert before + timedelta(seconds=9) <= retry.run_after <= timezone.now() + timedelta(seconds=11)


def test_backoff_doubles_up_to_an_hour():
    assert [tasks.backoff(n).total_seconds() for n in (0, 1, 2, 3, 9, 20)] == [10, 20, 40, 80, 3600, 3600]


def test_a_message_left_in_doubt_by_a_dead_sender_is_reported_not_sent_again(
    programme, staff_a, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        _notify(programme, [staff_a])
    # A sender claimed it and died before marking it sent: it may or may not have reached the server.
    OutboundEmail.unscoped_objects.update(
        status=OutboundEmail.Status.SENDING, claimed_until=timezone.now() - timedelta(seconds=1)
    )

    assert notifications.deliver_due() == 0

    outbound = OutboundEmail.unscoped_objects.get()
    assert (outbound.status, outbound.last_error) == (OutboundEmail.Status.FAILED, notifications.IN_DOUBT)
    alert = Notification.unscoped_objects.get(kind="outbox.failed")
    assert alert.recipient == coordinator
    assert notifications.deliver_due() == 0


def test_the_task_of_a_dead_worker_runs_again_and_a_live_workers_does_not(database_queue, settings):
    settings.TASKS_WORKER_TIMEOUT_SECONDS = 30
    tasks.heartbeat("alive")
    TaskWorker.objects.create(worker_id="dead", seen_at=timezone.now() - timedelta(seconds=31))
    abandoned = notifications.deliver_outbox.enqueue([])
    running = notifications.deliver_outbox.enqueue([])
    DBTaskResult.objects.filter(pk=abandoned.id).update(status=TaskResultStatus.RUNNING, worker_ids=["dead"])
    DBTaskResult.objects.filter(pk=running.id).update(status=TaskResultStatus.RUNNING, worker_ids=["alive"])

    assert tasks.requeue_abandoned() == 1

    assert DBTaskResult.objects.get(pk=abandoned.id).status == TaskResultStatus.READY
    assert DBTaskResult.objects.get(pk=running.id).status == TaskResultStatus.RUNNING
    database_queue()
    assert DBTaskResult.objects.get(pk=abandoned.id).status == TaskResultStatus.SUCCESSFUL


@pytest.fixture
def counting_job():
    calls = []

    def run() -> int:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the directory did not answer")
        return 4

    registry.periodic_jobs.register(
        "test.counting", registry.PeriodicJob("test.counting", run, every_seconds=600)
    )
    yield calls
    registry.periodic_jobs._entries.pop("test.counting")


def _pending(name: str) -> list[DBTaskResult]:
    return [
        result
        for result in DBTaskResult.objects.filter(
            task_path="coordinator.core.jobs.run_periodic_job", status=TaskResultStatus.READY
        )
        if result.args_kwargs["args"] == [name]
    ]


def test_each_periodic_job_has_exactly_one_pending_run(database_queue, counting_job):
    jobs.schedule_periodic_jobs()
    jobs.schedule_periodic_jobs()  # a second worker starting: nothing more is queued
    assert len(_pending("test.counting")) == 1
    assert {name for (name,) in JobRun.objects.values_list("name")} == {
        job.name for job in registry.periodic_jobs
    }

    started = timezone.now()
    database_queue()  # runs every job due now; each queues its next run

    state = JobRun.objects.get(name="test.counting")
    (following,) = _pending("test.counting")
    assert (state.last_handled, state.last_error, state.failures, len(counting_job)) == (4, "", 0, 1)
    assert state.pending_task_id == str(following.pk)
    assert started + timedelta(seconds=600) <= following.run_after == state.next_run_at
    assert following.run_after <= timezone.now() + timedelta(seconds=600)


def test_a_failing_periodic_job_is_recorded_and_runs_again_on_schedule(database_queue, counting_job):
    jobs.schedule_periodic_jobs()
    database_queue()
    DBTaskResult.objects.filter(pk=JobRun.objects.get(name="test.counting").pending_task_id).update(
        run_after=timezone.now()
    )
    database_queue()  # the second run fails

    state = JobRun.objects.get(name="test.counting")
    assert (state.last_error, state.failures, state.total_failures) == (
        "RuntimeError: the directory did not answer",
        1,
        1,
    )
    assert len(_pending("test.counting")) == 1  # and it is scheduled again


def test_a_stray_copy_of_a_periodic_run_does_nothing(database_queue, counting_job):
    jobs.schedule_periodic_jobs()
    jobs.run_periodic_job.enqueue("test.counting")  # not the job's pending run
    JobRun.objects.filter(name="test.counting").update(pending_task_id="someone-else")
    database_queue()
    assert counting_job == []


def test_platform_admins_see_each_jobs_last_and_next_run_and_failures(
    web, database_queue, counting_job, coordinator, django_user_model
):
    operator = django_user_model.objects.create_superuser(
        "operator", "operator@samverkan.example", "x-unused-x"
    )
    client = Client()
    client.force_login(operator, backend="django.contrib.auth.backends.ModelBackend")
    jobs.schedule_periodic_jobs()
    database_queue()
    JobRun.objects.filter(name="test.counting").update(
        total_failures=3, failures=1, last_error="RuntimeError: boom", last_failed_at=timezone.now()
    )

    response = client.get("/organisations/platform/jobs/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "<code>test.counting</code>" in page
    assert "1 in a row, 3 in all" in page
    assert ": RuntimeError: boom</span>" in page
    assert '<dd id="queue-ready">0</dd>' in page
    assert web(coordinator).get("/organisations/platform/jobs/").status_code == 403
