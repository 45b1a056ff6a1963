"""Joint seminars and courses: courses, their rounds and sessions, seats, waiting lists and completions.

The shape of the data:

- A ``Course`` (the PTSD course, the mapping-methodology course, a kick-off conference) belongs to a
  programme, is given by one or more provider organisations, may target roles at work and require other
  courses to have been completed first.
- A ``Round`` is one run of a course with a capacity, a registration window and a cancellation deadline. It
  has one or more ``Session`` rows (days or half-days, each with its own time and place or online link),
  optional per-organisation ``OrganisationQuota`` rows, costs (``RoundCost``) and, for conferences,
  ``DiscussionGroup`` rows.
- An ``Enrolment`` is one person's booking on a round. Its ``status`` says whether it holds a seat
  (``pending_approval``, ``confirmed``, ``offered``), queues for one (``waiting``) or has ended. A person has
  at most one active enrolment per round (a partial unique constraint); ended enrolments stay as history.
- ``Round.seats_taken`` counts the enrolments that hold a seat. Every change of it happens in
  ``seminars.services`` while the round row is locked, and a CHECK constraint (``seats_taken <= capacity``)
  makes overbooking impossible even for a code path that forgot the lock.
- ``Attendance`` (enrolment × session) and ``Completion`` (person × course) record what happened;
  completions feed the person's history and the prerequisite checks.
- ``InviteSequence`` keeps the iCalendar SEQUENCE of each person's copy of each session, so that every
  update or cancellation a person receives supersedes the previous one in their calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel

language_code_validator = RegexValidator(r"^[a-z]{2,3}$", _("Give a language code such as sv, da or en."))


def default_offer_hold_hours() -> int:
    return int(settings.SEMINARS_OFFER_HOLD_HOURS)


class Course(TenantModel):
    """A course or seminar the programme offers jointly; it runs in one or more rounds."""

    class CompletionRule(models.TextChoices):
        ATTENDANCE = "attendance", _("On attendance")
        ASSESSMENT = "assessment", _("After a passed assessment")

    programme = models.ForeignKey(
        "organisations.Programme",
        on_delete=models.CASCADE,
        related_name="courses",
        verbose_name=_("programme"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    providers = models.ManyToManyField(
        "organisations.Organisation",
        related_name="provided_courses",
        verbose_name=_("given by"),
        help_text=_("The organisations that give the course; their course providers mark attendance."),
    )
    target_roles = models.ManyToManyField(
        "organisations.WorkRole",
        related_name="targeted_courses",
        blank=True,
        verbose_name=_("target roles"),
        help_text=_(
            "Roles at work the course is mainly for; each round says whether they get priority or "
            "exclusivity."
        ),
    )
    prerequisites = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="required_for",
        blank=True,
        verbose_name=_("prerequisites"),
        help_text=_("Courses a person must have completed before enrolling."),
    )
    language = models.CharField(
        _("language"),
        max_length=3,
        default="sv",
        validators=[language_code_validator],
        help_text=_("The language the course is given in (sv, da, en, ...)."),
    )
    completion_rule = models.CharField(
        _("counts as completed"),
        max_length=16,
        choices=CompletionRule.choices,
        default=CompletionRule.ATTENDANCE,
    )
    attendance_required_percent = models.PositiveSmallIntegerField(
        _("attendance required (%)"),
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("For completion on attendance: the share of the round's sessions a person must attend."),
    )
    is_archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        constraints = [
            models.UniqueConstraint(fields=["programme", "title"], name="course_unique_title_per_programme"),
            models.CheckConstraint(
                condition=Q(attendance_required_percent__gte=1) & Q(attendance_required_percent__lte=100),
                name="course_attendance_percent_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def sessions_needed(self, session_count: int) -> int:
        """How many of a round's ``session_count`` sessions a participant must attend to complete the course
        on attendance: the required share, rounded up."""
        return -(-session_count * self.attendance_required_percent // 100)


class Round(TenantModel):
    """One run of a course: its seats, registration window, cancellation deadline and rules."""

    tenant_path: ClassVar[str] = "course__programme"

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    class TargetRoleMode(models.TextChoices):
        PRIORITY = "priority", _("Target roles go first in the queue")
        EXCLUSIVE = "exclusive", _("Only target roles may enrol")

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="rounds", verbose_name=_("course")
    )
    label = models.CharField(_("name of the round"), max_length=120, help_text=_("For example: Spring 2026"))
    information = models.TextField(
        _("practical information"),
        max_length=3000,
        blank=True,
        help_text=_("What participants should know: what to bring, food, how to get there."),
    )
    capacity = models.PositiveIntegerField(_("seats"), validators=[MinValueValidator(1)])
    seats_taken = models.PositiveIntegerField(default=0, editable=False)
    registration_opens_at = models.DateTimeField(_("registration opens"))
    registration_closes_at = models.DateTimeField(_("registration closes"))
    cancellation_deadline = models.DateTimeField(
        _("cancellation deadline"),
        help_text=_("Participants may cancel themselves until then; afterwards a coordinator removes them."),
    )
    target_role_mode = models.CharField(
        _("target roles"), max_length=16, choices=TargetRoleMode.choices, default=TargetRoleMode.PRIORITY
    )
    requires_manager_approval = models.BooleanField(
        _("line manager approval needed"),
        default=False,
        help_text=_("The participant's line manager approves the time away before the seat is confirmed."),
    )
    offer_hold_hours = models.PositiveSmallIntegerField(
        _("offer held for (hours)"),
        default=default_offer_hold_hours,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text=_("How long a freed seat is held for the next person in the queue."),
    )
    reserved_seats_release_at = models.DateTimeField(
        _("release unused reserved seats at"),
        null=True,
        blank=True,
        help_text=_("Seats reserved for an organisation that has not used them are opened to everyone then."),
    )
    reserved_seats_released_at = models.DateTimeField(null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Denormalised from the sessions (kept by the session services) so lists can sort and filter by date.
    starts_at = models.DateTimeField(null=True, blank=True, editable=False)
    ends_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_reason = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="round_capacity_positive"),
            models.CheckConstraint(
                condition=Q(seats_taken__lte=F("capacity")), name="round_seats_within_capacity"
            ),
            models.CheckConstraint(
                condition=Q(registration_closes_at__gt=F("registration_opens_at")),
                name="round_registration_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(offer_hold_hours__gte=1) & Q(offer_hold_hours__lte=720),
                name="round_offer_hold_in_range",
            ),
        ]
        indexes = [models.Index(fields=["status", "starts_at"], name="round_status_start_idx")]

    def __str__(self) -> str:
        return f"{self.course.title} – {self.label}"

    @property
    def seats_free(self) -> int:
        return max(0, self.capacity - self.seats_taken)

    def registration_is_open(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.status == self.Status.PUBLISHED
            and self.registration_opens_at <= now < self.registration_closes_at
            and (self.starts_at is None or now < self.starts_at)
        )

    def has_started(self, now: datetime | None = None) -> bool:
        return self.starts_at is not None and self.starts_at <= (now or timezone.now())

    def cancellation_is_open(self, now: datetime) -> bool:
        """Whether participants may still cancel a seat themselves (a queue place may be left any time)."""
        return now < self.cancellation_deadline


class DeepTenantModel(TenantModel):
    """A tenant row several joins below its programme (under a round, a session or a group). It carries the
    programme's key itself, copied from ``programme_parent`` when first saved, so that scoping it needs no
    join and a row can never be scoped through a parent of another programme."""

    tenant_path: ClassVar[str] = "programme"
    # The foreign key whose programme this row shares.
    programme_parent: ClassVar[str]

    programme = models.ForeignKey(
        "organisations.Programme", on_delete=models.CASCADE, related_name="+", editable=False
    )

    class Meta:
        abstract = True

    def fill_programme(self) -> None:
        """Copy the parent's programme when it is not set (``bulk_create`` skips ``save``: call it first)."""
        if self.programme_id is None:
            parent = getattr(self, self.programme_parent)
            course = parent.course if isinstance(parent, Round) else None
            self.programme_id = course.programme_id if course is not None else parent.programme_id

    def save(
        self,
        *,
        force_insert: bool | tuple[models.base.ModelBase, ...] = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
    ) -> None:
        self.fill_programme()
        super().save(
            force_insert=force_insert, force_update=force_update, using=using, update_fields=update_fields
        )


class Session(DeepTenantModel):
    """One day or half-day of a round, with its own time and place or online link."""

    programme_parent: ClassVar[str] = "round"

    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("round")
    )
    title = models.CharField(
        _("title"), max_length=200, blank=True, help_text=_("For example: Day 1 – basics")
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=300, blank=True, help_text=_("Room and street address."))
    online_url = models.URLField(_("online link"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"),
            models.CheckConstraint(
                condition=~Q(place="") | ~Q(online_url=""), name="session_has_place_or_link"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} – {self.title}" if self.title else f"{self.round} – {self.starts_at:%Y-%m-%d}"

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.duration.total_seconds()) / Decimal(3600)).quantize(Decimal("0.01"))

    @property
    def is_half_day(self) -> bool:
        return self.duration <= timedelta(hours=5)

    @property
    def where(self) -> str:
        return self.place or self.online_url

    def has_begun(self, now: datetime) -> bool:
        """Attendance can be marked once a session has begun."""
        return self.starts_at <= now

    @staticmethod
    def all_begun(sessions: Sequence[Session], now: datetime) -> bool:
        """Whether a round's sessions (in time order) have all begun: completions can be recorded then."""
        return bool(sessions) and sessions[-1].has_begun(now)


class OrganisationQuota(DeepTenantModel):
    """Seats of a round reserved for an organisation (a minimum) and the most it may take (a maximum)."""

    programme_parent: ClassVar[str] = "round"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="quotas", verbose_name=_("round"))
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        related_name="seminar_quotas",
        verbose_name=_("organisation"),
    )
    reserved = models.PositiveSmallIntegerField(
        _("reserved seats"), default=0, help_text=_("Held for this organisation until the release date.")
    )
    maximum = models.PositiveSmallIntegerField(
        _("most seats"), null=True, blank=True, help_text=_("Leave empty for no upper limit.")
    )

    class Meta:
        ordering = ["organisation__name"]
        verbose_name = _("organisation quota")
        verbose_name_plural = _("organisation quotas")
        constraints = [
            models.UniqueConstraint(fields=["round", "organisation"], name="quota_unique_per_round"),
            models.CheckConstraint(
                condition=Q(maximum__isnull=True) | Q(maximum__gte=F("reserved")),
                name="quota_maximum_covers_reserved",
            ),
            models.CheckConstraint(
                condition=Q(maximum__isnull=True) | Q(maximum__gte=1), name="quota_maximum_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.reserved}–{self.maximum if self.maximum is not None else '∞'}"


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


class RoundCost(DeepTenantModel):
    """A cost of running a round (venue, lecturers' fees, preparation...), for the financing report."""

    programme_parent: ClassVar[str] = "round"

    class Kind(models.TextChoices):
        VENUE = "venue", _("Venue")
        LECTURE_FEES = "lecture_fees", _("Lecture fees")
        PREPARATION = "preparation", _("Preparation")
        OTHER = "other", _("Other")

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="costs", verbose_name=_("round"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(
        _("amount"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "kind", "pk"]
        verbose_name = _("cost")
        verbose_name_plural = _("costs")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="roundcost_amount_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.round}: {self.get_kind_display()} {self.amount}"


# The kinds of cost at module level, for the API schema's enum naming (settings.SPECTACULAR_SETTINGS).
COST_KINDS = RoundCost.Kind


class DiscussionGroup(DeepTenantModel):
    """A small mixed group for case work at a conference round (formed by ``seminars.grouping``)."""

    programme_parent: ClassVar[str] = "round"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="groups", verbose_name=_("round"))
    number = models.PositiveSmallIntegerField()
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["round", "number"]
        verbose_name = _("discussion group")
        verbose_name_plural = _("discussion groups")
        constraints = [
            models.UniqueConstraint(fields=["round", "number"], name="discussiongroup_unique_number"),
        ]

    def __str__(self) -> str:
        return self.name


class DiscussionGroupMember(DeepTenantModel):
    """A participant's place in a discussion group; one group per participant."""

    programme_parent: ClassVar[str] = "group"

    group = models.ForeignKey(DiscussionGroup, on_delete=models.CASCADE, related_name="members")
    enrolment = models.OneToOneField(Enrolment, on_delete=models.CASCADE, related_name="group_membership")

    class Meta:
        ordering = ["group", "enrolment"]
        verbose_name = _("group member")
        verbose_name_plural = _("group members")

    def __str__(self) -> str:
        return f"{self.enrolment.person} in {self.group}"


# The kinds of notification the app sends (registered with their labels in ``seminars.hooks``).
KIND_ENROLMENT = "seminars.enrolment"
KIND_OFFER = "seminars.offer"
KIND_APPROVAL = "seminars.approval"
KIND_COMPLETION = "seminars.completion"
