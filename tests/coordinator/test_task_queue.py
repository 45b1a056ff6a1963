"""The task queue: mail in batches over one SMTP connection, retries with back-off, tasks of dead workers
run again, a message in doubt is never sent twice, and each periodic job has exactly one pending run."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from coordinator.core import jobs, notifications, registry, tasks
from coordinator.core.models import JobRun, Notification, OutboundEmail, TaskWorker
from coordinator.core.tenancy import unscoped
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


# --- Notifications written by a task: pushed and mailed by that task -------------------------------------

TELL = "tests.coordinator.test_task_queue.tell_people"


@task()
def tell_people(programme_id: int, person_ids: list[int]) -> int:
    """A task that tells people something once, as a visit request's notices or a booking's invites do."""
    from organisations.models import Person, Programme

    with unscoped(), transaction.atomic():
        programme = Programme.objects.get(pk=programme_id)
        people = list(Person.unscoped_objects.filter(pk__in=person_ids).select_related("user").order_by("pk"))
        told = notifications.notify(
            programme=programme, recipients=people, kind="test.kind", title="Hej", once="test.tell"
        )
        return len(told)


def _tasks() -> list[tuple[str, str]]:
    return sorted(DBTaskResult.objects.values_list("task_path", "status"))


def test_a_task_mails_and_pushes_the_notifications_it_wrote_itself(
    programme, org_a, database_queue, smtp_sink, django_capture_on_commit_callbacks
):
    people = [make_member(programme, org_a) for _ in range(3)]
    layer = get_channel_layer()
    async_to_sync(layer.group_add)(notifications.person_group(people[0].pk), "tab-of-first")
    with django_capture_on_commit_callbacks(execute=True):
        tell_people.enqueue(programme.pk, [p.pk for p in people])

    with django_capture_on_commit_callbacks(execute=True):
        database_queue()

    # One task for the write, none after it: the mail went over one connection right after its commit.
    assert _tasks() == [(TELL, TaskResultStatus.SUCCESSFUL)]
    assert smtp_sink.count_by_address() == Counter({p.user.email: 1 for p in people})
    assert smtp_sink.connections == 1
    assert (
        list(OutboundEmail.unscoped_objects.values_list("status", "attempts"))
        == [(OutboundEmail.Status.SENT, 1)] * 3
    )
    first = Notification.unscoped_objects.get(recipient=people[0])
    assert async_to_sync(layer.receive)("tab-of-first") == {
        "type": "notification.created",
        "id": first.pk,
        "kind": "test.kind",
        "title": "Hej",
        "url": "",
    }


def test_a_task_that_tells_many_hands_their_mail_to_the_queue_in_batches(
    programme, org_a, database_queue, smtp_sink, django_capture_on_commit_callbacks, settings
):
    settings.OUTBOX_BATCH_SIZE = 15
    people = [make_member(programme, org_a) for _ in range(notifications.INLINE_AFTER_TASK + 1)]
    with django_capture_on_commit_callbacks(execute=True):
        tell_people.enqueue(programme.pk, [p.pk for p in people])

    with django_capture_on_commit_callbacks(execute=True):
        database_queue()
    database_queue()  # the batches it queued

    after = "coordinator.core.notifications.after_commit"
    assert _tasks() == [(after, TaskResultStatus.SUCCESSFUL)] * 2 + [(TELL, TaskResultStatus.SUCCESSFUL)]
    assert sorted(smtp_sink.count_by_address().values()) == [1] * 21
    assert smtp_sink.connections == 2


def test_a_task_whose_mail_server_is_down_keeps_the_mail_and_retries_it_later(
    programme, staff_a, database_queue, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    with django_capture_on_commit_callbacks(execute=True):
        tell_people.enqueue(programme.pk, [staff_a.pk])

    with django_capture_on_commit_callbacks(execute=True):
        database_queue()

    outbound = OutboundEmail.unscoped_objects.get()
    assert (outbound.status, outbound.attempts) == (OutboundEmail.Status.PENDING, 0)
    retry = DBTaskResult.objects.get(task_path="coordinator.core.notifications.deliver_outbox")
    assert (retry.status, retry.args_kwargs) == (
        TaskResultStatus.READY,
        {"args": [[outbound.pk]], "kwargs": {"attempt": 1}},
    )
    assert DBTaskResult.objects.get(task_path=TELL).status == TaskResultStatus.SUCCESSFUL


def test_a_task_whose_delivery_breaks_hands_its_mail_to_the_queue(
    programme, staff_a, database_queue, django_capture_on_commit_callbacks, settings
):
    # Not a network error (which is retried with back-off) but a fault of the mail backend itself.
    settings.EMAIL_BACKEND = "tests.coordinator.test_task_queue.BrokenBackend"
    with django_capture_on_commit_callbacks(execute=True):
        tell_people.enqueue(programme.pk, [staff_a.pk])

    with django_capture_on_commit_callbacks(execute=True):
        database_queue()

    notification = Notification.unscoped_objects.get()
    handed = DBTaskResult.objects.get(task_path="coordinator.core.notifications.after_commit")
    assert handed.args_kwargs == {"args": [[notification.pk]], "kwargs": {}}
    assert DBTaskResult.objects.get(task_path=TELL).status == TaskResultStatus.SUCCESSFUL
    # The message is still pending for the queue's task (and the periodic sweep): nothing was lost.
    assert OutboundEmail.unscoped_objects.get().status == OutboundEmail.Status.PENDING


def test_a_worker_that_dies_after_the_tasks_commit_leaves_the_mail_for_the_sweep(
    programme, staff_a, smtp_sink, django_capture_on_commit_callbacks, database_queue
):
    # The task's commit happened; the delivery after it never ran (the worker was killed in between).
    with django_capture_on_commit_callbacks(execute=False):
        tell_people.call(programme.pk, [staff_a.pk])
    assert OutboundEmail.unscoped_objects.get().status == OutboundEmail.Status.PENDING

    assert notifications.deliver_due() == 1
    database_queue()

    assert smtp_sink.count_by_address() == Counter({staff_a.user.email: 1})
    assert OutboundEmail.unscoped_objects.get().status == OutboundEmail.Status.SENT


class BrokenBackend(BaseEmailBackend):
    """A mail backend with a fault of its own (not an unreachable server)."""

    def open(self) -> bool:
        raise RuntimeError("the mail backend is misconfigured")

    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise RuntimeError("the mail backend is misconfigured")


def test_the_mail_a_dead_worker_left_unsent_is_queued_when_its_task_is_requeued(
    programme, staff_a, database_queue, django_capture_on_commit_callbacks, smtp_sink, settings
):
    settings.TASKS_WORKER_TIMEOUT_SECONDS = 30
    # The worker wrote the notice and its mail, committed, and died before sending it.
    TaskWorker.objects.create(worker_id="dead", seen_at=timezone.now() - timedelta(seconds=31))
    abandoned = tell_people.enqueue(programme.pk, [staff_a.pk])
    with django_capture_on_commit_callbacks(execute=False):
        tell_people.call(programme.pk, [staff_a.pk])
    DBTaskResult.objects.filter(pk=abandoned.id).update(status=TaskResultStatus.RUNNING, worker_ids=["dead"])
    outbound = OutboundEmail.unscoped_objects.get()

    assert tasks.requeue_abandoned() == 1

    queued = DBTaskResult.objects.get(task_path="coordinator.core.notifications.deliver_outbox")
    assert queued.args_kwargs == {"args": [[outbound.pk]], "kwargs": {}}
    database_queue()  # the task again (it finds the notice written) and the mail
    assert smtp_sink.count_by_address() == Counter({staff_a.user.email: 1})
    assert Notification.unscoped_objects.count() == 1


# --- A batch of tasks: their notifications pushed and mailed together -------------------------------------


def _outbox_updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('UPDATE "coordinator_outboundemail"')]


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_tasks_mails_and_pushes_their_notifications_together(
    programme, org_a, smtp_sink, database_queue
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    people = [make_member(programme, org_a) for _ in range(3)]
    layer = get_channel_layer()
    async_to_sync(layer.group_add)(notifications.person_group(people[2].pk), "tab-of-third")
    for person in people:
        tell_people.enqueue(programme.pk, [person.pk])

    with CaptureQueriesContext(connection) as captured:
        database_queue()

    # Three tasks committed one after the other; their three messages went over one connection, each
    # claimed and marked sent, the marking of one and the claim of the next in one statement.
    assert _tasks() == [(TELL, TaskResultStatus.SUCCESSFUL)] * 3
    assert smtp_sink.count_by_address() == Counter({p.user.email: 1 for p in people})
    assert smtp_sink.connections == 1
    assert (
        list(OutboundEmail.unscoped_objects.values_list("status", "attempts"))
        == [(OutboundEmail.Status.SENT, 1)] * 3
    )
    assert len(_outbox_updates(captured.captured_queries)) == 4
    third = Notification.unscoped_objects.get(recipient=people[2])
    assert async_to_sync(layer.receive)("tab-of-third") == {
        "type": "notification.created",
        "id": third.pk,
        "kind": "test.kind",
        "title": "Hej",
        "url": "",
    }


@pytest.mark.django_db(transaction=True)
def test_a_tasks_mail_waits_no_longer_than_the_set_time_for_its_batch(
    programme, org_a, smtp_sink, monkeypatch, database_queue
):
    from coordinator.core import worker

    monkeypatch.setattr(worker, "AFTER_BATCH_WAIT_SECONDS", 0.0)
    people = [make_member(programme, org_a) for _ in range(3)]
    for person in people:
        tell_people.enqueue(programme.pk, [person.pk])

    database_queue()

    # Waiting no time, each task's mail left before the next task started: one connection each.
    assert smtp_sink.count_by_address() == Counter({p.user.email: 1 for p in people})
    assert smtp_sink.connections == 3


def test_a_message_claimed_elsewhere_is_not_claimed_with_the_one_sent_before_it(
    programme, staff_a, staff_b, django_capture_on_commit_callbacks, smtp_sink
):
    with django_capture_on_commit_callbacks(execute=False):
        _notify(programme, [staff_a, staff_b])
    first, second = OutboundEmail.unscoped_objects.order_by("pk")
    # Another sender holds the second message's claim.
    held = timezone.now() + timedelta(minutes=5)
    OutboundEmail.unscoped_objects.filter(pk=second.pk).update(
        status=OutboundEmail.Status.SENDING, claimed_until=held
    )

    assert notifications.deliver([first.pk, second.pk]) == 1

    assert smtp_sink.count_by_address() == Counter({staff_a.user.email: 1})
    assert list(
        OutboundEmail.unscoped_objects.order_by("pk").values_list("status", "attempts", "claimed_until")
    ) == [(OutboundEmail.Status.SENT, 1, None), (OutboundEmail.Status.SENDING, 0, held)]
