"""Bookings and what they lead to: an ``Enrolment`` is one person's booking on a round (a seat, a place in
the queue, or the history of one; at most one active per person and round), ``Attendance`` marks presence
per session, ``Completion`` records a completed course (history and prerequisites) and ``InviteSequence``
keeps the iCalendar SEQUENCE of each person's copy of each session, so that every update or cancellation
supersedes the previous one in their calendar. Also the kinds of notification these workflows send."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel

from .courses import Course
from .rounds import DeepTenantModel, Round, Session


class Enrolment(DeepTenantModel):
    """A person's booking on a round: a seat, a place in the queue, or the history of one."""

    programme_parent: ClassVar[str] = "round"

    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", _("Waiting for line manager approval")
        CONFIRMED = "confirmed", _("Confirmed")
        WAITING = "waiting", _("On the waiting list")
        OFFERED = "offered", _("Offered a seat")
        CANCELLED = "cancelled", _("Cancelled")
        DECLINED = "declined", _("Offer declined")
        REJECTED = "rejected", _("Not approved")
        EXPIRED = "expired", _("Lapsed")

    class Approval(models.TextChoices):
        NOT_REQUIRED = "not_required", _("Not needed")
        PENDING = "pending", _("Waiting for the line manager")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved")

    class EndReason(models.TextChoices):
        NONE = "", _("—")
        CANCELLED_BY_PERSON = "cancelled_by_person", _("Cancelled by the participant")
        LEFT_QUEUE = "left_queue", _("Left the waiting list")
        REMOVED = "removed", _("Removed by a coordinator")
        ROUND_CANCELLED = "round_cancelled", _("The round was cancelled")
        OFFER_DECLINED = "offer_declined", _("The offered seat was declined")
        OFFER_EXPIRED = "offer_expired", _("The offered seat was not accepted in time")
        APPROVAL_REJECTED = "approval_rejected", _("The line manager did not approve")
        APPROVAL_LAPSED = "approval_lapsed", _("No approval before the round started")
        ROUND_STARTED = "round_started", _("The round started before a seat was free")

    SEAT_HOLDING: ClassVar[tuple[str, ...]] = (Status.PENDING_APPROVAL, Status.CONFIRMED, Status.OFFERED)
    ACTIVE: ClassVar[tuple[str, ...]] = (*SEAT_HOLDING, Status.WAITING)

    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="enrolments", verbose_name=_("round")
    )
    person = models.ForeignKey(
        "organisations.Person",
        on_delete=models.CASCADE,
        related_name="seminar_enrolments",
        verbose_name=_("person"),
    )
    # The person's organisation when they enrolled: quotas count it, even if they later move.
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisation"),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    approval = models.CharField(
        _("line manager approval"), max_length=16, choices=Approval.choices, default=Approval.NOT_REQUIRED
    )
    approved_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approval_decided_at = models.DateTimeField(null=True, blank=True)
    priority = models.SmallIntegerField(
        default=0, help_text=_("1 for a target role in a round that gives target roles priority, else 0.")
    )
    requested_at = models.DateTimeField(_("enrolled at"), default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    # Until when an offered seat is held for the person (never beyond the start of the round).
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=24, choices=EndReason.choices, blank=True, default="")
    motivation = models.TextField(
        _("note to the line manager"),
        max_length=1000,
        blank=True,
        help_text=_("Why you want to take part; shown to your line manager when approval is needed."),
    )
    enrolled_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["round", "-priority", "requested_at", "pk"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "person"],
                condition=Q(status__in=["pending_approval", "confirmed", "waiting", "offered"]),
                name="enrolment_one_active_per_round",
            ),
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(hold_expires_at__isnull=False),
                name="enrolment_offer_held_until",
            ),
        ]
        indexes = [
            models.Index(fields=["round", "status", "-priority", "requested_at"], name="enrolment_queue_idx"),
            models.Index(fields=["person", "status"], name="enrolment_person_idx"),
            models.Index(fields=["status", "hold_expires_at"], name="enrolment_hold_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person} – {self.round} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    def person_may_cancel(self, now: datetime) -> bool:
        """Whether the person may still end this booking themselves: a queue place any time, a seat until the
        round's cancellation deadline."""
        return self.is_active and (self.status == self.Status.WAITING or self.round.cancellation_is_open(now))


class Attendance(DeepTenantModel):
    """Whether a participant was present at one session, as marked by the course provider."""

    programme_parent: ClassVar[str] = "session"

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="attendances")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    present = models.BooleanField(_("present"))
    marked_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "enrolment"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "session"], name="attendance_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment.person} @ {self.session}: {'present' if self.present else 'absent'}"


class Completion(TenantModel):
    """A person has completed a course (by attendance or a passed assessment): history and prerequisites."""

    tenant_path: ClassVar[str] = "course__programme"

    class Method(models.TextChoices):
        ATTENDANCE = "attendance", _("Attendance")
        ASSESSMENT = "assessment", _("Assessment passed")

    person = models.ForeignKey(
        "organisations.Person", on_delete=models.CASCADE, related_name="course_completions"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="completions")
    round = models.ForeignKey(
        Round, on_delete=models.SET_NULL, null=True, blank=True, related_name="completions"
    )
    method = models.CharField(_("how"), max_length=16, choices=Method.choices)
    completed_on = models.DateField(_("completed on"))
    recorded_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-completed_on", "pk"]
        verbose_name = _("completion")
        verbose_name_plural = _("completions")
        constraints = [
            models.UniqueConstraint(fields=["person", "course"], name="completion_once_per_course"),
        ]

    def __str__(self) -> str:
        return f"{self.person} completed {self.course}"


class InviteSequence(DeepTenantModel):
    """The iCalendar SEQUENCE of one person's copy of one session, and the last iTIP method sent."""

    programme_parent: ClassVar[str] = "session"

    person = models.ForeignKey("organisations.Person", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="invite_sequences")
    sequence = models.PositiveIntegerField(default=0)
    last_method = models.CharField(max_length=10)
    last_sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("invite sequence")
        verbose_name_plural = _("invite sequences")
        constraints = [
            models.UniqueConstraint(fields=["person", "session"], name="invite_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.person} / {self.session}: {self.last_method} #{self.sequence}"


# The kinds of notification the app sends (registered with their labels in ``seminars.hooks``).
KIND_ENROLMENT = "seminars.enrolment"
KIND_OFFER = "seminars.offer"
KIND_APPROVAL = "seminars.approval"
KIND_COMPLETION = "seminars.completion"
