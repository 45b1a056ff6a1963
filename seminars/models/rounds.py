"""Rounds and what hangs directly below them: a ``Round`` is one run of a course with its seats, registration
window and cancellation deadline; ``Session`` rows are its days or half-days; ``OrganisationQuota`` rows
reserve or cap seats per organisation. ``DeepTenantModel`` is the base of every row below a round, which
carries its programme's key itself.

``Round.seats_taken`` counts the enrolments that hold a seat. Every change of it happens in
``seminars.services`` while the round row is locked, and a CHECK constraint (``seats_taken <= capacity``)
makes overbooking impossible even for a code path that forgot the lock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel

from .courses import Course


def default_offer_hold_hours() -> int:
    return int(settings.SEMINARS_OFFER_HOLD_HOURS)


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
        return self.free_of(self.capacity, self.seats_taken)

    @staticmethod
    def free_of(capacity: int, seats_taken: int) -> int:
        """Seats free of a round with these columns (``seats_free``, for a row read as values)."""
        return max(0, capacity - seats_taken)

    def registration_is_open(self, now: datetime | None = None) -> bool:
        return self.registration_open_for(
            self.status, self.registration_opens_at, self.registration_closes_at, self.starts_at, now
        )

    @classmethod
    def registration_open_for(
        cls,
        status: str,
        opens_at: datetime,
        closes_at: datetime,
        starts_at: datetime | None,
        now: datetime | None = None,
    ) -> bool:
        """Whether registration is open for a round with these columns (``registration_is_open``)."""
        now = now or timezone.now()
        return (
            status == cls.Status.PUBLISHED
            and opens_at <= now < closes_at
            and (starts_at is None or now < starts_at)
        )

    def has_started(self, now: datetime | None = None) -> bool:
        return self.starts_at is not None and self.starts_at <= (now or timezone.now())

    def has_ended(self, now: datetime | None = None) -> bool:
        return self.ends_at is not None and self.ends_at <= (now or timezone.now())

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
    def all_over(sessions: Sequence[Session], now: datetime) -> bool:
        """Whether a round's sessions (in time order) are all over: completions on attendance can be
        recorded then (not while the last day is still running)."""
        return bool(sessions) and sessions[-1].ends_at <= now


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
