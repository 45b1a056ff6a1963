"""Shared records: in-app notifications, each person's email choices, and the outbound email outbox."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel


class OutboundEmail(TenantModel):
    """A message written in the same transaction as the change it reports, and sent after the commit.

    The outbox is what makes "no invite silently fails to send" hold: a message exists as soon as its cause
    is committed; a failed send is retried with back-off and, after the last attempt, shown to the
    programme's coordinators as failed.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    programme = models.ForeignKey("organisations.Programme", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, related_name="outbound_emails"
    )
    to_address = models.EmailField()
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    ics_method = models.CharField(max_length=10, blank=True)
    ics_content = models.TextField(blank=True)
    kind = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_address} ({self.status})"


class Notification(TenantModel):
    """Something that asks a person to act or tells them what happened; shown in the bell and on my page."""

    programme = models.ForeignKey("organisations.Programme", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        "organisations.Person", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=64)
    title = models.CharField(max_length=255)
    body = models.TextField(max_length=5000, blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email = models.ForeignKey(
        OutboundEmail, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What a notification written by a task tells, named so that a task run twice (a worker that died
    # after its commit) tells each person once: unique per recipient where set.
    once_key = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "once_key"],
                condition=~models.Q(once_key=""),
                name="notification_told_once",
            )
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(TenantModel):
    """Whether a person wants email for one kind of notification (in-app notifications always appear)."""

    tenant_path: ClassVar[str] = "person__memberships__programme"
    tenant_path_is_multi: ClassVar[bool] = True

    person = models.ForeignKey(
        "organisations.Person", on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=64)
    email_enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "kind"], name="notification_preference_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.kind} email={'on' if self.email_enabled else 'off'}"


class JobRun(models.Model):
    """Where each periodic job stands: its last run, its next one (the one queued task that will run it) and
    its failures. The row is locked while a run is scheduled, so each job has exactly one pending run."""

    name = models.CharField(_("job"), max_length=100, unique=True)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_handled = models.PositiveIntegerField(_("handled in the last run"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    # The queued task (django-tasks result id) that runs the job next; unique: one pending run per job.
    pending_task_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    total_failures = models.PositiveIntegerField(_("failures in all"), default=0)
    last_failed_at = models.DateTimeField(_("last failed"), null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="jobrun_name_not_empty")]

    def __str__(self) -> str:
        return self.name


class CalendarCopy(TenantModel):
    """What one person's calendar holds of one event: the state of the last iTIP message sent to them.

    The calendar reconciler (``coordinator.core.itip``) compares the events the platform shows a person
    with these rows: a new event is an invite, a changed fingerprint an update, a row nobody wants any more
    a cancellation; every message raises ``sequence`` (RFC 5546 3.2.5) and the organiser is kept for the
    event's whole life. Replies read back from the organiser mailbox are matched on ``uid`` and ``address``.
    """

    class Method(models.TextChoices):
        REQUEST = "REQUEST", _("Invited")
        CANCEL = "CANCEL", _("Cancelled")

    class Reply(models.TextChoices):
        NONE = "", _("No reply")
        ACCEPTED = "ACCEPTED", _("Accepted in calendar")
        TENTATIVE = "TENTATIVE", _("Tentative in calendar")
        DECLINED = "DECLINED", _("Declined in calendar")

    programme = models.ForeignKey("organisations.Programme", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("organisations.Person", on_delete=models.CASCADE, related_name="+")
    # The object whose events one reconcile call covers ("seminars.round:5"), and the thing the event
    # stands for, the same for everyone who holds it ("seminars.session:12").
    source = models.CharField(max_length=100)
    key = models.CharField(max_length=100)
    uid = models.CharField(max_length=255)
    address = models.CharField(max_length=254)
    language = models.CharField(max_length=8)
    organizer = models.CharField(max_length=254)
    fingerprint = models.CharField(max_length=64)
    sequence = models.PositiveIntegerField(default=0)
    method = models.CharField(max_length=7, choices=Method.choices)
    # The event as last sent (summary, times, place, organiser, attendees), to build its cancellation.
    content = models.JSONField(default=dict)
    ends_at = models.DateTimeField()
    changed_at = models.DateTimeField()
    reply = models.CharField(max_length=9, choices=Reply.choices, blank=True, default="")
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["uid", "person"], name="calendar_copy_unique"),
        ]
        indexes = [
            models.Index(fields=["programme", "source"], name="calendar_copy_source_idx"),
            models.Index(fields=["uid", "address"], name="calendar_copy_reply_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.uid} → {self.address} ({self.method} {self.sequence})"


class CalendarReply(models.Model):
    """A reply message already read from the organiser mailbox, so reading it again changes nothing."""

    message_id = models.CharField(max_length=255, unique=True)
    uid = models.CharField(max_length=255, blank=True)
    address = models.CharField(max_length=254, blank=True)
    outcome = models.CharField(max_length=40)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.message_id}: {self.outcome}"


class TaskWorker(models.Model):
    """A running task worker (``manage.py task_worker``), as last heard of. A task left running by a worker
    not heard of for ``TASKS_WORKER_TIMEOUT_SECONDS`` is queued again (``coordinator.core.tasks``)."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"


class ContentVersion(models.Model):
    """A stamp of the last change of the slow-changing content of a programme's pages (courses, rounds,
    sessions, workplaces, topics, the names of its organisations): a value no change has written before.

    Database triggers renew it in the writer's own transaction (``coordinator.core.content``), whoever
    writes: a service, the admin site, ``update()``, ``bulk_create()``, raw SQL or another process. A page
    that caches what every viewer of a programme sees alike keys the entry by this number, so a committed
    change is seen by the very next request. No foreign key: the triggers of a programme's own deletion
    must still be able to write here.
    """

    programme_id = models.BigIntegerField(primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.programme_id}: {self.version}"


class AnswerStamp(models.Model):
    """A stamp of the last change of what one kind of API list (a ``topic``: slots, courses, rounds,
    requests) shows of a programme: a value no change has written before.

    Database triggers renew it in the writer's own transaction (``coordinator.core.answers``), whoever
    writes, as for ``ContentVersion``; a list's first page answered from the cache is keyed by the stamps of
    its topics, so a committed change is seen by the very next request. No foreign key, for the same reason
    as ``ContentVersion``.
    """

    programme_id = models.BigIntegerField()
    topic = models.CharField(max_length=32)
    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["programme_id", "topic"], name="coordinator_answerstamp_unique")
        ]

    def __str__(self) -> str:
        return f"{self.programme_id} {self.topic}: {self.version}"


class PersonalStamp(models.Model):
    """A stamp of the last change of what one person's own calendar shows them (their bookings, visits and
    meetings, and the sessions, workplaces and groups of those): a value no change has written before.

    Database triggers renew it in the writer's own transaction (``coordinator.core.personal``), whoever
    writes, as for ``ContentVersion``; the personal feed answered from the cache is keyed by it, so a
    committed change is seen by the very next request. No foreign key, for the same reason as
    ``ContentVersion``.
    """

    person_id = models.BigIntegerField(primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.person_id}: {self.version}"
